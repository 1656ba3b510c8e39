//! The level check of a call reads a copy of the minimum level kept in its thread's ring.
//! These tests change the level and restart the logger under threads that already have a
//! ring, and check that every call lands where the level and the running logger direct it.

use std::sync::mpsc;
use std::thread;

use ulog::{ulog, Level};
use ulog_tests::{messages, TestLogger};

#[test]
fn set_level_reaches_attached_thread() {
    let mut logger = TestLogger::start(|config| config.min_level(Level::Info));
    let before = ulog::stats();

    ulog!(Info, "info while Info <>", 1u32);
    ulog!(Debug, "debug while Info <>", 2u32);
    ulog::set_level(Level::Warn);
    ulog!(Info, "info while Warn <>", 3u32);
    ulog!(Warn, "warn while Warn <>", 4u32);
    ulog::set_level(Level::Trace);
    ulog!(Trace, "trace while Trace <>", 5u32);
    ulog!(Debug, "debug while Trace <>", 6u32);

    ulog::flush();
    let after = ulog::stats();
    assert_eq!(after.records_written - before.records_written, 4);
    assert_eq!(after.records_unregistered, before.records_unregistered);

    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    assert_eq!(
        messages(&decoded),
        [
            "info while Info 1",
            "warn while Warn 4",
            "trace while Trace 5",
            "debug while Trace 6",
        ]
    );
}

#[test]
fn set_level_reaches_thread_without_ring() {
    let mut logger = TestLogger::start(|config| config.min_level(Level::Warn));

    let (ready, go) = mpsc::channel::<()>();
    let (done, finished) = mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        // Skipped before the thread has a ring, so the thread stays without one.
        ulog!(Info, "skipped before the change");
        ready.send(()).unwrap();
        finished.recv().unwrap();
        ulog!(Info, "recorded after the change");
    });

    go.recv().unwrap();
    ulog::set_level(Level::Info);
    done.send(()).unwrap();
    worker.join().unwrap();

    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    assert_eq!(messages(&decoded), ["recorded after the change"]);
}

#[test]
fn restart_moves_thread_to_new_ring() {
    let (to_worker, worker_inbox) = mpsc::channel::<&'static str>();
    let (to_test, test_inbox) = mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        while let Ok(text) = worker_inbox.recv() {
            ulog!(Info, "worker says <>", text);
            to_test.send(()).unwrap();
        }
    });

    let first = {
        let mut logger = TestLogger::start(|config| config);
        to_worker.send("one").unwrap();
        test_inbox.recv().unwrap();
        logger.finish()
    };
    // With no logger running, every level is off, and a call is neither written nor counted.
    let idle_before = ulog::stats();
    to_worker.send("unheard").unwrap();
    test_inbox.recv().unwrap();
    let idle_after = ulog::stats();
    let second = {
        let mut logger = TestLogger::start(|config| config);
        to_worker.send("two").unwrap();
        test_inbox.recv().unwrap();
        ulog!(Info, "test thread too");
        logger.finish()
    };
    drop(to_worker);
    worker.join().unwrap();

    assert_eq!(messages(&first), ["worker says one"]);
    assert_eq!(idle_after, idle_before);
    assert_eq!(
        messages(&second),
        ["worker says two", "test thread too"],
        "the worker's ring of the first logger must not take records of the second"
    );
}
