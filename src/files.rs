//! Writing outputs whole: a reader (a CI job, a user's script, the next command) never finds a
//! half-written file, and a directory is never mistaken for the file to write.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically: a temp file beside it, then a rename,
/// so a reader never sees a half-written output. The temp file is removed when either step fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(|e| Error::io(file.temp_path(), e))?;
    file.commit()
}

/// A file written in pieces that appears at its path only whole: it is written to a temp file beside
/// the path and renamed onto it by `commit`; dropped uncommitted (an error on the way), the temp file is
/// removed and nothing appears.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    renamed: bool,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile> {
        refuse_directory(path)?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(AtomicFile {
            tmp,
            dest: path.to_path_buf(),
            file: Some(std::io::BufWriter::with_capacity(1 << 16, file)),
            renamed: false,
        })
    }

    /// Where the bytes go until `commit` (for errors while writing).
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// Flushes the bytes to disk and renames the temp file onto the path.
    pub fn commit(mut self) -> Result<()> {
        let Some(file) = self.file.take() else {
            return Err(Error::Internal("an atomic file committed twice".into()));
        };
        let synced = file
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&self.tmp, e));
        synced.and_then(|()| std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&self.dest, e)))?;
        self.renamed = true;
        Ok(())
    }
}

impl std::io::Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("write after commit")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed (or the commit failed): the partial output goes.
        self.file.take();
        if !self.renamed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Refuses to write a file where a directory stands (a rename onto it fails only after the whole
/// output was written beside it), or under a file (`out/a.gguf/x.gguf` with `out/a.gguf` a file: the
/// system's "File exists" named neither what was wrong nor which path).
pub fn refuse_directory(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::input(
            path.display(),
            "is a directory; expected the path of a file to write",
        ));
    }
    if let Some(file) = path.ancestors().skip(1).find(|a| a.is_file()) {
        return Err(Error::input(
            path.display(),
            format!("cannot be written: {} is a file, not a directory", file.display()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing left of an uncommitted file"
        );
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"whole\n").unwrap();
        assert!(!path.exists(), "not before the commit");
        f.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole\n");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file beside it"
        );
        write_atomic(&path, b"again").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"again");
        assert!(
            AtomicFile::create(dir.path()).is_err(),
            "a directory is not a file to write"
        );
        let under = path.join("deeper/x.gguf");
        let err = AtomicFile::create(&under)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("out.jsonl is a file, not a directory"), "{err}");
    }
}
