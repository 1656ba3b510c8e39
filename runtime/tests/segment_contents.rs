//! The backend writes what producers log: one test reads a segment with the schema crate
//! alone and checks every entry, without the decoder.

use std::collections::HashMap;

use ulog::{ulog, Config, Level};
use ulog_schema::block::{BlockReader, Encoding};
use ulog_schema::entry::{self, kind, EndEntry, EntryReader, SiteDef, ThreadDef};
use ulog_schema::header::FileHeader;
use ulog_schema::packed;
use ulog_schema::record::ArgValue;
use ulog_schema::run::RunReader;
use ulog_schema::{ArgKind, VERSION_MAJOR, VERSION_MINOR};

#[test]
fn segment_holds_definitions_records_and_end() {
    let dir = tempfile::tempdir().unwrap();
    let guard = ulog::init(
        Config::new()
            .dir(dir.path())
            .file_prefix("contents")
            .min_level(Level::Debug),
    )
    .unwrap();

    let (qty, px, venue) = (100u64, 101.25f64, "XNAS");
    for index in 0..3u32 {
        ulog!(Info, "fill <> @ <:.2> on <> #<>", qty, px, venue, index);
    }
    ulog!(Trace, "filtered out by the level");
    std::thread::Builder::new()
        .name("worker".into())
        .spawn(|| ulog!(Warn, "from a worker <>", flag = true))
        .unwrap()
        .join()
        .unwrap();
    ulog::flush();
    let stats = ulog::stats();
    assert_eq!(stats.records_written, 4);
    drop(guard);

    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        name.starts_with("contents-") && name.ends_with("-000000.ulog"),
        "{name}"
    );
    let bytes = std::fs::read(&files[0]).unwrap();

    let (header, header_len) = FileHeader::decode(&bytes).unwrap();
    assert_eq!(
        (header.version_major, header.version_minor),
        (VERSION_MAJOR, VERSION_MINOR)
    );
    assert_eq!(header.pid, std::process::id());
    assert_eq!(header.file_sequence, 0);

    let mut sites = HashMap::new();
    let mut threads = HashMap::new();
    let mut records = Vec::new();
    let mut end = None;
    for block in BlockReader::new(&bytes[header_len..], header_len) {
        let block = block.unwrap();
        assert_eq!(block.encoding, Encoding::Plain);
        for entry in EntryReader::new(block.stored) {
            let entry = entry.unwrap();
            match entry.kind {
                kind::SITE => {
                    let site = SiteDef::decode(entry.body).unwrap();
                    sites.insert(site.id, site);
                }
                kind::THREAD => {
                    let thread = ThreadDef::decode(entry.body).unwrap();
                    threads.insert(thread.id, thread.name.to_owned());
                }
                kind::RECORD => panic!("writers since 1.1 emit RUN entries, not RECORD entries"),
                kind::RUN => {
                    let mut run = RunReader::new(entry.body).unwrap();
                    let thread = threads[&run.thread()].clone();
                    let kinds_by_site: HashMap<u32, Vec<ArgKind>> = sites
                        .iter()
                        .map(|(id, site)| (*id, site.args.iter().map(|arg| arg.kind).collect()))
                        .collect();
                    while let Some(record) =
                        run.next_record(|id| kinds_by_site.get(&id).map(Vec::as_slice))
                    {
                        let record = record.unwrap();
                        let site = &sites[&record.site];
                        let kinds = site.args.iter().map(|arg| arg.kind);
                        let (values, used) =
                            packed::decode_packed_args(kinds, record.args).unwrap();
                        assert_eq!(used, record.args.len());
                        records.push((site.format.to_owned(), thread.clone(), values));
                    }
                }
                kind::END => end = Some(entry::read_fixed::<EndEntry>("end", entry.body).unwrap()),
                _ => {}
            }
        }
    }

    let end = end.expect("the file ends with an end marker");
    assert_eq!(end.records.get(), 4);
    assert_eq!(end.dropped.get(), 0);
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].0, "fill <> @ <:.2> on <> #<>");
    assert_eq!(
        records[2].2,
        vec![
            ArgValue::U64(100),
            ArgValue::F64(101.25),
            ArgValue::Str("XNAS".into()),
            ArgValue::U32(2)
        ]
    );
    assert_eq!(records[3].1, "worker");
    assert_eq!(records[3].2, vec![ArgValue::Bool(true)]);

    let fill = sites
        .values()
        .find(|site| site.format.starts_with("fill"))
        .unwrap();
    let names: Vec<_> = fill.args.iter().map(|arg| arg.name).collect();
    assert_eq!(names, ["qty", "px", "venue", "index"]);
    assert_eq!(fill.args[1].kind, ArgKind::F64);
    assert_eq!(fill.level, Level::Info);
    assert!(fill.file.ends_with("segment_contents.rs"));
}
