use ulog::ulog;

fn main() {
    let (qty, px) = (7u32, 101.25f64);
    ulog!(Info, "fill <:>8 @ <:.2", qty, px);
}
