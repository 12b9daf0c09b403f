//! Vireo's media kernels, compiled here rather than in `vireo`. rav1e, fast_image_resize and
//! rubato are generic (and `#[inline]`) throughout, so their hot code is compiled in whichever crate
//! instantiates it: from `vireo` itself a dev build compiled it unoptimised (rav1e 2 fps at
//! 320×180, scaling most of a transcode's time). This crate instantiates them once, behind
//! non-generic APIs, and the workspace's `Cargo.toml` gives it `opt-level = 3` in dev and test
//! builds.

pub mod av1;
pub mod resample;
pub mod scale;
