//! The video metadata API over videos stored through the library (uploads come later): listing
//! with sorts, filters and pagination, visibility rules, lookup by id/UUID/short UUID, updates,
//! deletion (and the job that removes a deleted video's files), and the vocabularies.

use serde_json::{Value, json};
use vireo::config::Config;
use vireo::model::video::{CommentsPolicy, Privacy, VideoState};
use vireo::service::Core;
use vireo::service::videos::{self, NewVideo};

use crate::common::{Server, assert_error, tempdir, token_of};

fn new_video(
    channel_id: u64,
    name: &str,
    privacy: Privacy,
    category: Option<u32>,
    tags: &[&str],
) -> NewVideo {
    NewVideo {
        channel_id,
        name: name.into(),
        description: Some(format!("About {name}. {}", "Long text. ".repeat(40))),
        support: None,
        category,
        licence: Some(1),
        language: Some("en".into()),
        privacy,
        nsfw: false,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        comments_policy: CommentsPolicy::Enabled,
        download_enabled: true,
        wait_transcoding: false,
        state: VideoState::Published,
        duration: 60,
        originally_published_at_ms: None,
        input_size: 0,
    }
}

/// Seed videos with the server stopped, through the same services the server uses.
fn seed(dir: &std::path::Path) -> Vec<(String, uuid::Uuid)> {
    let mut config = Config::default();
    config.storage.data_dir = dir.to_owned();
    let core = Core::open(config).unwrap();
    let tx = core.store.read().unwrap();
    let host = core.config().public_host();
    let root_channel = vireo::service::actors::find_channel(&tx, "root_channel", &host)
        .unwrap()
        .unwrap()
        .id;
    let hank_channel = vireo::service::actors::find_channel(&tx, "hank_channel", &host)
        .unwrap()
        .unwrap()
        .id;
    drop(tx);
    let mut made = Vec::new();
    for i in 0..20u32 {
        let v = videos::create(
            &core,
            new_video(
                root_channel,
                &format!("Root video {i:02}"),
                Privacy::Public,
                Some(1 + i % 3),
                &["rust", if i % 2 == 0 { "even" } else { "odd" }],
            ),
        )
        .unwrap();
        made.push((v.name.clone(), v.uuid));
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    for (name, privacy) in [
        ("Hank private", Privacy::Private),
        ("Hank unlisted", Privacy::Unlisted),
        ("Hank internal", Privacy::Internal),
        ("Hank public", Privacy::Public),
    ] {
        let v = videos::create(&core, new_video(hank_channel, name, privacy, None, &[])).unwrap();
        made.push((v.name.clone(), v.uuid));
    }
    let mut nsfw = new_video(hank_channel, "Hank nsfw", Privacy::Public, None, &[]);
    nsfw.nsfw = true;
    videos::create(&core, nsfw).unwrap();
    made
}

fn names(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn video_metadata_api() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "hank", "hank-password", 2);
    assert!(s.stop());
    let made = seed(dir.path());
    let s = Server::start(dir.path());
    let root = s.root_token();
    let hank = token_of(&s.login("hank", "hank-password"));

    // Anonymous: public, non-NSFW, newest first, 15 per page.
    let page = s.get_json("/api/v1/videos");
    assert_eq!(page["total"], 21);
    assert_eq!(page["data"].as_array().unwrap().len(), 15);
    assert_eq!(names(&page)[0], "Hank public");
    let first = &page["data"][1];
    assert_eq!(first["name"], "Root video 19");
    assert_eq!(first["privacy"], json!({"id": 1, "label": "Public"}));
    assert_eq!(first["licence"], json!({"id": 1, "label": "Attribution"}));
    assert_eq!(first["language"], json!({"id": "en", "label": "English"}));
    assert_eq!(first["account"]["name"], "root");
    assert_eq!(first["channel"]["name"], "root_channel");
    assert_eq!(
        first["truncatedDescription"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        250
    );
    assert_eq!(first["shortUUID"].as_str().unwrap().len(), 22);

    // Sorts, pagination and filters.
    let v = s.get_json("/api/v1/videos?sort=name&start=0&count=3&isLocal=true");
    assert_eq!(names(&v), ["Hank public", "Root video 00", "Root video 01"]);
    let v = s.get_json("/api/v1/videos?sort=-name&start=1&count=2");
    assert_eq!(names(&v), ["Root video 18", "Root video 17"]);
    let v = s.get_json("/api/v1/videos?categoryOneOf=1&categoryOneOf=2&tagsAllOf=even&count=100");
    assert_eq!(v["total"], 7, "{v}");
    let v = s.get_json("/api/v1/videos?tagsOneOf[]=odd&skipCount=true");
    assert!(v.get("total").is_none());
    assert_eq!(v["data"].as_array().unwrap().len(), 10);
    let v = s.get_json("/api/v1/videos?nsfw=true");
    assert_eq!(names(&v), ["Hank nsfw"]);
    let v = s.get_json("/api/v1/videos?search=VIDEO%2007");
    assert_eq!(names(&v), ["Root video 07"]);
    let v = s.get_json("/api/v1/videos?isLive=true");
    assert_eq!(v["total"], 0);

    // Logged-in users also see internal videos; moderators may ask for any privacy.
    let v = s.get_json_as("/api/v1/videos?count=100", &hank);
    assert_eq!(v["total"], 22);
    let v = s.get_json_as("/api/v1/videos?privacyOneOf=3", &root);
    assert_eq!(names(&v), ["Hank private"]);
    assert_error(
        s.get("/api/v1/videos?privacyOneOf=3")
            .bearer_auth(&hank)
            .send()
            .unwrap(),
        401,
        "unauthorized_request",
    );

    // Per channel and per account.
    let v = s.get_json("/api/v1/video-channels/hank_channel/videos");
    assert_eq!(names(&v), ["Hank public"]);
    let v = s.get_json("/api/v1/accounts/root/videos?count=5");
    assert_eq!(v["total"], 20);

    // One video, by id, UUID and short UUID; private ones only for owner and moderators.
    let (_, uuid) = made.iter().find(|(n, _)| n == "Hank private").unwrap();
    let details = s.get_json_as(&format!("/api/v1/videos/{uuid}"), &hank);
    assert_eq!(details["name"], "Hank private");
    assert_eq!(details["channel"]["ownerAccount"]["name"], "hank");
    assert_eq!(details["state"], json!({"id": 1, "label": "Published"}));
    assert_eq!(details["commentsPolicy"]["id"], 1);
    let short = details["shortUUID"].as_str().unwrap();
    let id = details["id"].as_u64().unwrap();
    for key in [id.to_string(), short.to_owned()] {
        let d = s.get_json_as(&format!("/api/v1/videos/{key}"), &root);
        assert_eq!(d["uuid"], uuid.to_string());
    }
    assert_error(
        s.get(&format!("/api/v1/videos/{uuid}")).send().unwrap(),
        401,
        "unauthorized_request",
    );
    s.create_user(&root, "ivan", "ivan-password", 2);
    let ivan = token_of(&s.login("ivan", "ivan-password"));
    assert_error(
        s.get(&format!("/api/v1/videos/{uuid}"))
            .bearer_auth(&ivan)
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    let (_, unlisted) = made.iter().find(|(n, _)| n == "Hank unlisted").unwrap();
    assert_eq!(
        s.get(&format!("/api/v1/videos/{unlisted}"))
            .send()
            .unwrap()
            .status(),
        200
    );

    // Updates: owner only; bad values refused and nothing changed.
    let path = format!("/api/v1/videos/{uuid}");
    assert_error(
        s.put(&path)
            .bearer_auth(&ivan)
            .json(&json!({"name": "stolen"}))
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    assert_error(
        s.put(&path)
            .bearer_auth(&hank)
            .json(&json!({"name": "no"}))
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    assert_error(
        s.put(&path)
            .bearer_auth(&hank)
            .json(&json!({"category": 99}))
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    assert_error(
        s.put(&path)
            .bearer_auth(&hank)
            .json(&json!({"privacy": 9}))
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    assert_error(
        s.put(&path)
            .bearer_auth(&hank)
            .json(&json!({"tags": ["a"]}))
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    assert_error(
        s.put(&path)
            .bearer_auth(&hank)
            .json(&json!({"channelId": 1}))
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    let r = s.put(&path).bearer_auth(&hank)
        .json(&json!({"name": "Hank now public", "privacy": 1, "category": 15, "tags": ["science", "space"], "description": null, "commentsPolicy": 2}))
        .send().unwrap();
    assert_eq!(r.status(), 204);
    let d = s.get_json(&path);
    assert_eq!(
        (d["name"].as_str(), d["category"]["label"].as_str()),
        (Some("Hank now public"), Some("Science & Technology"))
    );
    assert_eq!(d["description"], Value::Null);
    assert_eq!(d["commentsEnabled"], false);
    assert_eq!(d["tags"], json!(["science", "space"]));
    let v = s.get_json("/api/v1/videos?tagsOneOf=space");
    assert_eq!(
        names(&v),
        ["Hank now public"],
        "the list sees the update at once"
    );

    // The same update as multipart/form-data, as PeerTube's web client and the PyPI client send it.
    let form = reqwest::blocking::multipart::Form::new()
        .text("name", "Hank via multipart")
        .text("category", "2")
        .text("nsfw", "false")
        .text("tags[0]", "multi")
        .text("tags[1]", "part");
    assert_eq!(
        s.put(&path)
            .bearer_auth(&hank)
            .multipart(form)
            .send()
            .unwrap()
            .status(),
        204
    );
    let d = s.get_json(&path);
    assert_eq!(
        (d["name"].as_str(), d["category"]["id"].as_u64()),
        (Some("Hank via multipart"), Some(2))
    );
    assert_eq!(d["tags"], json!(["multi", "part"]));
    let bad = reqwest::blocking::multipart::Form::new().text("privacy", "public");
    assert_error(
        s.put(&path)
            .bearer_auth(&hank)
            .multipart(bad)
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    let file = reqwest::blocking::multipart::Form::new().part(
        "thumbnailfile",
        reqwest::blocking::multipart::Part::bytes(vec![0xff, 0xd8]).file_name("t.jpg"),
    );
    assert_error(
        s.put(&path)
            .bearer_auth(&hank)
            .multipart(file)
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    let d = s.get_json(&path);
    assert_eq!(
        d["name"], "Hank via multipart",
        "refused updates change nothing"
    );

    let v = s.get_json("/api/v1/videos?tagsOneOf=multi");
    assert_eq!(v["total"], 1);

    // Deletion: gone from lists at once; its media directory is removed by a background job.
    let media = dir.path().join("media").join(uuid.to_string());
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(media.join("leftover.mp4"), b"x").unwrap();
    assert_error(
        s.delete(&path).bearer_auth(&ivan).send().unwrap(),
        403,
        "forbidden",
    );
    assert_eq!(
        s.delete(&path).bearer_auth(&hank).send().unwrap().status(),
        204
    );
    assert_error(
        s.get(&path).bearer_auth(&root).send().unwrap(),
        404,
        "not_found",
    );
    let v = s.get_json("/api/v1/videos?tagsOneOf=multi");
    assert_eq!(v["total"], 0, "not served stale from the list cache");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while media.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "media of a deleted video removed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Deleting a user deletes their channels and videos.
    let hank_id = s
        .get("/api/v1/accounts/hank")
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap()["userId"]
        .as_u64()
        .unwrap();
    assert_eq!(
        s.delete(&format!("/api/v1/users/{hank_id}"))
            .bearer_auth(&root)
            .send()
            .unwrap()
            .status(),
        204
    );
    let v = s.get_json("/api/v1/videos?count=100&nsfw=both");
    assert_eq!(v["total"], 20);
    assert_error(
        s.get(&format!("/api/v1/videos/{unlisted}")).send().unwrap(),
        404,
        "not_found",
    );
}

#[test]
fn vocabularies_and_config() {
    let dir = tempdir();
    let s = Server::start_with(dir.path(), &[("VIREO_INSTANCE__NAME", "Test Tube")]);
    let c = s.get_json("/api/v1/videos/categories");
    assert_eq!(c["15"], "Science & Technology");
    let l = s.get_json("/api/v1/videos/licences");
    assert_eq!(l["7"], "Public Domain Dedication");
    let p = s.get_json("/api/v1/videos/privacies");
    assert_eq!(
        p,
        json!({"1": "Public", "2": "Unlisted", "3": "Private", "4": "Internal", "5": "Password protected"})
    );
    let langs = s.get_json("/api/v1/videos/languages");
    assert_eq!(langs["fr"], "French");
    assert!(langs.as_object().unwrap().len() > 150);
    let config = s.get_json("/api/v1/config");
    assert_eq!(config["instance"]["name"], "Test Tube");
    assert_eq!(config["user"]["videoQuota"], -1);
    assert_eq!(
        config["transcoding"]["enabledResolutions"],
        json!([]),
        "transcoding off in the harness"
    );
    let about = s.get_json("/api/v1/config/about");
    assert_eq!(about["instance"]["name"], "Test Tube");
    assert_eq!(s.get("/livez").send().unwrap().status(), 200);
}
