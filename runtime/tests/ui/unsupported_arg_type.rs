use ulog::ulog;

fn main() {
    let fills = vec![7u32, 8];
    ulog!(Info, "fills <>", fills);
}
