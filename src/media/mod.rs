//! How an upload becomes something every browser plays: container recognition now; probing,
//! demuxing, decoding, encoding and packaging join here as the pipeline grows.

pub mod audio;
pub mod child;
pub mod colour;
pub mod decode;
pub mod encode;
pub mod fuzz;
pub mod inspect;
pub mod interrupt;
pub mod probe;
pub mod remux;
pub mod sniff;
pub mod source;
pub mod storyboard;
pub mod thumbnail;
pub mod torrent;
pub mod transcode;
pub mod verify;
