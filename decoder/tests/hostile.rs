//! Files that no writer produces: repeated, missing and reordered blocks, forged block
//! headers, huge lengths and huge widths. Each is reported and decoding stays bounded.

mod common;

use common::{decode, header, messages, simple, Segment, PID};
use ulog_decode::MAX_RENDERED_WIDTH;
use ulog_schema::block::{self, BLOCK_MAGIC};
use ulog_schema::entry::{self, kind, EndEntry};
use ulog_schema::record::ArgValue;
use ulog_schema::{varint, ArgKind, Level};

fn damage_messages(decoded: &ulog_decode::Decoded) -> Vec<String> {
    decoded
        .damage()
        .iter()
        .map(|damage| damage.message.clone())
        .collect()
}

/// Appends one block with sequence number `sequence` that defines thread 1 and site 1
/// (`n=<>` of a `u64`) and holds a record for each of `values`, and an end marker counting
/// `end` records when given.
fn push_block(out: &mut Vec<u8>, sequence: u32, values: &[u64], end: Option<u64>) {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(1, Level::Info, "app", "n=<>", &[(ArgKind::U64, "n")]);
    for &n in values {
        segment.record(1, 1, n * 10, &[ArgValue::U64(n)]);
    }
    if let Some(records) = end {
        let body = EndEntry {
            records: records.into(),
            dropped: 0.into(),
        };
        let mut frame = Vec::new();
        entry::write_fixed(&mut frame, kind::END, &body);
        segment.raw(&frame);
    }
    let bytes = segment.unfinished();
    let (_, header_len) = ulog_schema::header::FileHeader::decode(&bytes).unwrap();
    let mut block = bytes[header_len..].to_vec();
    block[4..8].copy_from_slice(&sequence.to_le_bytes());
    let payload = block[block::HEADER_LEN..].to_vec();
    let checksum = block::checksum(sequence, &payload);
    block[12..16].copy_from_slice(&checksum.to_le_bytes());
    out.extend_from_slice(&block);
}

/// Appends an entry header and `body` to the segment's open block.
fn push_entry(segment: &mut Segment, entry_kind: u8, body: &[u8]) {
    let mut frame = Vec::new();
    entry::write_header(&mut frame, entry_kind, body.len());
    frame.extend_from_slice(body);
    segment.raw(&frame);
}

/// Builds a file from blocks given as (sequence number, values), the last with an end
/// marker counting every value. Returns the file and the offset of each block.
fn file_of(blocks: &[(u32, &[u64])]) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    header(PID, 0).encode(&mut bytes);
    let total: usize = blocks.iter().map(|(_, values)| values.len()).sum();
    let mut offsets = Vec::new();
    for (index, (sequence, values)) in blocks.iter().enumerate() {
        offsets.push(bytes.len());
        let end = (index + 1 == blocks.len()).then_some(total as u64);
        push_block(&mut bytes, *sequence, values, end);
    }
    (bytes, offsets)
}

fn ns(values: &[u64]) -> Vec<String> {
    values.iter().map(|n| format!("n={n}")).collect()
}

#[test]
fn numbered_blocks_are_clean() {
    let (bytes, _) = file_of(&[(0, &[0, 1]), (1, &[2, 3]), (2, &[4, 5])]);
    let decoded = decode(&[bytes]);
    assert_eq!(decoded.damage(), []);
    assert_eq!(messages(&decoded), ns(&[0, 1, 2, 3, 4, 5]));
}

#[test]
fn repeated_block_is_skipped() {
    let (bytes, offsets) = file_of(&[(0, &[0, 1]), (1, &[2, 3]), (1, &[2, 3]), (2, &[4])]);
    let decoded = decode(&[bytes]);
    assert_eq!(messages(&decoded), ns(&[0, 1, 2, 3, 4]));
    assert_eq!(
        damage_messages(&decoded),
        [format!(
            "block 1 repeats the block at byte offset {}, skipped",
            offsets[1]
        )]
    );
    assert_eq!(decoded.damage()[0].offset, offsets[2] as u64);
}

#[test]
fn reused_sequence_number_still_decodes() {
    let (bytes, offsets) = file_of(&[(0, &[0, 1]), (1, &[2, 3]), (1, &[7, 8])]);
    let decoded = decode(&[bytes]);
    assert_eq!(messages(&decoded), ns(&[0, 1, 2, 3, 7, 8]));
    assert_eq!(
        damage_messages(&decoded),
        [format!(
            "block 1 has the sequence number of the block at byte offset {} and other \
             contents; decoded anyway",
            offsets[1]
        )]
    );
}

#[test]
fn missing_block_is_reported() {
    let (bytes, offsets) = file_of(&[(0, &[0, 1]), (2, &[4, 5])]);
    let decoded = decode(&[bytes]);
    assert_eq!(messages(&decoded), ns(&[0, 1, 4, 5]));
    assert_eq!(
        damage_messages(&decoded),
        ["block 1 is missing before block 2"]
    );
    assert_eq!(decoded.damage()[0].offset, offsets[1] as u64);
}

#[test]
fn missing_blocks_are_reported_as_range() {
    let (bytes, _) = file_of(&[(0, &[0]), (4, &[8])]);
    let decoded = decode(&[bytes]);
    assert_eq!(
        damage_messages(&decoded),
        ["blocks 1 to 3 are missing before block 4"]
    );
}

#[test]
fn missing_first_block_is_reported() {
    let (bytes, _) = file_of(&[(1, &[2])]);
    let decoded = decode(&[bytes]);
    assert_eq!(messages(&decoded), ns(&[2]));
    assert_eq!(
        damage_messages(&decoded),
        ["block 0 is missing before block 1"]
    );
}

#[test]
fn reordered_blocks_keep_file_order() {
    let (bytes, _) = file_of(&[(0, &[0, 1]), (2, &[4, 5]), (1, &[2, 3])]);
    let decoded = decode(&[bytes]);
    assert_eq!(messages(&decoded), ns(&[0, 1, 4, 5, 2, 3]));
    assert_eq!(
        damage_messages(&decoded),
        [
            "block 1 is missing before block 2",
            "block 1 comes after block 2: blocks are out of order",
        ]
    );
}

#[test]
fn damaged_block_explains_the_gap() {
    let (mut bytes, offsets) = file_of(&[(0, &[0]), (1, &[2]), (2, &[4])]);
    bytes[offsets[1] + block::HEADER_LEN + 3] ^= 0x10;
    let decoded = decode(&[bytes]);
    assert_eq!(messages(&decoded), ns(&[0, 4]));
    let damage = damage_messages(&decoded);
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert!(
        damage[0].starts_with("damaged block: checksum"),
        "{damage:?}"
    );
}

#[test]
fn forged_block_headers_are_given_up() {
    let mut bytes = simple().finish();
    let len = 1 << 20;
    let start = bytes.len();
    bytes.resize(start + len, 0);
    for offset in (start..bytes.len() - block::HEADER_LEN).step_by(block::HEADER_LEN) {
        let claimed = (bytes.len() - offset - block::HEADER_LEN) as u32;
        bytes[offset..offset + 4].copy_from_slice(&BLOCK_MAGIC);
        bytes[offset + 8..offset + 12].copy_from_slice(&claimed.to_le_bytes());
    }
    let decoded = decode(&[bytes]);
    let damage = damage_messages(&decoded);
    assert!(damage.len() < 20, "{} problems", damage.len());
    assert!(
        damage
            .iter()
            .any(|message| message.starts_with("too much damage")),
        "{damage:?}"
    );
}

#[test]
fn damaged_runs_are_listed_up_to_the_cap() {
    let mut segment = simple();
    for _ in 0..300 {
        let mut body = Vec::new();
        varint::write_u64(&mut body, 1);
        body.extend_from_slice(&0u64.to_le_bytes());
        body.extend_from_slice(&[9, 0]);
        push_entry(&mut segment, kind::RUN, &body);
    }
    let decoded = decode(&[segment.finish()]);
    let damage = damage_messages(&decoded);
    assert_eq!(damage.len(), 101);
    assert!(damage[0].contains("call site 9"), "{}", damage[0]);
    assert_eq!(
        damage[100],
        "200 more problems in this file were found and not listed"
    );
}

#[test]
fn huge_entry_length_is_reported() {
    let mut segment = simple();
    segment.record(1, 1, 0, &[ArgValue::U64(1)]);
    let mut frame = vec![kind::RECORD];
    varint::write_u64(&mut frame, u64::MAX);
    segment.raw(&frame);
    let decoded = decode(&[segment.finish()]);
    assert_eq!(messages(&decoded), ns(&[1]));
    let damage = damage_messages(&decoded);
    assert!(
        damage[0].starts_with(&format!("entry claims {} bytes", u64::MAX)),
        "{damage:?}"
    );
}

#[test]
fn huge_string_length_in_site_is_reported() {
    let mut body = vec![1, 0, 0, 0, 2, 1, 0, 0, 0, 1, 0, 0, 0, 0];
    varint::write_u64(&mut body, 1 << 40);
    body.extend_from_slice(b"app");
    let mut segment = Segment::new();
    push_entry(&mut segment, kind::SITE, &body);
    let decoded = decode(&[segment.finish()]);
    let damage = damage_messages(&decoded);
    assert!(
        damage[0].contains(&format!("string of {} bytes overruns", 1u64 << 40)),
        "{damage:?}"
    );
}

#[test]
fn huge_string_length_in_run_is_reported() {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(1, Level::Info, "app", "<>", &[(ArgKind::Str, "text")]);
    let mut body = Vec::new();
    varint::write_u64(&mut body, 1);
    body.extend_from_slice(&0u64.to_le_bytes());
    body.extend_from_slice(&[1, 0]);
    varint::write_u64(&mut body, u64::MAX >> 1);
    body.extend_from_slice(b"abc");
    push_entry(&mut segment, kind::RUN, &body);
    let decoded = decode(&[segment.finish()]);
    assert!(decoded.is_empty());
    let damage = damage_messages(&decoded);
    assert!(
        damage[0].contains(&format!("string of {} bytes overruns", u64::MAX >> 1)),
        "{damage:?}"
    );
}

/// Returns a value of every argument kind, at the far end of its range.
fn every_kind() -> Vec<ArgValue<'static>> {
    vec![
        ArgValue::U8(u8::MAX),
        ArgValue::U16(u16::MAX),
        ArgValue::U32(u32::MAX),
        ArgValue::U64(u64::MAX),
        ArgValue::U128(u128::MAX),
        ArgValue::I8(i8::MIN),
        ArgValue::I16(i16::MIN),
        ArgValue::I32(i32::MIN),
        ArgValue::I64(i64::MIN),
        ArgValue::I128(i128::MIN),
        ArgValue::F32(f32::MAX),
        ArgValue::F64(f64::MAX),
        ArgValue::Bool(true),
        ArgValue::Char('é'),
        ArgValue::Str("é".repeat(3 * MAX_RENDERED_WIDTH).into()),
    ]
}

/// Decodes one record of `value` under `format`, and returns its message.
fn render_one(format: &str, value: &ArgValue<'_>) -> String {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(
            1,
            Level::Info,
            "app",
            format,
            &[(common::kind_of(value), "v")],
        )
        .record(1, 1, 0, std::slice::from_ref(value));
    let decoded = decode(&[segment.finish()]);
    assert_eq!(decoded.damage(), [], "{format}");
    messages(&decoded).remove(0)
}

#[test]
fn width_and_precision_are_capped_for_every_kind() {
    let longest_number = f64::MAX.to_string().len();
    for value in every_kind() {
        let message = render_one("<:é>65535.65535>", &value);
        let label = format!("{:?}", common::kind_of(&value));
        assert!(
            message.ends_with(
                " [ulog-decode: width 65535 lowered to 4096] \
                 [ulog-decode: precision 65535 lowered to 4096]"
            ),
            "{label}"
        );
        let chars = message.chars().count();
        assert!(
            chars <= longest_number + MAX_RENDERED_WIDTH + 100,
            "{label}: {chars} characters"
        );
    }
}

#[test]
fn capped_precision_cuts_long_strings() {
    let text = "é".repeat(3 * MAX_RENDERED_WIDTH);
    let message = render_one("<:.65535>", &ArgValue::Str(text.into()));
    let cut = "é".repeat(MAX_RENDERED_WIDTH);
    assert_eq!(
        message,
        format!("{cut} [ulog-decode: precision 65535 lowered to 4096]")
    );
}

#[test]
fn width_is_capped_for_every_type() {
    let cases = [
        ("<:65535?>", ArgValue::U64(7)),
        ("<:65535?>", ArgValue::F64(0.5)),
        ("<:#065535x>", ArgValue::I128(-1)),
        ("<:065535b>", ArgValue::U8(5)),
        ("<:+65535o>", ArgValue::U16(8)),
        ("<:^65535X>", ArgValue::U32(255)),
        ("<:65535.65535e>", ArgValue::F32(1.5)),
        ("<:065535.65535E>", ArgValue::I64(i64::MIN)),
        ("<:65535?>", ArgValue::Str("text".into())),
        ("<:65535?>", ArgValue::Char('\n')),
    ];
    for (format, value) in cases {
        let message = render_one(format, &value);
        assert!(message.contains("lowered to 4096]"), "{format}: {value:?}");
        assert!(
            message.len() <= 2 * MAX_RENDERED_WIDTH + 200,
            "{format}: {value:?}: {} bytes",
            message.len()
        );
    }
}

#[test]
fn billion_width_is_rejected_and_shown_raw() {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(
            1,
            Level::Info,
            "app",
            "px <:1000000000.2>",
            &[(ArgKind::F64, "px")],
        )
        .record(1, 1, 0, &[ArgValue::F64(1.5)]);
    let decoded = decode(&[segment.finish()]);
    let message = &messages(&decoded)[0];
    assert!(
        message.starts_with("px <:1000000000.2> [ulog-decode: "),
        "{message}"
    );
    assert!(message.ends_with("arguments: px=1.5]"), "{message}");
    let damage = damage_messages(&decoded);
    assert!(
        damage[0].contains("width 1000000000 is larger than the maximum 65535"),
        "{damage:?}"
    );
}
