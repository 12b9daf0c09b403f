//! Encoding: the AV1 encoder of the transcoding ladder (`av1`), the OBU reading its MP4
//! packaging needs (`obu`), and the H.264 encoder of the compatibility rendition (`h264`).

pub mod av1;
pub mod h264;
pub mod obu;
