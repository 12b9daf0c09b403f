//! Transcoding an upload into the AV1 ladder: which rungs it gets (`ladder`), its pictures in
//! presentation order (`frames`), scaled (`scale`), and one rung encoded and packaged
//! (`rendition`).

pub mod frames;
pub mod ladder;
pub mod rendition;
pub mod scale;
