//! `notation-fault-proxy`: the tests' fault-injecting proxy as a process,
//! for `scripts/bench` and `scripts/soak`.
//!
//! ```text
//! notation-fault-proxy --upstream 127.0.0.1:5000 [--listen 127.0.0.1:0]
//!     [--referrers-api] [--rate 0.1 --seed 7] [--stats FILE]
//! ```
//!
//! Prints its `HOST:PORT` on the first line of stdout, then serves until
//! killed. With `--rate`, each request gets, with that probability, one
//! fault drawn from: reset, 503, 429 with `Retry-After: 1`, 502, a
//! truncated body, and apply-then-drop. With `--stats` it rewrites FILE
//! every 200 ms with `requests N faults M`.

use notation_e2e::fault_proxy::{Fault, FaultProxy, Rule};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut upstream, mut listen, mut referrers) = (None, "127.0.0.1:0".to_string(), false);
    let (mut rate, mut seed, mut stats) = (0.0f64, 1u64, None);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--upstream" => upstream = Some(value()),
            "--listen" => listen = value(),
            "--referrers-api" => referrers = true,
            "--rate" => {
                rate = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--rate takes 0..1"))
            }
            "--seed" => {
                seed = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--seed takes a number"))
            }
            "--stats" => stats = Some(value()),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let upstream = upstream.unwrap_or_else(|| usage("--upstream is required"));
    let proxy = FaultProxy::launch(&upstream, referrers, &listen);
    if rate > 0.0 {
        let kinds = [
            Fault::Reset,
            Fault::Status(503, None),
            Fault::Status(429, Some("1".into())),
            Fault::Status(502, None),
            Fault::Truncate,
            Fault::ApplyThenDrop,
        ];
        // Rules are tried in order: spread the rate so the total is `rate`.
        let n = kinds.len() as f64;
        for (i, fault) in kinds.into_iter().enumerate() {
            let left = n - i as f64;
            let p = (rate / n) / (1.0 - rate * (n - left) / n);
            proxy.add(Rule::new("*", "/v2/", fault).rate(p, seed.wrapping_add(i as u64)));
        }
    }
    {
        use std::io::Write;
        // The first stdout line is the proxy's address (its whole protocol).
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", proxy.host);
        let _ = out.flush();
    }
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        if let Some(path) = &stats {
            let line = format!(
                "requests {} faults {}\n",
                proxy.seen().len(),
                proxy.faults_applied()
            );
            // Replaced whole, so a reader never sees a half-written file.
            let tmp = format!("{path}.tmp");
            if std::fs::write(&tmp, line).is_ok() {
                let _ = std::fs::rename(&tmp, path);
            }
        }
    }
}

fn usage(problem: &str) -> ! {
    eprintln!("notation-fault-proxy: {problem}");
    eprintln!("usage: notation-fault-proxy --upstream HOST:PORT [--listen ADDR] [--referrers-api] [--rate P --seed N] [--stats FILE]");
    std::process::exit(2)
}
