//! Command-line compatibility with upstream notation (cobra/pflag), run
//! through the built binary: boolean flags take `=true|false`, usage errors
//! exit 1 with `Error: ` and cobra's words (no usage block, as upstream
//! silences it), help goes to stdout with exit 0.

use std::fs;

const DIGEST_REF: &str =
    "localhost:1/r@sha256:0000000000000000000000000000000000000000000000000000000000000000";

mod support;

use support::Env;

/// A usage error: exactly `Error: {message}` on one line or more, without
/// clap's usage block or `--help` tip.
fn assert_usage_error(stderr: &str, message: &str) {
    assert_eq!(stderr, format!("Error: {message}\n"));
}

#[test]
fn help_goes_to_stdout_with_exit_0() {
    let env = Env::new();
    for (args, usage) in [
        (&[][..], "Usage: notation <COMMAND>"),
        (&["key"][..], "Usage: notation key <COMMAND>"),
        (&["cert"][..], "Usage: notation certificate <COMMAND>"),
        (
            &["blob", "policy"][..],
            "Usage: notation blob policy <COMMAND>",
        ),
        (
            &["sign", "--help"][..],
            "Usage: notation sign [OPTIONS] <REFERENCE>",
        ),
        (&["help", "verify"][..], "Usage: notation verify"),
    ] {
        let out = env.run(args);
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(stdout.contains(usage), "{args:?}: {stdout}");
        assert!(out.stderr.is_empty(), "{args:?}");
    }
    // Hidden, deprecated flags stay out of the help.
    let help = String::from_utf8(env.run(&["sign", "--help"]).stdout).unwrap();
    assert!(help.contains("--force-referrers-tag"), "{help}");
    assert!(!help.contains("allow-referrers-api"), "{help}");
}

#[test]
fn usage_errors_exit_1_with_error_prefix() {
    let env = Env::new();
    for (args, message) in [
        (&["nosuchcommand"][..], "unknown command \"nosuchcommand\" for \"notation\"\nRun 'notation --help' for usage."),
        (&["sign", "--bogus", DIGEST_REF], "unknown flag: --bogus"),
        (&["sign"], "missing reference to the artifact: use `notation sign --help` to see what parameters are required"),
        (&["sign", "--force-referrers-tag=maybe", DIGEST_REF], "invalid argument \"maybe\" for \"--force-referrers-tag\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"),
        (&["key", "add", "--id", "x", "k"], "required flag(s) \"plugin\" not set"),
        (&["verify", "--max-signatures", "0", DIGEST_REF], "max-signatures value 0 must be a positive number"),
        (&["policy", "import"], "requires 1 argument but received 0.\nUsage: notation policy import <path-to-policy.json>\nPlease specify a trust policy file location as the argument"),
        (&["cert", "add", "--type", "bogus", "--store", "s", "a.crt"], "unsupported store type: bogus"),
        (&["sign", "--id", "k", DIGEST_REF], "if any flags in the group [id plugin] are set they must all be set; missing [plugin]"),
        (&["sign", "-k", "a", "--plugin", "p", "--id", "i", DIGEST_REF], "if any flags in the group [key id] are set none of the others can be; [id key] were all set"),
        (&["sign", DIGEST_REF, "--key"], "flag needs an argument: --key"),
        (&["logout", "a", "b"], "accepts 1 arg(s), received 2"),
    ] {
        assert_usage_error(&env.fails(args), message);
    }
    // Nothing was created by a command that never ran.
    assert!(!env.config().exists());
}

#[test]
fn boolean_flags_accept_values() {
    let env = Env::new();
    // Each parses and fails later, on the missing key: not a usage error.
    for flag in [
        "--force-referrers-tag",
        "--force-referrers-tag=true",
        "--force-referrers-tag=false",
        "--insecure-registry=false",
        "-d",
        "-v=true",
    ] {
        let err = env.fails(&["sign", "-k", "nokey", flag, DIGEST_REF]);
        assert!(
            err.contains("signing key not found: \"nokey\""),
            "{flag}: {err}"
        );
        assert!(!err.contains("Usage:"), "{flag}: {err}");
    }
    // Short flags alone and with a value; the plugin is simply not there.
    for flag in ["-y", "-y=true", "--yes=false"] {
        let err = env.fails(&["plugin", "uninstall", flag, "nosuch"]);
        assert!(
            err.contains("unable to find plugin nosuch"),
            "{flag}: {err}"
        );
    }
}

#[test]
fn oci_layout_excludes_force_referrers_tag() {
    let env = Env::new();
    let err = env.fails(&["sign", "--oci-layout", "--force-referrers-tag", "x"]);
    assert_usage_error(&err, "if any flags in the group [oci-layout force-referrers-tag allow-referrers-api] are set none of the others can be; [force-referrers-tag oci-layout] were all set");
    let err = env.fails(&["sign", "--oci-layout", "--allow-referrers-api", "x"]);
    assert_usage_error(&err, "if any flags in the group [oci-layout force-referrers-tag allow-referrers-api] are set none of the others can be; [allow-referrers-api oci-layout] were all set");
}

#[test]
fn allow_referrers_api_is_deprecated_but_accepted() {
    let env = Env::new();
    let err = env.fails(&["sign", "--allow-referrers-api", "-k", "nokey", DIGEST_REF]);
    let mut lines = err.lines();
    assert_eq!(
        lines.next(),
        Some("Warning: flag '--allow-referrers-api' is deprecated and will be removed in future versions, use '--force-referrers-tag=false' instead.")
    );
    assert!(
        lines.next().unwrap().starts_with("Error: signing key"),
        "{err}"
    );
    let err = env.fails(&["verify", "--allow-referrers-api=false", DIGEST_REF]);
    assert!(err.starts_with(
        "Warning: flag '--allow-referrers-api' is deprecated and will be removed in future versions.\n"
    ), "{err}");
}

#[test]
fn all_false_does_not_delete_the_store() {
    let env = Env::new();
    let store = env.config().join("truststore/x509/ca/s");
    fs::create_dir_all(&store).unwrap();
    fs::write(store.join("a.crt"), b"not read").unwrap();
    let err = env.fails(&["cert", "delete", "-t", "ca", "-s", "s", "--all=false", "-y"]);
    assert_usage_error(&err, "delete requires either the certificate file name that needs to be deleted or --all flag to delete all certificates in the given named trust store");
    assert!(store.join("a.crt").exists());
}
