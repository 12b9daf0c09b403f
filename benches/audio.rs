//! Audio re-encoding bench (a bench binary): Vireo turning a 10-minute 44.1 kHz stereo FLAC
//! track into 48 kHz Opus in-process (`media::audio::to_opus`: symphonia decode, rubato
//! resampling, libopus at 128 kb/s, the video's samples copied beside it as for an MP4/MOV upload), against ffmpeg doing
//! the same audio work (its FLAC decoder, its resampler, libopus at 128 kb/s) in the same run.
//!
//! Run: `cargo bench --bench audio` (also run by `bash benches/run.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::path::Path;
use std::time::Instant;

use common::ffmpeg;

const SECONDS: u32 = 600;
const RUNS: usize = 3;

/// Music-like input: pink noise under a chord, 44.1 kHz stereo FLAC, beside a tiny H.264 video
/// (Vireo's sources always have one).
fn make_input(path: &Path) {
    let d = SECONDS.to_string();
    let audio = format!(
        "anoisesrc=c=pink:r=44100:a=0.1:d={d},aformat=channel_layouts=stereo[n];\
         aevalsrc=0.2*sin(2*PI*220*t)+0.1*sin(2*PI*330*t):s=44100:d={d}:c=stereo[t];\
         [n][t]amix=inputs=2"
    );
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size=64x64:rate=1:duration={d}"),
        "-filter_complex",
        &audio,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "flac",
        path.to_str().unwrap(),
    ]);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.mkv");
    make_input(&input);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut opus_bytes = 0u64;
    for _ in 0..RUNS {
        let started = Instant::now();
        let src =
            vireo::media::source::matroska::open(&input, &dir.path().join("demuxed")).unwrap();
        let src = vireo::media::audio::to_opus(src, &dir.path().join("opus")).unwrap();
        ours.push(started.elapsed().as_secs_f64());
        opus_bytes = src
            .audio
            .as_ref()
            .map(|a| a.samples.iter().map(|s| u64::from(s.size)).sum())
            .unwrap_or(0);

        let out = dir.path().join("ffmpeg.opus");
        let started = Instant::now();
        ffmpeg(&[
            "-threads",
            "1",
            "-i",
            input.to_str().unwrap(),
            "-vn",
            "-ar",
            "48000",
            "-c:a",
            "libopus",
            "-b:a",
            "128k",
            out.to_str().unwrap(),
        ]);
        theirs.push(started.elapsed().as_secs_f64());
    }
    let (ours, theirs) = (median(ours), median(theirs));
    let secs = f64::from(SECONDS);
    println!(
        "audio: {SECONDS} s of 44.1 kHz stereo FLAC to 48 kHz Opus 128 kb/s, median of {RUNS}"
    );
    println!(
        "| vireo (demux, video copy, decode, resample, libopus) | {ours:.2} s | {:.0}× realtime | {:.2}× ffmpeg's time |",
        secs / ours,
        ours / theirs
    );
    println!(
        "| ffmpeg (FLAC decode, swresample, libopus, 1 thread) | {theirs:.2} s | {:.0}× realtime | 1.00× |",
        secs / theirs
    );
    println!(
        "Opus: {opus_bytes} bytes = {:.1} kb/s",
        opus_bytes as f64 * 8.0 / secs / 1000.0
    );
}
