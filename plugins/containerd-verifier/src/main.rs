//! The `notation-containerd-verifier` executable.

fn main() {
    notation_containerd_verifier::main()
}
