//! A real browser plays what Vireo serves: headless Debian Chromium loads the HLS of an upload
//! through MSE with hls.js (`tests/browser/play.mjs`, installed by `tests/run.sh`), cross-origin
//! from another local port, and `currentTime` must advance with no media error. A screenshot of
//! the playing video is saved under `tests/out/`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::{Server, tempdir};
use crate::uploads::{channel_id, clip, single_upload, wait_for_state};

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Run the checker on a master playlist; its JSON report.
fn play(master: &str, screenshot: &std::path::Path) -> Value {
    play_level(master, None, screenshot)
}

/// Run the checker on one level (rendition, in the order hls.js lists them) of a master
/// playlist, or with hls.js choosing; its JSON report.
pub(crate) fn play_level(
    master: &str,
    level: Option<usize>,
    screenshot: &std::path::Path,
) -> Value {
    let level: Vec<String> = level
        .map(|l| ["--level".to_owned(), l.to_string()])
        .into_iter()
        .flatten()
        .collect();
    run_checker(master, &level, screenshot)
}

/// Run the checker on a progressive MP4, played as a `<video>` element's `src`; its report.
pub(crate) fn play_progressive(url: &str, screenshot: &std::path::Path) -> Value {
    run_checker(url, &["--progressive".to_owned()], screenshot)
}

fn run_checker(url: &str, extra: &[String], screenshot: &std::path::Path) -> Value {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists()
            && PathBuf::from("/usr/bin/chromium").exists(),
        "Chromium and playwright-core are not installed: run `bash tests/run.sh`"
    );
    let out = Command::new("node")
        .current_dir(&dir)
        .args([
            "play.mjs",
            url,
            "--min-time",
            "2.0",
            "--timeout-ms",
            "30000",
        ])
        .args(extra)
        .arg("--screenshot")
        .arg(screenshot)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "play.mjs printed no report ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "playback failed: {report:#}");
    report
}

#[test]
fn chromium_plays_the_hls_of_an_upload() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let channel = channel_id(&s, &root);
    let r = single_upload(&s, &root, channel, "Watched in Chromium", clip());
    assert_eq!(r.status(), 200);
    let uuid = r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let video = wait_for_state(&s, &uuid, 1);
    let master = video["streamingPlaylists"][0]["playlistUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/out");
    std::fs::create_dir_all(&out).unwrap();
    let report = play(&master, &out.join("chromium-hls-playback.png"));
    assert_eq!(report["ok"], true);
    assert!(report["currentTime"].as_f64().unwrap() >= 2.0, "{report:#}");
    assert_eq!(report["levels"].as_array().unwrap().len(), 1);
    assert_eq!(report["videoWidth"], 1280);
    assert_eq!(report["videoHeight"], 720);
    assert_eq!(report["videoError"], Value::Null, "{report:#}");

    // An MKV with B-frames, remuxed from Matroska (negative composition offsets in the fragments).
    let work = tempdir();
    let mkv = work.path().join("b-frames.mkv");
    let made = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=30:duration=8",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=300:duration=8"])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-bf", "3", "-c:a", "aac",
        ])
        .arg(&mkv)
        .status()
        .unwrap();
    assert!(made.success());
    let r = single_upload(&s, &root, channel, "Matroska", std::fs::read(&mkv).unwrap());
    assert_eq!(r.status(), 200);
    let uuid = r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let video = wait_for_state(&s, &uuid, 1);
    let master = video["streamingPlaylists"][0]["playlistUrl"]
        .as_str()
        .unwrap();
    let report = play(master, &out.join("chromium-mkv-playback.png"));
    assert_eq!(
        (
            report["videoWidth"].as_u64(),
            report["videoHeight"].as_u64()
        ),
        (Some(640), Some(360))
    );
    assert!(
        video["thumbnailPath"].is_string(),
        "a thumbnail from the MKV's frames"
    );
}
