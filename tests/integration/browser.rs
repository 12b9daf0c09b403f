//! A real browser plays what Vireo serves: headless Debian Chromium loads the HLS of an upload
//! through MSE with hls.js (`tests/browser/play.mjs`, installed by `tests/run.sh`), cross-origin
//! from another local port, and `currentTime` must advance with no media error. A screenshot of
//! the playing video is saved under `tests/out/`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::{Ffmpeg, Server, tempdir};
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

fn assert_installed(dir: &std::path::Path) {
    assert!(
        dir.join("node_modules/playwright-core").exists()
            && PathBuf::from("/usr/bin/chromium").exists(),
        "Chromium and playwright-core are not installed: run `bash tests/run.sh`"
    );
}

/// Open a watch page in Chromium and play the video in Vireo's own player
/// (`tests/browser/watch.mjs`); its JSON report, which says where the media came from.
pub(crate) fn watch(page_url: &str, screenshot: &std::path::Path) -> Value {
    let args: Vec<String> = [page_url, "--min-play", "1.0", "--timeout-ms", "30000"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    run_script("watch.mjs", &args, screenshot)
}

fn run_checker(url: &str, extra: &[String], screenshot: &std::path::Path) -> Value {
    let mut args: Vec<String> = [url, "--min-time", "2.0", "--timeout-ms", "30000"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    args.extend_from_slice(extra);
    run_script("play.mjs", &args, screenshot)
}

/// Run one of the browser scripts with `args` and `--screenshot`; its JSON report (the test
/// fails, showing it, when the script says playback failed).
fn run_script(script: &str, args: &[String], screenshot: &std::path::Path) -> Value {
    let dir = browser_dir();
    assert_installed(&dir);
    let out = Command::new("node")
        .current_dir(&dir)
        .arg(script)
        .args(args)
        .arg("--screenshot")
        .arg(screenshot)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no report ({e}): {}{}",
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
    Ffmpeg::new()
        .lavfi("testsrc2=size=640x360:rate=30:duration=8")
        .lavfi("sine=frequency=300:duration=8")
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-bf", "3", "-c:a", "aac",
        ])
        .make(&mkv);
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

/// The web UI end to end in Chromium (`tests/browser/ui.mjs`): log in through the form, upload
/// a real clip (the bunny fixture looped three times by ffmpeg, 16 s with its sound) through the
/// upload page until its bar says 100 % and processing has made every quality, play it in
/// Vireo's own player at each quality the menu offers (AV1 rungs and the H.264 upload), search
/// for it, cut an upload of a longer file off with a reload and finish it by choosing the file
/// again, log out; no console error and no CSP violation on any page. Screenshots of the main
/// pages at desktop and phone widths go to `tests/out/ui/`.
#[test]
fn the_web_ui_logs_in_uploads_plays_every_quality_searches_and_logs_out() {
    let work = tempdir();
    let looped = work.path().join("bunny-looped.mp4");
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(crate::uploads::CLIP);
    Ffmpeg::new()
        .args(["-stream_loop", "2"])
        .input(&fixture)
        .args(["-c", "copy"])
        .make(&looped);
    // Over two of the upload page's 8 MiB chunks, for the reload in the middle.
    let big = work.path().join("bunny-long.mp4");
    Ffmpeg::new()
        .args(["-stream_loop", "19"])
        .input(&fixture)
        .args(["-c", "copy"])
        .make(&big);
    assert!(std::fs::metadata(&big).unwrap().len() > 16 << 20);
    let dir = tempdir();
    let s = crate::common::Server::start_with(
        dir.path(),
        &[
            ("VIREO_TRANSCODING__ENABLED", "true"),
            ("VIREO_TRANSCODING__RESOLUTIONS", "[240, 360]"),
        ],
    );
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/out/ui");
    let run = Command::new("node")
        .current_dir(browser_dir())
        .args(["ui.mjs", &s.url, "--user", "root", "--password"])
        .arg(crate::common::ROOT_PASSWORD)
        .arg("--file")
        .arg(&looped)
        .args([
            "--title",
            "Bunny in the meadow",
            "--search",
            "meadow",
            "--out",
        ])
        .arg(&out)
        .arg("--big-file")
        .arg(&big)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "ui.mjs printed no report ({e}): {}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    assert!(run.status.success(), "the web UI check failed: {report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["likeAfterReload"], "1", "{report:#}");
    assert_eq!(report["ratingAfterUnlike"], "none", "{report:#}");
    let played = report["played"].as_array().unwrap();
    assert!(played.len() >= 2, "{report:#}");
    let codecs: Vec<&str> = played.iter().filter_map(|p| p["codec"].as_str()).collect();
    assert!(
        codecs.contains(&"AV1") && codecs.contains(&"H.264"),
        "{codecs:?}"
    );
    for p in played {
        assert!(
            p["to"].as_f64().unwrap() >= p["from"].as_f64().unwrap() + 1.0,
            "{p}"
        );
    }
    assert!(report["uploadText"].as_str().unwrap().starts_with("100 %"));
    assert!(
        report["resumeText"]
            .as_str()
            .unwrap()
            .contains("stopped at"),
        "{report:#}"
    );
    assert_eq!(report["cspViolations"].as_array().unwrap().len(), 0);
    for shot in report["screenshots"].as_array().unwrap() {
        let png = std::fs::read(shot.as_str().unwrap()).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{shot}");
    }
    assert!(s.stop());
}
