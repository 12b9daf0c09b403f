//! Transcoding bench (a bench binary): the AV1 ladder of `media::transcode` against ffmpeg's
//! x264 `veryfast` (PeerTube's choice) on the same input in the same run. Per rung and for the
//! whole ladder: wall time, CPU use (cores busy), frames per second, bytes, and PSNR against the
//! source scaled by ffmpeg (Lanczos). Both sides decode and scale the source themselves, so the
//! times compare whole pipelines. Run: `cargo bench --bench transcode` (or `bash benches/run.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use vireo::media::transcode::ladder::{Rung, rungs};
use vireo::media::transcode::rendition::{Quality, Target, transcode, transcode_ladder};

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

fn psnr(output: &Path, source: &Path, rung: Rung) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-v", "info", "-i"])
        .arg(output)
        .arg("-i")
        .arg(source)
        .args([
            "-lavfi",
            &format!(
                "[1:v]scale={}:{}:flags=lanczos[ref];[0:v][ref]psnr",
                rung.width, rung.height
            ),
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    log.split("average:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

struct Run {
    wall: f64,
    cpu: f64,
    bytes: u64,
    psnr: f64,
}

fn x264(source: &Path, out: &Path, rung: Rung) -> Run {
    let (_, children0) = cpu_seconds();
    let t = Instant::now();
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-threads", "2", "-i"])
        .arg(source)
        .args([
            "-vf",
            &format!("scale={}:{}:flags=lanczos", rung.width, rung.height),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-an",
        ])
        .arg(out)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let wall = t.elapsed().as_secs_f64();
    // A child's CPU is counted once it is waited for, which `status` did.
    let cpu = cpu_seconds().1 - children0;
    Run {
        wall,
        cpu,
        bytes: std::fs::metadata(out).unwrap().len(),
        psnr: psnr(out, source, rung),
    }
}

fn av1(source: &Path, dir: &Path, rung: Rung) -> Run {
    let out = dir.join(format!("{}-av1.mp4", rung.resolution));
    let (own0, _) = cpu_seconds();
    let t = Instant::now();
    let made = transcode(
        source,
        &dir.join("scratch"),
        &out,
        rung,
        Quality {
            quantizer: 110,
            speed: 10,
            keyframe_secs: 2.0,
            threads: 2,
        },
        |_, _| {},
    )
    .unwrap();
    let wall = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds().0 - own0;
    // Video bytes only, as for x264 (`-an`): the file less its audio.
    let audio = audio_bytes(&out);
    Run {
        wall,
        cpu,
        bytes: made.size.saturating_sub(audio),
        psnr: psnr(&out, source, rung),
    }
}

fn audio_bytes(file: &Path) -> u64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a",
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
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .sum()
}

fn main() {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/media/bigbuckbunny.mp4");
    let frames = 132.0;
    let dir = tempfile::tempdir().unwrap();
    let ladder = rungs(1280, 720, &[720, 480, 360, 240]);
    println!("bigbuckbunny.mp4: 1280×720, 25 fps, {frames} frames (5.3 s); 2 cores");
    println!(
        "| rung | x264 wall s | cores | bytes | PSNR | AV1 wall s | cores | fps | bytes | PSNR |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    // One untimed x264 run first: the first ffmpeg start pages in its libraries (2 s once).
    x264(
        &source,
        &dir.path().join("warm-up.mp4"),
        rungs(1280, 720, &[240])[0],
    );
    let (mut xw, mut xb, mut aw, mut ab) = (0.0, 0, 0.0, 0);
    for rung in ladder {
        let x = x264(
            &source,
            &dir.path().join(format!("{}-x264.mp4", rung.resolution)),
            rung,
        );
        let a = av1(&source, dir.path(), rung);
        println!(
            "| {}p | {:.2} | {:.2} | {} | {:.1} | {:.2} | {:.2} | {:.1} | {} | {:.1} |",
            rung.resolution,
            x.wall,
            x.cpu / x.wall,
            x.bytes,
            x.psnr,
            a.wall,
            a.cpu / a.wall,
            frames / a.wall,
            a.bytes,
            a.psnr
        );
        xw += x.wall;
        xb += x.bytes;
        aw += a.wall;
        ab += a.bytes;
    }
    println!(
        "| ladder, rung by rung | {xw:.2} | | {xb} | | {aw:.2} ({:.1}× x264) | | | {ab} ({:+.0} %) | |",
        aw / xw,
        (ab as f64 / xb as f64 - 1.0) * 100.0
    );
    // The same ladder from one decode, every rung in its own thread.
    println!();
    println!("| whole ladder, one decode | wall s | × x264 ladder | cores | bytes |");
    println!("|---|---|---|---|---|");
    for threads in [1, 2] {
        let targets: Vec<Target> = rungs(1280, 720, &[720, 480, 360, 240])
            .into_iter()
            .map(|rung| Target {
                rung,
                scratch: dir
                    .path()
                    .join(format!("{}-{threads}.scratch", rung.resolution)),
                output: dir
                    .path()
                    .join(format!("{}-{threads}-ladder.mp4", rung.resolution)),
            })
            .collect();
        let (own0, _) = cpu_seconds();
        let t = Instant::now();
        let made = transcode_ladder(
            &source,
            &targets,
            Quality {
                quantizer: 110,
                speed: 10,
                keyframe_secs: 2.0,
                threads,
            },
            |_, _| {},
        )
        .unwrap();
        let wall = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds().0 - own0;
        let bytes: u64 = targets
            .iter()
            .zip(&made)
            .map(|(t, r)| r.size.saturating_sub(audio_bytes(&t.output)))
            .sum();
        println!(
            "| {threads} encoder thread(s) per rung | {wall:.2} | {:.1}× | {:.2} | {bytes} |",
            wall / xw,
            cpu / wall
        );
    }
}
