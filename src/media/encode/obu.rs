//! Reading the OBUs (open bitstream units) of an AV1 temporal unit: enough to drop temporal
//! delimiters (an MP4 sample must not carry them, AV1-ISOBMFF §2.4) and to find the sequence
//! header that `av1C` repeats. Written by hand: it is a 1-byte header and a LEB128 size, and no
//! maintained crate exposes just that.

/// OBU types (AV1 spec §6.2.2).
const SEQUENCE_HEADER: u8 = 1;
const TEMPORAL_DELIMITER: u8 = 2;

/// One OBU: its type and its whole bytes (header included).
struct Obu<'a> {
    kind: u8,
    bytes: &'a [u8],
}

/// The OBUs of a temporal unit; stops at the first malformed one (an encoder bug, never input).
fn obus(mut data: &[u8]) -> impl Iterator<Item = Obu<'_>> {
    std::iter::from_fn(move || {
        let header = *data.first()?;
        let kind = (header >> 3) & 0xF;
        let has_extension = header & 0b100 != 0;
        let has_size = header & 0b10 != 0;
        let mut at = 1 + usize::from(has_extension);
        let payload = if has_size {
            let (size, used) = leb128(data.get(at..)?)?;
            at += used;
            usize::try_from(size).ok()?
        } else {
            // Without a size field the OBU runs to the end of the unit.
            data.len().checked_sub(at)?
        };
        let end = at.checked_add(payload)?;
        let bytes = data.get(..end)?;
        data = &data[end..];
        Some(Obu { kind, bytes })
    })
}

/// An unsigned LEB128 value and the bytes it took (at most 8, as the spec allows).
fn leb128(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in data.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The temporal unit without its temporal delimiter OBUs.
pub fn strip_temporal_delimiters(unit: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(unit.len());
    for obu in obus(unit) {
        if obu.kind != TEMPORAL_DELIMITER {
            out.extend_from_slice(obu.bytes);
        }
    }
    out
}

/// The sequence header OBU of a temporal unit, if it has one.
pub fn sequence_header(unit: &[u8]) -> Option<&[u8]> {
    obus(unit)
        .find(|o| o.kind == SEQUENCE_HEADER)
        .map(|o| o.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_go_and_the_sequence_header_is_found() {
        // TD (size 0), sequence header (size 2), frame (size 3).
        let unit = [0x12, 0x00, 0x0A, 0x02, 0xAA, 0xBB, 0x32, 0x03, 1, 2, 3];
        assert_eq!(
            strip_temporal_delimiters(&unit),
            [0x0A, 0x02, 0xAA, 0xBB, 0x32, 0x03, 1, 2, 3]
        );
        assert_eq!(sequence_header(&unit), Some(&[0x0A, 0x02, 0xAA, 0xBB][..]));
        assert_eq!(sequence_header(&[0x32, 0x01, 9]), None);
    }

    #[test]
    fn truncated_units_stop_cleanly() {
        assert!(strip_temporal_delimiters(&[0x0A, 0x05, 1]).is_empty());
        assert!(strip_temporal_delimiters(&[0x0A, 0xFF]).is_empty());
        assert_eq!(leb128(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(leb128(&[0x80; 9]), None);
    }
}
