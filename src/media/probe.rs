//! Probe an upload before any CPU is spent on it: check its container's shape
//! (`media::structure`), name the codecs, check what the headers claim against sane ranges
//! (`media::sanity`) and the instance's limits, then read the sample tables as the pipeline will
//! (`remux::Tables`: the MP4 sample tables, or every Matroska frame without its bytes), so that
//! the duration and frame count are those of the samples the file holds, counted the same way
//! by the probe and every later step. Everything refused gets a reason written for the uploader
//! ("HEVC (H.265) video is not supported yet").
//!
//! Headers are parsed by `mp4-atom` and `matroska-demuxer`; what is hand-written here is only the
//! mapping from their types to Vireo's decisions. The `moov` box is read whole, so its size is
//! capped first: a hostile header cannot make the probe allocate more than `MAX_MOOV_BYTES`.
//! Uploads are probed in a child process (`media::inspect`), where a parser that crashes or
//! runs away costs the child only.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use mp4_atom::{Codec, StszSamples, Trak};
use serde::{Deserialize, Serialize};

use super::sniff::{self, Container, NOT_A_VIDEO, SNIFF_LEN};
use super::source::io::{Budget, MAX_IO_OPS};

pub use crate::model::media::{AudioCodec, AudioTrack, MediaInfo, VideoCodec, VideoTrack};

/// Limits on untrusted media, from the `[media]` configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_width: u32,
    pub max_height: u32,
    pub max_duration_secs: u64,
    pub max_frames: u64,
}

/// Why an upload is refused. The `Display` text is shown to the uploader.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeError {
    #[error("{NOT_A_VIDEO}")]
    NotAContainer,
    #[error("This file is damaged or incomplete: {0}")]
    Malformed(String),
    #[error("This file has no video track (audio-only uploads are not supported)")]
    NoVideo,
    #[error("{0} video is not supported yet")]
    UnsupportedVideo(String),
    #[error("{0} audio is not supported yet")]
    UnsupportedAudio(String),
    #[error(
        "The video is {width}×{height} pixels; this instance accepts at most {max_width}×{max_height}"
    )]
    TooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    #[error("The video lasts {}; this instance accepts at most {}", hms(*.secs), hms(*.max_secs))]
    TooLong { secs: u64, max_secs: u64 },
    #[error("The video has {frames} frames; this instance accepts at most {max}")]
    TooManyFrames { frames: u64, max: u64 },
    #[error("The video has no duration")]
    NoDuration,
    /// A claim outside what any real file has (`media::sanity`).
    #[error("{0}")]
    Insane(String),
    /// The refusal of a probe run elsewhere (`media::inspect`), as it was worded there.
    #[error("{0}")]
    Refused(String),
}

impl From<super::source::sanity::Insane> for ProbeError {
    fn from(e: super::source::sanity::Insane) -> Self {
        ProbeError::Insane(e.0)
    }
}

impl From<super::source::ContainerError> for ProbeError {
    fn from(e: super::source::ContainerError) -> Self {
        use super::source::ContainerError as R;
        match e {
            R::Unsupported(m) => ProbeError::Malformed(m),
            R::Malformed(m) | R::Encode(m) => ProbeError::Malformed(m),
            R::Tables(t) => ProbeError::Malformed(t.0),
            R::Io(io) => ProbeError::Malformed(io.to_string()),
            R::Interrupted(why) => ProbeError::Malformed(why.to_string()),
        }
    }
}

fn hms(secs: u64) -> String {
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// Probe the file at `path` and check it against `limits`.
pub fn probe(path: &Path, limits: &Limits) -> Result<MediaInfo, ProbeError> {
    let file = File::open(path).map_err(|e| ProbeError::Malformed(e.to_string()))?;
    let len = file
        .metadata()
        .map_err(|e| ProbeError::Malformed(e.to_string()))?
        .len();
    probe_reader(BufReader::new(file), len, limits)
}

/// Probe `len` bytes of media from any seekable reader (a file, or memory for the fuzzer).
pub fn probe_reader<R: Read + Seek>(
    mut reader: R,
    len: u64,
    limits: &Limits,
) -> Result<MediaInfo, ProbeError> {
    let malformed = |e: std::io::Error| ProbeError::Malformed(e.to_string());
    let mut head = [0u8; SNIFF_LEN];
    let n = read_up_to(&mut reader, &mut head).map_err(malformed)?;
    let container = sniff::sniff(&head[..n]).ok_or(ProbeError::NotAContainer)?;
    reader.seek(SeekFrom::Start(0)).map_err(malformed)?;
    let info = match container {
        Container::IsoBmff => probe_mp4(reader, len, limits)?,
        Container::Matroska => probe_matroska(reader, len, limits)?,
    };
    check_limits(&info, limits)?;
    Ok(info)
}

/// The checks on what the headers claim, before any sample table is expanded: the picture's
/// size against the instance's limits and sane shapes, the audio's rate and channels, and the
/// frame count the headers give.
fn check_claims(
    video: &VideoTrack,
    audio: Option<&AudioTrack>,
    limits: &Limits,
) -> Result<(), ProbeError> {
    check_size(video, limits)?;
    super::source::sanity::picture(video.width, video.height)?;
    if let Some(a) = audio {
        let channels = (a.channels > 0).then_some(a.channels);
        super::source::sanity::audio(a.sample_rate, channels)?;
    }
    if let Some(frames) = video.frames
        && frames > limits.max_frames
    {
        return Err(ProbeError::TooManyFrames {
            frames,
            max: limits.max_frames,
        });
    }
    Ok(())
}

fn check_size(v: &VideoTrack, limits: &Limits) -> Result<(), ProbeError> {
    if v.width == 0 || v.height == 0 {
        return Err(ProbeError::Malformed("the video track has no size".into()));
    }
    if v.width > limits.max_width || v.height > limits.max_height {
        // Portrait videos are fine when they fit once turned.
        if v.height > limits.max_width || v.width > limits.max_height {
            return Err(ProbeError::TooLarge {
                width: v.width,
                height: v.height,
                max_width: limits.max_width,
                max_height: limits.max_height,
            });
        }
    }
    Ok(())
}

/// The frame limit as a count of samples to expand.
fn max_frames(limits: &Limits) -> usize {
    usize::try_from(limits.max_frames).unwrap_or(usize::MAX)
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The limits on what the samples say: the duration and frame count they add up to.
fn check_limits(info: &MediaInfo, limits: &Limits) -> Result<(), ProbeError> {
    let v = &info.video;
    check_size(v, limits)?;
    if info.duration_ms == 0 {
        return Err(ProbeError::NoDuration);
    }
    let secs = info.duration_ms / 1000;
    if secs > limits.max_duration_secs {
        return Err(ProbeError::TooLong {
            secs,
            max_secs: limits.max_duration_secs,
        });
    }
    if let Some(frames) = v.frames
        && frames > limits.max_frames
    {
        return Err(ProbeError::TooManyFrames {
            frames,
            max: limits.max_frames,
        });
    }
    Ok(())
}

fn probe_mp4<R: Read + Seek>(
    reader: R,
    len: u64,
    limits: &Limits,
) -> Result<MediaInfo, ProbeError> {
    let mut reader = Budget::new(reader, MAX_IO_OPS);
    let (moov, raw) = super::source::read_moov(&mut reader, len)?;
    let handler = |t: &Trak| t.mdia.hdlr.handler;
    let video_trak = moov
        .trak
        .iter()
        .find(|t| handler(t) == b"vide".into())
        .ok_or(ProbeError::NoVideo)?;
    let video = mp4_video(video_trak)?;
    let audio = moov
        .trak
        .iter()
        .find(|t| handler(t) == b"soun".into())
        .map(mp4_audio)
        .transpose()?;
    let mut video = video;
    check_claims(&video, audio.as_ref(), limits)?;
    if video_trak.mdia.mdhd.timescale == 0 {
        return Err(ProbeError::Malformed(
            "the video track's media header gives it no timescale (0 ticks a second)".into(),
        ));
    }
    // The samples as the pipeline will read them: every one inside the file.
    let tables = super::source::Tables::from_moov(moov, &raw, len)?;
    Ok(from_tables("mp4", &tables, &mut video, audio))
}

/// What the samples say: the duration, frame count and frame rate.
fn from_tables(
    container: &str,
    tables: &super::source::Tables,
    video: &mut VideoTrack,
    audio: Option<AudioTrack>,
) -> MediaInfo {
    let duration_ms = tables.duration_ms();
    let frames = tables.video.samples.len() as u64;
    video.frames = Some(frames);
    video.fps = (duration_ms > 0).then(|| frames as f64 * 1000.0 / duration_ms as f64);
    MediaInfo {
        container: container.into(),
        duration_ms,
        video: video.clone(),
        audio,
    }
}

fn mp4_video(t: &Trak) -> Result<VideoTrack, ProbeError> {
    let codec =
        t.mdia.minf.stbl.stsd.codecs.first().ok_or_else(|| {
            ProbeError::Malformed("the video track has no sample description".into())
        })?;
    let (codec, visual) = match codec {
        Codec::Avc1(c) => (VideoCodec::H264, &c.visual),
        Codec::Avc3(c) => (VideoCodec::H264, &c.visual),
        Codec::Av01(c) => (VideoCodec::Av1, &c.visual),
        Codec::Vp09(c) => (VideoCodec::Vp9, &c.visual),
        Codec::Hev1(_) | Codec::Hvc1(_) => {
            return Err(ProbeError::UnsupportedVideo("HEVC (H.265)".into()));
        }
        Codec::Vp08(_) => return Err(ProbeError::UnsupportedVideo("VP8".into())),
        Codec::Jpeg(_) => return Err(ProbeError::UnsupportedVideo("Motion JPEG".into())),
        Codec::Unknown(fourcc, _) => {
            return Err(ProbeError::UnsupportedVideo(video_name((*fourcc).into())));
        }
        other => {
            return Err(ProbeError::UnsupportedVideo(
                format!("{other:?}").chars().take(20).collect(),
            ));
        }
    };
    // What the sample sizes claim; the samples themselves are counted once the tables are read.
    let frames = match &t.mdia.minf.stbl.stsz.samples {
        StszSamples::Identical { count, .. } => u64::from(*count),
        StszSamples::Different { sizes } => sizes.len() as u64,
    };
    Ok(VideoTrack {
        codec,
        width: u32::from(visual.width),
        height: u32::from(visual.height),
        rotation: rotation(&t.tkhd.matrix),
        frames: Some(frames),
        fps: None,
    })
}

/// Names for the fourccs of common codecs `mp4-atom` has no type for.
fn video_name(fourcc: [u8; 4]) -> String {
    match &fourcc {
        b"mp4v" => "MPEG-4 Part 2".into(),
        b"apcn" | b"apch" | b"apcs" | b"apco" | b"ap4h" | b"ap4x" => "Apple ProRes".into(),
        b"dvh1" | b"dvhe" => "Dolby Vision".into(),
        b"s263" | b"h263" => "H.263".into(),
        _ => super::source::structure::box_name(fourcc),
    }
}

/// The display rotation encoded in a track matrix (16.16 fixed point), clockwise.
fn rotation(m: &mp4_atom::Matrix) -> u16 {
    const ONE: i32 = 0x1_0000;
    match (m.a, m.b, m.c, m.d) {
        (0, ONE, c, 0) if c == -ONE => 90,
        (a, 0, 0, d) if a == -ONE && d == -ONE => 180,
        (0, b, ONE, 0) if b == -ONE => 270,
        _ => 0,
    }
}

fn mp4_audio(t: &Trak) -> Result<AudioTrack, ProbeError> {
    let codec =
        t.mdia.minf.stbl.stsd.codecs.first().ok_or_else(|| {
            ProbeError::Malformed("the audio track has no sample description".into())
        })?;
    let (codec, audio) = match codec {
        Codec::Mp4a(c) => {
            let codec = match c.esds.es_desc.dec_config.object_type_indication {
                0x40 | 0x66 | 0x67 | 0x68 => AudioCodec::Aac,
                0x69 | 0x6b => AudioCodec::Mp3,
                other => {
                    return Err(ProbeError::UnsupportedAudio(format!(
                        "MPEG-4 object type {other:#04x}"
                    )));
                }
            };
            (codec, &c.audio)
        }
        Codec::Mp3(c) => (AudioCodec::Mp3, &c.audio),
        Codec::Opus(c) => (AudioCodec::Opus, &c.audio),
        Codec::Flac(c) => (AudioCodec::Flac, &c.audio),
        Codec::Ac3(_) => return Err(ProbeError::UnsupportedAudio("AC-3 (Dolby Digital)".into())),
        Codec::Eac3(_) => {
            return Err(ProbeError::UnsupportedAudio(
                "E-AC-3 (Dolby Digital Plus)".into(),
            ));
        }
        Codec::Samr(_) => return Err(ProbeError::UnsupportedAudio("AMR".into())),
        Codec::Ipcm(_)
        | Codec::Fpcm(_)
        | Codec::Sowt(_)
        | Codec::Twos(_)
        | Codec::Lpcm(_)
        | Codec::In24(_)
        | Codec::In32(_)
        | Codec::Fl32(_)
        | Codec::Fl64(_)
        | Codec::S16l(_) => {
            return Ok(AudioTrack {
                codec: AudioCodec::Pcm,
                // PCM's samples are its frames: the track's clock is its sample rate.
                sample_rate: t.mdia.mdhd.timescale,
                channels: super::source::pcm_format(t).map_or(0, |(_, channels)| channels),
            });
        }
        Codec::Unknown(fourcc, _) => {
            let fourcc: [u8; 4] = (*fourcc).into();
            let name = match &fourcc {
                b"alac" => "ALAC".to_owned(),
                _ => super::source::structure::box_name(fourcc),
            };
            return Err(ProbeError::UnsupportedAudio(name));
        }
        other => {
            return Err(ProbeError::UnsupportedAudio(
                format!("{other:?}").chars().take(20).collect(),
            ));
        }
    };
    Ok(AudioTrack {
        codec,
        // The entry's 16.16 field cannot hold rates above 65 535 Hz; the clock then says it.
        sample_rate: match u32::from(audio.sample_rate.integer()) {
            0 => t.mdia.mdhd.timescale,
            rate => rate,
        },
        channels: audio.channel_count,
    })
}

fn probe_matroska<R: Read + Seek>(
    mut reader: R,
    len: u64,
    limits: &Limits,
) -> Result<MediaInfo, ProbeError> {
    let (mut video, audio) = matroska_tracks(&mut reader, len)?;
    check_claims(&video, audio.as_ref(), limits)?;
    // Every frame read as the pipeline will (its bytes go nowhere): a live recording has no
    // Duration, and a header's Duration may say anything.
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| ProbeError::Malformed(e.to_string()))?;
    let tables = super::source::matroska::read(
        reader,
        len,
        &mut std::io::sink(),
        max_frames(limits),
        &super::interrupt::Interrupt::never(),
    )?;
    Ok(from_tables("matroska", &tables, &mut video, audio))
}

/// The video and audio tracks a Matroska file's headers describe, their codecs named.
fn matroska_tracks<R: Read + Seek>(
    reader: &mut R,
    len: u64,
) -> Result<(VideoTrack, Option<AudioTrack>), ProbeError> {
    let reader = super::source::matroska::demuxer_reader(reader, len)?;
    let mkv = matroska_demuxer::MatroskaFile::open(reader).map_err(|e| {
        ProbeError::Malformed(format!(
            "unreadable Matroska headers: {}",
            super::source::matroska::describe(&e)
        ))
    })?;
    let tracks = mkv.tracks();
    let video_track = tracks
        .iter()
        .find(|t| t.track_type() == matroska_demuxer::TrackType::Video)
        .ok_or(ProbeError::NoVideo)?;
    let codec = match video_track.codec_id() {
        "V_MPEG4/ISO/AVC" => VideoCodec::H264,
        "V_AV1" => VideoCodec::Av1,
        "V_VP9" => VideoCodec::Vp9,
        "V_MPEGH/ISO/HEVC" => return Err(ProbeError::UnsupportedVideo("HEVC (H.265)".into())),
        "V_VP8" => return Err(ProbeError::UnsupportedVideo("VP8".into())),
        "V_THEORA" => return Err(ProbeError::UnsupportedVideo("Theora".into())),
        other => {
            return Err(ProbeError::UnsupportedVideo(format!(
                "'{}'",
                other.chars().take(32).collect::<String>()
            )));
        }
    };
    let v = video_track
        .video()
        .ok_or_else(|| ProbeError::Malformed("the video track has no video settings".into()))?;
    let audio = tracks
        .iter()
        .find(|t| t.track_type() == matroska_demuxer::TrackType::Audio)
        .map(|t| {
            let codec = match t.codec_id() {
                "A_AAC" | "A_AAC/MPEG4/LC" | "A_AAC/MPEG2/LC" => AudioCodec::Aac,
                "A_MPEG/L3" => AudioCodec::Mp3,
                "A_OPUS" => AudioCodec::Opus,
                "A_VORBIS" => AudioCodec::Vorbis,
                "A_FLAC" => AudioCodec::Flac,
                "A_PCM/INT/LIT" | "A_PCM/INT/BIG" | "A_PCM/FLOAT/IEEE" => AudioCodec::Pcm,
                "A_AC3" => return Err(ProbeError::UnsupportedAudio("AC-3 (Dolby Digital)".into())),
                "A_EAC3" => {
                    return Err(ProbeError::UnsupportedAudio(
                        "E-AC-3 (Dolby Digital Plus)".into(),
                    ));
                }
                "A_DTS" => return Err(ProbeError::UnsupportedAudio("DTS".into())),
                other => {
                    return Err(ProbeError::UnsupportedAudio(format!(
                        "'{}'",
                        other.chars().take(32).collect::<String>()
                    )));
                }
            };
            let a = t.audio();
            Ok(AudioTrack {
                codec,
                sample_rate: a.map(|a| a.sampling_frequency() as u32).unwrap_or(0),
                channels: a
                    .map(|a| u16::try_from(a.channels().get()).unwrap_or(u16::MAX))
                    .unwrap_or(0),
            })
        })
        .transpose()?;
    let width = u32::try_from(v.pixel_width().get()).unwrap_or(u32::MAX);
    let height = u32::try_from(v.pixel_height().get()).unwrap_or(u32::MAX);
    let video = VideoTrack {
        codec,
        width,
        height,
        rotation: 0,
        frames: None,
        fps: None,
    };
    Ok((video, audio))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_width: 7680,
        max_height: 4320,
        max_duration_secs: 6 * 3600,
        max_frames: 3_000_000,
    };

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/media")
            .join(name)
    }

    #[test]
    fn real_clips() {
        let bunny = probe(&fixture("bigbuckbunny.mp4"), &LIMITS).unwrap();
        assert_eq!(bunny.video.codec, VideoCodec::H264);
        assert_eq!((bunny.video.width, bunny.video.height), (1280, 720));
        assert!(
            (5200..5500).contains(&bunny.duration_ms),
            "{}",
            bunny.duration_ms
        );
        assert_eq!(bunny.audio.as_ref().map(|a| a.codec), Some(AudioCodec::Aac));
        let fps = bunny.video.fps.unwrap();
        assert!((fps - 25.0).abs() < 0.5, "{fps}");
        let bikes = probe(&fixture("bikes.mp4"), &LIMITS).unwrap();
        assert_eq!((bikes.video.width, bikes.video.height), (640, 272));
        assert_eq!(bikes.audio, None);
    }

    #[test]
    fn limits_are_named() {
        let tight = Limits {
            max_width: 320,
            max_height: 240,
            ..LIMITS
        };
        let e = probe(&fixture("bikes.mp4"), &tight).unwrap_err();
        assert!(matches!(e, ProbeError::TooLarge { width: 640, .. }), "{e}");
        let short = Limits {
            max_duration_secs: 5,
            ..LIMITS
        };
        let e = probe(&fixture("bikes.mp4"), &short).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The video lasts 10 s; this instance accepts at most 5 s"
        );
        let few = Limits {
            max_frames: 10,
            ..LIMITS
        };
        assert!(matches!(
            probe(&fixture("bikes.mp4"), &few),
            Err(ProbeError::TooManyFrames { max: 10, .. })
        ));
    }

    #[test]
    fn truncated_and_junk_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(fixture("bigbuckbunny.mp4")).unwrap();
        for cut in [0, 7, 12, 40, 100, 1000, bytes.len() / 2, bytes.len() - 1] {
            let p = dir.path().join(format!("cut{cut}.mp4"));
            std::fs::write(&p, &bytes[..cut]).unwrap();
            assert!(probe(&p, &LIMITS).is_err(), "cut at {cut}");
        }
        // Flip bytes all over the header region: every outcome is a value, never a panic.
        for i in (0..4000).step_by(7) {
            let mut b = bytes.clone();
            b[i % bytes.len()] ^= 0xff;
            let p = dir.path().join("flip.mp4");
            std::fs::write(&p, &b).unwrap();
            let _ = probe(&p, &LIMITS);
        }
    }

    /// Rewrite header fields of a real clip the way a hostile upload would.
    fn patched(
        name: &str,
        patch: impl Fn(&mut Vec<u8>),
    ) -> (tempfile::TempDir, std::path::PathBuf) {
        let mut bytes = std::fs::read(fixture(name)).unwrap();
        patch(&mut bytes);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("patched.mp4");
        std::fs::write(&p, bytes).unwrap();
        (dir, p)
    }

    fn find(bytes: &[u8], tag: &[u8]) -> usize {
        bytes.windows(4).position(|w| w == tag).unwrap()
    }

    #[test]
    fn lying_headers_are_caught_before_decoding() {
        // The avc1 sample entry claims 60000×60000 pixels.
        let (_d, p) = patched("bikes.mp4", |b| {
            let stsd = find(b, b"stsd");
            let at = stsd + find(&b[stsd..], b"avc1") + 4 + 24;
            b[at..at + 4].copy_from_slice(&[0xea, 0x60, 0xea, 0x60]);
        });
        assert!(matches!(
            probe(&p, &LIMITS),
            Err(ProbeError::TooLarge {
                width: 60000,
                height: 60000,
                ..
            })
        ));
        // The movie header claims 48 hours: the samples say 10 s, and they are believed.
        let (_d, p) = patched("bikes.mp4", |b| {
            let at = find(b, b"mvhd") + 4;
            let timescale = u32::from_be_bytes([b[at + 12], b[at + 13], b[at + 14], b[at + 15]]);
            b[at + 16..at + 20].copy_from_slice(&(timescale * 48 * 3600).to_be_bytes());
        });
        assert_eq!(probe(&p, &LIMITS).unwrap().duration_ms, 10_000);
        // The samples themselves last 48 hours (every frame's duration in `stts`).
        let (_d, p) = patched("bikes.mp4", |b| {
            let stts = find(b, b"stts") + 4;
            let at = stts + 8 + 4; // version and flags, entry count, first run's count
            let delta = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
            b[at..at + 4].copy_from_slice(&(delta * 48 * 3600 / 10).to_be_bytes());
        });
        let e = probe(&p, &LIMITS).unwrap_err();
        assert!(
            matches!(e, ProbeError::TooLong { secs, max_secs: 21_600 } if secs > 47 * 3600),
            "{e}"
        );
        // A media header of timescale 0: every time would be a division by zero.
        let (_d, p) = patched("bikes.mp4", |b| {
            let at = find(b, b"mdhd") + 4 + 12;
            b[at..at + 4].copy_from_slice(&0u32.to_be_bytes());
        });
        assert!(
            probe(&p, &LIMITS)
                .unwrap_err()
                .to_string()
                .contains("no timescale")
        );
        // A moov box that claims to be larger than the file.
        let (_d, p) = patched("bikes.mp4", |b| {
            let at = find(b, b"moov") - 4;
            b[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        });
        assert!(matches!(probe(&p, &LIMITS), Err(ProbeError::Malformed(_))));
    }

    #[test]
    fn fuzz_corpus_replays() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/probe");
        let mut replayed = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let result = probe_reader(std::io::Cursor::new(&bytes), bytes.len() as u64, &LIMITS);
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // A browser recording's shape: unknown-size Segment and Clusters, no Duration.
            if name.starts_with("tiny-") || name.starts_with("live-style-") {
                assert!(result.is_ok(), "{name}: {result:?}");
            }
            if name == "regression-moov-nesting.mp4" {
                let e = result.as_ref().unwrap_err().to_string();
                assert!(e.contains("nest more than 16 deep"), "{e}");
            }
            // A movie header without the samples it describes is no video: the probe reads the
            // sample tables and every sample must be in the file.
            if name.ends_with("-ftyp-moov.mp4") || name.ends_with("-moov-only.mp4") {
                let e = result.unwrap_err().to_string();
                assert!(e.contains("beyond the end of the file"), "{name}: {e}");
            }
            replayed += 1;
        }
        assert!(replayed >= 10, "the corpus is there");
    }

    #[test]
    fn rotation_matrices() {
        let m = |a, b, c, d| mp4_atom::Matrix {
            a,
            b,
            u: 0,
            c,
            d,
            v: 0,
            x: 0,
            y: 0,
            w: 0x4000_0000,
        };
        assert_eq!(rotation(&m(0x10000, 0, 0, 0x10000)), 0);
        assert_eq!(rotation(&m(0, 0x10000, -0x10000, 0)), 90);
        assert_eq!(rotation(&m(-0x10000, 0, 0, -0x10000)), 180);
        assert_eq!(rotation(&m(0, -0x10000, 0x10000, 0)), 270);
    }
}
