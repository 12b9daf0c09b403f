//! The `vireo admin` side: send the request to a running server's socket, or, when none answers,
//! open the store directly and execute it in this process.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::{Reply, Request, execute};
use crate::config::Config;
use crate::service::Core;

/// Run one admin request wherever the data lives.
pub fn run(config: Config, req: Request) -> Reply {
    let socket = config.admin_socket_path();
    match UnixStream::connect(&socket) {
        Ok(stream) => via_socket(stream, &req),
        // No server (or a stale socket from a crash): work on the store directly.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            offline(config, req)
        }
        Err(e) => Reply::Error {
            message: format!("cannot reach the admin socket {}: {e}", socket.display()),
        },
    }
}

fn via_socket(mut stream: UnixStream, req: &Request) -> Reply {
    let mut exchange = || -> std::io::Result<Reply> {
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        let mut line = serde_json::to_vec(req)?;
        line.push(b'\n');
        stream.write_all(&line)?;
        let mut reply = String::new();
        BufReader::new(&stream).read_line(&mut reply)?;
        Ok(serde_json::from_str(&reply)?)
    };
    exchange().unwrap_or_else(|e| Reply::Error {
        message: format!("admin socket: {e}"),
    })
}

fn offline(config: Config, req: Request) -> Reply {
    if !config.database_path().exists() {
        return Reply::Error {
            message: format!(
                "no Vireo data in {} (start `vireo serve` once, or pass --data-dir)",
                config.storage.data_dir.display()
            ),
        };
    }
    match Core::open(config) {
        Ok(core) => execute(&core, req),
        Err(e) if e.is_store_in_use() => Reply::Error {
            message: "the server is running but its admin socket does not answer".into(),
        },
        Err(e) => Reply::Error {
            message: e.to_string(),
        },
    }
}
