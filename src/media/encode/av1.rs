//! AV1 encoding of one rendition with rav1e, in-process (`../shared/research/video-pipeline.md`
//! §4): 8-bit 4:2:0 pictures in, MP4-ready samples out (temporal delimiters stripped, one sample
//! per shown frame, in presentation order), with the `av1C` record and the HLS `CODECS` string
//! that describe them.
//!
//! Choices made here, each measured or read in rav1e 0.8.1's source (`/work/notes` research):
//! - **Fixed GOP**: scene detection off and `min = max` keyframe interval, so every rendition has
//!   keyframes at the same frames and HLS segments align across the ladder.
//! - **Tiles = threads = 2**: rav1e's parallelism is over tiles; with one tile it left a core
//!   idle (+48–52 % fps at 720p/1080p for < 1 % more bytes).
//! - **A real level**: rav1e writes level 31 ("unconstrained") unless told, and players are
//!   happier with a real one; rav1e's own level check is unreliable, so the level is computed
//!   here from the picture size and frame rate (AV1 spec Annex A).
//! - **Colour**: the source's description, completed as players would (`media::colour`), goes
//!   into the sequence header.

use vireo_codec::av1::{
    BlockSize, ChromaSampling, Encoder, EncoderConfig, PartitionRange, PixelRange, Rational,
    Received, SceneDetectionSpeed, SpeedSettings, Tune, color_description,
};

use super::obu;
use crate::media::colour::Colour;
use crate::media::decode::Picture;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("AV1 encoder configuration refused: {0}")]
    Config(String),
    #[error("AV1 encoder: {0}")]
    Encoder(String),
    #[error("picture of {got_w}×{got_h} given to a {want_w}×{want_h} encoder")]
    WrongSize {
        got_w: usize,
        got_h: usize,
        want_w: usize,
        want_h: usize,
    },
}

/// What to encode one rendition as.
#[derive(Debug, Clone, PartialEq)]
pub struct Av1Settings {
    /// Even, at least 16.
    pub width: usize,
    pub height: usize,
    /// Frames per second as a fraction (e.g. 30000/1001).
    pub fps_num: u64,
    pub fps_den: u64,
    /// rav1e's base quantizer index, 0–255 (higher = smaller, worse).
    pub quantizer: usize,
    /// rav1e speed preset 0–10.
    pub speed: u8,
    /// Frames from one keyframe to the next.
    pub keyframe_interval: u64,
    /// Encoder threads (and tiles).
    pub threads: usize,
    pub tuning: Tuning,
    /// Written into the sequence header (and the sample entry's `colr`, by the caller).
    pub colour: Colour,
}

/// Encoder choices beyond the speed preset, each measured with the transcode bench
/// (`benches/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tuning {
    /// rav1e's `Tune::Psnr` (plain squared error, distortion measured in the transform
    /// domain) instead of its psychovisual default (activity masking, CDEF-weighted distortion).
    pub psnr: bool,
    /// At speed 10, partitions from 16×16 to 32×32 (speed 9's range) instead of its fixed
    /// 32×32 (slower speeds already search a wider range, which this leaves alone).
    pub small_partitions: bool,
    /// The same, only for pictures whose shorter side is at most this (0: none): 32×32 blocks
    /// are coarsest on the small rungs, which cost least to encode finer.
    pub small_partitions_up_to: u32,
}

impl Tuning {
    /// Whether a `width × height` picture gets the small partitions.
    fn small_partitions_at(&self, width: usize, height: usize) -> bool {
        self.small_partitions || width.min(height) <= self.small_partitions_up_to as usize
    }
}

/// Refuse a picture of another size than the encoder's.
pub(crate) fn ensure_size(
    picture: &Picture,
    width: usize,
    height: usize,
) -> Result<(), EncodeError> {
    if picture.width != width || picture.height != height {
        return Err(EncodeError::WrongSize {
            got_w: picture.width,
            got_h: picture.height,
            want_w: width,
            want_h: height,
        });
    }
    Ok(())
}

/// One encoded frame, ready to be an MP4 sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The temporal unit's OBUs without its temporal delimiter.
    pub data: Vec<u8>,
    /// The presentation time given with the picture.
    pub pts: i64,
    pub keyframe: bool,
}

/// An AV1 encoder for one rendition.
pub struct Av1Encoder {
    encoder: Encoder,
    settings: Av1Settings,
    level_idx: u8,
    /// The sequence header OBU, from the first keyframe (it goes into `av1C`).
    sequence_header: Option<Vec<u8>>,
}

impl std::fmt::Debug for Av1Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Av1Encoder")
            .field("settings", &self.settings)
            .field("level_idx", &self.level_idx)
            .finish()
    }
}

impl Av1Encoder {
    pub fn new(settings: Av1Settings) -> Result<Av1Encoder, EncodeError> {
        let fps = settings.fps_num as f64 / settings.fps_den.max(1) as f64;
        let level_idx = level_for(settings.width, settings.height, fps);
        let mut enc = EncoderConfig::with_speed_preset(settings.speed);
        enc.width = settings.width;
        enc.height = settings.height;
        enc.time_base = Rational::new(settings.fps_den, settings.fps_num);
        enc.bit_depth = 8;
        enc.chroma_sampling = ChromaSampling::Cs420;
        enc.quantizer = settings.quantizer;
        enc.tiles = settings.threads.max(1);
        enc.level_idx = Some(level_idx);
        let c = settings.colour;
        enc.color_description = color_description(c.primaries, c.transfer, c.matrix);
        enc.pixel_range = match c.full_range {
            true => PixelRange::Full,
            false => PixelRange::Limited,
        };
        if settings.tuning.psnr {
            enc.tune = Tune::Psnr;
        }
        let mut speed = SpeedSettings::from_preset(settings.speed);
        speed.scene_detection_mode = SceneDetectionSpeed::None;
        if settings.speed >= 10
            && settings
                .tuning
                .small_partitions_at(settings.width, settings.height)
        {
            speed.partition.partition_range =
                PartitionRange::new(BlockSize::BLOCK_16X16, BlockSize::BLOCK_32X32);
        }
        enc.speed_settings = speed;
        let interval = settings.keyframe_interval.max(1);
        enc.set_key_frame_interval(interval, interval);
        let encoder = Encoder::new(enc, settings.threads.max(1)).map_err(EncodeError::Config)?;
        Ok(Av1Encoder {
            encoder,
            settings,
            level_idx,
            sequence_header: None,
        })
    }

    /// Encode a picture shown at `pts`; returns the samples that became ready (rav1e looks
    /// ahead, so the first ones come some frames later).
    pub fn push(&mut self, picture: &Picture, pts: i64) -> Result<Vec<Sample>, EncodeError> {
        ensure_size(picture, self.settings.width, self.settings.height)?;
        let chroma_width = picture.width.div_ceil(2);
        self.encoder
            .send(
                [
                    (&picture.y, picture.width),
                    (&picture.u, chroma_width),
                    (&picture.v, chroma_width),
                ],
                pts,
            )
            .map_err(EncodeError::Encoder)?;
        self.drain()
    }

    /// No more pictures: the remaining samples.
    pub fn finish(&mut self) -> Result<Vec<Sample>, EncodeError> {
        self.encoder.flush();
        self.drain()
    }

    fn drain(&mut self) -> Result<Vec<Sample>, EncodeError> {
        let mut out = Vec::new();
        while let Received::Packet(packet) = self.encoder.receive().map_err(EncodeError::Encoder)? {
            let data = obu::strip_temporal_delimiters(&packet.data);
            if packet.keyframe && self.sequence_header.is_none() {
                self.sequence_header = obu::sequence_header(&data).map(<[u8]>::to_vec);
            }
            out.push(Sample {
                data,
                pts: packet.pts,
                keyframe: packet.keyframe,
            });
        }
        Ok(out)
    }

    /// The `av1C` record, once the first keyframe has been encoded.
    pub fn av1c(&self) -> Option<mp4_atom::Av1c> {
        let header = self.sequence_header.clone()?;
        Some(mp4_atom::Av1c {
            seq_profile: 0,
            seq_level_idx_0: self.level_idx,
            seq_tier_0: false,
            high_bitdepth: false,
            twelve_bit: false,
            monochrome: false,
            chroma_subsampling_x: true,
            chroma_subsampling_y: true,
            chroma_sample_position: 0,
            initial_presentation_delay: None,
            config_obus: header,
        })
    }

    /// The HLS `CODECS` value: Main profile, this level, Main tier, 8-bit (the colour tail is
    /// left off: it would say the defaults).
    pub fn codecs(&self) -> String {
        format!("av01.0.{:02}M.08", self.level_idx)
    }

    pub fn level_idx(&self) -> u8 {
        self.level_idx
    }
}

/// AV1 levels (spec Annex A): `seq_level_idx`, max luma samples per picture, max width, max
/// height, max luma samples per second.
const LEVELS: [(u8, u64, usize, usize, u64); 8] = [
    (0, 147_456, 2048, 1152, 4_423_680),
    (1, 278_784, 2816, 1584, 8_363_520),
    (4, 665_856, 4352, 2448, 19_975_680),
    (5, 1_065_024, 5504, 3096, 31_950_720),
    (8, 2_359_296, 6144, 3456, 70_778_880),
    (9, 2_359_296, 6144, 3456, 141_557_760),
    (12, 8_912_896, 8192, 4352, 267_386_880),
    (13, 8_912_896, 8192, 4352, 534_773_760),
];

/// The lowest level that holds this picture size at this frame rate; 31 (no constraint) when
/// none of the levels up to 5.1 does.
pub fn level_for(width: usize, height: usize, fps: f64) -> u8 {
    let samples = (width * height) as u64;
    LEVELS
        .iter()
        .find(|(_, pic, w, h, rate)| {
            samples <= *pic && width <= *w && height <= *h && samples as f64 * fps <= *rate as f64
        })
        .map_or(31, |l| l.0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A moving diagonal gradient: enough detail that frames differ and motion is found.
    pub(crate) fn picture(width: usize, height: usize, t: usize) -> Picture {
        let luma = |x: usize, y: usize| ((x + y + 4 * t) % 256) as u8;
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        Picture {
            width,
            height,
            y: (0..height)
                .flat_map(|y| (0..width).map(move |x| luma(x, y)))
                .collect(),
            u: (0..cw * ch).map(|i| (64 + i % 64) as u8).collect(),
            v: (0..cw * ch).map(|i| (192 - i % 64) as u8).collect(),
        }
    }

    fn settings() -> Av1Settings {
        Av1Settings {
            width: 128,
            height: 72,
            fps_num: 25,
            fps_den: 1,
            quantizer: 120,
            speed: 10,
            keyframe_interval: 10,
            threads: 2,
            tuning: Tuning::default(),
            colour: Colour::assumed(72),
        }
    }

    #[test]
    fn small_partitions_go_to_the_rungs_asked_for() {
        let small = Tuning {
            small_partitions_up_to: 360,
            ..Tuning::default()
        };
        assert!(small.small_partitions_at(640, 360));
        assert!(
            small.small_partitions_at(360, 640),
            "portrait: the shorter side"
        );
        assert!(!small.small_partitions_at(854, 480));
        assert!(!Tuning::default().small_partitions_at(426, 240));
        let all = Tuning {
            small_partitions: true,
            ..Tuning::default()
        };
        assert!(all.small_partitions_at(1920, 1080));
    }

    #[test]
    fn every_picture_becomes_one_sample_in_order_with_keyframes_on_the_grid() {
        let mut enc = Av1Encoder::new(settings()).unwrap();
        let mut samples = Vec::new();
        for t in 0..35 {
            samples.extend(enc.push(&picture(128, 72, t), t as i64 * 40).unwrap());
        }
        samples.extend(enc.finish().unwrap());
        assert_eq!(samples.len(), 35);
        let pts: Vec<i64> = samples.iter().map(|s| s.pts).collect();
        assert_eq!(pts, (0..35).map(|t| t * 40).collect::<Vec<_>>());
        let keys: Vec<usize> = samples
            .iter()
            .enumerate()
            .filter(|(_, s)| s.keyframe)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(keys, [0, 10, 20, 30], "a fixed GOP, no scene cuts");
        assert!(samples.iter().all(|s| s.data.first() != Some(&0x12)));
        let av1c = enc.av1c().unwrap();
        assert_eq!(av1c.seq_level_idx_0, 0, "128×72 at 25 fps is level 2.0");
        assert_eq!(av1c.config_obus[0] >> 3 & 0xF, 1, "a sequence header OBU");
        assert_eq!(enc.codecs(), "av01.0.00M.08");
    }

    #[test]
    fn wrong_sizes_are_refused() {
        let mut enc = Av1Encoder::new(settings()).unwrap();
        assert!(matches!(
            enc.push(&picture(64, 72, 0), 0),
            Err(EncodeError::WrongSize { .. })
        ));
    }

    #[test]
    fn levels_follow_the_spec_table() {
        assert_eq!(level_for(426, 240, 30.0), 0);
        assert_eq!(level_for(640, 360, 30.0), 1);
        assert_eq!(level_for(640, 360, 60.0), 4);
        assert_eq!(level_for(854, 480, 30.0), 4);
        assert_eq!(level_for(1280, 720, 30.0), 5);
        assert_eq!(level_for(1280, 720, 60.0), 8);
        assert_eq!(level_for(1920, 1080, 30.0), 8);
        assert_eq!(level_for(1920, 1080, 60.0), 9);
        assert_eq!(level_for(3840, 2160, 60.0), 13);
        assert_eq!(level_for(7680, 4320, 60.0), 31);
    }
}
