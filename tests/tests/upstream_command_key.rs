//! Upstream's `test/e2e/suite/command/key.go` (notaryproject/notation)
//! against our binary: same inputs, same key words.

mod upstream_command_support;

use upstream_command_support::Host;

#[test]
fn list() {
    let host = Host::base();
    let user = host.user_dir();
    host.exec(&["key", "list"]).key_words(&[
        "NAME",
        "KEY PATH",
        "CERTIFICATE PATH",
        "ID",
        "PLUGIN NAME",
        &format!(
            "* e2e   {u}/notation/localkeys/e2e.key   {u}/notation/localkeys/e2e.crt",
            u = user.display()
        ),
    ]);
}
