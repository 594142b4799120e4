//! The `notation-localkey` executable.

fn main() {
    notation_plugin_sdk::main(notation_localkey::LocalKeyPlugin)
}
