//! The plugin side of the process contract: turns `argv`, stdin, stdout and
//! stderr into calls on a [`Plugin`].
//!
//! [`run`] takes its streams as parameters so it can be tested without a
//! process; [`main`] wires it to the real process and guards stdout.
//!
//! The steps of one invocation:
//!
//! 1. The command is `argv[1]`. No command, an unknown one, extra arguments
//!    or `--help` print usage on stderr and exit with [`EXIT_USAGE`] (2).
//! 2. Stdin is read to its end, at most [`MAX_REQUEST_BYTES`] (64 MiB);
//!    a larger request is a `VALIDATION_ERROR`. For `get-plugin-metadata`
//!    an empty stdin reads as `{}`.
//! 3. For every command but `get-plugin-metadata`, `contractVersion` is
//!    checked first (same major, minor not above [`CONTRACT_VERSION`], else
//!    `UNSUPPORTED_CONTRACT_VERSION`), then the plugin's declared
//!    capabilities must allow the command (else `ERROR`), then the request
//!    is validated into its typed form (else `VALIDATION_ERROR` naming the
//!    field).
//! 4. The plugin method runs. Its response is re-validated with the same
//!    rules the host applies, so a plugin bug is reported as `ERROR`
//!    instead of producing output the host rejects.
//! 5. Success: the response JSON on stdout, exit [`EXIT_OK`] (0). Failure:
//!    the error object on stderr, exit [`EXIT_ERROR`] (1). A panic in plugin
//!    code is caught and reported as `ERROR`.

use std::io::{self, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::Value;

use crate::plugin::Plugin;
use crate::protocol::{
    self, check_contract_version, from_value, Command, GetMetadataRequest, Message, PluginConfig,
    PluginError, CONTRACT_VERSION,
};
use crate::vocab::ErrorCode;

/// Largest request accepted on stdin: 64 MiB, the same cap the host puts on
/// a plugin's output streams.
pub const MAX_REQUEST_BYTES: u64 = 64 * 1024 * 1024;

/// Exit code of a successful command.
pub const EXIT_OK: i32 = 0;
/// Exit code of a command that failed with an error object on stderr.
pub const EXIT_ERROR: i32 = 1;
/// Exit code of a usage error (no or unknown command, `--help`).
pub const EXIT_USAGE: i32 = 2;

/// Runs one plugin invocation over the given streams and returns the exit
/// code. Never panics on bad input; see the module docs for the steps.
///
/// `args` is the whole argument vector, program name first.
pub fn run<P, R, O, E>(plugin: &P, args: &[String], stdin: R, mut stdout: O, mut stderr: E) -> i32
where
    P: Plugin + ?Sized,
    R: Read,
    O: Write,
    E: Write,
{
    let program = args
        .first()
        .map(String::as_str)
        .unwrap_or("notation-plugin");
    let command = match args {
        [_, cmd] => Command::from_arg(cmd),
        _ => None,
    };
    let Some(command) = command else {
        // Best effort: if stderr is gone there is nowhere left to report.
        let _ = stderr.write_all(usage(program).as_bytes());
        let _ = stderr.flush();
        return EXIT_USAGE;
    };

    let outcome =
        catch_unwind(AssertUnwindSafe(|| handle(plugin, command, stdin))).unwrap_or_else(|_| {
            Err(PluginError::general(format!(
                "the plugin panicked while running {command}; this is a bug in the plugin"
            )))
        });

    match outcome {
        Ok(response) => {
            let written = stdout
                .write_all(&response)
                .and_then(|()| stdout.write_all(b"\n"))
                .and_then(|()| stdout.flush());
            match written {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    let err = PluginError::general(format!("could not write the response: {e}"));
                    write_error(&mut stderr, &err);
                    EXIT_ERROR
                }
            }
        }
        Err(err) => {
            write_error(&mut stderr, &err);
            EXIT_ERROR
        }
    }
}

fn write_error(stderr: &mut impl Write, err: &PluginError) {
    let bytes = protocol::to_vec(err).unwrap_or_else(|_| {
        br#"{"errorCode":"ERROR","errorMessage":"could not serialise the error"}"#.to_vec()
    });
    // Best effort: a failing stderr leaves only the exit code to report.
    let _ = stderr.write_all(&bytes);
    let _ = stderr.write_all(b"\n");
    let _ = stderr.flush();
}

/// The usage text printed for a missing or unknown command.
pub fn usage(program: &str) -> String {
    format!(
        "usage: {program} <command>\n\n\
         This is a Notary Project plugin (plugin contract {CONTRACT_VERSION}). It is run by\n\
         notation, which passes one command as the only argument and a JSON request\n\
         on stdin; the JSON response is written to stdout, errors to stderr.\n\n\
         commands:\n  \
         get-plugin-metadata   name, version and capabilities of the plugin\n  \
         describe-key          key spec of a key id\n  \
         generate-signature    raw signature over a payload\n  \
         generate-envelope     complete signature envelope over a payload\n  \
         verify-signature      plugin-specific signature verification steps\n"
    )
}

fn read_request(stdin: impl Read) -> Result<Vec<u8>, PluginError> {
    let mut buf = Vec::new();
    stdin
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| PluginError::general(format!("could not read the request from stdin: {e}")))?;
    if buf.len() as u64 > MAX_REQUEST_BYTES {
        return Err(PluginError::validation(
            "",
            format!("the request is larger than the {MAX_REQUEST_BYTES}-byte limit"),
        ));
    }
    Ok(buf)
}

fn handle<P: Plugin + ?Sized>(
    plugin: &P,
    command: Command,
    stdin: impl Read,
) -> Result<Vec<u8>, PluginError> {
    let input = read_request(stdin)?;
    let value: Value =
        if command == Command::GetPluginMetadata && input.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&input).map_err(|e| {
                PluginError::validation(
                    "",
                    format!("the request is not valid JSON ({e}); send one JSON object"),
                )
            })?
        };

    if command != Command::GetPluginMetadata {
        // The version comes first: a request of another major version may
        // have a different shape, and deserves UNSUPPORTED_CONTRACT_VERSION
        // rather than a complaint about its fields. A missing or mistyped
        // version is reported by the full validation below.
        if let Some(Value::String(version)) = value.get("contractVersion") {
            if !version.is_empty() {
                check_contract_version(version)?;
            }
        }
        let plugin_config = value
            .get("pluginConfig")
            .and_then(|c| serde_json::from_value::<PluginConfig>(c.clone()).ok());
        let metadata = plugin.get_plugin_metadata(GetMetadataRequest { plugin_config })?;
        if !command.allowed_by(&metadata.capabilities) {
            let needs: Vec<&str> = command
                .required_capabilities()
                .iter()
                .map(|c| c.as_str())
                .collect();
            return Err(PluginError::new(
                ErrorCode::Error,
                format!(
                    "plugin {} does not declare a capability that allows {command}; \
                     it needs one of: {}",
                    metadata.name,
                    needs.join(", ")
                ),
            ));
        }
    }

    match command {
        Command::GetPluginMetadata => respond(plugin.get_plugin_metadata(from_value(value)?)?),
        Command::DescribeKey => respond(plugin.describe_key(from_value(value)?)?),
        Command::GenerateSignature => respond(plugin.generate_signature(from_value(value)?)?),
        Command::GenerateEnvelope => respond(plugin.generate_envelope(from_value(value)?)?),
        Command::VerifySignature => respond(plugin.verify_signature(from_value(value)?)?),
    }
}

/// Serialises a response after checking it against the rules the host
/// applies.
fn respond<T: Message>(response: T) -> Result<Vec<u8>, PluginError> {
    let value = serde_json::to_value(&response)
        .map_err(|e| PluginError::general(format!("could not serialise the response: {e}")))?;
    if let Err(e) = from_value::<T>(value.clone()) {
        return Err(PluginError::general(format!(
            "the plugin produced an invalid response: {}",
            e.message
        )));
    }
    protocol::to_vec(&value)
}

/// Runs the plugin as the current process and exits; a plugin's whole
/// `main` is `notation_plugin_sdk::main(MyPlugin)`.
///
/// On Unix, file descriptor 1 points at stderr while plugin code runs, so
/// anything the plugin or its libraries print (`println!`, C libraries
/// writing to fd 1) lands on stderr and never corrupts the JSON response;
/// the response goes to a private duplicate of the original stdout. On
/// other platforms stdout is used as is.
pub fn main<P: Plugin>(plugin: P) -> ! {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = {
        let stdin = io::stdin().lock();
        let stderr = io::stderr();
        match guard::StdoutGuard::engage() {
            Some(guard) => {
                let code = run(&plugin, &args, stdin, guard.writer(), stderr);
                drop(guard);
                code
            }
            None => run(&plugin, &args, stdin, io::stdout(), stderr),
        }
    };
    std::process::exit(code)
}

#[cfg(unix)]
mod guard {
    use std::fs::File;
    use std::io::{self, Write};
    use std::os::fd::{AsRawFd, FromRawFd};

    /// Keeps the real stdout aside and points fd 1 at stderr until dropped.
    pub struct StdoutGuard {
        real_stdout: File,
    }

    impl StdoutGuard {
        /// Saves fd 1 and redirects it to fd 2. `None` if either step fails,
        /// in which case fd 1 is unchanged.
        pub fn engage() -> Option<StdoutGuard> {
            // Anything buffered before the plugin ran belongs to the real
            // stdout; nothing should be there, but keep the order right.
            let _ = io::stdout().flush();
            // SAFETY: fcntl(F_DUPFD_CLOEXEC) only duplicates fd 1 into a new
            // descriptor (close-on-exec, so programs the plugin spawns do
            // not inherit it); it touches no memory and returns -1 on error.
            let saved = unsafe { libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 0) };
            if saved < 0 {
                return None;
            }
            // SAFETY: `saved` is a valid descriptor just created above and
            // owned by nothing else; the File becomes its only owner.
            let real_stdout = unsafe { File::from_raw_fd(saved) };
            // SAFETY: dup2 on two open descriptors; it atomically makes fd 1
            // refer to stderr's open file and touches no memory.
            if unsafe { libc::dup2(2, 1) } < 0 {
                return None; // `real_stdout` closes the duplicate
            }
            Some(StdoutGuard { real_stdout })
        }

        /// Writer to the real stdout.
        pub fn writer(&self) -> &File {
            &self.real_stdout
        }
    }

    impl Drop for StdoutGuard {
        fn drop(&mut self) {
            // Plugin output still buffered by Rust goes to stderr, where fd
            // 1 points now, then fd 1 gets the real stdout back.
            let _ = io::stdout().flush();
            // SAFETY: both descriptors are open (the File keeps its own);
            // dup2 touches no memory.
            unsafe {
                libc::dup2(self.real_stdout.as_raw_fd(), 1);
            }
        }
    }
}

#[cfg(not(unix))]
mod guard {
    use std::io;

    /// No fd redirection on this platform.
    pub struct StdoutGuard(std::convert::Infallible);

    impl StdoutGuard {
        pub fn engage() -> Option<StdoutGuard> {
            None
        }
        pub fn writer(&self) -> io::Stdout {
            match self.0 {}
        }
    }
}
