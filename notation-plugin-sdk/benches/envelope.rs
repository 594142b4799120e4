//! Sign and verify throughput per envelope format and key spec.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use notation_plugin_sdk::descriptor::Descriptor;
use notation_plugin_sdk::envelope::{
    self, testing, EnvelopeFormat, LocalSigner, Payload, SignRequest, SigningScheme,
};
use notation_plugin_sdk::vocab::KeySpec;

fn request() -> SignRequest {
    SignRequest {
        payload: Payload::new(Descriptor::new(
            "application/vnd.oci.image.manifest.v1+json",
            "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
            517,
        )),
        signing_scheme: SigningScheme::X509,
        signing_time: time::OffsetDateTime::now_utc(),
        expiry: None,
        signing_agent: Some("notation-rs/bench".to_owned()),
        extended_attributes: vec![],
    }
}

fn bench(c: &mut Criterion) {
    let mut sign_group = c.benchmark_group("sign");
    let mut prepared = Vec::new();
    for spec in KeySpec::KNOWN {
        let (key, chain) = testing::generate_chain(spec).expect("key generation");
        let signer = LocalSigner::new(key, chain).expect("signer");
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let req = request();
            let id = BenchmarkId::new(format.name(), spec.as_str());
            sign_group.bench_with_input(id, &req, |b, req| {
                b.iter(|| envelope::sign(format, req, &signer).expect("sign"))
            });
            let bytes = envelope::sign(format, &req, &signer).expect("sign");
            prepared.push((format, spec.clone(), bytes));
        }
    }
    sign_group.finish();
    let mut verify_group = c.benchmark_group("parse+verify");
    for (format, spec, bytes) in &prepared {
        let id = BenchmarkId::new(format.name(), spec.as_str());
        verify_group.bench_with_input(id, bytes, |b, bytes| {
            b.iter(|| {
                envelope::parse(*format, bytes)
                    .expect("parse")
                    .verify_integrity()
                    .expect("verify")
            })
        });
    }
    verify_group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
