//! rav1e's 8-bit encoder, made concrete behind a non-generic API (see the crate's doc for why).

#![forbid(unsafe_code)]

pub use rav1e::prelude::{
    BlockSize, ChromaSampling, ColorDescription, EncoderConfig, PartitionRange, PixelRange,
    Rational, SceneDetectionSpeed, SpeedSettings, Tune,
};
use rav1e::prelude::{Config, Context, EncoderStatus, FrameParameters, FrameType, Opaque};

/// rav1e's colour description from ISO/IEC 23091-2 codes; `None` when rav1e has no name for
/// one of them.
pub fn color_description(primaries: u8, transfer: u8, matrix: u8) -> Option<ColorDescription> {
    use num_traits::FromPrimitive;
    Some(ColorDescription {
        color_primaries: FromPrimitive::from_u8(primaries)?,
        transfer_characteristics: FromPrimitive::from_u8(transfer)?,
        matrix_coefficients: FromPrimitive::from_u8(matrix)?,
    })
}

/// One encoded temporal unit, as rav1e gives it (temporal delimiter included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub data: Vec<u8>,
    /// The value sent with the frame.
    pub pts: i64,
    pub keyframe: bool,
}

/// What `receive` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Packet(Packet),
    /// Nothing until more frames are sent.
    NeedMoreData,
    /// Everything was flushed out.
    Done,
}

/// An 8-bit 4:2:0 encoder.
pub struct Encoder {
    ctx: Context<u8>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").finish_non_exhaustive()
    }
}

impl Encoder {
    pub fn new(config: EncoderConfig, threads: usize) -> Result<Encoder, String> {
        let ctx = Config::new()
            .with_encoder_config(config)
            .with_threads(threads)
            .new_context::<u8>()
            .map_err(|e| e.to_string())?;
        Ok(Encoder { ctx })
    }

    /// Send one picture's planes (`y` with stride `y_stride`, `u`/`v` with `uv_stride`).
    pub fn send(&mut self, planes: [(&[u8], usize); 3], pts: i64) -> Result<(), String> {
        let mut frame = self.ctx.new_frame();
        for (plane, (data, stride)) in frame.planes.iter_mut().zip(planes) {
            plane.copy_from_raw_u8(data, stride, 1);
        }
        let params = FrameParameters {
            opaque: Some(Opaque::new(pts)),
            ..FrameParameters::default()
        };
        self.ctx
            .send_frame((frame, params))
            .map_err(|e| e.to_string())
    }

    /// No more pictures will come.
    pub fn flush(&mut self) {
        self.ctx.flush();
    }

    /// The next packet, if one is ready.
    pub fn receive(&mut self) -> Result<Received, String> {
        loop {
            match self.ctx.receive_packet() {
                Ok(packet) => {
                    let pts = packet
                        .opaque
                        .and_then(|o| o.downcast::<i64>().ok())
                        .map_or(packet.input_frameno as i64, |b| *b);
                    return Ok(Received::Packet(Packet {
                        keyframe: packet.frame_type == FrameType::KEY,
                        data: packet.data,
                        pts,
                    }));
                }
                // Work was done without output yet: ask again.
                Err(EncoderStatus::Encoded) => continue,
                Err(EncoderStatus::NeedMoreData) => return Ok(Received::NeedMoreData),
                Err(EncoderStatus::LimitReached) => return Ok(Received::Done),
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}
