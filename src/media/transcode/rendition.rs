//! The rungs of an upload (AV1, and the H.264 compatibility rendition), in two steps:
//! `encode_rungs` decodes every picture once (`frames`) and hands it to one thread per rung that
//! scales it (`scale`) and encodes it (`encode::av1`, or `encode::h264`); `package` then writes
//! each rung, with the source's audio copied as it is, into the same fragmented MP4 the remux
//! makes (`remux::fragmented`) and, when asked, the same progressive MP4 (`remux::progressive`). The pipeline
//! (`service::ladder`) publishes each rung as soon as it is packaged; `transcode_ladder` does
//! both steps for a file, for the benches and tests.
//!
//! Why one decode for all rungs, in parallel: decoding the source again for every rung cost
//! most of a small rung's time, and rungs encoded one after another left part of the second
//! core idle (`benches/README.md`). Pictures travel to the rung threads through bounded
//! channels, so at most a few decoded pictures wait at any time.
//!
//! Encoded samples and the audio go to one scratch file per rung first; the fragmented writer
//! then reads them from there like any other source, so memory stays bounded.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use mp4_atom::{Av01, Avc1, Codec, FixedPoint, Stsd, Visual};

use super::cadence::{self, Cadence};
use super::checkpoint::{self, Checkpoint, Resumed};
use super::frames::{Frames, FramesError};
use super::ladder::{Encoding, Rung};
use super::scale::{ScaleError, Scaler};
use crate::media::colour::Colour;
use crate::media::decode::Picture;
use crate::media::encode::av1::{self, Av1Encoder, Av1Settings, EncodeError, Tuning};
use crate::media::encode::h264::{H264Encoder, H264Settings};
use crate::media::interrupt::Interrupt;
use crate::media::remux::progressive::Progressive;
use crate::media::remux::{self, Rendition};
use crate::media::source::samples::Sample;
use crate::media::source::{ContainerError, Source, Track};

/// Decoded pictures that may wait for a rung thread.
const QUEUE: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error(transparent)]
    Frames(#[from] FramesError),
    #[error(transparent)]
    Scale(#[from] ScaleError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Package(#[from] ContainerError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("the video has no pictures")]
    Empty,
    #[error("a rung's encoder thread stopped")]
    Thread,
    /// The server is stopping; the work is resumed at the next start.
    #[error("cancelled")]
    Cancelled,
}

/// How to encode: rav1e's quantizer, speed and tuning, the keyframe spacing, the threads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    pub quantizer: usize,
    pub speed: u8,
    pub keyframe_secs: f64,
    pub threads: usize,
    pub tuning: Tuning,
}

/// Where one rung goes: its size, its working file and its outputs.
#[derive(Debug, Clone)]
pub struct Target {
    pub rung: Rung,
    /// Removed by the caller, done or not.
    pub scratch: PathBuf,
    /// Its HLS fragmented MP4; `None` when the rung has one already (a published file is
    /// never rewritten: players hold byte ranges into it).
    pub output: Option<PathBuf>,
    /// Its progressive MP4 (PeerTube's web video), when one is wanted and missing.
    pub progressive: Option<PathBuf>,
}

impl Target {
    /// A target with only the HLS file.
    pub fn hls(rung: Rung, scratch: PathBuf, output: PathBuf) -> Target {
        Target {
            rung,
            scratch,
            output: Some(output),
            progressive: None,
        }
    }
}

/// What `package` wrote for one rung.
#[derive(Debug, Clone)]
pub struct Packaged {
    pub hls: Option<Rendition>,
    pub progressive: Option<Progressive>,
    /// RFC 6381 codecs of both.
    pub codecs: String,
}

/// One rung's encoded video, waiting to be packaged: its samples (offsets into the target's
/// scratch file) and its sample entry (`av01` with its `av1C`, or `avc1` with its `avcC`).
pub struct Encoded {
    samples: Vec<Sample>,
    entry: Codec,
}

/// The compatibility rendition's QP: rusty_h264's default, near x264's crf 23 in size and
/// quality at these resolutions.
const COMPAT_QP: u8 = 26;

/// A rung's encoder: rav1e for the ladder, rusty_h264 for the compatibility rendition.
enum RungEncoder {
    Av1(Box<Av1Encoder>),
    H264(Box<H264Encoder>),
}

impl RungEncoder {
    fn new(
        rung: Rung,
        quality: Quality,
        fps: f64,
        colour: Colour,
    ) -> Result<RungEncoder, EncodeError> {
        Ok(match rung.encoding {
            Encoding::Av1 => RungEncoder::Av1(Box::new(Av1Encoder::new(settings(
                rung, quality, fps, colour,
            ))?)),
            Encoding::H264 => RungEncoder::H264(Box::new(H264Encoder::new(H264Settings {
                width: rung.width,
                height: rung.height,
                fps,
                qp: COMPAT_QP,
                keyframe_interval: (quality.keyframe_secs * fps).round().max(1.0) as u64,
            })?)),
        })
    }

    fn push(&mut self, picture: &Picture, pts: i64) -> Result<Vec<av1::Sample>, EncodeError> {
        match self {
            RungEncoder::Av1(e) => e.push(picture, pts),
            RungEncoder::H264(e) => e.push(picture, pts),
        }
    }

    fn finish(&mut self) -> Result<Vec<av1::Sample>, EncodeError> {
        match self {
            RungEncoder::Av1(e) => e.finish(),
            RungEncoder::H264(e) => e.finish(),
        }
    }

    /// The sample entry of what was encoded, once a keyframe was. Its `colr` says `colour`
    /// (the AV1 sequence header says it too; rusty_h264 writes no VUI, so for H.264 the box is
    /// all there is).
    fn entry(&self, rung: Rung, colour: Colour) -> Option<Codec> {
        let visual = Visual {
            data_reference_index: 1,
            width: rung.width as u16,
            height: rung.height as u16,
            ..Visual::default()
        };
        Some(match self {
            RungEncoder::Av1(e) => Codec::Av01(Av01 {
                visual,
                av1c: e.av1c()?,
                colr: Some(colour.colr()),
                ..Av01::default()
            }),
            RungEncoder::H264(e) => Codec::Avc1(Avc1 {
                visual,
                avcc: e.avcc()?,
                colr: Some(colour.colr()),
                ..Avc1::default()
            }),
        })
    }
}

/// Encode `input`'s video at one rung into `output`, with its audio copied.
pub fn transcode(
    input: &Path,
    scratch: &Path,
    output: &Path,
    rung: Rung,
    quality: Quality,
    on_frame: impl FnMut(usize, usize),
) -> Result<Rendition, TranscodeError> {
    let target = Target::hls(rung, scratch.to_owned(), output.to_owned());
    let mut made = transcode_ladder(input, &[target], quality, on_frame)?;
    made.pop().and_then(|p| p.hls).ok_or(TranscodeError::Empty)
}

/// Encode `input`'s video at every target from one decode (`encode_rungs`) and package each
/// with the source's audio (`package`).
pub fn transcode_ladder(
    input: &Path,
    targets: &[Target],
    quality: Quality,
    mut on_frame: impl FnMut(usize, usize),
) -> Result<Vec<Packaged>, TranscodeError> {
    let mut src = Source::open(input)?;
    let total = src.video.samples.len();
    let mut done = 0;
    let encoded = encode_rungs(&mut src, targets, quality, |_, _| {
        done += 1;
        on_frame(done, total);
        Ok(())
    })?;
    let mut out = Vec::with_capacity(targets.len());
    for (target, result) in targets.iter().zip(encoded) {
        out.push(package(&mut src, target, result?)?);
    }
    Ok(out)
}

/// Encode `src`'s video at every target from one decode, the rungs in parallel threads (each
/// with `quality.threads` encoder threads); one result per target, in order. `on_picture` sees
/// every picture with its presentation time (the video track's timescale) once the rungs have
/// it; an error from it (such as `Cancelled`) stops the decode, and is then the result. With no
/// targets the source is only decoded, for `on_picture`.
pub fn encode_rungs(
    src: &mut Source,
    targets: &[Target],
    quality: Quality,
    mut on_picture: impl FnMut(&Picture, i64) -> Result<(), TranscodeError>,
) -> Result<Vec<Result<Encoded, TranscodeError>>, TranscodeError> {
    let timescale = src.video.timescale;
    let stream = Stream::of(src, quality);
    let end = presentation_end(&src.video);
    // Each rung's finished GOPs from an earlier run; decoding starts where the least advanced
    // rung stopped, the others skip ahead to where they did.
    let resumed: Vec<Resumed> = targets
        .iter()
        .map(|t| checkpoint::read(&t.scratch, &stream.fingerprint(t.rung)))
        .collect();
    let slot = resumed
        .iter()
        .map(|r| r.samples.len() as u64)
        .min()
        .unwrap_or(0);
    let (fed, encoded) = std::thread::scope(|scope| {
        let mut senders: Vec<SyncSender<Frame>> = Vec::new();
        let mut handles = Vec::new();
        for (target, resumed) in targets.iter().zip(resumed) {
            let (tx, rx) = sync_channel(QUEUE);
            senders.push(tx);
            let (rung, scratch) = (target.rung, target.scratch.clone());
            let interrupt = src.interrupt().clone();
            handles.push(
                scope.spawn(move || encode_rung(rx, rung, stream, &scratch, resumed, &interrupt)),
            );
        }
        let fed = feed(src, &senders, (stream.fps, slot), end, &mut on_picture);
        drop(senders);
        let results: Vec<Result<Encoded, TranscodeError>> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(TranscodeError::Thread)))
            .collect();
        (fed, results)
    });
    // A decode error (or a cancellation) explains a rung's early end better than the rung's
    // own error, and a rung that ended cleanly after it would be missing pictures.
    fed?;
    Ok(encoded
        .into_iter()
        .map(|r| {
            r.map(|mut e| {
                set_durations(&mut e.samples, timescale, stream.fps);
                e
            })
        })
        .collect())
}

/// Where a pass over the source would start: the output frame the least advanced target's
/// earlier encode stopped at (0 when any has none). A caller that watches the pictures
/// (the storyboard) sees them from there only.
pub fn resumes_at(src: &Source, targets: &[Target], quality: Quality) -> u64 {
    let stream = Stream::of(src, quality);
    targets
        .iter()
        .map(|t| {
            checkpoint::read(&t.scratch, &stream.fingerprint(t.rung))
                .samples
                .len() as u64
        })
        .min()
        .unwrap_or(0)
}

/// An output frame: its picture, its time, and its number on the output grid.
type Frame = (Arc<Picture>, i64, u64);

/// What every rung of a pass shares: the encoding settings, one constant rate on the source's
/// clock (`cadence`), and the colour every rung says (`media::colour`).
#[derive(Debug, Clone, Copy)]
struct Stream {
    quality: Quality,
    fps: f64,
    colour: Colour,
    /// The source's pictures and clock, so that a checkpoint is only taken up for the same.
    pictures: usize,
    timescale: u64,
}

impl Stream {
    fn of(src: &Source, quality: Quality) -> Stream {
        Stream {
            quality,
            fps: cadence::output_rate(frame_rate(&src.video)),
            colour: Colour::of_source(src),
            pictures: src.video.samples.len(),
            timescale: src.video.timescale,
        }
    }

    /// Everything a rung's encoded bytes depend on (`checkpoint`).
    fn fingerprint(&self, rung: Rung) -> String {
        let Stream {
            quality,
            fps,
            colour,
            pictures,
            timescale,
        } = self;
        format!("{rung:?} {quality:?} {fps} {colour:?} {pictures} {timescale}")
    }
}

fn settings(rung: Rung, quality: Quality, fps: f64, colour: Colour) -> Av1Settings {
    Av1Settings {
        width: rung.width,
        height: rung.height,
        fps_num: (fps * 1000.0).round().max(1.0) as u64,
        fps_den: 1000,
        quantizer: quality.quantizer,
        speed: quality.speed,
        keyframe_interval: (quality.keyframe_secs * fps).round().max(1.0) as u64,
        threads: quality.threads,
        tuning: quality.tuning,
        colour,
    }
}

/// Decode every picture once and hand every rung the output frames it makes at the constant
/// rate, from output frame `slot` on (decoding from the keyframe before it); stops early when a
/// rung has gone or `on_picture` (which sees each source picture) says to.
fn feed(
    src: &mut Source,
    rungs: &[SyncSender<Frame>],
    (fps, slot): (f64, u64),
    end: i64,
    on_picture: &mut impl FnMut(&Picture, i64) -> Result<(), TranscodeError>,
) -> Result<(), TranscodeError> {
    let timescale = src.video.timescale;
    let (mut cadence, first) = match (slot, Frames::first_time(src)) {
        (1.., Some(origin)) => {
            let cadence = Cadence::resumed(timescale, fps, origin, slot);
            let first = Frames::keyframe_before(src, cadence.slot_time(slot));
            (cadence, first)
        }
        _ => (Cadence::new(timescale, fps), 0),
    };
    let mut next_slot = slot;
    let mut send = |frames: &mut Vec<(Arc<Picture>, i64)>| -> bool {
        for (picture, time) in frames.drain(..) {
            for rung in rungs {
                // A closed channel means that rung failed; its own error is reported.
                if rung.send((picture.clone(), time, next_slot)).is_err() {
                    return false;
                }
            }
            next_slot += 1;
        }
        true
    };
    let mut out = Vec::new();
    let mut frames = Frames::starting_at(src, first)?;
    while let Some((picture, pts)) = frames.next_frame()? {
        cadence.push(picture.clone(), pts, &mut out);
        if !send(&mut out) {
            return Ok(());
        }
        on_picture(&picture, pts)?;
    }
    cadence.finish(end, &mut out);
    send(&mut out);
    Ok(())
}

/// One rung's thread: scale and encode every picture it is sent (from where its `resumed`
/// encode stopped), writing the samples to `scratch` and each finished GOP to its checkpoint
/// (told to `interrupt`, so the job is only asked to give way once it has kept something);
/// returns their table (offsets into `scratch`) and the sample entry.
fn encode_rung(
    pictures: Receiver<Frame>,
    rung: Rung,
    stream: Stream,
    scratch: &Path,
    resumed: Resumed,
    interrupt: &Interrupt,
) -> Result<Encoded, TranscodeError> {
    let mut scaler = Scaler::new(rung.width, rung.height);
    let mut encoder = RungEncoder::new(rung, stream.quality, stream.fps, stream.colour)?;
    let again = !resumed.samples.is_empty();
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(!again)
        .open(scratch)?;
    // What the earlier run wrote after its last finished GOP is encoded again.
    file.set_len(resumed.end)?;
    file.seek(SeekFrom::End(0))?;
    if again {
        tracing::info!(
            rung = rung.resolution,
            frames = resumed.samples.len(),
            "resuming a rung's encode"
        );
    }
    let mut checkpoint = Checkpoint::open(scratch, &stream.fingerprint(rung), again)?;
    let skip = resumed.samples.len() as u64;
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    let mut samples = resumed.samples;
    let mut written = resumed.end;
    // Samples since the last finished GOP.
    let mut gop_start = samples.len();
    let mut store = |encoded: Vec<av1::Sample>, out: &mut BufWriter<File>| -> std::io::Result<()> {
        for e in encoded {
            if e.keyframe && gop_start < samples.len() {
                // The GOP before this keyframe is complete: on disk first, then in the index.
                out.flush()?;
                out.get_ref().sync_data()?;
                checkpoint.gop_done(&samples[gop_start..])?;
                interrupt.note_kept();
                gop_start = samples.len();
            }
            out.write_all(&e.data)?;
            samples.push(Sample {
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
    for (picture, pts, slot) in pictures {
        if slot < skip {
            continue;
        }
        let scaled = scaler.scale(&picture)?;
        store(encoder.push(&scaled, pts)?, &mut out)?;
    }
    store(encoder.finish()?, &mut out)?;
    out.flush()?;
    let colour = stream.colour;
    // A GOP is in the index only once the next one starts, so a resumed encoder always makes
    // at least the last GOP, with its keyframe: the sample entry is always this run's.
    let entry = encoder.entry(rung, colour).ok_or(TranscodeError::Empty)?;
    Ok(Encoded { samples, entry })
}

/// Append the source's audio to a rung's scratch file and write the rung's files: the
/// fragmented MP4 to `target.output` and the progressive one to `target.progressive`, both
/// from the same samples.
pub fn package(
    src: &mut Source,
    target: &Target,
    encoded: Encoded,
) -> Result<Packaged, TranscodeError> {
    let Encoded {
        samples: video_samples,
        entry,
    } = encoded;
    let mut out = BufWriter::with_capacity(
        256 * 1024,
        std::fs::OpenOptions::new()
            .append(true)
            .open(&target.scratch)?,
    );
    let mut written = std::fs::metadata(&target.scratch)?.len();
    // The source's audio track with its samples moved to where they now sit in the scratch
    // file (its sample list is copied first: copying bytes needs `src` mutably).
    let audio = match src
        .audio
        .as_ref()
        .map(|t| (t.trak.clone(), t.timescale, t.samples.clone()))
    {
        Some((trak, timescale, originals)) => {
            let mut samples = Vec::with_capacity(originals.len());
            for s in &originals {
                src.copy_sample(s, &mut out)?;
                samples.push(Sample {
                    offset: written,
                    ..*s
                });
                written += u64::from(s.size);
            }
            Some(Track {
                trak,
                samples,
                timescale,
            })
        }
        None => None,
    };
    out.flush()?;
    drop(out);
    let rung = target.rung;
    let mut trak = src.video.trak.clone();
    trak.tkhd.width = FixedPoint::new(rung.width as u16, 0);
    trak.tkhd.height = FixedPoint::new(rung.height as u16, 0);
    trak.mdia.minf.stbl.stsd = Stsd {
        codecs: vec![entry],
    };
    let video = Track {
        trak,
        samples: video_samples,
        timescale: src.video.timescale,
    };
    let mut packaged = Source::from_parts(&target.scratch, src.moov.clone(), video, audio)?;
    packaged.watch(src.interrupt().clone());
    let hls = match &target.output {
        Some(path) => Some(remux::fragmented::write(&mut packaged, path)?),
        None => None,
    };
    let progressive = match &target.progressive {
        Some(path) => Some(remux::progressive::write(&mut packaged, path)?),
        None => None,
    };
    Ok(Packaged {
        hls,
        progressive,
        codecs: packaged.codecs.clone(),
    })
}

/// When the track's last picture stops being shown: the latest presentation time plus its
/// duration, in the track's timescale.
fn presentation_end(video: &Track) -> i64 {
    video
        .samples
        .iter()
        .map(|s| s.dts as i64 + s.cts_offset + i64::from(s.duration))
        .max()
        .unwrap_or(0)
}

/// The rate a track's pictures usually come at: from the median frame duration, so a clip that
/// slows down or pauses for a while keeps the rate of its moving parts (25 fps with a held
/// picture stays 25, where the average would fall). Also what absurd time stamps show: a
/// file claiming 1 ms frames says 1000 fps here, which `cadence` caps. The average when it is
/// within 3 % of that.
fn frame_rate(video: &Track) -> f64 {
    let mut durations: Vec<u32> = video
        .samples
        .iter()
        .map(|s| s.duration)
        .filter(|d| *d > 0)
        .collect();
    if durations.is_empty() {
        return 25.0;
    }
    let span: u64 = durations.iter().map(|d| u64::from(*d)).sum();
    let average = durations.len() as f64 * video.timescale as f64 / span as f64;
    let middle = durations.len() / 2;
    let (_, median, _) = durations.select_nth_unstable(middle);
    let usual = video.timescale as f64 / f64::from(*median);
    // A steady source's average is the more precise: Matroska's millisecond stamps make a
    // 29.97 fps clip's median frame 33 ms (30.3 fps).
    if (average - usual).abs() <= 0.03 * usual {
        average
    } else {
        usual
    }
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
