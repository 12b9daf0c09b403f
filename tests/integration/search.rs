//! Full-text search through `GET /api/v1/search/videos` on the real server: the index is built in
//! the background at the first start, follows creations, updates and deletions through the job
//! queue, ranks title matches first, tolerates typos and prefixes, applies the list filters and
//! visibility rules, takes hostile input as plain text, and is rebuilt by `vireo reindex`.

use serde_json::{Value, json};
use vireo::config::Config;
use vireo::model::video::{CommentsPolicy, Privacy, VideoState};
use vireo::service::Core;
use vireo::service::videos::{self, NewVideo};

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
    let channel =
        vireo::service::actors::find_channel(&tx, "root_channel", &core.config().public_host())
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
    let page = s.get_json("/api/v1/search/videos?search=carbonara");
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

/// Every video of a search answer with its highlight, as (name, highlighted name, highlighted
/// description).
fn highlighted(s: &Server, query: &str) -> Vec<(String, Value, Value)> {
    let v = s.get_json(&format!("/api/v1/search/videos?{query}"));
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_owned(),
                x["highlight"]["name"].clone(),
                x["highlight"]["description"].clone(),
            )
        })
        .collect()
}

fn total(s: &Server, path: &str) -> u64 {
    let v = s.get_json(path);
    v["total"].as_u64().unwrap()
}

#[test]
fn search_phrases_stems_sorts_filters_highlights_suggests_resolves_and_finds_channels() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    assert!(s.stop());
    {
        let mut config = Config::default();
        config.storage.data_dir = dir.path().to_owned();
        let core = Core::open(config).unwrap();
        let tx = core.store.read().unwrap();
        let channel =
            vireo::service::actors::find_channel(&tx, "root_channel", &core.config().public_host())
                .unwrap()
                .unwrap()
                .id;
        drop(tx);
        let make = |name: &str, description: &str, privacy, duration, language: &str| {
            let mut v = new_video(channel, name, description, privacy, 1);
            v.duration = duration;
            v.language = Some(language.into());
            videos::create(&core, v).unwrap();
        };
        make(
            "Running in the rain",
            "Our runners <b>train</b> outside",
            Privacy::Public,
            120,
            "en",
        );
        make("Rain running tips", "Short ones", Privacy::Public, 30, "fr");
        make(
            "Long run diary",
            "A running log",
            Privacy::Public,
            3600,
            "en",
        );
        make("Runaway secret", "Running away", Privacy::Private, 60, "en");
        make(
            "Unlisted running",
            "Running, unlisted",
            Privacy::Unlisted,
            60,
            "en",
        );
    }
    let s = Server::start(dir.path());
    let root = s.root_token();
    eventually(&s, "search=diary", &["Long run diary"]);
    eventually(&s, "search=unlisted", &[]);

    // A phrase matches its words in order only.
    assert_eq!(
        names(&s, "search=%22in%20the%20rain%22"),
        ["Running in the rain"]
    );
    assert!(names(&s, "search=%22rain%20the%22").is_empty());
    // Stemming in the video's language: "runs" finds the English videos about running (not the
    // French one: French stems differently), and never the private or unlisted ones.
    let mut got = names(&s, "search=runs");
    got.sort();
    assert_eq!(got, ["Long run diary", "Running in the rain"]);
    // Sorting by a column instead of relevance, and the search-only filters.
    assert_eq!(
        names(&s, "search=running&sort=-duration"),
        ["Long run diary", "Running in the rain", "Rain running tips"]
    );
    assert_eq!(
        names(&s, "search=running&sort=name"),
        ["Long run diary", "Rain running tips", "Running in the rain"]
    );
    assert_eq!(
        names(&s, "search=running&durationMin=100&durationMax=200"),
        ["Running in the rain"]
    );
    assert!(names(&s, "search=running&startDate=2999-01-01T00:00:00Z").is_empty());
    assert_eq!(
        names(&s, "search=running&endDate=2999-01-01T00:00:00Z").len(),
        3
    );
    assert_error(
        s.get("/api/v1/search/videos?search=running&startDate=yesterday")
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    assert_error(
        s.get("/api/v1/search/videos?search=running&sort=-nonsense")
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    assert_error(
        s.get("/api/v1/search/videos?search=running&searchTarget=elsewhere")
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    let own_host = s.url.trim_start_matches("http://");
    assert_eq!(
        names(&s, &format!("search=running&host={own_host}")).len(),
        3
    );
    assert!(names(&s, "search=running&host=peertube.example").is_empty());
    assert_eq!(
        total(&s, "/api/v1/search/videos?search=running&count=1"),
        3,
        "the total counts every visible match, not the page"
    );

    // Highlights: matched words marked, the rest escaped.
    let h = highlighted(&s, "search=runs%20train");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].1, "<mark>Running</mark> in the rain");
    assert_eq!(
        h[0].2, "Our runners &lt;b&gt;<mark>train</mark>&lt;/b&gt; outside",
        "'runners' stems to 'runner', not 'run'"
    );

    // Suggestions while typing: titles of visible videos only.
    let v = s.get_json("/api/v1/search/suggestions?search=runa");
    let suggested: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert!(
        !suggested.contains(&"Runaway secret"),
        "a private title is never suggested: {suggested:?}"
    );
    let v = s.get_json("/api/v1/search/suggestions?search=long%20ru");
    assert_eq!(v["data"][0]["name"], "Long run diary");
    assert_eq!(
        v["data"][0]["highlight"]["name"],
        "<mark>Long</mark> <mark>run</mark> diary"
    );

    // The URL of a local video finds it; of a private one, nothing.
    let page = s.get_json("/api/v1/search/videos?search=diary");
    let short = page["data"][0]["shortUUID"].as_str().unwrap().to_owned();
    let uuid = page["data"][0]["uuid"].as_str().unwrap().to_owned();
    for url in [
        format!("{}/w/{short}", s.url),
        format!("{}/videos/watch/{uuid}", s.url),
    ] {
        let q = format!("search={}", url.replace(':', "%3A").replace('/', "%2F"));
        assert_eq!(names(&s, &q), ["Long run diary"], "{url}");
    }

    // Channels: by words, by handle, by URL, narrowed by handles; a renamed channel's videos
    // are found under the new name.
    let found = |q: &str| -> Vec<String> {
        let v = s.get_json(&format!("/api/v1/search/video-channels?{q}"));
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(found("search=main%20root"), ["root_channel"]);
    assert_eq!(
        found(&format!("search=root_channel%40{own_host}")),
        ["root_channel"]
    );
    assert_eq!(
        found(&format!(
            "search={}%2Fc%2Froot_channel",
            s.url.replace(':', "%3A").replace('/', "%2F")
        )),
        ["root_channel"]
    );
    assert!(found("search=root_channel%40elsewhere.example").is_empty());
    assert!(found("handles=nobody").is_empty());
    assert_eq!(found("handles=root_channel"), ["root_channel"]);
    let r = s
        .put("/api/v1/video-channels/root_channel")
        .bearer_auth(&root)
        .json(&json!({"displayName": "Weatherproof athletics"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while names(&s, "search=weatherproof").len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the rename reached the index"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn an_uploaded_video_is_found_once_published() {
    use crate::uploads::{channel_id, clip, single_upload, wait_for_state};
    let dir = tempdir();
    let s = Server::start(dir.path());
    let token = s.root_token();
    let r = single_upload(
        &s,
        &token,
        channel_id(&s, &token),
        "Rabbits of the meadow",
        clip(),
    );
    assert_eq!(r.status(), 200);
    let uuid = r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for_state(&s, &uuid, 1);
    eventually(&s, "search=meadow", &["Rabbits of the meadow"]);
    eventually(&s, "search=rabbit", &["Rabbits of the meadow"]);
}
