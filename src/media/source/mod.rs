//! An upload as every later step reads it: its container demuxed (MP4/MOV here, with `samples`
//! expanding the sample tables; Matroska/WebM in `matroska`), its tracks and every sample's place
//! in the file (`Tables`), and its sample bytes copied with bounded memory (`Source`). The shape
//! of the container is checked first (`structure`), every read goes through a budget (`io`), and
//! audio MP4 cannot carry is described for re-encoding (`foreign`).
//!
//! Everything that reads an upload depends on this module and it on none of them: the probe,
//! the decoders, the audio re-encoder, the transcoder, thumbnails, and the writers (`remux`).

pub mod foreign;
pub mod io;
pub mod matroska;
pub mod samples;
pub mod sanity;
pub mod structure;

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use mp4_atom::{Atom, Codec, Encode, Header, Moov, ReadAtom, ReadFrom, Trak};

use foreign::{AudioFormat, ForeignAudio, InputCodec};
use samples::{Sample, SampleTableError, pcm_packets, samples, span_ms};

/// Most samples read from one track (6 h at 120 fps).
pub(crate) const MAX_SAMPLES: usize = 6 * 3600 * 120;

/// Why an upload's container could not be read, or a file written.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("cannot remux: {0}")]
    Unsupported(String),
    #[error("damaged file: {0}")]
    Malformed(String),
    #[error(transparent)]
    Tables(#[from] SampleTableError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing boxes: {0}")]
    Encode(String),
    /// The work was asked to stop, or ran past its budget (`media::interrupt`).
    #[error("{0}")]
    Interrupted(crate::media::interrupt::Why),
}

/// One track of the source and its samples in decode order.
pub struct Track {
    pub trak: Trak,
    pub samples: Vec<Sample>,
    pub timescale: u64,
}

/// What an upload's container says of its tracks and samples, read without the sample bytes:
/// what the probe checks and a `Source` reads from.
pub struct Tables {
    pub moov: Moov,
    pub video: Track,
    pub audio: Option<Track>,
    pub foreign_audio: Option<ForeignAudio>,
    pub codecs: String,
    pub width: u32,
    pub height: u32,
}

impl Tables {
    /// The tables of an MP4/MOV whose movie header is `moov` (its bytes `raw`), in a file of
    /// `len` bytes: its H.264, AV1 or VP9 track and its audio, every sample inside the file.
    pub fn from_moov(moov: Moov, raw: &[u8], len: u64) -> Result<Tables, ContainerError> {
        let (video, mut audio) = pick_tracks(&moov, len)?;
        if let Some(a) = &mut audio {
            quicktime_endianness(&mut a.trak, raw);
        }
        let codecs = codecs_of(&video.trak, None)?;
        let (width, height) = visual_size(&video.trak)?;
        Tables {
            moov,
            video,
            audio: None,
            foreign_audio: None,
            codecs,
            width,
            height,
        }
        .with_audio(audio)
    }

    /// Tables another demuxer made (`matroska`).
    pub fn from_parts(
        moov: Moov,
        video: Track,
        audio: Option<Track>,
    ) -> Result<Tables, ContainerError> {
        let codecs = codecs_of(&video.trak, audio.as_ref().map(|a| &a.trak))?;
        let (width, height) = visual_size(&video.trak)?;
        Ok(Tables {
            moov,
            video,
            audio,
            foreign_audio: None,
            codecs,
            width,
            height,
        })
    }

    /// Keep `audio` as the audio track when MP4 carries it as it is, as the foreign audio when
    /// it must be re-encoded first.
    fn with_audio(mut self, audio: Option<Track>) -> Result<Tables, ContainerError> {
        let Some(track) = audio else {
            return Ok(self);
        };
        match foreign_format(&track.trak)? {
            None => {
                self.codecs = codecs_of(&self.video.trak, Some(&track.trak))?;
                self.audio = Some(track);
            }
            Some(format) => {
                let offset_secs = presentation_offset(&track, self.moov.mvhd.timescale);
                self.foreign_audio = Some(ForeignAudio {
                    track,
                    format,
                    offset_secs,
                });
            }
        }
        Ok(self)
    }

    /// How long the video is shown, from its samples (`samples::span_ms`).
    pub fn duration_ms(&self) -> u64 {
        span_ms(&self.video.samples, self.video.timescale)
    }
}

/// The largest `moov` box accepted (a two-hour film's is a few MB).
pub const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;

/// Walk the top-level boxes to the `moov` box; the reader is left at its body, whose size is
/// returned with its header.
pub fn locate_moov<R: Read + Seek>(
    reader: &mut R,
    len: u64,
) -> Result<(Header, u64), ContainerError> {
    loop {
        let header = match Header::read_from(reader) {
            Ok(h) => h,
            Err(_) => {
                return Err(ContainerError::Malformed(
                    "no movie header (moov box): the file is probably truncated".into(),
                ));
            }
        };
        let pos = reader
            .stream_position()
            .map_err(|e| ContainerError::Malformed(e.to_string()))?;
        let size = match header.size {
            Some(s) => s as u64,
            None => len.saturating_sub(pos),
        };
        if pos.saturating_add(size) > len {
            return Err(ContainerError::Malformed(format!(
                "the {} box runs past the end of the file: the file is probably truncated",
                super::source::structure::box_name(header.kind.into())
            )));
        }
        if header.kind == Moov::KIND {
            if size > MAX_MOOV_BYTES {
                return Err(ContainerError::Malformed(format!(
                    "the movie header is {size} bytes, more than the {MAX_MOOV_BYTES} accepted"
                )));
            }
            return Ok((header, size));
        }
        reader
            .seek(SeekFrom::Current(i64::try_from(size).unwrap_or(i64::MAX)))
            .map_err(|e| ContainerError::Malformed(e.to_string()))?;
    }
}

/// Read the movie header of the MP4 in `reader` (`len` bytes): located among the top-level
/// boxes, at most `MAX_MOOV_BYTES`, its box tree checked (`structure::check_mp4_boxes`)
/// before `mp4-atom` decodes it recursively. Returns it with its bytes.
pub fn read_moov<R: Read + Seek>(
    reader: &mut R,
    len: u64,
) -> Result<(Moov, Vec<u8>), ContainerError> {
    let (header, size) =
        locate_moov(reader, len).map_err(|e| ContainerError::Malformed(e.to_string()))?;
    let mut raw = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    reader.take(size).read_to_end(&mut raw)?;
    structure::check_mp4_boxes(&raw).map_err(|e| {
        ContainerError::Malformed(format!("its movie header is not well formed: {e}"))
    })?;
    let moov = Moov::read_atom(&header, &mut raw.as_slice()).map_err(|e| {
        ContainerError::Malformed(format!("unreadable movie header: {}", atom_error(&e)))
    })?;
    Ok((moov, raw))
}

/// mp4-atom's error in an uploader's words: box names readable, even when not letters.
fn atom_error(e: &mp4_atom::Error) -> String {
    match e {
        mp4_atom::Error::DuplicateBox(kind) => format!(
            "the {} box appears twice where one is allowed",
            structure::box_name((*kind).into())
        ),
        mp4_atom::Error::MissingBox(kind) => format!(
            "the {} box it needs is missing",
            structure::box_name((*kind).into())
        ),
        mp4_atom::Error::UnexpectedBox(kind) => format!(
            "the {} box is where it may not be",
            structure::box_name((*kind).into())
        ),
        other => other.to_string(),
    }
}

/// An opened MP4 upload: its movie header, its H.264 or AV1 video track and optional audio track.
pub struct Source {
    file: BufReader<File>,
    /// Where `file`'s cursor is, so that sample copies skip forward without dropping the buffer.
    position: u64,
    pub moov: Moov,
    pub video: Track,
    pub audio: Option<Track>,
    /// An audio track no writer may copy as it is (Vorbis, FLAC, PCM, MP3 in Matroska), kept
    /// apart from `audio` until `media::audio::to_opus` re-encodes it.
    pub foreign_audio: Option<ForeignAudio>,
    /// RFC 6381 codecs, e.g. `avc1.4d401f,mp4a.40.2`.
    pub codecs: String,
    pub width: u32,
    pub height: u32,
    /// Bumped by every sample byte copied, for progress reports.
    copied: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// Looked at before every sample read: the work stops there when asked.
    interrupt: crate::media::interrupt::Interrupt,
}

impl Source {
    /// Stop reading (with `ContainerError::Interrupted`) once `interrupt` is raised.
    pub fn watch(&mut self, interrupt: crate::media::interrupt::Interrupt) {
        self.interrupt = interrupt;
    }

    /// What this source stops on, for the sources made from it.
    pub fn interrupt(&self) -> &crate::media::interrupt::Interrupt {
        &self.interrupt
    }

    /// Count every copied sample byte into `counter`.
    pub fn count_into(&mut self, counter: std::sync::Arc<std::sync::atomic::AtomicU64>) {
        self.copied = Some(counter);
    }

    /// Bytes of every sample of the kept tracks: what one full copy writes.
    pub fn sample_bytes(&self) -> u64 {
        std::iter::once(&self.video)
            .chain(&self.audio)
            .flat_map(|t| &t.samples)
            .map(|s| u64::from(s.size))
            .sum()
    }

    /// Open an MP4/MOV whose video is H.264, AV1 or VP9 and read its sample tables.
    pub fn open(path: &Path) -> Result<Source, ContainerError> {
        let mut file = BufReader::with_capacity(256 * 1024, File::open(path)?);
        let len = file.get_ref().metadata()?.len();
        let (moov, raw) = read_moov(&mut file, len)?;
        let tables = Tables::from_moov(moov, &raw, len)?;
        Source::reading(file, tables)
    }

    /// A source whose sample bytes are in `path` (a scratch file another demuxer wrote).
    pub fn from_tables(path: &Path, tables: Tables) -> Result<Source, ContainerError> {
        let file = BufReader::with_capacity(256 * 1024, File::open(path)?);
        Source::reading(file, tables)
    }

    /// A source from parts another step made: `path` holds the samples' bytes.
    pub fn from_parts(
        path: &Path,
        moov: Moov,
        video: Track,
        audio: Option<Track>,
    ) -> Result<Source, ContainerError> {
        Source::from_tables(path, Tables::from_parts(moov, video, audio)?)
    }

    fn reading(mut file: BufReader<File>, t: Tables) -> Result<Source, ContainerError> {
        let position = file.stream_position()?;
        Ok(Source {
            file,
            position,
            moov: t.moov,
            video: t.video,
            audio: t.audio,
            foreign_audio: t.foreign_audio,
            codecs: t.codecs,
            width: t.width,
            height: t.height,
            copied: None,
            interrupt: crate::media::interrupt::Interrupt::never(),
        })
    }

    /// Refuse a video that may be read (for transcoding) but is not served as it is: VP9, which
    /// not every browser plays from MP4.
    pub fn ensure_remuxable(&self) -> Result<(), ContainerError> {
        match self.video.trak.mdia.minf.stbl.stsd.codecs.first() {
            Some(Codec::Vp09(_)) => Err(ContainerError::Unsupported(NOT_REMUXABLE.into())),
            _ => Ok(()),
        }
    }

    /// Copy one sample's bytes to `out`, through a small buffer: memory stays bounded whatever
    /// the sample or file size.
    pub fn copy_sample(
        &mut self,
        sample: &Sample,
        out: &mut impl Write,
    ) -> Result<(), ContainerError> {
        self.interrupt
            .check()
            .map_err(ContainerError::Interrupted)?;
        let delta = sample.offset as i128 - self.position as i128;
        if (0..=1 << 20).contains(&delta) {
            self.file.seek_relative(delta as i64)?;
        } else {
            self.file.seek(SeekFrom::Start(sample.offset))?;
        }
        let copied = std::io::copy(&mut (&mut self.file).take(u64::from(sample.size)), out)?;
        if copied != u64::from(sample.size) {
            return Err(ContainerError::Malformed(
                "a sample lies beyond the end of the file".into(),
            ));
        }
        self.position = sample.offset + copied;
        if let Some(c) = &self.copied {
            c.fetch_add(copied, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    /// Read one sample into memory (for decoding a single frame).
    pub fn read_sample(&mut self, sample: &Sample) -> Result<Vec<u8>, ContainerError> {
        let mut buf = Vec::with_capacity(sample.size as usize);
        // Reading is not copying: keep it out of the progress count.
        let counter = self.copied.take();
        let result = self.copy_sample(sample, &mut buf);
        self.copied = counter;
        result.map(|()| buf)
    }
}

/// A track's clock: ticks a second, never 0 (a track of timescale 0 is refused: every time in
/// it would be a division by zero, and `max(1)` made each frame of one upload last 512 s).
fn timescale(t: &Trak) -> Result<u64, ContainerError> {
    match t.mdia.mdhd.timescale {
        0 => Err(ContainerError::Malformed(
            "a track's media header gives it no timescale (0 ticks a second)".into(),
        )),
        n => Ok(u64::from(n)),
    }
}

fn pick_tracks(moov: &Moov, len: u64) -> Result<(Track, Option<Track>), ContainerError> {
    let track = |t: &Trak| -> Result<Track, ContainerError> {
        Ok(Track {
            trak: t.clone(),
            samples: samples(t, MAX_SAMPLES, len)?,
            timescale: timescale(t)?,
        })
    };
    let video = moov
        .trak
        .iter()
        .find(|t| t.mdia.hdlr.handler == b"vide".into())
        .ok_or_else(|| ContainerError::Unsupported("no video track".into()))?;
    match video.mdia.minf.stbl.stsd.codecs.first() {
        // VP9 is read for transcoding only; the pipeline never remuxes it (`not_remuxable`).
        Some(Codec::Avc1(_) | Codec::Avc3(_) | Codec::Av01(_) | Codec::Vp09(_)) => {}
        _ => return Err(ContainerError::Unsupported(NOT_PLAYABLE.into())),
    }
    let audio = moov
        .trak
        .iter()
        .find(|t| t.mdia.hdlr.handler == b"soun".into());
    let video = track(video)?;
    if video.samples.is_empty() || !video.samples[0].sync {
        return Err(ContainerError::Malformed(
            "the video does not start with a keyframe".into(),
        ));
    }
    let audio = match audio {
        Some(t) => match pcm_frame_bytes(t) {
            // PCM: a packet per chunk, not a sample per frame.
            Some(bytes) => Some(Track {
                trak: t.clone(),
                samples: pcm_packets(t, bytes, MAX_SAMPLES, len)?,
                timescale: timescale(t)?,
            }),
            None => Some(track(t)?),
        },
        None => None,
    };
    Ok((video, audio))
}

/// QuickTime's `in24`/`in32`/`fl32`/`fl64` entries are big-endian unless a `wave` box holds an
/// `enda` box saying little-endian (ffmpeg writes one for `pcm_s24le`). mp4-atom drops `wave`'s
/// children, so the flag is looked for in the movie header's bytes, and the entry given the
/// `pcmC` box that says the same in ISO's terms. Searched for by its exact header (size 10,
/// then `enda`): a track has one audio entry, and no other box has that header.
fn quicktime_endianness(trak: &mut Trak, moov: &[u8]) {
    const ENDA: &[u8] = b"\0\0\0\x0aenda";
    let (pcmc, bits) = match trak.mdia.minf.stbl.stsd.codecs.first_mut() {
        Some(Codec::In24(c)) => (&mut c.pcmc, 24),
        Some(Codec::In32(c)) => (&mut c.pcmc, 32),
        Some(Codec::Fl32(c)) => (&mut c.pcmc, 32),
        Some(Codec::Fl64(c)) => (&mut c.pcmc, 64),
        _ => return,
    };
    let little = moov
        .windows(ENDA.len() + 2)
        .find(|w| w.starts_with(ENDA))
        .is_some_and(|w| w[ENDA.len()..] != [0, 0]);
    if little && pcmc.is_none() {
        *pcmc = Some(mp4_atom::PcmC {
            big_endian: false,
            sample_size: bits,
        });
    }
}

/// The PCM sample format of an audio track, `None` when it is not PCM.
pub(crate) fn pcm_format(trak: &Trak) -> Option<(mp4_atom::PcmFormat, u16)> {
    let (format, audio) = match trak.mdia.minf.stbl.stsd.codecs.first()? {
        Codec::Ipcm(c) => (c.format(), &c.audio),
        Codec::Fpcm(c) => (c.format(), &c.audio),
        Codec::Sowt(c) => (c.format(), &c.audio),
        Codec::Twos(c) => (c.format(), &c.audio),
        Codec::Lpcm(c) => (c.format(), &c.audio),
        Codec::In24(c) => (c.format(), &c.audio),
        Codec::In32(c) => (c.format(), &c.audio),
        Codec::Fl32(c) => (c.format(), &c.audio),
        Codec::Fl64(c) => (c.format(), &c.audio),
        Codec::S16l(c) => (c.format(), &c.audio),
        _ => return None,
    };
    Some((format?, audio.channel_count))
}

/// Bytes per PCM frame (all channels), `None` for other codecs.
fn pcm_frame_bytes(trak: &Trak) -> Option<u32> {
    let (format, channels) = pcm_format(trak)?;
    Some((u32::from(format.sample_size) / 8 * u32::from(channels)).max(1))
}

/// `None` when MP4 carries the track's audio as it is (AAC, MP3, Opus); the format to decode it
/// from when it must be re-encoded (FLAC, PCM); an error for what Vireo cannot decode.
fn foreign_format(trak: &Trak) -> Result<Option<AudioFormat>, ContainerError> {
    let rate = trak.mdia.mdhd.timescale;
    if let Some((format, channels)) = pcm_format(trak) {
        return Ok(Some(AudioFormat {
            codec: InputCodec::Pcm {
                bits: format.sample_size,
                float: format.float,
                big_endian: format.big_endian,
                // QuickTime's 8-bit 'raw ' is unsigned; its 'twos' and ISO's ipcm are signed.
                unsigned: false,
            },
            sample_rate: rate,
            channels,
        }));
    }
    match trak.mdia.minf.stbl.stsd.codecs.first() {
        Some(Codec::Mp4a(_) | Codec::Mp3(_) | Codec::Opus(_)) => Ok(None),
        Some(Codec::Flac(c)) => {
            let stream_info = c
                .dfla
                .blocks
                .iter()
                .find_map(stream_info_bytes)
                .ok_or_else(|| ContainerError::Malformed("FLAC without its STREAMINFO".into()))?;
            Ok(Some(AudioFormat {
                codec: InputCodec::Flac { stream_info },
                sample_rate: rate,
                channels: c.audio.channel_count,
            }))
        }
        _ => Err(ContainerError::Unsupported(
            "the audio cannot go into MP4 as is".into(),
        )),
    }
}

/// A FLAC STREAMINFO block as its 34 bytes (RFC 9639 §8.2), as decoders take it.
fn stream_info_bytes(block: &mp4_atom::FlacMetadataBlock) -> Option<Vec<u8>> {
    let mp4_atom::FlacMetadataBlock::StreamInfo {
        minimum_block_size,
        maximum_block_size,
        minimum_frame_size,
        maximum_frame_size,
        sample_rate,
        num_channels_minus_one,
        bits_per_sample_minus_one,
        number_of_interchannel_samples,
        md5_checksum,
    } = block
    else {
        return None;
    };
    let mut out = Vec::with_capacity(34);
    out.extend(minimum_block_size.to_be_bytes());
    out.extend(maximum_block_size.to_be_bytes());
    out.extend(&u32::from(*minimum_frame_size).to_be_bytes()[1..]);
    out.extend(&u32::from(*maximum_frame_size).to_be_bytes()[1..]);
    let packed = (u64::from(*sample_rate) << 44)
        | (u64::from(*num_channels_minus_one & 7) << 41)
        | (u64::from(*bits_per_sample_minus_one & 31) << 36)
        | (number_of_interchannel_samples & 0xF_FFFF_FFFF);
    out.extend(packed.to_be_bytes());
    out.extend(
        md5_checksum
            .iter()
            .copied()
            .chain(std::iter::repeat(0))
            .take(16),
    );
    Some(out)
}

/// The H.264 decoder configuration of the video track.
pub fn avcc(trak: &Trak) -> Option<&mp4_atom::Avcc> {
    match trak.mdia.minf.stbl.stsd.codecs.first() {
        Some(Codec::Avc1(c)) => Some(&c.avcc),
        Some(Codec::Avc3(c)) => Some(&c.avcc),
        _ => None,
    }
}

/// Why a video track cannot be remuxed as it is.
const NOT_PLAYABLE: &str = "the video is neither H.264, AV1 nor VP9";

/// Why a readable video is still not remuxed.
const NOT_REMUXABLE: &str = "the video is neither H.264 nor AV1: it is served only transcoded";

fn visual_size(trak: &Trak) -> Result<(u32, u32), ContainerError> {
    let visual = match trak.mdia.minf.stbl.stsd.codecs.first() {
        Some(Codec::Avc1(c)) => &c.visual,
        Some(Codec::Avc3(c)) => &c.visual,
        Some(Codec::Av01(c)) => &c.visual,
        Some(Codec::Vp09(c)) => &c.visual,
        _ => return Err(ContainerError::Unsupported(NOT_PLAYABLE.into())),
    };
    Ok((u32::from(visual.width), u32::from(visual.height)))
}

/// RFC 6381 name of the video: `avc1.PPCCLL` from the avcC, AV1's `av01.P.LLT.DD` from the
/// av1C (profile, level, tier, bit depth; the optional colour fields are left out, as allowed),
/// or VP9's `vp09.PP.LL.DD` from the vpcC.
fn video_codec(trak: &Trak) -> Result<String, ContainerError> {
    match trak.mdia.minf.stbl.stsd.codecs.first() {
        Some(Codec::Avc1(c)) => Ok(avc_codec(&c.avcc)),
        Some(Codec::Avc3(c)) => Ok(avc_codec(&c.avcc)),
        Some(Codec::Av01(c)) => {
            let a = &c.av1c;
            let depth = match (a.high_bitdepth, a.twelve_bit) {
                (true, true) => 12,
                (true, false) => 10,
                _ => 8,
            };
            Ok(format!(
                "av01.{}.{:02}{}.{depth:02}",
                a.seq_profile,
                a.seq_level_idx_0,
                if a.seq_tier_0 { 'H' } else { 'M' }
            ))
        }
        Some(Codec::Vp09(c)) => Ok(format!(
            "vp09.{:02}.{:02}.{:02}",
            c.vpcc.profile, c.vpcc.level, c.vpcc.bit_depth
        )),
        _ => Err(ContainerError::Unsupported(NOT_PLAYABLE.into())),
    }
}

pub(crate) fn avc_codec(v: &mp4_atom::Avcc) -> String {
    format!(
        "avc1.{:02x}{:02x}{:02x}",
        v.avc_profile_indication, v.profile_compatibility, v.avc_level_indication
    )
}

/// RFC 6381 codec string of both tracks, e.g. `avc1.4d401f,mp4a.40.2` or `av01.0.04M.08,opus`.
fn codecs_of(video: &Trak, audio: Option<&Trak>) -> Result<String, ContainerError> {
    let mut codecs = video_codec(video)?;
    if let Some(a) = audio {
        let audio_codec = match a.mdia.minf.stbl.stsd.codecs.first() {
            Some(Codec::Mp4a(m)) => {
                let config = &m.esds.es_desc.dec_config;
                match config.object_type_indication {
                    0x40 => format!(
                        "mp4a.40.{}",
                        config
                            .dec_specific
                            .as_ref()
                            .map(|d| d.profile)
                            .filter(|p| *p > 0)
                            .unwrap_or(2)
                    ),
                    0x69 | 0x6b => "mp4a.40.34".to_owned(),
                    other => format!("mp4a.{other:02x}"),
                }
            }
            Some(Codec::Opus(_)) => "opus".to_owned(),
            Some(Codec::Mp3(_)) => "mp4a.40.34".to_owned(),
            _ => {
                return Err(ContainerError::Unsupported(
                    "the audio cannot go into MP4 as is".into(),
                ));
            }
        };
        codecs.push(',');
        codecs.push_str(&audio_codec);
    }
    Ok(codecs)
}

/// Encode one box.
pub(crate) fn encode(atom: &impl Encode) -> Result<Vec<u8>, ContainerError> {
    let mut buf = Vec::new();
    atom.encode(&mut buf)
        .map_err(|e| ContainerError::Encode(e.to_string()))?;
    Ok(buf)
}

/// When the track's edit list starts presenting it, in seconds on the movie timeline, minus the
/// media time it starts from: an initial empty edit delays the track, a first media time skips
/// into it (B-frame delay, AAC priming). Players of fragmented MP4 ignore edit lists, so the
/// HLS writer turns this into decode-time offsets instead.
pub(crate) fn presentation_offset(track: &Track, movie_timescale: u32) -> f64 {
    let Some(elst) = track.trak.edts.as_ref().and_then(|e| e.elst.as_ref()) else {
        return 0.0;
    };
    let mut delay = 0.0;
    for entry in &elst.entries {
        match entry.media_time {
            None => delay += entry.segment_duration as f64 / f64::from(movie_timescale.max(1)),
            Some(t) => return delay - t as f64 / track.timescale as f64,
        }
    }
    delay
}

/// A copy of a source track for an output file: the sample description kept, the tables left
/// for the writer to fill, and what describes the source file alone dropped.
pub(crate) fn output_trak(track: &Track, track_id: u32) -> Trak {
    let mut trak = track.trak.clone();
    trak.tkhd.track_id = track_id;
    trak.mdia.minf.stbl = mp4_atom::Stbl {
        stsd: track.trak.mdia.minf.stbl.stsd.clone(),
        ..mp4_atom::Stbl::default()
    };
    trak.meta = None;
    trak.udta = None;
    trak.tref = None;
    trak
}
