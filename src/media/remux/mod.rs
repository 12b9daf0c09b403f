//! Remuxing without re-encoding: an upload whose streams browsers already play (H.264 or AV1 video
//! with AAC, MP3, Opus or no audio) is copied sample by sample from its `source::Source` into the
//! files Vireo serves: `fragmented` (HLS fragmented MP4), `progressive` (fast-start MP4 for
//! download and web videos) and `playlist` (HLS playlists). The transcoder's rungs are packaged
//! by the same writers.

pub mod fragmented;
pub mod playlist;
pub mod progressive;

pub use fragmented::{Rendition, Segment};
