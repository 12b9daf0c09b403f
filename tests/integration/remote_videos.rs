//! Remote videos, two real `vireo` binaries on 127.0.0.1: B follows A, and A's videos appear on
//! B: those published before the follow (read from A's outbox) and those published after (A's
//! instance `Announce`). B lists them with `isLocal=false`, finds them in search, shows them
//! with A's addresses (the player fetches A's HLS), and follows A's edits and deletions. When B
//! stops following A, they go.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{LAB, Server, host, tempdir, wait_for};
use crate::ladder::upload_named;
use crate::uploads::{clip, wait_for_state};

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["data"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|v| v["name"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn remote_names(b: &Server) -> Vec<String> {
    names(&b.get_json("/api/v1/videos?isLocal=false&count=50"))
}

#[test]
fn a_followed_instance_s_videos_are_listed_searched_shown_edited_and_dropped() {
    let (da, db) = (tempdir(), tempdir());
    let a = Server::start_with(da.path(), &[LAB]);
    let b = Server::start_with(db.path(), &[LAB]);
    let (ta, tb) = (a.root_token(), b.root_token());
    let host_a = host(&a);

    // Published on A before B follows it: B reads it from A's outbox once A accepts.
    let early = upload_named(&a, &ta, "Published before the follow", clip());
    wait_for_state(&a, &early, 1);
    assert!(remote_names(&b).is_empty());
    let r = b.send_json(
        Method::POST,
        "/api/v1/server/following",
        &tb,
        &json!({"hosts": [host_a]}),
    );
    assert_eq!(r.status(), 204);
    wait_for(&b, "/api/v1/videos?isLocal=false", |v| v["total"] == 1);

    // Published after: A's instance announces it to B.
    let late = upload_named(&a, &ta, "Heard from afar", clip());
    wait_for_state(&a, &late, 1);
    wait_for(&b, "/api/v1/videos?isLocal=false", |v| v["total"] == 2);
    assert_eq!(
        remote_names(&b),
        ["Heard from afar", "Published before the follow"]
    );
    // B's own lists: local only is empty, all of them has both.
    assert_eq!(b.get_json("/api/v1/videos?isLocal=true")["total"], 0);
    assert_eq!(b.get_json("/api/v1/videos")["total"], 2);

    // As B shows it: A's ids and addresses, B's own number and images.
    let on_a = a.get_json(&format!("/api/v1/videos/{late}"));
    let v = b.get_json(&format!("/api/v1/videos/{late}"));
    assert_eq!(v["isLocal"], false, "{v}");
    assert_eq!(v["uuid"], on_a["uuid"]);
    assert_eq!(v["url"], on_a["url"]);
    assert_eq!(v["name"], "Heard from afar");
    assert_eq!(v["duration"], on_a["duration"]);
    assert_eq!(v["account"]["host"], host_a);
    assert_eq!(v["account"]["url"], on_a["account"]["url"]);
    assert_eq!(v["channel"]["host"], host_a);
    assert_eq!(v["channel"]["url"], on_a["channel"]["url"]);
    assert_eq!(v["channel"]["isLocal"], false);
    let playlist = &v["streamingPlaylists"][0];
    assert_eq!(
        playlist["playlistUrl"],
        on_a["streamingPlaylists"][0]["playlistUrl"]
    );
    let file = &playlist["files"][0];
    assert!(
        file["fileUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with(&a.url)),
        "{file}"
    );
    assert_eq!(
        file["height"],
        on_a["streamingPlaylists"][0]["files"][0]["height"]
    );
    // The master playlist B points at is A's, and A serves it to any origin.
    let master = playlist["playlistUrl"].as_str().unwrap();
    let r = a.get_url(master).header("origin", &b.url).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.text().unwrap().starts_with("#EXTM3U"));
    // The thumbnail is B's own copy, made from A's image.
    let thumbnail = wait_for(&b, &format!("/api/v1/videos/{late}"), |v| {
        v["thumbnailPath"].is_string()
    })["thumbnailPath"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        thumbnail.starts_with("/lazy-static/thumbnails/"),
        "{thumbnail}"
    );
    let r = b.get(&thumbnail).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");

    // The channel and account have pages on B under their handles.
    let channel = on_a["channel"]["name"].as_str().unwrap();
    let handle = format!("{channel}@{host_a}");
    let c = b.get_json(&format!("/api/v1/video-channels/{handle}"));
    assert_eq!(c["host"], host_a, "{c}");
    assert_eq!(
        names(&b.get_json(&format!("/api/v1/video-channels/{handle}/videos"))),
        ["Heard from afar", "Published before the follow"]
    );
    let account = b.get_json(&format!("/api/v1/accounts/root@{host_a}"));
    assert_eq!(account["host"], host_a, "{account}");
    assert_eq!(account["url"], on_a["account"]["url"]);

    // Search finds it, as the web search does.
    let found = wait_for(&b, "/api/v1/search/videos?search=afar", |v| v["total"] == 1);
    assert_eq!(found["data"][0]["isLocal"], false);
    let page = b.get("/search?search=afar").send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("Heard from afar"));

    // The watch page plays from A: its policy lets the player fetch A's media.
    let r = b.get(&format!("/w/{late}")).send().unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("connect-src 'self' {}", a.url)),
        "{csp}"
    );
    let html = r.text().unwrap();
    assert!(
        html.contains(&master.replace('/', "&#x2f;")) || html.contains(master),
        "{html}"
    );
    // Chromium plays it there, every media request going to A.
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/out/remote-watch.png");
    let report = crate::browser::watch(&format!("{}/w/{late}", b.url), &shot);
    assert_eq!(report["mediaHosts"], json!([host_a]), "{report:#}");
    assert!(
        report["played"]["to"].as_f64().unwrap() >= 1.0,
        "{report:#}"
    );
    // A view on A shows here (A's Update carries its count); a view here counts here and on A.
    assert_eq!(on_a["views"], 0);
    crate::views::watch_half(&a, &late);
    wait_for(&a, &format!("/api/v1/videos/{late}"), |v| v["views"] == 1);
    wait_for(&b, &format!("/api/v1/videos/{late}"), |v| v["views"] == 1);
    crate::views::watch_half(&b, &late);
    wait_for(&b, &format!("/api/v1/videos/{late}"), |v| v["views"] == 2);
    wait_for(&a, &format!("/api/v1/videos/{late}"), |v| v["views"] == 2);
    // A like here counts here and on A; switched to a dislike, then taken back, both follow.
    let rated = |rating: &str, likes: u64, dislikes: u64| {
        let path = format!("/api/v1/videos/{late}/rate");
        let r = b.send_json(Method::PUT, &path, &tb, &json!({ "rating": rating }));
        assert_eq!(r.status(), 204);
        let counted = |v: &Value| v["likes"] == likes && v["dislikes"] == dislikes;
        wait_for(&b, &format!("/api/v1/videos/{late}"), counted);
        wait_for(&a, &format!("/api/v1/videos/{late}"), counted);
    };
    rated("like", 1, 0);
    rated("dislike", 0, 1);
    rated("none", 0, 0);
    rated("like", 1, 0);
    // A local video's page allows nothing more.
    let r = b.get("/").send().unwrap();
    assert!(
        !r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains(&a.url)
    );

    // A renames it: B follows.
    let r = a.send_json(
        Method::PUT,
        &format!("/api/v1/videos/{late}"),
        &ta,
        &json!({"name": "Renamed afar"}),
    );
    assert_eq!(r.status(), 204);
    let renamed = wait_for(&b, &format!("/api/v1/videos/{late}"), |v| {
        v["name"] == "Renamed afar"
    });
    // The like given here is still counted: a video object carries no rate counts.
    assert_eq!(renamed["likes"], 1, "{renamed}");
    assert_eq!(renamed["views"], 2, "{renamed}");
    // A deletes it: gone from B.
    let r = a
        .delete(&format!("/api/v1/videos/{late}"))
        .bearer_auth(&ta)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    wait_for(&b, "/api/v1/videos?isLocal=false", |v| v["total"] == 1);
    let r = b.get(&format!("/api/v1/videos/{late}")).send().unwrap();
    assert_eq!(r.status(), 404);

    // B's root blocks server A for itself: A's videos leave its lists, not a visitor's.
    let mine = "/api/v1/users/me/blocklist/servers";
    let r = b.send_json(Method::POST, mine, &tb, &json!({"host": host_a}));
    assert_eq!(r.status(), 204);
    assert_eq!(
        b.get_json_as("/api/v1/videos?isLocal=false", &tb)["total"],
        0
    );
    assert_eq!(b.get_json("/api/v1/videos?isLocal=false")["total"], 1);
    let r = b
        .delete(&format!("{mine}/{host_a}"))
        .bearer_auth(&tb)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        b.get_json_as("/api/v1/videos?isLocal=false", &tb)["total"],
        1
    );

    // B's moderators block A's account: its videos go. Unblocked, A's next video comes again;
    // blocking the whole server takes that one.
    let block = |what: &str, body: Value| {
        let path = format!("/api/v1/server/blocklist/{what}");
        assert_eq!(b.send_json(Method::POST, &path, &tb, &body).status(), 204);
        wait_for(&b, "/api/v1/videos?isLocal=false", |v| v["total"] == 0);
        let r = b
            .delete(&format!(
                "{path}/{}",
                body.as_object()
                    .unwrap()
                    .values()
                    .next()
                    .unwrap()
                    .as_str()
                    .unwrap()
            ))
            .bearer_auth(&tb)
            .send()
            .unwrap();
        assert_eq!(r.status(), 204);
    };
    block("accounts", json!({"accountName": format!("root@{host_a}")}));
    let r = b.get(&format!("/api/v1/videos/{early}")).send().unwrap();
    assert_eq!(r.status(), 404);
    let third = upload_named(&a, &ta, "After the unblock", clip());
    wait_for_state(&a, &third, 1);
    wait_for(&b, "/api/v1/videos?isLocal=false", |v| v["total"] == 1);
    block("servers", json!({"host": host_a}));

    // B unfollows A: what came through A goes.
    let r = b
        .delete(&format!("/api/v1/server/following/{host_a}"))
        .bearer_auth(&tb)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    wait_for(&b, "/api/v1/videos?isLocal=false", |v| v["total"] == 0);
    // And a video A publishes now does not come.
    let after = upload_named(&a, &ta, "Not followed any more", clip());
    wait_for_state(&a, &after, 1);
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(remote_names(&b).is_empty());
}

/// A remote video shown longer than `federation.remote_refresh_secs` after it was fetched is
/// fetched again from its origin: an edit and a deletion the origin never sent (its federation
/// off meanwhile) are caught up.
#[test]
fn a_stale_remote_video_is_fetched_again_when_shown() {
    let (da, db) = (tempdir(), tempdir());
    let a = Server::start_with(da.path(), &[LAB]);
    let refresh = ("VIREO_FEDERATION__REMOTE_REFRESH_SECS", "2");
    let b = Server::start_with(db.path(), &[LAB, refresh]);
    let (ta, tb) = (a.root_token(), b.root_token());
    let uuid = upload_named(&a, &ta, "As first fetched", clip());
    wait_for_state(&a, &uuid, 1);
    let follow = json!({"hosts": [host(&a)]});
    let r = b.send_json(Method::POST, "/api/v1/server/following", &tb, &follow);
    assert_eq!(r.status(), 204);
    wait_for(&b, "/api/v1/videos?isLocal=false", |v| v["total"] == 1);

    // A, its federation off (same address), renames the video: B is not told.
    let port = a.port();
    assert!(a.stop());
    let quiet = [LAB, ("VIREO_FEDERATION__ENABLED", "false")];
    let a = Server::start_at(da.path(), port, &quiet);
    let ta = a.root_token();
    let path = format!("/api/v1/videos/{uuid}");
    let r = a.send_json(
        Method::PUT,
        &path,
        &ta,
        &json!({"name": "Renamed in silence"}),
    );
    assert_eq!(r.status(), 204);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    // Shown on B once it is stale: fetched again, the new name comes.
    assert_eq!(b.get_json(&path)["name"], "As first fetched");
    wait_for(&b, &path, |v| v["name"] == "Renamed in silence");

    // Deleted in silence: gone from B once shown stale.
    let r = a.delete(&path).bearer_auth(&ta).send().unwrap();
    assert_eq!(r.status(), 204);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while b.get(&path).send().unwrap().status() != 404 {
        assert!(std::time::Instant::now() < deadline, "never dropped");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(b.get_json("/api/v1/videos?isLocal=false")["total"], 0);
}
