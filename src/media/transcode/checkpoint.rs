//! A rung's encode kept across a stop or a crash, one GOP at a time, so that a restarted job
//! does not encode again what it had finished.
//!
//! Beside a rung's scratch file (its encoded samples, `rendition::encode_rung`), an index file
//! gets one line per finished GOP with that GOP's samples. The scratch's bytes are flushed to
//! disk before their line is written, so a line never points at bytes that may be lost; a line
//! cut short by a crash is ignored. The first line names the settings the samples were encoded
//! with: samples from other settings are encoded again. GOPs start with a keyframe and the
//! ladder's GOPs are fixed, so a resumed encoder that starts at the next GOP's first frame
//! continues the stream on the same keyframe grid (its first frame is a keyframe anyway).
//!
//! Why a text file written by hand: it is a few numbers per sample, appended line by line, and
//! must survive being cut anywhere; a database or a serde format would add nothing here.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::media::source::samples::Sample;

const MAGIC: &str = "vireo-rung-checkpoint 1";

/// What a rung's earlier encode left: its finished GOPs' samples (offsets into the scratch
/// file, which is valid up to `end`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resumed {
    pub samples: Vec<Sample>,
    pub end: u64,
}

/// The index file of a scratch file.
pub fn path_of(scratch: &Path) -> PathBuf {
    let mut name = scratch.as_os_str().to_owned();
    name.push(".gops");
    PathBuf::from(name)
}

/// What an earlier encode of `fingerprint` left beside `scratch`; nothing when there is none,
/// when it was made with other settings, or when it does not fit the scratch file.
pub fn read(scratch: &Path, fingerprint: &str) -> Resumed {
    let (Ok(index), Ok(meta)) = (std::fs::read(path_of(scratch)), std::fs::metadata(scratch))
    else {
        return Resumed::default();
    };
    // Only lines ended by a newline count: a last one without is cut short.
    let mut lines = index
        .split_inclusive(|b| *b == b'\n')
        .filter_map(|l| l.strip_suffix(b"\n"));
    if lines.next() != Some(header_line(fingerprint).as_bytes()) {
        return Resumed::default();
    }
    let mut resumed = Resumed::default();
    for line in lines {
        let Some(gop) = parse_gop(line, resumed.end) else {
            break;
        };
        let end = gop
            .last()
            .map_or(resumed.end, |s| s.offset + u64::from(s.size));
        if end > meta.len() {
            break;
        }
        resumed.end = end;
        resumed.samples.extend(gop);
    }
    resumed
}

/// Remove a scratch file's index.
pub fn remove(scratch: &Path) {
    let _ = std::fs::remove_file(path_of(scratch));
}

/// Appends finished GOPs to a scratch file's index.
#[derive(Debug)]
pub struct Checkpoint {
    index: File,
}

impl Checkpoint {
    /// Continue the index `read` found (`resumed`), or start one for `fingerprint`.
    pub fn open(scratch: &Path, fingerprint: &str, resumed: bool) -> std::io::Result<Checkpoint> {
        let path = path_of(scratch);
        if resumed {
            // Drop a line cut short, so that the next one starts on its own line.
            let bytes = std::fs::read(&path)?;
            let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let index = OpenOptions::new().write(true).open(&path)?;
            index.set_len(keep as u64)?;
            let index = OpenOptions::new().append(true).open(&path)?;
            return Ok(Checkpoint { index });
        }
        let mut index = File::create(&path)?;
        writeln!(index, "{}", header_line(fingerprint))?;
        Ok(Checkpoint { index })
    }

    /// Record a GOP whose samples are on disk already.
    pub fn gop_done(&mut self, samples: &[Sample]) -> std::io::Result<()> {
        let mut line = String::with_capacity(samples.len() * 24);
        for s in samples {
            line.push_str(&format!(
                "{} {} {} {};",
                s.offset,
                s.size,
                s.dts,
                u8::from(s.sync)
            ));
        }
        line.push('\n');
        self.index.write_all(line.as_bytes())
    }
}

fn header_line(fingerprint: &str) -> String {
    // One line whatever the fingerprint holds.
    format!("{MAGIC} {}", fingerprint.replace(['\n', '\r'], " "))
}

/// One GOP's samples, which must follow `at` in the scratch file one after another and start
/// with a keyframe.
fn parse_gop(line: &[u8], mut at: u64) -> Option<Vec<Sample>> {
    let text = std::str::from_utf8(line).ok()?;
    let mut samples = Vec::new();
    for field in text.split(';').filter(|f| !f.is_empty()) {
        let mut parts = field.split(' ');
        let mut next = || parts.next().and_then(|v| v.parse::<u64>().ok());
        let (offset, size, dts, sync) = (next()?, next()?, next()?, next()?);
        if offset != at {
            return None;
        }
        let size = u32::try_from(size).ok()?;
        at += u64::from(size);
        samples.push(Sample {
            offset,
            size,
            dts,
            duration: 0,
            cts_offset: 0,
            sync: sync == 1,
        });
    }
    samples.first().filter(|s| s.sync)?;
    Some(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(offset: u64, size: u32, dts: u64, sync: bool) -> Sample {
        Sample {
            offset,
            size,
            dts,
            duration: 0,
            cts_offset: 0,
            sync,
        }
    }

    #[test]
    fn finished_gops_come_back_and_a_cut_line_or_other_settings_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let scratch = dir.path().join("r.scratch");
        std::fs::write(&scratch, vec![7u8; 100]).unwrap();
        let gop1 = [sample(0, 30, 0, true), sample(30, 10, 40, false)];
        let gop2 = [sample(40, 50, 80, true)];
        let mut c = Checkpoint::open(&scratch, "q110", false).unwrap();
        c.gop_done(&gop1).unwrap();
        c.gop_done(&gop2).unwrap();
        drop(c);
        let r = read(&scratch, "q110");
        assert_eq!(r.samples, [gop1.as_slice(), gop2.as_slice()].concat());
        assert_eq!(r.end, 90);
        assert_eq!(read(&scratch, "q120"), Resumed::default(), "other settings");

        // A crash mid-line: that GOP is left out, and the index goes on after the rest.
        let mut index = OpenOptions::new()
            .append(true)
            .open(path_of(&scratch))
            .unwrap();
        index.write_all(b"90 5 120 1;9").unwrap();
        drop(index);
        assert_eq!(read(&scratch, "q110").end, 90);
        let mut c = Checkpoint::open(&scratch, "q110", true).unwrap();
        c.gop_done(&[sample(90, 10, 120, true)]).unwrap();
        drop(c);
        assert_eq!(read(&scratch, "q110").end, 100);

        // Bytes the scratch file does not have (lost in a crash): not resumed from.
        std::fs::write(&scratch, vec![7u8; 95]).unwrap();
        assert_eq!(read(&scratch, "q110").end, 90);
        remove(&scratch);
        assert_eq!(read(&scratch, "q110"), Resumed::default());
    }
}
