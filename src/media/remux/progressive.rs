//! The progressive MP4 of a remux: one ordinary MP4 with `moov` before `mdat` ("fast start"),
//! so that a browser or a download can play it while it arrives. This is the file PeerTube
//! calls a web video and offers for download.
//!
//! Sample data is interleaved in chunks of at most `CHUNK_SECS` per track, in time order, so a
//! player reading the file front to back has audio and video together. Boxes are encoded with
//! mp4-atom; the sample tables are computed here from the source's samples.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use mp4_atom::{
    Co64, Ctts, CttsEntry, Ftyp, Moov, Stco, Stsc, StscEntry, Stss, Stsz, StszSamples, Stts,
    SttsEntry,
};

use crate::media::source::{ContainerError, Source, Track, encode, output_trak};

/// Longest run of one track's samples stored together.
const CHUNK_SECS: u64 = 1;

/// A run of consecutive samples of one track (0 = video, 1 = audio), stored together.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    track: usize,
    first: usize,
    count: usize,
    bytes: u64,
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Progressive {
    pub size: u64,
    pub duration_secs: f64,
    pub fps: f64,
}

/// Write the source's samples into `output` as a fast-start MP4.
pub fn write(src: &mut Source, output: &Path) -> Result<Progressive, ContainerError> {
    src.ensure_remuxable()?;
    let tracks: Vec<&Track> = std::iter::once(&src.video).chain(&src.audio).collect();
    let chunks = interleave(&tracks);
    let ftyp = encode(&Ftyp {
        major_brand: b"isom".into(),
        minor_version: 512,
        compatible_brands: vec![
            b"isom".into(),
            b"iso2".into(),
            b"avc1".into(),
            b"mp41".into(),
        ],
    })?;
    let data_bytes: u64 = chunks.iter().map(|c| c.bytes).sum();
    // The moov's size depends on whether offsets need 64 bits, not on their values: encode it
    // once with provisional offsets to learn where the data starts, then again for real.
    let provisional = moov(src, &tracks, &chunks, 0, true)?;
    let large =
        ftyp.len() as u64 + provisional.len() as u64 + 16 + data_bytes > u64::from(u32::MAX);
    let mdat_header = if large { 16 } else { 8 };
    let head = moov(src, &tracks, &chunks, 0, large)?.len() as u64;
    let data_start = ftyp.len() as u64 + head + mdat_header;
    let moov = moov(src, &tracks, &chunks, data_start, large)?;

    let mut out = BufWriter::with_capacity(256 * 1024, File::create(output)?);
    out.write_all(&ftyp)?;
    out.write_all(&moov)?;
    if large {
        out.write_all(&1u32.to_be_bytes())?;
        out.write_all(b"mdat")?;
        out.write_all(&(16 + data_bytes).to_be_bytes())?;
    } else {
        out.write_all(&((8 + data_bytes) as u32).to_be_bytes())?;
        out.write_all(b"mdat")?;
    }
    drop(tracks);
    for chunk in &chunks {
        let track = if chunk.track == 0 {
            &src.video
        } else {
            src.audio.as_ref().unwrap_or(&src.video)
        };
        let samples = track.samples[chunk.first..chunk.first + chunk.count].to_vec();
        for s in &samples {
            src.copy_sample(s, &mut out)?;
        }
    }
    out.flush()?;
    out.get_ref().sync_data()?;
    let video = &src.video;
    let duration = video
        .samples
        .iter()
        .map(|s| u64::from(s.duration))
        .sum::<u64>() as f64
        / video.timescale as f64;
    Ok(Progressive {
        size: data_start + data_bytes,
        duration_secs: duration,
        fps: video.samples.len() as f64 / duration.max(0.001),
    })
}

/// Cut every track into chunks of at most `CHUNK_SECS`, ordered by start time.
fn interleave(tracks: &[&Track]) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    for (t, track) in tracks.iter().enumerate() {
        let limit = CHUNK_SECS * track.timescale;
        let mut current: Option<(Chunk, u64)> = None;
        for (i, s) in track.samples.iter().enumerate() {
            match &mut current {
                Some((c, start)) if s.dts.saturating_sub(*start) < limit => {
                    c.count += 1;
                    c.bytes += u64::from(s.size);
                }
                _ => {
                    if let Some((c, _)) = current.take() {
                        chunks.push(c);
                    }
                    current = Some((
                        Chunk {
                            track: t,
                            first: i,
                            count: 1,
                            bytes: u64::from(s.size),
                        },
                        s.dts,
                    ));
                }
            }
        }
        if let Some((c, _)) = current {
            chunks.push(c);
        }
    }
    // Order by start time in seconds, compared exactly across timescales.
    let start = |c: &Chunk| {
        let track = tracks[c.track];
        (
            u128::from(track.samples[c.first].dts),
            u128::from(track.timescale),
        )
    };
    chunks.sort_by(|a, b| {
        let (ta, sa) = start(a);
        let (tb, sb) = start(b);
        (ta * sb).cmp(&(tb * sa)).then(a.track.cmp(&b.track))
    });
    chunks
}

/// The `moov` with full sample tables, the data starting at `data_start`.
fn moov(
    src: &Source,
    tracks: &[&Track],
    chunks: &[Chunk],
    data_start: u64,
    large: bool,
) -> Result<Vec<u8>, ContainerError> {
    let mut moov = Moov {
        mvhd: src.moov.mvhd.clone(),
        ..Moov::default()
    };
    // Chunk offsets per track, in file order.
    let mut offsets: Vec<Vec<u64>> = vec![Vec::new(); tracks.len()];
    let mut at = data_start;
    for c in chunks {
        offsets[c.track].push(at);
        at += c.bytes;
    }
    for (t, track) in tracks.iter().enumerate() {
        let mut trak = output_trak(track, t as u32 + 1);
        keep_start(&mut trak, track, src.moov.mvhd.timescale);
        let stbl = &mut trak.mdia.minf.stbl;
        stbl.stts = stts(track);
        stbl.ctts = ctts(track);
        stbl.stss = stss(track);
        stbl.stsz = Stsz {
            samples: StszSamples::Different {
                sizes: track.samples.iter().map(|s| s.size).collect(),
            },
        };
        stbl.stsc = stsc(chunks.iter().filter(|c| c.track == t));
        let track_offsets = std::mem::take(&mut offsets[t]);
        if large {
            stbl.co64 = Some(Co64 {
                entries: track_offsets,
            });
        } else {
            stbl.stco = Some(Stco {
                entries: track_offsets
                    .into_iter()
                    .map(|o| u32::try_from(o).unwrap_or(u32::MAX))
                    .collect(),
            });
        }
        moov.trak.push(trak);
    }
    moov.mvhd.next_track_id = moov.trak.len() as u32 + 1;
    encode(&moov)
}

/// Run-length `(count, value)` pairs.
fn runs<T: PartialEq + Copy>(values: impl Iterator<Item = T>) -> Vec<(u32, T)> {
    let mut out: Vec<(u32, T)> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some((n, last)) if *last == v => *n += 1,
            _ => out.push((1, v)),
        }
    }
    out
}

fn stts(track: &Track) -> Stts {
    Stts {
        entries: runs(track.samples.iter().map(|s| s.duration))
            .into_iter()
            .map(|(sample_count, sample_delta)| SttsEntry {
                sample_count,
                sample_delta,
            })
            .collect(),
    }
}

fn ctts(track: &Track) -> Option<Ctts> {
    track
        .samples
        .iter()
        .any(|s| s.cts_offset != 0)
        .then(|| Ctts {
            entries: runs(track.samples.iter().map(|s| s.cts_offset))
                .into_iter()
                .map(|(sample_count, sample_offset)| CttsEntry {
                    sample_count,
                    sample_offset,
                })
                .collect(),
        })
}

/// Keyframe numbers (1-based); absent when every sample is one.
fn stss(track: &Track) -> Option<Stss> {
    (!track.samples.iter().all(|s| s.sync)).then(|| Stss {
        entries: track
            .samples
            .iter()
            .enumerate()
            .filter(|(_, s)| s.sync)
            .map(|(i, _)| i as u32 + 1)
            .collect(),
    })
}

/// Chunk layout: a new entry whenever the samples-per-chunk count changes.
fn stsc<'a>(chunks: impl Iterator<Item = &'a Chunk>) -> Stsc {
    let mut entries: Vec<StscEntry> = Vec::new();
    for (i, c) in chunks.enumerate() {
        let count = c.count as u32;
        if entries.last().is_none_or(|e| e.samples_per_chunk != count) {
            entries.push(StscEntry {
                first_chunk: i as u32 + 1,
                samples_per_chunk: count,
                sample_description_index: 1,
            });
        }
    }
    Stsc { entries }
}

/// Sample tables hold durations, not times: a track written with them starts at 0. A track
/// whose first sample is later (a transcoded rung keeps the source's picture times; a Matroska
/// track may start after 0) would move earlier by that much, so its edit list is rewritten to
/// show its first picture where it was. The media edit starts at that picture's composition
/// time, as writers put it for B-frames: readers that apply edit lists to the letter and
/// ffmpeg (which Chromium plays progressive MP4 with) then agree.
fn keep_start(trak: &mut mp4_atom::Trak, track: &Track, movie_timescale: u32) {
    let first = track.samples.iter().map(|s| s.dts).min().unwrap_or(0);
    if first == 0 {
        return;
    }
    let timescale = track.timescale.max(1);
    let movie = u64::from(movie_timescale.max(1));
    // On the written tables' clock: the first picture shown, and where the last one ends.
    let relative =
        |s: &crate::media::source::samples::Sample| (s.dts - first) as i64 + s.cts_offset;
    let first_shown = track.samples.iter().map(relative).min().unwrap_or(0).max(0) as u64;
    let end = track
        .samples
        .iter()
        .map(|s| relative(s) + i64::from(s.duration))
        .max()
        .unwrap_or(0)
        .max(0) as u64;
    // When the first picture is shown, on the movie's clock.
    let shown_at = crate::media::source::presentation_offset(track, movie_timescale)
        + (first + first_shown) as f64 / timescale as f64;
    let rate = mp4_atom::FixedPoint::new(1, 0);
    let mut entries = Vec::new();
    let skip = if shown_at >= 0.0 {
        let delay = (shown_at * movie as f64).round() as u64;
        if delay > 0 {
            entries.push(mp4_atom::ElstEntry {
                segment_duration: delay,
                media_time: None,
                media_rate: rate,
            });
        }
        first_shown
    } else {
        first_shown + (-shown_at * timescale as f64).round() as u64
    };
    entries.push(mp4_atom::ElstEntry {
        segment_duration: end.saturating_sub(skip) * movie / timescale,
        media_time: Some(skip),
        media_rate: rate,
    });
    trak.edts = Some(mp4_atom::Edts {
        elst: Some(mp4_atom::Elst { entries }),
    });
}
