//! H.264 encoding of the compatibility rendition with rusty_h264's encoder (pure Rust, BSD-2, no
//! C), for players without AV1 (older Safari and iPhones, DESIGN.md §3): 8-bit 4:2:0 pictures in,
//! MP4-ready samples out (length-prefixed NAL units, one sample per picture, parameter sets moved
//! into `avcC`), with the `avcC` record (the packager derives the HLS `CODECS` string from it,
//! as it does for a remuxed upload).
//!
//! Choices: no B-frames (samples come out in presentation order, so no composition offsets and
//! no reorder delay against the AV1 rungs), a fixed GOP with scene cuts off (keyframes on the
//! same pictures as the AV1 rungs, so segments align across the whole ladder), and the
//! encoder's own defaults otherwise (High profile, CABAC, mb-tree, adaptive quantization) at a
//! constant QP. Its encoder may hold pictures back for its look-ahead, so access units are cut
//! out of the byte stream it returns rather than taken one per call.

use rusty_h264_common::YuvPlanes;
use rusty_h264_encoder::{Encoder, EncoderConfig};

use super::av1::{EncodeError, Sample, ensure_size};
use crate::media::decode::Picture;

/// What to encode the compatibility rendition as.
#[derive(Debug, Clone, PartialEq)]
pub struct H264Settings {
    pub width: usize,
    pub height: usize,
    pub fps: f64,
    /// 0–51; 26 is the encoder's default and close to x264's crf 23 at these sizes.
    pub qp: u8,
    pub keyframe_interval: u64,
}

/// An H.264 encoder for one rendition.
pub struct H264Encoder {
    inner: Encoder,
    settings: H264Settings,
    /// Presentation times of the pictures sent and not yet given back as samples.
    waiting: std::collections::VecDeque<i64>,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl H264Encoder {
    pub fn new(settings: H264Settings) -> Result<H264Encoder, EncodeError> {
        let mut cfg = EncoderConfig::new(settings.width, settings.height);
        let interval = u32::try_from(settings.keyframe_interval.max(1)).unwrap_or(u32::MAX);
        cfg.gop_size = interval;
        cfg.min_keyint = interval;
        cfg.scenecut = 0;
        cfg.bframes = 0;
        cfg.qp = settings.qp.min(51);
        cfg.bitrate = 0;
        cfg.framerate = settings.fps as f32;
        cfg.level_idc = level_for(settings.width, settings.height, settings.fps);
        let inner = Encoder::new(cfg).map_err(|e| EncodeError::Config(e.to_string()))?;
        Ok(H264Encoder {
            inner,
            settings,
            waiting: std::collections::VecDeque::new(),
            sps: None,
            pps: None,
        })
    }

    /// Encode a picture shown at `pts`; returns the samples that became ready.
    pub fn push(&mut self, picture: &Picture, pts: i64) -> Result<Vec<Sample>, EncodeError> {
        ensure_size(picture, self.settings.width, self.settings.height)?;
        let planes = YuvPlanes {
            width: picture.width,
            height: picture.height,
            y: &picture.y,
            u: &picture.u,
            v: &picture.v,
            stride_y: picture.width,
            stride_c: picture.width.div_ceil(2),
        };
        self.waiting.push_back(pts);
        let bytes = self
            .inner
            .encode_planes(&planes)
            .map_err(|e| EncodeError::Encoder(e.to_string()))?;
        self.samples(&bytes)
    }

    /// No more pictures: the remaining samples.
    pub fn finish(&mut self) -> Result<Vec<Sample>, EncodeError> {
        let bytes = self
            .inner
            .try_flush()
            .map_err(|e| EncodeError::Encoder(e.to_string()))?;
        self.samples(&bytes)
    }

    /// Cut an Annex-B byte stream into one sample per picture.
    fn samples(&mut self, stream: &[u8]) -> Result<Vec<Sample>, EncodeError> {
        let mut out: Vec<Sample> = Vec::new();
        for nal in nal_units(stream) {
            let Some(&header) = nal.first() else {
                continue;
            };
            match header & 0x1f {
                7 => self.sps = Some(nal.to_vec()),
                8 => self.pps = Some(nal.to_vec()),
                // Slices: the first slice of a picture (first_mb_in_slice = 0, coded as a
                // single 1 bit) starts a new sample.
                kind @ (1 | 5) => {
                    let starts = nal.get(1).is_some_and(|b| b & 0x80 != 0);
                    if starts || out.is_empty() {
                        let pts = self.waiting.pop_front().ok_or_else(|| {
                            EncodeError::Encoder("more pictures out than went in".into())
                        })?;
                        out.push(Sample {
                            data: Vec::new(),
                            pts,
                            keyframe: kind == 5,
                        });
                    }
                    if let Some(sample) = out.last_mut() {
                        sample.data.extend((nal.len() as u32).to_be_bytes());
                        sample.data.extend_from_slice(nal);
                    }
                }
                // Delimiters, SEI and the rest stay out of the samples.
                _ => {}
            }
        }
        Ok(out)
    }

    /// The `avcC` record, once the first keyframe has been encoded.
    pub fn avcc(&self) -> Option<mp4_atom::Avcc> {
        let (sps, pps) = (self.sps.as_ref()?, self.pps.as_ref()?);
        let (&profile, &compat, &level) = (sps.get(1)?, sps.get(2)?, sps.get(3)?);
        Some(mp4_atom::Avcc {
            configuration_version: 1,
            avc_profile_indication: profile,
            profile_compatibility: compat,
            avc_level_indication: level,
            length_size: 4,
            sequence_parameter_sets: vec![sps.clone()],
            picture_parameter_sets: vec![pps.clone()],
            // High and above carry the chroma format and bit depths (ISO/IEC 14496-15 §5.3.3.1).
            ext: (!matches!(profile, 66 | 77 | 88)).then(mp4_atom::AvccExt::default),
        })
    }
}

/// The NAL units of an Annex-B stream (start codes of 3 or 4 bytes), without their start codes.
fn nal_units(stream: &[u8]) -> Vec<&[u8]> {
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
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let end = starts.get(n + 1).map_or(stream.len(), |next| next - 3);
            // A 4-byte start code leaves its leading zero on the previous unit.
            let mut unit = &stream[start..end.max(start)];
            while let [rest @ .., 0] = unit {
                unit = rest;
            }
            unit
        })
        .filter(|u| !u.is_empty())
        .collect()
}

/// H.264 levels (Annex A, table A-1): `level_idc`, max macroblocks per frame and per second.
const LEVELS: [(u8, u64, u64); 11] = [
    (21, 792, 19_800),
    (22, 1_620, 20_250),
    (30, 1_620, 40_500),
    (31, 3_600, 108_000),
    (32, 5_120, 216_000),
    (40, 8_192, 245_760),
    (42, 8_704, 522_240),
    (50, 22_080, 589_824),
    (51, 36_864, 983_040),
    (52, 36_864, 2_073_600),
    (62, 139_264, 16_711_680),
];

/// The lowest level whose frame size and macroblock rate hold this picture at this rate.
pub fn level_for(width: usize, height: usize, fps: f64) -> u8 {
    let mbs = (width.div_ceil(16) * height.div_ceil(16)) as u64;
    LEVELS
        .iter()
        .find(|(_, frame, rate)| mbs <= *frame && mbs as f64 * fps <= *rate as f64)
        .map_or(62, |l| l.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_picture_becomes_one_sample_in_order_with_keyframes_on_the_grid() {
        let mut enc = H264Encoder::new(H264Settings {
            width: 128,
            height: 72,
            fps: 25.0,
            qp: 26,
            keyframe_interval: 10,
        })
        .unwrap();
        let mut samples = Vec::new();
        for t in 0..35 {
            let picture = crate::media::encode::av1::tests::picture(128, 72, t);
            samples.extend(enc.push(&picture, t as i64 * 40).unwrap());
        }
        samples.extend(enc.finish().unwrap());
        assert_eq!(samples.len(), 35);
        let pts: Vec<i64> = samples.iter().map(|s| s.pts).collect();
        assert_eq!(pts, (0..35).map(|t| t * 40).collect::<Vec<_>>());
        let keys: Vec<usize> = (0..35).filter(|i| samples[*i].keyframe).collect();
        assert_eq!(keys, [0, 10, 20, 30], "a fixed GOP, no scene cuts");
        let avcc = enc.avcc().unwrap();
        assert_eq!(avcc.sequence_parameter_sets[0][0] & 0x1f, 7);
        assert!(
            crate::media::source::avc_codec(&avcc).starts_with("avc1.64"),
            "High profile"
        );
        // Samples are length-prefixed NAL units with no parameter sets left in them.
        for s in &samples {
            let len = u32::from_be_bytes([s.data[0], s.data[1], s.data[2], s.data[3]]) as usize;
            assert!(len + 4 <= s.data.len());
            assert!(matches!(s.data[4] & 0x1f, 1 | 5));
        }
    }

    #[test]
    fn levels_follow_the_spec_table() {
        assert_eq!(level_for(426, 240, 30.0), 21);
        assert_eq!(level_for(854, 480, 30.0), 31);
        assert_eq!(level_for(1280, 720, 30.0), 31);
        assert_eq!(level_for(1920, 1080, 30.0), 40);
        assert_eq!(level_for(1920, 1080, 60.0), 42);
    }
}
