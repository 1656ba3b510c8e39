use ulog::ulog;

struct Order {
    px: f64,
}

fn main() {
    let order = Order { px: 101.25 };
    ulog!(Info, "px <:#x>", order.px);
}
