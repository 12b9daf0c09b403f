//! Storyboards as PeerTube makes them: one JPEG grid of small frames ("sprites"), one every
//! `sprite_duration` seconds, that a player shows above its seek bar. The layout follows
//! PeerTube's so its clients read ours: sprites 192 px on their longer side, at most 11 × 11,
//! at least one second apart, none for a video under 3 s.
//!
//! The sprites are taken from pictures a transcode decodes anyway (`Collector::offer`), so a
//! storyboard costs a scale and a paste per sprite, not a decode.

use image::RgbImage;

use super::colour::Colour;
use super::decode::Picture;
use super::thumbnail::{rotate, to_rgb_in};
use super::transcode::scale::{ScaleError, Scaler};

/// Longer side of a sprite, in pixels.
const SPRITE_MAX_SIDE: u32 = 192;
/// Most sprites on either side of the grid.
const MAX_EDGE: u32 = 11;
/// Shortest video with a storyboard, in seconds.
const MIN_DURATION: u64 = 3;
const QUALITY: u8 = 80;

#[derive(Debug, thiserror::Error)]
pub enum StoryboardError {
    #[error(transparent)]
    Scale(#[from] ScaleError),
    #[error("encoding the storyboard: {0}")]
    Jpeg(String),
}

/// The layout of one video's storyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub sprite_width: u32,
    pub sprite_height: u32,
    /// Seconds between two sprites.
    pub sprite_duration: u32,
    pub sprites: u32,
    pub columns: u32,
    pub rows: u32,
}

impl Plan {
    /// The layout for a video of `duration` seconds shown at `width × height` (rotation
    /// applied), or `None` when it is too short for one.
    pub fn for_video(duration: u64, width: u32, height: u32) -> Option<Plan> {
        if duration < MIN_DURATION || width == 0 || height == 0 {
            return None;
        }
        let ratio = f64::from(width) / f64::from(height);
        let (sprite_width, sprite_height) = if height > width {
            (
                (f64::from(SPRITE_MAX_SIDE) * ratio).round() as u32,
                SPRITE_MAX_SIDE,
            )
        } else {
            (
                SPRITE_MAX_SIDE,
                (f64::from(SPRITE_MAX_SIDE) / ratio).round() as u32,
            )
        };
        let most = duration.min(u64::from(MAX_EDGE * MAX_EDGE));
        let sprite_duration = duration.div_ceil(most);
        let sprites = duration.div_ceil(sprite_duration) as u32;
        let (columns, rows) = grid(sprites)?;
        Some(Plan {
            sprite_width: sprite_width.max(2),
            sprite_height: sprite_height.max(2),
            sprite_duration: sprite_duration as u32,
            sprites,
            columns,
            rows,
        })
    }

    pub fn total_width(&self) -> u32 {
        self.columns * self.sprite_width
    }

    pub fn total_height(&self) -> u32 {
        self.rows * self.sprite_height
    }
}

/// The squarest grid (fewest rows, then fewest columns) that holds `sprites`.
fn grid(sprites: u32) -> Option<(u32, u32)> {
    (1..=MAX_EDGE)
        .flat_map(|rows| (rows..=MAX_EDGE).map(move |columns| (columns, rows)))
        .find(|(columns, rows)| sprites <= columns * rows)
}

/// Builds a storyboard from pictures offered in presentation order.
pub struct Collector {
    plan: Plan,
    rotation: u16,
    colour: Colour,
    scaler: Scaler,
    canvas: RgbImage,
    /// The next sprite to fill.
    next: u32,
}

impl Collector {
    /// `rotation` turns the pictures as they are shown; `colour` is the source's (sprites are
    /// scaled down from it, so they keep its matrix).
    pub fn new(plan: Plan, rotation: u16, colour: Colour) -> Collector {
        // Pictures are scaled before they are turned: a quarter turn swaps the sides.
        let (w, h) = match rotation % 180 {
            90 => (plan.sprite_height, plan.sprite_width),
            _ => (plan.sprite_width, plan.sprite_height),
        };
        Collector {
            plan,
            rotation,
            colour,
            scaler: Scaler::new(w as usize, h as usize),
            canvas: RgbImage::new(plan.total_width(), plan.total_height()),
            next: 0,
        }
    }

    /// Offer a picture shown `secs` after the video's start: it becomes every sprite whose time
    /// it reaches (a gap in a variable-rate video repeats the picture, as a player would show
    /// it).
    pub fn offer(&mut self, picture: &Picture, secs: f64) -> Result<(), StoryboardError> {
        let due = |n: u32| f64::from(n * self.plan.sprite_duration) <= secs + 1e-6;
        if self.next >= self.plan.sprites || !due(self.next) {
            return Ok(());
        }
        let scaled = self.scaler.scale(picture)?;
        let sprite = rotate(to_rgb_in(&scaled, self.colour), self.rotation);
        while self.next < self.plan.sprites && due(self.next) {
            let (column, row) = (self.next % self.plan.columns, self.next / self.plan.columns);
            image::imageops::replace(
                &mut self.canvas,
                &sprite,
                i64::from(column * self.plan.sprite_width),
                i64::from(row * self.plan.sprite_height),
            );
            self.next += 1;
        }
        Ok(())
    }

    /// The storyboard as a JPEG. Sprites no picture reached (a stream that ends early) stay
    /// black.
    pub fn finish(self) -> Result<(Plan, Vec<u8>), StoryboardError> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
            .encode_image(&self.canvas)
            .map_err(|e| StoryboardError::Jpeg(e.to_string()))?;
        Ok((self.plan, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_peertube() {
        assert_eq!(Plan::for_video(2, 1280, 720), None, "too short");
        let p = Plan::for_video(10, 1280, 720).unwrap();
        assert_eq!(
            (
                p.sprite_width,
                p.sprite_height,
                p.sprite_duration,
                p.sprites
            ),
            (192, 108, 1, 10)
        );
        assert_eq!((p.columns, p.rows), (10, 1), "one row when it fits");
        let long = Plan::for_video(3600, 1280, 720).unwrap();
        assert_eq!((long.sprite_duration, long.sprites), (30, 120));
        assert_eq!((long.columns, long.rows), (11, 11));
        let portrait = Plan::for_video(60, 1080, 1920).unwrap();
        assert_eq!((portrait.sprite_width, portrait.sprite_height), (108, 192));
        assert_eq!(portrait.sprites, 60);
        assert_eq!(
            (portrait.columns, portrait.rows),
            (10, 6),
            "fewest rows first"
        );
    }

    fn grey(value: u8, width: usize, height: usize) -> Picture {
        Picture {
            width,
            height,
            y: vec![value; width * height],
            u: vec![128; width.div_ceil(2) * height.div_ceil(2)],
            v: vec![128; width.div_ceil(2) * height.div_ceil(2)],
        }
    }

    #[test]
    fn pictures_land_in_their_cells_and_gaps_repeat_the_last() {
        let plan = Plan::for_video(4, 320, 180).unwrap();
        assert_eq!((plan.sprites, plan.columns, plan.rows), (4, 4, 1));
        let mut c = Collector::new(plan, 0, Colour::assumed(180));
        // 0 s dark, 1 s (and, with no picture in between, 2 s) light, 3 s mid-grey.
        c.offer(&grey(30, 320, 180), 0.0).unwrap();
        c.offer(&grey(30, 320, 180), 0.5).unwrap();
        c.offer(&grey(220, 320, 180), 2.1).unwrap();
        c.offer(&grey(128, 320, 180), 3.0).unwrap();
        let (plan, jpeg) = c.finish().unwrap();
        let image = image::load_from_memory(&jpeg).unwrap().to_luma8();
        assert_eq!((image.width(), image.height()), (plan.total_width(), 108));
        let at = |cell: u32| image.get_pixel(cell * 192 + 96, 54).0[0];
        assert!(at(0) < 40, "{}", at(0));
        assert!(at(1) > 200 && at(2) > 200, "{} {}", at(1), at(2));
        assert!((110..150).contains(&at(3)), "{}", at(3));
    }

    #[test]
    fn rotated_pictures_are_turned() {
        let plan = Plan::for_video(3, 180, 320).unwrap();
        let mut c = Collector::new(plan, 90, Colour::assumed(180));
        // Coded landscape, shown portrait: offered as coded.
        c.offer(&grey(128, 320, 180), 0.0).unwrap();
        let (plan, jpeg) = c.finish().unwrap();
        let image = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((plan.sprite_width, plan.sprite_height), (108, 192));
        assert_eq!(image.width(), plan.total_width());
    }
}
