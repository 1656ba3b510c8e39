use ulog::ulog;

fn main() {
    let (bid, ask) = (101.25f64, 101.5f64);
    ulog!(Info, "bid <> ask <>", px = bid, px = ask);
}
