//! Peak resident memory of this process, from `/proc/self/status` (Linux).

/// `VmHWM`: the most memory this process has held in RAM so far, in bytes. `None` where the OS
/// does not tell (not Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Starts a new peak (Linux: writing 5 to `clear_refs` resets `VmHWM` to the current RSS), so
/// that each measurement reports its own peak, not an earlier scenario's. Returns whether the
/// OS allowed it; when not, the figure is the peak of the whole process so far.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let peak = peak_rss_bytes().expect("VmHWM on linux");
            assert!(
                peak > 1024 * 1024,
                "a running test binary holds more than 1 MiB"
            );
        }
    }
}
