//! Helpers shared by the bench binaries: ports, readiness, process control, RSS, and the
//! reference tools (wrk as the load generator, Debian's nginx as the static-file reference).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const WRK_SECONDS: &str = "10s";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_ready(url: &str, deadline: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let ok = Command::new("curl")
            .args(["-fsS", "-o", "/dev/null", url])
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return start.elapsed();
        }
        assert!(start.elapsed() < deadline, "{url} never answered");
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[derive(Debug)]
pub struct Wrk {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
}

pub fn parse_latency(s: &str) -> f64 {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let v: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => v / 1000.0,
        "ms" => v,
        "s" => v * 1000.0,
        _ => f64::NAN,
    }
}

/// `wrk -t2 -c64 -d10s --latency` with extra headers (`"Name: value"`).
pub fn wrk(url: &str, headers: &[&str]) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c64", "-d", WRK_SECONDS, "--latency"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("wrk is installed (benches/run.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
    };
    Wrk {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").map(|v| parse_latency(&v)).unwrap_or(f64::NAN),
        p99_ms: field("99%").map(|v| parse_latency(&v)).unwrap_or(f64::NAN),
        non_2xx: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

/// Debian's nginx on `port` with `locations` (nginx `location` blocks) and a `/readyz`.
pub fn start_nginx(dir: &Path, locations: &str, port: u16) -> Child {
    let conf = format!(
        "worker_processes auto;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\nuser root;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  keepalive_requests 100000;\n\
           server {{\n    listen 127.0.0.1:{port};\n    root {d};\n\
             {locations}\n\
             location = /readyz {{ return 200 'ready'; }}\n  }}\n}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .args(["-p"])
        .arg(dir)
        .args(["-c"])
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx is installed (benches/run.sh installs it)");
    wait_ready(
        &format!("http://127.0.0.1:{port}/readyz"),
        Duration::from_secs(10),
    );
    child
}
