//! Transcoding bench (a bench binary): Vireo's AV1 ladder (`media::transcode`, one shared decode,
//! a thread per rung, as the pipeline runs it) against, in the same run and on the same inputs,
//! ffmpeg's x264 `veryfast` (PeerTube's choice, 2-second GOP as PeerTube sets it) and ffmpeg's
//! SVT-AV1 preset 10 (the fastest AV1 peer). Each ladder is made at four quality points; per rung
//! the bytes (video only) and the PSNR against the source scaled by ffmpeg (Lanczos) give a
//! Bjøntegaard delta rate (BD-rate) against x264. Wall time, cores busy and frames per second are
//! reported for the default operating points (x264 crf 23, Vireo's configured quantizer), plus
//! the time to the first (smallest) rung alone, and the API's p99 latency while the release
//! server encodes a ladder against its p99 idle.
//!
//! Inputs: `bigbuckbunny.mp4` looped to 21.1 s (720p25, 528 frames), and a synthetic noisy 1080p30
//! clip (ffmpeg `testsrc2` with temporal noise, 3 s). Run: `cargo bench --bench transcode` (or
//! `bash benches/run.sh`); `TRANSCODE_BENCH_QUICK=1` keeps only the looped input's ladders;
//! `TRANSCODE_BENCH_PROFILE=1` runs one Vireo ladder alone (for `perf record`);
//! `TRANSCODE_BENCH_API=1` only the API latency part; `TRANSCODE_BENCH_TUNING=1` rav1e's tunings
//! side by side on the unlooped clip; `TRANSCODE_BENCH_VP9=1` only the VP9
//! upload (decode speed, time to the first rung published, whole ladder);
//! `TRANSCODE_BENCH_AV1=1` only AV1 decoding (rav1d through the child process and in-process,
//! against ffmpeg's libdav1d).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Vireo, ffmpeg, loop_fixture, wrk};
use vireo::media::encode::av1::Tuning;
use vireo::media::transcode::ladder::{Rung, rungs};
use vireo::media::transcode::rendition::{Quality, Target, transcode, transcode_ladder};

/// Vireo's defaults (`config.rs`): the operating point the time targets are judged at.
const SPEED: u8 = 10;
const QUANTIZER: usize = 110;
const AV1_POINTS: [usize; 4] = [80, 110, 140, 170];
const X264_POINTS: [u32; 4] = [23, 27, 31, 35];
const SVT_POINTS: [u32; 4] = [35, 41, 47, 53];

/// CPU seconds used so far by this process itself, and by its children that were waited for
/// (`/proc/self/stat` fields 14–17: utime, stime, cutime, cstime, in clock ticks of 1/100 s).
fn cpu_seconds() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = s.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after_name
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    ((f[11] + f[12]) / 100.0, (f[13] + f[14]) / 100.0)
}

/// PSNR (dB, all planes) and SSIM (as dB: −10·log10(1 − SSIM), all planes) of `output` against
/// `source` scaled by ffmpeg (Lanczos) to the rung's size.
/// Frames are paired by their number (`setpts=N`), not their time stamps: the references
/// restart time at zero while the source keeps its edit list and loop joins, and the filters'
/// time-based pairing then compares neighbouring frames (−7 dB seen).
fn quality_of(output: &Path, source: &Path, rung: Rung) -> (f64, f64) {
    let out = Command::new("ffmpeg")
        .args(["-v", "info", "-i"])
        .arg(output)
        .arg("-i")
        .arg(source)
        .args([
            "-lavfi",
            &format!(
                "[1:v]setpts=N/TB/25,scale={}:{}:flags=lanczos,split[r1][r2];\
                 [0:v]setpts=N/TB/25,split[a][b];[a][r1]psnr;[b][r2]ssim",
                rung.width, rung.height
            ),
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let psnr = log
        .split("average:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    // "SSIM Y:… All:0.981234 (17.258…)": the figure in brackets is the dB form.
    let ssim_db = log
        .split("All:")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split(')').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(f64::NAN);
    (psnr, ssim_db)
}

/// Bytes of a file's video packets (audio left out, as the references drop it).
fn video_bytes(file: &Path) -> u64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "packet=size",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse::<u64>().ok())
        .sum()
}

/// One input of the bench.
struct Input {
    name: &'static str,
    path: PathBuf,
    width: usize,
    height: usize,
    fps: u32,
    frames: usize,
    resolutions: &'static [u32],
}

/// One rung at one quality point.
#[derive(Clone, Copy)]
struct Point {
    bytes: u64,
    psnr: f64,
    ssim_db: f64,
}

impl Point {
    fn measure(output: &Path, source: &Path, rung: Rung) -> Point {
        let (psnr, ssim_db) = quality_of(output, source, rung);
        Point {
            bytes: video_bytes(output),
            psnr,
            ssim_db,
        }
    }
}

/// One whole ladder at one quality point.
struct Ladder {
    wall: f64,
    cpu: f64,
    rungs: Vec<Point>,
}

/// A reference ladder through ffmpeg, one process per rung as PeerTube's jobs run them.
fn ffmpeg_ladder(input: &Input, dir: &Path, tag: &str, codec_args: &[String]) -> Ladder {
    let gop = (input.fps * 2).to_string();
    let mut ladder = Ladder {
        wall: 0.0,
        cpu: 0.0,
        rungs: Vec::new(),
    };
    for rung in rungs(input.width, input.height, input.resolutions) {
        let out = dir.join(format!("{tag}-{}.mp4", rung.resolution));
        let (_, children0) = cpu_seconds();
        let t = Instant::now();
        let scale = format!("scale={}:{}:flags=lanczos", rung.width, rung.height);
        let mut args: Vec<&str> = vec!["-threads", "2", "-i", input.path.to_str().unwrap()];
        // Passthrough: by default ffmpeg duplicates a frame at the looped input's joins, which
        // would shift every later frame against the source.
        args.extend(["-vf", &scale, "-g", &gop, "-an", "-fps_mode", "passthrough"]);
        args.extend(codec_args.iter().map(String::as_str));
        args.push(out.to_str().unwrap());
        ffmpeg(&args);
        ladder.wall += t.elapsed().as_secs_f64();
        // A child's CPU is counted once it is waited for, which `output` did.
        ladder.cpu += cpu_seconds().1 - children0;
        ladder.rungs.push(Point::measure(&out, &input.path, rung));
    }
    ladder
}

fn x264_ladder(input: &Input, dir: &Path, crf: u32) -> Ladder {
    let args = [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        &crf.to_string(),
    ];
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    ffmpeg_ladder(input, dir, &format!("x264-{crf}"), &args)
}

fn svt_ladder(input: &Input, dir: &Path, crf: u32) -> Ladder {
    let args = [
        "-c:v",
        "libsvtav1",
        "-preset",
        "10",
        "-crf",
        &crf.to_string(),
    ];
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    ffmpeg_ladder(input, dir, &format!("svt-{crf}"), &args)
}

fn quality(quantizer: usize) -> Quality {
    tuned(quantizer, Tuning::default())
}

fn tuned(quantizer: usize, tuning: Tuning) -> Quality {
    Quality {
        quantizer,
        speed: SPEED,
        keyframe_secs: 2.0,
        threads: 2,
        tuning,
    }
}

/// Vireo's ladder from one decode, every rung in its own thread with 2 encoder threads (what
/// `service::ladder` runs on a 2-core machine).
fn vireo_ladder(input: &Input, dir: &Path, quantizer: usize) -> Ladder {
    vireo_ladder_tuned(input, dir, quantizer, Tuning::default())
}

fn vireo_ladder_tuned(input: &Input, dir: &Path, quantizer: usize, tuning: Tuning) -> Ladder {
    let targets: Vec<Target> = rungs(input.width, input.height, input.resolutions)
        .into_iter()
        .map(|rung| {
            Target::hls(
                rung,
                dir.join(format!("av1-{quantizer}-{}.scratch", rung.resolution)),
                dir.join(format!("av1-{quantizer}-{}.mp4", rung.resolution)),
            )
        })
        .collect();
    let (own0, _) = cpu_seconds();
    let t = Instant::now();
    transcode_ladder(&input.path, &targets, tuned(quantizer, tuning), |_, _| {}).unwrap();
    let wall = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds().0 - own0;
    let rungs = targets
        .iter()
        .filter_map(|t| Some(Point::measure(t.output.as_deref()?, &input.path, t.rung)))
        .collect();
    Ladder { wall, cpu, rungs }
}

/// Least-squares cubic through `(x, y)` points: coefficients of 1, x, x², x³. Four unknowns, so
/// the normal equations are solved by hand (Gaussian elimination) rather than with a linear
/// algebra crate for one 4×4 system.
fn cubic_fit(points: &[(f64, f64)]) -> [f64; 4] {
    let mut m = [[0.0f64; 5]; 4];
    for &(x, y) in points {
        let powers = [1.0, x, x * x, x * x * x];
        for r in 0..4 {
            for c in 0..4 {
                m[r][c] += powers[r] * powers[c];
            }
            m[r][4] += powers[r] * y;
        }
    }
    for col in 0..4 {
        let pivot = (col..4)
            .max_by(|a, b| m[*a][col].abs().total_cmp(&m[*b][col].abs()))
            .unwrap();
        m.swap(col, pivot);
        let pivot_row = m[col];
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    [
        m[0][4] / m[0][0],
        m[1][4] / m[1][1],
        m[2][4] / m[2][2],
        m[3][4] / m[3][3],
    ]
}

/// ∫ of the cubic `p` from `a` to `b`.
fn integral(p: [f64; 4], a: f64, b: f64) -> f64 {
    let f =
        |x: f64| p[0] * x + p[1] * x * x / 2.0 + p[2] * x.powi(3) / 3.0 + p[3] * x.powi(4) / 4.0;
    f(b) - f(a)
}

/// Bjøntegaard delta rate of `test` against `reference` (bytes and a quality in dB per
/// quality point, `metric` picking it), in percent: negative means fewer bytes at equal
/// quality. Over the quality range both cover.
fn bd_rate(reference: &[Point], test: &[Point], metric: fn(&Point) -> f64) -> f64 {
    // Both curves centred alike: cubes of raw dB figures make the normal equations
    // ill-conditioned.
    let all = reference.iter().chain(test).map(metric);
    let centre = all.clone().sum::<f64>() / all.count().max(1) as f64;
    let curve = |ps: &[Point]| -> ([f64; 4], f64, f64) {
        let pts: Vec<(f64, f64)> = ps
            .iter()
            .map(|p| (metric(p) - centre, (p.bytes as f64).ln()))
            .collect();
        let lo = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let hi = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        (cubic_fit(&pts), lo, hi)
    };
    let (r, rlo, rhi) = curve(reference);
    let (t, tlo, thi) = curve(test);
    let (lo, hi) = (rlo.max(tlo), rhi.min(thi));
    if hi <= lo {
        return f64::NAN; // the curves do not overlap
    }
    let diff = (integral(t, lo, hi) - integral(r, lo, hi)) / (hi - lo);
    (diff.exp() - 1.0) * 100.0
}

fn psnr(p: &Point) -> f64 {
    p.psnr
}

fn ssim(p: &Point) -> f64 {
    p.ssim_db
}

/// The per-rung curves of several ladders (one per quality point).
fn curves(ladders: &[Ladder]) -> Vec<Vec<Point>> {
    let n = ladders[0].rungs.len();
    (0..n)
        .map(|i| ladders.iter().map(|l| l.rungs[i]).collect())
        .collect()
}

fn bench_input(input: &Input, dir: &Path) -> (f64, f64) {
    println!(
        "\n### {}: {}×{}, {} fps, {} frames; ladder {:?}\n",
        input.name, input.width, input.height, input.fps, input.frames, input.resolutions
    );
    let x264: Vec<Ladder> = X264_POINTS
        .iter()
        .map(|crf| x264_ladder(input, dir, *crf))
        .collect();
    let svt: Vec<Ladder> = SVT_POINTS
        .iter()
        .map(|crf| svt_ladder(input, dir, *crf))
        .collect();
    let av1: Vec<Ladder> = AV1_POINTS
        .iter()
        .map(|q| vireo_ladder(input, dir, *q))
        .collect();
    let ladder = rungs(input.width, input.height, input.resolutions);
    println!("| rung | quality point | x264 bytes / PSNR / SSIM dB | SVT-AV1 | Vireo AV1 |");
    println!("|---|---|---|---|---|");
    for (i, rung) in ladder.iter().enumerate() {
        for p in 0..4 {
            let cell = |pt: Point| format!("{} / {:.2} / {:.2}", pt.bytes, pt.psnr, pt.ssim_db);
            println!(
                "| {}p | crf {} / crf {} / q {} | {} | {} | {} |",
                rung.resolution,
                X264_POINTS[p],
                SVT_POINTS[p],
                AV1_POINTS[p],
                cell(x264[p].rungs[i]),
                cell(svt[p].rungs[i]),
                cell(av1[p].rungs[i]),
            );
        }
    }
    let (xc, sc, ac) = (curves(&x264), curves(&svt), curves(&av1));
    println!(
        "\n| rung | BD-rate by PSNR: SVT-AV1 | Vireo AV1 | BD-rate by SSIM: SVT-AV1 | Vireo AV1 |"
    );
    println!("|---|---|---|---|---|");
    let mut sums = [0.0; 4];
    for (i, rung) in ladder.iter().enumerate() {
        let row = [
            bd_rate(&xc[i], &sc[i], psnr),
            bd_rate(&xc[i], &ac[i], psnr),
            bd_rate(&xc[i], &sc[i], ssim),
            bd_rate(&xc[i], &ac[i], ssim),
        ];
        for (sum, v) in sums.iter_mut().zip(row) {
            *sum += v;
        }
        println!(
            "| {}p | {:+.1} % | {:+.1} % | {:+.1} % | {:+.1} % |",
            rung.resolution, row[0], row[1], row[2], row[3]
        );
    }
    let n = ladder.len() as f64;
    println!(
        "| **mean** | **{:+.1} %** | **{:+.1} %** | **{:+.1} %** | **{:+.1} %** |",
        sums[0] / n,
        sums[1] / n,
        sums[2] / n,
        sums[3] / n
    );
    let a_sum = sums[1];
    // The default operating points: x264 crf 23, SVT-AV1 crf 35, Vireo's quantizer.
    let at = AV1_POINTS.iter().position(|q| *q == QUANTIZER).unwrap();
    let (x, s, a) = (&x264[0], &svt[0], &av1[at]);
    let frames = input.frames as f64;
    println!("\n| whole ladder | wall s | × x264 | cores busy | source fps |");
    println!("|---|---|---|---|---|");
    for (name, l) in [
        ("x264 veryfast crf 23 (rung by rung)", x),
        ("SVT-AV1 preset 10 crf 35 (rung by rung)", s),
        ("Vireo AV1 q 110, one decode", a),
    ] {
        println!(
            "| {name} | {:.2} | {:.2}× | {:.2} | {:.1} |",
            l.wall,
            l.wall / x.wall,
            l.cpu / l.wall,
            frames / l.wall
        );
    }
    (a.wall / x.wall, a_sum / n)
}

/// rav1e's tunings side by side on one input: per tuning, the mean BD-rate of the ladder's
/// rungs against x264 (by PSNR and SSIM) and the ladder's wall time at the default quantizer
/// against x264 crf 23's, all measured in this run.
fn tuning_sweep(input: &Input, dir: &Path) {
    println!(
        "\n### rav1e tunings on {}: {} frames; ladder {:?}\n",
        input.name, input.frames, input.resolutions
    );
    let x264: Vec<Ladder> = X264_POINTS
        .iter()
        .map(|crf| x264_ladder(input, dir, *crf))
        .collect();
    let xc = curves(&x264);
    let at = AV1_POINTS.iter().position(|q| *q == QUANTIZER).unwrap();
    println!("| tuning | BD-rate by PSNR | by SSIM | wall s at q {QUANTIZER} | × x264 | cores |");
    println!("|---|---|---|---|---|---|");
    let fine = |up_to: u32| Tuning {
        small_partitions_up_to: up_to,
        ..Tuning::default()
    };
    let all = [
        ("speed 10 (default)", Tuning::default()),
        (
            "Tune::Psnr",
            Tuning {
                psnr: true,
                ..Tuning::default()
            },
        ),
        (
            "16×16–32×32 partitions",
            Tuning {
                small_partitions: true,
                ..Tuning::default()
            },
        ),
        (
            "both",
            Tuning {
                psnr: true,
                small_partitions: true,
                ..Tuning::default()
            },
        ),
        ("16×16–32×32 up to 360p", fine(360)),
        ("16×16–32×32 up to 480p", fine(480)),
    ];
    // `TRANSCODE_BENCH_TUNING=small`: the default and the small-rungs-only tunings alone.
    let only_small = std::env::var("TRANSCODE_BENCH_TUNING").is_ok_and(|v| v == "small");
    let tunings = all.into_iter().filter(|(name, t)| {
        !only_small || t.small_partitions_up_to > 0 || name.contains("default")
    });
    for (name, tuning) in tunings {
        let av1: Vec<Ladder> = AV1_POINTS
            .iter()
            .map(|q| vireo_ladder_tuned(input, dir, *q, tuning))
            .collect();
        let ac = curves(&av1);
        let n = ac.len() as f64;
        let by = |metric: fn(&Point) -> f64| {
            (0..ac.len())
                .map(|i| bd_rate(&xc[i], &ac[i], metric))
                .sum::<f64>()
                / n
        };
        let l = &av1[at];
        println!(
            "| {name} | {:+.1} % | {:+.1} % | {:.2} | {:.2}× | {:.2} |",
            by(psnr),
            by(ssim),
            l.wall,
            l.wall / x264[0].wall,
            l.cpu / l.wall
        );
    }
}

/// The smallest rung alone, as a video that cannot be remuxed would get it first.
fn first_rung(input: &Input, dir: &Path) {
    let rung = rungs(input.width, input.height, input.resolutions)[0];
    let t = Instant::now();
    transcode(
        &input.path,
        &dir.join("first.scratch"),
        &dir.join("first.mp4"),
        rung,
        quality(QUANTIZER),
        |_, _| {},
    )
    .unwrap();
    let wall = t.elapsed().as_secs_f64();
    let duration = input.frames as f64 / f64::from(input.fps);
    println!(
        "\nfirst rung ({}p) alone: {wall:.2} s for {duration:.1} s of video: {:.2}× the duration (target ≤ 1×)",
        rung.resolution,
        wall / duration
    );
}

/// The looped input as a VP9 + Opus WebM (libvpx-vp9 good quality, 2-pass-free, alt-ref
/// pictures on, as YouTube-style WebM has them): an upload no browser-wide remux can serve.
fn vp9_webm(input: &Input, dir: &Path) -> PathBuf {
    let out = dir.join("looped-vp9.webm");
    ffmpeg(&[
        "-i",
        &input.path.to_string_lossy(),
        "-c:v",
        "libvpx-vp9",
        "-deadline",
        "good",
        "-cpu-used",
        "5",
        "-row-mt",
        "1",
        "-b:v",
        "2M",
        "-g",
        "50",
        // The fixture's AAC is 5.1; Vireo maps Opus in MP4 for mono and stereo only.
        "-ac",
        "2",
        "-c:a",
        "libopus",
        "-b:a",
        "96k",
        &out.to_string_lossy(),
    ]);
    out
}

/// The looped input as an AV1 upload (SVT-AV1 preset 10, crf 35, keyframes every 2 s, no audio),
/// in MP4.
fn av1_mp4(input: &Input, dir: &Path) -> PathBuf {
    let out = dir.join("looped-av1.mp4");
    ffmpeg(&[
        "-i",
        &input.path.to_string_lossy(),
        // As the references: no frame added at the loop's joins.
        "-fps_mode",
        "passthrough",
        "-an",
        "-c:v",
        "libsvtav1",
        "-preset",
        "10",
        "-crf",
        "35",
        "-g",
        "50",
        &out.to_string_lossy(),
    ]);
    out
}

/// Seconds to decode every picture of `mp4` through the pipeline's decoder (`Frames`).
fn frames_decode(mp4: &Path, frames: usize) -> f64 {
    let t = Instant::now();
    let mut src = vireo::media::source::Source::open(mp4).unwrap();
    let mut pictures = vireo::media::transcode::frames::Frames::new(&mut src).unwrap();
    let mut decoded = 0;
    while pictures.next_frame().unwrap().is_some() {
        decoded += 1;
    }
    assert_eq!(decoded, frames, "every picture");
    t.elapsed().as_secs_f64()
}

/// AV1 decode speed: rav1d as the ladder runs it (in the child process, pictures over a pipe),
/// rav1d in this process (what the pipe costs), and ffmpeg's libdav1d (dav1d's C and assembly),
/// one thread each.
fn av1_decode(input: &Input, dir: &Path) {
    let mp4 = av1_mp4(input, dir);
    vireo::media::decode::av1::use_helper_binary(PathBuf::from(env!("CARGO_BIN_EXE_vireo")));
    let child = frames_decode(&mp4, input.frames);
    vireo::media::decode::av1::decode_in_process();
    let here = frames_decode(&mp4, input.frames);
    let t = Instant::now();
    ffmpeg(&[
        "-threads",
        "1",
        "-c:v",
        "libdav1d",
        "-i",
        &mp4.to_string_lossy(),
        "-f",
        "null",
        "-",
    ]);
    let dav1d = t.elapsed().as_secs_f64();
    println!(
        "
| AV1 720p decode, 1 thread, {} pictures | s | fps | × libdav1d |",
        input.frames
    );
    println!("|---|---|---|---|");
    for (name, s) in [
        (
            "rav1d in the child process (Vireo's ladder, demux included)",
            child,
        ),
        ("rav1d in-process", here),
        ("ffmpeg libdav1d", dav1d),
    ] {
        println!(
            "| {name} | {s:.2} | {:.0} | {:.2} |",
            input.frames as f64 / s,
            s / dav1d
        );
    }
}

/// A VP9 upload end to end in the release server: VP9 decode speed (rusty_vp9 in-process against
/// ffmpeg's libvpx and its native decoder, one thread each), then the time from upload to the
/// first AV1 rung published (the video's first playable moment) and to the whole ladder.
fn vp9_upload(input: &Input, dir: &Path) {
    let webm = vp9_webm(input, dir);
    let duration = input.frames as f64 / f64::from(input.fps);
    let t = Instant::now();
    let mut src = vireo::media::source::matroska::open(&webm, &dir.join("vp9.demuxed")).unwrap();
    let mut frames = vireo::media::transcode::frames::Frames::new(&mut src).unwrap();
    let mut decoded = 0;
    while frames.next_frame().unwrap().is_some() {
        decoded += 1;
    }
    let ours = t.elapsed().as_secs_f64();
    assert_eq!(decoded, input.frames, "every picture");
    let decode_with = |decoder: &str| {
        let t = Instant::now();
        ffmpeg(&[
            "-threads",
            "1",
            "-c:v",
            decoder,
            "-i",
            &webm.to_string_lossy(),
            "-an",
            "-f",
            "null",
            "-",
        ]);
        t.elapsed().as_secs_f64()
    };
    let libvpx = decode_with("libvpx-vp9");
    let native = decode_with("vp9");
    println!(
        "
| VP9 720p decode, 1 thread, {decoded} pictures | s | fps | × ffmpeg's vp9 |"
    );
    println!("|---|---|---|---|");
    for (name, s) in [
        ("rusty_vp9 (Vireo, demux included)", ours),
        ("ffmpeg libvpx-vp9", libvpx),
        ("ffmpeg native vp9", native),
    ] {
        println!(
            "| {name} | {s:.2} | {:.0} | {:.2} |",
            decoded as f64 / s,
            s / native
        );
    }

    let server = Vireo::start(
        &dir.join("vp9-data"),
        &[
            ("VIREO_TRANSCODING__ENABLED", "true"),
            ("VIREO_TRANSCODING__RESOLUTIONS", "[720, 480, 360, 240]"),
        ],
    );
    let t = Instant::now();
    let uuid = server.upload(&webm);
    let deadline = Instant::now() + Duration::from_secs(1800);
    let mut published = None;
    loop {
        let v = server.video(&uuid);
        assert_ne!(v["state"]["id"], 7, "failed: {v}");
        if published.is_none() && v["state"]["id"] == 1 {
            published = Some(t.elapsed().as_secs_f64());
        }
        // Four AV1 rungs and the H.264 rendition at 720p.
        let renditions = v["streamingPlaylists"][0]["files"]
            .as_array()
            .map_or(0, Vec::len);
        if renditions == 5 && v["progress"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "the VP9 ladder did not end: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let whole = t.elapsed().as_secs_f64();
    server.stop();
    let first = published.unwrap_or(whole);
    println!(
        "
VP9 upload of {duration:.1} s: first AV1 rung (240p) published after {first:.2} s = {:.2}× the duration (target ≤ 1×); all four AV1 rungs and the 720p H.264 rendition after {whole:.1} s",
        first / duration
    );
}

/// The API's latency idle and while the release server encodes a ladder (niced job threads).
fn api_under_transcode(input: &Input, dir: &Path) {
    let data = dir.join("api-data");
    let server = Vireo::start(&data, &[("VIREO_TRANSCODING__ENABLED", "true")]);
    let list = format!("{}/api/v1/videos?count=15&sort=-publishedAt", server.url);
    let idle = wrk(&list, &[]);
    let uuid = server.upload(&input.path);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !server.video(&uuid)["progress"]["fps"].is_number() {
        assert!(Instant::now() < deadline, "the ladder never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    let busy = wrk(&list, &[]);
    let still = server.video(&uuid)["progress"]["fps"].is_number();
    server.stop();
    println!("\n| GET /api/v1/videos | req/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    println!(
        "| idle | {:.0} | {:.2} | {:.2} |",
        idle.rps, idle.p50_ms, idle.p99_ms
    );
    println!(
        "| while the AV1 ladder encodes{} | {:.0} | {:.2} | {:.2} |",
        if still {
            ""
        } else {
            " (it ended during the load)"
        },
        busy.rps,
        busy.p50_ms,
        busy.p99_ms
    );
}

/// A noisy synthetic 1080p30 clip (H.264 High with B-frames, as a camera would give).
fn noisy_1080p(dir: &Path) -> PathBuf {
    let out = dir.join("noisy1080.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=1920x1080:r=30:d=3,noise=alls=12:allf=t+u",
        "-c:v",
        "libx264",
        "-preset",
        "medium",
        "-crf",
        "16",
        "-g",
        "60",
        "-bf",
        "3",
        "-pix_fmt",
        "yuv420p",
        out.to_str().unwrap(),
    ]);
    out
}

/// The BD-rate of a curve against itself is 0, and against itself at half the bytes −50 %.
fn check_bd_rate() {
    let curve: Vec<Point> = [
        (1_000_000, 42.1),
        (700_000, 40.3),
        (450_000, 38.2),
        (300_000, 36.0),
    ]
    .iter()
    .map(|&(bytes, psnr)| Point {
        bytes,
        psnr,
        ssim_db: psnr / 3.0,
    })
    .collect();
    let half: Vec<Point> = curve
        .iter()
        .map(|p| Point {
            bytes: p.bytes / 2,
            ..*p
        })
        .collect();
    assert!(bd_rate(&curve, &curve, psnr).abs() < 1e-6);
    let halved = bd_rate(&curve, &half, psnr);
    assert!((halved + 50.0).abs() < 1e-3, "{halved}");
    let halved = bd_rate(&curve, &half, ssim);
    assert!((halved + 50.0).abs() < 1e-3, "{halved}");
}

fn main() {
    check_bd_rate();
    let dir = tempfile::tempdir().unwrap();
    let looped = Input {
        name: "bigbuckbunny.mp4 looped ×4",
        path: loop_fixture(dir.path(), 4),
        width: 1280,
        height: 720,
        fps: 25,
        frames: 528,
        resolutions: &[720, 480, 360, 240],
    };
    // One untimed ffmpeg run first: the first start pages in its libraries (2 s once).
    ffmpeg(&["-f", "lavfi", "-i", "testsrc2=d=1", "-f", "null", "-"]);
    println!(
        "2 cores; x264 and SVT-AV1 through Debian's ffmpeg, 2 threads, GOP 2 s; Vireo in-process"
    );
    if std::env::var_os("TRANSCODE_BENCH_API").is_some() {
        api_under_transcode(&looped, dir.path());
        return;
    }
    if std::env::var_os("TRANSCODE_BENCH_PROFILE").is_some() {
        // One Vireo ladder at the default quantizer and nothing else, to run under `perf`.
        let l = vireo_ladder(&looped, dir.path(), QUANTIZER);
        println!("Vireo ladder: {:.2} s, {:.2} cores", l.wall, l.cpu / l.wall);
        return;
    }
    if std::env::var_os("TRANSCODE_BENCH_TUNING").is_some() {
        let short = Input {
            name: "bigbuckbunny.mp4",
            path: loop_fixture(dir.path(), 1),
            frames: 132,
            ..looped
        };
        tuning_sweep(&short, dir.path());
        return;
    }
    if std::env::var_os("TRANSCODE_BENCH_VP9").is_some() {
        vp9_upload(&looped, dir.path());
        return;
    }
    if std::env::var_os("TRANSCODE_BENCH_AV1").is_some() {
        av1_decode(&looped, dir.path());
        return;
    }
    let (time_ratio, bd) = bench_input(&looped, dir.path());
    first_rung(&looped, dir.path());
    vp9_upload(&looped, dir.path());
    // Last of the looped input's parts: it switches AV1 decoding into this process for good.
    av1_decode(&looped, dir.path());
    if std::env::var_os("TRANSCODE_BENCH_QUICK").is_none() {
        let noisy = Input {
            name: "testsrc2 + temporal noise",
            path: noisy_1080p(dir.path()),
            width: 1920,
            height: 1080,
            fps: 30,
            frames: 90,
            resolutions: &[1080, 720, 480, 360, 240],
        };
        bench_input(&noisy, dir.path());
    }
    api_under_transcode(&looped, dir.path());
    println!(
        "\ntargets on the looped input: BD-rate ≤ −30 % (measured {bd:+.1} %), wall ≤ 5× x264 (measured {time_ratio:.2}×)"
    );
}
