//! Uploads through both of PeerTube's protocols with real clips: the bytes land intact, limits
//! and quotas are enforced before anything is kept, bad files are refused with a reason, and a
//! resumable upload survives a graceful restart, a `kill -9` and a dropped connection.

use std::io::{Read, Write};
use std::path::Path;

use reqwest::blocking::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::{Ffmpeg, Server, assert_error, tempdir, token_of};

pub(crate) const CLIP: &str = "../shared/fixtures/media/bigbuckbunny.mp4";

pub(crate) fn clip() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(CLIP)).expect("fixture clip")
}

pub(crate) fn channel_id(s: &Server, token: &str) -> u64 {
    s.me(token)["videoChannels"][0]["id"].as_u64().unwrap()
}

pub(crate) fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A multipart upload form of the fixture clip into `channel`, named `name`.
pub(crate) fn clip_form(channel: u64, name: &str) -> Form {
    Form::new()
        .text("channelId", channel.to_string())
        .text("name", name.to_owned())
        .part(
            "videofile",
            Part::bytes(clip())
                .file_name("clip.mp4")
                .mime_str("video/mp4")
                .unwrap(),
        )
}

pub(crate) fn single_upload(
    s: &Server,
    token: &str,
    channel: u64,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::blocking::Response {
    let form = Form::new()
        .text("channelId", channel.to_string())
        .text("name", name.to_owned())
        .text("privacy", "1")
        .text("tags[0]", "bunny")
        .text("nsfw", "false")
        .part(
            "videofile",
            Part::bytes(bytes)
                .file_name("clip.mp4")
                .mime_str("video/mp4")
                .unwrap(),
        );
    s.post("/api/v1/videos/upload")
        .bearer_auth(token)
        .multipart(form)
        .send()
        .unwrap()
}

#[test]
fn single_request_upload_stores_the_file_and_refuses_bad_input() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "uma", "uma-password", 2);
    let uma = token_of(&s.login("uma", "uma-password"));
    let channel = channel_id(&s, &uma);
    let bytes = clip();

    let r = single_upload(&s, &uma, channel, "Big Buck Bunny", bytes.clone());
    assert_eq!(r.status(), 200);
    let created: Value = r.json().unwrap();
    let uuid = created["video"]["uuid"].as_str().unwrap().to_owned();
    assert_eq!(created["video"]["shortUUID"].as_str().unwrap().len(), 22);
    let video = s.get_json(&format!("/api/v1/videos/{uuid}"));
    assert_eq!(video["name"], "Big Buck Bunny");
    assert!(
        [1, 2].contains(&video["state"]["id"].as_u64().unwrap()),
        "published, or about to be: {}",
        video["state"]
    );
    assert_eq!(video["duration"], 5, "read from the headers at upload time");
    assert_eq!(video["tags"], json!(["bunny"]));
    let stored = std::fs::read(dir.path().join("media").join(&uuid).join("original.mp4")).unwrap();
    assert_eq!(stored, bytes, "the original is stored byte for byte");
    assert!(
        files_in(&dir.path().join("uploads")).is_empty(),
        "no part file left"
    );

    // Random bytes named .mp4: a named reason, and nothing kept.
    let junk: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let e = assert_error(
        single_upload(&s, &uma, channel, "Junk video", junk),
        422,
        "unsupported_media",
    );
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("MP4, MOV, MKV and WebM")
    );
    // Someone else's channel, missing file, bad metadata.
    assert_error(
        single_upload(&s, &uma, 1, "Not my channel", bytes.clone()),
        403,
        "forbidden",
    );
    let no_file = Form::new()
        .text("channelId", channel.to_string())
        .text("name", "No file");
    assert_error(
        s.post("/api/v1/videos/upload")
            .bearer_auth(&uma)
            .multipart(no_file)
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    assert_error(
        single_upload(&s, &uma, channel, "x", bytes.clone()),
        400,
        "invalid_params",
    );
    // The server answers 401 before reading the body and closes the connection, so the client
    // may see the close before the answer: try until the answer is read.
    let anonymous = (0..5)
        .find_map(|_| {
            s.post("/api/v1/videos/upload")
                .multipart(Form::new().text("name", "anonymous"))
                .send()
                .ok()
        })
        .expect("an answer");
    assert_error(anonymous, 401, "unauthorized_request");
    let mine = s.get_json_as("/api/v1/users/me/videos", &uma);
    assert_eq!(mine["total"], 1, "only the good upload became a video");
    assert!(mine["data"][0]["state"]["id"].is_u64());
    assert!(files_in(&dir.path().join("uploads")).is_empty());
    assert_eq!(files_in(&dir.path().join("media")), vec![uuid.clone()]);

    let used = s.get_json_as("/api/v1/users/me/video-quota-used", &uma);
    assert_eq!(
        used,
        json!({"videoQuotaUsed": bytes.len(), "videoQuotaUsedDaily": bytes.len()})
    );

    // Quota: the user has stored ~1 MB; a 1.5 MB quota refuses a second copy.
    let uma_id = s.me(&uma)["id"].as_u64().unwrap();
    let r = s
        .put(&format!("/api/v1/users/{uma_id}"))
        .bearer_auth(&root)
        .json(&json!({"videoQuota": 1_500_000}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_error(
        single_upload(&s, &uma, channel, "Over quota", bytes.clone()),
        413,
        "quota_reached",
    );
    assert!(files_in(&dir.path().join("uploads")).is_empty());

    // Deleting the video frees its files (and its quota).
    assert_eq!(
        s.delete(&format!("/api/v1/videos/{uuid}"))
            .bearer_auth(&uma)
            .send()
            .unwrap()
            .status(),
        204
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while dir.path().join("media").join(&uuid).exists() {
        assert!(std::time::Instant::now() < deadline, "media removed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        single_upload(&s, &uma, channel, "Fits again", bytes).status(),
        200
    );
}

#[test]
fn instance_file_size_limit() {
    let dir = tempdir();
    let s = Server::start_with(dir.path(), &[("VIREO_UPLOADS__MAX_FILE_BYTES", "100000")]);
    let root = s.root_token();
    let channel = channel_id(&s, &root);
    assert_error(
        single_upload(&s, &root, channel, "Too large", clip()),
        413,
        "max_file_size_reached",
    );
    let r = s
        .post("/api/v1/videos/upload-resumable")
        .bearer_auth(&root)
        .header("x-upload-content-length", "1055736")
        .json(&json!({"channelId": channel, "name": "Too large", "filename": "clip.mp4"}))
        .send()
        .unwrap();
    assert_error(r, 413, "max_file_size_reached");
    assert!(files_in(&dir.path().join("uploads")).is_empty());
}

fn start_resumable(s: &Server, token: &str, channel: u64, size: usize) -> String {
    let r = s
        .post("/api/v1/videos/upload-resumable")
        .bearer_auth(token)
        .header("x-upload-content-length", size.to_string())
        .header("x-upload-content-type", "video/mp4")
        .json(&json!({"channelId": channel, "name": "Resumed bunny", "filename": "bunny.mp4", "privacy": 1}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.starts_with(&s.url), "{location}");
    location.split("upload_id=").nth(1).unwrap().to_owned()
}

fn put_chunk(
    s: &Server,
    token: &str,
    id: &str,
    bytes: &[u8],
    start: usize,
    total: usize,
) -> reqwest::blocking::Response {
    let end = start + bytes.len() - 1;
    s.put(&format!("/api/v1/videos/upload-resumable?upload_id={id}"))
        .bearer_auth(token)
        .header("content-range", format!("bytes {start}-{end}/{total}"))
        .body(bytes.to_vec())
        .send()
        .unwrap()
}

fn status(s: &Server, token: &str, id: &str, total: usize) -> reqwest::blocking::Response {
    s.put(&format!("/api/v1/videos/upload-resumable?upload_id={id}"))
        .bearer_auth(token)
        .header("content-range", format!("bytes */{total}"))
        .send()
        .unwrap()
}

fn range_of(r: &reqwest::blocking::Response) -> Option<String> {
    r.headers()
        .get("range")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[test]
fn resumable_upload_survives_restarts_crashes_and_dropped_connections() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let channel = channel_id(&s, &root);
    let bytes = clip();
    let total = bytes.len();
    let id = start_resumable(&s, &root, channel, total);

    let r = put_chunk(&s, &root, &id, &bytes[..300_000], 0, total);
    assert_eq!(r.status(), 308);
    assert_eq!(range_of(&r).as_deref(), Some("bytes=0-299999"));

    // Wrong and overlapping ranges are refused and say where to resume.
    let r = put_chunk(&s, &root, &id, &bytes[200_000..400_000], 200_000, total);
    assert_eq!(r.status(), 409);
    assert_eq!(range_of(&r).as_deref(), Some("bytes=0-299999"));
    assert_error(
        put_chunk(&s, &root, &id, &bytes[400_000..500_000], 400_000, total),
        409,
        "upload_offset_mismatch",
    );
    assert_error(
        put_chunk(&s, &root, &id, &bytes[300_000..310_000], 300_000, total + 1),
        409,
        "upload_offset_mismatch",
    );
    let bad = s
        .put(&format!("/api/v1/videos/upload-resumable?upload_id={id}"))
        .bearer_auth(&root)
        .header("content-range", "bytes 9-3/10")
        .body(vec![0u8; 3])
        .send()
        .unwrap();
    assert_error(bad, 400, "invalid_params");

    // Another user cannot see or touch it.
    s.create_user(&root, "vic", "vic-password", 2);
    let vic = token_of(&s.login("vic", "vic-password"));
    assert_error(
        put_chunk(&s, &vic, &id, &bytes[300_000..310_000], 300_000, total),
        404,
        "not_found",
    );
    assert_error(
        s.delete(&format!("/api/v1/videos/upload-resumable?upload_id={id}"))
            .bearer_auth(&vic)
            .send()
            .unwrap(),
        404,
        "not_found",
    );

    // A graceful restart, then a kill -9: the received bytes are still there.
    assert!(s.stop());
    let s = Server::start(dir.path());
    let r = status(&s, &root, &id, total);
    assert_eq!(
        (r.status().as_u16(), range_of(&r).as_deref()),
        (308, Some("bytes=0-299999"))
    );
    assert_eq!(
        put_chunk(&s, &root, &id, &bytes[300_000..600_000], 300_000, total).status(),
        308
    );
    s.kill9();
    let s = Server::start(dir.path());
    let r = status(&s, &root, &id, total);
    assert_eq!(range_of(&r).as_deref(), Some("bytes=0-599999"));

    // A connection dropped in the middle of a chunk keeps what arrived.
    let addr = s.url.trim_start_matches("http://").to_owned();
    let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
    let head = format!(
        "PUT /api/v1/videos/upload-resumable?upload_id={id} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {root}\r\n\
         Content-Range: bytes 600000-{}/{total}\r\nContent-Length: {}\r\n\r\n",
        total - 1,
        total - 600_000
    );
    tcp.write_all(head.as_bytes()).unwrap();
    tcp.write_all(&bytes[600_000..700_000]).unwrap();
    tcp.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(tcp);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let resume_at = loop {
        let r = status(&s, &root, &id, total);
        if r.status() == 308 {
            let range = range_of(&r).unwrap();
            let end: usize = range.trim_start_matches("bytes=0-").parse().unwrap();
            if end >= 600_000 {
                break end + 1;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the interrupted chunk was recorded"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(resume_at > 600_000 && resume_at <= 700_000, "{resume_at}");

    // The rest completes the upload: a video whose original is the clip, byte for byte.
    let r = put_chunk(&s, &root, &id, &bytes[resume_at..], resume_at, total);
    assert_eq!(r.status(), 200);
    let created: Value = r.json().unwrap();
    let uuid = created["video"]["uuid"].as_str().unwrap();
    let stored = std::fs::read(dir.path().join("media").join(uuid).join("original.mp4")).unwrap();
    assert_eq!(stored, bytes);
    assert!(files_in(&dir.path().join("uploads")).is_empty());
    assert_error(status(&s, &root, &id, total), 404, "not_found");
}

#[test]
fn cancelled_and_abandoned_uploads_leave_nothing() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let channel = channel_id(&s, &root);
    let bytes = clip();
    let id = start_resumable(&s, &root, channel, bytes.len());
    assert_eq!(
        put_chunk(&s, &root, &id, &bytes[..1000], 0, bytes.len()).status(),
        308
    );
    let r = s
        .delete(&format!("/api/v1/videos/upload-resumable?upload_id={id}"))
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(files_in(&dir.path().join("uploads")).is_empty());
    assert_error(status(&s, &root, &id, bytes.len()), 404, "not_found");

    // Junk uploaded through the resumable protocol is refused when complete, and removed.
    let junk = vec![0x42u8; 4096];
    let id = start_resumable(&s, &root, channel, junk.len());
    assert_error(
        put_chunk(&s, &root, &id, &junk, 0, junk.len()),
        422,
        "unsupported_media",
    );
    assert!(files_in(&dir.path().join("uploads")).is_empty());
    let list = s.get_json_as("/api/v1/users/me/videos?count=100", &root);
    assert_eq!(list["total"], 0);

    // Files no session or video owns (a crash at the wrong moment) are swept at start.
    let id = start_resumable(&s, &root, channel, bytes.len());
    assert_eq!(
        put_chunk(&s, &root, &id, &bytes[..1000], 0, bytes.len()).status(),
        308
    );
    std::fs::write(dir.path().join("uploads").join("stray.part"), b"x").unwrap();
    std::fs::create_dir_all(
        dir.path()
            .join("media")
            .join(uuid::Uuid::new_v4().to_string()),
    )
    .unwrap();
    assert!(s.stop());
    let s = Server::start(dir.path());
    assert_eq!(
        files_in(&dir.path().join("uploads")),
        vec![format!("{id}.part")],
        "the live session stays"
    );
    assert!(files_in(&dir.path().join("media")).is_empty());
    let mut buf = Vec::new();
    std::fs::File::open(dir.path().join("uploads").join(format!("{id}.part")))
        .unwrap()
        .read_to_end(&mut buf)
        .unwrap();
    assert_eq!(buf, bytes[..1000]);
    drop(s);
}

/// Make a short clip with Debian's ffmpeg (tests only); `tests/run.sh` installs it.
pub(crate) fn ffmpeg_clip(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    std::fs::read(crate::common::Ffmpeg::new().args(args).make(dir.join(name))).unwrap()
}

const TEST_VIDEO: &[&str] = &[
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=320x240:rate=25:duration=2",
];
const TEST_AUDIO: &[&str] = &["-f", "lavfi", "-i", "sine=frequency=440:duration=2"];

#[test]
fn probe_names_what_it_refuses_and_accepts_the_common_formats() {
    let dir = tempdir();
    let work = tempdir();
    let s = Server::start_with(dir.path(), &[("VIREO_MEDIA__MAX_DURATION_SECS", "4")]);
    let root = s.root_token();
    let channel = channel_id(&s, &root);
    let args =
        |extra: &[&'static str]| -> Vec<&'static str> { [TEST_VIDEO, TEST_AUDIO, extra].concat() };

    // Accepted: VP9 + Opus in WebM, H.264 + MP3 in MKV, H.264 + PCM in MOV, odd sizes, no audio.
    let accepted = [
        (
            "vp9.webm",
            args(&[
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-c:a",
                "libopus",
            ]),
        ),
        (
            "h264-mp3.mkv",
            args(&[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-c:a",
                "libmp3lame",
            ]),
        ),
        (
            "pcm.mov",
            args(&[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-c:a",
                "pcm_s16le",
            ]),
        ),
        (
            "odd.webm",
            [
                TEST_VIDEO,
                &[
                    "-vf",
                    "scale=321:241",
                    "-c:v",
                    "libvpx-vp9",
                    "-deadline",
                    "realtime",
                ],
            ]
            .concat(),
        ),
        (
            "rotated.mov",
            [
                TEST_VIDEO,
                &[
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-metadata:s:v",
                    "rotate=90",
                ],
            ]
            .concat(),
        ),
    ];
    for (name, a) in &accepted {
        let bytes = ffmpeg_clip(work.path(), name, a);
        let r = single_upload(&s, &root, channel, &format!("Accepted {name}"), bytes);
        assert_eq!(r.status(), 200, "{name}: {}", r.text().unwrap());
    }
    let list = s.get_json_as("/api/v1/users/me/videos?count=100", &root);
    assert_eq!(list["total"], accepted.len());
    for v in list["data"].as_array().unwrap() {
        assert_eq!(v["duration"], 2, "{}", v["name"]);
    }

    // A phone video turned a quarter: its display matrix makes 320×240 show as 240×320, which
    // its aspect ratio says once it plays. (ffmpeg 5.1 writes the rotation only when copying.)
    ffmpeg_clip(
        work.path(),
        "upright.mp4",
        &args(&["-c:v", "libx264", "-preset", "ultrafast"]),
    );
    let upright = work.path().join("upright.mp4");
    let turned = ffmpeg_clip(
        work.path(),
        "turned.mov",
        &[
            "-i",
            upright.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v",
            "rotate=90",
        ],
    );
    let r = single_upload(&s, &root, channel, "Turned", turned);
    assert_eq!(r.status(), 200);
    let uuid = r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = wait_for_state(&s, &uuid, 1);
    assert_eq!(v["aspectRatio"], 0.75, "shown upright: 240×320");

    // Refused, each with its reason, and nothing kept.
    let refused = [
        (
            "hevc.mp4",
            [
                TEST_VIDEO,
                &[
                    "-c:v",
                    "libx265",
                    "-preset",
                    "ultrafast",
                    "-x265-params",
                    "log-level=error",
                ],
            ]
            .concat(),
            "HEVC (H.265) video is not supported yet",
        ),
        (
            "ac3.mkv",
            args(&["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "ac3"]),
            "AC-3 (Dolby Digital) audio is not supported yet",
        ),
        (
            "audio.m4a",
            [TEST_AUDIO, &["-c:a", "aac"]].concat(),
            "no video track",
        ),
        (
            "mpeg4.mp4",
            [TEST_VIDEO, &["-c:v", "mpeg4"]].concat(),
            "MPEG-4 Part 2 video is not supported yet",
        ),
    ];
    for (name, a, reason) in &refused {
        let bytes = ffmpeg_clip(work.path(), name, a);
        let e = assert_error(
            single_upload(&s, &root, channel, &format!("Refused {name}"), bytes),
            422,
            "unsupported_media",
        );
        assert!(
            e["detail"].as_str().unwrap().contains(reason),
            "{name}: {e}"
        );
    }
    // The configured duration limit (4 s here) refuses the 5.3 s clip, from its headers.
    let e = assert_error(
        single_upload(&s, &root, channel, "Too long", clip()),
        422,
        "unsupported_media",
    );
    assert_eq!(
        e["detail"],
        "The video lasts 5 s; this instance accepts at most 4 s"
    );
    // A truncated upload (the clip cut before its end) is refused as damaged.
    let bytes = clip();
    let e = assert_error(
        single_upload(
            &s,
            &root,
            channel,
            "Truncated",
            bytes[..bytes.len() / 2].to_vec(),
        ),
        422,
        "unsupported_media",
    );
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("damaged or incomplete"),
        "{e}"
    );

    let list = s.get_json_as("/api/v1/users/me/videos?count=100", &root);
    // Only what was accepted (and the turned video) is kept.
    assert_eq!(list["total"], accepted.len() + 1);
    assert!(files_in(&dir.path().join("uploads")).is_empty());
    assert_eq!(
        files_in(&dir.path().join("media")).len(),
        accepted.len() + 1
    );
}

/// Poll a video until `done` holds for its JSON (`what` names the wait in a failure).
pub(crate) fn wait_for(s: &Server, uuid: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    wait_up_to(s, uuid, 20, what, done)
}

/// `wait_for` with a deadline of `secs`.
pub(crate) fn wait_up_to(
    s: &Server,
    uuid: &str,
    secs: u64,
    what: &str,
    mut done: impl FnMut(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let v = s.get_json(&format!("/api/v1/videos/{uuid}"));
        if done(&v) {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {v}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Poll a video until its state is `state`.
pub(crate) fn wait_for_state(s: &Server, uuid: &str, state: u64) -> Value {
    wait_for(s, uuid, &format!("state {state} reached"), |v| {
        v["state"]["id"] == state
    })
}

#[test]
fn h264_uploads_are_remuxed_published_and_served_as_hls() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let channel = channel_id(&s, &root);
    let r = single_upload(&s, &root, channel, "Playable bunny", clip());
    assert_eq!(r.status(), 200);
    let uuid = r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    let video = wait_for_state(&s, &uuid, 1);
    assert_eq!(video["aspectRatio"], 1.7778);
    println!(
        "published {:?} after the upload answered",
        started.elapsed()
    );
    let public = s.get_json("/api/v1/videos");
    assert_eq!(public["total"], 1, "listed once playable");

    // The JSON points at HLS as PeerTube lays it out.
    let playlist = &video["streamingPlaylists"][0];
    assert_eq!(playlist["type"], 1);
    let master_url = playlist["playlistUrl"].as_str().unwrap().to_owned();
    assert_eq!(
        master_url,
        format!(
            "{}/static/streaming-playlists/hls/{uuid}/master.m3u8",
            s.url
        )
    );
    let file = &playlist["files"][0];
    assert_eq!(
        (file["width"].as_u64(), file["height"].as_u64()),
        (Some(1280), Some(720))
    );
    assert_eq!(file["resolution"]["label"], "720p");

    // Served with the right type, CORS and byte ranges.
    let r = s
        .get(master_url.strip_prefix(&s.url).unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.apple.mpegurl");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let master = r.text().unwrap();
    assert!(
        master.contains("CODECS=\"avc1.4d401f,mp4a.40.2\"")
            && master.contains("RESOLUTION=1280x720"),
        "{master}"
    );
    let file_url = file["fileUrl"].as_str().unwrap();
    let r = s
        .get(file_url.strip_prefix(&s.url).unwrap())
        .header("range", "bytes=0-99")
        .send()
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let head = r.bytes().unwrap();
    assert_eq!((head.len(), &head[4..8]), (100, &b"ftyp"[..]));
    let r = s
        .get(file_url.strip_prefix(&s.url).unwrap())
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(
        r.status(),
        304,
        "a cached copy is revalidated without a body"
    );
    assert_error(
        s.get(&format!(
            "/static/streaming-playlists/hls/{uuid}/..%2Fvireo.redb"
        ))
        .send()
        .unwrap(),
        404,
        "not_found",
    );
    assert_error(
        s.get(&format!(
            "/static/streaming-playlists/hls/{uuid}/nothing.mp4"
        ))
        .send()
        .unwrap(),
        404,
        "not_found",
    );

    // An independent player reads it over HTTP: every packet of the source, decoded without error.
    let decode = Ffmpeg::new()
        .input(&master_url)
        .args(["-f", "null", "-"])
        .run();
    assert!(
        decode.status.success() && decode.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&decode.stderr)
    );

    // Private videos' files are not served to others.
    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&root)
        .json(&json!({"privacy": 3}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_error(
        s.get(master_url.strip_prefix(&s.url).unwrap())
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    let r = s
        .get(master_url.strip_prefix(&s.url).unwrap())
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // Inputs the browser cannot play as they are wait for the transcoding ladder.
    let work = tempdir();
    let webm = ffmpeg_clip(
        work.path(),
        "vp9.webm",
        &[
            TEST_VIDEO,
            &["-c:v", "libvpx-vp9", "-deadline", "realtime"][..],
        ]
        .concat(),
    );
    let r = single_upload(&s, &root, channel, "Needs transcoding", webm);
    let other = r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let v = s.get_json(&format!("/api/v1/videos/{other}"));
    assert_eq!(v["state"]["id"], 2);
    assert_eq!(v["streamingPlaylists"], json!([]));
    assert_eq!(
        v["stateReason"],
        "VP9 video plays only once transcoded, and transcoding is off on this server"
    );
}
