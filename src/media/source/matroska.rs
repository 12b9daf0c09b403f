//! Matroska and WebM uploads as a remux `Source`: H.264, AV1 or VP9 video with AAC or Opus
//! audio (or Vorbis, FLAC, PCM or MP3 audio, kept as `foreign_audio` for `media::audio` to
//! re-encode), demuxed by matroska-demuxer. Matroska frames do not say where their bytes are in the file,
//! so each kept frame is copied once, in file order, to a scratch file beside the upload; the
//! samples then point into it and the writers copy from it as they do from an MP4.
//!
//! What Matroska lacks and MP4 needs is made here: sample entries from each track's
//! CodecPrivate (the `avcC`/`av1C` payload, AAC's AudioSpecificConfig, Opus's `OpusHead`),
//! decode times (blocks carry presentation times; with B-frames the decode times are those
//! times sorted, every track shifted by the B-frame delay so that composition offsets stay
//! positive), and durations from the next frame's time.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use matroska_demuxer::{Frame, MatroskaFile, TrackEntry, TrackType};
use mp4_atom::esds::{DecoderConfig, DecoderSpecific, EsDescriptor};
use mp4_atom::{
    Atom, Audio, Av01, Av1c, Avc1, Avcc, Codec, Dinf, Dops, Dref, DrefEntry, Esds, FixedPoint,
    Hdlr, Mdhd, Mdia, Minf, Moov, Mp4a, Mvhd, Opus, Smhd, Stbl, Stsd, Tkhd, Trak, Url, Visual,
    Vmhd, Vp09, VpcC,
};

use super::{ContainerError, MAX_SAMPLES, Source, Tables, Track};
use crate::media::interrupt::Interrupt;
use crate::media::source::foreign::{AudioFormat, ForeignAudio, InputCodec};
use crate::media::source::io::{Budget, MAX_IO_OPS, PastEnd};
use crate::media::source::samples::Sample;

/// What one kept frame became in the scratch file.
struct Raw {
    pts: u64,
    offset: u64,
    size: u32,
    key: bool,
}

fn unsupported(what: impl Into<String>) -> ContainerError {
    ContainerError::Unsupported(what.into())
}

/// Demux `path` into `scratch` and describe it as a `Source`.
pub fn open(path: &Path, scratch: &Path) -> Result<Source, ContainerError> {
    open_watched(path, scratch, &Interrupt::never())
}

/// `open`, stopping when `interrupt` is raised (the demux reads the whole file), and the source
/// made watching it too.
pub fn open_watched(
    path: &Path,
    scratch: &Path,
    interrupt: &Interrupt,
) -> Result<Source, ContainerError> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut out = BufWriter::with_capacity(256 * 1024, File::create(scratch)?);
    let tables = read(
        BufReader::with_capacity(256 * 1024, file),
        len,
        &mut out,
        MAX_SAMPLES,
        interrupt,
    )?;
    out.flush()?;
    out.get_ref().sync_data()?;
    drop(out);
    let mut source = Source::from_tables(scratch, tables)?;
    source.watch(interrupt.clone());
    Ok(source)
}

/// A Matroska reader for matroska-demuxer: within a budget of reads and seeks (which still stops
/// a parser stuck in a loop, however many small frames a valid file has), and seekable past the
/// end (`io::PastEnd`: what a live recording's unknown sizes need).
pub(crate) fn demuxer_reader<R: Read + Seek>(
    mut reader: R,
    len: u64,
) -> Result<impl Read + Seek, ContainerError> {
    crate::media::source::structure::check_ebml(&mut reader, len).map_err(|e| {
        ContainerError::Malformed(format!("its Matroska elements are not well formed: {e}"))
    })?;
    reader.seek(std::io::SeekFrom::Start(0))?;
    let reader = PastEnd::new(reader, len)?;
    Ok(Budget::new(reader, MAX_IO_OPS + len.saturating_mul(4)))
}

/// Read the Matroska file in `reader` (`len` bytes): every kept frame is written to `out` in
/// file order (a scratch file, or nothing for the probe), and the tables say where each sample
/// is in what was written. More than `max_video_frames` video frames are refused.
pub fn read<R: Read + Seek>(
    reader: R,
    len: u64,
    out: &mut impl Write,
    max_video_frames: usize,
    interrupt: &Interrupt,
) -> Result<Tables, ContainerError> {
    let mut mkv = MatroskaFile::open(demuxer_reader(reader, len)?).map_err(malformed)?;
    let scale = mkv.info().timestamp_scale().get();
    let timescale = u32::try_from(1_000_000_000 / scale)
        .ok()
        .filter(|t| *t > 0 && 1_000_000_000 % scale == 0)
        .ok_or_else(|| unsupported("an unusual Matroska timestamp scale"))?;
    let video_track =
        kept(mkv.tracks(), TrackType::Video)?.ok_or_else(|| unsupported("no video track"))?;
    let audio_track = kept(mkv.tracks(), TrackType::Audio)?;
    let mut video_entry = video_entry(&video_track)?;
    let mut in_band = (video_track.codec_id() == "V_MPEG4/ISO/AVC"
        && video_track.codec_private().is_none())
    .then(InBand::default);
    let audio_entry = audio_track.as_ref().map(audio_entry).transpose()?;

    let (mut video, mut audio) = (Vec::new(), Vec::new());
    let mut at = 0u64;
    let mut frame = Frame::default();
    let video_number = video_track.track_number().get();
    let audio_number = audio_track.as_ref().map(|t| t.track_number().get());
    while next_frame(&mut mkv, &mut frame)? {
        interrupt.check().map_err(ContainerError::Interrupted)?;
        let list = if frame.track == video_number {
            &mut video
        } else if Some(frame.track) == audio_number {
            &mut audio
        } else {
            continue;
        };
        let max = if frame.track == video_number {
            max_video_frames
        } else {
            MAX_SAMPLES
        };
        if list.len() >= max {
            return Err(ContainerError::Malformed(format!(
                "it has more than the {max} frames accepted in one track"
            )));
        }
        if frame.track == video_number
            && let Some(in_band) = &mut in_band
        {
            in_band.convert(&mut frame.data);
        }
        let size = u32::try_from(frame.data.len()).map_err(|_| unsupported("a huge frame"))?;
        out.write_all(&frame.data)?;
        list.push(Raw {
            pts: frame.timestamp,
            offset: at,
            size,
            key: frame.is_keyframe.unwrap_or(list.is_empty()),
        });
        at += u64::from(size);
    }
    if let (Some(in_band), Codec::Avc1(entry)) = (in_band, &mut video_entry) {
        entry.avcc = in_band.avcc()?;
    }
    if video.is_empty() || !video[0].key {
        return Err(ContainerError::Malformed(
            "the video does not start with a keyframe".into(),
        ));
    }
    let default_video = video_track
        .default_duration()
        .map(|ns| ns.get() / scale)
        .unwrap_or(0);
    // One time origin for both tracks, so that they keep their relative timing.
    let base = video.iter().chain(&audio).map(|r| r.pts).min().unwrap_or(0);
    let delay = reorder_delay(&video);
    let video = Track {
        samples: video_samples(&video, default_video, base, delay),
        timescale: u64::from(timescale),
        trak: Trak::default(),
    };
    let (audio, foreign_audio) = match audio_entry {
        Some(AudioEntry::Mp4(entry, rate)) => (
            Some((entry, audio_samples(&audio, scale, rate, base, delay))),
            None,
        ),
        Some(AudioEntry::Foreign(format, rate)) => {
            let (samples, rate) = audio_samples(&audio, scale, rate, base, delay);
            let track = Track {
                trak: Trak::default(),
                samples,
                timescale: u64::from(rate),
            };
            (
                None,
                Some(ForeignAudio {
                    track,
                    format,
                    offset_secs: 0.0,
                }),
            )
        }
        None => (None, None),
    };
    let (width, height) = match &video_entry {
        Codec::Avc1(c) => (c.visual.width, c.visual.height),
        Codec::Av01(c) => (c.visual.width, c.visual.height),
        Codec::Vp09(c) => (c.visual.width, c.visual.height),
        _ => (0, 0),
    };
    let end_ms = |samples: &[Sample], ts: u64| {
        samples
            .last()
            .map(|s| (s.dts + u64::from(s.duration)) * 1000 / ts.max(1))
            .unwrap_or(0)
    };
    let video_ms = end_ms(&video.samples, video.timescale);
    let mut moov = Moov {
        mvhd: Mvhd {
            timescale: 1000,
            duration: video_ms,
            next_track_id: 3,
            ..Mvhd::default()
        },
        ..Moov::default()
    };
    let mut video = video;
    video.trak = trak(
        1,
        b"vide",
        timescale,
        &video.samples,
        video_ms,
        video_entry,
        (width, height),
    );
    moov.trak.push(video.trak.clone());
    let audio = audio.map(|(entry, (samples, rate))| {
        let ms = end_ms(&samples, u64::from(rate));
        let trak = trak(2, b"soun", rate, &samples, ms, entry, (0, 0));
        Track {
            trak,
            samples,
            timescale: u64::from(rate),
        }
    });
    if let Some(a) = &audio {
        moov.trak.push(a.trak.clone());
    }
    let mut tables = Tables::from_parts(moov, video, audio)?;
    tables.foreign_audio = foreign_audio;
    Ok(tables)
}

fn malformed(e: matroska_demuxer::DemuxError) -> ContainerError {
    ContainerError::Malformed(format!("unreadable Matroska: {}", describe(&e)))
}

/// matroska-demuxer's error in an uploader's words (its own text shows `None` for an I/O error).
pub fn describe(e: &matroska_demuxer::DemuxError) -> String {
    use matroska_demuxer::DemuxError as E;
    match e {
        E::IoError(io) => io.to_string(),
        E::CantFindCluster => "it holds no frames (no Cluster element was found)".into(),
        E::ElementSizeExceedsStream {
            declared,
            available,
        } => format!(
            "an element claims {declared} bytes where {available} are left: the file is probably truncated"
        ),
        E::InvalidBlockSize => "a block's size does not match its contents".into(),
        E::InvalidEbmlElementId | E::InvalidEbmlDataSize => {
            "an element header is invalid: the file is damaged".into()
        }
        E::UnsupportedDocType(t) => format!("its document type '{t}' is neither Matroska nor WebM"),
        other => other.to_string(),
    }
}

/// The first track of a kind, refusing content encodings (compression, header stripping), whose
/// frames would not be the codec's own bytes.
fn kept(tracks: &[TrackEntry], kind: TrackType) -> Result<Option<TrackEntry>, ContainerError> {
    let Some(t) = tracks.iter().find(|t| t.track_type() == kind) else {
        return Ok(None);
    };
    if t.content_encodings().is_some_and(|e| !e.is_empty()) {
        return Err(unsupported("compressed Matroska tracks"));
    }
    Ok(Some(t.clone()))
}

fn visual(width: u16, height: u16) -> Visual {
    Visual {
        data_reference_index: 1,
        width,
        height,
        ..Visual::default()
    }
}

/// The MP4 sample entry of the video track.
fn video_entry(t: &TrackEntry) -> Result<Codec, ContainerError> {
    let v = t
        .video()
        .ok_or_else(|| ContainerError::Malformed("no video settings".into()))?;
    let size = |n: std::num::NonZeroU64| u16::try_from(n.get()).unwrap_or(u16::MAX);
    let (w, h) = (size(v.pixel_width()), size(v.pixel_height()));
    let colr = v.colour().and_then(colour_box);
    // VP9's codec private data is optional: its stream carries its own configuration.
    if t.codec_id() == "V_VP9" {
        return Ok(Codec::Vp09(Vp09 {
            visual: visual(w, h),
            vpcc: vp9_config(t.codec_private().unwrap_or_default()),
            colr,
            ..Vp09::default()
        }));
    }
    let Some(private) = t.codec_private() else {
        if t.codec_id() == "V_MPEG4/ISO/AVC" {
            // A browser recording (Chromium's MediaRecorder): no avcC, its frames in Annex B
            // with the parameter sets in-band; `InBand` makes both as the frames are read.
            return Ok(Codec::Avc1(Avc1 {
                visual: visual(w, h),
                colr,
                ..Avc1::default()
            }));
        }
        return Err(ContainerError::Malformed(
            "the video track has no codec configuration".into(),
        ));
    };
    let bad = |e: mp4_atom::Error| ContainerError::Malformed(format!("codec configuration: {e}"));
    match t.codec_id() {
        "V_MPEG4/ISO/AVC" => Ok(Codec::Avc1(Avc1 {
            visual: visual(w, h),
            avcc: Avcc::decode_body(&mut &private[..]).map_err(bad)?,
            colr,
            ..Avc1::default()
        })),
        "V_AV1" => Ok(Codec::Av01(Av01 {
            visual: visual(w, h),
            av1c: Av1c::decode_body(&mut &private[..]).map_err(bad)?,
            colr,
            ..Av01::default()
        })),
        other => Err(unsupported(format!("{other} video"))),
    }
}

/// The track's `Colour` element as an MP4 `colr` box, when it says anything. Matroska numbers
/// its enums as ISO/IEC 23091-2 does; matroska-demuxer names them, so they are numbered back.
fn colour_box(c: &matroska_demuxer::Colour) -> Option<mp4_atom::Colr> {
    use matroska_demuxer::{
        MatrixCoefficients as M, Primaries as P, Range, TransferCharacteristics as T,
    };
    let unspecified = u16::from(crate::media::colour::UNSPECIFIED);
    let matrix = c.matrix_coefficients().map_or(unspecified, |m| match m {
        M::Identity => 0,
        M::Bt709 => 1,
        M::Fcc73682 => 4,
        M::Bt470bg => 5,
        M::Smpte170 => 6,
        M::Smpte240 => 7,
        M::YCoCg => 8,
        M::Bt2020Ncl => 9,
        M::Bt2020Cl => 10,
        M::SmpteSt2085 => 11,
        M::ChromaDerivedNcl => 12,
        M::ChromaDerivedCl => 13,
        M::Bt2100 => 14,
        _ => unspecified,
    });
    let transfer = c
        .transfer_characteristics()
        .map_or(unspecified, |t| match t {
            T::Bt709 => 1,
            T::Bt407m => 4,
            T::Bt407bg => 5,
            T::Smpte170 => 6,
            T::Smpte240 => 7,
            T::Linear => 8,
            T::Log => 9,
            T::LogSqrt => 10,
            T::Iec61966_2_4 => 11,
            T::Bt1361 => 12,
            T::Iec61966_2_1 => 13,
            T::Bt220_10 => 14,
            T::Bt220_12 => 15,
            T::Bt2100 => 16,
            T::SmpteSt428_1 => 17,
            T::Hlg => 18,
            _ => unspecified,
        });
    let primaries = c.primaries().map_or(unspecified, |p| match p {
        P::Bt709 => 1,
        P::Bt470m => 4,
        P::Bt601 => 5,
        P::Smpte170 => 6,
        P::Smpte240 => 7,
        P::Film => 8,
        P::Bt2020 => 9,
        P::SmpteSt428_1 => 10,
        P::SmpteRp432_2 => 11,
        P::SmpteEg432_2 => 12,
        P::JedecP22 => 22,
        _ => unspecified,
    });
    let full_range = c.range() == Some(Range::Full);
    let says = [matrix, transfer, primaries]
        .iter()
        .any(|v| *v != unspecified)
        || full_range;
    says.then_some(mp4_atom::Colr::Nclx {
        colour_primaries: primaries,
        transfer_characteristics: transfer,
        matrix_coefficients: matrix,
        full_range_flag: full_range,
    })
}

/// The next frame of any track, or `false` at the end. matroska-demuxer 0.8.1 can panic on a
/// hostile lace size (an overflowing negation in `parse_laced_frames`, found by the `remux`
/// fuzz target), so a panic there is taken as what it is: a malformed file.
fn next_frame<R: std::io::Read + std::io::Seek>(
    mkv: &mut MatroskaFile<R>,
    frame: &mut Frame,
) -> Result<bool, ContainerError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| mkv.next_frame(frame)))
        .map_err(|_| ContainerError::Malformed("a Matroska block's lacing cannot be read".into()))?
        .map_err(malformed)
}

/// An H.264 track without its configuration (Chromium's MediaRecorder writes none): its frames
/// are Annex B byte streams (start codes) repeating the parameter sets before each keyframe.
/// Each frame is rewritten as MP4 has it (each NAL unit after its 4-byte length), and the first
/// sequence and picture parameter sets become the `avcC`. Written by hand: no crate converts a
/// Matroska H.264 track, and it is a scan for start codes.
#[derive(Default)]
struct InBand {
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
}

impl InBand {
    /// Rewrite one frame from Annex B to length-prefixed NAL units, noting parameter sets.
    fn convert(&mut self, frame: &mut Vec<u8>) {
        let mut out = Vec::with_capacity(frame.len() + 16);
        for nal in annex_b_units(frame) {
            match nal.first().map(|b| b & 0x1F) {
                Some(7) if self.sps.is_none() => self.sps = Some(nal.to_vec()),
                Some(8) if self.pps.is_none() => self.pps = Some(nal.to_vec()),
                _ => {}
            }
            out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            out.extend_from_slice(nal);
        }
        *frame = out;
    }

    fn avcc(self) -> Result<Avcc, ContainerError> {
        let (Some(sps), Some(pps)) = (self.sps, self.pps) else {
            return Err(ContainerError::Malformed(
                "the H.264 track carries no parameter sets".into(),
            ));
        };
        Avcc::new(&sps, &pps)
            .map_err(|e| ContainerError::Malformed(format!("its H.264 parameter sets: {e}")))
    }
}

/// The NAL units of an Annex B byte stream: what lies between start codes (`00 00 01`, or
/// `00 00 00 01`), without the zero bytes that end one before the next start code.
fn annex_b_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut units = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(stream.len(), |next| next - 3);
        let mut unit = &stream[start..end.max(start)];
        while let [rest @ .., 0] = unit {
            unit = rest;
        }
        if !unit.is_empty() {
            units.push(unit);
        }
    }
    units
}

/// The `vpcC` of a VP9 track from Matroska's optional feature list (`ID, length, value` triples:
/// 1 profile, 2 level, 3 bit depth, 4 chroma subsampling); what it leaves out stays at the
/// 8-bit profile 0 defaults. It only describes the stream, which the decoder reads on its own.
fn vp9_config(private: &[u8]) -> VpcC {
    // mp4-atom's default claims BT.709; Matroska's CodecPrivate has no colour (its `Colour`
    // element becomes the entry's `colr`), so it is unspecified here.
    let unspecified = crate::media::colour::UNSPECIFIED;
    let mut config = VpcC {
        color_primaries: unspecified,
        transfer_characteristics: unspecified,
        matrix_coefficients: unspecified,
        ..VpcC::default()
    };
    let mut rest = private;
    while let [id, len, tail @ ..] = rest {
        let Some((value, next)) = tail.split_at_checked(usize::from(*len)) else {
            break;
        };
        if let [v] = value {
            match id {
                1 => config.profile = *v,
                2 => config.level = *v,
                3 => config.bit_depth = *v,
                4 => config.chroma_subsampling = *v,
                _ => {}
            }
        }
        rest = next;
    }
    config
}

/// The MP4 sample entry of the audio track and its sample rate (the track's timescale).
/// How an audio track goes into MP4: as it is (its sample entry), or re-encoded first; with
/// the rate its packet times are counted in.
enum AudioEntry {
    Mp4(Codec, u32),
    Foreign(AudioFormat, u32),
}

fn audio_entry(t: &TrackEntry) -> Result<AudioEntry, ContainerError> {
    let private = t.codec_private().unwrap_or_default();
    let settings = t.audio();
    let channels = settings
        .map(|a| u16::try_from(a.channels().get()).unwrap_or(2))
        .unwrap_or(2);
    let rate = settings.map(|a| a.sampling_frequency() as u32).unwrap_or(0);
    let audio = |rate: u32| Audio {
        data_reference_index: 1,
        channel_count: channels,
        sample_size: 16,
        sample_rate: FixedPoint::new(u16::try_from(rate).unwrap_or(0), 0),
    };
    match t.codec_id() {
        "A_AAC" | "A_AAC/MPEG4/LC" | "A_AAC/MPEG2/LC" => {
            let [a, b, ..] = private else {
                return Err(ContainerError::Malformed(
                    "AAC without its configuration".into(),
                ));
            };
            if rate == 0 {
                return Err(ContainerError::Malformed(
                    "AAC without a sample rate".into(),
                ));
            }
            let specific = DecoderSpecific {
                profile: a >> 3,
                freq_index: ((a & 7) << 1) | (b >> 7),
                chan_conf: (b >> 3) & 0x0f,
                raw: private.to_vec(),
            };
            let esds = Esds {
                es_desc: EsDescriptor {
                    es_id: 2,
                    dec_config: DecoderConfig {
                        object_type_indication: 0x40,
                        stream_type: 5,
                        dec_specific: Some(specific),
                        ..DecoderConfig::default()
                    },
                    ..EsDescriptor::default()
                },
            };
            Ok(AudioEntry::Mp4(
                Codec::Mp4a(Mp4a {
                    audio: audio(rate),
                    esds,
                    btrt: None,
                    taic: None,
                }),
                rate,
            ))
        }
        "A_OPUS" => {
            // OpusHead (RFC 7845 §5.1): magic, version, channels, pre-skip, rate, gain, family.
            if private.len() < 19 || &private[..8] != b"OpusHead" {
                return Err(ContainerError::Malformed(
                    "Opus without its OpusHead".into(),
                ));
            }
            if private[18] != 0 {
                return Err(unsupported("Opus with more than two channels"));
            }
            let dops = Dops {
                output_channel_count: private[9],
                pre_skip: u16::from_le_bytes([private[10], private[11]]),
                input_sample_rate: u32::from_le_bytes([
                    private[12],
                    private[13],
                    private[14],
                    private[15],
                ]),
                output_gain: i16::from_le_bytes([private[16], private[17]]),
                channel_mapping: None,
            };
            Ok(AudioEntry::Mp4(
                Codec::Opus(Opus {
                    audio: audio(48_000),
                    dops,
                    btrt: None,
                }),
                48_000,
            ))
        }
        "A_MPEG/L3" => foreign(InputCodec::Mp3, rate, channels),
        "A_VORBIS" => foreign(
            InputCodec::Vorbis {
                headers: private.to_vec(),
            },
            rate,
            channels,
        ),
        "A_FLAC" => {
            // "fLaC", then the STREAMINFO block's 4-byte header and its 34 bytes.
            let stream_info = private
                .get(8..42)
                .filter(|_| private.starts_with(b"fLaC"))
                .ok_or_else(|| ContainerError::Malformed("FLAC without its STREAMINFO".into()))?;
            foreign(
                InputCodec::Flac {
                    stream_info: stream_info.to_vec(),
                },
                rate,
                channels,
            )
        }
        id @ ("A_PCM/INT/LIT" | "A_PCM/INT/BIG" | "A_PCM/FLOAT/IEEE") => {
            let bits = settings
                .and_then(|a| a.bit_depth())
                .and_then(|b| u16::try_from(b.get()).ok())
                .unwrap_or(16);
            foreign(
                InputCodec::Pcm {
                    bits,
                    float: id == "A_PCM/FLOAT/IEEE",
                    big_endian: id == "A_PCM/INT/BIG",
                    unsigned: bits == 8,
                },
                rate,
                channels,
            )
        }
        other => Err(unsupported(format!("{other} audio"))),
    }
}

/// A track to re-encode (`media::audio`): its format, and its packets' time base.
fn foreign(codec: InputCodec, rate: u32, channels: u16) -> Result<AudioEntry, ContainerError> {
    if rate == 0 {
        return Err(ContainerError::Malformed(format!(
            "{} audio without a sample rate",
            codec.label()
        )));
    }
    Ok(AudioEntry::Foreign(
        AudioFormat {
            codec,
            sample_rate: rate,
            channels,
        },
        rate,
    ))
}

/// The reordering delay of B-frames: how far, at most, a frame is shown before its place in
/// decode order (the presentation times sorted). Every track is shifted later by it, so that
/// composition offsets stay positive — what every player reads — and the tracks keep their
/// relative timing.
fn reorder_delay(raw: &[Raw]) -> u64 {
    let mut sorted: Vec<u64> = raw.iter().map(|r| r.pts).collect();
    sorted.sort_unstable();
    raw.iter()
        .zip(&sorted)
        .map(|(r, &dts)| dts.saturating_sub(r.pts))
        .max()
        .unwrap_or(0)
}

/// Video samples in decode (file) order: decode times are the presentation times sorted, so
/// every frame is decoded before it is shown; times count from `base` and are shifted by
/// `delay` (`reorder_delay`); durations run to the next decode time.
fn video_samples(raw: &[Raw], default_duration: u64, base: u64, delay: u64) -> Vec<Sample> {
    let mut sorted: Vec<u64> = raw.iter().map(|r| r.pts).collect();
    sorted.sort_unstable();
    let mut samples: Vec<Sample> = raw
        .iter()
        .zip(&sorted)
        .map(|(r, &dts)| Sample {
            offset: r.offset,
            size: r.size,
            dts: dts - base,
            duration: 0,
            cts_offset: (r.pts + delay) as i64 - dts as i64,
            sync: r.key,
        })
        .collect();
    fill_durations(&mut samples, default_duration);
    samples
}

/// Audio samples: times converted from Matroska ticks (counted from `base`) to the sample rate.
fn audio_samples(raw: &[Raw], scale: u64, rate: u32, base: u64, delay: u64) -> (Vec<Sample>, u32) {
    let to_rate = |ticks: u64| {
        (u128::from(ticks) * u128::from(scale) * u128::from(rate) / 1_000_000_000) as u64
    };
    let base = to_rate(base);
    let delay = to_rate(delay);
    let mut samples: Vec<Sample> = raw
        .iter()
        .map(|r| Sample {
            offset: r.offset,
            size: r.size,
            dts: (to_rate(r.pts) + delay).saturating_sub(base),
            duration: 0,
            cts_offset: 0,
            sync: true,
        })
        .collect();
    // The usual frame: 1024 samples for AAC, 20 ms for Opus.
    let typical = samples
        .windows(2)
        .map(|w| w[1].dts.saturating_sub(w[0].dts))
        .next()
        .unwrap_or(1024);
    fill_durations(&mut samples, typical);
    (samples, rate)
}

/// Each sample lasts until the next; the last lasts `last` (or the one before's duration).
fn fill_durations(samples: &mut [Sample], last: u64) {
    for i in 0..samples.len() {
        let next = samples.get(i + 1).map(|n| n.dts);
        let duration = match next {
            Some(n) => n.saturating_sub(samples[i].dts),
            None if last > 0 => last,
            None => i
                .checked_sub(1)
                .map(|p| u64::from(samples[p].duration))
                .unwrap_or(1),
        };
        samples[i].duration = u32::try_from(duration).unwrap_or(u32::MAX);
    }
}

/// A track box for `samples`: header, media header and handler, with only the sample
/// description filled in (the writers build the tables).
pub(crate) fn trak(
    id: u32,
    handler: &[u8; 4],
    timescale: u32,
    samples: &[Sample],
    duration_ms: u64,
    entry: Codec,
    (width, height): (u16, u16),
) -> Trak {
    let video = handler == b"vide";
    let media_duration = samples
        .last()
        .map(|s| s.dts + u64::from(s.duration))
        .unwrap_or(0);
    Trak {
        tkhd: Tkhd {
            track_id: id,
            duration: duration_ms,
            enabled: true,
            in_movie: true,
            volume: FixedPoint::new(u8::from(!video), 0),
            width: FixedPoint::new(width, 0),
            height: FixedPoint::new(height, 0),
            ..Tkhd::default()
        },
        mdia: Mdia {
            mdhd: Mdhd {
                timescale,
                duration: media_duration,
                language: "und".into(),
                ..Mdhd::default()
            },
            hdlr: Hdlr {
                handler: (*handler).into(),
                name: if video {
                    "VideoHandler"
                } else {
                    "SoundHandler"
                }
                .into(),
            },
            minf: Minf {
                vmhd: video.then(Vmhd::default),
                smhd: (!video).then(Smhd::default),
                dinf: Dinf {
                    dref: Dref {
                        entries: vec![DrefEntry::Url(Url::default())],
                    },
                },
                stbl: Stbl {
                    stsd: Stsd {
                        codecs: vec![entry],
                    },
                    ..Stbl::default()
                },
                ..Minf::default()
            },
        },
        ..Trak::default()
    }
}

#[cfg(test)]
mod vp9_tests {
    use super::*;

    #[test]
    fn vp9_features_fill_the_config_and_junk_is_ignored() {
        let c = vp9_config(&[1, 1, 2, 2, 1, 31, 3, 1, 10, 9, 1, 7, 4, 1, 1]);
        assert_eq!(
            (c.profile, c.level, c.bit_depth, c.chroma_subsampling),
            (2, 31, 10, 1)
        );
        let truncated = vp9_config(&[1, 1, 2, 3, 5]);
        assert_eq!((truncated.profile, truncated.bit_depth), (2, 8));
        let empty = vp9_config(&[]);
        assert_eq!((empty.profile, empty.bit_depth), (0, 8));
        assert_eq!(
            (
                empty.color_primaries,
                empty.transfer_characteristics,
                empty.matrix_coefficients
            ),
            (2, 2, 2),
            "no colour claimed"
        );
    }
}
