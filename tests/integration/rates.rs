//! Likes and dislikes by local users over PeerTube's API (`PUT /videos/{id}/rate`,
//! `GET /users/me/videos/{id}/rating`, `GET /accounts/{name}/ratings`): counted once per
//! user, switched and taken back, kept across a restart, refused when malformed, and dropped
//! with the user or the video they belong to.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Server, assert_error, tempdir, token_of};
use crate::ladder::{upload_named, video_json};
use crate::uploads::{clip, wait_for_state};

fn rate(s: &Server, token: &str, uuid: &str, rating: Value) -> reqwest::blocking::Response {
    let path = format!("/api/v1/videos/{uuid}/rate");
    s.send_json(Method::PUT, &path, token, &json!({ "rating": rating }))
}

fn counts(s: &Server, uuid: &str) -> (u64, u64) {
    let v = video_json(s, uuid);
    (
        v["likes"].as_u64().unwrap(),
        v["dislikes"].as_u64().unwrap(),
    )
}

fn my_rating(s: &Server, token: &str, uuid: &str) -> Value {
    s.get_json_as(&format!("/api/v1/users/me/videos/{uuid}/rating"), token)
}

#[test]
fn users_rate_videos_once_each_and_list_their_ratings() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let uuid = upload_named(&s, &root, "Rated", clip());
    wait_for_state(&s, &uuid, 1);
    let alice_id = s.create_user(&root, "alice", "alice-password", 2);
    let alice = token_of(&s.login("alice", "alice-password"));

    // Bad input is refused and counts nothing.
    for bad in [json!("love"), json!(1), json!(null)] {
        assert_eq!(rate(&s, &alice, &uuid, bad).status(), 400);
    }
    assert_error(
        rate(&s, &alice, &uuid, json!("love")),
        400,
        "invalid_params",
    );
    let r = s
        .put(&format!("/api/v1/videos/{uuid}/rate"))
        .json(&json!({"rating": "like"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let missing = "00000000-0000-4000-8000-000000000000";
    assert_eq!(rate(&s, &alice, missing, json!("like")).status(), 404);
    assert_eq!(counts(&s, &uuid), (0, 0));
    assert_eq!(my_rating(&s, &alice, &uuid)["rating"], "none");

    // One like per user, however often it is sent.
    for _ in 0..2 {
        assert_eq!(rate(&s, &alice, &uuid, json!("like")).status(), 204);
    }
    assert_eq!(counts(&s, &uuid), (1, 0));
    let mine = my_rating(&s, &alice, &uuid);
    assert_eq!(mine["rating"], "like");
    assert_eq!(mine["id"], video_json(&s, &uuid)["id"]);
    assert_eq!(rate(&s, &root, &uuid, json!("dislike")).status(), 204);
    assert_eq!(counts(&s, &uuid), (1, 1));
    // A dislike replaces the like.
    assert_eq!(rate(&s, &alice, &uuid, json!("dislike")).status(), 204);
    assert_eq!(counts(&s, &uuid), (0, 2));
    // Lists sorted by likes see it (the catalogue is updated too).
    let list = s.get_json("/api/v1/videos?sort=-likes");
    assert_eq!(list["data"][0]["dislikes"], 2);

    // Each account lists its own ratings, filtered by kind; no one else may.
    let listed = s.get_json_as("/api/v1/accounts/alice/ratings", &alice);
    assert_eq!(listed["total"], 1, "{listed:#}");
    assert_eq!(listed["data"][0]["rating"], "dislike");
    assert_eq!(listed["data"][0]["video"]["uuid"], uuid.as_str());
    let likes = s.get_json_as("/api/v1/accounts/alice/ratings?rating=like", &alice);
    assert_eq!(likes["total"], 0);
    let r = s
        .get("/api/v1/accounts/alice/ratings?rating=meh")
        .bearer_auth(&alice)
        .send()
        .unwrap();
    assert_error(r, 400, "invalid_params");
    let r = s
        .get("/api/v1/accounts/alice/ratings")
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = s.get("/api/v1/accounts/alice/ratings").send().unwrap();
    assert_eq!(r.status(), 401);

    // Taken back with "none".
    assert_eq!(rate(&s, &root, &uuid, json!("none")).status(), 204);
    assert_eq!(counts(&s, &uuid), (0, 1));
    assert_eq!(my_rating(&s, &root, &uuid)["rating"], "none");

    // Kept across a restart.
    assert!(s.stop());
    let s = Server::start(dir.path());
    let root = s.root_token();
    let alice = token_of(&s.login("alice", "alice-password"));
    assert_eq!(counts(&s, &uuid), (0, 1));
    assert_eq!(my_rating(&s, &alice, &uuid)["rating"], "dislike");

    // A user deleted takes its rates with it.
    assert_eq!(rate(&s, &root, &uuid, json!("like")).status(), 204);
    assert_eq!(counts(&s, &uuid), (1, 1));
    let r = s
        .delete(&format!("/api/v1/users/{alice_id}"))
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(counts(&s, &uuid), (1, 0));

    // A video deleted leaves its raters' lists.
    let listed = s.get_json_as("/api/v1/accounts/root/ratings", &root);
    assert_eq!(listed["total"], 1);
    let r = s
        .delete(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let listed = s.get_json_as("/api/v1/accounts/root/ratings", &root);
    assert_eq!(listed["total"], 0);
}
