//! Full-text search through `GET /api/v1/search/videos` on the real server: the index is built in
//! the background at the first start, follows creations, updates and deletions through the job
//! queue, ranks title matches first, tolerates typos and prefixes, applies the list filters and
//! visibility rules, takes hostile input as plain text, and is rebuilt by `vireo reindex`.

use serde_json::{Value, json};
use vireo::config::Config;
use vireo::model::video::{CommentsPolicy, Privacy, VideoState};
use vireo::service::videos::{self, NewVideo};
use vireo::service::{Core, channels};

use crate::common::{Server, assert_error, tempdir};

fn new_video(
    channel_id: u64,
    name: &str,
    description: &str,
    privacy: Privacy,
    category: u32,
) -> NewVideo {
    NewVideo {
        channel_id,
        name: name.into(),
        description: Some(description.into()),
        support: None,
        category: Some(category),
        licence: Some(1),
        language: Some("en".into()),
        privacy,
        nsfw: false,
        tags: vec!["demo".into()],
        comments_policy: CommentsPolicy::Enabled,
        download_enabled: true,
        wait_transcoding: false,
        state: VideoState::Published,
        duration: 60,
        originally_published_at_ms: None,
        input_size: 0,
    }
}

fn seed(dir: &std::path::Path) {
    let mut config = Config::default();
    config.storage.data_dir = dir.to_owned();
    let core = Core::open(config).unwrap();
    let tx = core.store.read().unwrap();
    let channel = channels::by_handle(&tx, "root_channel", &core.config.public_host())
        .unwrap()
        .unwrap()
        .id;
    drop(tx);
    for (name, description, privacy, category) in [
        ("Big Buck Bunny", "An animated short", Privacy::Public, 1),
        (
            "Mountain biking in the Alps",
            "With a bunny sticker on the frame",
            Privacy::Public,
            2,
        ),
        (
            "Carbonara at home",
            "Cooking pasta the Roman way",
            Privacy::Public,
            3,
        ),
        (
            "Secret bunny plans",
            "Nobody else may see this",
            Privacy::Private,
            1,
        ),
    ] {
        videos::create(
            &core,
            new_video(channel, name, description, privacy, category),
        )
        .unwrap();
    }
}

fn names(s: &Server, query: &str) -> Vec<String> {
    let r = s
        .get(&format!("/api/v1/search/videos?{query}"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{query}");
    let v: Value = r.json().unwrap();
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Wait until a search for `query` gives `want` (indexing runs in the background).
fn eventually(s: &Server, query: &str, want: &[&str]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = s
            .get(&format!("/api/v1/search/videos?{query}"))
            .send()
            .unwrap();
        if r.status() == 200 {
            let v: Value = r.json().unwrap();
            let got: Vec<String> = v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["name"].as_str().unwrap().to_owned())
                .collect();
            if got == want {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{query}: {got:?}");
        } else {
            assert_eq!(r.status(), 503, "only 'indexing' while not ready");
            assert!(std::time::Instant::now() < deadline, "index built");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn search_finds_ranks_filters_follows_changes_and_reindexes() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    assert!(s.stop());
    seed(dir.path());
    let s = Server::start(dir.path());
    let root = s.root_token();

    // A title match ranks above a description match; the private video stays hidden.
    eventually(
        &s,
        "search=bunny",
        &["Big Buck Bunny", "Mountain biking in the Alps"],
    );
    // Typos, a prefix being typed, several words, a channel name. (The seeded videos reach the
    // index through their jobs, in order; the third one may still be on its way.)
    eventually(&s, "search=carbonnara", &["Carbonara at home"]);
    assert_eq!(
        names(&s, "search=mountian%20bikking"),
        ["Mountain biking in the Alps"]
    );
    assert_eq!(names(&s, "search=carbo"), ["Carbonara at home"]);
    assert_eq!(names(&s, "search=root_channel&count=2").len(), 2);
    assert!(names(&s, "search=zzzzqqq").is_empty());
    // The list filters apply.
    assert_eq!(
        names(&s, "search=bunny&categoryOneOf=2"),
        ["Mountain biking in the Alps"]
    );
    // Hostile or odd input is text: an answer, never an error.
    for q in [
        "%22",
        "%3A",
        "(",
        "*",
        "~",
        "title%3A(x%20OR",
        "%E2%9C%93%F0%9F%90%B0",
    ] {
        let r = s
            .get(&format!("/api/v1/search/videos?search={q}"))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{q}");
    }
    let long = "word+".repeat(2000);
    let r = s
        .get(&format!("/api/v1/search/videos?search={long}"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_error(
        s.get("/api/v1/search/videos?search=bunny&start=-1")
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );

    // An edit is searchable at once (the job queue), and a deletion disappears.
    let page: Value = s
        .get("/api/v1/search/videos?search=carbonara")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = page["data"][0]["id"].as_u64().unwrap();
    let r = s
        .put(&format!("/api/v1/videos/{id}"))
        .bearer_auth(&root)
        .json(&json!({"name": "Risotto at home"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    eventually(&s, "search=risotto", &["Risotto at home"]);
    let r = s
        .delete(&format!("/api/v1/videos/{id}"))
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    eventually(&s, "search=risotto", &[]);

    // `vireo reindex` rebuilds a lost index with the server stopped.
    assert!(s.stop());
    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    let out = std::process::Command::new(crate::common::bin())
        .args(["--data-dir"])
        .arg(dir.path())
        .arg("reindex")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("search index rebuilt: 3 videos"), "{said}");
    let s = Server::start(dir.path());
    assert_eq!(
        names(&s, "search=bunny"),
        ["Big Buck Bunny", "Mountain biking in the Alps"]
    );
}
