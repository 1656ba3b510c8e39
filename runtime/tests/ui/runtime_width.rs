use ulog::ulog;

fn main() {
    let px = 101.25f64;
    ulog!(Info, "px <:*>", px);
}
