//! Seeds the fuzz corpora, and exports fuzz inputs as segment files for the decoder's
//! regression tests.
//!
//! ```text
//! corpus seed CORPUS_DIR
//! corpus export TARGET INPUT_DIR OUTPUT_DIR
//! ```
//!
//! `seed` writes starting inputs for each target into `CORPUS_DIR/<target>`. `export` builds
//! the segment that each input of `TARGET` decodes, and writes it to `OUTPUT_DIR` as
//! `<target>-<name>.ulog`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ulog_fuzz::{blocks_from_segment, header_bytes, segment_from_blocks, segment_from_message};
use ulog_schema::block;
use ulog_schema::entry::{
    self, kind, ArgDef, ClockEntry, DropsEntry, EndEntry, SiteDef, ThreadDef,
};
use ulog_schema::record::write_record;
use ulog_schema::run::RunBuilder;
use ulog_schema::{ArgKind, Level};

const USAGE: &str = "usage: corpus seed CORPUS_DIR | corpus export TARGET INPUT_DIR OUTPUT_DIR";

/// Builds the segment that a fuzz input decodes, or `None` when the input describes none.
type BuildSegment = fn(&[u8]) -> Option<Vec<u8>>;

/// The fuzz targets and how each builds its segment.
const TARGETS: [(&str, BuildSegment); 3] = [
    ("segment_bytes", |input| Some(input.to_vec())),
    ("segment_blocks", |input| Some(segment_from_blocks(input))),
    ("message_render", segment_from_message),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["seed", dir] => seed(Path::new(dir)),
        ["export", target, input, output] => export(target, Path::new(input), Path::new(output)),
        _ => Err(format!("invalid arguments {args:?}: {USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("corpus: {message}");
            ExitCode::from(2)
        }
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn create_dir(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path)
        .map_err(|error| format!("cannot create {}: {error}", path.display()))
}

/// Golden segments of the end-to-end tests, written by the real runtime.
fn golden_segments() -> Result<Vec<(String, Vec<u8>)>, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    let mut segments = Vec::new();
    for name in ["basic.ulog", "packed.ulog"] {
        let path = dir.join(name);
        let bytes = std::fs::read(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        segments.push((name.to_owned(), bytes));
    }
    Ok(segments)
}

/// Builds a segment of two blocks with every entry kind the decoder reads, an unknown kind, and a
/// clock re-sync.
fn every_entry_kind() -> Vec<u8> {
    let mut bytes = header_bytes(0);
    let start = block::begin(&mut bytes);
    ThreadDef {
        id: 1,
        name: "main",
    }
    .encode(&mut bytes);
    SiteDef {
        id: 1,
        level: Level::Warn,
        line: 10,
        column: 5,
        module: "fuzz::seed",
        file: "src/seed.rs",
        format: "fill <:>8.2> x <:#x> <:?>",
        args: vec![
            ArgDef {
                kind: ArgKind::F64,
                name: "px",
            },
            ArgDef {
                kind: ArgKind::U32,
                name: "id",
            },
            ArgDef {
                kind: ArgKind::Str,
                name: "venue",
            },
        ],
    }
    .encode(&mut bytes);
    let raw = [
        &101.25f64.to_le_bytes()[..],
        &48_879u32.to_le_bytes(),
        &4u32.to_le_bytes(),
        b"XNAS",
    ]
    .concat();
    let kinds = [ArgKind::F64, ArgKind::U32, ArgKind::Str];
    let mut run = RunBuilder::new();
    run.start(1, 100);
    for ticks in [100, 250, 240] {
        run.push(1, ticks, kinds, &raw)
            .expect("raw holds every argument");
    }
    run.finish(&mut bytes);
    block::finish(&mut bytes, start, 0);

    let start = block::begin(&mut bytes);
    ThreadDef {
        id: 1,
        name: "main",
    }
    .encode(&mut bytes);
    SiteDef {
        id: 2,
        level: Level::Error,
        line: 20,
        column: 9,
        module: "fuzz::seed",
        file: "src/seed.rs",
        format: "code <> ok <>",
        args: vec![
            ArgDef {
                kind: ArgKind::I16,
                name: "code",
            },
            ArgDef {
                kind: ArgKind::Bool,
                name: "ok",
            },
        ],
    }
    .encode(&mut bytes);
    let clock = ClockEntry {
        ticks: 1_000.into(),
        unix_ns: 1_796_411_560_000_000_000.into(),
        ticks_per_second: 3_000_000_000.into(),
    };
    entry::write_fixed(&mut bytes, kind::CLOCK, &clock);
    write_record(&mut bytes, 2, 1, 5_000, &[0xfe, 0xff, 1]);
    let drops = DropsEntry {
        thread: 1.into(),
        count: 12.into(),
    };
    entry::write_fixed(&mut bytes, kind::DROPS, &drops);
    entry::write_header(&mut bytes, 99, 3);
    bytes.extend_from_slice(b"new");
    let end = EndEntry {
        records: 4.into(),
        dropped: 12.into(),
    };
    entry::write_fixed(&mut bytes, kind::END, &end);
    block::finish(&mut bytes, start, 1);
    bytes
}

/// Returns inputs of the `message_render` target: argument kinds, a format string and packed values.
fn message_seeds() -> Vec<Vec<u8>> {
    let cases: [(&[u8], &str, &[u8]); 8] = [
        (&[3, 11], "fill <> @ <:.2>", &[0xac, 0x02, 0xa2, 0xe3, 0x13]),
        (&[0], "<:*^+#12.3e> <:08b>", &[5]),
        (&[9, 0], "<:*^+#12.3e> <:08b>", &[0x14, 0xff]),
        (
            &[14, 13],
            "<:10?> <:>5> <<",
            &[3, b'a', b'"', b'\n', 0x80, 0x01],
        ),
        (&[10, 4], "<:#X> <:+.3e>", &[0xff, 0x7f, 0x00, 0x00, 0x00]),
        (&[14], "<:65535.65535>", &[1, b'x']),
        (
            &[11],
            "<:>65535.65535>",
            &[0x0f, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f],
        ),
        (&[12, 13], "<:é^4> <:.1?>", &[1, 0xe9, 0x01]),
    ];
    cases
        .iter()
        .map(|(kinds, format, args)| {
            let mut input = vec![kinds.len() as u8];
            input.extend_from_slice(kinds);
            input.extend_from_slice(format.as_bytes());
            input.push(0);
            input.extend_from_slice(args);
            input
        })
        .collect()
}

fn seed(dir: &Path) -> Result<(), String> {
    let mut segments = golden_segments()?;
    segments.push(("every-kind.ulog".to_owned(), every_entry_kind()));
    segments.push(("header-only.ulog".to_owned(), header_bytes(0b10_0000)));

    let bytes_dir = dir.join("segment_bytes");
    let blocks_dir = dir.join("segment_blocks");
    let message_dir = dir.join("message_render");
    for target_dir in [&bytes_dir, &blocks_dir, &message_dir] {
        create_dir(target_dir)?;
    }
    for (name, segment) in &segments {
        write(&bytes_dir.join(name), segment)?;
        if let Some(blocks) = blocks_from_segment(segment, false) {
            write(&blocks_dir.join(name), &blocks)?;
        }
        if let Some(blocks) = blocks_from_segment(segment, true) {
            write(&blocks_dir.join(format!("lz4-{name}")), &blocks)?;
        }
    }
    for (index, input) in message_seeds().iter().enumerate() {
        write(&message_dir.join(format!("seed-{index}")), input)?;
    }
    Ok(())
}

fn export(target: &str, input_dir: &Path, output_dir: &Path) -> Result<(), String> {
    let Some(&(_, build)) = TARGETS.iter().find(|(name, _)| *name == target) else {
        let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
        return Err(format!(
            "unknown target '{target}': use one of {}",
            names.join(", ")
        ));
    };
    create_dir(output_dir)?;
    let entries = std::fs::read_dir(input_dir)
        .map_err(|error| format!("cannot read {}: {error}", input_dir.display()))?;
    let mut inputs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    inputs.sort();
    for path in inputs {
        let input = std::fs::read(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let Some(segment) = build(&input) else {
            continue;
        };
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("input");
        let stem = name.strip_suffix(".ulog").unwrap_or(name);
        let short = &stem[..stem.len().min(16)];
        write(&output_dir.join(format!("{target}-{short}.ulog")), &segment)?;
    }
    Ok(())
}
