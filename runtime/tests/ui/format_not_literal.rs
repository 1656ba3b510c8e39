use ulog::ulog;

fn main() {
    let format = "fill <>";
    let qty = 7u32;
    ulog!(Info, format, qty);
}
