fn main() { println!("{}", coercive::torch_ok()); }
