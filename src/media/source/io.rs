//! Readers the parsers of uploads read through: `Budget`, which bounds how many reads and seeks
//! one parse may make, and `PastEnd`, which lets a parser seek past the end of the file as it
//! may in memory.

use std::io::{Read, Seek, SeekFrom};

/// Most reads and seeks one probe may make. Parsing real headers takes a few thousand; the budget
/// turns a parser stuck in a loop on hostile input into an error instead of a spinning thread.
/// (Found by fuzzing: matroska-demuxer 0.8.1 loops forever when a Segment starts with a CRC-32
/// element, re-reading the same position.)
pub const MAX_IO_OPS: u64 = 1_000_000;

/// A reader that fails once it has been read from or seeked its number of times.
pub(crate) struct Budget<R> {
    inner: R,
    ops_left: u64,
}

impl<R> Budget<R> {
    pub(crate) fn new(inner: R, ops: u64) -> Budget<R> {
        Budget {
            inner,
            ops_left: ops,
        }
    }

    fn spend(&mut self) -> std::io::Result<()> {
        match self.ops_left.checked_sub(1) {
            Some(left) => {
                self.ops_left = left;
                Ok(())
            }
            None => Err(std::io::Error::other(
                "the file could not be read in a bounded number of steps",
            )),
        }
    }
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.spend()?;
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Budget<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.spend()?;
        self.inner.seek(pos)
    }
}

/// A reader over `len` bytes on which a seek past the end succeeds and reads there return
/// nothing, as on an in-memory cursor.
///
/// Why: a live-style Matroska file (every browser recording, OBS) gives its Segment and
/// Clusters the 8-byte "unknown size" (`0x01FFFFFFFFFFFFFF`); matroska-demuxer 0.8.1 only knows
/// the 1-byte form, takes the 8-byte one for a size of 2^56 and seeks past it to the next
/// element, which the kernel refuses for a file (EINVAL) and the parse ends "can't find the
/// first cluster". Past the end, the demuxer sees the end of its input and goes on from the
/// elements it has, which is what those sizes mean.
pub(crate) struct PastEnd<R> {
    inner: R,
    len: u64,
    /// Where the reader is, which may be past `len`.
    at: u64,
}

impl<R: Seek> PastEnd<R> {
    pub(crate) fn new(mut inner: R, len: u64) -> std::io::Result<PastEnd<R>> {
        let at = inner.stream_position()?;
        Ok(PastEnd { inner, len, at })
    }
}

impl<R: Read> Read for PastEnd<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.len {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for PastEnd<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.at.checked_add_signed(d),
        }
        .ok_or_else(|| std::io::Error::other("a seek before the start of the file"))?;
        if target <= self.len {
            self.inner.seek(SeekFrom::Start(target))?;
        }
        self.at = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_end_is_the_end() {
        let mut r = PastEnd::new(std::io::Cursor::new(b"abcdef".to_vec()), 6).unwrap();
        assert_eq!(r.seek(SeekFrom::Start(1 << 56)).unwrap(), 1 << 56);
        let mut buf = [0u8; 4];
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert_eq!(r.seek(SeekFrom::Start(2)).unwrap(), 2);
        assert_eq!(r.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf, b"cdef");
        assert!(r.seek(SeekFrom::Current(-100)).is_err());
    }

    #[test]
    fn a_budget_runs_out() {
        let mut r = Budget::new(std::io::Cursor::new(vec![0u8; 16]), 2);
        let mut buf = [0u8; 1];
        assert!(r.read(&mut buf).is_ok());
        assert!(r.seek(SeekFrom::Start(0)).is_ok());
        assert!(r.read(&mut buf).is_err());
    }
}
