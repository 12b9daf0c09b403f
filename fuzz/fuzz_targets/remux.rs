//! Fuzz the demux, remux and decode path with arbitrary bytes taken as an MP4 and as a
//! Matroska/WebM upload: opening the sample tables or demuxing the frames, writing the HLS and
//! progressive files, and decoding a thumbnail. Any input must end in a value or an error, never
//! a panic, a hang or an unbounded allocation.
//! Run: `cd fuzz && cargo +nightly fuzz run remux corpus/remux`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vireo::media::remux::exercise(data);
});
