use ulog::ulog;

fn main() {
    let qty = 100u64;
    ulog!(Info, "fill {}", qty);
}
