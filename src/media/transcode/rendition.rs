//! One AV1 rendition of an MP4 upload: decode every picture (`frames`), scale it to the rung
//! (`scale`), encode it (`encode::av1`), and package the result with the source's audio copied
//! as it is, into the same fragmented MP4 the remux makes (`remux::fragmented`).
//!
//! Encoded samples and the audio go to a scratch file first; the fragmented writer then reads
//! them from there like any other source, so memory stays bounded by one GOP of the encoder.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use mp4_atom::{Av01, Codec, FixedPoint, Stsd, Visual};

use super::frames::{Frames, FramesError};
use super::ladder::Rung;
use super::scale::{ScaleError, Scaler};
use crate::media::encode::av1::{Av1Encoder, Av1Settings, EncodeError, Sample as Encoded};
use crate::media::remux::{self, RemuxError, Rendition, Source, Track};
use crate::media::samples::Sample;

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error(transparent)]
    Frames(#[from] FramesError),
    #[error(transparent)]
    Scale(#[from] ScaleError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Package(#[from] RemuxError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("the video has no pictures")]
    Empty,
}

/// How to encode: rav1e's quantizer and speed, the keyframe spacing, the threads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    pub quantizer: usize,
    pub speed: u8,
    pub keyframe_secs: f64,
    pub threads: usize,
}

/// Encode `input`'s video at `rung` into `output` (a fragmented MP4), with its audio copied,
/// using `scratch` as the working file (removed by the caller). `on_frame` is told how many
/// pictures of how many are done.
pub fn transcode(
    input: &Path,
    scratch: &Path,
    output: &Path,
    rung: Rung,
    quality: Quality,
    mut on_frame: impl FnMut(usize, usize),
) -> Result<Rendition, TranscodeError> {
    let mut src = Source::open(input)?;
    let timescale = src.video.timescale;
    let fps = frame_rate(&src.video);
    let mut out = BufWriter::with_capacity(256 * 1024, File::create(scratch)?);
    let mut written = 0u64;
    let mut video_samples = Vec::with_capacity(src.video.samples.len());
    let av1c = {
        let mut frames = Frames::new(&mut src)?;
        let total = frames.len();
        let mut scaler = Scaler::new(rung.width, rung.height);
        let mut encoder = Av1Encoder::new(Av1Settings {
            width: rung.width,
            height: rung.height,
            fps_num: (fps * 1000.0).round().max(1.0) as u64,
            fps_den: 1000,
            quantizer: quality.quantizer,
            speed: quality.speed,
            keyframe_interval: (quality.keyframe_secs * fps).round().max(1.0) as u64,
            threads: quality.threads,
        })?;
        let mut done = 0;
        let mut store = |encoded: Vec<Encoded>, out: &mut BufWriter<File>| -> std::io::Result<()> {
            for e in encoded {
                out.write_all(&e.data)?;
                video_samples.push(Sample {
                    offset: written,
                    size: e.data.len() as u32,
                    dts: u64::try_from(e.pts).unwrap_or(0),
                    duration: 0,
                    cts_offset: 0,
                    sync: e.keyframe,
                });
                written += e.data.len() as u64;
            }
            Ok(())
        };
        while let Some((picture, pts)) = frames.next_frame()? {
            let scaled = scaler.scale(&picture)?;
            store(encoder.push(&scaled, pts)?, &mut out)?;
            done += 1;
            on_frame(done, total);
        }
        store(encoder.finish()?, &mut out)?;
        encoder.av1c().ok_or(TranscodeError::Empty)?
    };
    set_durations(&mut video_samples, timescale, fps);
    let audio = match src.audio.take() {
        Some(track) => {
            let mut samples = Vec::with_capacity(track.samples.len());
            for s in &track.samples {
                src.copy_sample(s, &mut out)?;
                samples.push(Sample {
                    offset: written,
                    ..*s
                });
                written += u64::from(s.size);
            }
            Some(Track { samples, ..track })
        }
        None => None,
    };
    out.flush()?;
    drop(out);
    let mut trak = src.video.trak.clone();
    trak.tkhd.width = FixedPoint::new(rung.width as u16, 0);
    trak.tkhd.height = FixedPoint::new(rung.height as u16, 0);
    trak.mdia.minf.stbl.stsd = Stsd {
        codecs: vec![Codec::Av01(Av01 {
            visual: Visual {
                data_reference_index: 1,
                width: rung.width as u16,
                height: rung.height as u16,
                ..Visual::default()
            },
            av1c,
            ..Av01::default()
        })],
    };
    let video = Track {
        trak,
        samples: video_samples,
        timescale,
    };
    let mut packaged = Source::from_parts(scratch, src.moov.clone(), video, audio)?;
    Ok(remux::fragmented::write(&mut packaged, output)?)
}

/// Frames per second of a track, from its sample count and span.
fn frame_rate(video: &Track) -> f64 {
    let n = video.samples.len();
    let span: u64 = video.samples.iter().map(|s| u64::from(s.duration)).sum();
    if n == 0 || span == 0 {
        return 25.0;
    }
    n as f64 * video.timescale as f64 / span as f64
}

/// Each sample lasts until the next starts; the last as long as one frame.
fn set_durations(samples: &mut [Sample], timescale: u64, fps: f64) {
    let frame = (timescale as f64 / fps.max(1.0)).round().max(1.0) as u32;
    let starts: Vec<u64> = samples.iter().map(|s| s.dts).collect();
    for (i, s) in samples.iter_mut().enumerate() {
        s.duration = starts
            .get(i + 1)
            .map(|next| u32::try_from(next.saturating_sub(s.dts)).unwrap_or(frame))
            .unwrap_or(frame);
    }
}
