//! The AV1 ladder in the real server: an H.264 upload is published from its remuxed copy, then
//! its AV1 rungs join the same master playlist, each judged by Debian's ffprobe/ffmpeg (codec,
//! size, every frame, A/V offset, PSNR against the source scaled by ffmpeg, aligned segments)
//! and played by headless Chromium, with a storyboard from the same decode; the job resumes after a graceful stop and after `kill -9`
//! without leaving scratch files; damaged pictures are concealed, and a ruined stream ends the
//! ladder with its reason and nothing half made; and an administrator re-runs, widens, forces and removes
//! renditions through PeerTube's transcoding API without finished rungs being encoded again.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{Ffmpeg, Server, assert_error, tempdir};
use crate::encode::{decode_errors, scaled_psnr};
use crate::remux::{av_offset, ffprobe};
use crate::uploads::{channel_id, clip, files_in, single_upload, wait_up_to};

const SOURCE: &str = "../shared/fixtures/media/bigbuckbunny.mp4";
/// Frames of the fixture (ffprobe's `nb_frames`).
const SOURCE_FRAMES: &str = "132";

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SOURCE)
}

fn ladder_env(resolutions: &str) -> [(&'static str, String); 2] {
    [
        ("VIREO_TRANSCODING__ENABLED", "true".to_owned()),
        ("VIREO_TRANSCODING__RESOLUTIONS", resolutions.to_owned()),
    ]
}

pub(crate) fn start(dir: &Path, resolutions: &str) -> Server {
    let env = ladder_env(resolutions);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_with(dir, &env)
}

fn upload(s: &Server, token: &str) -> String {
    upload_named(s, token, "Bunny ladder", clip())
}

/// Upload `bytes` as `name` into the user's channel; the new video's uuid.
pub(crate) fn upload_named(s: &Server, token: &str, name: &str, bytes: Vec<u8>) -> String {
    let r = single_upload(s, token, channel_id(s, token), name, bytes);
    assert_eq!(r.status(), 200);
    r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The video's JSON as an anonymous visitor sees it.
pub(crate) fn video_json(s: &Server, uuid: &str) -> Value {
    s.get(&format!("/api/v1/videos/{uuid}"))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// The HLS files of a video's JSON, as (height, codecs-in-name?, fileUrl).
pub(crate) fn hls_files(video: &Value) -> Vec<Value> {
    video["streamingPlaylists"][0]["files"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub(crate) fn av1_heights(video: &Value) -> Vec<u64> {
    let mut h: Vec<u64> = hls_files(video)
        .iter()
        .filter(|f| f["fileUrl"].as_str().unwrap_or("").contains("-av1-"))
        .filter_map(|f| f["height"].as_u64())
        .collect();
    h.sort_unstable();
    h
}

/// Wait until the video's AV1 rungs are exactly `heights`.
pub(crate) fn wait_for_rungs(s: &Server, uuid: &str, heights: &[u64]) -> Value {
    wait_up_to(s, uuid, 300, &format!("AV1 rungs {heights:?}"), |v| {
        av1_heights(v) == heights
    })
}

/// Wait until the ladder job reports progress in frames per second: it is encoding.
pub(crate) fn wait_until_encoding(s: &Server, uuid: &str) -> Value {
    wait_up_to(s, uuid, 120, "the ladder encoding", |v| {
        v["progress"]["fps"].as_f64().is_some_and(|f| f > 0.0)
    })
}

pub(crate) fn download(s: &Server, url: &str, to: &Path) {
    let r = s.get(url.strip_prefix(&s.url).unwrap()).send().unwrap();
    assert_eq!(r.status(), 200, "{url}");
    std::fs::write(to, r.bytes().unwrap()).unwrap();
}

/// What a rung is judged against: the upload, its picture count, and its audio codec as ffprobe
/// names it.
pub(crate) struct Original<'a> {
    pub path: &'a Path,
    pub frames: u64,
    pub audio: Option<&'a str>,
}

/// The fixture the H.264 ladder tests upload.
fn bunny(path: &Path) -> Original<'_> {
    Original {
        path,
        frames: SOURCE_FRAMES.parse().unwrap(),
        audio: Some("aac"),
    }
}

/// Judge one AV1 rendition file against the fixture.
fn judge(file: &Path, width: u64, height: u64, psnr_floor: f64) {
    judge_against(file, &bunny(&source()), width, height, psnr_floor)
}

/// Judge one AV1 rendition file against its upload (`judge_rendition`).
pub(crate) fn judge_against(
    file: &Path,
    original: &Original,
    width: u64,
    height: u64,
    psnr_floor: f64,
) {
    judge_rendition(file, "av1", original, width, height, psnr_floor)
}

/// Judge one transcoded rendition file against its upload: `codec` (as ffprobe names it) at the
/// rung's size with every picture, the upload's audio carried as it is and in sync, no decode
/// error, and a PSNR floor against the upload scaled by ffmpeg.
pub(crate) fn judge_rendition(
    file: &Path,
    codec: &str,
    original: &Original,
    width: u64,
    height: u64,
    psnr_floor: f64,
) {
    let video = ffprobe(
        &[
            "-count_frames",
            "-select_streams",
            "v",
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames",
            "-of",
            "csv=p=0",
        ],
        file,
    );
    assert_eq!(
        video.trim(),
        format!("{codec},{width},{height},{}", original.frames),
        "codec, size and every frame"
    );
    let audio = ffprobe(
        &[
            "-select_streams",
            "a",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
        ],
        file,
    );
    assert_eq!(
        audio.trim(),
        original.audio.unwrap_or(""),
        "the source's audio carried as it is"
    );
    if original.audio.is_some() {
        let drift = (av_offset(file) - av_offset(original.path)).abs();
        assert!(
            drift <= 0.040,
            "A/V offset differs from the source's by {drift} s"
        );
    }
    let errors = decode_errors(file);
    assert!(errors.is_empty(), "{errors}");
    let db = scaled_psnr(file, original.path, width as usize, height as usize);
    assert!(db > psnr_floor, "PSNR {db} dB at {height}p");
    println!("{height}p {codec} rung: PSNR {db:.1} dB");
}

/// The text at one of the server's absolute URLs.
fn text_at(s: &Server, url: &str) -> String {
    s.get(url.strip_prefix(&s.url).unwrap())
        .send()
        .unwrap()
        .text()
        .unwrap()
}

/// Segment durations of a media playlist.
pub(crate) fn segments(s: &Server, url: &str) -> Vec<f64> {
    text_at(s, url)
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .filter_map(|l| l.trim_end_matches(',').split(',').next()?.parse().ok())
        .collect()
}

/// `POST /videos/{uuid}/transcoding` with `body`, as `token`.
pub(crate) fn request_transcoding(
    s: &Server,
    token: &str,
    uuid: &str,
    body: Value,
) -> reqwest::blocking::Response {
    s.post(&format!("/api/v1/videos/{uuid}/transcoding"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap()
}

/// `DELETE /videos/{uuid}/{kind}` (`hls` or `web-videos`), as `token`.
fn remove_files(s: &Server, token: &str, uuid: &str, kind: &str) -> reqwest::blocking::Response {
    s.delete(&format!("/api/v1/videos/{uuid}/{kind}"))
        .bearer_auth(token)
        .send()
        .unwrap()
}

/// Inode and modification time: an encoded-again file would differ.
fn identity(path: &Path) -> (u64, i64, i64) {
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.mtime(), m.mtime_nsec())
}

/// The storyboard the ladder made from its decode: PeerTube's layout, and each sprite the
/// source's picture at its time (against ffmpeg's pick of the first frame at or after each
/// second, scaled alike).
pub(crate) fn check_storyboard(s: &Server, uuid: &str, original: &Path) {
    let list = s.get_json(&format!("/api/v1/videos/{uuid}/storyboards"));
    let boards = list["storyboards"].as_array().unwrap();
    assert_eq!(boards.len(), 1, "{list}");
    let b = &boards[0];
    assert_eq!(
        (&b["spriteWidth"], &b["spriteHeight"], &b["spriteDuration"]),
        (&json!(192), &json!(108), &json!(1)),
        "{list}"
    );
    let sprites = b["totalWidth"].as_u64().unwrap() / 192;
    assert_eq!(b["totalHeight"], 108, "one row");
    let r = s.get(b["storyboardPath"].as_str().unwrap()).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let board = image::load_from_memory(&r.bytes().unwrap())
        .unwrap()
        .to_rgb8();
    // Back to luma with the matrix the sprites were made with: BT.709 from 720 lines, else
    // BT.601 (`thumbnail::to_rgb`), full range as ffmpeg's gray is.
    let hd = ffprobe(
        &[
            "-select_streams",
            "v",
            "-show_entries",
            "stream=height",
            "-of",
            "csv=p=0",
        ],
        original,
    )
    .trim()
    .parse::<u32>()
    .unwrap()
        >= 720;
    let (kr, kb) = if hd { (0.2126, 0.0722) } else { (0.299, 0.114) };
    let luma = |x: u32, y: u32| {
        let [r, g, b] = board.get_pixel(x, y).0.map(f64::from);
        let full = kr * r + (1.0 - kr - kb) * g + kb * b;
        full.round() as u8
    };
    let out = Ffmpeg::new()
        .input(original)
        .args([
            "-vf",
            "select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,1)',scale=192:108:flags=lanczos",
            "-fps_mode",
            "passthrough",
            "-pix_fmt",
            "gray",
            "-f",
            "rawvideo",
            "-",
        ])
        .run();
    let reference: Vec<&[u8]> = out.stdout.chunks_exact(192 * 108).collect();
    assert!(
        reference.len() as u64 >= sprites,
        "{} frames",
        reference.len()
    );
    for (cell, frame) in reference.iter().take(sprites as usize).enumerate() {
        let mut diff = 0u64;
        for (i, want) in frame.iter().enumerate() {
            let (x, y) = ((i % 192) as u32, (i / 192) as u32);
            let got = luma(cell as u32 * 192 + x, y);
            diff += u64::from(got.abs_diff(*want));
        }
        let mean = diff as f64 / (192.0 * 108.0);
        assert!(mean < 8.0, "sprite {cell} differs by {mean:.1} on average");
    }
}

#[test]
fn h264_upload_gets_av1_rungs_beside_its_remux_that_chromium_plays() {
    let dir = tempdir();
    let s = start(dir.path(), "[240, 360]");
    let config = s.get_json("/api/v1/config");
    assert_eq!(
        config["transcoding"]["enabledResolutions"],
        json!([240, 360])
    );
    let root = s.root_token();
    let uuid = upload(&s, &root);
    // Published from the remux first, then the ladder runs and reports its frame rate.
    wait_up_to(&s, &uuid, 30, "published", |v| v["state"]["id"] == 1);
    wait_until_encoding(&s, &uuid);
    // The last rung is listed as soon as it is committed; the job ends (and its progress goes)
    // a moment later, once the storyboard and the playlist are written.
    let video = wait_up_to(&s, &uuid, 300, "AV1 rungs and no progress", |v| {
        av1_heights(v) == [240, 360] && v["progress"].is_null()
    });

    check_storyboard(&s, &uuid, &source());

    let (master_url, master) = master_of(&s, &video);
    let variants: Vec<&str> = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF"))
        .collect();
    assert_eq!(variants.len(), 3, "{master}");
    assert!(
        variants[0].contains("CODECS=\"av01.0.")
            && variants[0].contains(",mp4a.40.2\"")
            && variants[0].contains("RESOLUTION=426x240"),
        "AV1 first, smallest first: {master}"
    );
    assert!(variants[1].contains("RESOLUTION=640x360"), "{master}");
    assert!(
        variants[2].contains("avc1.") && variants[2].contains("RESOLUTION=1280x720"),
        "the remuxed upload last, for players without AV1: {master}"
    );

    let work = tempdir();
    let files = hls_files(&video);
    let rung = |h: u64| {
        files
            .iter()
            .find(|f| f["height"] == h && f["fileUrl"].as_str().unwrap().contains("-av1-"))
            .unwrap()
            .clone()
    };
    let mut grids = Vec::new();
    for (height, width, floor) in [(240, 426, 30.0), (360, 640, 32.0)] {
        let f = rung(height);
        let local = work.path().join(format!("{height}.mp4"));
        download(&s, f["fileUrl"].as_str().unwrap(), &local);
        judge(&local, width, height, floor);
        assert_eq!(
            get_absolute(&s, &f["torrentUrl"]).status(),
            200,
            "each rung has its torrent"
        );
        grids.push(segments(&s, f["playlistUrl"].as_str().unwrap()));
    }
    assert_eq!(grids[0], grids[1], "segments align across rungs");

    // Chromium plays each AV1 rung (hls.js levels are sorted by bitrate: 240p, 360p, then
    // the H.264 copy).
    chromium_plays_av1_levels(&master_url, &[(0, 240), (1, 360)], "av1");

    check_progressive_rungs(
        &s,
        &video,
        work.path(),
        &[(360, 640, 32.0), (240, 426, 30.0)],
    );
}

/// PeerTube's web video of each transcoded `(height, width, PSNR floor)` rung beside the
/// remux's: a fast-start MP4 holding the same AV1 samples as the rung's HLS file, judged like
/// it, downloadable under the video's name, and played by Chromium as a plain `<video src>`.
fn check_progressive_rungs(s: &Server, video: &Value, work: &Path, rungs: &[(u64, u64, f64)]) {
    let files = video["files"].as_array().unwrap();
    let names: Vec<&str> = files
        .iter()
        .map(|f| f["fileUrl"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    let uuid = video["uuid"].as_str().unwrap();
    let mut expected = vec![format!("{uuid}-720.mp4")];
    expected.extend(rungs.iter().map(|(h, _, _)| format!("{uuid}-{h}-av1.mp4")));
    assert_eq!(
        names, expected,
        "largest first, the remux's beside the rungs'"
    );
    let hls = hls_files(video);
    for &(height, width, floor) in rungs {
        let f = files.iter().find(|f| f["height"] == height).unwrap();
        let local = work.join(format!("{height}-web.mp4"));
        download(s, f["fileUrl"].as_str().unwrap(), &local);
        let bytes = std::fs::read(&local).unwrap();
        assert_eq!(
            crate::remux::top_level_boxes(&bytes),
            [b"ftyp", b"moov", b"mdat"],
            "fast start"
        );
        assert_eq!(f["size"], bytes.len() as u64);
        judge(&local, width, height, floor);
        let fragmented = work.join(format!("{height}.mp4"));
        assert_eq!(
            video_packets(&local),
            video_packets(&fragmented),
            "the HLS rung's very samples"
        );
        let hls_rung = hls
            .iter()
            .find(|h| h["height"] == height && h["fileUrl"].as_str().unwrap().contains("-av1-"))
            .unwrap();
        assert_ne!(
            f["torrentUrl"], hls_rung["torrentUrl"],
            "a torrent of its own"
        );
        assert_eq!(get_absolute(s, &f["torrentUrl"]).status(), 200);
        let r = get_absolute(s, &f["fileDownloadUrl"]);
        assert_eq!(r.status(), 200);
        let disposition = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with("attachment")
                && disposition.contains(&format!("{height}-av1.mp4")),
            "{disposition}"
        );
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/out");
    std::fs::create_dir_all(&out).unwrap();
    let (height, _, _) = rungs[0];
    let f = files.iter().find(|f| f["height"] == height).unwrap();
    let report = crate::browser::play_progressive(
        f["fileUrl"].as_str().unwrap(),
        &out.join(format!("chromium-web-av1-{height}p.png")),
    );
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["videoHeight"], height, "{report:#}");
}

/// GET one of the server's absolute URLs, as the API gives them.
fn get_absolute(s: &Server, url: &Value) -> reqwest::blocking::Response {
    let url = url.as_str().unwrap();
    s.get(url.strip_prefix(&s.url).unwrap()).send().unwrap()
}

/// The video packets of a file, as ffprobe reads them: (size, flags), one per line.
fn video_packets(file: &Path) -> String {
    ffprobe(
        &[
            "-select_streams",
            "v",
            "-show_entries",
            "packet=size,flags",
            "-of",
            "csv=p=0",
        ],
        file,
    )
}

/// A video's master playlist: its URL and text.
pub(crate) fn master_of(s: &Server, video: &Value) -> (String, String) {
    let url = video["streamingPlaylists"][0]["playlistUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = text_at(s, &url);
    (url, text)
}

/// Headless Chromium plays each (hls.js level, height) of `master` as AV1; screenshots go to
/// `tests/out/chromium-<tag>-<height>p.png`.
pub(crate) fn chromium_plays_av1_levels(master: &str, levels: &[(usize, u64)], tag: &str) {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/out");
    std::fs::create_dir_all(&out).unwrap();
    for &(level, height) in levels {
        let report = crate::browser::play_level(
            master,
            Some(level),
            &out.join(format!("chromium-{tag}-{height}p.png")),
        );
        assert_eq!(report["ok"], true, "{report:#}");
        assert_eq!(report["videoHeight"], height, "{report:#}");
        let codecs = report["levels"][level]["videoCodec"].as_str().unwrap_or("");
        assert!(codecs.starts_with("av01"), "{report:#}");
    }
}

/// Headless Chromium plays every level of `master`, whatever order hls.js puts them in (it
/// sorts by bitrate); returns each level's (video codec, height) in hls.js's order.
/// Screenshots go to `tests/out/chromium-<tag>-<level>.png`.
pub(crate) fn chromium_plays_every_level(master: &str, tag: &str) -> Vec<(String, u64)> {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/out");
    std::fs::create_dir_all(&out).unwrap();
    let auto = crate::browser::play_level(master, None, &out.join(format!("chromium-{tag}.png")));
    let levels: Vec<(String, u64)> = auto["levels"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|l| {
            let codec = l["videoCodec"].as_str().unwrap_or("");
            (codec.to_owned(), l["height"].as_u64().unwrap_or(0))
        })
        .collect();
    for (level, (_, height)) in levels.iter().enumerate() {
        let shot = out.join(format!("chromium-{tag}-{level}.png"));
        let report = crate::browser::play_level(master, Some(level), &shot);
        assert_eq!(report["ok"], true, "{report:#}");
        assert_eq!(report["videoHeight"], *height, "{report:#}");
    }
    levels
}

#[test]
fn the_ladder_resumes_after_a_stop_and_after_kill_9_leaving_no_scratch() {
    let dir = tempdir();
    let s = start(dir.path(), "[240, 360]");
    let root = s.root_token();
    let uuid = upload(&s, &root);
    wait_until_encoding(&s, &uuid);
    // A graceful stop interrupts the encode between two pictures instead of waiting for it.
    let asked = std::time::Instant::now();
    assert!(s.stop(), "stopped cleanly mid-ladder");
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(5),
        "stopping waited {:?} for the encoder",
        asked.elapsed()
    );

    // Killed once the 360p rung has finished GOPs (kept from before the stop, or new).
    let s = start(dir.path(), "[240, 360]");
    let media = dir.path().join("media").join(&uuid);
    let gops = media.join("av1-360.scratch.gops");
    let finished = |path: &Path| {
        std::fs::read(path).map_or(0, |b| {
            b.iter().filter(|c| **c == b'\n').count().saturating_sub(1)
        })
    };
    wait_up_to(&s, &uuid, 300, "two finished GOPs at 360p", |_| {
        finished(&gops) >= 2
    });
    s.kill9();
    let kept = finished(&gops);

    // The next run takes the rung up where it was: its checkpoint never loses a GOP (an
    // encode from the start would begin it again, empty).
    let s = start(dir.path(), "[240, 360]");
    let mut seen = 0;
    let video = wait_up_to(&s, &uuid, 300, "AV1 rungs [240, 360]", |v| {
        if gops.exists() {
            let now = finished(&gops);
            assert!(
                now >= kept,
                "{now} GOPs in the checkpoint, {kept} before the restart"
            );
            seen += 1;
        }
        av1_heights(v) == [240, 360]
    });
    assert!(seen > 0, "the checkpoint was seen after the restart");
    assert_no_scratch(dir.path(), &uuid);
    assert!(!gops.exists(), "the checkpoint goes with its rung");
    let work = tempdir();
    let f = hls_files(&video)
        .into_iter()
        .find(|f| f["height"] == 360 && f["fileUrl"].as_str().unwrap().contains("-av1-"))
        .unwrap();
    let local = work.path().join("360.mp4");
    download(&s, f["fileUrl"].as_str().unwrap(), &local);
    judge(&local, 640, 360, 32.0);
}

#[test]
fn administrators_rerun_widen_force_and_remove_renditions() {
    let dir = tempdir();
    let s = start(dir.path(), "[240]");
    let root = s.root_token();
    let uuid = upload(&s, &root);
    wait_for_rungs(&s, &uuid, &[240]);
    let hls = dir.path().join("media").join(&uuid).join("hls");
    let web = dir.path().join("media").join(&uuid).join("web-videos");
    let rung_240 = hls.join(format!("{uuid}-240-av1-fragmented.mp4"));
    let web_240 = web.join(format!("{uuid}-240-av1.mp4"));
    let before = identity(&rung_240);
    let web_before = identity(&web_240);
    assert!(s.stop());

    // A wider ladder reaches the old video on request; the finished rung is not encoded again.
    let s = start(dir.path(), "[240, 360]");
    let root = s.root_token();
    s.create_user(&root, "plain", "plain-password-1", 2);
    let plain = crate::common::token_of(&s.login("plain", "plain-password-1"));
    assert_error(
        request_transcoding(&s, &plain, &uuid, json!({"transcodingType": "hls"})),
        403,
        "forbidden",
    );
    assert_error(
        request_transcoding(&s, &root, &uuid, json!({"transcodingType": "mp3"})),
        400,
        "invalid_params",
    );
    assert_error(
        s.post("/api/v1/videos/no-such-video/transcoding")
            .bearer_auth(&root)
            .json(&json!({"transcodingType": "hls"}))
            .send()
            .unwrap(),
        404,
        "not_found",
    );
    let r = request_transcoding(&s, &root, &uuid, json!({"transcodingType": "hls"}));
    assert_eq!(r.status(), 204);
    wait_for_rungs(&s, &uuid, &[240, 360]);
    assert_eq!(
        identity(&rung_240),
        before,
        "the 240p rung was kept as it was"
    );

    // Forced, the AV1 rungs are encoded again with today's settings.
    let r = request_transcoding(
        &s,
        &root,
        &uuid,
        json!({"transcodingType": "hls", "forceTranscoding": true}),
    );
    assert_eq!(r.status(), 204);
    wait_up_to(&s, &uuid, 300, "forced rungs", |v| {
        av1_heights(v) == [240, 360]
            && v["progress"].is_null()
            && std::fs::metadata(&rung_240).is_ok_and(|_| identity(&rung_240) != before)
    });

    // Forcing HLS leaves the progressive files as they were.
    assert_eq!(identity(&web_240), web_before);

    // Removing the HLS renditions leaves the progressive files playing (the remux's and each
    // rung's); the last kind of file cannot be removed.
    let r = remove_files(&s, &root, &uuid, "hls");
    assert_eq!(r.status(), 204);
    let video = video_json(&s, &uuid);
    assert_eq!(video["streamingPlaylists"], json!([]));
    assert_eq!(video["files"].as_array().unwrap().len(), 3, "{video}");
    assert!(files_in(&hls).is_empty(), "{:?}", files_in(&hls));
    assert_error(
        remove_files(&s, &root, &uuid, "web-videos"),
        400,
        "invalid_params",
    );
    assert_error(remove_files(&s, &root, &uuid, "hls"), 404, "not_found");

    // Asked again, the remux comes back first, then the ladder's HLS files; the rungs'
    // progressive files are there already and stay as they were.
    let r = request_transcoding(&s, &root, &uuid, json!({"transcodingType": "hls"}));
    assert_eq!(r.status(), 204);
    let video = wait_for_rungs(&s, &uuid, &[240, 360]);
    assert_eq!(hls_files(&video).len(), 3, "{video}");
    wait_up_to(&s, &uuid, 60, "the ladder done", |v| {
        v["progress"].is_null()
    });
    assert_eq!(identity(&web_240), web_before);
    let rung_before = identity(&rung_240);

    // Now the progressive files may go, and the video still plays from HLS.
    let r = remove_files(&s, &root, &uuid, "web-videos");
    assert_eq!(r.status(), 204);
    assert!(files_in(&web).is_empty());
    let video = video_json(&s, &uuid);
    assert_eq!(hls_files(&video).len(), 3, "{video}");

    // Asked for, they all come back: the remux's by remuxing, the rungs' by the ladder, which
    // leaves the HLS files as they are.
    let r = request_transcoding(&s, &root, &uuid, json!({"transcodingType": "web-video"}));
    assert_eq!(r.status(), 204);
    let video = wait_up_to(&s, &uuid, 300, "every progressive file", |v| {
        v["files"].as_array().is_some_and(|f| f.len() == 3) && v["progress"].is_null()
    });
    let names: Vec<&str> = video["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fileUrl"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            format!("{uuid}-720.mp4"),
            format!("{uuid}-360-av1.mp4"),
            format!("{uuid}-240-av1.mp4")
        ]
    );
    assert_eq!(identity(&rung_240), rung_before, "the HLS rung was kept");
}

/// `bytes` with garbage over `from..to` (fractions of the file): the container stays valid,
/// so the upload is accepted and remuxed, and the decoder meets the damage part-way.
pub(crate) fn damaged(mut bytes: Vec<u8>, from: f64, to: f64) -> Vec<u8> {
    let (a, b) = (
        (bytes.len() as f64 * from) as usize,
        (bytes.len() as f64 * to) as usize,
    );
    for (i, byte) in bytes[a..b].iter_mut().enumerate() {
        *byte = (i as u8).wrapping_mul(151) ^ 0x5a;
    }
    bytes
}

/// 8 s of ffmpeg's `testsrc2` at 640×360, 25 fps (200 frames), a keyframe every 12 pictures,
/// B-frames, AAC: a camera-like stream that can recover from damage quickly.
fn frequent_keyframes(dir: &Path) -> Vec<u8> {
    let out = dir.join("gop12.mp4");
    Ffmpeg::new()
        .lavfi("testsrc2=s=640x360:r=25:d=8")
        .lavfi("sine=frequency=440:duration=8")
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-g", "12", "-bf", "2",
        ])
        .args(["-c:a", "aac", "-movflags", "+faststart"])
        .make(&out);
    std::fs::read(out).unwrap()
}

/// Upload `bytes`, wait for the ladder to start and end; the video's JSON then.
pub(crate) fn ladder_of(s: &Server, token: &str, name: &str, bytes: Vec<u8>) -> (String, Value) {
    let uuid = upload_named(s, token, name, bytes);
    wait_up_to(s, &uuid, 30, "published", |v| v["state"]["id"] == 1);
    wait_until_encoding(s, &uuid);
    let video = wait_up_to(s, &uuid, 300, "the ladder ended", |v| {
        v["progress"].is_null()
    });
    (uuid, video)
}

/// No scratch or temporary file is left in a video's folders.
pub(crate) fn assert_no_scratch(data: &Path, uuid: &str) {
    let media = data.join("media").join(uuid);
    let leftovers: Vec<String> = files_in(&media)
        .into_iter()
        .chain(files_in(&media.join("hls")))
        .filter(|f| f.ends_with(".tmp") || f.ends_with(".scratch") || f.ends_with(".gops"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// No scratch or temporary file is left in a video's folders, and its master playlist lists
/// exactly its renditions.
pub(crate) fn nothing_half_made(s: &Server, data: &Path, uuid: &str, video: &Value) {
    assert_no_scratch(data, uuid);
    let master = s
        .get(&format!(
            "/static/streaming-playlists/hls/{uuid}/master.m3u8"
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let listed = master.matches("#EXT-X-STREAM-INF").count();
    assert_eq!(listed, hls_files(video).len(), "{master}");
}

/// The 240p AV1 rung of an upload of odd size (427×241) in more than 8 bits: 426×240, 8-bit,
/// every frame of `original` (100, no audio) and a PSNR above 30 dB.
pub(crate) fn check_eight_bit_even_rung(s: &Server, video: &Value, original: &Path, work: &Path) {
    let f = hls_files(video)
        .into_iter()
        .find(|f| f["fileUrl"].as_str().unwrap().contains("-240-av1-"))
        .unwrap();
    assert_eq!(
        (&f["width"], &f["height"]),
        (&json!(426), &json!(240)),
        "{f}"
    );
    let local = work.join("240.mp4");
    download(s, f["fileUrl"].as_str().unwrap(), &local);
    let depth = ffprobe(
        &["-show_entries", "stream=pix_fmt", "-of", "csv=p=0"],
        &local,
    );
    assert_eq!(depth.trim(), "yuv420p", "8-bit AV1");
    let original = Original {
        path: original,
        frames: 100,
        audio: None,
    };
    judge_against(&local, &original, 426, 240, 30.0);
}

/// Upload `input` (damaged part-way, with frequent keyframes, 200 frames) and check that the
/// garbage hits the video, yet the 240p AV1 rung keeps every frame, decodes cleanly and leaves
/// nothing half made.
pub(crate) fn damaged_rung_keeps_every_frame(
    s: &Server,
    token: &str,
    name: &str,
    input: Vec<u8>,
    work: &Path,
) {
    let on_disk = work.join("damaged.mp4");
    std::fs::write(&on_disk, &input).unwrap();
    assert!(
        !decode_errors(&on_disk).is_empty(),
        "the garbage must hit the video for this test to mean anything"
    );
    let (uuid, video) = ladder_of(s, token, name, input);
    assert_eq!(av1_heights(&video), [240], "{video}");
    nothing_half_made(s, &s.data_dir, &uuid, &video);
    let f = hls_files(&video)
        .into_iter()
        .find(|f| f["fileUrl"].as_str().unwrap().contains("-av1-"))
        .unwrap();
    let local = work.join("240.mp4");
    download(s, f["fileUrl"].as_str().unwrap(), &local);
    let frames = ffprobe(
        &[
            "-count_frames",
            "-select_streams",
            "v",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ],
        &local,
    );
    assert_eq!(frames.trim(), "200", "every frame kept");
    let errors = decode_errors(&local);
    assert!(errors.is_empty(), "{errors}");
}

#[test]
fn damaged_pictures_are_concealed_and_a_ruined_stream_ends_the_ladder_with_nothing_half_made() {
    let dir = tempdir();
    let s = start(dir.path(), "[240]");
    let root = s.root_token();

    // A run of garbage: the pictures up to the next keyframe repeat the last good one, so the
    // rung keeps every frame and decodes cleanly.
    let work = tempdir();
    let input = damaged(frequent_keyframes(work.path()), 0.6, 0.602);
    damaged_rung_keeps_every_frame(&s, &root, "Damaged pattern", input, work.path());

    // The fixture has one keyframe: garbage from 30 % of the file on would freeze most of the
    // video, so the ladder ends with the reason (logged) and is not retried; the video still
    // plays from its remux.
    let (uuid, video) = ladder_of(&s, &root, "Ruined bunny", damaged(clip(), 0.3, 0.7));
    std::thread::sleep(std::time::Duration::from_secs(3));
    let again = video_json(&s, &uuid);
    assert!(again["progress"].is_null(), "not retried: {again}");
    assert_eq!(again["state"]["id"], 1, "still playing from its remux");
    assert!(av1_heights(&video).is_empty(), "{video}");
    nothing_half_made(&s, dir.path(), &uuid, &video);
    assert!(s.stop(), "the server survived and stops cleanly");
}

#[test]
fn with_transcoding_off_files_are_remade_by_remux_and_encoding_is_refused() {
    let dir = tempdir();
    // The harness's default: `transcoding.enabled = false`.
    let s = Server::start(dir.path());
    let root = s.root_token();
    let uuid = upload(&s, &root);
    let video = wait_up_to(&s, &uuid, 30, "progressive file made", |v| {
        v["files"][0]["torrentUrl"].is_string()
    });
    assert!(av1_heights(&video).is_empty(), "no ladder: {video}");
    assert_error(
        request_transcoding(&s, &root, &uuid, json!({"transcodingType": "hls"})),
        400,
        "invalid_params",
    );
    let web = dir.path().join("media").join(&uuid).join("web-videos");
    let r = remove_files(&s, &root, &uuid, "web-videos");
    assert_eq!(r.status(), 204);
    assert!(files_in(&web).is_empty());
    // Remaking the progressive file is a remux, not an encode: allowed.
    let r = request_transcoding(&s, &root, &uuid, json!({"transcodingType": "web-video"}));
    assert_eq!(r.status(), 204);
    wait_up_to(&s, &uuid, 30, "progressive file made again", |_| {
        files_in(&web).iter().any(|f| f.ends_with(".mp4"))
    });
}
