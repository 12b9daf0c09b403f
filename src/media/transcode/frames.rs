//! Every picture of an MP4 source's video (H.264 or VP9, `media::decode`), decoded and handed
//! out in presentation order with its presentation time. Decoders return each sample's picture
//! in decode order (H.264 with B-frames differs from presentation order), so
//! pictures wait in a reorder buffer until every earlier presentation time has been handed out;
//! the buffer holds no more than the stream's B-frame depth.
//!
//! A damaged picture does not end the video: the decoder starts afresh at the next keyframe and
//! the pictures in between are shown as the last good one (what a player does), so every rung
//! keeps the source's frame count and timing. When more than a tenth of the pictures would be
//! lost that way, the source is given up, with the first failure's sample and reason: a rung
//! that is mostly a frozen picture is worse than none.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::media::decode::{DecodeFailure, Picture, VideoDecoder};
use crate::media::source::{ContainerError, Source};

#[derive(Debug, thiserror::Error)]
pub enum FramesError {
    #[error(transparent)]
    Read(#[from] ContainerError),
    #[error("sample {sample}: {source}")]
    Decode {
        sample: usize,
        source: DecodeFailure,
    },
    #[error("more than {lost} pictures cannot be decoded (the first, sample {sample}: {reason})")]
    Damaged {
        lost: usize,
        sample: usize,
        reason: String,
    },
}

/// The decoded pictures of a source, in presentation order.
pub struct Frames<'a> {
    src: &'a mut Source,
    decoder: VideoDecoder,
    /// To start the decoder afresh after a damaged sample.
    config: mp4_atom::Trak,
    /// Next sample to decode (decode order).
    next_sample: usize,
    /// Every sample's (presentation time, index), sorted: the order pictures leave in.
    order: Vec<(i64, usize)>,
    /// Position in `order` of the next picture to hand out.
    next_out: usize,
    waiting: BTreeMap<(i64, usize), Arc<Picture>>,
    /// Samples whose picture is lost (damaged, completing no picture, or after damage before a
    /// keyframe): shown as the last picture handed out.
    lost: HashSet<usize>,
    /// Waiting for a keyframe after damage.
    resync: bool,
    last: Option<Arc<Picture>>,
    /// The first sample that failed to decode, and why.
    first_damage: Option<(usize, String)>,
    /// Most pictures that may be lost before the source is given up.
    max_lost: usize,
}

impl<'a> Frames<'a> {
    pub fn new(src: &'a mut Source) -> Result<Frames<'a>, FramesError> {
        let config = src.video.trak.clone();
        let decoder = VideoDecoder::for_track(&config)
            .map_err(|source| FramesError::Decode { sample: 0, source })?;
        let max_lost = src.video.samples.len() / 10;
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
            config,
            next_sample: 0,
            order,
            next_out: 0,
            waiting: BTreeMap::new(),
            lost: HashSet::new(),
            resync: false,
            last: None,
            first_damage: None,
            max_lost,
        })
    }

    /// The pictures from the keyframe sample `first` on: what a resumed encode needs. Pictures
    /// shown after it but decoded before it (an open GOP's) cannot be decoded from there and are
    /// shown as the picture before them, like damaged ones.
    pub fn starting_at(src: &'a mut Source, first: usize) -> Result<Frames<'a>, FramesError> {
        let mut frames = Frames::new(src)?;
        if first == 0 {
            // From the start: every picture, leading ones of an open GOP included.
            return Ok(frames);
        }
        let Some(sample) = frames.src.video.samples.get(first) else {
            frames.next_out = frames.order.len();
            return Ok(frames);
        };
        let start = (pts(sample), first);
        frames.next_sample = first;
        frames.next_out = frames.order.partition_point(|p| *p < start);
        let undecodable: Vec<usize> = frames.order[frames.next_out..]
            .iter()
            .filter(|(_, i)| *i < first)
            .map(|(_, i)| *i)
            .collect();
        frames.lost.extend(undecodable);
        Ok(frames)
    }

    /// The presentation time of the keyframe sample to start from for pictures shown from
    /// `time` on: the last one shown at or before it (the first sample when none is).
    pub fn keyframe_before(src: &Source, time: i64) -> usize {
        src.video
            .samples
            .iter()
            .enumerate()
            .rev()
            .find(|(_, s)| s.sync && pts(s) <= time)
            .map_or(0, |(i, _)| i)
    }

    /// The first picture's presentation time: where the output frame grid starts.
    pub fn first_time(src: &Source) -> Option<i64> {
        src.video.samples.iter().map(pts).min()
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
    pub fn next_frame(&mut self) -> Result<Option<(Arc<Picture>, i64)>, FramesError> {
        loop {
            while let Some(&(t, i)) = self.order.get(self.next_out) {
                if self.lost.contains(&i) {
                    self.next_out += 1;
                    // Nothing shown yet: nothing to repeat, the picture is dropped.
                    match &self.last {
                        Some(last) => return Ok(Some((last.clone(), t))),
                        None => continue,
                    }
                }
                match self.waiting.remove(&(t, i)) {
                    Some(picture) => {
                        self.next_out += 1;
                        self.last = Some(picture.clone());
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
            if self.resync && !sample.sync {
                self.lose(index)?;
                continue;
            }
            let bytes = self.src.read_sample(&sample)?;
            match self.decoder.decode(&bytes) {
                Ok(Some(picture)) => {
                    self.resync = false;
                    self.waiting
                        .insert((pts(&sample), index), Arc::new(picture));
                }
                // Every MP4 sample is one picture: one that completes none is broken, and
                // is shown as the picture before it so that timing is kept.
                Ok(None) => self.lose(index)?,
                Err(source) => self.damaged_sample(index, source)?,
            }
        }
    }

    /// Conceal a sample that failed to decode: start the decoder afresh and skip to the next
    /// keyframe.
    fn damaged_sample(&mut self, index: usize, source: DecodeFailure) -> Result<(), FramesError> {
        tracing::warn!(sample = index, error = %source, "damaged picture: concealed until the next keyframe");
        self.first_damage
            .get_or_insert_with(|| (index, source.to_string()));
        self.decoder =
            VideoDecoder::for_track(&self.config).map_err(|source| FramesError::Decode {
                sample: index,
                source,
            })?;
        self.resync = true;
        self.lose(index)
    }

    /// Count a sample's picture as lost; too many give the source up.
    fn lose(&mut self, index: usize) -> Result<(), FramesError> {
        self.lost.insert(index);
        if self.lost.len() <= self.max_lost {
            return Ok(());
        }
        let (sample, reason) = self.first_damage.clone().unwrap_or_default();
        Err(FramesError::Damaged {
            lost: self.max_lost,
            sample,
            reason,
        })
    }
}

/// A sample's presentation time in its track's timescale.
fn pts(s: &crate::media::source::samples::Sample) -> i64 {
    i64::try_from(s.dts)
        .unwrap_or(i64::MAX)
        .saturating_add(s.cts_offset)
}
