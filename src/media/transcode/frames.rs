//! Every picture of an MP4 source's H.264 video, decoded and handed out in presentation order
//! with its presentation time. rusty_h264 returns each sample's picture in decode order, so
//! pictures wait in a reorder buffer until every earlier presentation time has been handed out;
//! the buffer holds no more than the stream's B-frame depth.

use std::collections::{BTreeMap, HashSet};

use crate::media::decode::{DecodeFailure, H264, Picture};
use crate::media::remux::{RemuxError, Source, avcc};

#[derive(Debug, thiserror::Error)]
pub enum FramesError {
    #[error(transparent)]
    Read(#[from] RemuxError),
    #[error("sample {sample}: {source}")]
    Decode {
        sample: usize,
        source: DecodeFailure,
    },
    #[error("the video is not H.264 (AV1 input is decoded in a later version)")]
    NotH264,
}

/// The decoded pictures of a source, in presentation order.
pub struct Frames<'a> {
    src: &'a mut Source,
    decoder: H264,
    /// Next sample to decode (decode order).
    next_sample: usize,
    /// Every sample's (presentation time, index), sorted: the order pictures leave in.
    order: Vec<(i64, usize)>,
    /// Position in `order` of the next picture to hand out.
    next_out: usize,
    waiting: BTreeMap<(i64, usize), Picture>,
    /// Samples that completed no picture (e.g. parameter sets only): skipped in `order`.
    empty: HashSet<usize>,
}

impl<'a> Frames<'a> {
    pub fn new(src: &'a mut Source) -> Result<Frames<'a>, FramesError> {
        let decoder = match avcc(&src.video.trak) {
            Some(config) => {
                H264::new(config).map_err(|source| FramesError::Decode { sample: 0, source })?
            }
            None => return Err(FramesError::NotH264),
        };
        let mut order: Vec<(i64, usize)> = src
            .video
            .samples
            .iter()
            .enumerate()
            .map(|(i, s)| (pts(s), i))
            .collect();
        order.sort_unstable();
        Ok(Frames {
            src,
            decoder,
            next_sample: 0,
            order,
            next_out: 0,
            waiting: BTreeMap::new(),
            empty: HashSet::new(),
        })
    }

    /// How many pictures the source has (one per sample).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The next picture in presentation order and its time (in the video track's timescale),
    /// or `None` at the end.
    pub fn next_frame(&mut self) -> Result<Option<(Picture, i64)>, FramesError> {
        loop {
            while let Some(&(t, i)) = self.order.get(self.next_out) {
                if self.empty.contains(&i) {
                    self.next_out += 1;
                    continue;
                }
                match self.waiting.remove(&(t, i)) {
                    Some(picture) => {
                        self.next_out += 1;
                        return Ok(Some((picture, t)));
                    }
                    None => break,
                }
            }
            let Some(sample) = self.src.video.samples.get(self.next_sample).cloned() else {
                return Ok(None);
            };
            let index = self.next_sample;
            self.next_sample += 1;
            let bytes = self.src.read_sample(&sample)?;
            match self.decoder.decode(&bytes) {
                Ok(Some(picture)) => {
                    self.waiting.insert((pts(&sample), index), picture);
                }
                Ok(None) => {
                    self.empty.insert(index);
                }
                Err(source) => {
                    return Err(FramesError::Decode {
                        sample: index,
                        source,
                    });
                }
            }
        }
    }
}

/// A sample's presentation time in its track's timescale.
fn pts(s: &crate::media::samples::Sample) -> i64 {
    i64::try_from(s.dts)
        .unwrap_or(i64::MAX)
        .saturating_add(s.cts_offset)
}
