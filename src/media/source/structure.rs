//! The shape of an upload's container checked before a recursive parser reads it: how deep its
//! boxes or elements nest, whether each fits in its parent, and a few fields known to drive a
//! parser into a loop. Both walks here are iterative (an explicit stack), so no input can make
//! them overflow the stack; they refuse what `mp4-atom` and `matroska-demuxer` would recurse into
//! too deeply (a `moov` wrapped in 1 000 more `moov` boxes overflowed a thread's stack).
//!
//! These catch the known shapes with a clear message; the probe also runs in a child process
//! (`media::inspect`), where anything missed costs the child, not the server.

use std::io::{Read, Seek, SeekFrom};

/// Deepest nesting accepted. Real MP4s nest about ten deep (moov/trak/mdia/minf/stbl/stsd/
/// avc1/…); Matroska's deepest standard path (Tags/Tag/SimpleTag/SimpleTag) is far less.
pub const MAX_DEPTH: usize = 16;

/// Why a container's shape was refused (a sentence for the uploader).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShapeError(pub String);

fn refuse(what: impl Into<String>) -> ShapeError {
    ShapeError(what.into())
}

/// A box type as people read it: its four letters, or its bytes in hex when they are not
/// printable (an unknown type used to show as four NUL characters).
pub fn box_name(kind: [u8; 4]) -> String {
    if kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("'{}'", String::from_utf8_lossy(&kind))
    } else {
        format!("0x{:08x}", u32::from_be_bytes(kind))
    }
}

/// Where the children of an MP4 box start in its payload, for the boxes `mp4-atom` decodes
/// children of; `None` for a leaf (or a box whose children it does not decode).
fn children_at(kind: &[u8; 4], payload: &[u8]) -> Result<Option<usize>, ShapeError> {
    Ok(match kind {
        b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"dinf" | b"edts" | b"mvex" | b"moof"
        | b"traf" | b"mfra" | b"iprp" | b"ipco" | b"udta" => Some(0),
        // A full box (version and flags first), except QuickTime's, which starts with `hdlr`.
        b"meta" => Some(if payload.get(4..8) == Some(b"hdlr") {
            0
        } else {
            4
        }),
        // Version, flags and an entry count.
        b"stsd" => Some(8),
        b"avc1" | b"avc3" | b"hev1" | b"hvc1" | b"vp08" | b"vp09" | b"av01" | b"jpeg" => Some(78),
        b"mp4a" | b"Opus" | b"fLaC" | b"ac-3" | b"ec-3" | b".mp3" | b"samr" | b"sowt" | b"twos"
        | b"lpcm" | b"ipcm" | b"fpcm" | b"in24" | b"in32" | b"fl32" | b"fl64" | b"s16l" => {
            let version = payload.get(8..10).map(|v| u16::from_be_bytes([v[0], v[1]]));
            match version {
                Some(0) => Some(28),
                Some(1) => Some(44),
                Some(2) => Some(64),
                _ => return Err(refuse("an audio description of an unknown version")),
            }
        }
        _ => None,
    })
}

/// A box header at the start of `data`: its type, header length and total size (a size of 0
/// runs to the end of `data`).
fn box_header(data: &[u8]) -> Result<([u8; 4], usize, usize), ShapeError> {
    let (Some(size), Some(kind)) = (data.get(..4), data.get(4..8)) else {
        return Err(refuse("a box is cut off"));
    };
    let kind: [u8; 4] = [kind[0], kind[1], kind[2], kind[3]];
    let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]);
    let (header, size) = match size {
        0 => (8, data.len() as u64),
        1 => {
            let large = data.get(8..16).ok_or_else(|| refuse("a box is cut off"))?;
            let mut b = [0u8; 8];
            b.copy_from_slice(large);
            (16, u64::from_be_bytes(b))
        }
        n => (8, u64::from(n)),
    };
    if size < header as u64 || size > data.len() as u64 {
        return Err(refuse(format!(
            "the {} box does not fit in the box around it",
            box_name(kind)
        )));
    }
    Ok((kind, header, size as usize))
}

/// Check the tree of boxes in `body` (the payload of a `moov`, which is depth 1).
pub fn check_mp4_boxes(body: &[u8]) -> Result<(), ShapeError> {
    // (start, end, depth of the boxes there)
    let mut stack = vec![(0usize, body.len(), 2usize)];
    while let Some((start, end, depth)) = stack.pop() {
        if start >= end {
            continue;
        }
        let (kind, header, size) = box_header(&body[start..end])?;
        let payload = &body[start + header..start + size];
        // The boxes after this one, at the same depth.
        stack.push((start + size, end, depth));
        if &kind == b"sgpd" {
            check_sgpd(payload)?;
        }
        if let Some(at) = children_at(&kind, payload)? {
            if depth >= MAX_DEPTH {
                return Err(refuse(format!(
                    "its boxes nest more than {MAX_DEPTH} deep (the {} box)",
                    box_name(kind)
                )));
            }
            let from = start + header + at.min(payload.len());
            stack.push((from, start + size, depth + 1));
        }
    }
    Ok(())
}

/// A version 0 `sgpd` of a grouping type mp4-atom does not know gives its first entry every
/// remaining byte and every further entry none, so a 20-byte box claiming 10^8 entries built
/// 10^8 of them (and 2^32 aborted on a 5 GB allocation). One entry is all such a box can hold.
fn check_sgpd(payload: &[u8]) -> Result<(), ShapeError> {
    let (Some(&version), Some(grouping), Some(count)) =
        (payload.first(), payload.get(4..8), payload.get(8..12))
    else {
        return Ok(());
    };
    let count = u32::from_be_bytes([count[0], count[1], count[2], count[3]]);
    if version == 0 && grouping != b"refs" && count > 1 {
        return Err(refuse(
            "a sample group description ('sgpd') claims more entries than it holds",
        ));
    }
    Ok(())
}

/// Matroska element IDs the walk needs by name.
mod ebml_id {
    pub const EBML: u32 = 0x1A45_DFA3;
    pub const SEGMENT: u32 = 0x1853_8067;
    pub const CLUSTER: u32 = 0x1F43_B675;
    pub const SIMPLE_BLOCK: u32 = 0xA3;
    pub const BLOCK_GROUP: u32 = 0xA0;
    /// Level-1 elements: an unknown-size Cluster ends where one of these (or a Segment) starts.
    pub const TOP: [u32; 8] = [
        0x114D_9B74, // SeekHead
        0x1549_A966, // Info
        0x1654_AE6B, // Tracks
        CLUSTER,
        0x1C53_BB6B, // Cues
        0x1043_A770, // Chapters
        0x1941_A469, // Attachments
        0x1254_C367, // Tags
    ];
    /// Master elements (their data is more elements) that matroska-demuxer reads as trees.
    pub const MASTERS: [u32; 22] = [
        0x114D_9B74, // SeekHead
        0x4DBB,      // Seek
        0x1549_A966, // Info
        0x1654_AE6B, // Tracks
        0xAE,        // TrackEntry
        0xE0,        // Video
        0x55B0,      // Colour
        0x55D0,      // MasteringMetadata
        0xE1,        // Audio
        0x6D80,      // ContentEncodings
        0x6240,      // ContentEncoding
        0x1C53_BB6B, // Cues
        0xBB,        // CuePoint
        0xB7,        // CueTrackPositions
        0x1043_A770, // Chapters
        0x45B9,      // EditionEntry
        0xB6,        // ChapterAtom
        0x1254_C367, // Tags
        0x7373,      // Tag
        0x63C0,      // Targets
        0x67C8,      // SimpleTag
        0x1941_A469, // Attachments
    ];
}

/// One element header: its ID, the length of ID and size, and its data size (`None`: unknown).
struct Element {
    id: u32,
    header: u64,
    size: Option<u64>,
}

/// Read a variable-length integer (1 to 8 bytes); `keep_marker` keeps the length bit (IDs).
fn read_vint(r: &mut impl Read, keep_marker: bool) -> std::io::Result<Option<(u64, u64)>> {
    let mut first = [0u8; 1];
    if r.read(&mut first)? == 0 {
        return Ok(None);
    }
    let len = first[0].leading_zeros() as u64 + 1;
    if len > 8 {
        return Err(std::io::Error::other("an element header is invalid"));
    }
    // The bits after the length marker (none in an 8-byte integer's first byte).
    let mask = 0xFFu8.checked_shr(len as u32).unwrap_or(0);
    let mut value = u64::from(if keep_marker {
        first[0]
    } else {
        first[0] & mask
    });
    let mut all_ones = first[0] & mask == mask;
    for _ in 1..len {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        all_ones &= b[0] == 0xFF;
        value = value << 8 | u64::from(b[0]);
    }
    // A size whose bits are all ones is "unknown".
    if !keep_marker && all_ones {
        return Ok(Some((u64::MAX, len)));
    }
    Ok(Some((value, len)))
}

fn read_element(r: &mut impl Read) -> std::io::Result<Option<Element>> {
    let Some((id, id_len)) = read_vint(r, true)? else {
        return Ok(None);
    };
    if id_len > 4 {
        return Err(std::io::Error::other("an element ID is invalid"));
    }
    let (size, size_len) =
        read_vint(r, false)?.ok_or_else(|| std::io::Error::other("an element is cut off"))?;
    Ok(Some(Element {
        id: id as u32,
        header: id_len + size_len,
        size: (size != u64::MAX).then_some(size),
    }))
}

/// A master element being walked: where it ends, how deep it is, and whether it is a Cluster
/// of unknown size (which ends where the next top-level element starts).
#[derive(Clone, Copy)]
struct Parent {
    end: u64,
    depth: usize,
    open_cluster: bool,
}

/// Check a Matroska file's elements: master elements nest at most `MAX_DEPTH` deep, fit in
/// their parents, only a Segment or Cluster has an unknown size (a live recording's), and no
/// block is larger than a frame may be (`sanity::MAX_SAMPLE_BYTES`). Block data is skipped, not
/// read.
pub fn check_ebml<R: Read + Seek>(r: &mut R, len: u64) -> Result<(), ShapeError> {
    let io = |e: std::io::Error| refuse(format!("its elements cannot be read: {e}"));
    let root = Parent {
        end: len,
        depth: 0,
        open_cluster: false,
    };
    let mut parents = vec![root];
    let mut at = 0u64;
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    while at < len {
        while parents.len() > 1 && parents.last().is_some_and(|p| at >= p.end) {
            parents.pop();
        }
        let Some(e) = read_element(r).map_err(io)? else {
            break;
        };
        if ebml_id::TOP.contains(&e.id) && parents.last().is_some_and(|p| p.open_cluster) {
            // A top-level element ends the unknown-size Cluster it follows.
            parents.pop();
        }
        let parent = parents.last().copied().unwrap_or(root);
        let depth = parent.depth + 1;
        let data = at + e.header;
        let end = match e.size {
            Some(size) => data
                .checked_add(size)
                .filter(|end| *end <= parent.end)
                .ok_or_else(|| refuse("an element runs past the one around it"))?,
            None if matches!(e.id, ebml_id::SEGMENT | ebml_id::CLUSTER) => parent.end,
            None => {
                return Err(refuse(format!(
                    "element {:#x} has an unknown size, which only a Segment or Cluster may have",
                    e.id
                )));
            }
        };
        if matches!(e.id, ebml_id::SIMPLE_BLOCK | ebml_id::BLOCK_GROUP)
            && e.size
                .is_some_and(|size| size > super::sanity::MAX_SAMPLE_BYTES + 1024)
        {
            return Err(refuse(format!(
                "a block is larger than the {} bytes a frame may have",
                super::sanity::MAX_SAMPLE_BYTES
            )));
        }
        let open_cluster = e.id == ebml_id::CLUSTER && e.size.is_none();
        // Clusters are walked too (their blocks' headers read, their data skipped), so that no
        // block is larger than a frame may be.
        let descend = matches!(e.id, ebml_id::SEGMENT | ebml_id::EBML | ebml_id::CLUSTER)
            || ebml_id::MASTERS.contains(&e.id);
        if descend {
            if depth > MAX_DEPTH {
                return Err(refuse(format!(
                    "its elements nest more than {MAX_DEPTH} deep"
                )));
            }
            parents.push(Parent {
                end,
                depth,
                open_cluster,
            });
            at = data;
        } else {
            // A leaf or a BlockGroup: skipped whole.
            at = end;
            r.seek(SeekFrom::Start(at)).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    fn nested_moov(levels: usize) -> Vec<u8> {
        let mut inner = boxed(b"mvhd", &[0; 100]);
        for _ in 0..levels {
            inner = boxed(b"moov", &inner);
        }
        inner
    }

    /// At the limit and far past it: refused cleanly, never by a stack overflow.
    #[test]
    fn mp4_nesting_is_bounded() {
        // The payload of an outer moov (depth 1) holding `n` nested moovs: depth n + 1.
        assert!(check_mp4_boxes(&nested_moov(MAX_DEPTH - 2)).is_ok());
        let e = check_mp4_boxes(&nested_moov(MAX_DEPTH - 1)).unwrap_err();
        assert!(e.0.contains("nest more than 16"), "{e}");
        for levels in [1_000, 100_000] {
            assert!(check_mp4_boxes(&nested_moov(levels)).is_err());
        }
    }

    #[test]
    fn mp4_boxes_must_fit_and_names_are_readable() {
        let mut b = boxed(b"trak", &boxed(b"tkhd", &[0; 20]));
        b[3] = 200; // the trak claims more than there is
        assert!(check_mp4_boxes(&b).unwrap_err().0.contains("'trak'"));
        assert_eq!(box_name([0, 0, 0, 0]), "0x00000000");
        assert_eq!(box_name(*b"udta"), "'udta'");
        let mut sgpd = vec![0u8; 4];
        sgpd.extend_from_slice(b"roll");
        sgpd.extend_from_slice(&100_000_000u32.to_be_bytes());
        assert!(check_mp4_boxes(&boxed(b"sgpd", &sgpd)).is_err());
        sgpd[8..12].copy_from_slice(&1u32.to_be_bytes());
        assert!(check_mp4_boxes(&boxed(b"sgpd", &sgpd)).is_ok());
    }

    fn element(id: &[u8], data: &[u8]) -> Vec<u8> {
        let mut e = id.to_vec();
        e.push(0x01);
        e.extend_from_slice(&(data.len() as u64).to_be_bytes()[1..]);
        e.extend_from_slice(data);
        e
    }

    fn unknown(id: &[u8], data: &[u8]) -> Vec<u8> {
        let mut e = id.to_vec();
        e.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        e.extend_from_slice(data);
        e
    }

    const SIMPLE_TAG: &[u8] = &[0x67, 0xC8];
    const SEGMENT: &[u8] = &[0x18, 0x53, 0x80, 0x67];
    const CLUSTER: &[u8] = &[0x1F, 0x43, 0xB6, 0x75];

    fn tags(levels: usize) -> Vec<u8> {
        let mut inner = element(&[0x45, 0xA3], b"name");
        for _ in 0..levels {
            inner = element(SIMPLE_TAG, &inner);
        }
        let tag = element(&[0x73, 0x73], &inner);
        element(SEGMENT, &element(&[0x12, 0x54, 0xC3, 0x67], &tag))
    }

    #[test]
    fn ebml_nesting_is_bounded() {
        let check = |b: Vec<u8>| {
            let len = b.len() as u64;
            check_ebml(&mut std::io::Cursor::new(b), len)
        };
        // Segment 1, Tags 2, Tag 3, then the SimpleTags.
        assert!(check(tags(MAX_DEPTH - 3)).is_ok());
        assert!(check(tags(MAX_DEPTH - 2)).is_err());
        assert!(check(tags(5_000)).is_err());
    }

    /// A live recording's shape: unknown-size Segment and Clusters, blocks inside.
    #[test]
    fn live_recordings_pass_and_other_unknown_sizes_do_not() {
        let block = element(&[0xA3], &[0x81, 0, 0, 0x80, 1, 2, 3]);
        let cluster = unknown(CLUSTER, &[element(&[0xE7], &[0]), block.clone()].concat());
        let body = [
            element(
                &[0x15, 0x49, 0xA9, 0x66],
                &element(&[0x2A, 0xD7, 0xB1], &[1]),
            ),
            cluster.clone(),
            cluster,
        ]
        .concat();
        let file = unknown(SEGMENT, &body);
        let len = file.len() as u64;
        assert!(check_ebml(&mut std::io::Cursor::new(file), len).is_ok());
        let bad = unknown(SEGMENT, &unknown(&[0x16, 0x54, 0xAE, 0x6B], &block));
        let len = bad.len() as u64;
        assert!(check_ebml(&mut std::io::Cursor::new(bad), len).is_err());
    }
}
