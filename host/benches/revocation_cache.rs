//! Revocation checking of a leaf whose only source is a CRL of 5000
//! entries served over loopback: no cache (every check downloads; also
//! from a server answering after 20 ms), a cold cache (download, verify,
//! store), and a warm cache (read and re-verify the stored CRL, no
//! request); then the parts (checking a CRL, parsing it, storing it).
//! Runs in under a minute:
//! `cargo bench -p notation-host --bench revocation_cache`.

use std::net::TcpListener;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use notation_host::verifier::revocation::cache::RevocationCache;
use notation_host::verifier::revocation::crl;
use notation_host::verifier::{OnlineRevocationChecker, RevocationChecker, RevocationStatus};
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::x509::{X509CrlBuilder, X509RevokedBuilder};

#[allow(dead_code)]
#[path = "../tests/support/pki.rs"]
mod pki;

use pki::{CertBuilder, Kind};

/// Entries in the CRL (about 150 KB of DER).
const ENTRIES: usize = 5000;

fn bench(c: &mut Criterion) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://127.0.0.1:{}/ca.crl",
        listener.local_addr().expect("addr").port()
    );
    let root_key = pki::ec_key();
    let root = CertBuilder::new(pki::name(&[("CN", "bench root")]), &root_key, Kind::Ca).build();
    let leaf_key = pki::ec_key();
    let leaf = CertBuilder::new(
        pki::name(&[("CN", "bench leaf")]),
        &leaf_key,
        Kind::CodeSigning,
    )
    .issuer(Some((&root, &root_key)))
    .crl(Some(&url))
    .build();

    let now = pki::now();
    let mut b = X509CrlBuilder::new().expect("builder");
    b.set_issuer_name(root.subject_name()).expect("issuer");
    let id = root.digest(MessageDigest::sha1()).expect("digest");
    let mut aki = vec![0x30, 22, 0x80, 20];
    aki.extend_from_slice(&id);
    b.append_extension(pki::der_extension("2.5.29.35", false, &aki))
        .expect("aki");
    b.append_extension(pki::der_extension("2.5.29.20", false, &[2, 1, 1]))
        .expect("crl number");
    b.set_last_update(&Asn1Time::from_unix(now - 3600).expect("time"))
        .expect("last update");
    b.set_next_update(&Asn1Time::from_unix(now + pki::DAY).expect("time"))
        .expect("next update");
    for _ in 0..ENTRIES {
        let mut r = X509RevokedBuilder::new().expect("entry");
        r.set_serial_number(&pki::random_serial()).expect("serial");
        r.set_revocation_date(&Asn1Time::from_unix(now - 7200).expect("time"))
            .expect("date");
        b.add_revoked(r.build()).expect("add");
    }
    b.sign(&root_key, MessageDigest::sha256()).expect("sign");
    let crl_der = b.build().expect("crl").to_der().expect("der");
    eprintln!("CRL: {} entries, {} bytes", ENTRIES, crl_der.len());
    let served = crl_der.clone();
    pki::serve_http(listener, move |_| {
        ("200 OK", "application/pkix-crl", served.clone())
    });
    // The same CRL from a server 20 ms away (what a distant CA's CDN costs).
    let far_listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let far_url = format!(
        "http://127.0.0.1:{}/ca.crl",
        far_listener.local_addr().expect("addr").port()
    );
    let served = crl_der.clone();
    pki::serve_http(far_listener, move |_| {
        std::thread::sleep(Duration::from_millis(20));
        ("200 OK", "application/pkix-crl", served.clone())
    });

    let far_leaf = CertBuilder::new(
        pki::name(&[("CN", "bench leaf far")]),
        &leaf_key,
        Kind::CodeSigning,
    )
    .issuer(Some((&root, &root_key)))
    .crl(Some(&far_url))
    .build();
    let far_chain = [far_leaf, root.clone()];
    let chain = [leaf, root];
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = RevocationCache::new(dir.path());
    let cached = OnlineRevocationChecker::default().with_cache(Some(cache.clone()));
    let uncached = OnlineRevocationChecker::default().with_cache(None);
    assert_eq!(cached.check(&chain, None), RevocationStatus::Good);

    let mut g = c.benchmark_group("revocation_crl_5000");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("no_cache", |b| {
        b.iter(|| assert_eq!(uncached.check(&chain, None), RevocationStatus::Good))
    });
    g.bench_function("no_cache_server_20ms_away", |b| {
        b.iter(|| assert_eq!(uncached.check(&far_chain, None), RevocationStatus::Good))
    });
    g.bench_function("cold_cache", |b| {
        b.iter_batched(
            || std::fs::remove_file(cache.crl_path(&url)).expect("remove entry"),
            |()| assert_eq!(cached.check(&chain, None), RevocationStatus::Good),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("warm_cache", |b| {
        b.iter(|| assert_eq!(cached.check(&chain, None), RevocationStatus::Good))
    });
    // What every use costs whatever the source: checking the CRL itself.
    let t = time::OffsetDateTime::now_utc();
    g.bench_function("evaluate_only", |b| {
        b.iter(|| crl::evaluate(&crl_der, &chain[0], &chain[1], &url, None, t).expect("good"))
    });
    g.bench_function("openssl_parse_only", |b| {
        b.iter(|| openssl::x509::X509Crl::from_der(&crl_der).expect("parse"))
    });
    g.bench_function("store_only", |b| {
        b.iter(|| cache.store_crl(&url, &crl_der, t).expect("store"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
