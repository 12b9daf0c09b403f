//! The probe of an upload, run in a child process (`vireo inspect-upload`): the first parse of
//! bytes anyone may send. The structural checks (`media::structure`) refuse the known hostile
//! shapes with a clear message; this is for what they miss. A parser that overflows its stack
//! or aborts (either kills the whole process that runs it), loops, or allocates without bound
//! costs the child: it runs under limits of memory and CPU time it sets itself, and the parent
//! kills it past a wall-clock deadline.
//!
//! The child parses on a thread with a smaller stack (`CHILD_STACK`) than the media job threads
//! have (`JOB_STACK`), so a file the child read whole is read whole again by the pipeline, which
//! runs the same code on the same bytes in this process.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::probe::{self, Limits, MediaInfo, ProbeError};

/// The stack the child parses on.
pub const CHILD_STACK: usize = 1024 * 1024;
/// The stack of the media job threads (`jobs`), larger than `CHILD_STACK` on purpose.
pub const JOB_STACK: usize = 16 * 1024 * 1024;
/// Memory the child may map: the movie header (at most 64 MiB, read once and decoded) and the
/// sample tables of the longest accepted video fit many times over.
const CHILD_MEMORY: u64 = 2 * 1024 * 1024 * 1024;
/// CPU time the child may use; reading every frame of a four-hour Matroska file takes seconds.
const CHILD_CPU_SECS: u64 = 120;
/// Wall-clock time before the parent kills it (a slow disk, a stuck parser).
const DEADLINE: Duration = Duration::from_secs(180);

/// What the child prints: the probe's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Answer {
    Info(MediaInfo),
    Refused(String),
}

/// Probe the upload at `path` in a child process.
pub fn inspect(path: &Path, limits: &Limits) -> Result<MediaInfo, ProbeError> {
    let binary = super::child::helper_binary().map_err(|e| failed(&e.to_string()))?;
    let limits_json = serde_json::to_string(limits).map_err(|e| failed(&e.to_string()))?;
    let mut child = Command::new(binary)
        .arg("inspect-upload")
        .arg(path)
        .arg(limits_json)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(&format!("the reader could not start: {e}")))?;
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.take(1 << 20).read_to_end(&mut out);
        }
        out
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(failed(&e.to_string())),
        }
    };
    let out = reader.join().unwrap_or_default();
    let Some(status) = status else {
        return Err(ProbeError::Malformed(
            "reading it took longer than any real file takes".into(),
        ));
    };
    if !status.success() {
        return Err(crashed(&status));
    }
    match serde_json::from_slice(&out) {
        Ok(Answer::Info(info)) => Ok(info),
        Ok(Answer::Refused(reason)) => Err(ProbeError::Refused(reason)),
        Err(_) => Err(crashed(&status)),
    }
}

fn failed(why: &str) -> ProbeError {
    ProbeError::Malformed(format!("it could not be read: {why}"))
}

/// The reader died: the file is built to break parsers, or runs past every limit.
fn crashed(status: &std::process::ExitStatus) -> ProbeError {
    use std::os::unix::process::ExitStatusExt;
    let how = match status.signal() {
        Some(6) => "aborted",
        Some(9 | 24) => "ran past its limits",
        Some(11) => "crashed (its structure is built to overflow a parser)",
        _ => "failed",
    };
    ProbeError::Malformed(format!("reading its structure {how}"))
}

/// The child's side (`vireo inspect-upload PATH LIMITS`): limit this process, probe on a small
/// stack, print the answer.
pub fn serve(path: &Path, limits_json: &str, out: &mut impl Write) -> std::io::Result<()> {
    limit_self();
    let limits: Limits = serde_json::from_str(limits_json).map_err(std::io::Error::other)?;
    let path = path.to_owned();
    let answer = std::thread::Builder::new()
        .name("inspect".into())
        .stack_size(CHILD_STACK)
        .spawn(move || match probe::probe(&path, &limits) {
            Ok(info) => Answer::Info(info),
            Err(e) => Answer::Refused(e.to_string()),
        })?
        .join()
        .map_err(|_| std::io::Error::other("the probe panicked"))?;
    serde_json::to_writer(&mut *out, &answer).map_err(std::io::Error::other)?;
    out.flush()
}

/// Cap this process's address space and CPU time: past them it is killed (or its allocations
/// fail, which aborts it), and the parent says so.
fn limit_self() {
    use rustix::process::{Resource, Rlimit, setrlimit};
    for (resource, limit) in [
        (Resource::As, CHILD_MEMORY),
        (Resource::Cpu, CHILD_CPU_SECS),
    ] {
        let _ = setrlimit(
            resource,
            Rlimit {
                current: Some(limit),
                maximum: Some(limit),
            },
        );
    }
}
