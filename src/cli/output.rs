//! Writing to stdout as Unix tools do: a closed pipe (`shakedown ... | head`) ends the command
//! quietly with exit 0, so every write goes through here instead of `print!` (which panics on it).

use std::io::Write;
use std::path::Path;

use shakedown::Error;

/// Writes `text` to stdout; a closed pipe becomes an `Io` error that `is_closed_pipe` recognises.
pub fn out(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        .map_err(|e| Error::io(Path::new("<stdout>"), e))
}

/// Writes `text` to stdout, and a closed pipe is no error: for the output of a command whose
/// exit code carries a verdict (`run`, `report`), which a reader that stopped early
/// (`shakedown run ... | head -3` under `set -o pipefail`) must still get.
pub fn out_verdict_text(text: &str) -> Result<(), Error> {
    match out(text) {
        Err(e) if is_closed_pipe(&e) => Ok(()),
        other => other,
    }
}

/// `text` and a newline.
pub fn outln(text: &str) -> Result<(), Error> {
    out(&format!("{text}\n"))
}

/// Writes a line to stderr (progress, notes, errors) and ignores failure: a closed stderr
/// (`shakedown run 2>&1 | head -1`) must not stop a run, which `eprintln!` would by panicking.
pub fn err_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// True when the error is a write to a reader that went away.
pub fn is_closed_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}
