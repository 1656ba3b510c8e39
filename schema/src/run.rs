//! RUN entries (format 1.1): consecutive records of one thread, packed back to back.
//!
//! Body: `thread:varint base_ticks:u64`, then per record `site:varint delta:varint` and the
//! record's [`packed`](crate::packed) arguments. `delta` is the zigzag form of the record's
//! ticks minus the previous record's ticks in the run (for the first record, minus
//! `base_ticks`), computed modulo 2^64 and read as a signed 64-bit value. Records carry no
//! lengths: a reader finds where one ends from its site's argument kinds.

use crate::entry::{self, kind};
use crate::packed::{pack_args_cached, packed_args_len, F64Cache};
use crate::varint::{self, unzigzag_i64, zigzag_i64};
use crate::ArgKind;

/// Builds one RUN entry body in a reusable buffer.
#[derive(Debug, Default)]
pub struct RunBuilder {
    body: Vec<u8>,
    thread: Option<u32>,
    previous_ticks: u64,
    records: u64,
    f64_cache: F64Cache,
}

impl RunBuilder {
    /// Creates a builder with no open run.
    pub fn new() -> Self {
        RunBuilder::default()
    }

    /// Thread of the open run, or `None` when no run is open.
    pub fn thread(&self) -> Option<u32> {
        self.thread
    }

    /// Bytes the entry would take if it were finished now, header included; 0 when no run is
    /// open.
    pub fn entry_len(&self) -> usize {
        match self.thread {
            Some(_) => entry::header_len(self.body.len()) + self.body.len(),
            None => 0,
        }
    }

    /// Starts a run of `thread` whose base is `ticks`. Finish the open run first.
    ///
    /// # Panics
    ///
    /// Panics if a run is open.
    pub fn start(&mut self, thread: u32, ticks: u64) {
        assert!(self.thread.is_none(), "a run is already open");
        self.body.clear();
        varint::write_u64(&mut self.body, thread.into());
        self.body.extend_from_slice(&ticks.to_le_bytes());
        self.thread = Some(thread);
        self.previous_ticks = ticks;
        self.records = 0;
    }

    /// Appends a record whose arguments are in the ring encoding of [`crate::record`] at the
    /// start of `raw`. Returns the raw bytes taken, or `None`, with the run unchanged, when
    /// `raw` ends inside an argument.
    ///
    /// # Panics
    ///
    /// Panics if no run is open.
    pub fn push(
        &mut self,
        site: u32,
        ticks: u64,
        kinds: impl IntoIterator<Item = ArgKind>,
        raw: &[u8],
    ) -> Option<usize> {
        assert!(self.thread.is_some(), "no run is open");
        let mark = self.body.len();
        varint::write_u64(&mut self.body, site.into());
        let delta = ticks.wrapping_sub(self.previous_ticks) as i64;
        varint::write_u64(&mut self.body, zigzag_i64(delta));
        let Some(used) = pack_args_cached(kinds, raw, &mut self.body, &mut self.f64_cache) else {
            self.body.truncate(mark);
            return None;
        };
        self.previous_ticks = ticks;
        self.records += 1;
        Some(used)
    }

    /// Appends the open run to `out` as a whole entry and closes it. Returns the records it
    /// held; 0, appending nothing, when no run is open.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> u64 {
        if self.thread.take().is_none() {
            return 0;
        }
        entry::write_header(out, kind::RUN, self.body.len());
        out.extend_from_slice(&self.body);
        self.body.clear();
        std::mem::take(&mut self.records)
    }
}

/// One record of a RUN entry, its arguments still packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunRecord<'a> {
    /// File-local call-site id.
    pub site: u32,
    /// Clock ticks of the call.
    pub ticks: u64,
    /// Packed argument bytes.
    pub args: &'a [u8],
}

/// Damage inside a RUN entry. The rest of the run cannot be read after it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("run damaged at body offset {offset}: {detail}")]
pub struct RunError {
    /// Offset in the entry body where the damaged record starts.
    pub offset: usize,
    /// Description of the problem.
    pub detail: String,
}

/// Reads the records of one RUN entry body.
#[derive(Debug, Clone)]
pub struct RunReader<'a> {
    body: &'a [u8],
    position: usize,
    thread: u32,
    previous_ticks: u64,
}

impl<'a> RunReader<'a> {
    /// Reads the run header of `body`.
    ///
    /// # Errors
    ///
    /// Fails when the body is too short for the header or the thread id does not fit in 32
    /// bits.
    pub fn new(body: &'a [u8]) -> Result<Self, RunError> {
        let bad = |detail: String| RunError { offset: 0, detail };
        let (thread, len) =
            varint::read_u64(body).ok_or_else(|| bad("thread id is not a valid varint".into()))?;
        let thread = u32::try_from(thread)
            .map_err(|_| bad(format!("thread id {thread} does not fit in 32 bits")))?;
        let ticks: [u8; 8] = body
            .get(len..len + 8)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                bad(format!(
                    "{} bytes is too short for a run header",
                    body.len()
                ))
            })?;
        Ok(RunReader {
            body,
            position: len + 8,
            thread,
            previous_ticks: u64::from_le_bytes(ticks),
        })
    }

    /// Thread all records of the run belong to.
    pub fn thread(&self) -> u32 {
        self.thread
    }

    /// Offset in the body of the next record.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Reads the next record, whose site's argument kinds `kinds_of` gives, or `None` for a
    /// site it does not know. Returns `None` at the end of the body. After an error, every
    /// later call returns `None`.
    ///
    /// # Errors
    ///
    /// Fails on a bad varint, an unknown site, or arguments that do not decode.
    pub fn next_record<'k>(
        &mut self,
        kinds_of: impl FnOnce(u32) -> Option<&'k [ArgKind]>,
    ) -> Option<Result<RunRecord<'a>, RunError>> {
        let start = self.position;
        if start >= self.body.len() {
            return None;
        }
        let result = self.read_record(start, kinds_of);
        self.position = match result {
            Ok(end) => end.1,
            Err(_) => self.body.len(),
        };
        Some(result.map(|(record, _)| record))
    }

    fn read_record<'k>(
        &mut self,
        start: usize,
        kinds_of: impl FnOnce(u32) -> Option<&'k [ArgKind]>,
    ) -> Result<(RunRecord<'a>, usize), RunError> {
        let bad = |detail: String| RunError {
            offset: start,
            detail,
        };
        let rest = &self.body[start..];
        let (site, site_len) =
            varint::read_u64(rest).ok_or_else(|| bad("site id is not a valid varint".into()))?;
        let site = u32::try_from(site)
            .map_err(|_| bad(format!("site id {site} does not fit in 32 bits")))?;
        let rest = &rest[site_len..];
        let (delta, delta_len) =
            varint::read_u64(rest).ok_or_else(|| bad("tick delta is not a valid varint".into()))?;
        let rest = &rest[delta_len..];
        let kinds = kinds_of(site).ok_or_else(|| {
            bad(format!(
                "record names call site {site}, which no earlier site entry in this file defines"
            ))
        })?;
        let args_len = packed_args_len(kinds.iter().copied(), rest)
            .map_err(|error| bad(format!("record of call site {site}: {error}")))?;
        let ticks = self.previous_ticks.wrapping_add(unzigzag_i64(delta) as u64);
        self.previous_ticks = ticks;
        let end = start + site_len + delta_len + args_len;
        Ok((
            RunRecord {
                site,
                ticks,
                args: &rest[..args_len],
            },
            end,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::EntryReader;
    use crate::packed::decode_packed_args;
    use crate::record::ArgValue;

    const FILL: &[ArgKind] = &[ArgKind::U64, ArgKind::F64];

    fn fill_raw(qty: u64, px: f64) -> Vec<u8> {
        [qty.to_le_bytes(), px.to_le_bytes()].concat()
    }

    fn kinds(site: u32) -> Option<&'static [ArgKind]> {
        match site {
            0 => Some(&[]),
            1 => Some(FILL),
            _ => None,
        }
    }

    fn built(records: &[(u32, u64, Vec<u8>)]) -> Vec<u8> {
        let mut run = RunBuilder::new();
        run.start(7, records[0].1);
        for (site, ticks, raw) in records {
            let used = run.push(*site, *ticks, kinds(*site).unwrap().iter().copied(), raw);
            assert_eq!(used, Some(raw.len()));
        }
        let expected_len = run.entry_len();
        let mut out = Vec::new();
        assert_eq!(run.finish(&mut out), records.len() as u64);
        assert_eq!(out.len(), expected_len);
        assert_eq!(run.thread(), None);
        out
    }

    fn read_all(body: &[u8]) -> (u32, Vec<Result<RunRecord<'_>, RunError>>) {
        let mut reader = RunReader::new(body).unwrap();
        let mut records = Vec::new();
        while let Some(record) = reader.next_record(kinds) {
            records.push(record);
        }
        (reader.thread(), records)
    }

    #[test]
    fn records_round_trip_with_small_deltas_and_going_back() {
        let records = vec![
            (1, 1_000_000, fill_raw(100, 101.25)),
            (0, 1_000_700, Vec::new()),
            (1, 1_000_650, fill_raw(300, 230.68)),
            (1, u64::MAX, fill_raw(1, 0.5)),
            (0, 3, Vec::new()),
        ];
        let out = built(&records);
        let entry = EntryReader::new(&out).next().unwrap().unwrap();
        assert_eq!(entry.kind, kind::RUN);
        let (thread, read) = read_all(entry.body);
        assert_eq!(thread, 7);
        let read: Vec<RunRecord<'_>> = read.into_iter().map(Result::unwrap).collect();
        assert_eq!(read.len(), records.len());
        for (record, (site, ticks, _)) in read.iter().zip(&records) {
            assert_eq!((record.site, record.ticks), (*site, *ticks));
        }
        let (values, _) = decode_packed_args(FILL.iter().copied(), read[2].args).unwrap();
        assert_eq!(values, [ArgValue::U64(300), ArgValue::F64(230.68)]);
    }

    #[test]
    fn fill_and_static_records_are_small() {
        let mut run = RunBuilder::new();
        run.start(1, 0);
        let before = run.entry_len();
        run.push(1, 3_000, FILL.iter().copied(), &fill_raw(300, 101.25));
        let fill = run.entry_len() - before;
        assert!(fill <= 8, "{fill} bytes");
        let before = run.entry_len();
        run.push(0, 6_000, [], &[]);
        assert_eq!(run.entry_len() - before, 3);
    }

    #[test]
    fn short_raw_record_leaves_the_run_unchanged() {
        let mut run = RunBuilder::new();
        run.start(1, 0);
        let before = run.entry_len();
        assert_eq!(run.push(1, 5, FILL.iter().copied(), &[0; 9]), None);
        assert_eq!(run.entry_len(), before);
    }

    #[test]
    fn damage_loses_the_rest_of_the_run_only() {
        let records = vec![
            (1, 10, fill_raw(100, 101.25)),
            (1, 20, fill_raw(200, 101.5)),
            (0, 30, Vec::new()),
        ];
        let out = built(&records);
        let entry = EntryReader::new(&out).next().unwrap().unwrap();
        let body = entry.body;
        let first_len = {
            let mut reader = RunReader::new(body).unwrap();
            reader.next_record(kinds).unwrap().unwrap();
            reader.position()
        };

        let mut unknown_site = body.to_vec();
        unknown_site[first_len] = 9;
        let (_, read) = read_all(&unknown_site);
        assert_eq!(read.len(), 2);
        assert!(read[0].is_ok());
        let error = read[1].clone().unwrap_err();
        assert_eq!(error.offset, first_len);
        assert!(error.detail.contains("call site 9"), "{error}");

        let (_, read) = read_all(&body[..body.len() - 3]);
        assert!(read[0].is_ok());
        assert!(read.last().unwrap().is_err());

        let mut bad_float = body.to_vec();
        bad_float[first_len + 4] = 0x0c;
        let (_, read) = read_all(&bad_float);
        assert!(read[1]
            .clone()
            .unwrap_err()
            .detail
            .contains("decimal places"));

        assert!(RunReader::new(&[0x80]).is_err());
        assert!(RunReader::new(&[1, 0, 0]).is_err());
        assert!(RunReader::new(&[0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn hostile_bodies_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 40) as usize;
            let body: Vec<u8> = (0..len)
                .map(|index| (state >> (index % 8 * 8)) as u8)
                .collect();
            if let Ok(mut reader) = RunReader::new(&body) {
                while let Some(record) = reader.next_record(kinds) {
                    if record.is_err() {
                        assert!(reader.next_record(kinds).is_none());
                        break;
                    }
                }
            }
        }
    }
}
