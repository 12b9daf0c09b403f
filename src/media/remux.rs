//! Remux an H.264 (+ AAC/MP3/Opus) MP4 upload, without re-encoding, into HLS as PeerTube lays it
//! out: one fragmented MP4 holding an init segment and one fragment per segment, a media playlist
//! addressing them by byte range, and a master playlist with `CODECS`, `RESOLUTION` and
//! `BANDWIDTH`. Segments start on keyframes, about `TARGET_SEGMENT_SECS` long.
//!
//! Boxes are built and encoded with mp4-atom; playlists are written with m3u8-rs. What is
//! hand-written is the policy: which samples go in which fragment and what the playlists say.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use mp4_atom::{
    Codec, Encode, Ftyp, Mfhd, Moof, Moov, Mvex, Stbl, Tfdt, Tfhd, Traf, Trak, Trex, Trun,
    TrunEntry, TrunSamples,
};

use super::samples::{Sample, SampleTableError, samples};

/// Segment length PeerTube's HLS uses; cuts happen at the first keyframe at or after it.
pub const TARGET_SEGMENT_SECS: u64 = 4;

/// Most samples read from one track (6 h at 120 fps).
const MAX_SAMPLES: usize = 6 * 3600 * 120;

/// sample_depends_on = 2 (an I-frame) …
const FLAGS_SYNC: u32 = 0x0200_0000;
/// … or sample_depends_on = 1 and sample_is_non_sync_sample.
const FLAGS_NON_SYNC: u32 = 0x0101_0000;

#[derive(Debug, thiserror::Error)]
pub enum RemuxError {
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
}

/// One segment of the output: where it is in the file and how long it plays.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub offset: u64,
    pub length: u64,
    pub duration_secs: f64,
}

/// What a remux produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    /// The fragmented MP4 (init segment, then every fragment).
    pub file: PathBuf,
    pub init_length: u64,
    pub segments: Vec<Segment>,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// RFC 6381 codecs, e.g. `avc1.4d401f,mp4a.40.2`.
    pub codecs: String,
    /// Peak bits per second over segments, as HLS's BANDWIDTH wants.
    pub peak_bandwidth: u64,
    pub average_bandwidth: u64,
    pub duration_secs: f64,
}

struct Track {
    trak: Trak,
    samples: Vec<Sample>,
    timescale: u64,
}

/// Remux `input` (an MP4 whose video is H.264) into `output`, a fragmented MP4.
pub fn remux_mp4(input: &Path, output: &Path) -> Result<Rendition, RemuxError> {
    let mut src = BufReader::new(File::open(input)?);
    let len = src.get_ref().metadata()?.len();
    let moov =
        super::probe::find_moov(&mut src, len).map_err(|e| RemuxError::Malformed(e.to_string()))?;
    let (video, audio) = pick_tracks(&moov)?;
    let codecs = codecs_of(&video.trak, audio.as_ref().map(|a| &a.trak))?;
    let visual = visual_size(&video.trak)?;
    let cuts = segment_starts(&video);
    let mut out = BufWriter::new(File::create(output)?);
    let init = init_segment(&moov, &video, audio.as_ref())?;
    out.write_all(&init)?;
    let mut position = init.len() as u64;
    let mut segments = Vec::with_capacity(cuts.len());
    let mut audio_at = 0usize;
    for (n, range) in cuts
        .windows(2)
        .map(|w| (w[0], w[1]))
        .chain(last_range(&cuts, video.samples.len()))
        .enumerate()
    {
        let (start, end) = range;
        let video_part = &video.samples[start..end];
        let end_time = video.samples.get(end).map(|s| s.dts).unwrap_or_else(|| {
            video_part
                .last()
                .map(|s| s.dts + u64::from(s.duration))
                .unwrap_or(0)
        });
        let audio_part = match &audio {
            Some(a) => {
                let from = audio_at;
                while audio_at < a.samples.len()
                    && (end == video.samples.len()
                        || u128::from(a.samples[audio_at].dts) * u128::from(video.timescale)
                            < u128::from(end_time) * u128::from(a.timescale))
                {
                    audio_at += 1;
                }
                &a.samples[from..audio_at]
            }
            None => &[][..],
        };
        let fragment = fragment(
            &mut src,
            n as u32 + 1,
            &video,
            video_part,
            audio.as_ref(),
            audio_part,
        )?;
        out.write_all(&fragment)?;
        let start_time = video_part.first().map(|s| s.dts).unwrap_or(0);
        segments.push(Segment {
            offset: position,
            length: fragment.len() as u64,
            duration_secs: end_time.saturating_sub(start_time) as f64 / video.timescale as f64,
        });
        position += fragment.len() as u64;
    }
    out.flush()?;
    out.get_ref().sync_data()?;
    let duration_secs: f64 = segments.iter().map(|s| s.duration_secs).sum();
    let bits = |s: &Segment| (s.length * 8) as f64 / s.duration_secs.max(0.001);
    let peak = segments.iter().map(bits).fold(0.0, f64::max);
    let total_bytes: u64 = segments.iter().map(|s| s.length).sum();
    Ok(Rendition {
        file: output.to_owned(),
        init_length: init.len() as u64,
        segments,
        width: visual.0,
        height: visual.1,
        fps: video.samples.len() as f64 / duration_secs.max(0.001),
        codecs,
        peak_bandwidth: peak.ceil() as u64,
        average_bandwidth: ((total_bytes * 8) as f64 / duration_secs.max(0.001)).ceil() as u64,
        duration_secs,
    })
}

fn last_range(cuts: &[usize], total: usize) -> Option<(usize, usize)> {
    cuts.last()
        .filter(|&&last| last < total)
        .map(|&last| (last, total))
}

fn pick_tracks(moov: &Moov) -> Result<(Track, Option<Track>), RemuxError> {
    let track = |t: &Trak| -> Result<Track, RemuxError> {
        Ok(Track {
            trak: t.clone(),
            samples: samples(t, MAX_SAMPLES)?,
            timescale: u64::from(t.mdia.mdhd.timescale).max(1),
        })
    };
    let video = moov
        .trak
        .iter()
        .find(|t| t.mdia.hdlr.handler == b"vide".into())
        .ok_or_else(|| RemuxError::Unsupported("no video track".into()))?;
    match video.mdia.minf.stbl.stsd.codecs.first() {
        Some(Codec::Avc1(_) | Codec::Avc3(_)) => {}
        _ => return Err(RemuxError::Unsupported("the video is not H.264".into())),
    }
    let audio = moov
        .trak
        .iter()
        .find(|t| t.mdia.hdlr.handler == b"soun".into());
    let video = track(video)?;
    if video.samples.is_empty() || !video.samples[0].sync {
        return Err(RemuxError::Malformed(
            "the video does not start with a keyframe".into(),
        ));
    }
    Ok((video, audio.map(track).transpose()?))
}

fn visual_size(trak: &Trak) -> Result<(u32, u32), RemuxError> {
    match trak.mdia.minf.stbl.stsd.codecs.first() {
        Some(Codec::Avc1(c)) => Ok((u32::from(c.visual.width), u32::from(c.visual.height))),
        Some(Codec::Avc3(c)) => Ok((u32::from(c.visual.width), u32::from(c.visual.height))),
        _ => Err(RemuxError::Unsupported("the video is not H.264".into())),
    }
}

/// RFC 6381 codec string: `avc1.PPCCLL` from the avcC, `mp4a.40.<object type>` for AAC.
fn codecs_of(video: &Trak, audio: Option<&Trak>) -> Result<String, RemuxError> {
    let v = match video.mdia.minf.stbl.stsd.codecs.first() {
        Some(Codec::Avc1(c)) => &c.avcc,
        Some(Codec::Avc3(c)) => &c.avcc,
        _ => return Err(RemuxError::Unsupported("the video is not H.264".into())),
    };
    let mut codecs = format!(
        "avc1.{:02x}{:02x}{:02x}",
        v.avc_profile_indication, v.profile_compatibility, v.avc_level_indication
    );
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
                return Err(RemuxError::Unsupported(
                    "the audio cannot go into fragmented MP4 as is".into(),
                ));
            }
        };
        codecs.push(',');
        codecs.push_str(&audio_codec);
    }
    Ok(codecs)
}

/// Indexes of the video samples that start a segment: the first, then the first keyframe at or
/// after each multiple of the target length since the previous cut.
fn segment_starts(video: &Track) -> Vec<usize> {
    let target = TARGET_SEGMENT_SECS * video.timescale;
    let mut cuts = vec![0];
    let mut last = video.samples.first().map(|s| s.dts).unwrap_or(0);
    for (i, s) in video.samples.iter().enumerate().skip(1) {
        if s.sync && s.dts.saturating_sub(last) >= target {
            cuts.push(i);
            last = s.dts;
        }
    }
    cuts
}

fn encode(atom: &impl Encode) -> Result<Vec<u8>, RemuxError> {
    let mut buf = Vec::new();
    atom.encode(&mut buf)
        .map_err(|e| RemuxError::Encode(e.to_string()))?;
    Ok(buf)
}

/// `ftyp` + `moov` with the source's sample descriptions, empty sample tables and `mvex`.
fn init_segment(moov: &Moov, video: &Track, audio: Option<&Track>) -> Result<Vec<u8>, RemuxError> {
    let ftyp = Ftyp {
        major_brand: b"iso5".into(),
        minor_version: 512,
        compatible_brands: vec![b"iso5".into(), b"iso6".into(), b"mp41".into()],
    };
    let mut out_moov = Moov {
        mvhd: moov.mvhd.clone(),
        ..Moov::default()
    };
    let mut mvex = Mvex::default();
    for (id, track) in std::iter::once(video).chain(audio).enumerate() {
        let track_id = id as u32 + 1;
        let mut trak = track.trak.clone();
        trak.tkhd.track_id = track_id;
        trak.mdia.minf.stbl = Stbl {
            stsd: track.trak.mdia.minf.stbl.stsd.clone(),
            ..Stbl::default()
        };
        trak.meta = None;
        trak.udta = None;
        trak.tref = None;
        out_moov.trak.push(trak);
        mvex.trex.push(Trex {
            track_id,
            default_sample_description_index: 1,
            ..Trex::default()
        });
    }
    out_moov.mvhd.next_track_id = out_moov.trak.len() as u32 + 1;
    out_moov.mvex = Some(mvex);
    let mut buf = encode(&ftyp)?;
    buf.extend(encode(&out_moov)?);
    Ok(buf)
}

fn traf(track_id: u32, samples: &[Sample], video: bool) -> Traf {
    let entries = samples
        .iter()
        .map(|s| TrunEntry {
            duration: Some(s.duration),
            size: Some(s.size),
            flags: Some(if s.sync { FLAGS_SYNC } else { FLAGS_NON_SYNC }),
            cts: video.then_some(s.cts_offset),
        })
        .collect();
    Traf {
        tfhd: Tfhd {
            track_id,
            default_base_is_moof: true,
            ..Tfhd::default()
        },
        tfdt: Some(Tfdt {
            base_media_decode_time: samples.first().map(|s| s.dts).unwrap_or(0),
        }),
        trun: vec![Trun {
            data_offset: Some(0),
            samples: TrunSamples::Explicit(entries),
        }],
        ..Traf::default()
    }
}

/// One `moof` + `mdat`: the video samples, then the audio samples that play alongside them.
fn fragment<R: Read + Seek>(
    src: &mut R,
    sequence_number: u32,
    _video: &Track,
    video_part: &[Sample],
    audio: Option<&Track>,
    audio_part: &[Sample],
) -> Result<Vec<u8>, RemuxError> {
    let mut moof = Moof {
        mfhd: Mfhd { sequence_number },
        traf: vec![traf(1, video_part, true)],
    };
    if audio.is_some() && !audio_part.is_empty() {
        moof.traf.push(traf(2, audio_part, false));
    }
    // The data offsets count from the start of the moof, whose size does not depend on them.
    let moof_len = encode(&moof)?.len() as u64;
    let video_bytes: u64 = video_part.iter().map(|s| u64::from(s.size)).sum();
    let audio_bytes: u64 = audio_part.iter().map(|s| u64::from(s.size)).sum();
    let to_i32 =
        |v: u64| i32::try_from(v).map_err(|_| RemuxError::Unsupported("fragment too large".into()));
    moof.traf[0].trun[0].data_offset = Some(to_i32(moof_len + 8)?);
    if let Some(t) = moof.traf.get_mut(1) {
        t.trun[0].data_offset = Some(to_i32(moof_len + 8 + video_bytes)?);
    }
    let mut buf = encode(&moof)?;
    let mdat_len = 8 + video_bytes + audio_bytes;
    buf.extend_from_slice(
        &u32::try_from(mdat_len)
            .map_err(|_| RemuxError::Unsupported("fragment too large".into()))?
            .to_be_bytes(),
    );
    buf.extend_from_slice(b"mdat");
    for s in video_part.iter().chain(audio_part) {
        src.seek(SeekFrom::Start(s.offset))?;
        let start = buf.len();
        buf.resize(start + s.size as usize, 0);
        src.read_exact(&mut buf[start..])?;
    }
    Ok(buf)
}

/// The media playlist of one rendition, addressing its fragments by byte range.
pub fn media_playlist(r: &Rendition, file_uri: &str) -> Vec<u8> {
    use m3u8_rs::{ByteRange, Map, MediaPlaylist, MediaPlaylistType, MediaSegment};
    let map = Map {
        uri: file_uri.to_owned(),
        byte_range: Some(ByteRange {
            length: r.init_length,
            offset: Some(0),
        }),
        ..Map::default()
    };
    let segments = r
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| MediaSegment {
            uri: file_uri.to_owned(),
            duration: s.duration_secs as f32,
            byte_range: Some(ByteRange {
                length: s.length,
                offset: Some(s.offset),
            }),
            map: (i == 0).then(|| map.clone()),
            ..MediaSegment::default()
        })
        .collect();
    let playlist = MediaPlaylist {
        version: Some(7),
        target_duration: r
            .segments
            .iter()
            .map(|s| s.duration_secs.ceil() as u64)
            .max()
            .unwrap_or(1),
        media_sequence: 0,
        segments,
        end_list: true,
        playlist_type: Some(MediaPlaylistType::Vod),
        independent_segments: true,
        ..MediaPlaylist::default()
    };
    let mut out = Vec::new();
    let _ = playlist.write_to(&mut out);
    out
}

/// The master playlist listing renditions (`(rendition, media playlist uri)`).
pub fn master_playlist(renditions: &[(&Rendition, String)]) -> Vec<u8> {
    use m3u8_rs::{MasterPlaylist, Resolution, VariantStream};
    let variants = renditions
        .iter()
        .map(|(r, uri)| VariantStream {
            uri: uri.clone(),
            bandwidth: r.peak_bandwidth,
            average_bandwidth: Some(r.average_bandwidth),
            codecs: Some(r.codecs.clone()),
            resolution: Some(Resolution {
                width: u64::from(r.width),
                height: u64::from(r.height),
            }),
            frame_rate: Some((r.fps * 1000.0).round() / 1000.0),
            ..VariantStream::default()
        })
        .collect();
    let playlist = MasterPlaylist {
        version: Some(7),
        variants,
        independent_segments: true,
        ..MasterPlaylist::default()
    };
    let mut out = Vec::new();
    let _ = playlist.write_to(&mut out);
    out
}
