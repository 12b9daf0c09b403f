//! The samples of one MP4 track, expanded from its sample tables (`stts`, `ctts`, `stsz`,
//! `stsc` with `stco`/`co64`, `stss`) into one list: where each sample's bytes are, when it is
//! decoded and shown, and whether it starts a GOP. This is what remuxing copies from.

use mp4_atom::{StszSamples, Trak};

/// One sample (a video frame or an audio packet) of a track, in decode order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Byte offset of its data in the file.
    pub offset: u64,
    pub size: u32,
    /// Decode time, in the track's timescale.
    pub dts: u64,
    pub duration: u32,
    /// Presentation minus decode time (B-frames), in the track's timescale.
    pub cts_offset: i64,
    /// A sync sample (a keyframe) a decoder can start from.
    pub sync: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("inconsistent sample tables: {0}")]
pub struct SampleTableError(pub String);

fn inconsistent(what: impl Into<String>) -> SampleTableError {
    SampleTableError(what.into())
}

/// Expand a track's sample tables, refusing more than `max_samples` and any sample not wholly
/// inside the first `file_len` bytes. Every count is checked against the others, so a table that
/// claims more samples than it describes is an error rather than a huge allocation, and a sample
/// is what the file holds: a size of 4 GiB never becomes an allocation of 4 GiB.
pub fn samples(
    trak: &Trak,
    max_samples: usize,
    file_len: u64,
) -> Result<Vec<Sample>, SampleTableError> {
    let stbl = &trak.mdia.minf.stbl;
    let claimed = match &stbl.stsz.samples {
        StszSamples::Different { sizes } => sizes.len(),
        StszSamples::Identical { count, .. } => *count as usize,
    };
    if claimed > max_samples {
        return Err(inconsistent(format!(
            "{claimed} samples, more than the {max_samples} accepted"
        )));
    }
    let sizes: Vec<u32> = match &stbl.stsz.samples {
        StszSamples::Different { sizes } => sizes.clone(),
        StszSamples::Identical { count, size } => {
            // The other tables must describe every sample; stts bounds what we allocate.
            let described: u64 = stbl
                .stts
                .entries
                .iter()
                .map(|e| u64::from(e.sample_count))
                .sum();
            if u64::from(*count) != described {
                return Err(inconsistent("stsz and stts disagree on the sample count"));
            }
            vec![*size; *count as usize]
        }
    };
    if let Some(big) = sizes
        .iter()
        .find(|s| u64::from(**s) > super::sanity::MAX_SAMPLE_BYTES)
    {
        return Err(inconsistent(format!(
            "a sample of {big} bytes, more than the {} accepted",
            super::sanity::MAX_SAMPLE_BYTES
        )));
    }
    let count = sizes.len();
    let mut out = Vec::with_capacity(count);

    // Decode times.
    let mut dts = 0u64;
    let mut timing = Vec::with_capacity(count);
    for e in &stbl.stts.entries {
        for _ in 0..e.sample_count {
            if timing.len() == count {
                return Err(inconsistent("stts describes more samples than stsz"));
            }
            timing.push((dts, e.sample_delta));
            dts = dts
                .checked_add(u64::from(e.sample_delta))
                .ok_or_else(|| inconsistent("decode times overflow"))?;
        }
    }
    if timing.len() != count {
        return Err(inconsistent("stts describes fewer samples than stsz"));
    }

    // Composition offsets.
    let mut cts = vec![0i64; count];
    if let Some(ctts) = &stbl.ctts {
        let mut i = 0usize;
        for e in &ctts.entries {
            for _ in 0..e.sample_count {
                if i == count {
                    return Err(inconsistent("ctts describes more samples than stsz"));
                }
                cts[i] = e.sample_offset;
                i += 1;
            }
        }
    }

    // Offsets: chunks hold runs of consecutive samples (stsc), each chunk starts at stco/co64.
    let mut offsets = Vec::with_capacity(count);
    // A chunk holds at least one sample: there cannot be more chunks than samples.
    for (start, in_chunk) in chunks(trak, count.max(1))? {
        let mut at = start;
        for _ in 0..in_chunk {
            let Some(&size) = sizes.get(offsets.len()) else {
                return Err(inconsistent("stsc describes more samples than stsz"));
            };
            let end = at
                .checked_add(u64::from(size))
                .filter(|end| *end <= file_len)
                .ok_or_else(|| inconsistent("a sample lies beyond the end of the file"))?;
            offsets.push(at);
            at = end;
        }
    }
    if offsets.len() != count {
        return Err(inconsistent("stsc describes fewer samples than stsz"));
    }

    // Sync samples (1-based numbers); without stss every sample is one.
    let mut sync = vec![stbl.stss.is_none(); count];
    if let Some(stss) = &stbl.stss {
        for &n in &stss.entries {
            if let Some(s) = (n as usize).checked_sub(1).and_then(|i| sync.get_mut(i)) {
                *s = true;
            }
        }
    }

    for i in 0..count {
        out.push(Sample {
            offset: offsets[i],
            size: sizes[i],
            dts: timing[i].0,
            duration: timing[i].1,
            cts_offset: cts[i],
            sync: sync[i],
        });
    }
    Ok(out)
}

/// A PCM track's chunks as packets: uncompressed audio stores every frame as a sample (48 000
/// a second), which `samples` would expand one by one; here each chunk (`stsc`/`stco`) becomes
/// one packet of `frames_per_chunk × bytes_per_frame` bytes. Refuses more than `max_chunks`.
pub fn pcm_packets(
    trak: &Trak,
    bytes_per_frame: u32,
    max_chunks: usize,
    file_len: u64,
) -> Result<Vec<Sample>, SampleTableError> {
    let stbl = &trak.mdia.minf.stbl;
    // Frame durations, run-length coded; consumed chunk by chunk.
    let mut stts = stbl
        .stts
        .entries
        .iter()
        .map(|e| (u64::from(e.sample_count), u64::from(e.sample_delta)));
    let mut run = stts.next().unwrap_or((0, 0));
    let mut span_of = |mut frames: u64| -> Result<u64, SampleTableError> {
        let mut span = 0u64;
        while frames > 0 {
            if run.0 == 0 {
                run = stts
                    .next()
                    .ok_or_else(|| inconsistent("stts describes fewer frames than stsc"))?;
                continue;
            }
            let take = run.0.min(frames);
            span = take
                .checked_mul(run.1)
                .and_then(|s| s.checked_add(span))
                .ok_or_else(|| inconsistent("decode times overflow"))?;
            run.0 -= take;
            frames -= take;
        }
        Ok(span)
    };
    let chunks = chunks(trak, max_chunks)?;
    let mut out = Vec::with_capacity(chunks.len());
    let mut dts = 0u64;
    for (offset, frames) in chunks {
        let frames = u64::from(frames);
        let size = u32::try_from(frames * u64::from(bytes_per_frame))
            .map_err(|_| inconsistent("a chunk of over 4 GiB"))?;
        if offset
            .checked_add(u64::from(size))
            .is_none_or(|end| end > file_len)
        {
            return Err(inconsistent("a sample lies beyond the end of the file"));
        }
        let span = span_of(frames)?;
        out.push(Sample {
            offset,
            size,
            dts,
            duration: u32::try_from(span).unwrap_or(u32::MAX),
            cts_offset: 0,
            sync: true,
        });
        dts = dts
            .checked_add(span)
            .ok_or_else(|| inconsistent("decode times overflow"))?;
    }
    Ok(out)
}

/// How long `samples` are shown: from the earliest presentation time to the end of the latest,
/// in milliseconds of a track whose clock ticks `timescale` times a second. The one duration an
/// upload has: the probe and every later step count it from the samples the file holds, not
/// from a header that may say anything.
pub fn span_ms(samples: &[Sample], timescale: u64) -> u64 {
    if timescale == 0 {
        return 0;
    }
    let shown = |s: &Sample| i128::from(s.dts) + i128::from(s.cts_offset);
    let first = samples.iter().map(shown).min().unwrap_or(0);
    let last = samples
        .iter()
        .map(|s| shown(s) + i128::from(s.duration))
        .max()
        .unwrap_or(0);
    let ms = (last - first).max(0) * 1000 / i128::from(timescale);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// Every chunk of a track, in order: where it starts (`stco`/`co64`) and how many samples it
/// holds (`stsc`). Refuses more than `max_chunks`.
fn chunks(trak: &Trak, max_chunks: usize) -> Result<Vec<(u64, u32)>, SampleTableError> {
    let stbl = &trak.mdia.minf.stbl;
    let offsets: Vec<u64> = match (&stbl.stco, &stbl.co64) {
        (Some(stco), _) => stco.entries.iter().map(|&o| u64::from(o)).collect(),
        (None, Some(co64)) => co64.entries.clone(),
        (None, None) => return Err(inconsistent("no chunk offsets")),
    };
    if offsets.len() > max_chunks {
        return Err(inconsistent(format!(
            "{} chunks, more than the {max_chunks} accepted",
            offsets.len()
        )));
    }
    let mut out = Vec::with_capacity(offsets.len());
    let entries = &stbl.stsc.entries;
    for (e_idx, e) in entries.iter().enumerate() {
        let first = e.first_chunk as usize;
        let last = entries
            .get(e_idx + 1)
            .map(|n| n.first_chunk as usize)
            .unwrap_or(offsets.len() + 1);
        if first == 0 || last < first {
            return Err(inconsistent("stsc chunks out of order"));
        }
        for chunk in first..last {
            let Some(&start) = offsets.get(chunk - 1) else {
                return Err(inconsistent("stsc refers to a missing chunk"));
            };
            out.push((start, e.samples_per_chunk));
        }
    }
    Ok(out)
}
