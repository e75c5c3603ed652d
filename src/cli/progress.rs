//! Progress on stderr: `indicatif` bars (count, rate, time left; a spinner when the count is
//! unknown) when stderr is a terminal, otherwise a few plain lines per phase (start, each quarter,
//! end), so logs stay short.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::output::err_line;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use shakedown::progress::{Phase, Progress};

/// The binary's progress reporter.
pub struct Bars {
    multi: Option<MultiProgress>,
}

impl Bars {
    /// Bars on a terminal, plain lines otherwise.
    pub fn new() -> Self {
        let multi = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Bars { multi }
    }
}

struct Bar(ProgressBar);

impl Phase for Bar {
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self, summary: &str) {
        self.0.finish_and_clear();
        if !summary.is_empty() {
            self.0.println(summary);
        }
    }
}

/// A phase on a non-terminal: a line when it starts, when it passes each quarter, and when it ends.
struct Lines {
    name: String,
    total: Option<u64>,
    done: AtomicU64,
}

impl Phase for Lines {
    fn advance(&self, n: u64) {
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        if let Some(total) = self.total.filter(|t| *t > 0) {
            let quarter = |x: u64| (4 * x.min(total) / total).min(3);
            let after = before + n;
            if quarter(after) > quarter(before) {
                let done = after.min(total);
                err_line(&format!("{}: {done}/{total} ({}%)", self.name, 100 * done / total));
            }
        }
    }
    fn finish(&self, summary: &str) {
        err_line(if summary.is_empty() { &self.name } else { summary });
    }
}

impl Progress for Bars {
    fn start(&self, name: &str, total: Option<u64>) -> Box<dyn Phase + '_> {
        let Some(multi) = &self.multi else {
            err_line(&format!("{name}..."));
            return Box::new(Lines {
                name: name.to_string(),
                total,
                done: AtomicU64::new(0),
            });
        };
        let bar = match total {
            Some(n) => {
                let style = ProgressStyle::with_template(
                    "{msg:32} [{bar:30.cyan/blue}] {pos}/{len} {per_sec:>10} eta {eta:>4} ",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                ProgressBar::new(n).with_style(style)
            }
            None => {
                let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
                let bar = ProgressBar::new_spinner().with_style(style);
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            }
        };
        let bar = multi.add(bar.with_message(name.to_string()));
        Box::new(Bar(bar))
    }

    fn note(&self, line: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(line);
            }
            None => err_line(line),
        }
    }
}
