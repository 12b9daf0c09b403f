//! The server side of the admin channel: a Unix socket `admin.sock` in the data directory,
//! readable only by the user running Vireo (mode 0600 in a 0700 directory). One JSON request
//! line in, one JSON reply line out.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::{Reply, Request, execute};
use crate::service::Core;

/// Longest request line accepted.
const MAX_REQUEST: u64 = 64 * 1024;

/// Bind the socket (replacing a stale one left by a crash) and serve it until the task is dropped.
pub fn listen(path: &Path, core: Arc<Core>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve_one(stream, core.clone()));
                }
                Err(e) => tracing::warn!(error = %e, "admin socket accept failed"),
            }
        }
    }))
}

async fn serve_one(stream: UnixStream, core: Arc<Core>) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let reply = match BufReader::new(read.take(MAX_REQUEST))
        .read_line(&mut line)
        .await
    {
        Ok(_) => match serde_json::from_str::<Request>(&line) {
            Ok(req) => {
                tracing::info!(request = ?redacted(&req), "admin command");
                tokio::task::spawn_blocking(move || execute(&core, req))
                    .await
                    .unwrap_or_else(|_| Reply::Error {
                        message: "the command failed unexpectedly".into(),
                    })
            }
            Err(e) => Reply::Error {
                message: format!("malformed admin request: {e}"),
            },
        },
        Err(e) => Reply::Error {
            message: format!("reading admin request: {e}"),
        },
    };
    let mut out = serde_json::to_vec(&reply).unwrap_or_default();
    out.push(b'\n');
    let _ = write.write_all(&out).await;
}

/// The request as it may be logged: passwords removed.
fn redacted(req: &Request) -> Request {
    match req.clone() {
        Request::UserCreate {
            username,
            email,
            role,
            password,
        } => Request::UserCreate {
            username,
            email,
            role,
            password: password.map(|_| "***".into()),
        },
        Request::UserPasswd { username, .. } => Request::UserPasswd {
            username,
            password: "***".into(),
        },
        other => other,
    }
}

/// Remove the socket file at shutdown.
pub fn cleanup(path: &PathBuf) {
    let _ = std::fs::remove_file(path);
}
