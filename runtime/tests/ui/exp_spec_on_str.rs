use ulog::ulog;

fn main() {
    let venue = "XNAS";
    ulog!(Info, "venue <:e>", venue);
}
