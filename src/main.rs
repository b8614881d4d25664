fn main() {
    std::process::exit(coercive::cli::main());
}
