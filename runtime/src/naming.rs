//! Segment file names: `PREFIX-YYYYMMDDTHHMMSSZ-PID-SEQ.ulog`.
//!
//! The time is the file's creation time in UTC, to the second, and SEQ is the file's sequence
//! number within its process, zero-padded to six digits. Names of one process therefore sort
//! in creation order, and names of different processes sort by creation second.
//! [`parse`] recognizes exactly the names [`format`] makes, so retention never touches a file
//! that another program or another prefix put in the directory.

use ulog_schema::FILE_EXTENSION;

/// Digits SEQ is zero-padded to. A process would need a million files created within one
/// second for a wider number to break the sort order.
const SEQUENCE_DIGITS: usize = 6;

/// Length of `YYYYMMDDTHHMMSSZ`.
const TIME_LEN: usize = 16;

/// The parts of a segment file name that order it among the files of one prefix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct NameKey {
    /// `YYYYMMDDTHHMMSSZ`, which sorts like the time it names.
    pub(crate) time: String,
    pub(crate) pid: u32,
    pub(crate) sequence: u64,
}

/// Makes the name of a segment file created at `unix_seconds`.
pub(crate) fn format(prefix: &str, unix_seconds: u64, pid: u32, sequence: u32) -> String {
    format!(
        "{prefix}-{}-{pid}-{sequence:0width$}.{FILE_EXTENSION}",
        compact_utc(unix_seconds),
        width = SEQUENCE_DIGITS
    )
}

/// Returns the sort key of `name` if it is a segment file name of `prefix`, or `None` for any
/// other name, including names of longer prefixes that start with `prefix`.
pub(crate) fn parse(prefix: &str, name: &str) -> Option<NameKey> {
    let rest = name
        .strip_prefix(prefix)?
        .strip_prefix('-')?
        .strip_suffix(FILE_EXTENSION)?
        .strip_suffix('.')?;
    let mut parts = rest.split('-');
    let (time, pid, sequence) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !is_compact_utc(time) {
        return None;
    }
    Some(NameKey {
        time: time.to_owned(),
        pid: parse_digits(pid)?,
        sequence: parse_digits(sequence)?,
    })
}

/// Parses a non-empty string of ASCII digits; `str::parse` alone would also accept a sign.
fn parse_digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Returns whether `text` has the shape `YYYYMMDDTHHMMSSZ`.
fn is_compact_utc(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == TIME_LEN
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'T'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'Z'
}

/// Formats Unix seconds as `YYYYMMDDTHHMMSSZ`.
fn compact_utc(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let seconds_of_day = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_utc_formats_known_dates() {
        assert_eq!(compact_utc(0), "19700101T000000Z");
        assert_eq!(compact_utc(951_782_400), "20000229T000000Z");
        assert_eq!(compact_utc(1_796_411_559), "20261204T191239Z");
    }

    #[test]
    fn parse_reads_what_format_makes() {
        let name = format("router", 1_796_411_559, 4242, 17);
        assert_eq!(name, "router-20261204T191239Z-4242-000017.ulog");

        let key = parse("router", &name).expect("own name parses");
        assert_eq!(key.time, "20261204T191239Z");
        assert_eq!(key.pid, 4242);
        assert_eq!(key.sequence, 17);
    }

    #[test]
    fn parse_accepts_older_four_digit_sequences() {
        let key = parse("router", "router-20261204T191239Z-4242-0003.ulog");
        assert_eq!(key.map(|key| key.sequence), Some(3));
    }

    #[test]
    fn parse_rejects_foreign_names() {
        let foreign = [
            "router-extra-20261204T191239Z-1-000001.ulog",
            "routers-20261204T191239Z-1-000001.ulog",
            "router-20261204T191239Z-1-000001.ulog.bak",
            "router-20261204T191239Z-1-000001.log",
            "router-20261204T191239-1-000001.ulog",
            "router-2026120XT191239Z-1-000001.ulog",
            "router-20261204T191239Z-+1-000001.ulog",
            "router-20261204T191239Z-1-.ulog",
            "router-20261204T191239Z-1-2-3.ulog",
            "router-20261204T191239Z-99999999999-000001.ulog",
            "router.ulog",
            "notes.txt",
        ];
        for name in foreign {
            assert_eq!(parse("router", name), None, "{name}");
        }
    }

    #[test]
    fn names_sort_like_their_keys() {
        let mut names = [
            format("p", 1_796_411_560, 7, 0),
            format("p", 1_796_411_559, 7, 11),
            format("p", 1_796_411_559, 7, 9),
            format("p", 1_700_000_000, 7, 12),
        ];
        names.sort();
        let keys: Vec<NameKey> = names.iter().map(|name| parse("p", name).unwrap()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys[0].sequence, 12);
        assert_eq!(keys[1].sequence, 9);
        assert_eq!(keys[2].sequence, 11);
    }
}
