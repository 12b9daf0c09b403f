//! The ladder from inputs other than H.264. A VP9 + Opus WebM (the usual WebM) plays only once
//! transcoded: it is decoded by rusty_vp9, gets its thumbnail, and is published by its first
//! (smallest) AV1 rung while the next rung is still encoding; every rung is judged by
//! ffprobe/ffmpeg against the upload and played by headless Chromium with its Opus audio, and
//! the transcoding API refuses what would leave it with nothing to play. A 10-bit VP9 of odd
//! size comes out 8-bit with even sizes. A VP9 upload killed before it plays, and stopped after,
//! ends with both rungs and nothing half made. An AV1 upload (decoded by rav1d in a child
//! process) plays as uploaded at once, then gets its rungs and an H.264 rendition; a 10-bit AV1
//! of odd size comes out 8-bit with even sizes.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{Ffmpeg, assert_error, tempdir};
use crate::ladder::{
    Original, assert_no_scratch, av1_heights, check_eight_bit_even_rung, check_storyboard,
    chromium_plays_every_level, damaged, damaged_rung_keeps_every_frame, download, hls_files,
    judge_rendition, ladder_of, master_of, nothing_half_made, request_transcoding, start,
    upload_named, video_json, wait_for_rungs, wait_until_encoding,
};
use crate::uploads::wait_up_to;

/// 4 s of ffmpeg's `testsrc2` at `size`, 25 fps, encoded by libvpx-vp9 (`pix_fmt` picks
/// the profile: 8-bit `yuv420p` is profile 0, `yuv420p10le` profile 2), with a 440 Hz Opus tone
/// when `audio`, in WebM.
fn vp9_webm(dir: &Path, name: &str, size: &str, pix_fmt: &str, audio: bool) -> std::path::PathBuf {
    vp9_webm_of(dir, name, size, pix_fmt, audio, 4)
}

/// `vp9_webm`, `seconds` long.
fn vp9_webm_of(
    dir: &Path,
    name: &str,
    size: &str,
    pix_fmt: &str,
    audio: bool,
    seconds: u32,
) -> std::path::PathBuf {
    let out = dir.join(name);
    let mut ffmpeg = Ffmpeg::new().lavfi(&format!("testsrc2=s={size}:r=25:d={seconds}"));
    if audio {
        ffmpeg = ffmpeg
            .lavfi(&format!("sine=frequency=440:duration={seconds}"))
            .args(["-c:a", "libopus", "-b:a", "64k"]);
    }
    ffmpeg
        .args(["-c:v", "libvpx-vp9", "-pix_fmt", pix_fmt])
        .args(["-deadline", "realtime", "-cpu-used", "8", "-b:v", "800k"])
        // Hidden alt-ref pictures in superframes, as libvpx's good-quality mode makes them.
        .args(["-auto-alt-ref", "1", "-lag-in-frames", "16", "-g", "50"])
        .make(out)
}

/// 4 s of `testsrc2` at `size`, 25 fps, encoded as AV1 by ffmpeg's `encoder` (libsvtav1 or
/// libaom-av1, at their fastest) in `pix_fmt`, keyframes every 2 s, with a 440 Hz AAC tone when
/// `aac`; the container follows `name`'s extension.
fn av1_clip(
    dir: &Path,
    name: &str,
    size: &str,
    pix_fmt: &str,
    encoder: &str,
    aac: bool,
) -> PathBuf {
    av1_clip_of(dir, name, (size, pix_fmt), encoder, aac, (4, 50))
}

/// `av1_clip`, `seconds` long with a keyframe every `gop` pictures.
fn av1_clip_of(
    dir: &Path,
    name: &str,
    (size, pix_fmt): (&str, &str),
    encoder: &str,
    aac: bool,
    (seconds, gop): (u32, u32),
) -> PathBuf {
    let out = dir.join(name);
    let mut ffmpeg = Ffmpeg::new().lavfi(&format!("testsrc2=s={size}:r=25:d={seconds}"));
    if aac {
        ffmpeg = ffmpeg
            .lavfi(&format!("sine=frequency=440:duration={seconds}"))
            .args(["-c:a", "aac", "-b:a", "96k"]);
    }
    let gop = gop.to_string();
    ffmpeg = ffmpeg.args(["-c:v", encoder, "-pix_fmt", pix_fmt, "-g", &gop]);
    ffmpeg = match encoder {
        "libsvtav1" => ffmpeg.args(["-preset", "12", "-crf", "35"]),
        _ => ffmpeg.args(["-cpu-used", "8", "-row-mt", "1", "-crf", "35", "-b:v", "0"]),
    };
    ffmpeg.make(out)
}

#[test]
fn an_av1_upload_plays_as_uploaded_then_gets_its_rungs_and_an_h264_rendition() {
    let dir = tempdir();
    let work = tempdir();
    let mp4 = av1_clip(
        work.path(),
        "av1.mp4",
        "640x360",
        "yuv420p",
        "libsvtav1",
        true,
    );
    let s = start(dir.path(), "[240]");
    let root = s.root_token();
    let uuid = upload_named(&s, &root, "AV1 upload", std::fs::read(&mp4).unwrap());
    wait_for_rungs(&s, &uuid, &[240]);
    let video = wait_up_to(&s, &uuid, 120, "the ladder ended", |v| {
        v["progress"].is_null()
    });
    assert_eq!(video["state"]["id"], 1, "{video}");
    // The remux as uploaded (360p AV1), the 240p AV1 rung, and the H.264 rendition at the
    // largest rung for players without AV1.
    let mut names: Vec<String> = hls_files(&video)
        .iter()
        .map(|f| {
            let url = f["fileUrl"].as_str().unwrap();
            url.rsplit('/').next().unwrap().to_owned()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("{uuid}-240-av1-fragmented.mp4"),
            format!("{uuid}-240-h264-fragmented.mp4"),
            format!("{uuid}-360-fragmented.mp4"),
        ]
    );
    // The thumbnail and the storyboard come from pictures rav1d decoded.
    let thumbnail = s
        .get(video["thumbnailPath"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(thumbnail.status(), 200);
    assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
    check_storyboard(&s, &uuid, &mp4);
    let original = Original {
        path: &mp4,
        frames: 100,
        audio: Some("aac"),
    };
    judge_every_rung(&s, &video, &original, work.path());
    let (master_url, _) = master_of(&s, &video);
    let mut levels: Vec<(String, u64)> = chromium_plays_every_level(&master_url, "av1-upload")
        .into_iter()
        .map(|(codec, height)| (codec[..4].to_owned(), height))
        .collect();
    levels.sort();
    assert_eq!(
        levels,
        [
            ("av01".to_owned(), 240),
            ("av01".to_owned(), 360),
            ("avc1".to_owned(), 240)
        ]
    );
}

#[test]
fn a_10_bit_av1_of_odd_size_becomes_8_bit_av1_with_even_sizes() {
    let dir = tempdir();
    let work = tempdir();
    let webm = av1_clip(
        work.path(),
        "av1-10bit.webm",
        "427x241",
        "yuv420p10le",
        "libaom-av1",
        false,
    );
    let probe = crate::remux::ffprobe(
        &[
            "-show_entries",
            "stream=codec_name,pix_fmt",
            "-of",
            "csv=p=0",
        ],
        &webm,
    );
    assert_eq!(probe.trim(), "av1,yuv420p10le", "the input is 10-bit AV1");
    let s = start(dir.path(), "[240]");
    let root = s.root_token();
    let uuid = upload_named(&s, &root, "10-bit AV1", std::fs::read(&webm).unwrap());
    let video = wait_for_rungs(&s, &uuid, &[240]);
    check_eight_bit_even_rung(&s, &video, &webm, work.path());
}

/// The AV1 decoder children the server has running.
fn decoder_children(s: &crate::common::Server) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().nth(1));
            let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            ppid == Some(&s.pid().to_string()) && cmdline.ends_with(b"decode-av1\0")
        })
        .count()
}

#[test]
fn damaged_av1_is_concealed_and_ruined_av1_ends_the_ladder_with_nothing_half_made() {
    let dir = tempdir();
    let work = tempdir();
    let s = start(dir.path(), "[240]");
    let root = s.root_token();

    // Garbage over a few samples: rav1d refuses them, the pictures up to the next keyframe
    // repeat the last good one, and the rung keeps every frame and decodes cleanly.
    let clip = av1_clip_of(
        work.path(),
        "gop12.mp4",
        ("640x360", "yuv420p"),
        "libsvtav1",
        true,
        (8, 12),
    );
    let input = damaged(std::fs::read(&clip).unwrap(), 0.6, 0.602);
    damaged_rung_keeps_every_frame(&s, &root, "Damaged AV1", input, work.path());

    // One keyframe and garbage over most of the file: the ladder ends with the reason (logged),
    // is not retried, and the video still plays from its remux.
    let clip = av1_clip_of(
        work.path(),
        "one-keyframe.mp4",
        ("640x360", "yuv420p"),
        "libsvtav1",
        false,
        (8, 250),
    );
    let input = damaged(std::fs::read(&clip).unwrap(), 0.3, 0.7);
    let (uuid, video) = ladder_of(&s, &root, "Ruined AV1", input);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let again = video_json(&s, &uuid);
    assert!(again["progress"].is_null(), "not retried: {again}");
    assert_eq!(again["state"]["id"], 1, "still playing from its remux");
    assert!(av1_heights(&video).is_empty(), "{video}");
    nothing_half_made(&s, dir.path(), &uuid, &video);
    assert_eq!(
        decoder_children(&s),
        0,
        "no decoder process outlives its job"
    );
    assert!(s.stop(), "the server survived and stops cleanly");
}

/// Seconds since the epoch of an RFC 3339 date.
fn epoch(date: &Value) -> f64 {
    let t = time::OffsetDateTime::parse(
        date.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    t.unix_timestamp_nanos() as f64 / 1e9
}

/// Seconds since the epoch of a file's last change.
fn mtime(path: &Path) -> f64 {
    let m = std::fs::metadata(path).unwrap().modified().unwrap();
    m.duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn a_vp9_opus_webm_is_published_by_its_first_av1_rung_and_chromium_plays_every_rung() {
    let dir = tempdir();
    let work = tempdir();
    let webm = vp9_webm(work.path(), "vp9.webm", "640x360", "yuv420p", true);
    let s = start(dir.path(), "[240, 360]");
    let root = s.root_token();
    let uuid = upload_named(&s, &root, "VP9 upload", std::fs::read(&webm).unwrap());
    let first = wait_up_to(&s, &uuid, 120, "published", |v| v["state"]["id"] == 1);
    assert!(
        first["thumbnailPath"].is_string(),
        "the thumbnail comes from a VP9 picture: {first}"
    );
    wait_for_rungs(&s, &uuid, &[240, 360]);
    let video = wait_up_to(&s, &uuid, 60, "the ladder ended", |v| {
        v["progress"].is_null()
    });
    assert_eq!(av1_heights(&video), [240, 360]);
    // Beside the AV1 rungs, one H.264 rendition (at the largest rung up to 720p) for players
    // without AV1.
    let urls: Vec<String> = hls_files(&video)
        .iter()
        .map(|f| f["fileUrl"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len(), 3, "{urls:?}");
    assert!(
        urls.iter().any(|u| u.ends_with("-360-h264-fragmented.mp4")),
        "{urls:?}"
    );
    // No remux of the WebM, but every rung's progressive MP4, H.264 included: the download
    // that plays everywhere.
    let mut web: Vec<String> = video["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["fileUrl"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    web.sort();
    assert_eq!(
        web,
        [
            format!("{uuid}-240-av1.mp4"),
            format!("{uuid}-360-av1.mp4"),
            format!("{uuid}-360-h264.mp4")
        ]
    );
    let h264_web = video["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fileUrl"].as_str().unwrap().ends_with("-h264.mp4"))
        .unwrap()["fileUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/out");
    std::fs::create_dir_all(&out).unwrap();
    let report =
        crate::browser::play_progressive(&h264_web, &out.join("chromium-web-vp9-h264.png"));
    assert_eq!(report["ok"], true, "{report:#}");

    // The 240p rung published the video; the 360p one came from a second pass, later.
    let hls = dir.path().join("media").join(&uuid).join("hls");
    let published = epoch(&video["publishedAt"]);
    let second = mtime(&hls.join(format!("{uuid}-360-av1-fragmented.mp4")));
    let first_rung = mtime(&hls.join(format!("{uuid}-240-av1-fragmented.mp4")));
    assert!(
        first_rung <= published + 0.5 && second > published + 0.3,
        "240p at {first_rung}, published at {published}, 360p at {second}"
    );

    let thumbnail = s
        .get(video["thumbnailPath"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(thumbnail.status(), 200);
    assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");

    let original = Original {
        path: &webm,
        frames: 100,
        audio: Some("opus"),
    };
    judge_every_rung(&s, &video, &original, work.path());

    check_storyboard(&s, &uuid, &webm);

    let (master_url, master) = master_of(&s, &video);
    assert!(
        master.contains("CODECS=\"av01.0.") && master.contains(",opus\""),
        "{master}"
    );
    // AV1 first, then the H.264 rendition.
    let av1_at = master.find("av01.").unwrap();
    let h264_at = master.find("CODECS=\"avc1.").expect("an H.264 variant");
    assert!(av1_at < h264_at, "{master}");
    let mut levels: Vec<(String, u64)> = chromium_plays_every_level(&master_url, "vp9")
        .into_iter()
        .map(|(codec, height)| (codec[..4].to_owned(), height))
        .collect();
    levels.sort();
    assert_eq!(
        levels,
        [
            ("av01".to_owned(), 240),
            ("av01".to_owned(), 360),
            ("avc1".to_owned(), 360)
        ]
    );

    // Nothing can take away all this video plays from.
    let r = request_transcoding(
        &s,
        &root,
        &uuid,
        json!({"transcodingType": "hls", "forceTranscoding": true}),
    );
    let problem = assert_error(r, 400, "invalid_params");
    assert_eq!(
        problem["detail"], "Incorrect request parameters: forceTranscoding",
        "{problem}"
    );
    // Asking for either kind without force adds nothing: every rung has both files.
    for kind in ["hls", "web-video"] {
        let r = request_transcoding(&s, &root, &uuid, json!({"transcodingType": kind}));
        assert_eq!(r.status(), 204);
        let after = wait_up_to(&s, &uuid, 60, "nothing to do", |v| v["progress"].is_null());
        assert_eq!(av1_heights(&after), [240, 360]);
        assert_eq!(after["files"].as_array().unwrap().len(), 3, "{after}");
    }
}

#[test]
fn a_10_bit_vp9_of_odd_size_becomes_8_bit_av1_with_even_sizes() {
    let dir = tempdir();
    let work = tempdir();
    let webm = vp9_webm(
        work.path(),
        "vp9-10bit.webm",
        "427x241",
        "yuv420p10le",
        false,
    );
    let probe = crate::remux::ffprobe(
        &["-show_entries", "stream=profile,pix_fmt", "-of", "csv=p=0"],
        &webm,
    );
    assert_eq!(probe.trim(), "Profile 2,yuv420p10le", "the input is 10-bit");
    let s = start(dir.path(), "[240]");
    let root = s.root_token();
    let uuid = upload_named(&s, &root, "10-bit VP9", std::fs::read(&webm).unwrap());
    let video = wait_for_rungs(&s, &uuid, &[240]);
    assert_eq!(video["state"]["id"], 1, "{video}");
    check_eight_bit_even_rung(&s, &video, &webm, work.path());
}

#[test]
fn a_vp9_upload_survives_kill_9_before_it_plays_and_a_stop_after() {
    let dir = tempdir();
    let work = tempdir();
    let webm = vp9_webm_of(work.path(), "long.webm", "640x360", "yuv420p", true, 12);
    let s = start(dir.path(), "[240, 360]");
    let root = s.root_token();
    let uuid = upload_named(&s, &root, "VP9 resumed", std::fs::read(&webm).unwrap());
    // Killed while its first rung encodes: nothing plays yet, nothing is marked failed.
    let encoding = wait_until_encoding(&s, &uuid);
    assert_eq!(encoding["state"]["id"], 2, "not yet published: {encoding}");
    s.kill9();

    let s = start(dir.path(), "[240, 360]");
    let published = wait_up_to(&s, &uuid, 120, "published after the restart", |v| {
        v["state"]["id"] == 1
    });
    assert!(av1_heights(&published).contains(&240), "{published}");
    // Stopped while the other rung encodes (or after it ended): the next start finishes it.
    assert!(s.stop(), "stopped cleanly");

    let s = start(dir.path(), "[240, 360]");
    wait_for_rungs(&s, &uuid, &[240, 360]);
    let video = wait_up_to(&s, &uuid, 60, "the job ended", |v| v["progress"].is_null());
    assert_eq!(video["state"]["id"], 1, "{video}");
    assert_no_scratch(dir.path(), &uuid);
    let original = Original {
        path: &webm,
        frames: 300,
        audio: Some("opus"),
    };
    judge_every_rung(&s, &video, &original, work.path());
}

/// Download every HLS file of `video` into `work` and judge it against `original`.
fn judge_every_rung(s: &crate::common::Server, video: &Value, original: &Original, work: &Path) {
    for f in hls_files(video) {
        let (height, width) = (f["height"].as_u64().unwrap(), f["width"].as_u64().unwrap());
        let url = f["fileUrl"].as_str().unwrap();
        // The AV1 rungs, and the H.264 rendition for players without AV1.
        let codec = if url.contains("-h264-") {
            "h264"
        } else {
            "av1"
        };
        let local = work.join(format!("{height}-{codec}.mp4"));
        download(s, url, &local);
        judge_rendition(&local, codec, original, width, height, 30.0);
    }
}
