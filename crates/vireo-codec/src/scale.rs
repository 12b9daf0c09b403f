//! One 8-bit plane resized with fast_image_resize (Lanczos3), the resizer kept between calls.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// Resizes 8-bit planes.
pub struct PlaneScaler {
    resizer: Resizer,
    options: ResizeOptions,
}

impl std::fmt::Debug for PlaneScaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaneScaler").finish_non_exhaustive()
    }
}

impl Default for PlaneScaler {
    fn default() -> Self {
        PlaneScaler {
            resizer: Resizer::new(),
            options: ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        }
    }
}

impl PlaneScaler {
    /// `data` (`sw × sh`, no padding) resized to `dw × dh`.
    pub fn resize(
        &mut self,
        data: &[u8],
        (sw, sh): (u32, u32),
        (dw, dh): (u32, u32),
    ) -> Result<Vec<u8>, String> {
        let src = ImageRef::new(sw, sh, data, PixelType::U8).map_err(|e| e.to_string())?;
        let mut dst = Image::new(dw, dh, PixelType::U8);
        self.resizer
            .resize(&src, &mut dst, &self.options)
            .map_err(|e| e.to_string())?;
        Ok(dst.into_vec())
    }
}
