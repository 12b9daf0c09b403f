//! The instance's blocklist through PeerTube's `/api/v1/server/blocklist`: a blocked local
//! account's videos leave the lists and search; a blocked server's follow is turned away at the
//! inbox, and nothing is fetched from or sent to it (two real `vireo` binaries, lab setting).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{LAB, Server, assert_error, host, tempdir, wait_for};

fn names(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_blocked_account_leaves_the_lists_and_only_moderators_manage_blocks() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "alice", "alice-password", 2);
    let alice = s.login("alice", "alice-password")["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    s.create_user(&root, "mod", "mod-password", 1);
    let moderator = s.login("mod", "mod-password")["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (token, name) in [(&alice, "Alice's clip"), (&root, "Root's clip")] {
        let uuid = crate::ladder::upload_named(&s, token, name, crate::uploads::clip());
        crate::uploads::wait_for_state(&s, &uuid, 1);
    }
    let listed = |path: &str| {
        let mut n = names(&s.get_json(path));
        n.sort();
        n
    };
    assert_eq!(listed("/api/v1/videos"), ["Alice's clip", "Root's clip"]);

    // Who may block: moderators and administrators; a user is refused, a visitor asked to log in.
    let block = json!({"accountName": "alice"});
    let path = "/api/v1/server/blocklist/accounts";
    assert_error(
        s.send_json(Method::POST, path, &alice, &block),
        403,
        "forbidden",
    );
    let r = s.post(path).json(&block).send().unwrap();
    assert_eq!(r.status(), 401);
    let r = s.send_json(Method::POST, path, &moderator, &block);
    assert_eq!(r.status(), 204);
    // Again, oneself, nobody, nothing: refused.
    assert_error(
        s.send_json(Method::POST, path, &moderator, &block),
        409,
        "conflict",
    );
    let me = json!({"accountName": "mod"});
    assert_error(
        s.send_json(Method::POST, path, &moderator, &me),
        409,
        "conflict",
    );
    let nobody = json!({"accountName": "nobody@elsewhere.example"});
    assert_error(
        s.send_json(Method::POST, path, &root, &nobody),
        404,
        "not_found",
    );
    assert_error(
        s.send_json(Method::POST, path, &root, &json!({})),
        400,
        "invalid_params",
    );

    // Listed as PeerTube lists it.
    let blocks = s.get_json_as(path, &root);
    assert_eq!(blocks["total"], 1);
    assert_eq!(blocks["data"][0]["blockedAccount"]["name"], "alice");
    assert_eq!(blocks["data"][0]["byAccount"]["name"], "peertube");
    assert!(
        blocks["data"][0]["createdAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let status = s.get_json(&format!(
        "/api/v1/blocklist/status?accounts=alice&accounts=root&hosts={}",
        host(&s)
    ));
    assert_eq!(status["accounts"]["alice"]["blockedByServer"], true);
    assert_eq!(status["accounts"]["root"]["blockedByServer"], false);
    assert_eq!(status["hosts"][host(&s)]["blockedByServer"], false);

    // Alice's video is gone from the lists, her account's list and search, for everyone; a
    // moderator who asks for blocked owners (include=4) still sees it; she still sees her own.
    assert_eq!(listed("/api/v1/videos"), ["Root's clip"]);
    assert_eq!(
        listed("/api/v1/accounts/alice/videos"),
        Vec::<String>::new()
    );
    assert_eq!(listed("/api/v1/search/videos?search=clip"), ["Root's clip"]);
    let with_blocked = names(&s.get_json_as("/api/v1/videos?include=4", &moderator));
    assert_eq!(with_blocked.len(), 2, "{with_blocked:?}");
    assert_eq!(
        names(&s.get_json_as("/api/v1/users/me/videos", &alice)),
        ["Alice's clip"]
    );

    // Unblocked: back.
    let r = s
        .delete("/api/v1/server/blocklist/accounts/alice")
        .bearer_auth(&moderator)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(listed("/api/v1/videos"), ["Alice's clip", "Root's clip"]);
    let r = s
        .delete("/api/v1/server/blocklist/accounts/alice")
        .bearer_auth(&moderator)
        .send()
        .unwrap();
    assert_error(r, 404, "not_found");

    // Servers: one's own cannot be blocked; junk is not a host; a block is listed and undone.
    let servers = "/api/v1/server/blocklist/servers";
    let own = json!({"host": host(&s)});
    assert_error(
        s.send_json(Method::POST, servers, &root, &own),
        409,
        "conflict",
    );
    let junk = json!({"host": "not a host"});
    assert_error(
        s.send_json(Method::POST, servers, &root, &junk),
        400,
        "invalid_params",
    );
    let r = s.send_json(
        Method::POST,
        servers,
        &root,
        &json!({"host": "Spam.Example"}),
    );
    assert_eq!(r.status(), 204);
    let list = s.get_json_as(servers, &root);
    assert_eq!(list["data"][0]["blockedServer"]["host"], "spam.example");
    let status = s.get_json("/api/v1/blocklist/status?hosts=spam.example");
    assert_eq!(status["hosts"]["spam.example"]["blockedByServer"], true);
    let r = s
        .delete(&format!("{servers}/spam.example"))
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(s.get_json_as(servers, &root)["total"], 0);
}

#[test]
fn a_blocked_server_is_neither_heard_nor_followed() {
    let (da, db) = (tempdir(), tempdir());
    let a = Server::start_with(da.path(), &[LAB]);
    let b = Server::start_with(db.path(), &[LAB]);
    let (ta, tb) = (a.root_token(), b.root_token());
    let servers = "/api/v1/server/blocklist/servers";

    // A blocks B: B's follow reaches A's inbox and is turned away (403, which B takes as final),
    // so B's follow stays pending and A has no follower.
    let r = a.send_json(Method::POST, servers, &ta, &json!({"host": host(&b)}));
    assert_eq!(r.status(), 204);
    let r = b.send_json(
        Method::POST,
        "/api/v1/server/following",
        &tb,
        &json!({"hosts": [host(&a)]}),
    );
    assert_eq!(r.status(), 204);
    let following = wait_for(&b, "/api/v1/server/following", |v| v["total"] == 1);
    assert_eq!(following["data"][0]["state"], "pending");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(a.get_json("/api/v1/server/followers")["total"], 0);
    assert_eq!(
        b.get_json("/api/v1/server/following")["data"][0]["state"],
        "pending"
    );

    // Unblocked, B asks again and is accepted.
    let r = a
        .delete(&format!("{servers}/{}", host(&b)))
        .bearer_auth(&ta)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = b.send_json(
        Method::POST,
        "/api/v1/server/following",
        &tb,
        &json!({"hosts": [host(&a)]}),
    );
    assert_eq!(r.status(), 204);
    wait_for(&b, "/api/v1/server/following", |v| {
        v["data"][0]["state"] == "accepted"
    });

    // B blocks A: asking to follow A's root channel does nothing at all.
    let channels = a.get_json("/api/v1/accounts/root/video-channels");
    let channel = channels["data"][0]["name"].as_str().unwrap().to_owned();
    let r = b.send_json(Method::POST, servers, &tb, &json!({"host": host(&a)}));
    assert_eq!(r.status(), 204);
    let r = b.send_json(
        Method::POST,
        "/api/v1/server/following",
        &tb,
        &json!({"handles": [format!("{channel}@{}", host(&a))]}),
    );
    assert_eq!(r.status(), 204);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(b.get_json("/api/v1/server/following")["total"], 1);
}

/// Each user's own blocklist (`/api/v1/users/me/blocklist`): what alice blocks leaves her lists
/// and search alone; the others, and the instance's lists, are unchanged.
#[test]
fn a_user_s_own_blocklist_hides_from_that_user_only() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "alice", "alice-password", 2);
    let alice = crate::common::token_of(&s.login("alice", "alice-password"));
    let uuid = crate::ladder::upload_named(&s, &root, "Root's own clip", crate::uploads::clip());
    crate::uploads::wait_for_state(&s, &uuid, 1);
    let total_for = |token: Option<&str>, path: &str| -> u64 {
        let v = match token {
            Some(t) => s.get_json_as(path, t),
            None => s.get_json(path),
        };
        v["total"].as_u64().unwrap()
    };
    let mine = "/api/v1/users/me/blocklist/accounts";
    let status = "/api/v1/blocklist/status?accounts=root&hosts=blocked.example";

    // Alice blocks root's account: gone from her lists and search, nobody else's.
    assert_eq!(total_for(Some(&alice), "/api/v1/videos"), 1);
    let r = s.send_json(Method::POST, mine, &alice, &json!({"accountName": "root"}));
    assert_eq!(r.status(), 204);
    assert_eq!(total_for(Some(&alice), "/api/v1/videos"), 0);
    assert_eq!(
        total_for(Some(&alice), "/api/v1/search/videos?search=clip"),
        0
    );
    assert_eq!(total_for(None, "/api/v1/videos"), 1);
    assert_eq!(total_for(Some(&root), "/api/v1/videos"), 1);
    // Listed as hers, by her; the instance's blocklist and root's own are empty.
    let listed = s.get_json_as(mine, &alice);
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["data"][0]["blockedAccount"]["name"], "root");
    assert_eq!(listed["data"][0]["byAccount"]["name"], "alice");
    assert_eq!(total_for(Some(&root), mine), 0);
    assert_eq!(
        total_for(Some(&root), "/api/v1/server/blocklist/accounts"),
        0
    );
    // The status says who blocked it.
    let st = s.get_json_as(status, &alice);
    assert_eq!(st["accounts"]["root"]["blockedByUser"], true, "{st}");
    assert_eq!(st["accounts"]["root"]["blockedByServer"], false);
    assert_eq!(
        s.get_json(status)["accounts"]["root"]["blockedByUser"],
        false
    );
    // Twice, herself, nobody: refused.
    let again = s.send_json(Method::POST, mine, &alice, &json!({"accountName": "root"}));
    assert_error(again, 409, "conflict");
    let herself = s.send_json(Method::POST, mine, &alice, &json!({"accountName": "alice"}));
    assert_error(herself, 409, "conflict");
    let nobody = s.send_json(
        Method::POST,
        mine,
        &alice,
        &json!({"accountName": "nobody"}),
    );
    assert_eq!(nobody.status(), 404);
    let r = s
        .post(mine)
        .json(&json!({"accountName": "root"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    // Unblocked: back in her lists.
    let r = s
        .delete(&format!("{mine}/root"))
        .bearer_auth(&alice)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(total_for(Some(&alice), "/api/v1/videos"), 1);

    // Servers: another one listed and undone; her own server refused.
    let servers = "/api/v1/users/me/blocklist/servers";
    let r = s.send_json(
        Method::POST,
        servers,
        &alice,
        &json!({"host": "blocked.example"}),
    );
    assert_eq!(r.status(), 204);
    assert_eq!(
        s.get_json_as(servers, &alice)["data"][0]["blockedServer"]["host"],
        "blocked.example"
    );
    assert_eq!(
        s.get_json_as(status, &alice)["hosts"]["blocked.example"]["blockedByUser"],
        true
    );
    assert_eq!(
        total_for(Some(&root), "/api/v1/server/blocklist/servers"),
        0
    );
    let own = s.send_json(Method::POST, servers, &alice, &json!({"host": host(&s)}));
    assert_error(own, 409, "conflict");
    let bad = s.send_json(
        Method::POST,
        servers,
        &alice,
        &json!({"host": "not a host"}),
    );
    assert_error(bad, 400, "invalid_params");
    let path = format!("{servers}/blocked.example");
    assert_eq!(
        s.delete(&path).bearer_auth(&alice).send().unwrap().status(),
        204
    );
    assert_eq!(
        s.delete(&path).bearer_auth(&alice).send().unwrap().status(),
        404
    );
    // Kept across a restart.
    let r = s.send_json(Method::POST, mine, &alice, &json!({"accountName": "root"}));
    assert_eq!(r.status(), 204);
    assert!(s.stop());
    let s = Server::start(dir.path());
    let alice = crate::common::token_of(&s.login("alice", "alice-password"));
    assert_eq!(s.get_json_as("/api/v1/videos", &alice)["total"], 0);
    assert_eq!(s.get_json("/api/v1/videos")["total"], 1);
}
