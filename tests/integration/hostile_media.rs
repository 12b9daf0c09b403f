//! Uploads an attacker with an account would make, each made in the test (ffmpeg, then a few
//! byte edits): none may crash the server, leave it busy, or publish a lie. Each is refused with
//! a sentence, fails its job with one, or is published as what it really is, and the server's
//! peak memory and CPU time for it are printed. Browser recordings (headless Chromium's
//! MediaRecorder) upload and play.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Server, assert_error, tempdir};
use crate::uploads::{channel_id, clip, ffmpeg_clip, single_upload, wait_up_to};

/// What one upload cost the server: its peak resident memory above where it was, and its CPU
/// time, until `settled` said the work was over.
struct Cost {
    pid: u32,
    base_mb: f64,
    cpu: f64,
}

fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // After the command name in parentheses: fields 14 and 15 (utime, stime) in clock ticks.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn rss_kb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

impl Cost {
    fn start(s: &Server) -> Cost {
        let pid = s.pid();
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
        Cost {
            pid,
            base_mb: rss_kb(pid, "VmRSS:") / 1024.0,
            cpu: cpu_secs(pid),
        }
    }

    /// Print and return (peak MB above the start, CPU seconds).
    fn report(&self, what: &str, answer: &str) -> (f64, f64) {
        let peak = rss_kb(self.pid, "VmHWM:") / 1024.0 - self.base_mb;
        let cpu = cpu_secs(self.pid) - self.cpu;
        println!("{what}: {answer}; peak +{peak:.0} MB, CPU {cpu:.2} s");
        (peak, cpu)
    }
}

fn find(bytes: &[u8], tag: &[u8]) -> usize {
    bytes
        .windows(tag.len())
        .position(|w| w == tag)
        .unwrap_or_else(|| panic!("{} not found", String::from_utf8_lossy(tag)))
}

/// `bytes` with its `moov` box wrapped in `levels` more `moov` boxes.
fn nested_moov(bytes: &[u8], levels: usize) -> Vec<u8> {
    let at = find(bytes, b"moov") - 4;
    let size =
        u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
    let mut moov = bytes[at..at + size].to_vec();
    for _ in 0..levels {
        let mut outer = ((moov.len() + 8) as u32).to_be_bytes().to_vec();
        outer.extend_from_slice(b"moov");
        outer.extend_from_slice(&moov);
        moov = outer;
    }
    [&bytes[..at], &moov[..], &bytes[at + size..]].concat()
}

/// Upload `bytes` and expect the probe's refusal; its detail.
fn refused(s: &Server, token: &str, name: &str, bytes: Vec<u8>) -> String {
    let cost = Cost::start(s);
    let r = single_upload(s, token, channel_id(s, token), "Hostile", bytes);
    let e = assert_error(r, 422, "unsupported_media");
    let detail = e["detail"].as_str().unwrap().to_owned();
    cost.report(name, &format!("422 \"{detail}\""));
    assert_eq!(s.get("/livez").send().unwrap().status(), 200);
    detail
}

fn uploaded(s: &Server, token: &str, name: &str, bytes: Vec<u8>) -> String {
    let r = single_upload(s, token, channel_id(s, token), name, bytes);
    assert_eq!(r.status(), 200, "{name}");
    r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Upload `bytes`, which the probe takes, and wait for its job to fail; the reason shown.
fn job_fails(s: &Server, token: &str, name: &str, bytes: Vec<u8>) -> String {
    let cost = Cost::start(s);
    let uuid = uploaded(s, token, name, bytes);
    let v = s
        .get(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut v = v;
    while v["state"]["id"] != 7 {
        assert_ne!(v["state"]["id"], 1, "{name} was published: {v}");
        assert!(Instant::now() < deadline, "{name} never failed: {v}");
        std::thread::sleep(Duration::from_millis(100));
        v = s
            .get(&format!("/api/v1/videos/{uuid}"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
    }
    let reason = v["stateReason"].as_str().unwrap_or_default().to_owned();
    cost.report(name, &format!("the job failed: \"{reason}\""));
    reason
}

/// Where the video sample entry's width is (`avc1` inside `stsd`: the brands in `ftyp` say
/// "avc1" too).
fn avc1_width(bytes: &[u8]) -> usize {
    let stsd = find(bytes, b"stsd");
    stsd + find(&bytes[stsd..], b"avc1") + 4 + 24
}

fn patch_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

/// The offset of the video track's `mdhd` timescale.
fn video_mdhd_timescale(bytes: &[u8]) -> usize {
    // The first track of the fixture is its video; mdhd: size, type, version/flags, created,
    // modified, then the timescale.
    find(bytes, b"mdhd") + 4 + 12
}

/// Nested boxes, lying clocks and lying sample rates, sizes no player shows: each refused by
/// the probe with a sentence, fast and in little memory, and the server goes on.
#[test]
fn hostile_headers_are_refused_with_a_reason() {
    let dir = tempdir();
    let work = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let bunny = clip();

    for levels in [1_000, 3_000] {
        let detail = refused(
            &s,
            &root,
            &format!("moov wrapped in {levels} moov boxes"),
            nested_moov(&bunny, levels),
        );
        assert!(detail.contains("nest more than 16 deep"), "{detail}");
    }
    // The resumable protocol's last chunk too; the refused session is gone.
    let nested = nested_moov(&bunny, 3_000);
    let channel = channel_id(&s, &root);
    let r = s
        .post("/api/v1/videos/upload-resumable")
        .bearer_auth(&root)
        .header("x-upload-content-length", nested.len().to_string())
        .json(&json!({"channelId": channel, "name": "Nested", "filename": "n.mp4"}))
        .send()
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let path = location.trim_start_matches(&s.url).to_owned();
    let put = s
        .put(&path)
        .bearer_auth(&root)
        .header(
            "content-range",
            format!("bytes 0-{}/{}", nested.len() - 1, nested.len()),
        )
        .body(nested.clone())
        .send()
        .unwrap();
    assert_error(put, 422, "unsupported_media");
    let again = s
        .put(&path)
        .bearer_auth(&root)
        .header("content-range", format!("bytes */{}", nested.len()))
        .send()
        .unwrap();
    assert_error(again, 404, "not_found");

    let mut zero = bunny.clone();
    patch_u32(&mut zero, video_mdhd_timescale(&bunny), 0);
    let detail = refused(&s, &root, "mdhd timescale 0", zero);
    assert!(detail.contains("no timescale"), "{detail}");

    let mut huge = bunny.clone();
    patch_u32(&mut huge, video_mdhd_timescale(&bunny), u32::MAX);
    let detail = refused(&s, &root, "mdhd timescale 2^32-1", huge);
    assert!(detail.contains("no duration"), "{detail}");

    let mut one_pixel = bunny.clone();
    let entry = avc1_width(&one_pixel);
    one_pixel[entry..entry + 4].copy_from_slice(&[0, 1, 0, 1]);
    let detail = refused(&s, &root, "1 × 1 sample entry", one_pixel);
    assert!(detail.contains("at least 16"), "{detail}");

    let thin = ffmpeg_clip(
        work.path(),
        "thin.webm",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=16x256:rate=25:duration=1",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
        ],
    );
    let detail = refused(&s, &root, "VP9 at 16 × 256", thin);
    assert!(
        detail.contains("at most 8 times its short side"),
        "{detail}"
    );

    // A stereo PCM Matroska whose SamplingFrequency is edited to 1.0: 240 000 s of audio.
    let mut pcm = ffmpeg_clip(
        work.path(),
        "pcm.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=5",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=5:sample_rate=48000",
            "-ac",
            "2",
            "-c:v",
            "libx264",
            "-c:a",
            "pcm_s16le",
        ],
    );
    let rate = find(&pcm, &[0xB5, 0x88, 0x40, 0xE7, 0x70, 0, 0, 0, 0, 0]);
    pcm[rate + 2..rate + 10].copy_from_slice(&1.0f64.to_be_bytes());
    let detail = refused(&s, &root, "PCM Matroska at 1 Hz", pcm);
    assert!(detail.contains("sample rate of 1 Hz"), "{detail}");

    // An unknown box's name shows readable, never as NUL characters.
    let mut unnamed = bunny.clone();
    let stsd = find(&unnamed, b"stsd");
    let avc1 = stsd + find(&unnamed[stsd..], b"avc1");
    unnamed[avc1..avc1 + 4].copy_from_slice(&[0, 0, 0, 0]);
    let detail = refused(&s, &root, "a sample entry named by NUL bytes", unnamed);
    assert!(
        !detail.contains('\0') && detail.contains("0x00000000"),
        "{detail}"
    );
}

/// What the probe takes but is not what it says: the job fails with a sentence and nothing is
/// published.
#[test]
fn lying_files_are_not_published() {
    let dir = tempdir();
    let work = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    // The sample entry says 64 × 64, the stream's SPS 256 × 256.
    let mut small = ffmpeg_clip(
        work.path(),
        "square.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=256x256:rate=25:duration=2",
            "-c:v",
            "libx264",
            "-movflags",
            "+faststart",
        ],
    );
    let entry = avc1_width(&small);
    small[entry..entry + 4].copy_from_slice(&[0, 64, 0, 64]);
    let reason = job_fails(&s, &root, "SPS 256 × 256 in a 64 × 64 entry", small);
    assert!(
        reason.contains("say 256×256 pixels where the file says 64×64"),
        "{reason}"
    );

    // Valid for its first megabyte, random after.
    let mut damaged = ffmpeg_clip(
        work.path(),
        "damaged.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=20",
            "-c:v",
            "libx264",
            "-b:v",
            "2M",
            "-g",
            "25",
            "-movflags",
            "+faststart",
        ],
    );
    assert!(damaged.len() > 3 << 20, "{} bytes", damaged.len());
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for b in &mut damaged[1 << 20..] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let reason = job_fails(&s, &root, "valid for 1 MB, random after", damaged);
    assert!(reason.contains("damaged"), "{reason}");
    assert_eq!(s.get("/livez").send().unwrap().status(), 200);
}

/// A job that runs past its budget of time fails, saying so; and a stop interrupts work in
/// progress within seconds.
#[test]
fn jobs_keep_to_their_budget_and_stop_at_once() {
    let dir = tempdir();
    let work = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[
            ("VIREO_TRANSCODING__ENABLED", "true"),
            ("VIREO_TRANSCODING__RESOLUTIONS", "[240]"),
            ("VIREO_JOBS__BUDGET_BASE_SECS", "1"),
            ("VIREO_JOBS__BUDGET_SECS_PER_VIDEO_SEC", "0"),
        ],
    );
    let root = s.root_token();
    // A VP9 upload plays only once its first rung is made, which takes more than a second.
    let vp9 = ffmpeg_clip(
        work.path(),
        "vp9.webm",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=20",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-g",
            "50",
        ],
    );
    let reason = job_fails(&s, &root, "a 1 s budget for a VP9 ladder", vp9);
    assert!(
        reason.contains("longer than the 1 s its budget allows"),
        "{reason}"
    );
    drop(s);

    let s = crate::ladder::start(dir.path(), "[240]");
    let root = s.root_token();
    let long = ffmpeg_clip(
        work.path(),
        "long.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=24:duration=60",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    let uuid = uploaded(&s, &root, "Long", long);
    crate::ladder::wait_until_encoding(&s, &uuid);
    let asked = Instant::now();
    assert!(s.stop(), "stopped cleanly");
    let took = asked.elapsed();
    println!("SIGTERM during an encode: stopped after {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

fn record(dir: &Path, types: &[&str]) -> Value {
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let out = Command::new("node")
        .current_dir(&browser)
        .arg("record.mjs")
        .arg(dir)
        .arg("3")
        .args(types)
        .output()
        .expect("node runs (tests/run.sh installs it)");
    assert!(
        out.status.success(),
        "record.mjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Recordings made with MediaRecorder in Chromium (live-style WebM and Matroska: unknown sizes,
/// no Duration, no Cues; H.264 with no codec configuration) upload, are published and play;
/// VP8, MediaRecorder's default, is refused by name. A Matroska file of tens of thousands of
/// tiny Opus packets is taken too.
#[test]
fn browser_recordings_upload_and_play() {
    let dir = tempdir();
    let work = tempdir();
    let s = crate::ladder::start(dir.path(), "[240]");
    let root = s.root_token();
    let types = [
        "video/webm;codecs=vp9,opus",
        "video/webm;codecs=av1,opus",
        "video/webm;codecs=h264,opus",
        "video/x-matroska;codecs=avc1,opus",
        "video/webm",
    ];
    let made = record(work.path(), &types);
    for kind in &types[..4] {
        let file = made[kind]["file"]
            .as_str()
            .unwrap_or_else(|| panic!("{kind}: {made}"));
        let cost = Cost::start(&s);
        let uuid = uploaded(&s, &root, kind, std::fs::read(file).unwrap());
        let v = wait_up_to(&s, &uuid, 120, &format!("{kind} published"), |v| {
            v["state"]["id"] == 1
        });
        cost.report(kind, &format!("published, {} s", v["duration"]));
        assert!(
            (2..=4).contains(&v["duration"].as_u64().unwrap()),
            "{kind}: {v}"
        );
        let (master, _) = crate::ladder::master_of(&s, &v);
        let shot = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/out")
            .join(format!("recording-{}.png", uuid));
        let report = crate::browser::play_level(&master, None, &shot);
        assert_eq!(report["ok"], true, "{kind} plays: {report}");
    }
    let vp8 = made["video/webm"]["file"].as_str().unwrap();
    let detail = refused(&s, &root, "VP8 recording", std::fs::read(vp8).unwrap());
    assert!(detail.contains("VP8"), "{detail}");

    let tiny = ffmpeg_clip(
        work.path(),
        "tiny-opus.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10:duration=60",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=60:sample_rate=48000",
            "-c:v",
            "libx264",
            "-c:a",
            "libopus",
            "-frame_duration",
            "2.5",
        ],
    );
    let uuid = uploaded(&s, &root, "24 000 Opus packets", tiny);
    wait_up_to(&s, &uuid, 120, "tiny Opus packets published", |v| {
        v["state"]["id"] == 1
    });
}
