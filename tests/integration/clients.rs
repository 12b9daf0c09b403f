//! PeerTube's own clients against Vireo: the official `@peertube/peertube-cli` (npm) and the
//! `peertube` package generated from PeerTube's OpenAPI spec (PyPI). `tests/run.sh` installs both
//! under `tests/clients/`; run through it, or install them there yourself.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{Ffmpeg, ROOT_PASSWORD, Server, tempdir};

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
fn peertube_cli_logs_in_lists_and_uploads() {
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
    let videos = s.get_json_as("/api/v1/videos", &token);
    assert_eq!(videos["total"], 0);

    // `upload` sends PeerTube's legacy multipart request with a thumbnail, then polls the video
    // until its first file has a torrent: it returns only once the video is fully processed.
    let clip = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/media/bigbuckbunny.mp4")
        .canonicalize()
        .unwrap();
    let thumb = home.path().join("thumb.jpg");
    Ffmpeg::new()
        .lavfi("color=c=green:size=320x180")
        .args(["-frames:v", "1"])
        .make(&thumb);
    let me = s.me(&token);
    let channel = me["videoChannels"][0]["name"].as_str().unwrap().to_owned();
    let said = run(&[
        "upload",
        "-u",
        &s.url,
        "-U",
        "root",
        "-p",
        ROOT_PASSWORD,
        "-f",
        clip.to_str().unwrap(),
        "-n",
        "Uploaded by peertube-cli",
        "-C",
        &channel,
        "-t",
        "bunny,cli",
        "-d",
        "A description",
        "-L",
        "en",
        "-b",
        thumb.to_str().unwrap(),
    ]);
    assert!(
        said.ends_with("Video Uploaded by peertube-cli uploaded."),
        "{said}"
    );
    let videos = s.get_json("/api/v1/videos");
    assert_eq!(videos["total"], 1);
    let listed = &videos["data"][0];
    assert_eq!(listed["name"], "Uploaded by peertube-cli");
    let uuid = listed["uuid"].as_str().unwrap();
    let v = s.get_json(&format!("/api/v1/videos/{uuid}"));
    assert_eq!(v["tags"], serde_json::json!(["bunny", "cli"]));
    assert_eq!(v["language"]["id"], "en");
    assert_eq!(v["description"], "A description");
    assert!(
        v["files"][0]["torrentUrl"]
            .as_str()
            .is_some_and(|u| !u.is_empty())
    );
    let r = s.get(v["thumbnailPath"].as_str().unwrap()).send().unwrap();
    assert_eq!(r.status(), 200);
    let thumb = image::load_from_memory(&r.bytes().unwrap())
        .unwrap()
        .to_rgb8();
    let p = thumb.get_pixel(140, 78).0;
    assert!(
        p[1] > 100 && p[0] < 60 && p[2] < 60,
        "the uploaded green thumbnail: {p:?}"
    );
}

#[test]
fn python_openapi_client_logs_in_lists_and_renames_the_instance() {
    let py = clients_dir().join("py");
    require(&py.join("peertube"), "the PyPI peertube client");
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "judy", "judy-password", 2);
    let out = Command::new("python3")
        .arg(clients_dir().join("pyclient.py"))
        .args([&s.url, "root", ROOT_PASSWORD, "Renamed by Python"])
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
    assert!(stdout.contains("custom name Renamed by Python"), "{stdout}");
    assert!(stdout.contains("public name Renamed by Python"), "{stdout}");
}
