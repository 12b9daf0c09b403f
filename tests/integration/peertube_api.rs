//! What PeerTube's clients rely on beyond the happy path, one test per rule, against the real
//! server: bodies read as PeerTube reads them (forms as well as JSON, objects only, `null` only
//! where a field may be cleared), values checked against their lists, list filters applied or
//! refused, the JSON shapes its player reads (file metadata included), upload checks made at
//! once, administrators managing every user, and PeerTube's status for a private file.

use reqwest::Method;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::{Server, assert_error, json_of, tempdir};
use crate::uploads::{CLIP, channel_id, clip, clip_form};

/// A server with transcoding off (the remux alone makes HLS and progressive files quickly).
fn server(dir: &std::path::Path) -> Server {
    Server::start_with(
        dir,
        &[
            ("VIREO_TRANSCODING__ENABLED", "false"),
            ("VIREO_SIGNUP__ENABLED", "true"),
        ],
    )
}

/// Upload the fixture clip and wait until it is published with its HLS and progressive files.
fn published_video(s: &Server, token: &str, privacy: u8) -> Value {
    let form = clip_form(channel_id(s, token), "API shapes").text("privacy", privacy.to_string());
    let r = s
        .post("/api/v1/videos/upload")
        .bearer_auth(token)
        .multipart(form)
        .send()
        .unwrap();
    let uuid = json_of(r, "upload")["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let v = s.get_json_as(&format!("/api/v1/videos/{uuid}"), token);
        let published = v["state"]["id"] == 1;
        if published
            && v["files"][0]["torrentUrl"].is_string()
            && !v["streamingPlaylists"][0].is_null()
        {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "files listed: {v}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn form_put(s: &Server, path: &str, token: &str, pairs: &[(&str, &str)]) -> u16 {
    s.put(path)
        .bearer_auth(token)
        .form(pairs)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn form_bodies_are_read_as_json_ones_and_no_content_type_reads_as_no_fields() {
    let dir = tempdir();
    let s = server(dir.path());
    let root = s.root_token();

    assert_eq!(
        form_put(&s, "/api/v1/users/me", &root, &[("displayName", "Bobby")]),
        204
    );
    assert_eq!(s.me(&root)["account"]["displayName"], "Bobby");
    // Typed fields are parsed from the form's text; bad text names the field.
    assert_eq!(
        form_put(
            &s,
            "/api/v1/users/me",
            &root,
            &[("autoPlayVideo", "false"), ("videoLanguages[]", "fr")]
        ),
        204
    );
    let me = s.me(&root);
    assert_eq!(me["autoPlayVideo"], false);
    assert_eq!(me["videoLanguages"], json!(["fr"]));
    let r = s
        .put("/api/v1/users/me")
        .bearer_auth(&root)
        .form(&[("autoPlayVideo", "maybe")])
        .send()
        .unwrap();
    let e = assert_error(r, 400, "invalid_params");
    assert!(e["invalid-params"]["autoPlayVideo"].is_object(), "{e}");

    let r = s
        .post("/api/v1/video-channels")
        .bearer_auth(&root)
        .form(&[("name", "form_channel"), ("displayName", "Made by a form")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let c = s.get_json("/api/v1/video-channels/form_channel");
    assert_eq!(c["displayName"], "Made by a form");

    let r = s
        .post("/api/v1/users/register")
        .form(&[
            ("username", "formuser"),
            ("password", "Form-Pw-123"),
            ("email", "formuser@example.org"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().unwrap());
    s.login("formuser", "Form-Pw-123");

    // No Content-Type: no fields. An update of nothing changes nothing; a creation misses its
    // required fields (PeerTube's validation error, not 415).
    let r = s
        .put("/api/v1/users/me")
        .bearer_auth(&root)
        .body("displayName=Ignored")
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(s.me(&root)["account"]["displayName"], "Bobby");
    let r = s
        .post("/api/v1/video-channels")
        .bearer_auth(&root)
        .body("{\"name\": \"no_type\"}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    // A type PeerTube has no parser for is named as such.
    let r = s
        .put("/api/v1/users/me")
        .bearer_auth(&root)
        .header("content-type", "text/plain")
        .body("displayName=x")
        .send()
        .unwrap();
    assert_error(r, 415, "unsupported_media_type");
}

#[test]
fn bodies_and_nested_objects_must_be_objects() {
    let dir = tempdir();
    let s = server(dir.path());
    let root = s.root_token();
    let users_before = s.get_json_as("/api/v1/users", &root)["total"].clone();

    let r = s.send_json(
        Method::POST,
        "/api/v1/users",
        &root,
        &json!([
            "arrayuser",
            "Array-Pw-123",
            "arrayuser@example.org",
            2,
            null,
            null,
            null,
            null
        ]),
    );
    let e = assert_error(r, 400, "bad_request");
    assert!(e["detail"].as_str().unwrap().contains("object"), "{e}");
    assert_eq!(s.get_json_as("/api/v1/users", &root)["total"], users_before);

    let name_before = s.get_json("/api/v1/config")["instance"]["name"].clone();
    let mut doc = s.get_json_as("/api/v1/config/custom", &root);
    doc["instance"] = json!(["Renamed", "short"]);
    let r = s
        .put("/api/v1/config/custom")
        .bearer_auth(&root)
        .json(&doc)
        .send()
        .unwrap();
    let e = assert_error(r, 400, "invalid_params");
    assert!(e["invalid-params"]["instance"].is_object(), "{e}");
    for body in ["[]", "null", "\"text\"", "3"] {
        let r = s
            .put("/api/v1/config/custom")
            .bearer_auth(&root)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
    }
    assert_eq!(
        s.get_json("/api/v1/config")["instance"]["name"],
        name_before
    );
}

#[test]
fn null_is_refused_where_a_value_is_required() {
    let dir = tempdir();
    let s = server(dir.path());
    let root = s.root_token();
    let bob = s.create_user(&root, "bob", "Bob-Pw-1234", 2);

    let r = s.send_json(
        Method::PUT,
        &format!("/api/v1/users/{bob}"),
        &root,
        &json!({"email": null, "role": null, "videoQuota": null}),
    );
    let e = assert_error(r, 400, "invalid_params");
    assert!(e["invalid-params"].as_object().unwrap().len() == 1, "{e}");
    let r = s.send_json(
        Method::PUT,
        "/api/v1/users/me",
        &root,
        &json!({"theme": null}),
    );
    let e = assert_error(r, 400, "invalid_params");
    assert!(e["invalid-params"]["theme"].is_object(), "{e}");
    // Preferences Vireo drops are still checked as PeerTube checks them.
    let r = s.send_json(
        Method::PUT,
        "/api/v1/users/me",
        &root,
        &json!({"noWelcomeModal": null}),
    );
    let e = assert_error(r, 400, "invalid_params");
    assert!(e["invalid-params"]["noWelcomeModal"].is_object(), "{e}");
    let r = s.send_json(
        Method::PUT,
        "/api/v1/users/me",
        &root,
        &json!({"noWelcomeModal": true, "autoPlayNextVideo": false}),
    );
    assert_eq!(r.status(), 204);

    // Where PeerTube clears a field with null, so does Vireo.
    let r = s.send_json(
        Method::PUT,
        "/api/v1/users/me",
        &root,
        &json!({"description": "An administrator", "videoLanguages": ["en"]}),
    );
    assert_eq!(r.status(), 204);
    let r = s.send_json(
        Method::PUT,
        "/api/v1/users/me",
        &root,
        &json!({"description": null, "videoLanguages": null, "displayName": null}),
    );
    assert_eq!(r.status(), 204, "{}", r.text().unwrap());
    let me = s.me(&root);
    assert_eq!(me["account"]["description"], Value::Null);
    assert_eq!(me["videoLanguages"], Value::Null);
    assert_eq!(me["account"]["displayName"], "root");
}

#[test]
fn languages_and_themes_come_from_their_lists() {
    let dir = tempdir();
    let s = server(dir.path());
    let root = s.root_token();

    let r = s.send_json(
        Method::PUT,
        "/api/v1/users/me",
        &root,
        &json!({"theme": "hacker-green"}),
    );
    let e = assert_error(r, 400, "invalid_params");
    assert!(e["invalid-params"]["theme"].is_object(), "{e}");
    for theme in ["instance-default", "default"] {
        let r = s.send_json(
            Method::PUT,
            "/api/v1/users/me",
            &root,
            &json!({ "theme": theme }),
        );
        assert_eq!(r.status(), 204, "{theme}");
    }
    let r = s.send_json(
        Method::PUT,
        "/api/v1/users/me",
        &root,
        &json!({"videoLanguages": ["en", "notalang"]}),
    );
    assert_error(r, 400, "invalid_params");

    // On the resumable start, the multipart upload and an update alike.
    let channel = channel_id(&s, &root);
    let r = s
        .post("/api/v1/videos/upload-resumable")
        .bearer_auth(&root)
        .header("x-upload-content-length", "1000")
        .header("x-upload-content-type", "video/mp4")
        .json(&json!({"channelId": channel, "name": "Lang", "filename": "a.mp4", "language": "notalang"}))
        .send()
        .unwrap();
    let e = assert_error(r, 400, "invalid_params");
    assert!(e["invalid-params"]["language"].is_object(), "{e}");
    let form = clip_form(channel, "Lang").text("language", "notalang");
    let r = s
        .post("/api/v1/videos/upload")
        .bearer_auth(&root)
        .multipart(form)
        .send()
        .unwrap();
    assert_error(r, 400, "invalid_params");
    let v = published_video(&s, &root, 1);
    let uuid = v["uuid"].as_str().unwrap();
    let r = s.send_json(
        Method::PUT,
        &format!("/api/v1/videos/{uuid}"),
        &root,
        &json!({"language": "notalang"}),
    );
    assert_error(r, 400, "invalid_params");
    let r = s.send_json(
        Method::PUT,
        &format!("/api/v1/videos/{uuid}"),
        &root,
        &json!({"language": "fr"}),
    );
    assert_eq!(r.status(), 204);
    let v = s.get_json(&format!("/api/v1/videos/{uuid}"));
    assert_eq!(v["language"], json!({"id": "fr", "label": "French"}));
}

fn listed(s: &Server, query: &str) -> Vec<String> {
    let v = s.get_json(&format!("/api/v1/videos?{query}"));
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["uuid"].as_str().unwrap().to_owned())
        .collect()
}

fn one(uuid: &str) -> Vec<String> {
    vec![uuid.to_owned()]
}

#[test]
fn file_filters_apply_and_unbuilt_or_malformed_ones_are_refused() {
    let dir = tempdir();
    let s = server(dir.path());
    let root = s.root_token();
    let v = published_video(&s, &root, 1);
    let uuid = v["uuid"].as_str().unwrap().to_owned();

    assert_eq!(listed(&s, "hasHLSFiles=true"), one(&uuid));
    assert!(listed(&s, "hasHLSFiles=false").is_empty());
    assert_eq!(listed(&s, "hasWebVideoFiles=true"), one(&uuid));
    // Without its HLS files, the video moves to the other side of the filter.
    let r = s
        .delete(&format!("/api/v1/videos/{uuid}/hls"))
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().unwrap());
    assert!(listed(&s, "hasHLSFiles=true").is_empty());
    assert_eq!(listed(&s, "hasHLSFiles=false"), one(&uuid));
    assert_eq!(
        listed(&s, "hasHLSFiles=false&hasWebVideoFiles=true"),
        one(&uuid)
    );
    // The same filter holds after a restart (the catalogue is rebuilt from the store).
    drop(s);
    let s = server(dir.path());
    assert!(listed(&s, "hasHLSFiles=true").is_empty());
    assert_eq!(listed(&s, "hasHLSFiles=false"), one(&uuid));

    for query in [
        "excludeAlreadyWatched=true",
        "hasHLSFiles=null",
        "skipCount=1",
        "sort=",
        "hasHLSFiles=",
        "isLocal=yes",
        "start=",
        "count=",
        "skipCount=maybe",
    ] {
        let r = s.get(&format!("/api/v1/videos?{query}")).send().unwrap();
        let e = assert_error(r, 400, "invalid_params");
        let name = query.split('=').next().unwrap();
        assert!(e["invalid-params"][name].is_object(), "{query}: {e}");
    }
    // The sort keys PeerTube accepts for each list, and none else.
    for (path, sort) in [
        ("/api/v1/videos", "-localVideoFilesSize"),
        ("/api/v1/videos", "comments"),
        ("/api/v1/search/video-channels", "-match"),
        ("/api/v1/search/video-channels", "displayName"),
    ] {
        let r = s.get(&format!("{path}?sort={sort}")).send().unwrap();
        assert_eq!(r.status(), 200, "{path}?sort={sort}");
    }
    for sort in ["lastLoginDate", "-videoQuotaUsed"] {
        let r = s
            .get(&format!("/api/v1/users?sort={sort}"))
            .bearer_auth(&root)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{sort}");
    }
    for (path, sort) in [("/api/v1/users", "email"), ("/api/v1/accounts", "")] {
        let r = s
            .get(&format!("{path}?sort={sort}"))
            .bearer_auth(&root)
            .send()
            .unwrap();
        assert_error(r, 400, "invalid_params");
    }
    let r = s
        .get("/api/v1/search/videos?search=bunny&excludeAlreadyWatched=false")
        .send()
        .unwrap();
    assert_error(r, 400, "invalid_params");
    let root = s.root_token();
    // With a token, excludeAlreadyWatched excludes nothing: no watch history is kept (every
    // user's `videosHistoryEnabled` is false). No video carries an automatic tag, and asking
    // for them needs a moderator, as in PeerTube.
    let as_root = |q: &str| {
        let v = s.get_json_as(&format!("/api/v1/videos?{q}"), &root);
        v["data"].as_array().unwrap().len()
    };
    assert_eq!(as_root("excludeAlreadyWatched=true"), 1);
    assert_eq!(as_root("autoTagOneOf=spam"), 0);
    let r = s.get("/api/v1/videos?autoTagOneOf=spam").send().unwrap();
    assert_error(r, 401, "unauthorized_request");
    let r = s
        .get("/api/v1/users/1?withStats=null")
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_error(r, 400, "invalid_params");
    let with = s.get_json_as("/api/v1/users/1?withStats=true", &root);
    assert_eq!(with["videosCount"], 1, "{with}");
    let without = s.get_json_as("/api/v1/users/1", &root);
    assert!(without.get("videosCount").is_none());
}

/// ffprobe's own JSON of a file, the reference the metadata endpoint's shape comes from.
fn ffprobe(path: &std::path::Path) -> Value {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_shapes_clients_read_file_metadata_included() {
    let dir = tempdir();
    let s = server(dir.path());
    let root = s.root_token();
    let v = published_video(&s, &root, 1);
    let uuid = v["uuid"].as_str().unwrap();

    assert_eq!(v["account"]["hostRedundancyAllowed"], false, "{v}");
    assert_eq!(v["channel"]["hostRedundancyAllowed"], false);
    let account = s.get_json("/api/v1/accounts/root");
    assert_eq!(account["hostRedundancyAllowed"], false);

    // Every file links its metadata, and the ids are distinct across both lists.
    let mut files: Vec<&Value> = v["files"].as_array().unwrap().iter().collect();
    files.extend(v["streamingPlaylists"][0]["files"].as_array().unwrap());
    let mut ids: Vec<u64> = files.iter().map(|f| f["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), files.len(), "{v}");
    let probe = ffprobe(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CLIP));
    for f in files {
        let url = f["metadataUrl"].as_str().unwrap();
        assert!(
            url.ends_with(&format!("/api/v1/videos/{uuid}/metadata/{}", f["id"])),
            "{url}"
        );
        let path = url.strip_prefix(&s.url).unwrap();
        let m = s.get_json(path);
        let video = &m["streams"][0];
        assert_eq!(video["codec_type"], "video");
        assert_eq!(video["codec_name"], "h264", "{m}");
        assert_eq!(video["width"], f["width"]);
        assert_eq!(video["height"], f["height"]);
        assert_eq!(m["format"]["size"], f["size"].to_string());
        // The same facts ffprobe finds in the uploaded clip (a remux keeps its streams).
        let reference = &probe["streams"][0];
        assert_eq!(video["r_frame_rate"], reference["r_frame_rate"], "{m}");
        let seconds: f64 = m["format"]["duration"].as_str().unwrap().parse().unwrap();
        let expected: f64 = probe["format"]["duration"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((seconds - expected).abs() < 0.1, "{seconds} vs {expected}");
        assert_eq!(
            m["streams"].as_array().unwrap().len(),
            f["hasAudio"].as_bool().map_or(1, |a| 1 + a as usize)
        );
    }
    let r = s
        .get(&format!("/api/v1/videos/{uuid}/metadata/999"))
        .send()
        .unwrap();
    assert_error(r, 404, "not_found");
    let r = s
        .get(&format!("/api/v1/videos/{uuid}/metadata/x"))
        .send()
        .unwrap();
    assert_error(r, 400, "invalid_params");

    let custom = s.get_json_as("/api/v1/config/custom", &root);
    let email = s.me(&root)["email"].clone();
    assert!(email.as_str().is_some_and(|e| e.contains('@')));
    assert_eq!(custom["admin"]["email"], email);

    // A channel's support text reaches its videos when asked (bulkVideosSupportUpdate).
    let channel = "/api/v1/video-channels/root_channel";
    let body = json!({"support": "Support this channel", "bulkVideosSupportUpdate": true});
    assert_eq!(
        s.send_json(Method::PUT, channel, &root, &body).status(),
        204
    );
    let v = s.get_json(&format!("/api/v1/videos/{uuid}"));
    assert_eq!(v["support"], "Support this channel");
    let body = json!({"bulkVideosSupportUpdate": null});
    assert_error(
        s.send_json(Method::PUT, channel, &root, &body),
        400,
        "invalid_params",
    );
    let mine = s.get_json_as("/api/v1/users/me/videos", &root);
    assert_eq!(mine["data"][0]["blacklisted"], false, "{mine}");
    assert_eq!(mine["data"][0]["blacklistedReason"], Value::Null);
}

#[test]
fn uploads_are_checked_when_announced() {
    let dir = tempdir();
    let s = server(dir.path());
    let root = s.root_token();
    let channel = channel_id(&s, &root);
    let start = |filename: &str, media_type: &str| {
        s.post("/api/v1/videos/upload-resumable")
            .bearer_auth(&root)
            .header("x-upload-content-length", "1000")
            .header("x-upload-content-type", media_type)
            .json(&json!({"channelId": channel, "name": "Announced", "filename": filename}))
            .send()
            .unwrap()
    };
    assert_error(
        start("page.html", "text/html"),
        415,
        "unsupported_media_type",
    );
    let e = assert_error(
        start("../../etc/passwd", "video/mp4"),
        400,
        "invalid_params",
    );
    assert!(e["invalid-params"]["filename"].is_object(), "{e}");
    assert_eq!(start("clip.mp4", "video/mp4").status(), 201);

    let part = |mime: &str| {
        Part::bytes(clip())
            .file_name("clip.mp4")
            .mime_str(mime)
            .unwrap()
    };
    let upload = |form: Form| {
        s.post("/api/v1/videos/upload")
            .bearer_auth(&root)
            .multipart(form)
            .send()
            .unwrap()
    };
    let base = || {
        Form::new()
            .text("channelId", channel.to_string())
            .text("name", "Two files")
    };
    // A legacy upload without a form is refused in PeerTube's shape.
    let r = s
        .post("/api/v1/videos/upload")
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_error(r, 400, "bad_request");
    // An unknown channel is not found; an upload id that cannot exist neither.
    let r = s
        .post("/api/v1/videos/upload-resumable")
        .bearer_auth(&root)
        .header("x-upload-content-length", "1000")
        .json(&json!({"channelId": 999, "name": "Nowhere", "filename": "a.mp4"}))
        .send()
        .unwrap();
    assert_error(r, 404, "not_found");
    let r = s
        .delete("/api/v1/videos/upload-resumable?upload_id=")
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_error(r, 404, "not_found");
    let r = upload(
        base()
            .part("videofile", part("video/mp4"))
            .part("videofile", part("video/mp4")),
    );
    let e = assert_error(r, 400, "invalid_params");
    assert!(e["invalid-params"]["videofile"].is_object(), "{e}");
    assert_error(
        upload(base().part("videofile", part("text/html"))),
        415,
        "unsupported_media_type",
    );
    let videos = s.get_json_as("/api/v1/users/me/videos", &root);
    assert_eq!(videos["total"], 0, "{videos}");
}

#[test]
fn administrators_manage_every_user_but_roots_role() {
    let dir = tempdir();
    let s = server(dir.path());
    let root = s.root_token();
    let r = s.send_json(
        Method::PUT,
        "/api/v1/users/1",
        &root,
        &json!({"email": "root-new@example.org", "videoQuota": 5000000}),
    );
    assert_eq!(r.status(), 204, "{}", r.text().unwrap());
    let me = s.me(&root);
    assert_eq!(me["email"], "root-new@example.org");
    assert_eq!(me["videoQuota"], 5_000_000);
    let r = s.send_json(Method::PUT, "/api/v1/users/1", &root, &json!({"role": 2}));
    let e = assert_error(r, 400, "bad_request");
    assert_eq!(e["detail"], "Cannot change root role.");

    // Another administrator manages root and other administrators too, not root's role.
    let admin = s.create_user(&root, "second", "Second-Pw-123", 0);
    let second = s.login("second", "Second-Pw-123");
    let second = crate::common::token_of(&second);
    let r = s.send_json(
        Method::PUT,
        "/api/v1/users/1",
        &second,
        &json!({"videoQuotaDaily": 7000000}),
    );
    assert_eq!(r.status(), 204);
    let r = s.send_json(Method::PUT, "/api/v1/users/1", &second, &json!({"role": 1}));
    assert_error(r, 400, "bad_request");
    let r = s.send_json(
        Method::PUT,
        &format!("/api/v1/users/{admin}"),
        &second,
        &json!({"videoQuota": 1000}),
    );
    assert_eq!(r.status(), 204);
    let r = s
        .post(&format!("/api/v1/users/{admin}/block"))
        .bearer_auth(&second)
        .send()
        .unwrap();
    assert_error(r, 400, "bad_request");
    // A moderator still manages plain users only.
    s.create_user(&root, "mod", "Mod-Pw-12345", 1);
    let moderator = crate::common::token_of(&s.login("mod", "Mod-Pw-12345"));
    let r = s.send_json(
        Method::PUT,
        &format!("/api/v1/users/{admin}"),
        &moderator,
        &json!({"videoQuota": 1}),
    );
    assert_error(r, 403, "forbidden");
}

#[test]
fn a_private_file_without_credentials_is_forbidden() {
    let dir = tempdir();
    let s = server(dir.path());
    let root = s.root_token();
    let v = published_video(&s, &root, 3);
    let file = v["files"][0]["fileUrl"].as_str().unwrap();
    let path = file.strip_prefix(&s.url).unwrap();
    assert_eq!(s.get(path).send().unwrap().status(), 403);
    let hls = v["streamingPlaylists"][0]["files"][0]["fileUrl"]
        .as_str()
        .unwrap();
    let hls = hls.strip_prefix(&s.url).unwrap();
    assert_eq!(s.get(hls).send().unwrap().status(), 403);
    assert_eq!(s.get(path).bearer_auth(&root).send().unwrap().status(), 200);
    // The video's API answer keeps PeerTube's 401 for an anonymous visitor.
    let r = s
        .get(&format!("/api/v1/videos/{}", v["uuid"].as_str().unwrap()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
}
