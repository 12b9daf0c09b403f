//! Audio browsers cannot play from MP4 (PCM from cameras, FLAC, Vorbis, MP3 in Matroska)
//! becomes Opus: judged by Debian's ffprobe/ffmpeg (codec, rate, channels, duration, the A/V
//! offset against the source's) and by the sound itself (the Opus track decoded by ffmpeg
//! matches the source decoded by ffmpeg, sample for sample once aligned). Then through the real
//! server: such uploads are published, the H.264 one by remux, the VP9 + Vorbis one by its
//! first AV1 rung, and Chromium plays them.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vireo::media::{remux, source};

use crate::common::{Ffmpeg, Server, tempdir};
use crate::ladder::{download, master_of, upload_named, wait_for_rungs};
use crate::remux::{av_offset, ffprobe};

/// A clip with a chord (two tones, different per channel where there are several), so a
/// swapped, dropped or shifted channel shows.
fn clip(dir: &Path, name: &str, audio: &[&str], video: &[&str]) -> PathBuf {
    let path = dir.join(name);
    Ffmpeg::new()
        .lavfi("testsrc2=size=320x240:rate=25:duration=4")
        .args(audio)
        .args(video)
        .arg("-shortest")
        .make(path)
}

fn tones(rate: u32, layout: &str) -> Vec<String> {
    vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("aevalsrc=0.3*sin(2*PI*440*t)+0.2*sin(2*PI*1250*t):s={rate}:d=4:c={layout}"),
    ]
}

const H264: &[&str] = &["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"];

/// The first audio stream's (codec, sample rate, channels, duration in seconds).
fn audio_stream(file: &Path) -> (String, u32, u32, f64) {
    let out = ffprobe(
        &[
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_name,sample_rate,channels:format=duration",
            "-of",
            "default=nw=1",
        ],
        file,
    );
    let field = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_default()
            .to_owned()
    };
    (
        field("codec_name"),
        field("sample_rate").parse().unwrap_or(0),
        field("channels").parse().unwrap_or(0),
        field("duration").parse().unwrap_or(0.0),
    )
}

/// The first audio stream decoded by ffmpeg to mono at 48 kHz.
fn mono_48k(file: &Path) -> Vec<f32> {
    let out = Ffmpeg::new()
        .input(file)
        .args([
            "-map", "0:a:0", "-ac", "1", "-ar", "48000", "-f", "f32le", "-",
        ])
        .run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Signal-to-noise ratio (dB) of `ours` against `source`, over 0.2 s from 50 ms in, at the
/// best alignment within ±21 ms
/// and the best gain (a fold from surround changes the level, not the waveform), and that
/// alignment in samples. Opus keeps the waveform closely at 128 kb/s.
fn fidelity(source: &[f32], ours: &[f32]) -> (f64, i64) {
    let span = 9_600
        .min(source.len().saturating_sub(4_800))
        .min(ours.len().saturating_sub(4_800));
    assert!(
        span == 9_600,
        "both tracks hold at least a quarter of a second"
    );
    let from = 2_400usize;
    let mut best = (f64::NEG_INFINITY, 0i64);
    for lag in -1000i64..=1000 {
        let pairs = (from..from + span).filter_map(|i| {
            let j = usize::try_from(i as i64 + lag).ok()?;
            Some((f64::from(source[i]), f64::from(*ours.get(j)?)))
        });
        let (mut so, mut oo, mut ss) = (0f64, 0f64, 0f64);
        for (s, o) in pairs {
            so += s * o;
            oo += o * o;
            ss += s * s;
        }
        // With the best gain g = so/oo, the residual energy is ss - so²/oo.
        let noise = (ss - so * so / oo.max(1e-12)).max(1e-12);
        let snr = 10.0 * (ss / noise).log10();
        if snr > best.0 {
            best = (snr, lag);
        }
    }
    best
}

/// Open `input` as the pipeline does, turn its audio into Opus, write the HLS fragmented MP4
/// and the progressive MP4, and judge both.
fn check(input: &Path, work: &Path, channels: u32) {
    let name = input.file_name().unwrap().to_string_lossy().into_owned();
    let demuxed = work.join(format!("{name}.demuxed"));
    let src = if input.extension().is_some_and(|e| e == "mkv" || e == "webm") {
        source::matroska::open(input, &demuxed).unwrap()
    } else {
        source::Source::open(input).unwrap()
    };
    assert!(
        src.audio.is_none() && src.foreign_audio.is_some(),
        "{name}: audio kept apart"
    );
    let mut src = vireo::media::audio::to_opus(src, &work.join(format!("{name}.opus"))).unwrap();
    assert!(src.codecs.ends_with(",opus"), "{name}: {}", src.codecs);
    let hls = work.join(format!("{name}.hls.mp4"));
    remux::fragmented::write(&mut src, &hls).unwrap();
    let web = work.join(format!("{name}.web.mp4"));
    remux::progressive::write(&mut src, &web).unwrap();

    let (_, _, _, source_duration) = audio_stream(input);
    let source_offset = av_offset(input);
    let source_sound = mono_48k(input);
    for out in [&hls, &web] {
        let (codec, rate, got_channels, duration) = audio_stream(out);
        assert_eq!(
            (codec.as_str(), rate, got_channels),
            ("opus", 48_000, channels),
            "{out:?}"
        );
        assert!(
            (duration - source_duration).abs() < 0.1,
            "{out:?}: {duration} s against {source_duration} s"
        );
        let errors = crate::encode::decode_errors(out);
        assert!(errors.is_empty(), "{out:?} decodes cleanly: {errors}");
        let (snr, lag) = fidelity(&source_sound, &mono_48k(out));
        println!("{name} → {out:?}: SNR {snr:.1} dB at a lag of {lag} samples");
        assert!(snr > 30.0, "{out:?} sounds like the source: {snr:.1} dB");
        // The sound sits where it sat, to the millisecond (Opus's pre-skip honoured).
        assert!(lag.abs() <= 48, "{out:?}: shifted by {lag} samples");
    }
    let offset = av_offset(&hls);
    assert!(
        (offset - source_offset).abs() < 0.04,
        "{name}: A/V offset {offset:.3} s against the source's {source_offset:.3} s"
    );
}

#[test]
fn pcm_flac_vorbis_and_matroska_mp3_become_opus_in_sync_and_sounding_like_the_source() {
    let dir = tempdir();
    let d = dir.path();
    let args = |audio: Vec<String>, codec: &[&str]| -> Vec<String> {
        audio
            .into_iter()
            .chain(codec.iter().map(|s| s.to_string()))
            .collect()
    };
    let cases: [(&str, Vec<String>, u32); 6] = [
        // A camera's MOV: 16-bit PCM at 48 kHz.
        (
            "camera.mov",
            args(tones(48_000, "stereo"), &["-c:a", "pcm_s16le"]),
            2,
        ),
        // 24-bit PCM at 44.1 kHz, mono: resampled, one channel kept.
        (
            "mono24.mov",
            args(tones(44_100, "mono"), &["-c:a", "pcm_s24le"]),
            1,
        ),
        // FLAC 5.1 in Matroska: folded into stereo.
        (
            "surround.mkv",
            args(tones(48_000, "5.1"), &["-c:a", "flac"]),
            2,
        ),
        (
            "vorbis.mkv",
            args(tones(44_100, "stereo"), &["-c:a", "libvorbis"]),
            2,
        ),
        (
            "mp3.mkv",
            args(tones(44_100, "stereo"), &["-c:a", "libmp3lame"]),
            2,
        ),
        (
            "pcm.mkv",
            args(tones(32_000, "stereo"), &["-c:a", "pcm_s16le"]),
            2,
        ),
    ];
    for (name, audio, channels) in &cases {
        let audio: Vec<&str> = audio.iter().map(String::as_str).collect();
        let input = clip(d, name, &audio, H264);
        check(&input, d, *channels);
    }
}

#[test]
fn undecodable_audio_is_refused_with_a_reason_and_nothing_panics() {
    let dir = tempdir();
    let d = dir.path();
    let vorbis: Vec<String> = tones(44_100, "stereo");
    let audio: Vec<&str> = vorbis.iter().map(String::as_str).collect();
    let input = clip(
        d,
        "vorbis.mkv",
        &[audio, vec!["-c:a", "libvorbis"]].concat(),
        H264,
    );
    // Every audio packet garbled: the video is fine, the audio cannot be made.
    let mut src = source::matroska::open(&input, &d.join("demuxed")).unwrap();
    let foreign = src.foreign_audio.as_mut().unwrap();
    let mut bytes = std::fs::read(d.join("demuxed")).unwrap();
    for s in &foreign.track.samples {
        let at = s.offset as usize;
        for b in &mut bytes[at..at + s.size as usize] {
            *b = b.wrapping_mul(31).wrapping_add(7);
        }
    }
    std::fs::write(d.join("demuxed"), &bytes).unwrap();
    let err = match vireo::media::audio::to_opus(src, &d.join("opus")) {
        Err(e) => e.to_string(),
        Ok(_) => String::new(),
    };
    assert!(err.contains("cannot be decoded"), "{err}");
}

/// The first audio stream of the media file a rendition URL serves.
fn fetched(s: &Server, url: &str, to: &Path) -> (String, u32, u32, f64) {
    download(s, url, to);
    audio_stream(to)
}

#[test]
fn uploads_with_pcm_or_vorbis_audio_are_published_with_opus_and_chromium_plays_them() {
    let dir = tempdir();
    let work = tempdir();
    let s = crate::ladder::start(dir.path(), "[240]");
    let root = s.root_token();

    let pcm: Vec<String> = tones(48_000, "stereo");
    let pcm: Vec<&str> = pcm.iter().map(String::as_str).collect();
    let camera = clip(
        work.path(),
        "camera.mov",
        &[pcm, vec!["-c:a", "pcm_s16le"]].concat(),
        H264,
    );
    let vorbis: Vec<String> = tones(44_100, "stereo");
    let vorbis: Vec<&str> = vorbis.iter().map(String::as_str).collect();
    let webm = clip(
        work.path(),
        "old.webm",
        &[
            vorbis,
            vec![
                "-c:a",
                "libvorbis",
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-g",
                "25",
            ],
        ]
        .concat(),
        &[],
    );

    for (name, file) in [("camera.mov", &camera), ("old.webm", &webm)] {
        let uuid = upload_named(&s, &root, name, std::fs::read(file).unwrap());
        wait_for_rungs(&s, &uuid, &[240]);
        let video: Value = crate::uploads::wait_up_to(&s, &uuid, 120, "the ladder ended", |v| {
            v["progress"].is_null()
        });
        assert_eq!(video["state"]["id"], 1, "{name} is published: {video}");
        assert!(
            video["stateReason"].is_null(),
            "{name}: {}",
            video["stateReason"]
        );
        let files = crate::ladder::hls_files(&video);
        // The MOV: its remux (H.264 + Opus) and its AV1 rung; the WebM: its AV1 rung and its
        // H.264 rendition, both with Opus.
        assert_eq!(files.len(), 2, "{name}: {files:?}");
        for (i, f) in files.iter().enumerate() {
            let url = f["fileUrl"].as_str().unwrap();
            let local = work.path().join(format!("{name}-{i}.mp4"));
            let (codec, rate, channels, _) = fetched(&s, url, &local);
            assert_eq!(
                (codec.as_str(), rate, channels),
                ("opus", 48_000, 2),
                "{name}: {url}"
            );
            let offset = av_offset(&local);
            let source_offset = av_offset(file);
            assert!(
                (offset - source_offset).abs() < 0.04,
                "{name}: A/V offset {offset:.3} s against {source_offset:.3} s"
            );
        }
        let (master_url, master) = master_of(&s, &video);
        assert!(master.contains("opus"), "{master}");
        // Every level plays: the AV1 rung and the H.264 one (remux or compatibility rendition).
        let tag = format!("opus-{}", name.replace('.', "-"));
        let mut codecs: Vec<String> = crate::ladder::chromium_plays_every_level(&master_url, &tag)
            .into_iter()
            .map(|(codec, _)| codec[..4].to_owned())
            .collect();
        codecs.sort();
        assert_eq!(codecs, ["av01", "avc1"], "{name}");
    }
}
