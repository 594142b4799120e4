//! Upstream's `test/e2e/suite/command/login.go` (notaryproject/notation)
//! against our binary and a real `docker-registry` with basic auth on
//! 127.0.0.1. Upstream skips these two cases on its CI (they need a
//! credential helper on the host); here a small file-backed helper,
//! `docker-credential-e2efile` of the tests crate, named by `config.json`, stores the
//! credentials, and both cases run.
//!
//! One key word differs: after a failed login, `sign` fails here naming the
//! missing credentials and the registry's 401, not with oras-go's `credential
//! required for basic auth` (our registry error does not record which
//! challenge scheme was refused).

mod upstream_command_support;

use notation_e2e::{
    push_layout, vectors_dir, write_credential_helper, Registry, CREDENTIAL_HELPER_NAME,
};
use upstream_command_support::{Host, Opt};

const USER: &str = "e2e-user";
const PASSWORD: &str = "e2e-pass";

/// Upstream's `TestLoginOptions()` (key, trust store, trust policy, no
/// credentials), a registry that wants `USER`/`PASSWORD`, and the e2e
/// image pushed to it. Returns the host, the registry (kept alive), the
/// server and the image by digest.
fn login_host() -> (Host, Registry, String, String) {
    let registry = Registry::start_with_htpasswd(USER, PASSWORD);
    let image = push_layout(&registry, &vectors_dir().join("oci-layouts/e2e"), "e2e");
    let port = registry.host.rsplit_once(':').expect("host:port").1;
    let server = format!("localhost:{port}");
    let reference = format!("{server}/e2e@{}", image.digest);
    let host = Host::new(&[
        Opt::Key,
        Opt::TrustStore,
        Opt::TrustPolicy("trustpolicy.json"),
    ]);
    host.prepend_path(write_credential_helper(&host.user_dir().join("helper")));
    std::fs::write(
        host.notation_dir().join("config.json"),
        format!(r#"{{"credsStore":"{CREDENTIAL_HELPER_NAME}"}}"#),
    )
    .unwrap();
    (host, registry, server, reference)
}

#[test]
fn sign_after_logging_in_by_prompt_with_a_correct_credential() {
    let (host, _registry, server, reference) = login_host();
    host.exec_input(&["login", &server], &format!("{USER}\n{PASSWORD}\n"))
        .key_words(&["Login Succeeded"]);
    host.exec(&["sign", &reference])
        .key_words(&["Successfully signed"]);
    host.exec(&["logout", &server])
        .key_words(&["Logout Succeeded"]);
}

#[test]
fn sign_fails_after_failing_to_log_in_with_a_wrong_credential() {
    let (host, _registry, server, reference) = login_host();
    host.fails_input(&["login", &server], "invalidUser\ninvalidPassword\n")
        .err_key_words(&["unauthorized"]);
    host.fails(&["sign", &reference])
        .err_key_words(&["no credentials found", "401"]);
}
