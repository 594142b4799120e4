//! Running one plugin command as a child process.
//!
//! The request is written to the child's stdin from a separate thread, and
//! stdout and stderr are read concurrently by two more threads, so no
//! direction can block another. Each output stream is capped; the whole
//! call has a deadline. When the cap is exceeded or the deadline passes,
//! the child is killed and reaped (waited for) before the error returns,
//! so no zombie is left behind.
//!
//! The child's environment is the host's minus registry credentials (see
//! [`is_credential_variable`]).

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::{ClientError, OutputStream};
use crate::protocol::Command;

/// What a finished child left behind.
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Whether an environment variable is withheld from plugins because it may
/// carry registry credentials.
///
/// Withheld: `NOTATION_USERNAME`, `NOTATION_PASSWORD`, and every variable
/// whose name (compared case-insensitively) starts with `NOTATION_` and
/// contains `PASSWORD`, `TOKEN`, `SECRET` or `CREDENTIAL`.
pub fn is_credential_variable(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    let upper = name.to_ascii_uppercase();
    if upper == "NOTATION_USERNAME" || upper == "NOTATION_PASSWORD" {
        return true;
    }
    upper.starts_with("NOTATION_")
        && ["PASSWORD", "TOKEN", "SECRET", "CREDENTIAL"]
            .iter()
            .any(|w| upper.contains(w))
}

enum Event {
    Done(OutputStream, std::io::Result<Vec<u8>>),
    Overflow(OutputStream),
}

fn spawn_reader(
    mut reader: os_pipe::PipeReader,
    stream: OutputStream,
    cap: u64,
    tx: mpsc::Sender<Event>,
) {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let result = (&mut reader)
            .take(cap.saturating_add(1))
            .read_to_end(&mut buf);
        let event = match result {
            Ok(_) if buf.len() as u64 > cap => Event::Overflow(stream),
            Ok(_) => Event::Done(stream, Ok(buf)),
            Err(e) => Event::Done(stream, Err(e)),
        };
        // The receiver is gone only if the call already failed.
        let _ = tx.send(event);
    });
}

/// Kills the child (if still running) with every process it started in its
/// process group, and reaps it.
fn kill_and_reap(child: &mut Child) {
    #[cfg(unix)]
    {
        // The child leads its own process group (see `invoke`), so a
        // grandchild holding our pipes open dies with it. The group id is
        // the child's pid; killpg fails only when the group is gone.
        if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: killpg has no memory-safety preconditions.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
    }
    // kill fails only if the child already exited; wait then reaps it.
    let _ = child.kill();
    let _ = child.wait();
}

/// Spawns `cmd`, retrying briefly while the executable is "busy"
/// (`ETXTBSY`): a file just written (by `plugin install`, or a test) can
/// still be open for writing in a child that another thread of this process
/// forked before that child's exec closed it.
fn spawn_retrying_busy(cmd: &mut std::process::Command) -> io::Result<Child> {
    let mut pause = Duration::from_millis(5);
    for _ in 0..8 {
        match cmd.spawn() {
            #[cfg(unix)]
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                thread::sleep(pause);
                pause *= 2;
            }
            other => return other,
        }
    }
    cmd.spawn()
}

/// Runs `path command` with `input` on stdin, under `timeout` and with each
/// output stream capped at `max_output` bytes.
pub(crate) fn invoke(
    name: &str,
    path: &Path,
    command: Command,
    input: &[u8],
    timeout: Duration,
    max_output: u64,
) -> Result<Finished, ClientError> {
    let could_not_run = |source| ClientError::CouldNotRun {
        name: name.to_owned(),
        command,
        path: path.to_owned(),
        source,
    };
    let deadline = Instant::now() + timeout;
    let (stdin_r, stdin_w) = os_pipe::pipe().map_err(could_not_run)?;
    let (stdout_r, stdout_w) = os_pipe::pipe().map_err(could_not_run)?;
    let (stderr_r, stderr_w) = os_pipe::pipe().map_err(could_not_run)?;

    let mut cmd = std::process::Command::new(path);
    cmd.arg(command.as_str())
        .stdin(stdin_r)
        .stdout(stdout_w)
        .stderr(stderr_w);
    for (key, _) in std::env::vars_os() {
        if is_credential_variable(&key) {
            cmd.env_remove(key);
        }
    }
    #[cfg(unix)]
    {
        // A process group of its own, so a time-out kills what the plugin
        // spawned too (see `kill_and_reap`).
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let spawned = spawn_retrying_busy(&mut cmd);
    // The Command holds our copies of the child's pipe ends; drop them so
    // the readers see end-of-file when the child closes its side.
    drop(cmd);
    let mut child = spawned.map_err(could_not_run)?;

    let request = input.to_vec();
    thread::spawn(move || {
        let mut w = stdin_w;
        // A child that exits without reading its stdin makes this fail
        // with a broken pipe; its exit status tells the story instead.
        let _ = w.write_all(&request);
    });

    let (tx, rx) = mpsc::channel();
    spawn_reader(stdout_r, OutputStream::Stdout, max_output, tx.clone());
    spawn_reader(stderr_r, OutputStream::Stderr, max_output, tx);

    let timed_out = || ClientError::TimedOut {
        name: name.to_owned(),
        command,
        timeout,
    };
    let mut stdout = None;
    let mut stderr = None;
    while stdout.is_none() || stderr.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Done(stream, Ok(bytes))) => match stream {
                OutputStream::Stdout => stdout = Some(bytes),
                OutputStream::Stderr => stderr = Some(bytes),
            },
            Ok(Event::Done(stream, Err(source))) => {
                kill_and_reap(&mut child);
                return Err(ClientError::ReadOutput {
                    name: name.to_owned(),
                    command,
                    stream,
                    source,
                });
            }
            Ok(Event::Overflow(stream)) => {
                kill_and_reap(&mut child);
                return Err(ClientError::OutputTooLarge {
                    name: name.to_owned(),
                    command,
                    stream,
                    limit: max_output,
                });
            }
            Err(_) => {
                kill_and_reap(&mut child);
                return Err(timed_out());
            }
        }
    }

    // Both streams are closed, so the child is exiting or has exited; one
    // that closed them and kept running still gets the deadline.
    let mut pause = Duration::from_micros(50);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_and_reap(&mut child);
                return Err(timed_out());
            }
            Ok(None) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(5));
            }
            Err(source) => {
                kill_and_reap(&mut child);
                return Err(could_not_run(source));
            }
        }
    };
    Ok(Finished {
        status,
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_variables() {
        for name in [
            "NOTATION_USERNAME",
            "NOTATION_PASSWORD",
            "notation_password",
            "NOTATION_REGISTRY_TOKEN",
            "NOTATION_AUTH_SECRET",
            "NOTATION_CREDENTIALS_FILE",
        ] {
            assert!(is_credential_variable(OsStr::new(name)), "{name}");
        }
        for name in [
            "PATH",
            "HOME",
            "NOTATION_PLUGIN_TIMEOUT",
            "PASSWORD",
            "XDG_CONFIG_HOME",
        ] {
            assert!(!is_credential_variable(OsStr::new(name)), "{name}");
        }
    }
}
