//! The remux stage judged by an independent tool: H.264 MP4 inputs become fragmented-MP4 HLS that
//! Debian's ffprobe/ffmpeg read and decode without error, with the source's frame and packet
//! counts and duration, and a keyframe at the start of every segment.

use std::path::{Path, PathBuf};
use std::process::Command;

use vireo::media::remux::{self, Rendition};
use vireo::media::source;

use crate::common::Ffmpeg;

pub(crate) fn ffprobe(args: &[&str], input: &Path) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(args)
        .arg(input)
        .output()
        .expect("ffprobe is installed (tests/run.sh installs it)");
    assert!(
        out.status.success(),
        "ffprobe {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `codec_name,packet count` per stream.
fn packet_counts(input: &Path) -> Vec<String> {
    ffprobe(
        &[
            "-count_packets",
            "-show_entries",
            "stream=codec_name,nb_read_packets",
            "-of",
            "csv=p=0",
        ],
        input,
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// The video stream's duration; Matroska states none per stream, so its last frame's end there.
pub(crate) fn video_duration(input: &Path) -> f64 {
    let stated = ffprobe(
        &[
            "-select_streams",
            "v",
            "-show_entries",
            "stream=duration",
            "-of",
            "csv=p=0",
        ],
        input,
    );
    if let Ok(d) = stated.trim().parse() {
        return d;
    }
    let frames = ffprobe(
        &[
            "-select_streams",
            "v",
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
        ],
        input,
    );
    frames
        .lines()
        .filter_map(|l| l.split_once(','))
        .filter_map(|(p, d)| Some(p.parse::<f64>().ok()? + d.parse::<f64>().unwrap_or(0.0)))
        .fold(0.0, f64::max)
}

/// How much later the first audio packet is stamped than the first video frame (0 without
/// audio). Packet times, not stream start times: a source's edit list hides AAC's priming packet
/// from `start_time`, while HLS carries that packet (players ignore edit lists in fragments).
pub(crate) fn av_offset(input: &Path) -> f64 {
    let first = |stream: &str| {
        ffprobe(
            &[
                "-select_streams",
                stream,
                "-show_entries",
                "packet=pts_time",
                "-of",
                "csv=p=0",
            ],
            input,
        )
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse::<f64>().ok())
        .fold(f64::INFINITY, f64::min)
    };
    let (video, audio) = (first("v"), first("a"));
    if audio.is_finite() {
        audio - video
    } else {
        0.0
    }
}

/// Open any upload the way the pipeline does: MP4 directly, Matroska through a scratch file.
pub(crate) fn open_source(input: &Path, scratch_dir: &Path) -> source::Source {
    if input.extension().is_some_and(|e| e == "mkv" || e == "webm") {
        source::matroska::open(input, &scratch_dir.join("demuxed.tmp")).unwrap()
    } else {
        source::Source::open(input).unwrap()
    }
}

fn remux_to_hls(input: &Path, out: &Path) -> (Rendition, PathBuf) {
    std::fs::create_dir_all(out).unwrap();
    let mut source = open_source(input, out);
    let r = remux::fragmented::write(&mut source, &out.join("720-fragmented.mp4")).unwrap();
    std::fs::write(
        out.join("720.m3u8"),
        remux::playlist::media(&r, "720-fragmented.mp4"),
    )
    .unwrap();
    let master = out.join("master.m3u8");
    std::fs::write(
        &master,
        remux::playlist::master(&[remux::playlist::Variant::of(&r, "720.m3u8".to_owned())]),
    )
    .unwrap();
    (r, master)
}

fn check(input: &Path, expect_segments: usize) {
    let dir = crate::common::tempdir();
    let (r, master) = remux_to_hls(input, dir.path());
    assert_eq!(r.segments.len(), expect_segments, "{r:#?}");

    // Everything decodes, through the master playlist, with no error.
    let decode = Ffmpeg::new().input(&master).args(["-f", "null", "-"]).run();
    assert!(
        decode.status.success() && decode.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&decode.stderr)
    );

    // Same packets as the source, same duration within 100 ms.
    assert_eq!(packet_counts(&r.file), packet_counts(input));
    let (src, hls) = (video_duration(input), video_duration(&r.file));
    assert!((src - hls).abs() <= 0.1, "source {src} s, HLS {hls} s");
    let total: f64 = r.segments.iter().map(|s| s.duration_secs).sum();
    assert!(
        (total - src).abs() <= 0.1,
        "playlist {total} s, source {src} s"
    );

    // Each segment's first video packet is a keyframe.
    let packets = ffprobe(
        &[
            "-select_streams",
            "v",
            "-show_entries",
            "packet=pos,flags",
            "-of",
            "csv=p=0",
        ],
        &r.file,
    );
    let packets: Vec<(u64, bool)> = packets
        .lines()
        .filter_map(|l| l.split_once(','))
        .map(|(pos, flags)| (pos.parse().unwrap(), flags.starts_with('K')))
        .collect();
    for s in &r.segments {
        let first = packets
            .iter()
            .filter(|(pos, _)| (s.offset..s.offset + s.length).contains(pos))
            .min_by_key(|(pos, _)| *pos)
            .unwrap();
        assert!(first.1, "segment at {} starts with a keyframe", s.offset);
    }

    // The playlists say what the file holds.
    let master_text = std::fs::read_to_string(&master).unwrap();
    assert!(
        master_text.contains(&format!("RESOLUTION={}x{}", r.width, r.height)),
        "{master_text}"
    );
    assert!(
        master_text.contains(&format!("CODECS=\"{}\"", r.codecs)),
        "{master_text}"
    );
    let media = std::fs::read_to_string(dir.path().join("720.m3u8")).unwrap();
    assert_eq!(media.matches("#EXT-X-BYTERANGE").count(), r.segments.len());
    assert!(media.contains("#EXT-X-ENDLIST"));

    // Audio and video start together as in the source (A/V sync within 20 ms).
    let (src_offset, out_offset) = (av_offset(input), av_offset(&r.file));
    assert!(
        (src_offset - out_offset).abs() <= 0.02,
        "audio starts {out_offset:.3} s after video, the source {src_offset:.3} s"
    );

    // The HLS file decodes to exactly the source's frames and audio.
    same_frames(&r.file, input, true);
    check_progressive(input, dir.path());
}

/// The progressive MP4: `moov` before `mdat`, the source's packets, duration and decoded frames.
fn check_progressive(input: &Path, dir: &Path) {
    let out = dir.join("720.mp4");
    let mut source = open_source(input, dir);
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    source.count_into(counter.clone());
    let p = remux::progressive::write(&mut source, &out).unwrap();
    // Progress counts every sample byte once.
    assert_eq!(
        counter.load(std::sync::atomic::Ordering::Relaxed),
        source.sample_bytes()
    );
    assert_eq!(p.size, std::fs::metadata(&out).unwrap().len());
    let bytes = std::fs::read(&out).unwrap();
    let top: Vec<&[u8]> = top_level_boxes(&bytes);
    assert_eq!(top, [b"ftyp", b"moov", b"mdat"], "fast start");
    assert_eq!(packet_counts(&out), packet_counts(input));
    let (src, prog) = (video_duration(input), video_duration(&out));
    assert!(
        (src - prog).abs() <= 0.1,
        "source {src} s, progressive {prog} s"
    );
    assert!((p.duration_secs - src).abs() <= 0.1);
    // The tracks start where they did: sample tables count from 0, so a track that started
    // later (Matroska) needs an edit list.
    let drift = (av_offset(&out) - av_offset(input)).abs();
    assert!(
        drift <= 0.040,
        "A/V offset of {input:?} moved by {drift} s: {} then {}",
        av_offset(input),
        av_offset(&out)
    );
    same_frames(&out, input, false);
}

pub(crate) fn top_level_boxes(bytes: &[u8]) -> Vec<&[u8]> {
    let mut at = 0usize;
    let mut out = Vec::new();
    while at + 8 <= bytes.len() {
        let mut size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as u64;
        if size == 1 {
            size = u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap());
        }
        out.push(&bytes[at + 4..at + 8]);
        at += size as usize;
    }
    out
}

/// Both files decode to the same video frames and audio, in the same order per stream.
fn same_frames(output: &Path, input: &Path, priming_kept: bool) {
    let by_stream = |path: &Path| {
        let mut streams: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for h in frame_hashes(path) {
            let (stream, hash) = h.split_once(':').unwrap();
            streams
                .entry(stream.to_owned())
                .or_default()
                .push(hash.to_owned());
        }
        streams
    };
    let (got, want) = (by_stream(output), by_stream(input));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (stream, want) in &want {
        let mut got = got[stream].as_slice();
        // ffmpeg does not apply edit lists to fragmented MP4, so there it also decodes the
        // AAC priming frame that the source's edit list hides: one extra first audio frame.
        if priming_kept && stream != "0" && got.len() == want.len() + 1 {
            got = &got[1..];
        }
        assert_eq!(
            got.len(),
            want.len(),
            "stream {stream} frame count of {output:?}"
        );
        let mut first_difference = got.iter().zip(want).position(|(a, b)| a != b);
        // WebM trims the last Opus packet's padding (DiscardPadding); MP4 has no per-packet
        // equivalent, so that one packet decodes a few milliseconds longer.
        let webm = input.extension().is_some_and(|e| e == "webm");
        if webm && stream != "0" && first_difference == Some(want.len() - 1) {
            first_difference = None;
        }
        assert_eq!(
            first_difference, None,
            "stream {stream} of {output:?} decodes differently"
        );
    }
}

/// MD5 of every decoded video frame and audio frame, without timestamps, ordered by stream
/// (stably, so each stream keeps its own order): equal lists mean nothing was lost, added or
/// reordered.
fn frame_hashes(input: &Path) -> Vec<String> {
    let out = Ffmpeg::new()
        .input(input)
        .args(["-f", "framemd5", "-"])
        .run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut hashes = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split(',').map(str::trim).collect();
            (cols.len() == 6).then(|| format!("{}:{}", cols[0], cols[5]))
        })
        .collect::<Vec<_>>();
    hashes.sort_by_key(|h| h.split(':').next().unwrap_or("").to_owned());
    hashes
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/media")
        .join(name)
}

#[test]
fn real_clips_remux_to_hls() {
    // One GOP each: one segment.
    check(&fixture("bigbuckbunny.mp4"), 1);
    check(&fixture("bikes.mp4"), 3);
}

#[test]
fn b_frames_and_keyframes_every_two_seconds_make_four_second_segments() {
    let dir = crate::common::tempdir();
    let input = dir.path().join("gop.mp4");
    Ffmpeg::new()
        .lavfi("testsrc2=size=640x360:rate=30:duration=20")
        .lavfi("sine=frequency=300:duration=20")
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-bf", "3", "-c:a", "aac",
            "-b:a", "96k",
        ])
        .make(&input);
    check(&input, 5);
    // Not H.264: refused with a reason, not a broken file.
    let vp9 = dir.path().join("vp9.mp4");
    Ffmpeg::new()
        .lavfi("testsrc2=duration=1")
        .args(["-c:v", "libvpx-vp9", "-deadline", "realtime"])
        .make(&vp9);
    let e = remux::fragmented::remux_mp4(&vp9, &dir.path().join("out.mp4")).unwrap_err();
    assert!(e.to_string().contains("neither H.264 nor AV1"), "{e}");
}

#[test]
fn av1_with_opus_in_mp4_remuxes_as_is() {
    let dir = crate::common::tempdir();
    let input = dir.path().join("av1.mp4");
    Ffmpeg::new()
        .lavfi("testsrc2=size=640x360:rate=25:duration=10")
        .lavfi("sine=frequency=440:duration=10:sample_rate=48000")
        .args([
            "-c:v",
            "libsvtav1",
            "-preset",
            "12",
            "-g",
            "50",
            "-c:a",
            "libopus",
        ])
        .make(&input);
    check(&input, 3);
    let opened = source::Source::open(&input).unwrap();
    assert!(
        opened.codecs.starts_with("av01.0.") && opened.codecs.ends_with(".08,opus"),
        "{}",
        opened.codecs
    );
}

/// Matroska and WebM, remuxed without re-encoding: H.264 with B-frames and AAC in MKV, AV1 with
/// Opus in WebM.
#[test]
fn matroska_and_webm_remux_as_they_are() {
    let dir = crate::common::tempdir();
    let mkv = dir.path().join("h264.mkv");
    Ffmpeg::new()
        .lavfi("testsrc2=size=640x360:rate=30:duration=12")
        .lavfi("sine=frequency=300:duration=12")
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-bf", "3",
        ])
        .args(["-c:a", "aac", "-b:a", "96k"])
        .make(&mkv);
    check(&mkv, 3);
    // Audio that starts half a second after the video.
    let late = dir.path().join("late-audio.mkv");
    Ffmpeg::new()
        .lavfi("testsrc2=size=320x180:rate=25:duration=6")
        .args(["-itsoffset", "0.5"])
        .lavfi("sine=frequency=300:duration=5")
        .args(["-c:v", "libx264", "-preset", "veryfast", "-g", "50"])
        .args(["-c:a", "aac", "-b:a", "96k"])
        .make(&late);
    assert!(av_offset(&late) > 0.45, "{}", av_offset(&late));
    check(&late, 2);
    let webm = dir.path().join("av1.webm");
    Ffmpeg::new()
        .lavfi("testsrc2=size=640x360:rate=25:duration=10")
        .lavfi("sine=frequency=440:duration=10:sample_rate=48000")
        .args([
            "-c:v",
            "libsvtav1",
            "-preset",
            "12",
            "-g",
            "50",
            "-c:a",
            "libopus",
        ])
        .make(&webm);
    check(&webm, 3);
}

/// A phone's rotated MOV keeps its display matrix (players turn it; the thumbnail is turned by
/// the pipeline), a size that is no multiple of 16 and variable frame timing survive intact.
#[test]
fn rotated_mov_odd_size_and_variable_frame_rate() {
    let dir = crate::common::tempdir();
    let make = |name: &str, args: &[&str]| {
        let out = dir.path().join(name);
        Ffmpeg::new().args(args).make(out)
    };
    let upright = make(
        "upright.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=480x270:rate=30:duration=6",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=6",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "60",
            "-c:a",
            "aac",
        ],
    );
    // ffmpeg 5.1 writes the rotation tag only when copying streams.
    let mov = make(
        "rotated.mov",
        &[
            "-i",
            upright.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v",
            "rotate=90",
        ],
    );
    check(&mov, 2);
    let rotation = |p: &Path| {
        ffprobe(
            &[
                "-select_streams",
                "v",
                "-show_entries",
                "stream_side_data=rotation",
                "-of",
                "csv=p=0",
            ],
            p,
        )
        .trim()
        .to_owned()
    };
    let out = crate::common::tempdir();
    let (r, _) = remux_to_hls(&mov, out.path());
    assert_eq!(rotation(&r.file), rotation(&mov));
    assert!(!rotation(&mov).is_empty(), "the input is rotated");

    let odd = make(
        "odd.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=642x362:rate=24:duration=5",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "48",
        ],
    );
    check(&odd, 2);
    let vfr = make(
        "vfr.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30:duration=8",
            "-vf",
            "setpts='PTS+0.02*sin(N)/TB'",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "30",
            "-bf",
            "0",
        ],
    );
    check(&vfr, 2);
}
