// The SDK's example plugin (`notation-plugin-sdk/examples/hello.rs`), built
// as a binary of this package so the end-to-end tests can run it.
include!("../../../notation-plugin-sdk/examples/hello.rs");
