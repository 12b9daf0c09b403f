//! Audio that browsers cannot play from MP4 as it is — Vorbis, FLAC, PCM, and MP3 in Matroska —
//! turned into Opus, once per opened upload, so the upload plays like any other: its video is
//! remuxed (or transcoded) beside the new audio. The demuxers (`remux`, `remux::matroska`) put
//! such a track in `Source::foreign_audio` instead of `Source::audio`, so no writer can copy it
//! as it is; `to_opus` decodes it (`decode`, symphonia), folds surround into stereo (`mix`),
//! resamples to 48 kHz (`vireo_codec::resample`, rubato) and encodes 20 ms Opus packets
//! (`opus`, libopus), then gives back a source whose audio is that Opus track.
//!
//! AAC, MP3 in MP4 and Opus are copied as they are, never re-encoded: every browser plays
//! them, and a second lossy encode would only cost quality and time.
//!
//! Timing: the new track starts where the old one was presented (its first sample's time plus
//! its edit list's offset), in 960-frame steps from there, so it stays in sync with the video
//! whatever the container said. A packet that cannot be decoded is replaced by silence of its
//! length, so what follows keeps its place; a track that would lose more than a tenth of its
//! packets that way is given up.

pub mod decode;
pub mod mix;
pub mod opus;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use mp4_atom::{Audio, Codec, FixedPoint};
use vireo_codec::resample::Resampler;

use self::decode::Decoder;
use self::mix::Mix;
use self::opus::OpusEncoder;
use crate::media::source::foreign::{AudioFormat, ForeignAudio, InputCodec};
use crate::media::source::samples::Sample;
use crate::media::source::{ContainerError, Source, Track};

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("the audio cannot be decoded: {0}")]
    Decode(String),
    #[error("{0} is not supported")]
    Unsupported(String),
    #[error("Opus encoder: {0}")]
    Encode(String),
    #[error("resampling: {0}")]
    Resample(String),
    #[error(transparent)]
    Remux(#[from] ContainerError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl From<AudioError> for ContainerError {
    fn from(e: AudioError) -> Self {
        match e {
            AudioError::Remux(r) => r,
            AudioError::Io(io) => ContainerError::Io(io),
            AudioError::Unsupported(what) => ContainerError::Unsupported(what),
            other => ContainerError::Malformed(other.to_string()),
        }
    }
}

/// A fraction of packets that may be lost to damage before the track is given up.
const MAX_LOST: f64 = 0.1;

/// `src` with its foreign audio (if any) re-encoded as Opus. The video's samples and the Opus
/// packets are written to `scratch` (removed by the caller), which the returned source reads.
pub fn to_opus(mut src: Source, scratch: &Path) -> Result<Source, AudioError> {
    let Some(foreign) = src.foreign_audio.take() else {
        return Ok(src);
    };
    let mut out = BufWriter::with_capacity(256 * 1024, File::create(scratch)?);
    let mut written = 0u64;
    let originals = std::mem::take(&mut src.video.samples);
    let mut video_samples = Vec::with_capacity(originals.len());
    for s in &originals {
        src.copy_sample(s, &mut out)?;
        video_samples.push(Sample {
            offset: written,
            ..*s
        });
        written += u64::from(s.size);
    }
    src.video.samples = video_samples;
    finish(src, foreign, out, written, scratch)
}

/// `to_opus` for a source that reads `own`, a scratch file of the caller's (a Matroska upload's
/// demuxed frames): the Opus packets are appended to it, so the video is not copied a second
/// time.
pub fn append_opus(mut src: Source, own: &Path) -> Result<Source, AudioError> {
    let Some(foreign) = src.foreign_audio.take() else {
        return Ok(src);
    };
    let written = std::fs::metadata(own)?.len();
    let out = BufWriter::with_capacity(
        256 * 1024,
        std::fs::OpenOptions::new().append(true).open(own)?,
    );
    finish(src, foreign, out, written, own)
}

/// Encode the Opus packets into `out` (at `written` bytes), then describe `path` as a source
/// with `src`'s video (its samples already pointing into `path`) and the Opus track.
fn finish(
    mut src: Source,
    foreign: ForeignAudio,
    mut out: BufWriter<File>,
    written: u64,
    path: &Path,
) -> Result<Source, AudioError> {
    let encoded = encode(&mut src, &foreign, &mut out, written)?;
    out.flush()?;
    out.get_ref().sync_data()?;
    drop(out);
    let audio = encoded.track(src.video.trak.tkhd.track_id.max(1) + 1);
    let interrupt = src.interrupt().clone();
    let video = Track {
        trak: src.video.trak,
        samples: src.video.samples,
        timescale: src.video.timescale,
    };
    let mut made = Source::from_parts(path, src.moov, video, Some(audio))?;
    made.watch(interrupt);
    Ok(made)
}

/// The Opus packets written so far, where they are and what describes them.
struct Encoded {
    samples: Vec<Sample>,
    channels: u16,
    dops: mp4_atom::Dops,
}

impl Encoded {
    fn track(self, track_id: u32) -> Track {
        let ms = self
            .samples
            .last()
            .map(|s| (s.dts + u64::from(s.duration)) * 1000 / u64::from(opus::RATE))
            .unwrap_or(0);
        let entry = Codec::Opus(mp4_atom::Opus {
            audio: Audio {
                data_reference_index: 1,
                channel_count: self.channels,
                sample_size: 16,
                sample_rate: FixedPoint::new(opus::RATE as u16, 0),
            },
            dops: self.dops,
            btrt: None,
        });
        let trak = crate::media::source::matroska::trak(
            track_id,
            b"soun",
            opus::RATE,
            &self.samples,
            ms,
            entry,
            (0, 0),
        );
        Track {
            trak,
            samples: self.samples,
            timescale: u64::from(opus::RATE),
        }
    }
}

/// What happens to decoded audio on its way to Opus, set up once the first packet says what
/// the audio is.
struct Chain {
    mix: Mix,
    resampler: Option<Resampler>,
    encoder: OpusEncoder,
    rate: u32,
    /// Output frames still to drop (the track started before time zero).
    skip: usize,
    mixed: Vec<f32>,
    resampled: Vec<f32>,
}

impl Chain {
    fn new(rate: u32, layout: &decode::Layout, skip: usize) -> Result<Chain, AudioError> {
        let mix = Mix::for_layout(layout);
        let resampler = (rate != opus::RATE)
            .then(|| Resampler::new(rate, opus::RATE, mix.outputs()))
            .transpose()
            .map_err(AudioError::Resample)?;
        Ok(Chain {
            encoder: OpusEncoder::new(mix.outputs())?,
            mix,
            resampler,
            rate,
            skip,
            mixed: Vec::new(),
            resampled: Vec::new(),
        })
    }

    /// Push decoded frames through; `on_packet` gets each Opus packet.
    fn push(
        &mut self,
        frames: &[f32],
        on_packet: &mut impl FnMut(&[u8]) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        self.mixed.clear();
        self.mix.apply(frames, &mut self.mixed);
        let at_48k = match &mut self.resampler {
            Some(r) => {
                self.resampled.clear();
                r.push(&self.mixed, &mut self.resampled)
                    .map_err(AudioError::Resample)?;
                &self.resampled
            }
            None => &self.mixed,
        };
        let channels = self.encoder.channels();
        let drop = (self.skip * channels).min(at_48k.len());
        self.skip -= drop / channels;
        self.encoder.push(&at_48k[drop..], on_packet)
    }

    fn finish(
        &mut self,
        on_packet: &mut impl FnMut(&[u8]) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        if let Some(r) = &mut self.resampler {
            self.resampled.clear();
            r.finish(&mut self.resampled)
                .map_err(AudioError::Resample)?;
            let rest = std::mem::take(&mut self.resampled);
            self.encoder.push(&rest, on_packet)?;
        }
        self.encoder.finish(on_packet)
    }
}

/// Where Opus packets go: appended to the scratch file, each noted as a sample.
struct Sink<'a> {
    out: &'a mut BufWriter<File>,
    written: u64,
    /// The first packet's time at 48 kHz.
    start: u64,
    samples: Vec<Sample>,
    /// Most packets the track may become: its samples' span and a minute more. Past it the
    /// audio decodes to far more than its packets' times say (a sample rate that lies, a
    /// decoder that expands), and the encode would run away with CPU and scratch disk.
    most: usize,
}

impl Sink<'_> {
    fn packet(&mut self, packet: &[u8]) -> Result<(), AudioError> {
        if self.samples.len() >= self.most {
            return Err(AudioError::Decode(
                "the audio decodes to far longer than its packets' times say".into(),
            ));
        }
        self.out.write_all(packet)?;
        self.samples.push(Sample {
            offset: self.written,
            size: packet.len() as u32,
            dts: self.start + self.samples.len() as u64 * opus::FRAME as u64,
            duration: opus::FRAME as u32,
            cts_offset: 0,
            sync: true,
        });
        self.written += packet.len() as u64;
        Ok(())
    }
}

/// Decode every packet of `foreign`, encode it as Opus and append the packets to `out`, whose
/// first byte written here is at `written`.
fn encode(
    src: &mut Source,
    foreign: &ForeignAudio,
    out: &mut BufWriter<File>,
    written: u64,
) -> Result<Encoded, AudioError> {
    let track = &foreign.track;
    let start_secs = track
        .samples
        .first()
        .map(|s| s.dts as f64 / track.timescale.max(1) as f64)
        .unwrap_or(0.0)
        + foreign.offset_secs;
    let span_secs = super::source::samples::span_ms(&track.samples, track.timescale) / 1000;
    let mut sink = Sink {
        out,
        written,
        start: (start_secs.max(0.0) * f64::from(opus::RATE)).round() as u64,
        samples: Vec::new(),
        most: usize::try_from((span_secs + 60) * u64::from(opus::RATE) / opus::FRAME as u64)
            .unwrap_or(usize::MAX),
    };
    let skip = ((-start_secs).max(0.0) * f64::from(opus::RATE)).round() as usize;
    let mut on_packet = |p: &[u8]| sink.packet(p);
    let mut decoder = Decoder::new(&foreign.format)?;
    let mut chain: Option<Chain> = None;
    let mut lost = 0usize;
    let mut silence = Vec::new();
    for s in &track.samples {
        let bytes = src.read_sample(s)?;
        match decoder.decode(&bytes)? {
            Some(decoded) => {
                let c = match &mut chain {
                    Some(c) => c,
                    None => chain.insert(Chain::new(decoded.rate, &decoded.layout, skip)?),
                };
                if decoded.rate != c.rate || decoded.layout.count() != c.mix.inputs() {
                    return Err(AudioError::Decode(
                        "the sample rate or channel count changes within the track".into(),
                    ));
                }
                c.push(decoded.samples, &mut on_packet)?;
            }
            None => {
                lost += 1;
                // The packet's time is kept as silence, so what follows stays in sync.
                if let Some(c) = &mut chain {
                    let frames = (u64::from(s.duration) * u64::from(c.rate)
                        / track.timescale.max(1)) as usize;
                    silence.clear();
                    silence.resize(frames * c.mix.inputs(), 0.0);
                    c.push(&silence, &mut on_packet)?;
                }
            }
        }
    }
    if lost as f64 > MAX_LOST * track.samples.len().max(1) as f64 {
        return Err(AudioError::Decode(format!(
            "{lost} of {} audio packets cannot be decoded",
            track.samples.len()
        )));
    }
    let Some(mut chain) = chain else {
        return Err(AudioError::Decode(
            "no audio packet could be decoded".into(),
        ));
    };
    chain.finish(&mut on_packet)?;
    Ok(Encoded {
        samples: sink.samples,
        channels: chain.encoder.channels() as u16,
        dops: chain.encoder.dops(),
    })
}
