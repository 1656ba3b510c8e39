use ulog::ulog;

fn main() {
    let (qty, px, side) = (7u32, 101.25f64, 'B');
    ulog!(Info, "fill <> @ <>", qty, px, side);
}
