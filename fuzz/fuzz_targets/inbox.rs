//! Fuzz what the federation inbox reads from other servers: the `Signature` header, the body as
//! an activity, an actor document and a public-key PEM (`vireo::federation::fuzz::exercise`).
//! Any input must end in a value or an error, never a panic, a hang or an unbounded allocation.
//! Run: `cd fuzz && cargo +nightly fuzz run inbox corpus/inbox`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vireo::federation::fuzz::exercise(data);
});
