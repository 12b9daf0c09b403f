//! Instances following instances, two real `vireo` binaries on 127.0.0.1 (the lab setting
//! lets them reach each other): B's administrator follows A through PeerTube's
//! `/api/v1/server/following`; B finds A's instance actor through NodeInfo, sends a signed
//! `Follow`; A accepts it (at once, or when its administrator approves), and B sees the follow
//! accepted. Unfollowing, rejecting and removing travel back the same way.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{LAB, Server, assert_error, host, tempdir, wait_for};

fn states(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|f| f["state"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn post(s: &Server, token: &str, path: &str, body: &Value) -> reqwest::blocking::Response {
    s.send_json(Method::POST, path, token, body)
}

fn delete(s: &Server, token: &str, path: &str) -> reqwest::blocking::Response {
    s.delete(path).bearer_auth(token).send().unwrap()
}

/// `path` as another server reads it.
fn activity_json(s: &Server, path: &str) -> Value {
    s.get(path)
        .header("accept", "application/activity+json")
        .send()
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn an_instance_follows_another_through_the_server_api() {
    let (da, db) = (tempdir(), tempdir());
    let a = Server::start_with(da.path(), &[LAB]);
    let b = Server::start_with(db.path(), &[LAB]);
    let (ta, tb) = (a.root_token(), b.root_token());
    let (host_a, host_b) = (host(&a), host(&b));

    // What PeerTube refuses, Vireo refuses: nothing named, junk hosts and handles, itself,
    // no administrator.
    let r = post(&b, &tb, "/api/v1/server/following", &json!({}));
    assert_error(r, 400, "invalid_params");
    for bad in [
        json!({"hosts": ["not a host"]}),
        json!({"hosts": ["a.example/path"]}),
        json!({"hosts": [1]}),
        json!({"hosts": ["a.example", "a.example"]}),
        json!({"handles": ["no-at-sign"]}),
    ] {
        let r = post(&b, &tb, "/api/v1/server/following", &bad);
        assert_error(r, 400, "invalid_params");
    }
    let r = post(
        &b,
        &tb,
        "/api/v1/server/following",
        &json!({"hosts": [host_b]}),
    );
    assert_error(r, 400, "invalid_params");
    b.create_user(&tb, "mallory", "mallory-password", 2);
    let user = b.login("mallory", "mallory-password");
    let user = user["access_token"].as_str().unwrap();
    let r = post(
        &b,
        user,
        "/api/v1/server/following",
        &json!({"hosts": [host_a]}),
    );
    assert_error(r, 403, "forbidden");
    let r = b
        .post("/api/v1/server/following")
        .json(&json!({"hosts": [host_a]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(b.get_json("/api/v1/server/following")["total"], 0);

    // B follows A by host: 204 at once, accepted soon after.
    let r = post(
        &b,
        &tb,
        "/api/v1/server/following",
        &json!({"hosts": host_a}),
    );
    assert_eq!(r.status(), 204);
    let following = wait_for(&b, "/api/v1/server/following", |v| {
        states(v) == ["accepted"]
    });
    let f = &following["data"][0];
    assert_eq!(f["follower"]["name"], "peertube");
    assert_eq!(f["follower"]["host"], host_b);
    assert_eq!(f["follower"]["url"], format!("{}/accounts/peertube", b.url));
    assert_eq!(f["following"]["name"], "peertube");
    assert_eq!(f["following"]["host"], host_a);
    assert_eq!(
        f["following"]["url"],
        format!("{}/accounts/peertube", a.url)
    );
    assert_eq!(f["follower"]["followingCount"], 1);
    assert!(f["createdAt"].as_str().unwrap().ends_with('Z'));
    // A lists B's instance as an accepted follower, and its collection counts it.
    let followers = a.get_json("/api/v1/server/followers");
    assert_eq!(states(&followers), ["accepted"]);
    assert_eq!(followers["data"][0]["follower"]["host"], host_b);
    assert_eq!(followers["data"][0]["following"]["followersCount"], 1);
    let collection = activity_json(&a, "/accounts/peertube/followers");
    assert_eq!(collection["totalItems"], 1);
    // The lists filter as PeerTube's do.
    for (query, n) in [
        ("?state=accepted", 1),
        ("?state=pending", 0),
        ("?actorType=Application", 1),
        ("?actorType=Person", 0),
        (
            &format!("?search={}", host_a.split(':').next().unwrap()) as &str,
            1,
        ),
        ("?search=nowhere", 0),
        ("?start=1", 1),
    ] {
        let v = b.get_json(&format!("/api/v1/server/following{query}"));
        assert_eq!(v["total"], n, "{query}: {v}");
    }
    assert_eq!(
        b.get_json("/api/v1/server/following?start=1")["data"],
        json!([])
    );
    for bad in [
        "?state=maybe",
        "?actorType=Robot",
        "?sort=-name",
        "?count=101",
    ] {
        let r = b
            .get(&format!("/api/v1/server/following{bad}"))
            .send()
            .unwrap();
        assert_error(r, 400, "invalid_params");
    }

    // Asking again changes nothing; a channel by handle is followed too.
    a.create_user(&ta, "carol", "carol-password", 2);
    let channels = a.get_json("/api/v1/accounts/carol/video-channels");
    let channel = channels["data"][0]["name"].as_str().unwrap().to_owned();
    let r = post(
        &b,
        &tb,
        "/api/v1/server/following",
        &json!({"hosts": [host_a], "handles": [format!("{channel}@{host_a}")]}),
    );
    assert_eq!(r.status(), 204);
    let following = wait_for(&b, "/api/v1/server/following?sort=createdAt", |v| {
        states(v) == ["accepted", "accepted"]
    });
    assert_eq!(following["data"][1]["following"]["name"], channel);
    let group = activity_json(&a, &format!("/video-channels/{channel}/followers"));
    assert_eq!(group["totalItems"], 1);

    // Unfollowing: gone from B's list at once, from A's followers when the Undo arrives.
    let r = delete(&b, &tb, &format!("/api/v1/server/following/{host_a}"));
    assert_eq!(r.status(), 204);
    assert_eq!(b.get_json("/api/v1/server/following")["total"], 1);
    wait_for(&a, "/api/v1/server/followers", |v| v["total"] == 0);
    let r = delete(&b, &tb, &format!("/api/v1/server/following/{host_a}"));
    assert_error(r, 404, "not_found");
    let r = delete(
        &b,
        &tb,
        &format!("/api/v1/server/following/{channel}@{host_a}"),
    );
    assert_eq!(r.status(), 204);
    let r = delete(&b, &tb, "/api/v1/server/following/not%20a%20host");
    assert_error(r, 400, "invalid_params");

    // A now approves followers by hand (PeerTube's custom configuration switch).
    let r = a.send_json(
        Method::PUT,
        "/api/v1/config/custom",
        &ta,
        &json!({"followers": {"instance": {"enabled": true, "manualApproval": true}}}),
    );
    assert_eq!(r.status(), 200, "{:?}", r.text());
    let custom = a.get_json_as("/api/v1/config/custom", &ta);
    assert_eq!(custom["followers"]["instance"]["manualApproval"], true);
    let r = post(
        &b,
        &tb,
        "/api/v1/server/following",
        &json!({"hosts": [host_a]}),
    );
    assert_eq!(r.status(), 204);
    let pending = wait_for(&a, "/api/v1/server/followers", |v| states(v) == ["pending"]);
    let handle = format!(
        "{}@{}",
        pending["data"][0]["follower"]["name"].as_str().unwrap(),
        pending["data"][0]["follower"]["host"].as_str().unwrap()
    );
    assert_eq!(handle, format!("peertube@{host_b}"));
    // Held: no Accept went out, and a pending follower hears of nothing.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        states(&b.get_json(&format!("/api/v1/server/following?search={host_a}"))),
        ["pending"]
    );
    let collection = activity_json(&a, "/accounts/peertube/followers");
    assert_eq!(collection["totalItems"], 0);
    // Only an administrator decides; an unknown follower is 404, a wrong state 400.
    a.create_user(&ta, "trent", "trent-password", 1);
    let moderator = a.login("trent", "trent-password");
    let moderator = moderator["access_token"].as_str().unwrap();
    let accept_path = format!("/api/v1/server/followers/{handle}/accept");
    let r = post(&a, moderator, &accept_path, &json!({}));
    assert_error(r, 403, "forbidden");
    let r = post(
        &a,
        &ta,
        &format!("/api/v1/server/followers/nobody@{host_b}/accept"),
        &json!({}),
    );
    assert_error(r, 404, "not_found");
    let reject_path = format!("/api/v1/server/followers/{handle}/reject");

    // Accepted by hand: B sees it accepted.
    let r = post(&a, &ta, &accept_path, &json!({}));
    assert_eq!(r.status(), 204);
    let r = post(&a, &ta, &accept_path, &json!({}));
    assert_error(r, 400, "invalid_params");
    wait_for(
        &b,
        &format!("/api/v1/server/following?search={host_a}"),
        |v| states(v) == ["accepted"],
    );
    // Rejected: B sees it rejected; A keeps it as rejected.
    let r = post(&a, &ta, &reject_path, &json!({}));
    assert_eq!(r.status(), 204);
    wait_for(
        &b,
        &format!("/api/v1/server/following?search={host_a}"),
        |v| states(v) == ["rejected"],
    );
    assert_eq!(
        states(&a.get_json("/api/v1/server/followers")),
        ["rejected"]
    );
    // Removed: gone from A's list.
    let r = delete(&a, &ta, &format!("/api/v1/server/followers/{handle}"));
    assert_eq!(r.status(), 204);
    assert_eq!(a.get_json("/api/v1/server/followers")["total"], 0);

    // A no longer takes instance followers at all: B's next follow is rejected, and A keeps
    // nothing of it.
    let r = a.send_json(
        Method::PUT,
        "/api/v1/config/custom",
        &ta,
        &json!({"followers": {"instance": {"enabled": false, "manualApproval": false}}}),
    );
    assert_eq!(r.status(), 200, "{:?}", r.text());
    let r = delete(&b, &tb, &format!("/api/v1/server/following/{host_a}"));
    assert_eq!(r.status(), 204);
    assert_eq!(b.get_json("/api/v1/server/following")["total"], 0);
    let r = post(
        &b,
        &tb,
        "/api/v1/server/following",
        &json!({"hosts": [host_a]}),
    );
    assert_eq!(r.status(), 204);
    wait_for(
        &b,
        &format!("/api/v1/server/following?search={host_a}"),
        |v| states(v) == ["rejected"],
    );
    assert_eq!(a.get_json("/api/v1/server/followers")["total"], 0);
}

#[test]
fn a_follow_of_a_host_that_is_not_there_stays_unlisted_and_the_server_keeps_serving() {
    let dir = tempdir();
    let s = Server::start_with(dir.path(), &[LAB]);
    let token = s.root_token();
    // Nothing listens on port 9 of 127.0.0.1 (discard).
    let r = post(
        &s,
        &token,
        "/api/v1/server/following",
        &json!({"hosts": ["127.0.0.1:9"], "handles": ["x@127.0.0.1:9"]}),
    );
    assert_eq!(r.status(), 204);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(s.get_json("/api/v1/server/following")["total"], 0);
    assert_eq!(s.get("/readyz").send().unwrap().status(), 200);
}
