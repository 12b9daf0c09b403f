//! API benchmark (a bench binary, not a timed test): on 10 000 stored videos, `wrk` drives
//! `GET /api/v1/videos?count=15&sort=-publishedAt` at 64 connections against the release `vireo`
//! binary and, in the same run, against Debian's nginx serving the same response body as a static
//! file. Also measures cold start to `/readyz` and idle RSS. Run through `benches/run.sh`, which
//! installs wrk and nginx; see `benches/README.md` for the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{WRK_SECONDS, free_port, rss_kib, seed_videos, start_nginx, stop, wait_ready, wrk};

const VIDEOS: usize = 10_000;
const PATH: &str = "/api/v1/videos?count=15&sort=-publishedAt";

fn start_vireo(data: &Path, port: u16, cache_entries: usize) -> (Child, Duration) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_vireo"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .env(
            "VIREO_SERVER__LIST_CACHE_ENTRIES",
            cache_entries.to_string(),
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(
        &format!("http://127.0.0.1:{port}/readyz"),
        Duration::from_secs(30),
    );
    (child, started.elapsed())
}

fn main() {
    // `-- --seed-only DIR`: only build the 10 000-video data directory, to profile a server on it.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--seed-only") {
        let dir = Path::new(args.get(i + 1).expect("--seed-only DIR"));
        seed_videos(dir, VIDEOS);
        println!("seeded {VIDEOS} videos in {}", dir.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let t = Instant::now();
    seed_videos(&data, VIDEOS);
    println!(
        "seeded {VIDEOS} videos in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Cold start to /readyz and idle RSS, median of 5 starts.
    let mut starts = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..5 {
        let port = free_port();
        let (child, elapsed) = start_vireo(&data, port, 1024);
        std::thread::sleep(Duration::from_millis(300));
        rss.push(rss_kib(child.id()));
        starts.push(elapsed);
        stop(child);
    }
    starts.sort();
    rss.sort_unstable();
    let start_ms = starts[2].as_secs_f64() * 1000.0;
    let rss_mb = rss[2] as f64 / 1024.0;

    // Default configuration (the anonymous list cache on), then with the cache off: the cost of
    // rendering every request from the catalogue and the store.
    let mut body = Vec::new();
    let mut runs = Vec::new();
    let mut loaded_rss_mb = 0.0;
    for cache in [1024, 0] {
        let port = free_port();
        let (vireo, _) = start_vireo(&data, port, cache);
        let url = format!("http://127.0.0.1:{port}{PATH}");
        body = Command::new("curl")
            .args(["-fsS", &url])
            .output()
            .unwrap()
            .stdout;
        assert!(body.starts_with(b"{\"total\":10000"), "the list answers");
        runs.push((cache, wrk(&url, &[])));
        loaded_rss_mb = f64::max(loaded_rss_mb, rss_kib(vireo.id()) as f64 / 1024.0);
        stop(vireo);
    }

    let nginx_dir = dir.path().join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let nport = free_port();
    std::fs::write(nginx_dir.join("videos.json"), &body).unwrap();
    let nginx = start_nginx(
        &nginx_dir,
        "location = /api/v1/videos { default_type application/json; try_files /videos.json =404; }",
        nport,
    );
    let n = wrk(&format!("http://127.0.0.1:{nport}{PATH}"), &[]);
    stop(nginx);

    println!();
    println!(
        "GET {PATH} on {VIDEOS} videos, wrk -t2 -c64 -d{WRK_SECONDS}, response {} bytes",
        body.len()
    );
    println!("| server | req/s | p50 ms | p99 ms | non-2xx |");
    println!("|---|---|---|---|---|");
    for (cache, v) in &runs {
        let label = if *cache > 0 {
            "vireo (default: list cache on)"
        } else {
            "vireo (list cache off)"
        };
        println!(
            "| {label} | {:.0} | {:.2} | {:.2} | {} |",
            v.rps, v.p50_ms, v.p99_ms, v.non_2xx
        );
    }
    println!(
        "| nginx (same body, static file) | {:.0} | {:.2} | {:.2} | {} |",
        n.rps, n.p50_ms, n.p99_ms, n.non_2xx
    );
    println!();
    for (cache, v) in &runs {
        println!(
            "list cache {}: vireo / nginx throughput {:.2}x (target >= 0.5), p99 {:.2} ms (target < 10)",
            if *cache > 0 { "on " } else { "off" },
            v.rps / n.rps,
            v.p99_ms
        );
    }
    println!("cold start to /readyz (median of 5): {start_ms:.0} ms (target < 300)");
    println!(
        "idle RSS after start (median of 5): {rss_mb:.1} MB (target < 40); after the load: {loaded_rss_mb:.1} MB"
    );
}
