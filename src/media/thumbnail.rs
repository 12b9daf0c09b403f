//! A video's thumbnail and preview: JPEGs at PeerTube's sizes, from a representative frame of the
//! upload (near the middle, skipping black or flat frames) or from an image the uploader sent.
//!
//! Frames are decoded by `decode::VideoDecoder` (H.264 or VP9) from the keyframe before each candidate time, so the
//! cost is a handful of frames whatever the video's length. Images are cropped to fill
//! (centred), resized and encoded with the `image` crate; the YUV → RGB conversion is the few
//! lines of arithmetic below (BT.709 for HD, BT.601 for SD, limited range as H.264 codes it).

use crate::media::colour::Colour;
use image::imageops::FilterType;
use image::{DynamicImage, ImageReader, Limits, RgbImage};

use super::decode::{DecodeFailure, Picture, VideoDecoder};
use super::source::{self, Source};

/// PeerTube's thumbnail size (video cards).
pub const THUMBNAIL: (u32, u32) = (280, 157);
/// PeerTube's preview size (the player's poster).
pub const PREVIEW: (u32, u32) = (850, 480);
/// JPEG quality PeerTube writes its images with.
const QUALITY: u8 = 80;
/// Where in the video to look, in order of preference (fractions of the duration).
const CANDIDATES: [f64; 4] = [0.5, 0.25, 0.75, 0.1];
/// Most frames decoded after a keyframe while looking for a non-flat one.
const MAX_FRAMES_PER_CANDIDATE: usize = 60;
/// Largest uploaded image accepted, in pixels per side and decoded bytes.
const MAX_IMAGE_SIDE: u32 = 8192;
const MAX_IMAGE_ALLOC: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error(transparent)]
    Decode(#[from] DecodeFailure),
    #[error(transparent)]
    Remux(#[from] source::ContainerError),
    #[error("the video has no picture to show")]
    NoPicture,
    #[error("the image cannot be read: {0}")]
    Image(String),
}

/// The JPEG thumbnail and preview of one picture.
pub struct Images {
    pub thumbnail: Vec<u8>,
    pub preview: Vec<u8>,
}

/// Make both images from a representative frame of the video, turned as it is shown.
pub fn from_video(src: &mut Source, rotation: u16) -> Result<Images, ThumbnailError> {
    let picture = representative(src)?;
    let rgb = rotate(to_rgb_in(&picture, Colour::of_source(src)), rotation);
    images_of(&DynamicImage::ImageRgb8(rgb))
}

/// Make both images from an uploaded JPEG, PNG, WebP or GIF (its first frame).
pub fn from_image(bytes: &[u8]) -> Result<Images, ThumbnailError> {
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ThumbnailError::Image(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_ALLOC);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| ThumbnailError::Image(e.to_string()))?;
    images_of(&image)
}

fn images_of(image: &DynamicImage) -> Result<Images, ThumbnailError> {
    Ok(Images {
        thumbnail: jpeg(image, THUMBNAIL)?,
        preview: jpeg(image, PREVIEW)?,
    })
}

/// Crop to fill `size` (centred), resize, encode.
fn jpeg(image: &DynamicImage, (w, h): (u32, u32)) -> Result<Vec<u8>, ThumbnailError> {
    let filled = image.resize_to_fill(w, h, FilterType::Triangle).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&filled)
        .map_err(|e| ThumbnailError::Image(e.to_string()))?;
    Ok(out)
}

/// How much a picture shows: the spread of its luma (sampled). Black, white and flat frames
/// (fades, title cards in one colour) score near zero.
fn detail(p: &Picture) -> f64 {
    let samples: Vec<f64> = p.y.iter().step_by(7).map(|&v| f64::from(v)).collect();
    if samples.is_empty() {
        return 0.0;
    }
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let variance = samples.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    // A dark frame with a little noise still reads as black.
    if mean < 24.0 {
        return variance.sqrt() / 4.0;
    }
    variance.sqrt()
}

/// A stddev of luma above which a frame clearly shows something.
const ENOUGH_DETAIL: f64 = 20.0;

/// The first frame with enough detail near the candidate times, or else the most detailed seen.
fn representative(src: &mut Source) -> Result<Picture, ThumbnailError> {
    let trak = src.video.trak.clone();
    let total = src.video.samples.len();
    let mut best: Option<(f64, Picture)> = None;
    let mut tried_keyframes = Vec::new();
    for fraction in CANDIDATES {
        let target = ((total as f64 * fraction) as usize).min(total.saturating_sub(1));
        let Some(start) = (0..=target).rev().find(|&i| src.video.samples[i].sync) else {
            continue;
        };
        if tried_keyframes.contains(&start) {
            continue;
        }
        tried_keyframes.push(start);
        let mut decoder = VideoDecoder::for_track(&trak)?;
        // The keyframe itself is the candidate (decoding on to the exact time would cost up to a
        // GOP of frames); the frames after it are decoded only while the picture is flat.
        let end = total.min(start + MAX_FRAMES_PER_CANDIDATE);
        for i in start..end {
            let sample = src.video.samples[i];
            let bytes = src.read_sample(&sample)?;
            let Some(picture) = decoder.decode(&bytes)? else {
                continue;
            };
            let score = detail(&picture);
            if score >= ENOUGH_DETAIL {
                return Ok(picture);
            }
            // Keep looking a little further for the fade to end.
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, picture));
            }
        }
    }
    best.map(|(_, p)| p).ok_or(ThumbnailError::NoPicture)
}

/// Decode the keyframe at sample `index` alone (a keyframe needs no other picture).
pub fn decode_keyframe(src: &mut Source, index: usize) -> Result<Picture, ThumbnailError> {
    let mut decoder = VideoDecoder::for_track(&src.video.trak)?;
    let sample = *src
        .video
        .samples
        .get(index)
        .ok_or(ThumbnailError::NoPicture)?;
    let bytes = src.read_sample(&sample)?;
    decoder.decode(&bytes)?.ok_or(ThumbnailError::NoPicture)
}

/// YCbCr 4:2:0 to full-range RGB as players show an untagged picture: limited range, BT.709
/// coefficients from 720 lines up, BT.601 below.
pub fn to_rgb(p: &Picture) -> RgbImage {
    to_rgb_in(p, Colour::assumed(p.height as u32))
}

/// YCbCr 4:2:0 to full-range RGB with `colour`'s matrix and range (`media::colour`: the
/// source's, so a picture scaled down from an HD source keeps its BT.709).
pub fn to_rgb_in(p: &Picture, colour: Colour) -> RgbImage {
    let (kr, kb) = colour.luma_weights();
    let kg = 1.0 - kr - kb;
    // Limited range spans 219 luma and 224 chroma steps of the 255.
    let (luma_scale, chroma_scale, black) = match colour.full_range {
        true => (1.0, 1.0, 0.0),
        false => (255.0 / 219.0, 255.0 / 224.0, 16.0),
    };
    let rv = (2.0 * (1.0 - kr) * chroma_scale) as f32;
    let bu = (2.0 * (1.0 - kb) * chroma_scale) as f32;
    let gu = (2.0 * kb * (1.0 - kb) / kg * chroma_scale) as f32;
    let gv = (2.0 * kr * (1.0 - kr) / kg * chroma_scale) as f32;
    let (luma_scale, black) = (luma_scale as f32, black as f32);
    let chroma_width = p.width.div_ceil(2);
    let mut out = RgbImage::new(p.width as u32, p.height as u32);
    for (i, pixel) in out.pixels_mut().enumerate() {
        let (x, y) = (i % p.width, i / p.width);
        let c = (y / 2) * chroma_width + x / 2;
        let luma = luma_scale * (f32::from(p.y.get(i).copied().unwrap_or(16)) - black);
        let u = f32::from(p.u.get(c).copied().unwrap_or(128)) - 128.0;
        let v = f32::from(p.v.get(c).copied().unwrap_or(128)) - 128.0;
        let clamp = |x: f32| x.round().clamp(0.0, 255.0) as u8;
        pixel.0 = [
            clamp(luma + rv * v),
            clamp(luma - gu * u - gv * v),
            clamp(luma + bu * u),
        ];
    }
    out
}

/// `image` turned clockwise by `rotation` degrees (0, 90, 180 or 270), as a player shows it.
pub fn rotate(image: RgbImage, rotation: u16) -> RgbImage {
    match rotation {
        90 => image::imageops::rotate90(&image),
        180 => image::imageops::rotate180(&image),
        270 => image::imageops::rotate270(&image),
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PeerTube's clients send WebP thumbnails and GIF avatars (its /config lists both).
    #[test]
    fn webp_and_gif_images_are_read() {
        let picture = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(40, 30, |x, y| {
            image::Rgba([x as u8 * 6, y as u8 * 8, 90, 255])
        }));
        for format in [image::ImageFormat::WebP, image::ImageFormat::Gif] {
            let mut bytes = std::io::Cursor::new(Vec::new());
            picture.write_to(&mut bytes, format).unwrap();
            let images = from_image(bytes.get_ref()).unwrap();
            assert!(images.thumbnail.starts_with(&[0xff, 0xd8]), "{format:?}");
        }
    }

    fn flat(value: u8) -> Picture {
        Picture {
            width: 64,
            height: 36,
            y: vec![value; 64 * 36],
            u: vec![128; 32 * 18],
            v: vec![128; 32 * 18],
        }
    }

    #[test]
    fn black_and_flat_frames_have_no_detail() {
        assert!(detail(&flat(16)) < 1.0);
        assert!(detail(&flat(200)) < 1.0);
        let mut stripes = flat(16);
        for (i, y) in stripes.y.iter_mut().enumerate() {
            *y = if (i / 3) % 2 == 0 { 30 } else { 220 };
        }
        assert!(detail(&stripes) > ENOUGH_DETAIL);
    }

    #[test]
    fn grey_stays_grey_and_images_have_peertube_sizes() {
        let rgb = to_rgb(&flat(126));
        let p = rgb.get_pixel(10, 10).0;
        assert!(p.iter().all(|&c| (127..=129).contains(&c)), "{p:?}");
        let images = images_of(&DynamicImage::ImageRgb8(rgb)).unwrap();
        let thumb = image::load_from_memory(&images.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), THUMBNAIL);
        let preview = image::load_from_memory(&images.preview).unwrap();
        assert_eq!((preview.width(), preview.height()), PREVIEW);
    }

    #[test]
    fn the_source_colour_picks_matrix_and_range() {
        let red = |colour: Colour| {
            // BT.709 limited-range pure red: Y 63, Cb 102, Cr 240.
            let mut p = flat(63);
            p.u.fill(102);
            p.v.fill(240);
            to_rgb_in(&p, colour).get_pixel(0, 0).0
        };
        let bt709 = red(Colour::assumed(720));
        assert!(
            bt709[0] >= 253 && bt709[1] <= 2 && bt709[2] <= 2,
            "{bt709:?}"
        );
        let bt601 = red(Colour::assumed(480));
        assert!(
            bt601[0] < 240,
            "read with the other matrix, the red dulls: {bt601:?}"
        );
        let full = Colour {
            full_range: true,
            ..Colour::assumed(480)
        };
        assert_eq!(to_rgb_in(&flat(16), full).get_pixel(0, 0).0, [16, 16, 16]);
        assert_eq!(
            to_rgb(&flat(16)).get_pixel(0, 0).0,
            [0, 0, 0],
            "limited black"
        );
    }

    #[test]
    fn garbage_images_are_refused() {
        assert!(from_image(b"not an image at all").is_err());
        assert!(from_image(&[0xff, 0xd8, 0xff, 0xe0, 0, 0]).is_err());
    }
}
