//! Scaling a 4:2:0 picture to a rendition's size: each plane resized on its own by
//! fast_image_resize (Lanczos3; `../shared/research/video-pipeline.md` §3, compiled in
//! `vireo-codec`), with the resizer kept between frames.

use vireo_codec::scale::PlaneScaler;

use crate::media::decode::Picture;

#[derive(Debug, thiserror::Error)]
#[error("scaling a picture: {0}")]
pub struct ScaleError(String);

/// Scales pictures to one size.
pub struct Scaler {
    planes: PlaneScaler,
    width: usize,
    height: usize,
}

impl std::fmt::Debug for Scaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scaler")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

impl Scaler {
    pub fn new(width: usize, height: usize) -> Scaler {
        Scaler {
            planes: PlaneScaler::default(),
            width,
            height,
        }
    }

    /// `picture` at this scaler's size (a copy when it already is).
    pub fn scale(&mut self, picture: &Picture) -> Result<Picture, ScaleError> {
        if picture.width == self.width && picture.height == self.height {
            return Ok(picture.clone());
        }
        let (sw, sh) = (picture.width, picture.height);
        let (dw, dh) = (self.width, self.height);
        Ok(Picture {
            width: dw,
            height: dh,
            y: self.plane(&picture.y, (sw, sh), (dw, dh))?,
            u: self.plane(
                &picture.u,
                (sw.div_ceil(2), sh.div_ceil(2)),
                (dw.div_ceil(2), dh.div_ceil(2)),
            )?,
            v: self.plane(
                &picture.v,
                (sw.div_ceil(2), sh.div_ceil(2)),
                (dw.div_ceil(2), dh.div_ceil(2)),
            )?,
        })
    }

    fn plane(
        &mut self,
        data: &[u8],
        (sw, sh): (usize, usize),
        (dw, dh): (usize, usize),
    ) -> Result<Vec<u8>, ScaleError> {
        let dim = |v: usize| u32::try_from(v).map_err(|_| ScaleError("picture too large".into()));
        self.planes
            .resize(data, (dim(sw)?, dim(sh)?), (dim(dw)?, dim(dh)?))
            .map_err(ScaleError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_pictures_stay_flat_at_every_size() {
        let (w, h) = (64, 36);
        let flat = Picture {
            width: w,
            height: h,
            y: vec![100; w * h],
            u: vec![60; (w / 2) * (h / 2)],
            v: vec![200; (w / 2) * (h / 2)],
        };
        let mut scaler = Scaler::new(32, 18);
        let small = scaler.scale(&flat).unwrap();
        assert_eq!((small.width, small.height), (32, 18));
        assert_eq!(small.y, vec![100; 32 * 18]);
        assert_eq!(small.u, vec![60; 16 * 9]);
        assert_eq!(small.v, vec![200; 16 * 9]);
        assert_eq!(Scaler::new(w, h).scale(&flat).unwrap(), flat);
    }
}
