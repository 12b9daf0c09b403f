//! The whole account flow: client credentials → token → me → create user → user creates a
//! channel → admin lists users → refresh → revoke → refused.

use serde_json::{Value, json};

use crate::common::{Server, assert_error, tempdir, token_of};

#[test]
fn account_flow_end_to_end() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    assert!(
        s.stdout.iter().any(|l| l.contains("Vireo is running at")),
        "announces its URL: {:?}",
        s.stdout
    );

    // Client credentials and the token response shape.
    let (client_id, secret) = s.client();
    assert_eq!(client_id.len(), 32);
    assert_eq!(secret.len(), 32);
    let tokens = s.login("root", crate::common::ROOT_PASSWORD);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 86399);
    assert_eq!(tokens["refresh_token_expires_in"], 1_209_599);
    let root = token_of(&tokens);

    // Me.
    let me = s.me(&root);
    assert_eq!(me["username"], "root");
    assert_eq!(me["role"], json!({"id": 0, "label": "Administrator"}));
    assert_eq!(me["videoChannels"][0]["name"], "root_channel");
    assert!(me["notificationSettings"].is_object());

    // Admin creates a user; the user logs in (by e-mail, case-insensitively) and makes a channel.
    let bob_id = s.create_user(&root, "bob", "bob-password", 2);
    let bob = token_of(&s.login("BOB@example.org", "bob-password"));
    let r = s
        .post("/api/v1/video-channels")
        .bearer_auth(&bob)
        .json(&json!({"name": "bob_music", "displayName": "Bob's music", "description": "Songs I like"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let created: Value = r.json().unwrap();
    let channel_id = created["videoChannel"]["id"].as_u64().unwrap();
    let channel = s.get_json("/api/v1/video-channels/bob_music");
    assert_eq!(channel["id"], channel_id);
    assert_eq!(channel["ownerAccount"]["name"], "bob");
    assert_eq!(channel["displayName"], "Bob's music");
    let r = s
        .put("/api/v1/video-channels/bob_music")
        .bearer_auth(&bob)
        .json(&json!({"displayName": "Bob's songs", "support": null}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let mine = s.get_json("/api/v1/accounts/bob/video-channels");
    assert_eq!(mine["total"], 2, "default channel and the new one");
    let account = s.get_json("/api/v1/accounts/bob");
    assert_eq!(account["userId"], bob_id);

    // The admin lists users; a plain user may not.
    let users = s.get_json_as("/api/v1/users?sort=username", &root);
    assert_eq!(users["total"], 2);
    assert_eq!(users["data"][0]["username"], "bob");
    assert_error(
        s.get("/api/v1/users").bearer_auth(&bob).send().unwrap(),
        403,
        "forbidden",
    );

    // Refresh: a new pair works, the old refresh token does not.
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let refreshed: Value = s.refresh_response(refresh_token).json().unwrap();
    let root2 = token_of(&refreshed);
    assert_ne!(root2, root);
    assert_error(
        s.get("/api/v1/users/me").bearer_auth(&root).send().unwrap(),
        401,
        "invalid_token",
    );
    let again = s.refresh_response(refresh_token);
    assert_error(again, 400, "invalid_grant");

    // Revoke: the token is refused afterwards.
    let r = s
        .post("/api/v1/users/revoke-token")
        .bearer_auth(&root2)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap(), json!({"success": true}));
    assert_error(
        s.get("/api/v1/users/me")
            .bearer_auth(&root2)
            .send()
            .unwrap(),
        401,
        "invalid_token",
    );
    assert!(s.stop(), "graceful shutdown exits 0");
}

#[test]
fn roles_limit_who_manages_whom() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let mod_id = s.create_user(&root, "mia", "mia-password", 1);
    let user_id = s.create_user(&root, "ursula", "ursula-password", 2);
    let mia = token_of(&s.login("mia", "mia-password"));

    // A moderator manages plain users …
    let r = s
        .put(&format!("/api/v1/users/{user_id}"))
        .bearer_auth(&mia)
        .json(&json!({"videoQuota": 1000}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let u = s.get_json_as(&format!("/api/v1/users/{user_id}"), &root);
    assert_eq!(u["videoQuota"], 1000);
    // … but not the administrator, not another moderator's role, and cannot mint admins.
    assert_error(
        s.put("/api/v1/users/1")
            .bearer_auth(&mia)
            .json(&json!({"videoQuota": 1}))
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    assert_error(
        s.delete("/api/v1/users/1")
            .bearer_auth(&mia)
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    assert_error(
        s.post("/api/v1/users").bearer_auth(&mia)
            .json(&json!({"username": "evil", "password": "evil-password", "email": "e@example.org", "role": 0}))
            .send().unwrap(),
        403, "forbidden",
    );
    assert_error(
        s.put(&format!("/api/v1/users/{user_id}"))
            .bearer_auth(&mia)
            .json(&json!({"role": 0}))
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    // Content is another matter: as in PeerTube, a moderator manages anyone's videos and
    // channels, the administrator's too (but not the administrator's last channel away).
    let r = s
        .put("/api/v1/video-channels/root_channel")
        .bearer_auth(&mia)
        .json(&json!({"displayName": "Renamed by a moderator"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let ch = s.get_json("/api/v1/video-channels/root_channel");
    assert_eq!(ch["displayName"], "Renamed by a moderator");
    let root_channel = ch["id"].as_u64().unwrap();
    let r = crate::uploads::single_upload(
        &s,
        &root,
        root_channel,
        "Root's video",
        crate::uploads::clip(),
    );
    let uuid = r.json::<Value>().unwrap()["video"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&mia)
        .json(&json!({"name": "Retitled by a moderator"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_error(
        s.delete("/api/v1/video-channels/root_channel")
            .bearer_auth(&mia)
            .send()
            .unwrap(),
        409,
        "conflict",
    );
    // A plain user may do neither.
    let ursula_token = token_of(&s.login("ursula", "ursula-password"));
    for r in [
        s.put(&format!("/api/v1/videos/{uuid}"))
            .bearer_auth(&ursula_token)
            .json(&json!({"name": "Mine now"}))
            .send()
            .unwrap(),
        s.put("/api/v1/video-channels/root_channel")
            .bearer_auth(&ursula_token)
            .json(&json!({"displayName": "Mine now"}))
            .send()
            .unwrap(),
    ] {
        assert_error(r, 403, "forbidden");
    }
    let r = s
        .delete(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&mia)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    // Changing a role revokes nothing it should not; blocking revokes the user's sessions.
    let ursula = token_of(&s.login("ursula", "ursula-password"));
    let r = s
        .post(&format!("/api/v1/users/{user_id}/block"))
        .bearer_auth(&mia)
        .json(&json!({"reason": "spam spam"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_error(
        s.get("/api/v1/users/me")
            .bearer_auth(&ursula)
            .send()
            .unwrap(),
        401,
        "invalid_token",
    );
    assert_error(
        s.login_response("ursula", "ursula-password"),
        400,
        "access_denied",
    );
    let r = s
        .post(&format!("/api/v1/users/{user_id}/unblock"))
        .bearer_auth(&mia)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    s.login("ursula", "ursula-password");
    // The root account cannot be deleted; others can, and their names stay reserved.
    assert_error(
        s.delete("/api/v1/users/1")
            .bearer_auth(&root)
            .send()
            .unwrap(),
        400,
        "bad_request",
    );
    assert_eq!(
        s.delete(&format!("/api/v1/users/{mod_id}"))
            .bearer_auth(&root)
            .send()
            .unwrap()
            .status(),
        204
    );
    assert_error(
        s.get("/api/v1/accounts/mia").send().unwrap(),
        404,
        "not_found",
    );
    assert_error(
        s.post("/api/v1/users").bearer_auth(&root)
            .json(&json!({"username": "mia", "password": "mia-password", "email": "mia2@example.org", "role": 2}))
            .send().unwrap(),
        409, "conflict",
    );
}

#[test]
fn registration_follows_configuration() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let body =
        json!({"username": "newbie", "password": "newbie-password", "email": "n@example.org"});
    assert_error(
        s.post("/api/v1/users/register").json(&body).send().unwrap(),
        403,
        "forbidden",
    );
    let config = s.get_json("/api/v1/config");
    assert_eq!(config["signup"]["allowed"], false);
    drop(s);

    let s = Server::start_with(
        dir.path(),
        &[
            ("VIREO_SIGNUP__ENABLED", "true"),
            ("VIREO_SIGNUP__LIMIT", "2"),
        ],
    );
    let config = s.get_json("/api/v1/config");
    assert_eq!(config["signup"]["allowed"], true);
    let r = s
        .post("/api/v1/users/register")
        .json(
            &json!({"username": "newbie", "password": "newbie-password", "email": "n@example.org",
                      "channel": {"name": "newbie_films", "displayName": "Films"}}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let me = s.get_json_as(
        "/api/v1/users/me",
        token_of(&s.login("newbie", "newbie-password")),
    );
    assert_eq!(me["role"]["id"], 2);
    assert_eq!(me["videoChannels"][0]["name"], "newbie_films");
    // The limit (2 users, root included) is reached.
    let r = s
        .post("/api/v1/users/register")
        .json(&json!({"username": "late", "password": "late-password", "email": "l@example.org"}))
        .send()
        .unwrap();
    assert_error(r, 403, "forbidden");
}
