//! Encoding: the AV1 encoder of the transcoding ladder (`av1`) and the OBU reading its MP4
//! packaging needs (`obu`).

pub mod av1;
pub mod obu;
