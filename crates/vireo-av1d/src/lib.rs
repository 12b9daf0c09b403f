//! Vireo's AV1 decoder: a safe wrapper over rav1d, the Rust port of dav1d.
//!
//! rav1d's only public API is dav1d's C ABI (`dav1d_open`, `dav1d_send_data`, …), so calling it
//! takes `unsafe`; this crate is the one place in Vireo that has any, kept to a handful of
//! commented blocks, and the rest of Vireo forbids it. Pictures are copied out of the decoder
//! before they are handed on, so no decoder memory outlives a call.
//!
//! A panic inside rav1d cannot unwind through its `extern "C"` functions: it aborts the process.
//! Vireo therefore runs this decoder in a child process of its own (`media::decode::av1`), so a
//! decoder bug hit by a hostile upload costs one job, never the server.

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
    DAV1D_PIXEL_LAYOUT_I444,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};

/// dav1d's "try again" result: input is not consumed yet, or no picture is ready yet.
const AGAIN: i32 = -libc::EAGAIN;

/// Send rounds per temporal unit: a unit shows one picture, hidden frames add a few rounds.
const MAX_ROUNDS: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("the AV1 decoder could not start (error {0})")]
    Open(i32),
    #[error("the AV1 data is invalid or unsupported (error {0})")]
    Decode(i32),
    #[error("the AV1 decoder ran out of memory")]
    OutOfMemory,
    #[error("the AV1 decoder returned a picture without its planes")]
    NoPlanes,
}

/// How the chroma planes are subsampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Luma only (AV1's monochrome).
    I400,
    I420,
    I422,
    I444,
}

impl Layout {
    /// (horizontal, vertical) chroma subsampling shifts.
    pub fn shifts(self) -> (u32, u32) {
        match self {
            Layout::I420 => (1, 1),
            Layout::I422 => (1, 0),
            Layout::I400 | Layout::I444 => (0, 0),
        }
    }
}

/// One decoded picture, its planes packed (each row exactly its samples); samples deeper than
/// 8 bits take two bytes each, little-endian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub bit_depth: u32,
    pub layout: Layout,
    /// Y, U, V; U and V are empty for `Layout::I400`.
    pub planes: [Vec<u8>; 3],
    /// Bytes per row of each plane.
    pub strides: [usize; 3],
}

/// A decoder for one AV1 stream, fed one temporal unit (one MP4 or Matroska sample) at a time.
pub struct Decoder {
    context: Option<Dav1dContext>,
}

/// Settings for the decoder: one thread and no frame delay, so that every temporal unit's
/// picture comes out before the next unit goes in (the pipeline's other decoders work the same
/// way, and the encoders already fill the cores); only the highest spatial layer is output;
/// pictures larger than `max_pixels` are refused before any memory is taken for them.
fn settings(max_pixels: u32) -> Dav1dSettings {
    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: `dav1d_default_settings` writes a whole `Dav1dSettings` to the pointer, which is
    // valid for writes; it reads nothing from it.
    unsafe { dav1d_default_settings(NonNull::from(&mut settings).cast()) };
    // SAFETY: initialised just above.
    let mut settings = unsafe { settings.assume_init() };
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    settings.all_layers = 0;
    settings.frame_size_limit = max_pixels;
    settings
}

impl Decoder {
    /// A decoder refusing pictures of more than `max_pixels` pixels.
    pub fn new(max_pixels: u32) -> Result<Decoder, Error> {
        let mut settings = settings(max_pixels);
        let mut context: Option<Dav1dContext> = None;
        // SAFETY: both pointers come from live, initialised locals; `dav1d_open` reads the
        // settings and writes the context (or `None`) and keeps neither pointer.
        let result = unsafe {
            dav1d_open(
                Some(NonNull::from(&mut context)),
                Some(NonNull::from(&mut settings)),
            )
        };
        match (result.0, context) {
            (0, Some(context)) => Ok(Decoder {
                context: Some(context),
            }),
            (code, _) => Err(Error::Open(code)),
        }
    }

    /// Decode one temporal unit; the picture it shows, if any (the last one, should a unit
    /// break the one-shown-frame rule of AV1 in MP4 and Matroska).
    pub fn decode(&mut self, unit: &[u8]) -> Result<Option<Picture>, Error> {
        let mut data = Data::copy_of(unit)?;
        let mut shown = None;
        // dav1d consumes a unit whole or asks for its pictures to be taken first; a bound on
        // the rounds keeps a decoder that does neither from spinning.
        for _ in 0..MAX_ROUNDS {
            if data.0.sz == 0 {
                break;
            }
            // SAFETY: the context is open (it is closed only in `drop`); `data` is a live
            // `Dav1dData` made by `dav1d_data_create`, which dav1d reads and updates in place.
            let result = unsafe { dav1d_send_data(self.context, Some(NonNull::from(&mut data.0))) };
            match result.0 {
                0 => {}
                // The decoder holds a picture it must hand out before it takes more input.
                AGAIN => match self.picture()? {
                    Some(p) => shown = Some(p),
                    None => return Err(Error::Decode(AGAIN)),
                },
                code => return Err(Error::Decode(code)),
            }
        }
        if data.0.sz > 0 {
            return Err(Error::Decode(AGAIN));
        }
        while let Some(p) = self.picture()? {
            shown = Some(p);
        }
        Ok(shown)
    }

    /// The next picture the decoder has ready, copied out.
    fn picture(&mut self) -> Result<Option<Picture>, Error> {
        let mut picture = Dav1dPicture::default();
        // SAFETY: the context is open; `picture` is a live, default (empty) `Dav1dPicture` that
        // dav1d overwrites with a referenced picture, or leaves empty.
        let result = unsafe { dav1d_get_picture(self.context, Some(NonNull::from(&mut picture))) };
        let copied = match result.0 {
            0 => copy_out(&picture).map(Some),
            AGAIN => Ok(None),
            code => Err(Error::Decode(code)),
        };
        release(&mut picture);
        copied
    }
}

// SAFETY: the context is an `Arc` of rav1d's decoder state, which guards itself with locks (its
// C ABI lets any thread call in); `Decoder` gives it to one thread at a time (`&mut self`).
unsafe impl Send for Decoder {}

/// Release a picture `dav1d_get_picture` filled, and what `dav1d_picture_unref` leaves behind.
///
/// rav1d 1.1's `dav1d_picture_unref` (and `dav1d_get_picture`, on "try again") writes back an
/// empty picture whose ITU-T T.35 metadata list is a freshly allocated `Arc`, which the C ABI
/// never frees: 48 bytes per call, found by LeakSanitizer while fuzzing (re_rav1d, a fork, leaks
/// the same way). That one `Arc` is taken back here and dropped.
fn release(picture: &mut Dav1dPicture) {
    // SAFETY: `picture` is empty or holds the reference `dav1d_get_picture` gave us, which is
    // released exactly once here; no copy points into it any more.
    unsafe { dav1d_picture_unref(Some(NonNull::from(&mut *picture))) };
    if let Some(raw) = picture.itut_t35_ref.take() {
        // SAFETY: `dav1d_picture_unref` made this `RawArc` from an `Arc` (`RawArc::from_arc`,
        // in its conversion to the C struct), and `take` leaves nothing else holding it, so it
        // is turned back into that `Arc` once and dropped.
        drop(unsafe { raw.into_arc() });
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the context came from `dav1d_open` and is closed once: `dav1d_close` takes it
        // out of the `Option`, leaving `None`.
        unsafe { dav1d_close(Some(NonNull::from(&mut self.context))) };
    }
}

/// A `Dav1dData` owning a copy of one temporal unit; released on drop if dav1d did not take it
/// all.
struct Data(Dav1dData);

impl Data {
    fn copy_of(unit: &[u8]) -> Result<Data, Error> {
        let mut data = Data(Dav1dData::default());
        if unit.is_empty() {
            return Ok(data);
        }
        // SAFETY: `data.0` is a live `Dav1dData` to write to; dav1d allocates `unit.len()`
        // bytes, records them in it and returns their start (or null when it cannot).
        let start = unsafe { dav1d_data_create(Some(NonNull::from(&mut data.0)), unit.len()) };
        if start.is_null() {
            return Err(Error::OutOfMemory);
        }
        // SAFETY: `start` points to `unit.len()` freshly allocated bytes that nothing else
        // refers to yet, and `unit` cannot overlap them.
        unsafe { std::ptr::copy_nonoverlapping(unit.as_ptr(), start, unit.len()) };
        Ok(data)
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: `self.0` is empty or holds the buffer `dav1d_data_create` made (what is left
        // of it after `dav1d_send_data`); `dav1d_data_unref` releases it once and empties it.
        unsafe { dav1d_data_unref(Some(NonNull::from(&mut self.0))) };
    }
}

fn layout_of(code: u32) -> Result<Layout, Error> {
    match code {
        DAV1D_PIXEL_LAYOUT_I400 => Ok(Layout::I400),
        DAV1D_PIXEL_LAYOUT_I420 => Ok(Layout::I420),
        DAV1D_PIXEL_LAYOUT_I422 => Ok(Layout::I422),
        DAV1D_PIXEL_LAYOUT_I444 => Ok(Layout::I444),
        _ => Err(Error::NoPlanes),
    }
}

/// Copy a decoded picture's visible samples out of dav1d's buffers.
fn copy_out(p: &Dav1dPicture) -> Result<Picture, Error> {
    let (width, height) = (
        u32::try_from(p.p.w).map_err(|_| Error::NoPlanes)?,
        u32::try_from(p.p.h).map_err(|_| Error::NoPlanes)?,
    );
    let bit_depth = u32::try_from(p.p.bpc).map_err(|_| Error::NoPlanes)?;
    let layout = layout_of(p.p.layout)?;
    let bytes = if bit_depth > 8 { 2 } else { 1 };
    let (sx, sy) = layout.shifts();
    let chroma = ((width + sx) >> sx, (height + sy) >> sy);
    let mut planes: [Vec<u8>; 3] = Default::default();
    let mut strides = [0usize; 3];
    let count = if layout == Layout::I400 { 1 } else { 3 };
    for i in 0..count {
        let (w, h) = if i == 0 { (width, height) } else { chroma };
        let row = w as usize * bytes;
        let stride = p.stride[usize::from(i > 0)];
        let stride = usize::try_from(stride).map_err(|_| Error::NoPlanes)?;
        let start = p.data[i].ok_or(Error::NoPlanes)?;
        if stride < row {
            return Err(Error::NoPlanes);
        }
        let mut plane = Vec::with_capacity(row * h as usize);
        for y in 0..h as usize {
            // SAFETY: dav1d's plane `i` holds `h` rows `stride` bytes apart, each with at least
            // `row` bytes of samples (checked: `stride >= row`); the picture is referenced until
            // the caller unrefs it, after this copy.
            let line = unsafe {
                std::slice::from_raw_parts(start.as_ptr().cast::<u8>().add(y * stride), row)
            };
            plane.extend_from_slice(line);
        }
        planes[i] = plane;
        strides[i] = row;
    }
    Ok(Picture {
        width,
        height,
        bit_depth,
        layout,
        planes,
        strides,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_crash() {
        let mut d = Decoder::new(4096 * 4096).unwrap();
        assert_eq!(d.decode(&[]).unwrap(), None);
        for junk in [&[0xff; 64][..], &[0x12, 0x00, 0x0a, 0x0b, 0, 0, 0][..]] {
            // Either refused or no picture: never a picture from junk, never a crash.
            assert!(!matches!(d.decode(junk), Ok(Some(_))), "{junk:?}");
        }
    }

    /// Encode `frames` pictures of a moving gradient with rav1e; the packets and the pictures.
    fn encoded(frames: usize, (w, h): (usize, usize)) -> Vec<(Vec<u8>, Vec<u8>)> {
        let config = rav1e::Config::new()
            .with_encoder_config(rav1e::EncoderConfig {
                width: w,
                height: h,
                speed_settings: rav1e::config::SpeedSettings::from_preset(10),
                quantizer: 60,
                ..Default::default()
            })
            .with_threads(1);
        let mut ctx: rav1e::Context<u8> = config.new_context().unwrap();
        let mut lumas = Vec::new();
        for n in 0..frames {
            let mut f = ctx.new_frame();
            let luma: Vec<u8> = (0..w * h)
                .map(|i| ((i % w + i / w + 3 * n) % 200 + 16) as u8)
                .collect();
            f.planes[0].copy_from_raw_u8(&luma, w, 1);
            f.planes[1].copy_from_raw_u8(&vec![128; w * h / 4], w / 2, 1);
            f.planes[2].copy_from_raw_u8(&vec![128; w * h / 4], w / 2, 1);
            ctx.send_frame(f).unwrap();
            lumas.push(luma);
        }
        ctx.flush();
        let mut packets = Vec::new();
        loop {
            match ctx.receive_packet() {
                Ok(p) => packets.push(p.data),
                Err(rav1e::EncoderStatus::LimitReached) => break,
                Err(_) => {}
            }
        }
        packets.into_iter().zip(lumas).collect()
    }

    #[test]
    fn every_unit_shows_its_picture() {
        let (w, h) = (66, 34);
        let mut d = Decoder::new(4096 * 4096).unwrap();
        for (n, (packet, luma)) in encoded(8, (w, h)).iter().enumerate() {
            let p = d.decode(packet).unwrap().unwrap();
            assert_eq!((p.width, p.height, p.bit_depth), (66, 34, 8));
            assert_eq!(p.layout, Layout::I420);
            assert_eq!(p.strides, [66, 33, 33]);
            assert_eq!([p.planes[1].len(), p.planes[2].len()], [33 * 17; 2]);
            let err = p.planes[0]
                .iter()
                .zip(luma)
                .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                .sum::<f64>()
                / luma.len() as f64;
            assert!(err < 10.0, "picture {n}: mean squared error {err}");
        }
    }

    #[test]
    fn pictures_over_the_limit_are_refused() {
        let mut d = Decoder::new(64 * 32).unwrap();
        let packets = encoded(1, (66, 34));
        assert!(d.decode(&packets[0].0).is_err());
    }

    #[test]
    fn layouts_know_their_subsampling() {
        assert_eq!(Layout::I420.shifts(), (1, 1));
        assert_eq!(Layout::I422.shifts(), (1, 0));
        assert_eq!(layout_of(DAV1D_PIXEL_LAYOUT_I444), Ok(Layout::I444));
        assert!(layout_of(99).is_err());
    }
}
