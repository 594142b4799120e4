//! Host overhead per plugin call, against the example plugin as a real
//! process.
//!
//! Build the plugin first: `cargo build --release --example hello`, then
//! `cargo bench -p notation-plugin-sdk --bench plugin_call`.
//!
//! `raw_spawn` runs the same command with a bare `std::process::Command` as
//! a baseline; the difference to the client calls is the client's own cost
//! (pipes, threads, caps, time-out bookkeeping, validation).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion};
use notation_plugin_sdk::client::{discovery, ExternalPlugin, PluginLimits};
use notation_plugin_sdk::protocol::{DescribeKeyRequest, CONTRACT_VERSION};

const NAME: &str = "com.example.hello";

/// `target/<profile>/examples/hello`, next to this bench's own directory.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("bench executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("bench runs from target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(if cfg!(windows) { "hello.exe" } else { "hello" });
    assert!(
        path.is_file(),
        "{} not found: run `cargo build --release --example hello` first",
        path.display()
    );
    path
}

fn plugin_call(c: &mut Criterion) {
    let binary = example_binary();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(NAME)).expect("plugin dir");
    let installed = discovery::executable_path(dir.path(), NAME);
    std::fs::copy(&binary, &installed).expect("install the example plugin");

    let plugin = ExternalPlugin::open_with_limits(dir.path(), NAME, PluginLimits::default())
        .expect("open the example plugin");
    let request = DescribeKeyRequest {
        contract_version: CONTRACT_VERSION.into(),
        key_id: "bench-key".into(),
        plugin_config: None,
    };

    let mut group = c.benchmark_group("plugin_call");
    group.bench_function("raw_spawn/get-plugin-metadata", |b| {
        b.iter(|| {
            let mut child = Command::new(&installed)
                .arg("get-plugin-metadata")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"{}")
                .expect("write");
            let out = child.wait_with_output().expect("wait");
            assert!(out.status.success());
        })
    });
    group.bench_function("client/get-plugin-metadata", |b| {
        b.iter(|| plugin.get_metadata(None).expect("metadata"))
    });
    group.bench_function("client/describe-key", |b| {
        b.iter(|| plugin.describe_key(request.clone()).expect("describe-key"))
    });
    group.finish();
}

criterion_group!(benches, plugin_call);
criterion_main!(benches);
