//! Starting, stopping and restarting the logger, and registering threads up front.

use std::sync::Mutex;

use ulog::{ulog, Config};

/// The logger is one per process; tests here take turns.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn restart_within_one_second_gets_new_file() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3u32 {
        let guard = ulog::init(Config::new().dir(dir.path()).file_prefix("restart")).unwrap();
        ulog!(Info, "round <>", round);
        drop(guard);
    }
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 3);
}

#[test]
fn init_twice_is_rejected() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let _guard = ulog::init(Config::new().dir(dir.path())).unwrap();
    let error = ulog::init(Config::new().dir(dir.path())).unwrap_err();
    assert!(error.to_string().contains("already initialized"), "{error}");
}

#[test]
fn prepare_thread_registers_ring() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let before_init = std::thread::spawn(ulog::prepare_thread).join().unwrap();
    assert!(!before_init);

    let guard = ulog::init(Config::new().dir(dir.path())).unwrap();
    let (ready_sender, ready) = std::sync::mpsc::channel();
    let (stop_sender, stop) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        ready_sender.send(ulog::prepare_thread()).unwrap();
        stop.recv().unwrap();
    });
    assert!(ready.recv().unwrap());
    ulog::flush();
    assert!(ulog::stats().active_threads >= 1);

    stop_sender.send(()).unwrap();
    worker.join().unwrap();
    drop(guard);
}
