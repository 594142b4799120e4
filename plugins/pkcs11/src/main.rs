//! The `notation-pkcs11` executable.

fn main() {
    notation_plugin_sdk::main(notation_pkcs11::Pkcs11Plugin)
}
