//! `notation-plugin-conformance`: checks a Notation plugin executable
//! against the plugin contract and prints a pass/fail table.
//!
//! ```text
//! notation-plugin-conformance PATH [--key-id ID] [--plugin-config KEY=VALUE]... [--timeout SECONDS]
//! ```
//!
//! Exit code: 0 when no check failed, 1 when one did, 2 on a usage error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use notation_plugin_sdk::conformance::{run_conformance, ConformanceOptions};

const USAGE: &str = "usage: notation-plugin-conformance PATH [--key-id ID] \
[--plugin-config KEY=VALUE]... [--timeout SECONDS]

Runs the plugin executable at PATH the way notation does and checks each
part of the plugin contract. Signing checks need --key-id (a key the plugin
can sign with); --plugin-config is sent with every request. --timeout is the
limit for each call (default 30 seconds).
";

fn parse_args(args: &[String]) -> Result<(PathBuf, ConformanceOptions), String> {
    let mut path = None;
    let mut options = ConformanceOptions::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--key-id" => options.key_id = Some(value("--key-id")?),
            "--plugin-config" => {
                let pair = value("--plugin-config")?;
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("--plugin-config expects KEY=VALUE, got {pair:?}"))?;
                options
                    .plugin_config
                    .get_or_insert_with(Default::default)
                    .insert(k.to_owned(), v.to_owned());
            }
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: u64 =
                    v.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("--timeout expects whole seconds above 0, got {v:?}")
                    })?;
                options.timeout = Duration::from_secs(secs);
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other => {
                if path.replace(PathBuf::from(other)).is_some() {
                    return Err("only one plugin path may be given".to_owned());
                }
            }
        }
    }
    let path = path.ok_or_else(|| "the plugin executable path is missing".to_owned())?;
    Ok((path, options))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, options) = match parse_args(&args) {
        Ok(p) => p,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let report = run_conformance(&path, &options);
    // The report is this program's output.
    let mut out = std::io::stdout().lock();
    if write!(out, "{report}").and_then(|()| out.flush()).is_err() {
        return ExitCode::from(1);
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
