//! The H.264 decoder behind thumbnails, judged against Debian's ffmpeg: every keyframe of the
//! real clips decodes to exactly the picture libavcodec decodes; and thumbnails and previews
//! come out as JPEGs of PeerTube's sizes that show something (not a black frame).

use std::path::{Path, PathBuf};
use std::process::Command;

use vireo::media::source::Source;
use vireo::media::thumbnail;

use crate::common::Ffmpeg;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/media")
        .join(name)
}

/// libavcodec's I-frames of `input`, as raw I420, in display order.
fn ffmpeg_keyframes(input: &Path) -> Vec<Vec<u8>> {
    let out = Ffmpeg::new()
        .args(["-skip_frame", "nokey"])
        .input(input)
        .args([
            "-fps_mode",
            "passthrough",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "rawvideo",
            "-",
        ])
        .run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let src = Source::open(input).unwrap();
    let frame = (src.width * src.height * 3 / 2) as usize;
    out.stdout.chunks(frame).map(<[u8]>::to_vec).collect()
}

fn check_keyframes_bit_exact(name: &str) {
    let input = fixture(name);
    let reference = ffmpeg_keyframes(&input);
    let mut src = Source::open(&input).unwrap();
    let keyframes: Vec<usize> = (0..src.video.samples.len())
        .filter(|&i| src.video.samples[i].sync)
        .collect();
    assert_eq!(keyframes.len(), reference.len(), "{name}: keyframe count");
    for (k, (&index, want)) in keyframes.iter().zip(&reference).enumerate() {
        let p = thumbnail::decode_keyframe(&mut src, index).unwrap();
        let mut got = p.y.clone();
        got.extend_from_slice(&p.u);
        got.extend_from_slice(&p.v);
        assert_eq!(got.len(), want.len(), "{name}: keyframe {k} size");
        assert!(
            got == *want,
            "{name}: keyframe {k} differs from libavcodec's"
        );
    }
}

#[test]
fn keyframes_decode_exactly_as_libavcodec() {
    check_keyframes_bit_exact("bigbuckbunny.mp4");
    check_keyframes_bit_exact("bikes.mp4");
}

#[test]
fn thumbnails_are_peertube_sized_jpegs_of_a_real_frame() {
    for name in ["bigbuckbunny.mp4", "bikes.mp4"] {
        let mut src = Source::open(&fixture(name)).unwrap();
        let images = thumbnail::from_video(&mut src, 0).unwrap();
        for (bytes, size) in [
            (&images.thumbnail, thumbnail::THUMBNAIL),
            (&images.preview, thumbnail::PREVIEW),
        ] {
            assert_eq!(&bytes[..3], [0xff, 0xd8, 0xff], "{name}: a JPEG");
            let img = image_size_and_spread(bytes);
            assert_eq!((img.0, img.1), size, "{name}");
            assert!(
                img.2 > 10.0,
                "{name}: the image shows something (luma spread {})",
                img.2
            );
        }
    }
}

/// Width, height and luma standard deviation of a JPEG, read back by ffmpeg (an independent
/// decoder).
fn image_size_and_spread(jpeg: &[u8]) -> (u32, u32, f64) {
    let dir = crate::common::tempdir();
    let path = dir.path().join("t.jpg");
    std::fs::write(&path, jpeg).unwrap();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&probe.stdout);
    let mut dims = text.trim().split(',').map(|v| v.parse::<u32>().unwrap());
    let (w, h) = (dims.next().unwrap(), dims.next().unwrap());
    let gray = Ffmpeg::new()
        .input(&path)
        .args(["-pix_fmt", "gray", "-f", "rawvideo", "-"])
        .run();
    let px: Vec<f64> = gray.stdout.iter().map(|&v| f64::from(v)).collect();
    let mean = px.iter().sum::<f64>() / px.len() as f64;
    let var = px.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / px.len() as f64;
    (w, h, var.sqrt())
}
