//! Upload benchmark (a bench binary): streams a large H.264 file to the release `vireo` with
//! `curl` (multipart `POST /api/v1/videos/upload`) and reports throughput against the disk's own
//! sequential write speed measured in the same run (`dd … conv=fdatasync`, the physical limit),
//! plus the server's peak RSS for two file sizes (it must not grow with the file).
//! Inputs are made by looping `bigbuckbunny.mp4` (as is, and scaled to 1080p once) with Debian's ffmpeg (`-stream_loop`, stream
//! copy). Run through `benches/run.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use common::{Vireo, Wrk, curl, free_port, json_field, loop_fixture, start_nginx, wrk};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A 10-minute 1080p H.264/AAC input: the clip scaled to 1080p once (x264, 6 Mb/s, keyframe
/// every 2 s), then looped without re-encoding.
fn make_1080p_input(dir: &Path, minutes: u32) -> PathBuf {
    let clip =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/media/bigbuckbunny.mp4");
    let base = dir.join("clip1080.mp4");
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&clip)
        .args([
            "-vf",
            "scale=1920:1080",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
        ])
        .args(["-b:v", "6M", "-g", "50", "-c:a", "copy"])
        .arg(&base)
        .status()
        .expect("ffmpeg is installed (benches/run.sh installs it)");
    assert!(status.success());
    let times = (minutes * 60).div_ceil(5);
    let out = dir.join(format!("loop1080-{minutes}min.mp4"));
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-stream_loop"])
        .arg((times - 1).to_string())
        .arg("-i")
        .arg(&base)
        .args(["-c", "copy", "-t", &(minutes * 60).to_string()])
        .args(["-movflags", "+faststart"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    out
}

fn disk_write_mb_s(dir: &Path, mb: u64) -> f64 {
    let target = dir.join("dd.bin");
    let start = Instant::now();
    let status = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", target.display()))
        .args([
            "bs=1M",
            &format!("count={mb}"),
            "conv=fdatasync",
            "status=none",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(target);
    mb as f64 / secs
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

struct Run {
    size_mb: f64,
    secs: f64,
    /// Seconds from the upload's answer to a published HLS video.
    to_playable: f64,
    /// … to the progressive MP4 and torrents too.
    to_complete: f64,
    rss_mb: f64,
    /// The disk's own speed for a file of the same size, measured right after.
    disk_mb_s: f64,
}

/// Segment-serving load: the first HLS segment (a byte range of the fragmented MP4) from Vireo,
/// then the same file and range from nginx.
fn serving(work: &Path, url: &str, data: &Path, uuid: &str) -> (Wrk, Wrk) {
    let video = curl(&[&format!("{url}/api/v1/videos/{uuid}")]);
    let video: serde_json::Value = serde_json::from_str(&video).unwrap();
    let file = &video["streamingPlaylists"][0]["files"][0];
    let playlist = curl(&[file["playlistUrl"].as_str().unwrap()]);
    let range = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-BYTERANGE:"))
        .unwrap();
    let (len, off) = range.split_once('@').unwrap();
    let (len, off): (u64, u64) = (len.parse().unwrap(), off.parse().unwrap());
    let header = format!("Range: bytes={off}-{}", off + len - 1);
    let file_url = file["fileUrl"].as_str().unwrap().to_owned();
    let v = wrk(&file_url, &[&header]);
    let path = file_url.strip_prefix(url).unwrap();
    let hls_dir = data.join("media").join(uuid).join("hls");
    let nginx_dir = work.join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let nport = free_port();
    let prefix = format!("/static/streaming-playlists/hls/{uuid}/");
    let nginx = start_nginx(
        &nginx_dir,
        &format!("location {prefix} {{ alias {}/; }}", hls_dir.display()),
        nport,
    );
    let n = wrk(&format!("http://127.0.0.1:{nport}{path}"), &[&header]);
    common::stop(nginx);
    println!("segment of {len} bytes (Range {off}-{})", off + len - 1);
    (v, n)
}

fn upload_once(work: &Path, input: &Path, serve: bool) -> (Run, Option<(Wrk, Wrk)>) {
    let data = work.join(format!(
        "data-{}",
        input.file_stem().unwrap().to_string_lossy()
    ));
    // This bench measures the upload, remux and serving alone; `transcode` measures the AV1
    // ladder.
    let server = Vireo::start(&data, &[("VIREO_TRANSCODING__ENABLED", "false")]);
    let (url, token, channel) = (server.url.clone(), server.token.clone(), server.channel);
    let size = std::fs::metadata(input).unwrap().len();
    let start = Instant::now();
    let answer = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        "-F",
        &format!("channelId={channel}"),
        "-F",
        "name=Bench upload",
        "-F",
        &format!("videofile=@{};type=video/mp4", input.display()),
        &format!("{url}/api/v1/videos/upload"),
    ]);
    let secs = start.elapsed().as_secs_f64();
    assert!(answer.contains("\"uuid\""), "{answer}");
    // From the answer to a published, playable HLS video (the remux job).
    let uuid = json_field(&json_field(&answer, "video"), "uuid");
    let answered = Instant::now();
    loop {
        let v = curl(&[&format!("{url}/api/v1/videos/{uuid}")]);
        let v: serde_json::Value = serde_json::from_str(&v).unwrap();
        if v["state"]["id"] == 1 {
            break;
        }
        assert!(answered.elapsed() < Duration::from_secs(120), "published");
        std::thread::sleep(Duration::from_millis(10));
    }
    let to_playable = answered.elapsed().as_secs_f64();
    // Then the progressive MP4 and the torrents (the job's second step).
    loop {
        let v = curl(&[&format!("{url}/api/v1/videos/{uuid}")]);
        let v: serde_json::Value = serde_json::from_str(&v).unwrap();
        if v["files"][0]["torrentUrl"].is_string() {
            break;
        }
        assert!(answered.elapsed() < Duration::from_secs(300), "files made");
        std::thread::sleep(Duration::from_millis(10));
    }
    let to_complete = answered.elapsed().as_secs_f64();
    let served = serve.then(|| serving(work, &url, &data, &uuid));
    let rss_mb = peak_rss_mb(server.child.id());
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
    let run = Run {
        size_mb: size as f64 / 1_048_576.0,
        secs,
        to_playable,
        to_complete,
        rss_mb,
        disk_mb_s: disk_write_mb_s(work, size.div_ceil(1_048_576)),
    };
    (run, served)
}

fn main() {
    let work = tempfile::tempdir().unwrap();
    let small = loop_fixture(work.path(), 20);
    let large = make_1080p_input(work.path(), 10);
    let (small_run, served) = upload_once(work.path(), &small, true);
    let (large_run, _) = upload_once(work.path(), &large, false);
    let runs = [small_run, large_run];
    println!(
        "upload = curl multipart POST until the answer (file streamed, synced, probed, stored)"
    );
    println!("disk = dd of the same size with conv=fdatasync, right after");
    println!(
        "| input | size MB | upload s | upload MB/s | disk MB/s | ratio | answer → playable s | → all files s | server peak RSS MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, r) in [
        "bigbuckbunny ×20 (720p, 106 s)",
        "bigbuckbunny 1080p looped (10 min)",
    ]
    .iter()
    .zip(&runs)
    {
        let rate = r.size_mb / r.secs;
        println!(
            "| {name} | {:.0} | {:.2} | {:.0} | {:.0} | {:.2}× | {:.2} | {:.2} | {:.1} |",
            r.size_mb,
            r.secs,
            rate,
            r.disk_mb_s,
            rate / r.disk_mb_s,
            r.to_playable,
            r.to_complete,
            r.rss_mb
        );
    }
    if let Some((v, n)) = served {
        println!("| segment server | req/s | p50 ms | p99 ms | non-2xx |");
        println!("|---|---|---|---|---|");
        println!(
            "| vireo | {:.0} | {:.2} | {:.2} | {} |",
            v.rps, v.p50_ms, v.p99_ms, v.non_2xx
        );
        println!(
            "| nginx (same file and range) | {:.0} | {:.2} | {:.2} | {} |",
            n.rps, n.p50_ms, n.p99_ms, n.non_2xx
        );
        println!(
            "segment serving vireo / nginx: {:.2}x (target >= 0.8)",
            v.rps / n.rps
        );
    }
    println!(
        "peak RSS ratio large/small: {:.2} (file size ratio {:.1})",
        runs[1].rss_mb / runs[0].rss_mb,
        runs[1].size_mb / runs[0].size_mb
    );
}
