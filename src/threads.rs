//! How many worker threads a user may ask for. Results do not depend on the thread count, but every
//! thread costs a start and a stack, and past the cores they only take turns: `--threads 5000` spent
//! 25 seconds starting threads for one line of input before this limit.

use crate::error::{Error, Result};

/// Threads accepted per core of this machine.
const PER_CORE: usize = 8;
/// The limit on machines with few cores (a 2-core runner may still try 16 or 64).
const FLOOR: usize = 64;

/// The most threads accepted here: 8 per core, and 64 on machines of 8 cores or fewer.
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * PER_CORE).max(FLOOR)
}

/// Refuses a thread count of 0 or above `max_threads`; `origin` names the flag or field.
pub fn check(origin: &str, n: usize) -> Result<()> {
    let max = max_threads();
    if n == 0 {
        return Err(Error::input(origin, "expected at least 1 thread"));
    }
    if n > max {
        return Err(Error::input(
            origin,
            format!(
                "{n} threads: expected at most {max} (8 per core, 64 on machines of 8 cores or fewer); threads past the cores only take turns"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_thousands_are_refused() {
        assert!(check("--threads", 1).is_ok());
        assert!(check("--threads", max_threads()).is_ok());
        assert!(check("--threads", 0).unwrap_err().is_user_error());
        let e = check("--threads", 100_000).unwrap_err();
        assert!(e.is_user_error() && e.to_string().contains("--threads"), "{e}");
    }
}
