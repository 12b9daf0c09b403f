//! Federation, from the outside: how another server finds this instance and its actors
//! (WebFinger, NodeInfo, host-meta), against the real binary.

use serde_json::Value;

use crate::common::{Server, tempdir};

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

/// The host (and port) the test server calls itself.
fn host(s: &Server) -> String {
    s.url.trim_start_matches("http://").to_owned()
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
    assert_eq!(links.len(), 2);
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
