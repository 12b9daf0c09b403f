//! View counting over `POST /videos/{id}/views`, as PeerTube's player reports: watching enough
//! counts one view per viewer, seeks and impossible jumps do not, bad reports are refused, and
//! counted views reach the store (periodically, and at a clean stop before the next period).

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Server, assert_error, tempdir};
use crate::ladder::{upload_named, video_json};
use crate::uploads::{clip, wait_for_state, wait_up_to};

fn report(s: &Server, uuid: &str, body: Value) -> reqwest::blocking::Response {
    s.post(&format!("/api/v1/videos/{uuid}/views"))
        .json(&body)
        .send()
        .unwrap()
}

/// Watch the 5.3 s clip past its half: a report at 0, then one 3 s on, 1.2 s later.
pub(crate) fn watch_half(s: &Server, uuid: &str) {
    assert_eq!(report(s, uuid, json!({"currentTime": 0})).status(), 204);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(report(s, uuid, json!({"currentTime": 3.0})).status(), 204);
}

#[test]
fn watching_counts_one_view_per_viewer_and_views_are_stored() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let uuid = upload_named(&s, &root, "Counted", clip());
    wait_for_state(&s, &uuid, 1);

    // Bad reports are refused.
    for (body, field) in [
        (json!({"currentTime": -1}), "currentTime"),
        (json!({"currentTime": 1e9}), "currentTime"),
        (json!({"currentTime": 1, "viewEvent": "jump"}), "viewEvent"),
    ] {
        let e = assert_error(report(&s, &uuid, body), 400, "invalid_params");
        assert!(e.to_string().contains(field), "{e}");
    }
    assert_eq!(report(&s, &uuid, json!({"currentTime": "a"})).status(), 400);
    assert_eq!(report(&s, &uuid, json!({})).status(), 400);
    assert_eq!(
        report(
            &s,
            "00000000-0000-4000-8000-000000000000",
            json!({"currentTime": 0})
        )
        .status(),
        404
    );

    // A seek across the video, or a jump wall time cannot allow, is not watching.
    assert_eq!(report(&s, &uuid, json!({"currentTime": 0})).status(), 204);
    let seek = json!({"currentTime": 5, "viewEvent": "seek"});
    assert_eq!(report(&s, &uuid, seek).status(), 204);
    assert_eq!(report(&s, &uuid, json!({"currentTime": 0})).status(), 204);
    assert_eq!(report(&s, &uuid, json!({"currentTime": 5})).status(), 204);

    // Watching half counts one view; a clean stop stores it before the next periodic write.
    watch_half(&s, &uuid);
    assert!(s.stop());
    let s = Server::start(dir.path());
    assert_eq!(video_json(&s, &uuid)["views"], 1);

    // The periodic write, and the same viewer watching again within the hour counts nothing.
    watch_half(&s, &uuid);
    let v = wait_up_to(&s, &uuid, 15, "the second view stored", |v| v["views"] == 2);
    assert_eq!(v["views"], 2);
    watch_half(&s, &uuid);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(video_json(&s, &uuid)["views"], 2);
    // Lists sorted by views see it.
    let list = s.get_json("/api/v1/videos?sort=-views");
    assert_eq!(list["data"][0]["views"], 2);
}

#[test]
fn private_videos_take_reports_only_from_who_may_watch_them() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let uuid = upload_named(&s, &root, "Private", clip());
    wait_for_state(&s, &uuid, 1);
    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&root)
        .json(&json!({"privacy": 3}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(report(&s, &uuid, json!({"currentTime": 0})).status(), 401);
    let r = s
        .post(&format!("/api/v1/videos/{uuid}/views"))
        .bearer_auth(&root)
        .json(&json!({"currentTime": 0}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
}
