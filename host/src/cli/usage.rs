//! Usage errors in upstream's words.
//!
//! clap parses the command line; when it refuses one, [`cobra_message`]
//! words the problem as upstream notation (cobra and pflag, plus each
//! command's own argument check) does, so scripts and searches that match
//! upstream's text keep working. The checks run in cobra's order: flag
//! syntax (`unknown flag`, `flag needs an argument`, `invalid argument`),
//! then the positional arguments, then required flags, then flag groups.
//! Anything not covered keeps clap's own explanation.

use std::collections::BTreeSet;
use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// How upstream groups flags (cobra's `MarkFlags...`), by command path.
enum Group {
    /// `MarkFlagsRequiredTogether`.
    Together(&'static [&'static str]),
    /// `MarkFlagsMutuallyExclusive`.
    Exclusive(&'static [&'static str]),
    /// `MarkFlagsOneRequired`.
    OneRequired(&'static [&'static str]),
}

/// Flag groups, in the order upstream declares them. `--debug` and
/// `--verbose` exclude each other everywhere (a rule of ours, worded as
/// cobra words its groups).
fn groups(path: &str) -> Vec<&'static Group> {
    const SIGN: &[Group] = &[
        Group::Exclusive(&["oci-layout", "force-referrers-tag", "allow-referrers-api"]),
        Group::Together(&["timestamp-url", "timestamp-root-cert"]),
        Group::Together(&["id", "plugin"]),
        Group::Exclusive(&["key", "id"]),
        Group::Exclusive(&["key", "plugin"]),
    ];
    const SIGNER: &[Group] = &[
        Group::Together(&["id", "plugin"]),
        Group::Together(&["timestamp-url", "timestamp-root-cert"]),
        Group::Exclusive(&["key", "id"]),
        Group::Exclusive(&["key", "plugin"]),
    ];
    const INSTALL: &[Group] = &[
        Group::Exclusive(&["file", "url"]),
        Group::OneRequired(&["file", "url"]),
    ];
    const DEBUG: &[Group] = &[Group::Exclusive(&["debug", "verbose"])];
    let own: &[Group] = match path {
        "sign" => SIGN,
        "blob sign" => SIGNER,
        "plugin install" => INSTALL,
        _ => &[],
    };
    own.iter().chain(DEBUG).collect()
}

/// The message upstream prints for a positional argument count it refuses,
/// `n` being the number of arguments given.
fn positional_message(path: &str, n: usize, scan: &Scan) -> Option<String> {
    let on = |flag: &str| scan.flags.contains(flag) && !scan.off.contains(flag);
    let missing = |what: &str, cmd: &str| {
        format!("{what}: use `notation {cmd} --help` to see what parameters are required")
    };
    let exactly_one = |missing_msg: String| match n {
        0 => Some(missing_msg),
        1 => None,
        _ => Some(format!("accepts 1 arg(s), received {n}")),
    };
    match path {
        "sign" | "verify" | "list" | "inspect" => {
            exactly_one(missing("missing reference to the artifact", path))
        }
        "blob sign" => exactly_one(missing("missing file path to the blob artifact", path)),
        "blob verify" => exactly_one(missing("missing path to the blob artifact", path)),
        "blob inspect" => exactly_one(missing("missing signature path", path)),
        "policy import" => (n != 1).then(|| {
            format!("requires 1 argument but received {n}.\nUsage: notation policy import <path-to-policy.json>\nPlease specify a trust policy file location as the argument")
        }),
        "blob policy import" => (n != 1).then(|| {
            format!("requires 1 argument but received {n}.\nUsage: notation blob policy import <path-to-policy.json>\nPlease specify a trust policy configuration location as the argument")
        }),
        "key add" => {
            (n != 1).then(|| "either missing key name or unnecessary parameters passed".to_string())
        }
        "key update" => exactly_one("missing key name".to_string()),
        "key delete" => (n == 0).then(|| "missing key names".to_string()),
        "certificate add" => (n == 0).then(|| "missing certificate path".to_string()),
        "certificate show" => match n {
            0 => Some("missing certificate file name".to_string()),
            1 => None,
            _ => Some("show only supports single certificate file".to_string()),
        },
        "certificate delete" => {
            if on("all") {
                (n != 0).then(|| "cannot delete a single certificate file when --all flag is set. use --help flag for more details".to_string())
            } else {
                match n {
                    0 => Some("delete requires either the certificate file name that needs to be deleted or --all flag to delete all certificates in the given named trust store".to_string()),
                    1 => None,
                    _ => Some(format!("accepts 1 arg(s), received {n}")),
                }
            }
        }
        "certificate generate-test" => exactly_one("missing certificate common_name".to_string()),
        "certificate cleanup-test" => exactly_one("missing key name".to_string()),
        "login" | "logout" => exactly_one("no hostname specified".to_string()),
        "plugin install" => match n {
            0 if on("file") => Some("missing plugin file path".to_string()),
            0 if on("url") => Some("missing plugin URL".to_string()),
            0 => Some("missing plugin source location".to_string()),
            1 => None,
            _ => Some(format!("can only install one plugin at a time, but got {n} arguments")),
        },
        "plugin uninstall" => exactly_one(format!("accepts 1 arg(s), received {n}")),
        "completion" => exactly_one("accepts 1 arg(s), received 0".to_string()),
        // cobra.NoArgs
        "version" => scan.first.as_ref().map(|w| {
            format!("unknown command {w:?} for \"notation version\"")
        }),
        _ => (n != 0).then(|| format!("accepts 0 arg(s), received {n}")),
    }
}

/// What a scan of the command line found.
struct Scan {
    /// Subcommand names, e.g. `["certificate", "delete"]`.
    path: Vec<String>,
    /// Long names of the flags given (cobra's "changed" flags).
    flags: BTreeSet<String>,
    /// Boolean flags given as `=false`.
    off: BTreeSet<String>,
    /// Number of positional arguments.
    positionals: usize,
    /// The first positional argument, if any.
    first: Option<String>,
}

/// `-t, --type` or `--type`, as pflag names a flag in its messages.
fn pflag_name(arg: &clap::Arg) -> String {
    let long = arg.get_long().unwrap_or_else(|| arg.get_id().as_str());
    match arg.get_short() {
        Some(s) => format!("-{s}, --{long}"),
        None => format!("--{long}"),
    }
}

/// Whether the flag needs a value (as opposed to pflag's booleans, whose
/// value is optional and must be attached with `=`).
fn needs_value(arg: &clap::Arg) -> bool {
    arg.get_num_args()
        .is_some_and(|n| n.min_values() > 0 && n.takes_values())
}

/// Walks `argv` as cobra would, returning the first flag syntax error.
fn scan(root: &clap::Command, argv: &[OsString]) -> Result<Scan, String> {
    let mut cmd = root;
    let mut scan = Scan {
        path: Vec::new(),
        flags: BTreeSet::new(),
        off: BTreeSet::new(),
        positionals: 0,
        first: None,
    };
    let mut words = argv
        .iter()
        .skip(1)
        .map(|w| w.to_string_lossy().into_owned());
    let mut only_positionals = false;
    while let Some(word) = words.next() {
        if only_positionals || word == "-" || !word.starts_with('-') {
            if scan.positionals == 0 && !only_positionals && cmd.has_subcommands() {
                match cmd.find_subcommand(&word) {
                    Some(sub) => {
                        scan.path.push(sub.get_name().to_string());
                        cmd = sub;
                        continue;
                    }
                    None => {
                        let mut full = vec!["notation".to_string()];
                        full.extend(scan.path.iter().cloned());
                        let mut msg = format!("unknown command {word:?} for {:?}", full.join(" "));
                        if scan.path.is_empty() {
                            msg.push_str("\nRun 'notation --help' for usage.");
                        }
                        return Err(msg);
                    }
                }
            }
            scan.positionals += 1;
            if scan.first.is_none() {
                scan.first = Some(word);
            }
            continue;
        }
        if word == "--" {
            only_positionals = true;
            continue;
        }
        if let Some(rest) = word.strip_prefix("--") {
            let (name, attached) = match rest.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (rest, None),
            };
            let Some(arg) = cmd.get_arguments().find(|a| {
                a.get_long() == Some(name)
                    || a.get_all_aliases().is_some_and(|al| al.contains(&name))
            }) else {
                if name == "help" {
                    continue;
                }
                return Err(format!("unknown flag: --{name}"));
            };
            if attached.is_none() && needs_value(arg) && words.next().is_none() {
                return Err(format!("flag needs an argument: --{name}"));
            }
            let long = arg.get_long().unwrap_or(name).to_string();
            if attached == Some("false") {
                scan.off.insert(long.clone());
            }
            scan.flags.insert(long);
            continue;
        }
        // Shorthand flags, possibly several in one word (`-yd`).
        let shorts: Vec<char> = word[1..].chars().collect();
        let mut i = 0;
        while i < shorts.len() {
            let c = shorts[i];
            let Some(arg) = cmd.get_arguments().find(|a| a.get_short() == Some(c)) else {
                if c == 'h' {
                    i += 1;
                    continue;
                }
                return Err(format!("unknown shorthand flag: '{c}' in {word}"));
            };
            if let Some(long) = arg.get_long() {
                scan.flags.insert(long.to_string());
                if word[1..].ends_with(&format!("{c}=false")) {
                    scan.off.insert(long.to_string());
                }
            }
            if shorts.get(i + 1) == Some(&'=') {
                break; // `-y=false`: the rest is the value
            }
            if needs_value(arg) {
                if i + 1 == shorts.len() && words.next().is_none() {
                    return Err(format!("flag needs an argument: '{c}' in -{c}"));
                }
                break; // the rest of the word (or the next word) is the value
            }
            i += 1;
        }
    }
    Ok(scan)
}

/// The value clap refused and the flag it was given to.
fn refused_value(cmd: &clap::Command, err: &clap::Error) -> Option<(clap::Arg, String)> {
    let value = match err.get(ContextKind::InvalidValue)? {
        ContextValue::String(v) => v.clone(),
        _ => return None,
    };
    let arg_text = match err.get(ContextKind::InvalidArg)? {
        ContextValue::String(s) => s.clone(),
        _ => return None,
    };
    let long = arg_text
        .strip_prefix("--")?
        .split([' ', '[', '=', '<'])
        .next()?
        .to_string();
    let arg = cmd
        .get_arguments()
        .find(|a| a.get_long() == Some(long.as_str()))?
        .clone();
    Some((arg, value))
}

/// The leaf command named by `path`.
fn find_command<'a>(root: &'a clap::Command, path: &[String]) -> &'a clap::Command {
    path.iter()
        .fold(root, |cmd, name| cmd.find_subcommand(name).unwrap_or(cmd))
}

/// Upstream's message for an invalid flag value.
fn invalid_value(path: &str, arg: &clap::Arg, value: &str, clap_reason: &str) -> String {
    let long = arg.get_long().unwrap_or_default();
    match long {
        "output" if path == "blob inspect" => format!("unrecognized output format {value}"),
        // clap's path parser refuses an empty path before our own check
        // (`TimestampOptions::load`) can; an empty URL reaches that check.
        "timestamp-root-cert" if value.is_empty() => {
            "timestamping: tsa root certificate path cannot be empty".to_string()
        }
        "type" => format!("unsupported store type: {value}"),
        "signature-format" => format!("signature format {value:?} not supported"),
        "output" => format!("invalid format type: {value:?}"),
        "max-signatures" => match value.parse::<i64>() {
            Ok(n) => format!("max-signatures value {n} must be a positive number"),
            Err(_) => format!(
                "invalid argument {value:?} for {:?} flag: strconv.ParseInt: parsing {value:?}: invalid syntax",
                pflag_name(arg)
            ),
        },
        _ if arg.get_value_names().is_some_and(|n| n == ["true|false"]) => format!(
            "invalid argument {value:?} for {:?} flag: strconv.ParseBool: parsing {value:?}: invalid syntax",
            pflag_name(arg)
        ),
        _ => format!(
            "invalid argument {value:?} for {:?} flag: {clap_reason}",
            pflag_name(arg)
        ),
    }
}

/// Words clap's refusal of `argv` as upstream would, given the command
/// tree `root` that refused it.
pub fn cobra_message(root: &clap::Command, argv: &[OsString], err: &clap::Error) -> String {
    let mut root = root.clone();
    root.build();
    let clap_text = clap_text(err);
    let scan = match scan(&root, argv) {
        Ok(scan) => scan,
        Err(msg) => return msg,
    };
    let cmd = find_command(&root, &scan.path);
    if matches!(
        err.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        if let Some((arg, value)) = refused_value(cmd, err) {
            return invalid_value(&scan.path.join(" "), &arg, &value, &clap_text);
        }
    }
    let path = scan.path.join(" ");
    if let Some(msg) = positional_message(&path, scan.positionals, &scan) {
        return msg;
    }
    let mut required: Vec<&str> = cmd
        .get_arguments()
        .filter(|a| a.is_required_set() && !a.is_positional())
        .filter_map(|a| a.get_long())
        .filter(|long| !scan.flags.contains(*long))
        .collect();
    if !required.is_empty() {
        required.sort_unstable();
        return format!("required flag(s) \"{}\" not set", required.join("\", \""));
    }
    if let Some(msg) = group_message(&groups(&path), &scan.flags) {
        return msg;
    }
    if path == "plugin install" && scan.flags.contains("url") && !scan.flags.contains("sha256sum") {
        return "installing from URL requires non-empty SHA256 checksum of the plugin source"
            .to_string();
    }
    clap_text
}

/// cobra's flag group checks, in cobra's order: required together, one
/// required, mutually exclusive.
fn group_message(groups: &[&Group], set: &BTreeSet<String>) -> Option<String> {
    let list = |flags: &[&str]| flags.join(" ");
    for group in groups {
        if let Group::Together(flags) = group {
            let missing: Vec<&str> = flags
                .iter()
                .copied()
                .filter(|f| !set.contains(*f))
                .collect();
            if !missing.is_empty() && missing.len() < flags.len() {
                let mut missing = missing;
                missing.sort_unstable();
                return Some(format!(
                    "if any flags in the group [{}] are set they must all be set; missing [{}]",
                    list(flags),
                    list(&missing)
                ));
            }
        }
    }
    for group in groups {
        if let Group::OneRequired(flags) = group {
            if !flags.iter().any(|f| set.contains(*f)) {
                return Some(format!(
                    "at least one of the flags in the group [{}] is required",
                    list(flags)
                ));
            }
        }
    }
    for group in groups {
        if let Group::Exclusive(flags) = group {
            let mut given: Vec<&str> = flags.iter().copied().filter(|f| set.contains(*f)).collect();
            if given.len() > 1 {
                given.sort_unstable();
                return Some(format!(
                    "if any flags in the group [{}] are set none of the others can be; [{}] were all set",
                    list(flags),
                    list(&given)
                ));
            }
        }
    }
    None
}

/// clap's own explanation: its first paragraph, without the `error: `
/// prefix, the usage line and the `--help` tip.
fn clap_text(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let text = rendered.strip_prefix("error: ").unwrap_or(&rendered);
    let first = text.split("\n\n").next().unwrap_or(text);
    first.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::Cli;

    fn message(argv: &[&str]) -> String {
        let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
        let err = Cli::parse_args(&argv).expect_err("the command line should be refused");
        cobra_message(&Cli::build_command(), &argv, &err)
    }

    #[test]
    fn upstream_words_for_usage_errors() {
        let cases: &[(&[&str], &str)] = &[
            (&["notation", "policy", "import"], "requires 1 argument but received 0.\nUsage: notation policy import <path-to-policy.json>\nPlease specify a trust policy file location as the argument"),
            (&["notation", "policy", "import", "a", "b"], "requires 1 argument but received 2."),
            (&["notation", "blob", "policy", "import", "a", "b"], "requires 1 argument but received 2."),
            (&["notation", "sign", "--bogus", "r"], "unknown flag: --bogus"),
            (&["notation", "sign", "-z", "r"], "unknown shorthand flag: 'z' in -z"),
            (&["notation", "sign", "r", "--key"], "flag needs an argument: --key"),
            (&["notation", "sign", "r", "-k"], "flag needs an argument: 'k' in -k"),
            (&["notation", "sign", "--id", "x", "r"], "if any flags in the group [id plugin] are set they must all be set; missing [plugin]"),
            (&["notation", "sign", "-k", "a", "--id", "x", "--plugin", "p", "r"], "if any flags in the group [key id] are set none of the others can be; [id key] were all set"),
            (&["notation", "blob", "sign", "--timestamp-url", "u", "f"], "if any flags in the group [timestamp-url timestamp-root-cert] are set they must all be set; missing [timestamp-root-cert]"),
            (&["notation", "plugin", "install", "x"], "at least one of the flags in the group [file url] is required"),
            (&["notation", "plugin", "install", "--url", "x"], "installing from URL requires non-empty SHA256 checksum of the plugin source"),
            (&["notation", "plugin", "install", "--file"], "missing plugin file path"),
            (&["notation", "plugin", "install", "--file", "--url", "--sha256sum", "a", "x"], "if any flags in the group [file url] are set none of the others can be; [file url] were all set"),
            (&["notation", "cert", "add", "--type", "bogus", "-s", "x", "f"], "unsupported store type: bogus"),
            (&["notation", "cert", "add", "-t", "ca", "-s", "x"], "missing certificate path"),
            (&["notation", "cert", "add", "f"], "required flag(s) \"store\", \"type\" not set"),
            (&["notation", "cert", "show", "-t", "ca", "-s", "x", "a", "b"], "show only supports single certificate file"),
            (&["notation", "cert", "delete", "-t", "ca", "-s", "x", "--all", "a"], "cannot delete a single certificate file when --all flag is set"),
            (&["notation", "cert", "delete", "-t", "ca", "-s", "x"], "delete requires either the certificate file name"),
            (&["notation", "cert", "cleanup-test"], "missing key name"),
            (&["notation", "cert", "generate-test"], "missing certificate common_name"),
            (&["notation", "key", "add", "--plugin", "p"], "either missing key name or unnecessary parameters passed"),
            (&["notation", "key", "add", "k"], "required flag(s) \"plugin\" not set"),
            (&["notation", "key", "add", "--id", "i", "k"], "required flag(s) \"plugin\" not set"),
            (&["notation", "key", "delete"], "missing key names"),
            (&["notation", "key", "list", "extra"], "accepts 0 arg(s), received 1"),
            (&["notation", "verify"], "missing reference to the artifact: use `notation verify --help` to see what parameters are required"),
            (&["notation", "verify", "a", "b"], "accepts 1 arg(s), received 2"),
            (&["notation", "verify", "--max-signatures", "x", "r"], "invalid argument \"x\" for \"--max-signatures\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"),
            (&["notation", "verify", "--max-signatures", "0", "r"], "max-signatures value 0 must be a positive number"),
            (&["notation", "verify", "-o", "yaml", "r"], "invalid format type: \"yaml\""),
            (&["notation", "blob", "inspect", "--output", "unknown", "s.jws.sig"], "unrecognized output format unknown"),
            (&["notation", "sign", "--signature-format", "xml", "r"], "signature format \"xml\" not supported"),
            (&["notation", "sign", "--force-referrers-tag=maybe", "r"], "invalid argument \"maybe\" for \"--force-referrers-tag\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"),
            (&["notation", "login"], "no hostname specified"),
            (&["notation", "logout", "a", "b"], "accepts 1 arg(s), received 2"),
            (&["notation", "blob", "verify", "f"], "required flag(s) \"signature\" not set"),
            (&["notation", "blob", "verify", "-s", "f.sig"], "missing path to the blob artifact"),
            (&["notation", "version", "extra"], "unknown command \"extra\" for \"notation version\""),
            (&["notation", "policy", "show", "extra"], "accepts 0 arg(s), received 1"),
            (&["notation", "bogus"], "unknown command \"bogus\" for \"notation\"\nRun 'notation --help' for usage."),
            (&["notation", "sign", "-d", "-v", "r"], "if any flags in the group [debug verbose] are set none of the others can be; [debug verbose] were all set"),
        ];
        for (argv, want) in cases {
            let got = message(argv);
            assert!(got.starts_with(want), "{argv:?}\n got: {got}\nwant: {want}");
        }
    }

    #[test]
    fn values_and_attached_booleans_are_not_positionals() {
        // `-t ca` consumes `ca`; `--all=true` and `-y` take no word.
        assert_eq!(
            message(&["notation", "cert", "delete", "-t", "ca", "-s", "s", "--all=true", "-y", "x"]),
            "cannot delete a single certificate file when --all flag is set. use --help flag for more details"
        );
        assert_eq!(
            message(&["notation", "cert", "show", "--type=ca", "-sx", "a", "b"]),
            "show only supports single certificate file"
        );
    }
}
