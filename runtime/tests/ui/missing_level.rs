use ulog::ulog;

fn main() {
    let qty = 7u32;
    ulog!("fill <>", qty);
}
