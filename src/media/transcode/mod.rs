//! Transcoding an upload into the AV1 ladder: which rungs it gets (`ladder`), its pictures in
//! presentation order (`frames`) at a constant frame rate (`cadence`), scaled (`scale`), and
//! the rungs encoded and packaged (`rendition`), each rung's finished GOPs kept across restarts
//! (`checkpoint`).

pub mod cadence;
pub mod checkpoint;
pub mod frames;
pub mod ladder;
pub mod rendition;
pub mod scale;
