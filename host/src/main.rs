fn main() {
    eprintln!("notation: not yet implemented");
    std::process::exit(1);
}
