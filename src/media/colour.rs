//! A video's colour description: its primaries, transfer characteristics, matrix coefficients
//! (ISO/IEC 23091-2 "CICP" codes, the numbers H.264, VP9, AV1, MP4 and Matroska all use) and
//! its range, read from the upload's sample entry (`colr`, else the H.264 SPS's VUI through
//! h264-reader, else VP9's `vpcC`) and written on every rung.
//!
//! Why every rung says it explicitly: scaling keeps the source's YUV as it is, and players
//! guess an untagged picture's matrix from its size (BT.709 from 720 lines, BT.601 below). An
//! untagged 720p upload's 240p rung would then be shown with the other matrix: skin tones and
//! reds visibly off. So what the source says, or else what players assumed of the source, is
//! what each rung carries.

use mp4_atom::{Codec, Colr};

/// The code for "unspecified" in all three fields.
pub const UNSPECIFIED: u8 = 2;

const BT709: u8 = 1;
/// SMPTE 170M: BT.601's 525-line primaries, transfer and matrix (what players take for SD).
const SMPTE170M: u8 = 6;

/// From this many lines players take an untagged picture as HD (BT.709).
const HD_LINES: u32 = 720;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour {
    pub primaries: u8,
    pub transfer: u8,
    pub matrix: u8,
    /// Full range (0–255) rather than limited (16–235).
    pub full_range: bool,
}

impl Colour {
    /// Nothing known.
    pub const UNKNOWN: Colour = Colour {
        primaries: UNSPECIFIED,
        transfer: UNSPECIFIED,
        matrix: UNSPECIFIED,
        full_range: false,
    };

    /// What players assume of an untagged picture `height` lines high.
    pub fn assumed(height: u32) -> Colour {
        let code = if height >= HD_LINES { BT709 } else { SMPTE170M };
        Colour {
            primaries: code,
            transfer: code,
            matrix: code,
            full_range: false,
        }
    }

    /// Each unspecified field filled with what players assume of a source `height` lines
    /// high. Reserved codes count as unspecified, and so does matrix 0 (RGB): Vireo's pictures
    /// are YUV.
    pub fn completed(self, height: u32) -> Colour {
        let guess = Colour::assumed(height);
        let pick = |code: u8, fallback: u8| if known(code) { code } else { fallback };
        Colour {
            primaries: pick(self.primaries, guess.primaries),
            transfer: pick(self.transfer, guess.transfer),
            matrix: pick(self.matrix, guess.matrix),
            full_range: self.full_range,
        }
    }

    /// What a video sample entry says: its `colr` box, else (H.264) its SPS's VUI, else (VP9)
    /// its `vpcC`; `None` when it says nothing.
    pub fn of_entry(entry: &Codec) -> Option<Colour> {
        match entry {
            Codec::Avc1(a) => a.colr.as_ref().and_then(of_colr).or_else(|| {
                a.avcc
                    .sequence_parameter_sets
                    .iter()
                    .find_map(|s| of_sps(s))
            }),
            Codec::Vp09(v) => v.colr.as_ref().and_then(of_colr).or_else(|| {
                let c = &v.vpcc;
                Some(Colour {
                    primaries: c.color_primaries,
                    transfer: c.transfer_characteristics,
                    matrix: c.matrix_coefficients,
                    full_range: c.video_full_range_flag,
                })
                .filter(|c| c.says_something())
            }),
            Codec::Av01(a) => a.colr.as_ref().and_then(of_colr),
            _ => None,
        }
    }

    /// What a source's pictures are shown in: what its sample entry says, completed with what
    /// players assume of a picture its size.
    pub fn of_source(src: &crate::media::source::Source) -> Colour {
        src.video
            .trak
            .mdia
            .minf
            .stbl
            .stsd
            .codecs
            .first()
            .and_then(Colour::of_entry)
            .unwrap_or(Colour::UNKNOWN)
            .completed(src.height)
    }

    /// The luma weights (Kr, Kb) of its matrix; BT.601's for one without them (the matrix
    /// codes of YCgCo and the chromaticity-derived ones are rare enough to be shown so).
    pub fn luma_weights(&self) -> (f64, f64) {
        match self.matrix {
            1 => (0.2126, 0.0722),
            4 => (0.30, 0.11),
            7 => (0.212, 0.087),
            9 | 10 => (0.2627, 0.0593),
            _ => (0.299, 0.114),
        }
    }

    /// The `colr` box that says it.
    pub fn colr(&self) -> Colr {
        Colr::Nclx {
            colour_primaries: u16::from(self.primaries),
            transfer_characteristics: u16::from(self.transfer),
            matrix_coefficients: u16::from(self.matrix),
            full_range_flag: self.full_range,
        }
    }

    fn says_something(&self) -> bool {
        known(self.primaries) || known(self.transfer) || known(self.matrix) || self.full_range
    }
}

/// A code that means something (0 is reserved for primaries and transfer, and RGB for the
/// matrix; 2 is unspecified; 3 is reserved).
fn known(code: u8) -> bool {
    !matches!(code, 0 | UNSPECIFIED | 3)
}

fn of_colr(colr: &Colr) -> Option<Colour> {
    let code = |v: u16| u8::try_from(v).unwrap_or(UNSPECIFIED);
    let colour = match colr {
        Colr::Nclx {
            colour_primaries,
            transfer_characteristics,
            matrix_coefficients,
            full_range_flag,
        } => Colour {
            primaries: code(*colour_primaries),
            transfer: code(*transfer_characteristics),
            matrix: code(*matrix_coefficients),
            full_range: *full_range_flag,
        },
        // QuickTime's older box: no range flag, limited range.
        Colr::Nclc {
            colour_primaries,
            transfer_characteristics,
            matrix_coefficients,
        } => Colour {
            primaries: code(*colour_primaries),
            transfer: code(*transfer_characteristics),
            matrix: code(*matrix_coefficients),
            full_range: false,
        },
        _ => return None,
    };
    Some(colour).filter(Colour::says_something)
}

/// The VUI's video signal type of an SPS NAL unit (header included), when it has one.
fn of_sps(nal: &[u8]) -> Option<Colour> {
    use h264_reader::nal::sps::SeqParameterSet;
    let rbsp = h264_reader::rbsp::decode_nal(nal).ok()?;
    let sps = SeqParameterSet::from_bits(h264_reader::rbsp::BitReader::new(&*rbsp)).ok()?;
    let signal = sps.vui_parameters?.video_signal_type?;
    let description = signal.colour_description;
    let colour = Colour {
        primaries: description
            .as_ref()
            .map_or(UNSPECIFIED, |d| d.colour_primaries),
        transfer: description
            .as_ref()
            .map_or(UNSPECIFIED, |d| d.transfer_characteristics),
        matrix: description
            .as_ref()
            .map_or(UNSPECIFIED, |d| d.matrix_coefficients),
        full_range: signal.video_full_range_flag,
    };
    Some(colour).filter(Colour::says_something)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untagged_sources_get_what_players_assume_of_their_size() {
        assert_eq!(Colour::UNKNOWN.completed(720), Colour::assumed(720));
        assert_eq!(Colour::assumed(720).matrix, BT709);
        assert_eq!(Colour::assumed(719).matrix, SMPTE170M);
        let partly = Colour {
            matrix: 5,
            full_range: true,
            ..Colour::UNKNOWN
        };
        assert_eq!(
            partly.completed(1080),
            Colour {
                primaries: BT709,
                transfer: BT709,
                matrix: 5,
                full_range: true
            },
            "what the source says is kept"
        );
        let rgb = Colour {
            matrix: 0,
            ..Colour::assumed(360)
        };
        assert_eq!(
            rgb.completed(360).matrix,
            SMPTE170M,
            "no RGB for YUV pictures"
        );
    }

    #[test]
    fn sample_entries_say_their_colour_or_nothing() {
        let colr = Colour {
            primaries: 9,
            transfer: 16,
            matrix: 9,
            full_range: false,
        };
        let av01 = Codec::Av01(mp4_atom::Av01 {
            colr: Some(colr.colr()),
            ..Default::default()
        });
        assert_eq!(Colour::of_entry(&av01), Some(colr));
        assert_eq!(
            Colour::of_entry(&Codec::Av01(Default::default())),
            None,
            "no box"
        );
        let untagged = Codec::Av01(mp4_atom::Av01 {
            colr: Some(Colour::UNKNOWN.colr()),
            ..Default::default()
        });
        assert_eq!(Colour::of_entry(&untagged), None, "a box that says nothing");
        let vp09 = Codec::Vp09(mp4_atom::Vp09 {
            vpcc: mp4_atom::VpcC {
                color_primaries: 1,
                transfer_characteristics: 1,
                matrix_coefficients: 1,
                ..Default::default()
            },
            ..Default::default()
        });
        assert_eq!(Colour::of_entry(&vp09), Some(Colour::assumed(1080)));
    }
}
