//! Transcoding an upload into the AV1 ladder: which rungs it gets (`ladder`), its pictures in
//! presentation order (`frames`) at a constant frame rate (`cadence`), scaled (`scale`), and
//! the rungs encoded and packaged (`rendition`).

pub mod cadence;
pub mod frames;
pub mod ladder;
pub mod rendition;
pub mod scale;
