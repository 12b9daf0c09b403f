//! Decoding AV1 pictures with rav1d (the Rust port of dav1d, through `vireo-av1d`), in a child
//! process.
//!
//! Why a child: rav1d's API is dav1d's C ABI, and a panic cannot unwind out of an `extern "C"`
//! function, so a decoder bug hit by a hostile upload would abort the whole server, where the
//! other decoders' panics are caught per picture. This is not hypothetical: rav1d 1.1.0 aborts
//! on any decode error with one frame context (memorysafety/rav1d#1497, open), which a single
//! damaged sample triggers (`tests/integration/ladder_inputs.rs` does). The job's thread therefore starts this same
//! binary as `vireo decode-av1` (niced like the thread, which it inherits) and talks to it over
//! pipes; if the child dies, that costs the sample it was decoding, and the next sample starts a
//! new child. It also keeps whatever the decoder allocates out of the server's memory.
//!
//! The wire is deliberately plain (it never leaves the machine; both ends are this binary):
//! - parent → child: a sample as `u32` length (little-endian) and bytes;
//! - child → parent: `0` (no picture), or `1`, `u32` width, `u32` height and the 8-bit 4:2:0
//!   planes Y, U, V (what the pipeline's `Picture` holds), or `2` or `3` (unsupported, or a
//!   decoder error), `u32` length and a UTF-8 message.

use std::borrow::Cow;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use vireo_av1d::{Decoder, Layout};

use super::{DecodeFailure, Picture};

/// The largest picture decoded, in pixels: 8K, the probe's default size limit. A stream whose
/// sequence header claims more than its sample entry is refused by the decoder before it
/// allocates anything.
const MAX_PIXELS: u32 = 7680 * 4320;
/// The largest sample the child accepts: far above any real AV1 temporal unit.
const MAX_SAMPLE: u32 = 256 << 20;

const NONE: u8 = 0;
const PICTURE: u8 = 1;
const UNSUPPORTED: u8 = 2;
const FAILED: u8 = 3;

/// Decode in this process instead (`decode_in_process`).
static IN_PROCESS: AtomicBool = AtomicBool::new(false);

/// Decode AV1 in this process from now on, where a rav1d panic aborts it: for the fuzzer, which
/// must see such a panic, and for unit tests, whose executable is not Vireo's.
pub fn decode_in_process() {
    IN_PROCESS.store(true, Ordering::Relaxed);
}

/// Start decoders from `binary` (which must be Vireo's) instead of the running executable
/// (`media::child`).
pub fn use_helper_binary(binary: PathBuf) {
    crate::media::child::use_helper_binary(binary);
}

/// An AV1 decoder for one track: the child process, started at the first sample (or the
/// decoder itself, in this process, after `decode_in_process`).
pub struct Av1 {
    /// The `av1C` box's OBUs (the sequence header, usually), sent ahead of a new child's first
    /// sample: a sample need not repeat them.
    config: Vec<u8>,
    /// The binary to start, when not the configured one (tests).
    binary: Option<PathBuf>,
    child: Option<Helper>,
    here: Option<Decoder>,
}

struct Helper {
    process: Child,
    to: BufWriter<ChildStdin>,
    from: BufReader<ChildStdout>,
}

impl Drop for Helper {
    fn drop(&mut self) {
        // Killed rather than waited for: a child stuck in the decoder would never read the end
        // of its input.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Helper {
    fn start(binary: Option<&PathBuf>) -> io::Result<Helper> {
        let binary = match binary {
            Some(path) => path.clone(),
            None => crate::media::child::helper_binary()?,
        };
        let mut process = Command::new(binary)
            .arg("decode-av1")
            // A rav1d panic aborts the child (see above); its message is enough in the log.
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let (Some(to), Some(from)) = (process.stdin.take(), process.stdout.take()) else {
            let _ = process.kill();
            return Err(io::Error::other("the decoder's pipes are missing"));
        };
        Ok(Helper {
            process,
            to: BufWriter::new(to),
            from: BufReader::with_capacity(1 << 20, from),
        })
    }

    /// One sample in, the child's answer out.
    fn exchange(&mut self, sample: &[u8]) -> io::Result<Result<Option<Picture>, DecodeFailure>> {
        let len = u32::try_from(sample.len())
            .ok()
            .filter(|n| *n <= MAX_SAMPLE)
            .ok_or_else(|| io::Error::other("sample too large"))?;
        self.to.write_all(&len.to_le_bytes())?;
        self.to.write_all(sample)?;
        self.to.flush()?;
        read_answer(&mut self.from)
    }
}

impl Av1 {
    /// A decoder for a track whose `av1C` box carries `config_obus`.
    pub fn new(config_obus: &[u8]) -> Av1 {
        Av1 {
            config: config_obus.to_vec(),
            binary: None,
            child: None,
            here: None,
        }
    }

    /// Decode one sample (one temporal unit); the picture it shows, if any.
    pub fn decode(&mut self, sample: &[u8]) -> Result<Option<Picture>, DecodeFailure> {
        if IN_PROCESS.load(Ordering::Relaxed) {
            return self.decode_here(sample);
        }
        let fresh = self.child.is_none();
        let helper = match &mut self.child {
            Some(helper) => helper,
            None => self
                .child
                .insert(Helper::start(self.binary.as_ref()).map_err(|e| {
                    DecodeFailure::Decoder(format!("the AV1 decoder could not start: {e}"))
                })?),
        };
        let sample = primed(&self.config, fresh, sample);
        match helper.exchange(&sample) {
            Ok(answer) => answer,
            Err(e) => {
                // The child died or broke the wire: its state is gone, start afresh next time.
                tracing::warn!(error = %e, "the AV1 decoder process failed on a sample");
                self.child = None;
                Err(DecodeFailure::Panicked)
            }
        }
    }

    fn decode_here(&mut self, sample: &[u8]) -> Result<Option<Picture>, DecodeFailure> {
        let fresh = self.here.is_none();
        let decoder = match &mut self.here {
            Some(decoder) => decoder,
            None => self.here.insert(
                Decoder::new(MAX_PIXELS).map_err(|e| DecodeFailure::Decoder(e.to_string()))?,
            ),
        };
        let sample = primed(&self.config, fresh, sample);
        decode_one(decoder, &sample)
    }
}

/// The sample as a decoder gets it: after the `av1C` OBUs when the decoder is fresh.
fn primed<'a>(config: &[u8], fresh: bool, sample: &'a [u8]) -> Cow<'a, [u8]> {
    if fresh {
        Cow::Owned([config, sample].concat())
    } else {
        Cow::Borrowed(sample)
    }
}

/// One sample through the decoder, as the pipeline's picture.
fn decode_one(decoder: &mut Decoder, sample: &[u8]) -> Result<Option<Picture>, DecodeFailure> {
    decoder
        .decode(sample)
        .map_err(|e| DecodeFailure::Decoder(e.to_string()))
        .and_then(|p| p.map(to_picture).transpose())
}

fn read_u32(from: &mut impl Read) -> io::Result<u32> {
    let mut b = [0; 4];
    from.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_bytes(from: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut v = vec![0; n];
    from.read_exact(&mut v)?;
    Ok(v)
}

fn read_answer(from: &mut impl Read) -> io::Result<Result<Option<Picture>, DecodeFailure>> {
    let mut tag = [0];
    from.read_exact(&mut tag)?;
    match tag[0] {
        NONE => Ok(Ok(None)),
        PICTURE => {
            let (w, h) = (read_u32(from)? as usize, read_u32(from)? as usize);
            if w == 0 || h == 0 || w % 2 == 1 || h % 2 == 1 || w * h > MAX_PIXELS as usize {
                return Err(io::Error::other("a picture of impossible size"));
            }
            Ok(Ok(Some(Picture {
                width: w,
                height: h,
                y: read_bytes(from, w * h)?,
                u: read_bytes(from, w * h / 4)?,
                v: read_bytes(from, w * h / 4)?,
            })))
        }
        kind @ (UNSUPPORTED | FAILED) => {
            let n = read_u32(from)?.min(4096) as usize;
            let message = String::from_utf8_lossy(&read_bytes(from, n)?).into_owned();
            Ok(Err(if kind == UNSUPPORTED {
                DecodeFailure::Unsupported(message)
            } else {
                DecodeFailure::Decoder(message)
            }))
        }
        _ => Err(io::Error::other("an unknown answer")),
    }
}

/// The child's side (`vireo decode-av1`): decode samples from `input` until it closes, one
/// answer per sample on `output`.
pub fn serve(input: impl Read, output: impl Write) -> io::Result<()> {
    let (mut input, mut output) = (BufReader::new(input), BufWriter::new(output));
    let mut decoder = Decoder::new(MAX_PIXELS).map_err(io::Error::other)?;
    loop {
        let len = match read_u32(&mut input) {
            Ok(len) if len <= MAX_SAMPLE => len,
            Ok(_) => return Err(io::Error::other("sample too large")),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let sample = read_bytes(&mut input, len as usize)?;
        write_answer(&mut output, decode_one(&mut decoder, &sample))?;
        output.flush()?;
    }
}

fn write_answer(
    to: &mut impl Write,
    answer: Result<Option<Picture>, DecodeFailure>,
) -> io::Result<()> {
    match answer {
        Ok(None) => to.write_all(&[NONE]),
        Ok(Some(p)) => {
            to.write_all(&[PICTURE])?;
            // Sizes fit: the decoder refuses pictures over `MAX_PIXELS`.
            to.write_all(&(p.width as u32).to_le_bytes())?;
            to.write_all(&(p.height as u32).to_le_bytes())?;
            to.write_all(&p.y)?;
            to.write_all(&p.u)?;
            to.write_all(&p.v)
        }
        Err(e) => {
            let kind = if matches!(e, DecodeFailure::Unsupported(_)) {
                UNSUPPORTED
            } else {
                FAILED
            };
            let message = match e {
                DecodeFailure::Unsupported(what) | DecodeFailure::Decoder(what) => what,
                other => other.to_string(),
            };
            to.write_all(&[kind])?;
            to.write_all(&(message.len() as u32).to_le_bytes())?;
            to.write_all(message.as_bytes())
        }
    }
}

/// The decoder's picture as the pipeline's 8-bit 4:2:0 one: deeper samples rounded, odd sizes
/// cropped by a column or row, monochrome given neutral chroma; 4:2:2 and 4:4:4 (AV1's
/// professional profile, rare in uploads) are refused by name.
fn to_picture(p: vireo_av1d::Picture) -> Result<Picture, DecodeFailure> {
    let grey;
    let [y, u, v] = match p.layout {
        Layout::I420 => [0, 1, 2].map(|i| (p.planes[i].as_slice(), p.strides[i])),
        Layout::I400 => {
            // Neutral chroma at the luma's depth: 128, or 512 for 10-bit, little-endian.
            let (w, h) = (p.width.div_ceil(2) as usize, p.height.div_ceil(2) as usize);
            let mid = 1u16 << (p.bit_depth.clamp(8, 16) - 1);
            let (sample, bytes) = if p.bit_depth > 8 {
                (mid.to_le_bytes().to_vec(), 2)
            } else {
                (vec![128], 1)
            };
            grey = sample.repeat(w * h);
            [
                (p.planes[0].as_slice(), p.strides[0]),
                (grey.as_slice(), w * bytes),
                (grey.as_slice(), w * bytes),
            ]
        }
        Layout::I422 | Layout::I444 => {
            return Err(DecodeFailure::Unsupported(
                "AV1 with 4:2:2 or 4:4:4 chroma".into(),
            ));
        }
    };
    super::eight_bit_420(p.width, p.height, p.bit_depth, [y, u, v])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: usize, h: usize) -> Picture {
        Picture {
            width: w,
            height: h,
            y: (0..w * h).map(|i| i as u8).collect(),
            u: vec![7; w * h / 4],
            v: vec![9; w * h / 4],
        }
    }

    #[test]
    fn answers_cross_the_wire_as_they_were() {
        let answers = [
            Ok(None),
            Ok(Some(picture(4, 2))),
            Err(DecodeFailure::Unsupported("AV1 with 4:4:4 chroma".into())),
            Err(DecodeFailure::Decoder("the AV1 data is invalid".into())),
        ];
        for answer in answers {
            let mut wire = Vec::new();
            write_answer(&mut wire, answer.clone()).unwrap();
            assert_eq!(read_answer(&mut wire.as_slice()).unwrap(), answer);
        }
    }

    #[test]
    fn a_broken_wire_is_an_error_not_a_picture() {
        let mut cut = Vec::new();
        write_answer(&mut cut, Ok(Some(picture(4, 2)))).unwrap();
        cut.pop();
        assert!(read_answer(&mut cut.as_slice()).is_err());
        let mut odd = vec![PICTURE];
        odd.extend(3u32.to_le_bytes());
        odd.extend(2u32.to_le_bytes());
        assert!(read_answer(&mut odd.as_slice()).is_err(), "odd width");
        assert!(read_answer(&mut [9u8].as_slice()).is_err(), "unknown tag");
    }

    #[test]
    fn the_child_side_answers_every_sample_and_stops_at_the_end_of_input() {
        let mut input = Vec::new();
        for sample in [&[][..], &[0xff; 16][..]] {
            input.extend((sample.len() as u32).to_le_bytes());
            input.extend(sample);
        }
        let mut output = Vec::new();
        serve(input.as_slice(), &mut output).unwrap();
        let mut answers = output.as_slice();
        assert_eq!(read_answer(&mut answers).unwrap(), Ok(None));
        let junk = read_answer(&mut answers).unwrap();
        assert!(!matches!(junk, Ok(Some(_))), "{junk:?}");
        assert!(answers.is_empty());
    }

    #[test]
    fn a_child_that_dies_costs_the_sample_and_is_replaced() {
        // `true` exits at once, like a decoder that aborted: the sample fails, the caller lives.
        let mut d = Av1::new(&[]);
        d.binary = Some(PathBuf::from("true"));
        assert_eq!(d.decode(&[1, 2, 3]), Err(DecodeFailure::Panicked));
        assert!(d.child.is_none(), "the dead child is dropped");
        assert_eq!(d.decode(&[1, 2, 3]), Err(DecodeFailure::Panicked));
        d.binary = Some(PathBuf::from("/nonexistent/vireo"));
        assert!(matches!(d.decode(&[1]), Err(DecodeFailure::Decoder(_))));
    }

    #[test]
    fn monochrome_gets_neutral_chroma_and_deep_samples_are_rounded() {
        let p = vireo_av1d::Picture {
            width: 2,
            height: 2,
            bit_depth: 10,
            layout: Layout::I400,
            planes: [
                [1023u16, 0, 512, 4]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                Vec::new(),
                Vec::new(),
            ],
            strides: [4, 0, 0],
        };
        let p = to_picture(p).unwrap();
        assert_eq!(p.y, [255, 0, 128, 1]);
        assert_eq!(
            (p.u.as_slice(), p.v.as_slice()),
            (&[128u8][..], &[128u8][..])
        );
    }
}
