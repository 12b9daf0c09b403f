//! PeerTube's own clients against Vireo: the official `@peertube/peertube-cli` (npm) and the
//! `peertube` package generated from PeerTube's OpenAPI spec (PyPI). `tests/run.sh` installs both
//! under `tests/clients/`; run through it, or install them there yourself.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::{ROOT_PASSWORD, Server, tempdir};

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

fn require(path: &std::path::Path, what: &str) {
    assert!(
        path.exists(),
        "{what} is not installed at {}: run `bash tests/run.sh`, which installs the test clients",
        path.display()
    );
}

#[test]
fn peertube_cli_logs_in_and_the_token_lists_videos() {
    let cli = clients_dir().join("node_modules/.bin/peertube-cli");
    require(&cli, "@peertube/peertube-cli");
    let dir = tempdir();
    let home = tempdir();
    let s = Server::start(dir.path());
    let run = |args: &[&str]| {
        let out = Command::new(&cli)
            .args(args)
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("NODE_ENV")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "peertube-cli {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    run(&[
        "auth",
        "add",
        "-u",
        &s.url,
        "-U",
        "root",
        "--password",
        ROOT_PASSWORD,
    ]);
    let listed = run(&["auth", "list"]);
    assert!(listed.contains(&s.url), "{listed}");
    let token = run(&["token", "-u", &s.url, "-n", "root", "-p", ROOT_PASSWORD]);
    assert_eq!(token.len(), 40, "an access token: {token}");
    // peertube-cli has no list command; its token is used to list through the API.
    let me = s.me(&token);
    assert_eq!(me["username"], "root");
    let videos: Value = s
        .get("/api/v1/videos")
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(videos["total"], 0);
}

#[test]
fn python_openapi_client_logs_in_and_lists() {
    let py = clients_dir().join("py");
    require(&py.join("peertube"), "the PyPI peertube client");
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "judy", "judy-password", 2);
    let out = Command::new("python3")
        .arg(clients_dir().join("pyclient.py"))
        .args([&s.url, "root", ROOT_PASSWORD])
        .env("PYTHONPATH", &py)
        .env("NO_PROXY", "*")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pyclient: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("users 2"), "{stdout}");
    assert!(stdout.contains("channels 2"), "{stdout}");
    assert!(stdout.contains("videos 0"), "{stdout}");
}
