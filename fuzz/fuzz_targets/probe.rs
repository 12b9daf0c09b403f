//! Fuzz the upload probe (MP4/MOV and Matroska/WebM header parsing) with arbitrary bytes: any
//! input must give a value, never a panic, a hang or an unbounded allocation.
//! Run: `cd fuzz && cargo +nightly fuzz run probe corpus/probe`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vireo::media::probe::{Limits, probe_reader};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_width: 7680,
        max_height: 4320,
        max_duration_secs: 6 * 3600,
        max_frames: 3_000_000,
    };
    let _ = probe_reader(std::io::Cursor::new(data), data.len() as u64, &limits);
});
