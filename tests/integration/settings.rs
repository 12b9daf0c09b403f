//! Run-time instance settings over PeerTube's `/api/v1/config/custom`: only administrators read
//! and change them; a change applies at once (the public config, sign-up, the ladder of the next
//! upload) and survives a restart; hostile or impossible bodies are refused and store nothing;
//! DELETE brings the file's values back. (Bodies over the JSON limit are `bad_input`'s.)

use serde_json::{Value, json};

use crate::common::{Server, assert_error, tempdir, token_of};
use crate::ladder::{upload_named, wait_for_rungs};
use crate::uploads::clip;

fn custom(s: &Server, token: &str) -> Value {
    let r = s
        .get("/api/v1/config/custom")
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

fn put(s: &Server, token: &str, body: &Value) -> reqwest::blocking::Response {
    s.put("/api/v1/config/custom")
        .bearer_auth(token)
        .json(body)
        .send()
        .unwrap()
}

fn public_config(s: &Server) -> Value {
    s.get("/api/v1/config").send().unwrap().json().unwrap()
}

#[test]
fn administrators_change_settings_that_apply_at_once_and_survive_a_restart() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "mod", "mod-password", 1);
    let moderator = token_of(&s.login("mod", "mod-password"));
    assert_eq!(s.get("/api/v1/config/custom").send().unwrap().status(), 401);
    assert_error(
        s.get("/api/v1/config/custom")
            .bearer_auth(&moderator)
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    assert_error(put(&s, &moderator, &json!({})), 403, "forbidden");
    assert_eq!(
        public_config(&s)["webadmin"]["configuration"]["edition"]["allowed"],
        true
    );

    // A PeerTube client sends back the whole document it read, with its changes.
    let mut doc = custom(&s, &root);
    assert_eq!(doc["instance"]["name"], "Vireo");
    assert_eq!(doc["transcoding"]["enabled"], false);
    doc["instance"]["name"] = json!("Birds <&> Bees");
    doc["instance"]["shortDescription"] = json!("Films of birds.");
    doc["signup"]["enabled"] = json!(true);
    doc["signup"]["limit"] = json!(3);
    doc["user"]["videoQuota"] = json!(50_000_000);
    doc["transcoding"]["enabled"] = json!(true);
    doc["transcoding"]["resolutions"] = json!({"0p": false, "144p": true, "240p": false});
    doc["live"]["enabled"] = json!(true); // Vireo has no live: ignored, and stays off.
    let r = put(&s, &root, &doc);
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().unwrap();
    assert_eq!(answer["instance"]["name"], "Birds <&> Bees");
    assert_eq!(answer["live"]["enabled"], false);
    assert_eq!(answer["transcoding"]["resolutions"]["144p"], true);
    assert_eq!(answer["transcoding"]["resolutions"]["1080p"], false);

    let config = public_config(&s);
    assert_eq!(config["instance"]["name"], "Birds <&> Bees");
    assert_eq!(config["signup"]["allowed"], true);
    assert_eq!(config["user"]["videoQuota"], 50_000_000);
    assert_eq!(config["transcoding"]["enabledResolutions"], json!([144]));
    let about = s.get_json("/api/v1/config/about");
    assert_eq!(about["instance"]["shortDescription"], "Films of birds.");

    // Sign-up opened at run time lets a visitor register, with the new quota.
    let r = s
        .post("/api/v1/users/register")
        .json(
            &json!({"username": "newbie", "password": "newbie-password", "email": "n@example.org"}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let me = s.me(&token_of(&s.login("newbie", "newbie-password")));
    assert_eq!(me["videoQuota"], 50_000_000);

    // The ladder turned on at run time (the test server's file turns it off) runs for the
    // next upload, with the rung chosen here.
    let uuid = upload_named(&s, &root, "After the change", clip());
    let video = wait_for_rungs(&s, &uuid, &[144]);
    assert!(video["streamingPlaylists"][0]["files"].is_array());

    // A restart keeps the settings; a PUT of a part leaves the rest as it was.
    drop(s);
    let s = Server::start(dir.path());
    let root = s.root_token();
    assert_eq!(public_config(&s)["instance"]["name"], "Birds <&> Bees");
    let r = put(&s, &root, &json!({"signup": {"enabled": false}}));
    assert_eq!(r.status(), 200);
    let config = public_config(&s);
    assert_eq!(config["signup"]["allowed"], false);
    assert_eq!(config["instance"]["name"], "Birds <&> Bees");

    // DELETE forgets them: the file's values (and the test server's environment) are back.
    let r = s
        .delete("/api/v1/config/custom")
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let config = public_config(&s);
    assert_eq!(config["instance"]["name"], "Vireo");
    assert_eq!(config["transcoding"]["enabledResolutions"], json!([]));
    drop(s);
    let s = Server::start(dir.path());
    assert_eq!(public_config(&s)["instance"]["name"], "Vireo");
}

#[test]
fn hostile_or_impossible_settings_are_refused_and_store_nothing() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let before = custom(&s, &root);
    let refused: &[(Value, &str)] = &[
        (json!({"instance": {"name": "   "}}), "instance.name"),
        (
            json!({"instance": {"name": "x".repeat(121)}}),
            "instance.name",
        ),
        (json!({"instance": {"name": "two\nlines"}}), "instance.name"),
        (
            json!({"instance": {"description": "a bell \u{7}"}}),
            "control characters",
        ),
        (
            json!({"instance": {"terms": "x".repeat(100_001)}}),
            "100 000 characters",
        ),
        (
            json!({"instance": {"defaultNSFWPolicy": "show-all"}}),
            "default_nsfw_policy",
        ),
        (json!({"signup": {"limit": -7}}), "signup.limit"),
        (json!({"user": {"videoQuota": -2}}), "video_quota"),
        // Parts Vireo has no setting for are still type-checked, as PeerTube does.
        (
            json!({"followers": {"instance": {"manualApproval": "yes"}}}),
            "followers.instance.manualApproval",
        ),
        (json!({"live": {"enabled": 1}}), "live.enabled"),
        (
            json!({"transcoding": {"profile": "fast"}}),
            "transcoding.profile",
        ),
        (
            json!({"transcoding": {"concurrency": 0}}),
            "transcoding.concurrency",
        ),
        (
            json!({"transcoding": {"resolutions": {"100p": true}}}),
            "144 to 4320",
        ),
        (json!({"transcoding": {"resolutions": {"0p": true}}}), "0p"),
        (
            json!({"transcoding": {"resolutions": {"big": true}}}),
            "big",
        ),
        (json!({"signup": {"requiresApproval": true}}), "approval"),
    ];
    for (body, says) in refused {
        let r = put(&s, &root, body);
        let e = assert_error(r, 400, "invalid_params");
        assert!(
            e.to_string().contains(says),
            "{body} should name {says}: {e}"
        );
    }
    // Wrong types and bodies that are not JSON objects.
    for raw in [
        r#"{"signup": {"enabled": "yes"}}"#,
        r#"{"instance": {"name": 7}}"#,
        r#"[1, 2]"#,
        r#"{"instance": "#,
    ] {
        let r = s
            .put("/api/v1/config/custom")
            .bearer_auth(&root)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .unwrap();
        assert_eq!(r.status(), 400, "{raw}");
    }
    assert_eq!(custom(&s, &root), before);
    drop(s);
    let s = Server::start(dir.path());
    assert_eq!(custom(&s, &s.root_token()), before);
}
