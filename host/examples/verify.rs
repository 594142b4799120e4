//! Verifies one artifact with the verification library, as `notation
//! verify` does, and prints the report as JSON.
//!
//! ```text
//! cargo run -p notation-host --example verify -- REGISTRY/REPO@DIGEST
//! cargo run -p notation-host --example verify -- --oci-layout --scope local/app DIR@DIGEST
//! ```
//!
//! The notation configuration directory is `$NOTATION_CONFIG` (else the
//! user's, as for `notation`). Options: `--insecure` (plain HTTP),
//! `--deadline SECONDS`, `--max-signatures N`, `-m KEY=VALUE` (required
//! signed user metadata). Exit code 0 when the artifact passes, 1 when it
//! does not, 2 on bad usage.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use notation_host::config::ConfigDir;
use notation_host::verification::{ArtifactVerifier, VerifyOptions};

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}\nusage: verify [--oci-layout --scope SCOPE] [--insecure] [--deadline SECONDS] [--max-signatures N] [-m KEY=VALUE]... REFERENCE");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut options = VerifyOptions::default();
    let mut reference = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--oci-layout" => options.oci_layout = true,
            "--insecure" => options.insecure = true,
            "--scope" | "--deadline" | "--max-signatures" | "-m" => {
                let Some(value) = args.next() else {
                    return usage(&format!("{arg} needs a value"));
                };
                match arg.as_str() {
                    "--scope" => options.scope = Some(value),
                    "--deadline" => match value.parse::<f64>() {
                        Ok(s) if s > 0.0 && s < 3600.0 => {
                            options.deadline = Some(Instant::now() + Duration::from_secs_f64(s))
                        }
                        _ => return usage("--deadline takes a number of seconds"),
                    },
                    "--max-signatures" => match value.parse::<usize>() {
                        Ok(n) if n > 0 => options.max_signatures = n,
                        _ => return usage("--max-signatures takes a positive number"),
                    },
                    _ => match value.split_once('=') {
                        Some((k, v)) if !k.is_empty() => {
                            options.user_metadata.insert(k.to_string(), v.to_string());
                        }
                        _ => return usage("-m takes KEY=VALUE"),
                    },
                }
            }
            _ if arg.starts_with('-') => return usage(&format!("unknown option {arg}")),
            _ if reference.is_none() => reference = Some(arg),
            _ => return usage("give one reference"),
        }
    }
    let Some(reference) = reference else {
        return usage("give a reference");
    };

    let config = match ConfigDir::resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(1);
        }
    };
    let report = match ArtifactVerifier::from_config_dir(config)
        .and_then(|verifier| verifier.verify(&reference, &options))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(1);
        }
    };
    for w in &report.warnings {
        eprintln!("Warning: {w}");
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
    );
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        if let Some((check, reason)) = report.failure() {
            eprintln!("Error: the {check} check failed: {reason}");
        }
        ExitCode::from(1)
    }
}
