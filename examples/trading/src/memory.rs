//! Peak resident memory of this process, as Linux reports it.

/// Returns the peak resident set size in bytes: `VmHWM` from `/proc/self/status`. Returns
/// `None` where that file or field is missing, as on systems other than Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Formats a byte count in MiB with one decimal, or `unavailable`.
pub fn describe(bytes: Option<u64>) -> String {
    match bytes {
        Some(bytes) => format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64),
        None => "unavailable".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let bytes = peak_rss_bytes().expect("VmHWM in /proc/self/status");
            assert!(bytes > 100 << 10, "{bytes} bytes");
        }
    }
}
