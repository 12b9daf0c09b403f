//! The files a published video offers besides HLS, fetched over HTTP from the real server: the
//! fast-start progressive MP4 (judged by ffprobe), downloads with their names and the
//! `downloadEnabled` switch, `.torrent` files that describe the served bytes, and thumbnails and
//! previews — made from the video, or uploaded by the owner and replaced later.

use std::process::Command;

use reqwest::blocking::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::{Ffmpeg, Server, assert_error, tempdir};
use crate::uploads::{channel_id, clip, files_in, wait_for, wait_for_state};

/// Poll until the progressive file (the pipeline's last step) is listed: until then `files`
/// shows the original upload, without a torrent.
fn wait_for_files(s: &Server, uuid: &str) -> Value {
    wait_for(s, uuid, "files listed", |v| {
        v["files"][0]["torrentUrl"].is_string()
    })
}

fn path_of<'a>(s: &Server, url: &'a str) -> &'a str {
    url.strip_prefix(&s.url).unwrap_or(url)
}

/// A one-colour PNG made by ffmpeg.
fn png(color: &str) -> Vec<u8> {
    let out = Ffmpeg::new()
        .lavfi(&format!("color=c={color}:size=640x360"))
        .args(["-frames:v", "1", "-c:v", "png", "-f", "image2pipe", "-"])
        .run();
    assert!(out.status.success());
    out.stdout
}

/// Size and mean RGB of a JPEG served at `path`.
fn fetch_image(s: &Server, path: &str) -> ((u32, u32), [f64; 3]) {
    let r = s.get(path).send().unwrap();
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let img = image::load_from_memory(&r.bytes().unwrap())
        .unwrap()
        .to_rgb8();
    let mut sum = [0f64; 3];
    for p in img.pixels() {
        for (total, channel) in sum.iter_mut().zip(p.0) {
            *total += f64::from(channel);
        }
    }
    let n = f64::from(img.width() * img.height());
    ((img.width(), img.height()), sum.map(|v| v / n))
}

#[test]
fn progressive_files_downloads_torrents_and_images() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let channel = channel_id(&s, &root);

    // An upload with its own thumbnail: the preview is made from the video.
    let form = Form::new()
        .text("channelId", channel.to_string())
        .text("name", "Bunny: \"files\"")
        .part(
            "thumbnailfile",
            Part::bytes(png("red"))
                .file_name("t.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .part(
            "videofile",
            Part::bytes(clip())
                .file_name("clip.mp4")
                .mime_str("video/mp4")
                .unwrap(),
        );
    let r = s
        .post("/api/v1/videos/upload")
        .bearer_auth(&root)
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let uuid = r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for_state(&s, &uuid, 1);
    let v = wait_for_files(&s, &uuid);

    // Thumbnail: the uploaded red image at 280×157; preview: a frame of the video at 850×480.
    let thumb = v["thumbnailPath"].as_str().unwrap().to_owned();
    assert!(thumb.starts_with("/lazy-static/thumbnails/"), "{thumb}");
    let (size, rgb) = fetch_image(&s, &thumb);
    assert_eq!(size, (280, 157));
    assert!(
        rgb[0] > 200.0 && rgb[1] < 40.0 && rgb[2] < 40.0,
        "red: {rgb:?}"
    );
    let preview = v["previewPath"].as_str().unwrap().to_owned();
    let (size, rgb) = fetch_image(&s, &preview);
    assert_eq!(size, (850, 480));
    assert!(
        !(rgb[0] > 200.0 && rgb[1] < 40.0),
        "a frame, not the red image"
    );

    // The progressive MP4: moov first, the source's packets, decodable over HTTP.
    let file = &v["files"][0];
    assert_eq!(file["resolution"]["id"], 720);
    assert_eq!(
        (file["width"].as_u64(), file["height"].as_u64()),
        (Some(1280), Some(720))
    );
    assert_eq!(file["hasAudio"], true);
    let file_url = file["fileUrl"].as_str().unwrap().to_owned();
    assert_eq!(
        file_url,
        format!("{}/static/web-videos/{uuid}-720.mp4", s.url)
    );
    let r = s.get(path_of(&s, &file_url)).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    let body = r.bytes().unwrap();
    assert_eq!(body.len() as u64, file["size"].as_u64().unwrap());
    let moov = body.windows(4).position(|w| w == b"moov").unwrap();
    let mdat = body.windows(4).position(|w| w == b"mdat").unwrap();
    assert!(moov < mdat, "fast start: moov at {moov}, mdat at {mdat}");
    let packets = |input: &str| {
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-count_packets", "-show_entries"])
            .args(["stream=codec_name,nb_read_packets", "-of", "csv=p=0", input])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/media/bigbuckbunny.mp4");
    assert_eq!(packets(&file_url), packets(source.to_str().unwrap()));
    assert!(packets(&file_url).starts_with("h264,132\n"));
    let r = s
        .get(path_of(&s, &file_url))
        .header("range", "bytes=100-199")
        .send()
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 100-199/{}", body.len()).as_str()
    );
    assert_eq!(r.bytes().unwrap(), body.slice(100..200));
    let ranged = |range: &str| {
        s.get(path_of(&s, &file_url))
            .header("range", range)
            .send()
            .unwrap()
    };
    let r = ranged("bytes=-100");
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().unwrap(), body.slice(body.len() - 100..));
    let r = ranged(&format!("bytes={}-", body.len() - 10));
    assert_eq!(r.bytes().unwrap(), body.slice(body.len() - 10..));
    assert_eq!(ranged(&format!("bytes={}-", body.len() + 5)).status(), 416);
    assert_eq!(
        ranged("bytes=0-").bytes().unwrap(),
        body,
        "the whole file as one range"
    );

    // Downloads carry a file name; the HLS file downloads too.
    let r = s
        .get(path_of(&s, file["fileDownloadUrl"].as_str().unwrap()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"Bunny_ _files_-720.mp4\""),
        "{disposition}"
    );
    assert_eq!(r.bytes().unwrap(), body);
    let hls_file = &v["streamingPlaylists"][0]["files"][0];
    let r = s
        .get(path_of(&s, hls_file["fileDownloadUrl"].as_str().unwrap()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().unwrap().len() as u64,
        hls_file["size"].as_u64().unwrap()
    );

    // The torrent describes exactly the served bytes and seeds from the file's URL.
    let torrent_url = file["torrentUrl"].as_str().unwrap().to_owned();
    assert_eq!(
        torrent_url,
        format!("{}/lazy-static/torrents/{uuid}-720.torrent", s.url)
    );
    let r = s.get(path_of(&s, &torrent_url)).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-bittorrent");
    check_torrent(
        &r.bytes().unwrap(),
        &body,
        &file_url,
        file["magnetUri"].as_str().unwrap(),
    );
    assert!(
        hls_file["torrentUrl"]
            .as_str()
            .unwrap()
            .ends_with("-720-hls.torrent")
    );

    // Downloads can be switched off: others get 403, the owner still downloads.
    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&root)
        .json(&json!({"downloadEnabled": false}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let download = path_of(&s, file["fileDownloadUrl"].as_str().unwrap()).to_owned();
    assert_error(s.get(&download).send().unwrap(), 403, "forbidden");
    assert_eq!(
        s.get(&download).bearer_auth(&root).send().unwrap().status(),
        200
    );
    assert_eq!(
        s.get(path_of(&s, &file_url)).send().unwrap().status(),
        200,
        "watching still works"
    );

    // Replacing the thumbnail through an update: a new URL, the old file gone.
    let form = Form::new().text("name", "Bunny renamed").part(
        "thumbnailfile",
        Part::bytes(png("blue"))
            .file_name("b.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&root)
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().unwrap_or_default());
    let v2 = s.get_json(&format!("/api/v1/videos/{uuid}"));
    let thumb2 = v2["thumbnailPath"].as_str().unwrap().to_owned();
    assert_ne!(thumb2, thumb);
    let (_, rgb) = fetch_image(&s, &thumb2);
    assert!(rgb[2] > 200.0 && rgb[0] < 40.0, "blue: {rgb:?}");
    assert_error(s.get(&thumb).send().unwrap(), 404, "not_found");
    assert_eq!(v2["name"], "Bunny renamed");

    // A file that is not an image changes nothing.
    let form = Form::new().text("name", "Not renamed").part(
        "previewfile",
        Part::bytes(b"GIF89a? no".to_vec())
            .file_name("p.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&root)
        .multipart(form)
        .send()
        .unwrap();
    assert_error(r, 400, "invalid_params");
    let v3 = s.get_json(&format!("/api/v1/videos/{uuid}"));
    assert_eq!(
        (v3["name"].clone(), v3["previewPath"].clone()),
        (v2["name"].clone(), v2["previewPath"].clone())
    );

    // Deleting the video removes every file it had.
    let media = s.data_dir.join("media").join(&uuid);
    assert!(!files_in(&media).is_empty());
    let r = s
        .delete(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while media.exists() {
        assert!(std::time::Instant::now() < deadline, "media removed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_error(s.get(&thumb2).send().unwrap(), 404, "not_found");
    assert_error(
        s.get(path_of(&s, &torrent_url)).send().unwrap(),
        404,
        "not_found",
    );
}

/// The `.torrent` has one file of the served length, pieces that hash the served bytes, the
/// file URL as web seed, and the info hash the magnet link names.
fn check_torrent(torrent: &[u8], file: &[u8], file_url: &str, magnet: &str) {
    use serde_bencode::value::Value as B;
    let B::Dict(top) = serde_bencode::from_bytes::<B>(torrent).unwrap() else {
        panic!("not a dictionary")
    };
    let get = |d: &std::collections::HashMap<Vec<u8>, B>, k: &str| d[k.as_bytes()].clone();
    assert_eq!(
        get(&top, "url-list"),
        B::List(vec![B::Bytes(file_url.as_bytes().to_vec())])
    );
    let B::Dict(info) = get(&top, "info") else {
        panic!("no info")
    };
    assert_eq!(get(&info, "length"), B::Int(file.len() as i64));
    let B::Int(piece) = get(&info, "piece length") else {
        panic!("no piece length")
    };
    let B::Bytes(pieces) = get(&info, "pieces") else {
        panic!("no pieces")
    };
    let sha1 = |b: &[u8]| ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, b);
    let chunks: Vec<&[u8]> = file.chunks(piece as usize).collect();
    assert_eq!(pieces.len(), chunks.len() * 20);
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(&pieces[i * 20..i * 20 + 20], sha1(c).as_ref(), "piece {i}");
    }
    let info_bytes = serde_bencode::to_bytes(&B::Dict(info)).unwrap();
    let hash: String = sha1(&info_bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(magnet.contains(&format!("xt=urn:btih:{hash}")), "{magnet}");
}

/// A file whose headers are sound but whose data stops early is refused by the probe, which
/// reads the sample tables as the pipeline will, with the reason, and nothing of it is kept.
#[test]
fn a_truncated_upload_is_refused_with_a_reason_and_leaves_nothing() {
    let work = tempdir();
    let faststart = work.path().join("faststart.mp4");
    Ffmpeg::new()
        .input(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/fixtures/media/bigbuckbunny.mp4"),
        )
        .args(["-c", "copy", "-movflags", "+faststart"])
        .make(&faststart);
    let mut bytes = std::fs::read(&faststart).unwrap();
    bytes.truncate(bytes.len() * 6 / 10);

    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let channel = channel_id(&s, &root);
    let r = crate::uploads::single_upload(&s, &root, channel, "Cut short", bytes);
    let e = crate::common::assert_error(r, 422, "unsupported_media");
    let reason = e["detail"].as_str().unwrap();
    assert!(reason.contains("beyond the end of the file"), "{reason}");
    assert!(files_in(&s.data_dir.join("media")).is_empty());
    assert!(files_in(&s.data_dir.join("uploads")).is_empty());
    // Not listed, and the server goes on serving.
    let list = s.get_json("/api/v1/videos");
    assert_eq!(list["total"], 0);
}
