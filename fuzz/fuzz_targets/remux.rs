//! Fuzz the demux, remux and decode path with arbitrary bytes taken as an MP4 and as a
//! Matroska/WebM upload: opening the sample tables or demuxing the frames, writing the HLS and
//! progressive files, and decoding pictures (H.264, VP9, AV1) for thumbnails and transcoding.
//! Any input must end in a value or an error, never a panic, a hang or an unbounded allocation.
//! Run: `cd fuzz && cargo +nightly fuzz run remux corpus/remux`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys's panic hook aborts on every panic, even one Vireo catches on purpose around
    // a third-party parser or decoder (`catch_unwind`, as in production). A silent hook lets
    // those be caught; a panic that escapes still reaches libfuzzer-sys's own `catch_unwind`,
    // which aborts, so it is still reported.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        std::panic::set_hook(Box::new(|_| {}));
        // In this process, where a rav1d panic aborts and is reported, not in a child.
        vireo::media::decode::av1::decode_in_process();
    });
    vireo::media::fuzz::exercise(data);
});
