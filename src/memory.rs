//! This process's resident memory from Linux `/proc/self/status`: current (`VmRSS`) and peak (`VmHWM`),
//! and resetting the peak to the current size by writing `5` to `/proc/self/clear_refs` (Linux >= 4.0).
//! Elsewhere, or where `/proc` is not readable, every reading is `None` and a reset reports failure.

/// Largest allocation glibc serves from its heaps instead of a fresh `mmap` (glibc's own maximum
/// for this setting on 64-bit targets).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 32 << 20;
/// Free memory glibc keeps at the top of a heap before handing it back to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 256 << 20;

/// Asks the allocator to keep freed memory for reuse. The encoder allocates and frees activation
/// buffers of a few MiB per layer; by default glibc maps each afresh and returns it when freed, so
/// every layer pays page faults and the kernel's zeroing of the pages (15-20% of an int8 batch on
/// two threads, measured with perf). Fixed thresholds keep those buffers in the heap; what the
/// process holds at rest grows by at most the largest batch's buffers. Only glibc is tuned.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

/// Hands the free memory the allocator keeps back to the kernel (glibc `malloc_trim`), so that a
/// following RSS reading counts live data only.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(':'))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// Current resident set size (`VmRSS`).
pub fn resident_bytes() -> Option<u64> {
    status_field("VmRSS")
}

/// Peak resident set size since the process started or since the last successful `reset_peak` (`VmHWM`).
pub fn peak_resident_bytes() -> Option<u64> {
    status_field("VmHWM")
}

/// Resets the peak resident set size to the current one; false when the kernel does not allow it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_is_at_least_current_and_a_reset_lowers_it_after_a_big_allocation() {
        let (Some(rss), Some(peak)) = (resident_bytes(), peak_resident_bytes()) else {
            return; // no /proc here
        };
        assert!(peak >= rss);
        let big = vec![1u8; 64 << 20];
        std::hint::black_box(&big);
        let high = peak_resident_bytes().unwrap_or(0);
        drop(big);
        if reset_peak() {
            // Other test threads allocate too: allow them some room.
            let after = peak_resident_bytes().unwrap_or(u64::MAX);
            assert!(after + (32 << 20) < high, "peak {after} after reset, {high} before");
        }
    }
}
