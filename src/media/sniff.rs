//! Container recognition from the first bytes of a file, before anything is stored as a video:
//! ISO-BMFF (MP4, MOV, M4V) starts with a box whose type is one of a few known ones; Matroska and
//! WebM start with the EBML magic number.

/// The container families Vireo accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// MP4, MOV, M4V (ISO base media file format and QuickTime).
    IsoBmff,
    /// Matroska and WebM.
    Matroska,
}

impl Container {
    pub fn extension(self) -> &'static str {
        match self {
            Container::IsoBmff => "mp4",
            Container::Matroska => "mkv",
        }
    }
}

/// Bytes needed to decide.
pub const SNIFF_LEN: usize = 12;

/// Box types a QuickTime or MP4 file may start with.
const FIRST_BOXES: &[&[u8; 4]] = &[
    b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot",
];

/// Recognise the container from the file's first bytes; `None` when it is neither.
pub fn sniff(head: &[u8]) -> Option<Container> {
    if head.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        return Some(Container::Matroska);
    }
    let size = head
        .get(0..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))?;
    let kind = head.get(4..8)?;
    // A box is at least its 8-byte header; size 1 means a 64-bit size follows.
    let plausible = size == 1 || size >= 8;
    (plausible && FIRST_BOXES.iter().any(|b| b.as_slice() == kind)).then_some(Container::IsoBmff)
}

/// The reason given to an uploader whose file is not a recognised container.
pub const NOT_A_VIDEO: &str =
    "This file is not a supported video: Vireo accepts MP4, MOV, MKV and WebM files";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_real_files_and_refuses_others() {
        let mp4 = std::fs::read("../shared/fixtures/media/bikes.mp4").unwrap();
        assert_eq!(sniff(&mp4), Some(Container::IsoBmff));
        assert_eq!(
            sniff(&[0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]),
            Some(Container::Matroska)
        );
        assert_eq!(sniff(b"GIF89a......"), None);
        assert_eq!(sniff(b"\\x00\\x00\\x00\\x04ftypisom"), None);
        assert_eq!(
            sniff(&[0, 0, 0, 4, b'f', b't', b'y', b'p']),
            None,
            "box smaller than its header"
        );
        assert_eq!(sniff(b"abc"), None);
        assert_eq!(sniff(&[]), None);
    }
}
