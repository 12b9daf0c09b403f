//! PeerTube's own API description as a test: schemathesis (installed by `tests/run.sh` in
//! `tests/conformance/venv`) generates requests for every operation of PeerTube's OpenAPI spec
//! that the README lists as implemented, valid and invalid, authenticated and anonymous, against
//! the real binary with data in it, and checks every answer with all of its default checks.
//! `tests/conformance/run.sh` makes the corrected copy of the spec (`fix_spec.py`: one named
//! correction per error of the spec) and runs it; this test gives it a server and its token.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{Server, json_of, tempdir};
use crate::uploads::{channel_id, clip_form};

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// A few published videos, and a second user, so the video, account and user operations have
/// something to answer with (the run deletes some of them as it goes).
fn seed(s: &Server, root: &str) {
    let channel = channel_id(s, root);
    for n in 1..=3 {
        let form = clip_form(channel, &format!("Conformance video {n}"));
        let r = s
            .post("/api/v1/videos/upload")
            .bearer_auth(root)
            .multipart(form)
            .send()
            .unwrap();
        json_of(r, "seed upload");
    }
    s.create_user(root, "second", "Second-Pw-123", 2);
}

/// The whole run: about 3 to 4 minutes on two cores (most of it in the upload and video update
/// operations, whose generated images and files Vireo reads). `tests/run.sh` installs
/// schemathesis first; `cargo test --test integration conformance -- --nocapture` runs it alone.
#[test]
fn schemathesis_finds_no_failure_in_the_implemented_peertube_operations() {
    let st = conformance_dir().join("venv/bin/st");
    assert!(
        st.exists(),
        "schemathesis is not installed at {}: run `bash tests/run.sh`, which installs it",
        st.display()
    );
    let dir = tempdir();
    let out = tempdir();
    // The run follows hosts it makes up (`POST /server/following`): with federation off they
    // stay queued, and nothing leaves this machine. It also creates channels by the hundred,
    // which PeerTube's default of 20 per user would refuse part-way (400, as for a bad request).
    let s = Server::start_with(
        dir.path(),
        &[
            ("VIREO_SIGNUP__ENABLED", "true"),
            ("VIREO_FEDERATION__ENABLED", "false"),
            ("VIREO_USER__MAX_CHANNELS", "100000"),
        ],
    );
    let root = s.root_token();
    seed(&s, &root);
    let started = std::time::Instant::now();
    let run = Command::new("bash")
        .arg(conformance_dir().join("run.sh"))
        .arg(out.path())
        .env("VIREO_URL", &s.url)
        .env("VIREO_TOKEN", &root)
        .env("ST", &st)
        .output()
        .expect("run.sh");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let summary = stdout
        .lines()
        .skip_while(|l| !l.starts_with("=== conformance summary"))
        .collect::<Vec<_>>()
        .join("\n");
    println!("{summary}\n(whole run {:.0?})", started.elapsed());
    assert!(
        run.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
}
