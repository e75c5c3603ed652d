//! How the library reports progress without printing: long phases (calibration, a scheme's
//! evaluation, sustain, bench) go through a `Progress` handle that the binary draws as progress bars
//! on a terminal and as a few plain lines otherwise. Tests and quiet callers pass `Silent`.

/// Receives the phases of a long command.
pub trait Progress: Sync {
    /// Starts a phase of `total` steps (`None` when the count is unknown), e.g. "int8: evaluating".
    fn start(&self, name: &str, total: Option<u64>) -> Box<dyn Phase + '_>;
    /// A line worth keeping in the log (a scheme's result, a warning).
    fn note(&self, line: &str);
}

/// One running phase.
pub trait Phase: Send + Sync {
    /// `n` more steps done.
    fn advance(&self, n: u64);
    /// The phase ended; `summary` says how (e.g. "1234 answers in 3.2 s").
    fn finish(&self, summary: &str);
}

/// Reports nothing.
pub struct Silent;

struct SilentPhase;

impl Phase for SilentPhase {
    fn advance(&self, _: u64) {}
    fn finish(&self, _: &str) {}
}

impl Progress for Silent {
    fn start(&self, _: &str, _: Option<u64>) -> Box<dyn Phase + '_> {
        Box::new(SilentPhase)
    }
    fn note(&self, _: &str) {}
}
