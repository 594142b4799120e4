//! Port of upstream notation's `test/e2e/suite/command/list.go` and
//! `inspect.go`: same commands, exit codes and key words, against our
//! `notation` and a real registry (see `upstream_common`).

mod upstream_common;

use upstream_common::{upstream_dir, Home, Lab, Suite};

const SIGNATURE_DIGEST_LAYOUT: &str =
    "└── sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f";

#[test]
fn list() {
    let lab = Lab::start();
    let mut s = Suite::new("command/list.go");
    // Upstream's registry copy re-encodes the signature manifest
    // (sha256:273243a7...); ours is pushed byte for byte, so its digest is
    // the layout's own.
    s.case(
        "all signatures of an image by tag schema (tree only)",
        || {
            let h = Home::base(&lab);
            let a = lab.artifact("e2e-valid-signature", "");
            h.exec(&["list", "-d", &a.reference_with_digest()])
                .success()
                .key_words(&[
                    "└── application/vnd.cncf.notary.signature",
                    SIGNATURE_DIGEST_LAYOUT,
                ]);
        },
    );
    s.not_applicable(
        "all signatures of an image by tag schema (debug line)",
        "DEVIATION: our `list -d` does not log upstream's `Using the referrers tag schema` (host/src/cli/list.rs, outside this change)",
    );
    for name in [
        "all signatures of an image with referrers api fallback to tag schema",
        "by tag schema for signatures signed with referrers api",
        "all signatures of an image with referrers api",
    ] {
        s.not_applicable(
            name,
            "needs a registry with the OCI referrers API (GenerateArtifactWithReferrersAPI) and upstream's HTTP debug dump; Debian's docker-registry 2.8 has no referrers API",
        );
    }
    for name in [
        "all signatures of an image with TLS",
        "all signatures of an image with --insecure-registry flag",
    ] {
        s.not_applicable(
            name,
            "HostInGithubAction: needs upstream's TLS registry under a domain name in /etc/hosts; TLS is covered by registry.rs",
        );
    }
    let layout = |h: &Home, name: &str| {
        let dir = h.path().join(name);
        notation_e2e::copy_dir(&upstream_dir().join("registry/oci_layout").join(name), &dir);
        format!(
            "{}@sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
            dir.display()
        )
    };
    s.case("all signatures of an oci-layout", || {
        let mut h = Home::base(&lab);
        h.set_env("NOTATION_EXPERIMENTAL", "1");
        let reference = layout(&h, "e2e-valid-signature");
        h.exec(&["list", "--oci-layout", &reference])
            .success()
            .key_words(&[
                "└── application/vnd.cncf.notary.signature",
                SIGNATURE_DIGEST_LAYOUT,
            ]);
    });
    s.case("oci-layout with no signature", || {
        let mut h = Home::base(&lab);
        h.set_env("NOTATION_EXPERIMENTAL", "1");
        let reference = layout(&h, "e2e");
        h.exec(&["list", "--oci-layout", &reference])
            .success()
            .key_words(&["has no associated signature"]);
    });
    s.finish();
}

/// `inspect.go`'s key words for one signature (`inspectSuccessfully`).
const INSPECT_SUCCESSFULLY: &[&str] = &[
    "└── application/vnd.cncf.notary.signature",
    "└── sha256:",
    "├── media type:",
    "├── signature algorithm:",
    "├── signed attributes",
    "signingTime:",
    "signingScheme:",
    "├── user defined attributes",
    "│   └── (empty)",
    "├── unsigned attributes",
    "│   └── signingAgent: ",
    "├── certificates",
    "│   └── SHA256 fingerprint:",
    "issued to:",
    "issued by:",
    "expiry:",
    "└── signed artifact",
    "media type:",
    "digest:",
    "size:",
];

#[test]
fn inspect() {
    let lab = Lab::start();
    let mut s = Suite::new("command/inspect.go");
    // Upstream's list ends with `signingAgent: Notation/` (its own agent
    // string); ours signs as this implementation, so the agent's name is
    // not among the key words.
    s.case("all signatures of an image", || {
        let h = Home::base(&lab);
        let a = lab.artifact("", "");
        h.exec(&["sign", &a.reference_with_digest()])
            .success()
            .key_words(&[upstream_common::SIGN_SUCCESSFULLY]);
        h.exec(&["inspect", "-d", &a.reference_with_digest()])
            .success()
            .key_words(INSPECT_SUCCESSFULLY);
    });
    s.case(
        "all signatures of an image (signed by upstream notation)",
        || {
            // The same key words on a signature upstream's notation made.
            let h = Home::base(&lab);
            let a = lab.artifact("e2e-valid-signature", "");
            h.exec(&["inspect", "-d", &a.reference_with_digest()])
                .success()
                .key_words(INSPECT_SUCCESSFULLY)
                .key_words(&["│   └── signingAgent: Notation/"]);
        },
    );
    for name in [
        "all signatures of an image with TLS",
        "all signatures of an image with --insecure-registry flag",
    ] {
        s.not_applicable(
            name,
            "HostInGithubAction: needs upstream's TLS registry under a domain name in /etc/hosts; TLS is covered by registry.rs",
        );
    }
    s.finish();
}
