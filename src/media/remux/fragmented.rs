//! The HLS rendition of a remux, as PeerTube lays it out: one fragmented MP4 holding an init
//! segment and one `moof`+`mdat` fragment per segment. Segments start on keyframes, about
//! `TARGET_SEGMENT_SECS` long, and carry the audio that plays alongside their video.
//!
//! Boxes are built and encoded with mp4-atom; what is hand-written is the policy (which samples
//! go in which fragment). Sample bytes are copied straight from the source to the output, so
//! memory does not grow with segment or file size.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use mp4_atom::{
    Ftyp, Mfhd, Moof, Moov, Mvex, Tfdt, Tfhd, Traf, Trex, Trun, TrunEntry, TrunSamples,
};

use crate::media::source::samples::Sample;
use crate::media::source::{ContainerError, Source, Track, encode, output_trak};

/// Segment length PeerTube's HLS uses; cuts happen at the first keyframe at or after it.
pub const TARGET_SEGMENT_SECS: u64 = 4;

/// sample_depends_on = 2 (an I-frame) …
const FLAGS_SYNC: u32 = 0x0200_0000;
/// … or sample_depends_on = 1 and sample_is_non_sync_sample.
const FLAGS_NON_SYNC: u32 = 0x0101_0000;

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
    pub size: u64,
}

/// Remux `input` (an MP4 whose video is H.264) into `output`, a fragmented MP4.
pub fn remux_mp4(input: &Path, output: &Path) -> Result<Rendition, ContainerError> {
    write(&mut Source::open(input)?, output)
}

/// Write the source's samples into `output` as a fragmented MP4.
pub fn write(src: &mut Source, output: &Path) -> Result<Rendition, ContainerError> {
    src.ensure_remuxable()?;
    let cuts = segment_starts(&src.video);
    let offsets = decode_time_offsets(src);
    let mut out = BufWriter::with_capacity(256 * 1024, File::create(output)?);
    let init = init_segment(&src.moov, &src.video, src.audio.as_ref())?;
    out.write_all(&init)?;
    let mut position = init.len() as u64;
    let mut segments = Vec::with_capacity(cuts.len());
    let mut audio_at = 0usize;
    let total = src.video.samples.len();
    let ranges: Vec<(usize, usize)> = cuts
        .windows(2)
        .map(|w| (w[0], w[1]))
        .chain(last_range(&cuts, total))
        .collect();
    for (n, (start, end)) in ranges.into_iter().enumerate() {
        let video_part = src.video.samples[start..end].to_vec();
        let end_time = src
            .video
            .samples
            .get(end)
            .map(|s| s.dts)
            .unwrap_or_else(|| {
                video_part
                    .last()
                    .map(|s| s.dts + u64::from(s.duration))
                    .unwrap_or(0)
            });
        let audio_part = match &src.audio {
            Some(a) => {
                let from = audio_at;
                while audio_at < a.samples.len()
                    && (end == total
                        || u128::from(a.samples[audio_at].dts) * u128::from(src.video.timescale)
                            < u128::from(end_time) * u128::from(a.timescale))
                {
                    audio_at += 1;
                }
                a.samples[from..audio_at].to_vec()
            }
            None => Vec::new(),
        };
        let length = fragment(
            src,
            &mut out,
            n as u32 + 1,
            (&video_part, offsets.0),
            (&audio_part, offsets.1),
        )?;
        let start_time = video_part.first().map(|s| s.dts).unwrap_or(0);
        segments.push(Segment {
            offset: position,
            length,
            duration_secs: end_time.saturating_sub(start_time) as f64 / src.video.timescale as f64,
        });
        position += length;
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
        width: src.width,
        height: src.height,
        fps: total as f64 / duration_secs.max(0.001),
        codecs: src.codecs.clone(),
        peak_bandwidth: peak.ceil() as u64,
        average_bandwidth: ((total_bytes * 8) as f64 / duration_secs.max(0.001)).ceil() as u64,
        duration_secs,
        size: position,
    })
}

/// What to add to each track's decode times (video, audio; in their timescales) so that the
/// tracks keep the relative timing their edit lists gave them, with no time negative.
fn decode_time_offsets(src: &Source) -> (u64, u64) {
    let movie = src.moov.mvhd.timescale;
    let video = crate::media::source::presentation_offset(&src.video, movie);
    let audio = src
        .audio
        .as_ref()
        .map(|a| crate::media::source::presentation_offset(a, movie))
        .unwrap_or(0.0);
    let lift = (-video).max(-audio).max(0.0);
    let ticks = |off: f64, ts: u64| ((off + lift) * ts as f64).round().max(0.0) as u64;
    (
        ticks(video, src.video.timescale),
        src.audio
            .as_ref()
            .map(|a| ticks(audio, a.timescale))
            .unwrap_or(0),
    )
}

fn last_range(cuts: &[usize], total: usize) -> Option<(usize, usize)> {
    cuts.last()
        .filter(|&&last| last < total)
        .map(|&last| (last, total))
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

/// `ftyp` + `moov` with the source's sample descriptions, empty sample tables and `mvex`.
fn init_segment(
    moov: &Moov,
    video: &Track,
    audio: Option<&Track>,
) -> Result<Vec<u8>, ContainerError> {
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
        let mut trak = output_trak(track, track_id);
        // Applied as decode-time offsets (`decode_time_offsets`) instead.
        trak.edts = None;
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

fn traf(track_id: u32, samples: &[Sample], offset: u64, video: bool) -> Traf {
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
            base_media_decode_time: samples.first().map(|s| s.dts).unwrap_or(0) + offset,
        }),
        trun: vec![Trun {
            data_offset: Some(0),
            samples: TrunSamples::Explicit(entries),
        }],
        ..Traf::default()
    }
}

/// Write one `moof` + `mdat` (the video samples, then the audio samples that play alongside
/// them) and return its length.
fn fragment(
    src: &mut Source,
    out: &mut impl Write,
    sequence_number: u32,
    (video_part, video_offset): (&[Sample], u64),
    (audio_part, audio_offset): (&[Sample], u64),
) -> Result<u64, ContainerError> {
    let mut moof = Moof {
        mfhd: Mfhd { sequence_number },
        traf: vec![traf(1, video_part, video_offset, true)],
    };
    if !audio_part.is_empty() {
        moof.traf.push(traf(2, audio_part, audio_offset, false));
    }
    // The data offsets count from the start of the moof, whose size does not depend on them.
    let moof_len = encode(&moof)?.len() as u64;
    let video_bytes: u64 = video_part.iter().map(|s| u64::from(s.size)).sum();
    let audio_bytes: u64 = audio_part.iter().map(|s| u64::from(s.size)).sum();
    let too_large = || ContainerError::Unsupported("fragment too large".into());
    let to_i32 = |v: u64| i32::try_from(v).map_err(|_| too_large());
    moof.traf[0].trun[0].data_offset = Some(to_i32(moof_len + 8)?);
    if let Some(t) = moof.traf.get_mut(1) {
        t.trun[0].data_offset = Some(to_i32(moof_len + 8 + video_bytes)?);
    }
    let head = encode(&moof)?;
    let mdat_len = 8 + video_bytes + audio_bytes;
    out.write_all(&head)?;
    out.write_all(
        &u32::try_from(mdat_len)
            .map_err(|_| too_large())?
            .to_be_bytes(),
    )?;
    out.write_all(b"mdat")?;
    for s in video_part.iter().chain(audio_part) {
        src.copy_sample(s, out)?;
    }
    Ok(head.len() as u64 + mdat_len)
}
