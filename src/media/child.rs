//! Which executable untrusted media work is started in: Vireo's own binary, run as a child
//! process (`vireo decode-av1`, `vireo inspect-upload`), so that a parser or decoder that
//! crashes, aborts or runs away takes the child with it and never the server.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The binary started as a child; `None` means this very executable.
static HELPER: OnceLock<PathBuf> = OnceLock::new();

/// Start children from `binary` (which must be Vireo's) instead of the running executable.
/// For test harnesses and benches, whose executable is not Vireo's; the first call wins.
pub fn use_helper_binary(binary: PathBuf) {
    let _ = HELPER.set(binary);
}

/// The executable children are started from.
pub fn helper_binary() -> std::io::Result<PathBuf> {
    match HELPER.get() {
        Some(path) => Ok(path.clone()),
        None => std::env::current_exe(),
    }
}
