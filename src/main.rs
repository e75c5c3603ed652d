//! The `shakedown` command line: `cli` turns flags into the library's typed options, runs one
//! command and maps the outcome to an exit code (0 pass, 1 gate failed, 2 bad input or usage,
//! 3 internal error; 0 when stdout is closed early, as `head` expects, but the gate's 1 stands).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    shakedown::memory::keep_freed_memory();
    let args = cli::args::Cli::parse();
    match cli::dispatch(args.command) {
        Ok(code) => code,
        Err(e) if cli::output::is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            cli::output::err_line(&format!("error: {e}"));
            if let Some(h) = cli::hint(&e) {
                cli::output::err_line(&format!("hint: {h}"));
            }
            ExitCode::from(if e.is_user_error() { 2 } else { 3 })
        }
    }
}
