//! Running an untrusted child process to completion: input on stdin,
//! capped output, one deadline for the whole run.
//!
//! [`run`] (or [`run_command`], for a caller that sets the environment or
//! working directory itself) is the one place where this workspace starts
//! a helper program and collects what it says: the plugin client
//! ([`crate::client`]) runs plugins with it, and the host runs docker
//! credential helpers with it.
//!
//! # Guarantees
//!
//! * **No direction blocks another.** The input is written from its own
//!   thread and stdout and stderr are read by two more, so a child that
//!   fills one pipe while the host fills another cannot deadlock.
//! * **One deadline covers everything**: start, input, output collection
//!   and exit. A child that exits but leaves a background process holding
//!   its stdout or stderr open times out instead of hanging the caller.
//! * **Output is capped**: each stream at [`RunLimits::max_output`] bytes.
//! * **Nothing is left behind on failure.** On Unix the child leads a
//!   process group of its own; on a time-out, an output overflow or a read
//!   error the whole group is killed with `SIGKILL` (so is whatever the
//!   child started in it) and the child is reaped before the error
//!   returns. A child that finishes normally is not killed, nor is what it
//!   left running.
//! * **A freshly written executable can be run.** Spawning is retried
//!   briefly while it fails with `ETXTBSY` ("text file busy": another
//!   thread of this process forked while the file was still open for
//!   writing).
//! * **The host's copy of the input is wiped** (overwritten with zeros)
//!   once written, as it may carry a secret.
//!
//! # What the caller decides
//!
//! The environment: the child inherits the host's, minus what the caller
//! removes through [`run_command`]. The plugin client withholds registry
//! credentials from plugins this way
//! ([`crate::client::process::is_credential_variable`]); [`run`] itself
//! passes the environment on unchanged.
//!
//! Because the child runs in its own process group it is not in the
//! terminal's foreground group: a child that reads from the terminal
//! directly is stopped by the system. Children are expected to talk
//! through their stdin and stdout only.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Limits for one [`run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Time from the start of the run until the child has exited and both
    /// output streams are closed.
    pub timeout: Duration,
    /// Cap on each of stdout and stderr, in bytes.
    pub max_output: u64,
}

/// What a child that finished in time left behind.
#[derive(Debug)]
pub struct Output {
    /// How the child exited.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

/// One of the child's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        })
    }
}

/// Why a [`run`] did not produce an [`Output`]. The messages do not name
/// the program: the caller, who knows what it ran, adds that.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The pipes could not be created or the program could not be started
    /// (not found, not executable, ...).
    #[error("could not start the program: {source}")]
    Spawn {
        /// The underlying error.
        source: io::Error,
    },
    /// Waiting for the child's exit status failed; it was killed.
    #[error("could not wait for the program to exit: {source}")]
    Wait {
        /// The underlying error.
        source: io::Error,
    },
    /// The child had not exited and closed its output within the time-out;
    /// it was killed with its process group.
    #[error(
        "the program did not finish within {} s and was stopped",
        timeout.as_secs_f64()
    )]
    TimedOut {
        /// The time-out that expired.
        timeout: Duration,
    },
    /// An output stream exceeded its cap; the child was killed with its
    /// process group.
    #[error("the program wrote more than {limit} bytes to {stream} and was stopped")]
    OutputTooLarge {
        /// The stream that overflowed.
        stream: Stream,
        /// The cap.
        limit: u64,
    },
    /// Reading an output stream failed; the child was killed with its
    /// process group.
    #[error("could not read the program's {stream}: {source}")]
    Read {
        /// The stream.
        stream: Stream,
        /// The underlying error.
        source: io::Error,
    },
}

/// Runs `program` with `args`, `input` on its stdin and the host's
/// environment, within `limits`; see the [module docs](self) for what is
/// guaranteed.
///
/// A `program` without a path separator is looked up on `PATH`, as
/// [`std::process::Command::new`] does. A non-zero exit is not an error:
/// it is in [`Output::status`] for the caller to interpret.
pub fn run(
    program: &Path,
    args: &[&OsStr],
    input: &[u8],
    limits: RunLimits,
) -> Result<Output, RunError> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    run_command(cmd, input, limits)
}

/// Like [`run`], for a [`Command`] the caller has prepared (program,
/// arguments, environment, working directory). Its stdin, stdout, stderr
/// and (on Unix) process group are replaced.
pub fn run_command(mut cmd: Command, input: &[u8], limits: RunLimits) -> Result<Output, RunError> {
    let deadline = Instant::now() + limits.timeout;
    let spawn_error = |source| RunError::Spawn { source };
    let (stdin_r, stdin_w) = os_pipe::pipe().map_err(spawn_error)?;
    let (stdout_r, stdout_w) = os_pipe::pipe().map_err(spawn_error)?;
    let (stderr_r, stderr_w) = os_pipe::pipe().map_err(spawn_error)?;
    cmd.stdin(stdin_r).stdout(stdout_w).stderr(stderr_w);
    #[cfg(unix)]
    {
        // A process group of its own, so that killing the group stops what
        // the child started too (see `kill_and_reap`).
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let spawned = spawn_retrying_busy(&mut cmd);
    // The Command holds our copies of the child's pipe ends; drop them so
    // the readers see end-of-file once the child's side is closed.
    drop(cmd);
    let mut child = spawned.map_err(spawn_error)?;

    let mut request = input.to_vec();
    thread::spawn(move || {
        let mut w = stdin_w;
        // A child that exits without reading all its stdin makes this fail
        // with a broken pipe; its exit status tells the story instead.
        let _ = w.write_all(&request);
        drop(w);
        wipe(&mut request);
    });

    let (tx, rx) = mpsc::channel();
    spawn_reader(stdout_r, Stream::Stdout, limits.max_output, tx.clone());
    spawn_reader(stderr_r, Stream::Stderr, limits.max_output, tx);

    let mut stdout = None;
    let mut stderr = None;
    while stdout.is_none() || stderr.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let failure = match rx.recv_timeout(left) {
            Ok(Event::Done(stream, Ok(bytes))) => {
                match stream {
                    Stream::Stdout => stdout = Some(bytes),
                    Stream::Stderr => stderr = Some(bytes),
                }
                continue;
            }
            Ok(Event::Done(stream, Err(source))) => RunError::Read { stream, source },
            Ok(Event::Overflow(stream)) => RunError::OutputTooLarge {
                stream,
                limit: limits.max_output,
            },
            Err(_) => RunError::TimedOut {
                timeout: limits.timeout,
            },
        };
        kill_and_reap(&mut child);
        return Err(failure);
    }

    // Both streams are closed, so the child is exiting or has exited; one
    // that closed them and kept running still gets the deadline.
    let mut pause = Duration::from_micros(50);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_and_reap(&mut child);
                return Err(RunError::TimedOut {
                    timeout: limits.timeout,
                });
            }
            Ok(None) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(5));
            }
            Err(source) => {
                kill_and_reap(&mut child);
                return Err(RunError::Wait { source });
            }
        }
    };
    Ok(Output {
        status,
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
    })
}

/// Overwrites `buf` with zeros in a way the compiler cannot drop as a dead
/// store.
fn wipe(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        // SAFETY: `b` is a valid, aligned, exclusive reference to a u8.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
}

enum Event {
    Done(Stream, io::Result<Vec<u8>>),
    Overflow(Stream),
}

fn spawn_reader(
    mut reader: os_pipe::PipeReader,
    stream: Stream,
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
        // The receiver is gone only if the run already failed.
        let _ = tx.send(event);
    });
}

/// Kills the child (if still running) with every process in its process
/// group, and reaps it.
fn kill_and_reap(child: &mut Child) {
    #[cfg(unix)]
    {
        // The child leads its own process group (see `run_command`), so a
        // grandchild holding our pipes open dies with it. The group id is
        // the child's pid, which stays ours until the child is reaped
        // below; killpg fails only when the group is gone.
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
/// still be open for writing in a child that another thread of this
/// process forked before that child's exec closed it.
fn spawn_retrying_busy(cmd: &mut Command) -> io::Result<Child> {
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str, input: &[u8], limits: RunLimits) -> Result<Output, RunError> {
        run(
            Path::new("/bin/sh"),
            &[OsStr::new("-c"), OsStr::new(script)],
            input,
            limits,
        )
    }

    const LIMITS: RunLimits = RunLimits {
        timeout: Duration::from_secs(20),
        max_output: 1024,
    };

    #[test]
    fn collects_status_and_both_streams() {
        let out = sh("cat; echo oops >&2; exit 3", b"hello", LIMITS).unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"hello");
        assert_eq!(out.stderr, b"oops\n");
    }

    #[test]
    fn output_over_the_cap_is_refused() {
        let e = sh("head -c 5000 /dev/zero", b"", LIMITS).unwrap_err();
        assert!(
            matches!(
                e,
                RunError::OutputTooLarge {
                    stream: Stream::Stdout,
                    limit: 1024
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn missing_program_cannot_start() {
        let e = run(
            Path::new("/nonexistent/definitely-not-here"),
            &[],
            b"",
            LIMITS,
        )
        .unwrap_err();
        assert!(matches!(e, RunError::Spawn { .. }), "{e}");
    }

    #[test]
    fn background_process_holding_stdout_times_out_and_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("sleep 3000 & echo $! > '{}'; echo bye", pid_file.display());
        let limits = RunLimits {
            timeout: Duration::from_secs(2),
            ..LIMITS
        };
        let e = sh(&script, b"", limits).unwrap_err();
        assert!(matches!(e, RunError::TimedOut { timeout } if timeout == limits.timeout));
        let pid: libc::pid_t = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(is_gone(pid), "the background sleep {pid} survived");
    }

    /// Whether `pid` has exited (it may linger as a zombie until init reaps
    /// it). SIGKILL is delivered asynchronously, so this waits a little.
    fn is_gone(pid: libc::pid_t) -> bool {
        let have_proc = Path::new("/proc/self").exists();
        for _ in 0..200 {
            if have_proc {
                match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                    Err(_) => return true,
                    Ok(stat) => {
                        // The state follows the parenthesised command name.
                        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                        if state.starts_with('Z') || state.starts_with('X') {
                            return true;
                        }
                    }
                }
            // SAFETY: signal 0 only checks whether the process exists.
            } else if unsafe { libc::kill(pid, 0) } != 0 {
                return true;
            }
            thread::sleep(Duration::from_millis(25));
        }
        false
    }
}
