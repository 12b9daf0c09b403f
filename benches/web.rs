//! Web UI benchmark (a bench binary, not a timed test), against the release `vireo` binary on
//! 10 000 stored videos plus one real upload (the bunny fixture looped three times):
//! - the size of the watch and home pages (uncompressed and as sent with brotli), and of the
//!   JavaScript the watch page loads (the player and the page helpers);
//! - time to first byte of the watch and home pages over loopback (curl's
//!   `time_starttransfer`, 300 sequential requests each, new connection each), against Debian's
//!   nginx serving the same HTML as a static file in the same run;
//! - throughput of the watch page under `wrk -t2 -c64`, against the same nginx;
//! - throughput of the player's view reports (`POST /api/v1/videos/{id}/views`), against
//!   nginx answering the same POST with a bare 204.
//!
//! Targets (issue: web UI): watch page < 50 KB, first byte < 20 ms, player JS < 100 KB.
//! Run through `benches/run.sh`, which installs curl, wrk, nginx and ffmpeg; figures in
//! `benches/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::process::Command;
use std::time::Duration;

mod common;

use common::{Vireo, free_port, loop_fixture, seed_videos, start_nginx, stop, wrk, wrk_post_json};

const VIDEOS: usize = 10_000;
const SAMPLES: usize = 300;

/// curl's time to first byte for `url`, in milliseconds, `n` times.
fn ttfb(url: &str, n: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            let out = Command::new("curl")
                .args([
                    "-fsS",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{time_starttransfer}",
                    url,
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{url}");
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<f64>()
                .unwrap()
                * 1000.0
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Bytes `url` sends with `encoding` accepted.
fn sent_bytes(url: &str, encoding: &str) -> u64 {
    let out = Command::new("curl")
        .args(["-fsS", "-o", "/dev/null", "-w", "%{size_download}"])
        .args(["-H", &format!("Accept-Encoding: {encoding}"), url])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn body(url: &str) -> String {
    common::curl(&[url])
}

/// The script URLs a page loads.
fn scripts(html: &str) -> Vec<String> {
    html.split("<script type=\"module\" src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed_videos(&data, VIDEOS);
    // The seeded store's root has a random password; give it the one `Vireo::start` logs in with.
    let set = Command::new(env!("CARGO_BIN_EXE_vireo"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "admin",
            "user",
            "passwd",
            "root",
            "--password",
            common::ROOT_PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let input = loop_fixture(dir.path(), 3);
    let vireo = Vireo::start(&data, &[("VIREO_TRANSCODING__ENABLED", "false")]);
    let uuid = vireo.upload(&input);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while vireo.video(&uuid)["state"]["id"] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload is published"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let watch_path = format!("/videos/watch/{uuid}");
    let watch_url = format!("{}{watch_path}", vireo.url);
    let home_url = format!("{}/", vireo.url);
    let watch = body(&watch_url);
    let home = body(&home_url);
    assert!(
        watch.contains("id=\"player\""),
        "the watch page has the player"
    );

    let mut js = Vec::new();
    for src in scripts(&watch) {
        let url = format!("{}{src}", vireo.url);
        js.push((
            src.clone(),
            body(&url).len() as u64,
            sent_bytes(&url, "gzip"),
            sent_bytes(&url, "br"),
        ));
    }
    let watch_br = sent_bytes(&watch_url, "br");
    let home_br = sent_bytes(&home_url, "br");

    // Warm up, then time to first byte.
    ttfb(&watch_url, 20);
    let v_watch = ttfb(&watch_url, SAMPLES);
    let v_home = ttfb(&home_url, SAMPLES);
    let v_wrk = wrk(&watch_url, &[]);
    // The player's view reports: every viewer sends one each 5 s while watching.
    let report = r#"{"currentTime": 1.5}"#;
    let views_url = format!("{}/api/v1/videos/{uuid}/views", vireo.url);
    let v_views = wrk_post_json(dir.path(), &views_url, report);
    assert_eq!(v_views.non_2xx, 0, "every view report is taken");

    let nginx_dir = dir.path().join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    std::fs::write(nginx_dir.join("watch.html"), &watch).unwrap();
    let nport = free_port();
    let nginx = start_nginx(
        &nginx_dir,
        "location / { default_type text/html; try_files /watch.html =404; }\n\
         location /views { return 204; }",
        nport,
    );
    let nginx_url = format!("http://127.0.0.1:{nport}{watch_path}");
    ttfb(&nginx_url, 20);
    let n_watch = ttfb(&nginx_url, SAMPLES);
    let n_wrk = wrk(&nginx_url, &[]);
    let n_views = wrk_post_json(
        dir.path(),
        &format!("http://127.0.0.1:{nport}/views"),
        report,
    );
    stop(nginx);
    vireo.stop();

    println!();
    println!("Web UI on {VIDEOS} videos + 1 upload (release build)");
    println!("| page | HTML bytes | sent with br |");
    println!("|---|---|---|");
    println!("| watch | {} | {watch_br} |", watch.len());
    println!("| home | {} | {home_br} |", home.len());
    println!();
    println!("| script on the watch page | bytes | gzip | br |");
    println!("|---|---|---|---|");
    let mut total = 0;
    for (src, raw, gz, br) in &js {
        total += raw;
        println!("| {src} | {raw} | {gz} | {br} |");
    }
    println!();
    println!("| first byte, {SAMPLES} requests, new connection each | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|");
    for (label, v) in [
        ("vireo watch page", &v_watch),
        ("vireo home page", &v_home),
        ("nginx, same watch HTML as a static file", &n_watch),
    ] {
        println!(
            "| {label} | {:.2} | {:.2} | {:.2} |",
            pct(v, 0.5),
            pct(v, 0.99),
            pct(v, 1.0)
        );
    }
    println!();
    println!("| watch page, wrk -t2 -c64 | req/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    println!(
        "| vireo | {:.0} | {:.2} | {:.2} |",
        v_wrk.rps, v_wrk.p50_ms, v_wrk.p99_ms
    );
    println!(
        "| nginx (static copy) | {:.0} | {:.2} | {:.2} |",
        n_wrk.rps, n_wrk.p50_ms, n_wrk.p99_ms
    );
    println!();
    println!("| view reports (POST, JSON), wrk -t2 -c64 | req/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    println!(
        "| vireo `/api/v1/videos/{{id}}/views` | {:.0} | {:.2} | {:.2} |",
        v_views.rps, v_views.p50_ms, v_views.p99_ms
    );
    println!(
        "| nginx `return 204` | {:.0} | {:.2} | {:.2} |",
        n_views.rps, n_views.p50_ms, n_views.p99_ms
    );
    println!(
        "view reports: {:.0}/s, {:.2}x nginx; at one report per viewer every 5 s that is {:.0} viewers at once",
        v_views.rps,
        v_views.rps / n_views.rps,
        v_views.rps * 5.0
    );
    println!();
    println!(
        "watch page {} bytes (target < 50 000); first byte p99 {:.2} ms (target < 20), {:.2}x nginx's p99; \
         scripts {total} bytes (target < 100 000); throughput {:.2}x nginx",
        watch.len(),
        pct(&v_watch, 0.99),
        pct(&v_watch, 0.99) / pct(&n_watch, 0.99),
        v_wrk.rps / n_wrk.rps
    );
}
