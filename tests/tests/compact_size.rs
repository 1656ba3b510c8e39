//! Bytes per record on disk for two typical workloads: a `fill <> @ <>` record of a `u64`
//! quantity and an `f64` price, and a message without arguments. Run with `--nocapture` to
//! see the figures.

use ulog::ulog;
use ulog_tests::TestLogger;

const RECORDS: u64 = 200_000;

/// Logs `RECORDS` records with `log`, then returns the bytes per record of the file, the
/// file header and final end block included.
fn bytes_per_record(log: impl Fn(u64)) -> f64 {
    let mut logger = TestLogger::start(|config| config.ring_capacity(64 << 20));
    for index in 0..RECORDS {
        log(index);
    }
    logger.stop();
    let bytes: u64 = std::fs::read_dir(logger.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum();
    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    assert_eq!(decoded.len() as u64, RECORDS);
    bytes as f64 / RECORDS as f64
}

#[test]
fn fill_and_static_records_are_compact() {
    let fill = bytes_per_record(|index| {
        let qty = (index % 50 + 1) * 100;
        let px = 100.0 + (index % 200) as f64 * 0.25;
        ulog!(Info, "fill <> @ <>", qty, px);
    });
    let plain = bytes_per_record(|_| ulog!(Info, "heartbeat"));
    println!("fill <> @ <>: {fill:.2} bytes per record; static message: {plain:.2}");
    assert!(fill <= 12.0, "{fill} bytes per fill record");
    assert!(plain <= 4.0, "{plain} bytes per static record");
}
