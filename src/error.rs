//! Typed errors of the library. The binary maps them to exit codes:
//! bad input (a file, a field, a flag) is 2, anything else is 3.

use std::path::{Path, PathBuf};

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input a user controls is wrong: names the file (or flag), the field and what was expected.
    #[error("{origin}: {message}")]
    Input { origin: String, message: String },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Two runs that differ in what was run (suite, model, seed, ...) were to be compared; the caller
    /// may ask to compare them anyway.
    #[error("{origin}: {message}")]
    Incomparable { origin: String, message: String },
    /// A bug or an unexpected state inside shakedown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Bad user input in `origin` (a path, a flag name), with what was expected.
    pub fn input(origin: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Error::Input {
            origin: origin.to_string(),
            message: message.into(),
        }
    }

    /// Line `n` of the stream `stream` (`<stdin>` or a file's name) is not UTF-8; names the first bad byte.
    pub fn not_utf8_line(stream: &str, n: usize, e: &std::str::Utf8Error) -> Self {
        Error::input(
            format!("{stream} line {n}"),
            format!("not UTF-8 text (byte {} of the line is invalid)", e.valid_up_to() + 1),
        )
    }

    /// An I/O failure on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// True when the user can fix it by changing their input (exit code 2).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Error::Input { .. } | Error::Io { .. } | Error::Incomparable { .. }
        )
    }
}

/// Result with the library's error.
pub type Result<T> = std::result::Result<T, Error>;

/// Reads a whole file to a string, naming the file on failure.
pub fn read_to_string(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        // Name the line of the first byte that is not UTF-8, as for every other error in a text file.
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::input(
            format!("{}:{line}", path.display()),
            format!(
                "expected UTF-8 text, found byte 0x{:02x} (save the file as UTF-8)",
                bytes[at]
            ),
        )
    })
}
