//! Federation, from the outside: how another server finds this instance and its actors
//! (WebFinger, NodeInfo, host-meta) and reads them (actor documents on the pages' URLs),
//! against the real binary.

use serde_json::Value;

use crate::common::{Server, host, tempdir};

fn get(s: &Server, path: &str) -> reqwest::blocking::Response {
    s.get(path).send().unwrap()
}

fn content_type(r: &reqwest::blocking::Response) -> String {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[test]
fn webfinger_finds_local_accounts_and_channels_and_nothing_else() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "alice", "alice-password", 2);
    let host = host(&s);

    // An account, by handle (any case) and by its actor URL.
    for resource in [
        format!("acct:alice@{host}"),
        format!("ALICE@{host}"),
        format!("{}/accounts/alice", s.url),
    ] {
        let r = get(&s, &format!("/.well-known/webfinger?resource={resource}"));
        assert_eq!(r.status(), 200, "{resource}");
        assert!(content_type(&r).starts_with("application/jrd+json"));
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        let jrd: Value = r.json().unwrap();
        assert_eq!(jrd["subject"], format!("acct:alice@{host}"));
        let links = jrd["links"].as_array().unwrap();
        let own = links.iter().find(|l| l["rel"] == "self").unwrap();
        assert_eq!(own["type"], "application/activity+json");
        assert_eq!(own["href"], format!("{}/accounts/alice", s.url));
        let page = links
            .iter()
            .find(|l| l["rel"] == "http://webfinger.net/rel/profile-page")
            .unwrap();
        assert_eq!(page["href"], format!("{}/a/alice", s.url));
    }

    // A channel: the user's default one.
    let channels = s.get_json("/api/v1/accounts/alice/video-channels");
    let channel = channels["data"][0]["name"].as_str().unwrap().to_owned();
    let jrd: Value = get(
        &s,
        &format!("/.well-known/webfinger?resource=acct:{channel}@{host}"),
    )
    .json()
    .unwrap();
    assert_eq!(
        jrd["links"][0]["href"],
        format!("{}/video-channels/{channel}", s.url)
    );

    // Nobody by that name, another host, malformed input.
    let r = get(
        &s,
        &format!("/.well-known/webfinger?resource=acct:nobody@{host}"),
    );
    assert_eq!(r.status(), 404);
    let r = get(
        &s,
        "/.well-known/webfinger?resource=acct:alice@elsewhere.example",
    );
    assert_eq!(r.status(), 404);
    for bad in [
        "",
        "?resource=",
        "?resource=acct:alice",
        "?resource=https://elsewhere.example/accounts/alice",
    ] {
        let r = get(&s, &format!("/.well-known/webfinger{bad}"));
        assert_eq!(r.status(), 400, "{bad}");
        let e: Value = r.json().unwrap();
        assert!(e["detail"].as_str().unwrap().contains("resource"), "{e}");
    }
}

#[test]
fn nodeinfo_and_host_meta_describe_the_instance() {
    let dir = tempdir();
    let s = Server::start_with(dir.path(), &[("VIREO_SIGNUP__ENABLED", "true")]);
    let root = s.root_token();
    s.create_user(&root, "bob", "bob-password", 2);
    s.login("bob", "bob-password");

    let links: Value = get(&s, "/.well-known/nodeinfo").json().unwrap();
    let links = links["links"].as_array().unwrap();
    assert_eq!(links.len(), 3);
    // The instance actor, as PeerTube looks for it before following a host.
    assert_eq!(
        links[2]["rel"],
        "https://www.w3.org/ns/activitystreams#Application"
    );
    assert_eq!(links[2]["href"], format!("{}/accounts/peertube", s.url));
    for (link, version) in links.iter().zip(["2.0", "2.1"]) {
        assert_eq!(
            link["rel"],
            format!("http://nodeinfo.diaspora.software/ns/schema/{version}")
        );
        let href = link["href"].as_str().unwrap();
        let path = href.strip_prefix(s.url.as_str()).unwrap();
        let r = get(&s, path);
        assert_eq!(r.status(), 200);
        assert!(content_type(&r).contains(&format!("schema/{version}#")));
        let doc: Value = r.json().unwrap();
        assert_eq!(doc["version"], version);
        assert_eq!(doc["software"]["name"], "vireo");
        assert_eq!(doc["protocols"], serde_json::json!(["activitypub"]));
        assert_eq!(doc["openRegistrations"], true);
        // root and bob; both logged in just now.
        assert_eq!(doc["usage"]["users"]["total"], 2);
        assert_eq!(doc["usage"]["users"]["activeMonth"], 2);
        assert_eq!(doc["usage"]["localPosts"], 0);
        assert_eq!(doc["metadata"]["nodeName"], "Vireo");
    }
    assert_eq!(get(&s, "/nodeinfo/3.0.json").status(), 404);

    // A published public video counts; the test server publishes an upload once remuxed.
    let uuid = crate::ladder::upload_named(&s, &root, "Counted", crate::uploads::clip());
    crate::uploads::wait_for_state(&s, &uuid, 1);
    let doc: Value = get(&s, "/nodeinfo/2.0.json").json().unwrap();
    assert_eq!(doc["usage"]["localPosts"], 1);

    let r = get(&s, "/.well-known/host-meta");
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("application/xrd+xml"));
    let xml = r.text().unwrap();
    assert!(
        xml.contains(&format!(
            "template=\"{}/.well-known/webfinger?resource={{uri}}\"",
            s.url
        )),
        "{xml}"
    );
}

const AP: &str = "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

fn get_activity(s: &Server, path: &str) -> reqwest::blocking::Response {
    s.get(path).header("accept", AP).send().unwrap()
}

#[test]
fn actors_are_documents_for_servers_and_pages_for_browsers() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "carol", "carol-password", 2);
    let channels = s.get_json("/api/v1/accounts/carol/video-channels");
    let channel = channels["data"][0]["name"].as_str().unwrap().to_owned();

    // The account: a Person, the same document from its page's URL.
    let r = get_activity(&s, "/accounts/carol");
    assert_eq!(r.status(), 200);
    assert_eq!(content_type(&r), "application/activity+json; charset=utf-8");
    assert!(r.headers()["vary"].to_str().unwrap().contains("accept"));
    let person: Value = r.json().unwrap();
    let id = format!("{}/accounts/carol", s.url);
    assert_eq!(person["type"], "Person");
    assert_eq!(person["id"], id);
    assert_eq!(person["preferredUsername"], "carol");
    assert_eq!(person["inbox"], format!("{id}/inbox"));
    assert_eq!(person["outbox"], format!("{id}/outbox"));
    assert_eq!(person["followers"], format!("{id}/followers"));
    assert_eq!(
        person["endpoints"]["sharedInbox"],
        format!("{}/inbox", s.url)
    );
    assert_eq!(person["publicKey"]["id"], format!("{id}#main-key"));
    assert_eq!(person["publicKey"]["owner"], id);
    let pem = person["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    assert_eq!(
        person["@context"][0],
        "https://www.w3.org/ns/activitystreams"
    );
    for page in ["/a/carol", "/a/carol/videos", "/a/carol/video-channels"] {
        let again: Value = get_activity(&s, page).json().unwrap();
        assert_eq!(again, person, "{page}");
    }

    // The key is made once: the document is the same after a restart.
    let s = {
        assert!(s.stop());
        Server::start(dir.path())
    };
    let person_again: Value = get_activity(&s, "/accounts/carol").json().unwrap();
    assert_eq!(person_again["publicKey"]["publicKeyPem"], pem.as_str());
    // (The restarted server listens on another port, so its URLs changed.)
    let id = format!("{}/accounts/carol", s.url);

    // The channel: a Group attributed to its owner, with its own key.
    let group: Value = get_activity(&s, &format!("/video-channels/{channel}"))
        .json()
        .unwrap();
    assert_eq!(group["type"], "Group");
    assert_eq!(group["id"], format!("{}/video-channels/{channel}", s.url));
    assert_eq!(group["attributedTo"][0]["type"], "Person");
    assert_eq!(group["attributedTo"][0]["id"], id);
    assert_ne!(group["publicKey"]["publicKeyPem"], pem.as_str());
    let via_page: Value = get_activity(&s, &format!("/c/{channel}/videos"))
        .json()
        .unwrap();
    assert_eq!(via_page, group);

    // The instance actor: an Application named `peertube`, found by WebFinger too; the name
    // is no user's to take.
    let app: Value = get_activity(&s, "/accounts/peertube").json().unwrap();
    assert_eq!(app["type"], "Application");
    assert_eq!(app["preferredUsername"], "peertube");
    let host = host(&s);
    let jrd: Value = get(
        &s,
        &format!("/.well-known/webfinger?resource=acct:peertube@{host}"),
    )
    .json()
    .unwrap();
    assert_eq!(
        jrd["links"][0]["href"],
        format!("{}/accounts/peertube", s.url)
    );
    let r = s
        .post("/api/v1/users")
        .bearer_auth(&root)
        .json(&serde_json::json!({
            "username": "peertube", "password": "peertube-password",
            "email": "pt@example.com", "role": 2, "videoQuota": -1, "videoQuotaDaily": -1
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 409);

    // Accounts are not channels and back; unknown names are 404 in JSON.
    assert_eq!(
        get_activity(&s, &format!("/accounts/{channel}")).status(),
        404
    );
    assert_eq!(get_activity(&s, "/video-channels/carol").status(), 404);
    assert_eq!(get_activity(&s, "/accounts/nobody").status(), 404);

    // A browser, or a client asking for anything, gets the page.
    for accept in [
        "text/html,application/xhtml+xml,*/*;q=0.8",
        "*/*",
        "application/json",
    ] {
        let r = s.get("/a/carol").header("accept", accept).send().unwrap();
        assert_eq!(r.status(), 200, "{accept}");
        assert!(content_type(&r).starts_with("text/html"), "{accept}");
        assert!(r.headers()["vary"].to_str().unwrap().contains("accept"));
    }
}

/// Run the Node peer (`tests/federation/peer.js`, signing and verifying with PeerTube's own
/// `@peertube/http-signature`) against `s`, following `actor_path`; what it saw.
fn run_peer(s: &Server, actor_path: &str, mode: Option<&str>) -> Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/federation");
    assert!(
        dir.join("node_modules/@peertube/http-signature").exists(),
        "run tests/run.sh once: it installs the federation peers"
    );
    let mut cmd = std::process::Command::new("node");
    cmd.current_dir(&dir)
        .arg("peer.js")
        .arg(&s.url)
        .arg(actor_path);
    if let Some(m) = mode {
        cmd.arg(m);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "peer.js failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn status(v: &Value, step: &str) -> u64 {
    v[step]["status"]
        .as_u64()
        .unwrap_or_else(|| panic!("{step}: {v}"))
}

#[test]
fn a_peer_signing_as_peertube_follows_a_channel_and_forgeries_fail() {
    let dir = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true")],
    );
    let root = s.root_token();
    s.create_user(&root, "dora", "dora-password", 2);
    let channels = s.get_json("/api/v1/accounts/dora/video-channels");
    let channel = channels["data"][0]["name"].as_str().unwrap().to_owned();
    let path = format!("/video-channels/{channel}");

    let seen = run_peer(&s, &path, None);
    let peer = seen["actor"].as_str().unwrap();

    // Refused with 401, and nothing kept: the follower count stayed 0.
    for step in ["unsigned", "forged", "altered", "stale", "mismatched"] {
        assert_eq!(status(&seen, step), 401, "{step}: {seen}");
        let e: Value = serde_json::from_str(seen[step]["body"].as_str().unwrap()).unwrap();
        assert_eq!(e["code"], "invalid_signature", "{step}");
    }
    assert_eq!(seen["followersAfterRefusals"], 0);

    // The follow: accepted, counted, and its Accept delivered to the peer, signed by the
    // channel's key, which PeerTube's library verified after fetching it from Vireo.
    assert_eq!(status(&seen, "follow"), 202);
    assert_eq!(seen["followersAfterFollow"], 1);
    assert_eq!(seen["followersPage"], serde_json::json!([peer]));
    let accept = &seen["accept"];
    assert!(accept.is_object(), "no Accept arrived: {seen}");
    assert_eq!(accept["error"], Value::Null, "{accept}");
    assert_eq!(accept["signatureValid"], true, "{accept}");
    assert_eq!(accept["digestValid"], true, "{accept}");
    assert_eq!(accept["signerOwnsKey"], true, "{accept}");
    let channel_id = format!("{}{path}", s.url);
    assert_eq!(accept["keyId"], format!("{channel_id}#main-key"));
    assert_eq!(accept["activity"]["type"], "Accept");
    assert_eq!(accept["activity"]["actor"], channel_id.as_str());
    assert_eq!(accept["activity"]["object"]["type"], "Follow");
    assert_eq!(accept["activity"]["object"]["actor"], peer);

    // The same signed request again: a replay.
    assert_eq!(status(&seen, "replayed"), 403);

    // Undo ends the follow.
    assert_eq!(status(&seen, "undo"), 202);
    assert_eq!(seen["followersAfterUndo"], 0);

    // Hostile or unknown JSON, correctly signed: a clear answer, never a 500.
    assert_eq!(status(&seen, "notJson"), 400);
    assert_eq!(status(&seen, "nested"), 400);
    assert_eq!(status(&seen, "unknownType"), 202);
    assert_eq!(status(&seen, "followOfNobody"), 404);
    // A deleted actor's own Delete is taken (its server would retry for days otherwise);
    // anything else from it is refused.
    assert_eq!(status(&seen, "goneSelfDelete"), 202);
    assert_eq!(status(&seen, "goneFollow"), 401);

    // An activity larger than `federation.max_activity_bytes` (1 MiB): refused unread.
    // (Streamed on a raw socket: the answer comes before the body is sent, and the server closes
    // the connection, which an HTTP client would report as a broken pipe.)
    let addr = crate::hostile::addr_of(&s);
    let len: u64 = 10 * 1024 * 1024;
    let head = format!(
        "POST /inbox HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/activity+json\r\n\
         Content-Length: {len}\r\n\r\n"
    );
    let (status, sent) =
        crate::hostile::send_streaming(addr, &head, len, |_| vec![b' '; 64 * 1024]);
    println!("10 MB activity: answered {status:?} after {sent} bytes sent");
    assert_eq!(status, Some(413));

    // From Vireo's side too, and the server still serves.
    let followers: Value = get_activity(&s, &format!("{path}/followers"))
        .json()
        .unwrap();
    assert_eq!(followers["type"], "OrderedCollection");
    assert_eq!(followers["totalItems"], 0);
    assert_eq!(get(&s, "/livez").status(), 200);
}

#[test]
fn without_the_lab_setting_actors_on_private_addresses_are_never_fetched() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let seen = run_peer(&s, "/accounts/root", Some("refused"));
    assert_eq!(status(&seen, "follow"), 401, "{seen}");
    let body = seen["follow"]["body"].as_str().unwrap();
    assert!(body.contains("is not a URL Vireo fetches"), "{body}");
    let followers: Value = get_activity(&s, "/accounts/root/followers").json().unwrap();
    assert_eq!(followers["totalItems"], 0);
}

/// The Node peer in `listen` mode: it follows, then reports the activities it receives.
struct Listener {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Listener {
    fn follow(s: &Server, actor_path: &str) -> (Listener, Value) {
        use std::io::BufRead;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/federation");
        let mut child = std::process::Command::new("node")
            .current_dir(&dir)
            .args(["peer.js", &s.url, actor_path, "listen"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut l = Listener {
            child,
            stdin,
            lines,
        };
        let ready = l.next();
        (l, ready)
    }

    /// Send the peer a command and read its answer.
    fn command(&mut self, command: Value) -> Value {
        use std::io::Write;
        writeln!(self.stdin, "{command}").unwrap();
        self.next()
    }

    /// Have the peer sign and post `activity`; Vireo's answer.
    fn send(&mut self, activity: Value) -> Value {
        use std::io::Write;
        writeln!(self.stdin, "{}", serde_json::json!({ "send": activity })).unwrap();
        self.next()
    }

    fn next(&mut self) -> Value {
        let line = self.lines.next().unwrap().unwrap();
        serde_json::from_str(&line).unwrap()
    }

    /// The next activity of `kind` the peer received, checked as PeerTube's library checks.
    fn wait(&mut self, kind: &str) -> Value {
        use std::io::Write;
        writeln!(self.stdin, "{}", serde_json::json!({ "wait": kind })).unwrap();
        let got = self.next();
        assert!(got["timeout"].is_null(), "no {kind} arrived: {got}");
        assert_eq!(got["error"], Value::Null, "{got}");
        assert_eq!(got["signatureValid"], true, "{got}");
        assert_eq!(got["digestValid"], true, "{got}");
        assert_eq!(got["signerOwnsKey"], true, "{got}");
        got
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = writeln!(self.stdin, "{}", serde_json::json!({"quit": true}));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_channel_follower_hears_of_new_edited_and_deleted_videos() {
    let dir = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true")],
    );
    let root = s.root_token();
    s.create_user(&root, "erin", "erin-password", 2);
    let token = crate::common::token_of(&s.login("erin", "erin-password"));
    let channels = s.get_json("/api/v1/accounts/erin/video-channels");
    let channel = channels["data"][0]["name"].as_str().unwrap().to_owned();
    let channel_id = format!("{}/video-channels/{channel}", s.url);
    let account_id = format!("{}/accounts/erin", s.url);

    let (mut peer, ready) = Listener::follow(&s, &format!("/video-channels/{channel}"));
    assert_eq!(ready["ready"], true, "{ready}");

    // A new public video: the account's Create, and the channel's Announce.
    let uuid = crate::ladder::upload_named(&s, &token, "Heard afar", crate::uploads::clip());
    crate::uploads::wait_for_state(&s, &uuid, 1);
    let video_id = format!("{}/videos/watch/{uuid}", s.url);
    let create = peer.wait("Create");
    assert_eq!(create["keyId"], format!("{account_id}#main-key"));
    let activity = &create["activity"];
    assert_eq!(activity["actor"], account_id.as_str());
    assert_eq!(
        activity["to"][0],
        "https://www.w3.org/ns/activitystreams#Public"
    );
    let video = &activity["object"];
    assert_eq!(video["type"], "Video");
    assert_eq!(video["id"], video_id.as_str());
    assert_eq!(video["uuid"], uuid.as_str());
    assert_eq!(video["name"], "Heard afar");
    assert!(video["duration"].as_str().unwrap().starts_with("PT"));
    assert_eq!(video["attributedTo"][0]["id"], account_id.as_str());
    assert_eq!(video["attributedTo"][1]["id"], channel_id.as_str());
    assert!(video["commentsPolicy"].as_u64().is_some());
    assert!(!video["icon"].as_array().unwrap().is_empty(), "{video}");
    let urls = video["url"].as_array().unwrap();
    assert_eq!(urls[0]["mediaType"], "text/html");
    assert!(
        urls.iter().any(|u| u["mediaType"] == "video/mp4"),
        "{video}"
    );

    let announce = peer.wait("Announce");
    assert_eq!(announce["keyId"], format!("{channel_id}#main-key"));
    assert_eq!(announce["activity"]["actor"], channel_id.as_str());
    assert_eq!(announce["activity"]["object"], video_id.as_str());
    // The peer fetched the announced video from Vireo: the same object.
    assert_eq!(announce["object"]["uuid"], uuid.as_str());
    assert_eq!(announce["object"]["name"], "Heard afar");

    // Its collections load, as PeerTube needs them to.
    for (which, total) in [
        ("likes", 0),
        ("dislikes", 0),
        ("announces", 0),
        ("comments", 0),
    ] {
        let c: Value = get_activity(&s, &format!("/videos/watch/{uuid}/{which}"))
            .json()
            .unwrap();
        assert_eq!(c["totalItems"], total, "{which}");
    }

    // The outboxes PeerTube crawls after a follow: the account's Create, the channel's and the
    // instance's Announce.
    for (actor, kind) in [
        (account_id.clone(), "Create"),
        (channel_id.clone(), "Announce"),
        (format!("{}/accounts/peertube", s.url), "Announce"),
    ] {
        let path = format!("{}/outbox", actor.strip_prefix(s.url.as_str()).unwrap());
        let root: Value = get_activity(&s, &path).json().unwrap();
        assert_eq!(root["type"], "OrderedCollection");
        assert_eq!(root["totalItems"], 1, "{path}");
        assert_eq!(root["first"], format!("{actor}/outbox?page=1"));
        let page: Value = get_activity(&s, &format!("{path}?page=1")).json().unwrap();
        let item = &page["orderedItems"][0];
        assert_eq!(item["type"], kind, "{path}");
        assert_eq!(item["actor"], actor.as_str(), "{path}");
        let object = if kind == "Create" {
            &item["object"]["id"]
        } else {
            &item["object"]
        };
        assert_eq!(object, video_id.as_str());
    }
    assert_eq!(
        get_activity(&s, "/accounts/erin/outbox?page=0").status(),
        400
    );

    // Likes, dislikes and views from the peer count on the video.
    let me = ready["actor"].as_str().unwrap().to_owned();
    let base = me.trim_end_matches("/actor").to_owned();
    let rated = |kind: &str, n: u32| {
        serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{base}/{kind}/{n}"), "type": kind, "actor": me, "object": video_id,
        })
    };
    let counts = |s: &Server| {
        let v = s.get_json(&format!("/api/v1/videos/{uuid}"));
        (
            v["likes"].as_u64().unwrap(),
            v["dislikes"].as_u64().unwrap(),
            v["views"].as_u64().unwrap(),
        )
    };
    assert_eq!(peer.send(rated("Like", 1))["status"], 202);
    assert_eq!(counts(&s).0, 1);
    // Liking twice is still one like; a replayed activity is refused.
    assert_eq!(peer.send(rated("Like", 2))["status"], 202);
    assert_eq!(peer.send(rated("Like", 2))["status"], 403);
    assert_eq!(counts(&s).0, 1);
    let likes: Value = get_activity(&s, &format!("/videos/watch/{uuid}/likes"))
        .json()
        .unwrap();
    assert_eq!(likes["totalItems"], 1);
    // A dislike replaces the like; its Undo takes it back.
    assert_eq!(peer.send(rated("Dislike", 3))["status"], 202);
    let (likes, dislikes, _) = counts(&s);
    assert_eq!((likes, dislikes), (0, 1));
    let undo = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/Dislike/3/undo"), "type": "Undo", "actor": me,
        "object": rated("Dislike", 3),
    });
    assert_eq!(peer.send(undo)["status"], 202);
    assert_eq!(counts(&s).1, 0);
    // The Undo of a like that a dislike already replaced (sent at once, arrived late) leaves
    // the dislike standing.
    let undo_of = |kind: &str, n: u32| {
        serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{base}/{kind}/{n}/undo"), "type": "Undo", "actor": me,
            "object": rated(kind, n),
        })
    };
    assert_eq!(peer.send(rated("Like", 7))["status"], 202);
    assert_eq!(peer.send(rated("Dislike", 8))["status"], 202);
    assert_eq!(peer.send(undo_of("Like", 7))["status"], 202);
    let (likes, dislikes, _) = counts(&s);
    assert_eq!((likes, dislikes), (0, 1));
    assert_eq!(peer.send(undo_of("Dislike", 8))["status"], 202);
    let (likes, dislikes, _) = counts(&s);
    assert_eq!((likes, dislikes), (0, 0));
    // A View counts one view (stored with the next flush of views, every few seconds); a
    // "watching now" View with `expires` does not.
    let mut beacon = rated("View", 5);
    beacon["expires"] = "2030-01-01T00:00:00.000Z".into();
    assert_eq!(peer.send(beacon)["status"], 202);
    assert_eq!(peer.send(rated("View", 4))["status"], 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while counts(&s).2 < 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(counts(&s).2, 1);
    // The new count reaches the followers' copies: an Update of the video, as PeerTube's
    // origins send one.
    let counted = peer.wait("Update");
    assert_eq!(counted["activity"]["object"]["views"], 1, "{counted}");
    // A like of something that is no video here.
    let mut stray = rated("Like", 6);
    stray["object"] = format!(
        "{}/videos/watch/00000000-0000-4000-8000-000000000000",
        s.url
    )
    .into();
    assert_eq!(peer.send(stray)["status"], 404);

    // An edit: an Update with the new name.
    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Heard afar, renamed"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let update = peer.wait("Update");
    assert_eq!(update["activity"]["object"]["name"], "Heard afar, renamed");

    // Made private: gone for other servers (a Delete), and no longer served to them.
    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"privacy": 3}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let delete = peer.wait("Delete");
    assert_eq!(delete["activity"]["object"], video_id.as_str());
    assert_eq!(delete["activity"]["actor"], account_id.as_str());
    assert_eq!(
        get_activity(&s, &format!("/videos/watch/{uuid}")).status(),
        404
    );

    // Public again (a Create), then deleted (a Delete).
    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"privacy": 1}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    peer.wait("Create");
    let r = s
        .delete(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let delete = peer.wait("Delete");
    assert_eq!(delete["activity"]["object"], video_id.as_str());
    assert_eq!(
        get_activity(&s, &format!("/videos/watch/{uuid}")).status(),
        404
    );
}

#[test]
fn deliveries_wait_out_a_dead_inbox_and_a_kill_9() {
    let dir = tempdir();
    let env = [
        ("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true"),
        ("VIREO_FEDERATION__DELIVERY_FIRST_RETRY_SECS", "1"),
    ];
    let s = Server::start_with(dir.path(), &env);
    let root = s.root_token();
    s.create_user(&root, "fred", "fred-password", 2);
    let token = crate::common::token_of(&s.login("fred", "fred-password"));
    let (mut peer, ready) = Listener::follow(&s, "/accounts/fred");
    assert_eq!(ready["ready"], true, "{ready}");

    // The follower's server goes down; a video is published meanwhile.
    peer.command(serde_json::json!({"inbox": "down"}));
    let uuid = crate::ladder::upload_named(&s, &token, "Kept for later", crate::uploads::clip());
    crate::uploads::wait_for_state(&s, &uuid, 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let refused = loop {
        let stats = peer.command(serde_json::json!({"stats": true}));
        let refused = stats["refused"].as_u64().unwrap();
        if refused >= 2 || std::time::Instant::now() > deadline {
            break refused;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    // Tried, refused, and tried again after the backoff.
    assert!(refused >= 2, "Vireo did not retry: {refused}");

    // Vireo is killed mid-retry; the follower's server comes back; Vireo restarts at the
    // same address and the delivery arrives, signed.
    let port = s.port();
    s.kill9();
    peer.command(serde_json::json!({"inbox": "up"}));
    let s = Server::start_at(dir.path(), port, &env);
    let create = peer.wait("Create");
    assert_eq!(create["activity"]["object"]["uuid"], uuid.as_str());
    assert_eq!(get(&s, "/livez").status(), 200);
}

/// How many deliveries `peer`'s inbox holds unanswered, once it holds `want` (or after 30 s).
fn held(peer: &mut Listener, want: u64) -> u64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let stats = peer.command(serde_json::json!({"stats": true}));
        let held = stats["held"].as_u64().unwrap();
        if held >= want || std::time::Instant::now() > deadline {
            return held;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn a_server_that_hangs_holds_up_only_its_own_deliveries_which_keep_their_order() {
    let dir = tempdir();
    // A hanging server is given up on only after two minutes: far beyond what the other
    // follower may wait (the peer's own wait ends after one).
    let env = [
        ("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true"),
        ("VIREO_FEDERATION__FETCH_TIMEOUT_SECS", "120"),
    ];
    let s = Server::start_with(dir.path(), &env);
    let root = s.root_token();
    s.create_user(&root, "hana", "hana-password", 2);
    let token = crate::common::token_of(&s.login("hana", "hana-password"));
    let (mut stuck, ready) = Listener::follow(&s, "/accounts/hana");
    assert_eq!(ready["ready"], true, "{ready}");
    let (mut live, ready) = Listener::follow(&s, "/accounts/hana");
    assert_eq!(ready["ready"], true, "{ready}");

    stuck.command(serde_json::json!({"inbox": "hang"}));
    let first = crate::ladder::upload_named(&s, &token, "First", crate::uploads::clip());
    crate::uploads::wait_for_state(&s, &first, 1);
    let create = live.wait("Create");
    assert_eq!(create["activity"]["object"]["uuid"], first.as_str());
    assert_eq!(held(&mut stuck, 1), 1, "the hanging server got the first");

    // While that request hangs, the next video still reaches the live follower at once…
    let second = crate::ladder::upload_named(&s, &token, "Second", crate::uploads::clip());
    crate::uploads::wait_for_state(&s, &second, 1);
    let create = live.wait("Create");
    assert_eq!(create["activity"]["object"]["uuid"], second.as_str());
    // … and the hanging server is sent one thing at a time: the second, queued for both
    // followers at once, waits its turn (given two seconds to show up if it were sent).
    std::thread::sleep(std::time::Duration::from_secs(2));
    let stats = stuck.command(serde_json::json!({"stats": true}));
    assert_eq!(
        stats["held"], 1,
        "one delivery at a time per server: {stats}"
    );

    // The server answers again: it gets both, in the order they were published.
    stuck.command(serde_json::json!({"inbox": "up"}));
    let create = stuck.wait("Create");
    assert_eq!(create["activity"]["object"]["uuid"], first.as_str());
    let create = stuck.wait("Create");
    assert_eq!(create["activity"]["object"]["uuid"], second.as_str());
    assert_eq!(get(&s, "/livez").status(), 200);
}

#[test]
fn an_instance_follower_hears_each_new_video_announced_by_the_instance() {
    let dir = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true")],
    );
    let root = s.root_token();
    let instance = format!("{}/accounts/peertube", s.url);
    let (mut peer, ready) = Listener::follow(&s, "/accounts/peertube");
    assert_eq!(ready["ready"], true, "{ready}");

    // PeerTube lists a followed instance's videos by the instance actor's Announce.
    let uuid = crate::ladder::upload_named(&s, &root, "Shared", crate::uploads::clip());
    crate::uploads::wait_for_state(&s, &uuid, 1);
    let video_id = format!("{}/videos/watch/{uuid}", s.url);
    let create = peer.wait("Create");
    assert_eq!(create["activity"]["object"]["id"], video_id.as_str());
    let announce = peer.wait("Announce");
    assert_eq!(announce["keyId"], format!("{instance}#main-key"));
    let activity = &announce["activity"];
    assert_eq!(activity["actor"], instance.as_str());
    assert_eq!(activity["id"], format!("{video_id}/announces/instance"));
    assert_eq!(activity["object"], video_id.as_str());
    assert_eq!(announce["object"]["uuid"], uuid.as_str());
    // The same Announce the instance's outbox lists.
    let outbox: Value = get_activity(&s, "/accounts/peertube/outbox?page=1")
        .json()
        .unwrap();
    assert_eq!(outbox["orderedItems"][0]["id"], activity["id"]);
}
