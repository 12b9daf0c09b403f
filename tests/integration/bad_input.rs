//! Hostile and malformed input: each request gets the right status and a PeerTube-shaped error
//! with a stable code, the server keeps serving, and nothing stored changes.

use serde_json::{Value, json};

use crate::common::{Server, assert_error, tempdir, token_of};

fn user_count(s: &Server, token: &str) -> u64 {
    let v = s.get_json_as("/api/v1/users", token);
    v["total"].as_u64().unwrap()
}

#[test]
fn malformed_bodies_and_fields_change_nothing() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let before = user_count(&s, &root);
    let post_raw = |body: &str| {
        s.post("/api/v1/users")
            .bearer_auth(&root)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap()
    };
    assert_error(post_raw("{not json"), 400, "bad_request");
    // A wrong type or a missing field is named, as PeerTube's validators name them.
    let e = assert_error(
        post_raw(
            r#"{"username": "x1", "password": "password", "email": "x@example.org", "role": "admin"}"#,
        ),
        400,
        "invalid_params",
    );
    assert!(e["invalid-params"]["role"].is_object(), "{e}");
    let e = assert_error(
        post_raw(r#"{"username": "x1", "email": "x@example.org", "role": 2}"#),
        400,
        "invalid_params",
    );
    assert!(e["invalid-params"]["password"].is_object(), "{e}");
    // An oversized body is refused once it passes the limit (`server.max_body_bytes`, 1 MiB).
    // Sent whole, the server's closing the connection races the client's writing (a reset
    // instead of the answer), so only one byte more than the limit goes out.
    let answer = oversized_post(&s, "/api/v1/users", &root, 1 << 20);
    assert!(
        answer.starts_with("HTTP/1.1 413") && answer.contains("payload_too_large"),
        "{answer}"
    );
    assert_error(
        post_raw(&format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000))),
        400,
        "bad_request",
    );
    // One bad field at a time in an otherwise good user.
    let user = |change: Value| {
        let mut body = json!({"username": "okname", "password": "password",
                              "email": "x@example.org", "role": 2});
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        body.to_string()
    };
    for (change, status, code) in [
        (json!({"username": "a".repeat(51)}), 400, "invalid_params"),
        (json!({"username": "Upper"}), 400, "invalid_params"),
        (json!({"password": "short"}), 400, "invalid_params"),
        (json!({"email": "not-an-email"}), 400, "invalid_params"),
        (json!({"role": 7}), 400, "invalid_params"),
        (json!({"username": "root"}), 409, "conflict"),
        (
            json!({"email": "ADMIN@localhost.localdomain"}),
            409,
            "conflict",
        ),
        // A username that collides with a channel name (one actor namespace).
        (json!({"username": "root_channel"}), 409, "conflict"),
    ] {
        let e = assert_error(post_raw(&user(change.clone())), status, code);
        if code == "invalid_params" {
            let field = change.as_object().unwrap().keys().next().unwrap();
            assert!(e["invalid-params"][field].is_object(), "{change}: {e}");
        }
    }
    // No Content-Type: PeerTube reads no fields, so its validation error, not 415.
    assert_error(
        s.post("/api/v1/users")
            .bearer_auth(&root)
            .body("x")
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    assert_error(
        s.post("/api/v1/users")
            .bearer_auth(&root)
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .unwrap(),
        415,
        "unsupported_media_type",
    );
    assert_eq!(
        user_count(&s, &root),
        before,
        "no failed request stored anything"
    );

    // Channels: duplicates, bad names, and over-long fields.
    let post_channel = |body: Value| {
        s.post("/api/v1/video-channels")
            .bearer_auth(&root)
            .json(&body)
            .send()
            .unwrap()
    };
    for (body, status, code) in [
        (
            json!({"name": "root_channel", "displayName": "dup"}),
            409,
            "conflict",
        ),
        // One actor namespace: the user's own account holds the name.
        (
            json!({"name": "root", "displayName": "same as user"}),
            409,
            "conflict",
        ),
        (
            json!({"name": "bad name", "displayName": "x"}),
            400,
            "invalid_params",
        ),
        (
            json!({"name": "okchan", "displayName": "x".repeat(121)}),
            400,
            "invalid_params",
        ),
        (
            json!({"name": "okchan", "displayName": "ok", "description": "é".repeat(1001)}),
            400,
            "invalid_params",
        ),
    ] {
        assert_error(post_channel(body), status, code);
    }
    let chans = s.get_json("/api/v1/video-channels");
    assert_eq!(chans["total"], 1);

    // Query strings, then unknown things; `true` sends root's token.
    for (path, as_root, status, code) in [
        ("/api/v1/videos?count=101", false, 400, "invalid_params"),
        ("/api/v1/videos?start=-1", false, 400, "invalid_params"),
        ("/api/v1/videos?sort=password", false, 400, "invalid_params"),
        (
            "/api/v1/videos?categoryOneOf=music",
            false,
            400,
            "invalid_params",
        ),
        ("/api/v1/videos?filter=local", false, 400, "bad_request"),
        (
            "/api/v1/videos?include=1",
            false,
            401,
            "unauthorized_request",
        ),
        ("/api/v1/users?blocked=maybe", true, 400, "invalid_params"),
        ("/api/v1/users/999", true, 404, "not_found"),
        ("/api/v1/users/abc", true, 400, "invalid_params"),
        ("/api/v1/videos/999", false, 404, "not_found"),
        ("/api/v1/videos/not-a-uuid-at-all!", false, 404, "not_found"),
        ("/api/v1/video-channels/nobody", false, 404, "not_found"),
        (
            "/api/v1/video-channels/root_channel@elsewhere.example",
            false,
            404,
            "not_found",
        ),
        ("/api/v1/accounts/root_channel", false, 404, "not_found"),
        ("/api/v1/no-such-endpoint", false, 404, "not_found"),
    ] {
        let request = s.get(path);
        let request = if as_root {
            request.bearer_auth(&root)
        } else {
            request
        };
        assert_error(request.send().unwrap(), status, code);
    }
    assert_eq!(
        s.get("/readyz").send().unwrap().status(),
        200,
        "still serving"
    );
}

#[test]
fn bad_credentials_and_tokens() {
    let dir = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[
            ("VIREO_AUTH__ACCESS_TOKEN_LIFETIME_SECS", "1"),
            ("VIREO_AUTH__LOGIN_MAX_FAILURES", "4"),
            ("VIREO_AUTH__LOGIN_MAX_FAILURES_PER_ADDRESS", "4"),
        ],
    );
    let (id, secret) = s.client();
    let token = |form: &[(&str, &str)]| s.post("/api/v1/users/token").form(form).send().unwrap();
    assert_error(token(&[("grant_type", "password")]), 400, "invalid_client");
    assert_error(
        token(&[
            ("client_id", &id),
            ("client_secret", "wrong"),
            ("grant_type", "password"),
        ]),
        400,
        "invalid_client",
    );
    assert_error(
        token(&[("client_id", &id), ("client_secret", &secret)]),
        400,
        "invalid_request",
    );
    assert_error(
        token(&[
            ("client_id", &id),
            ("client_secret", &secret),
            ("grant_type", "implicit"),
        ]),
        400,
        "unsupported_grant_type",
    );
    assert_error(
        token(&[
            ("client_id", &id),
            ("client_secret", &secret),
            ("grant_type", "password"),
            ("username", "root"),
        ]),
        400,
        "invalid_request",
    );
    let json_body = s
        .post("/api/v1/users/token")
        .json(&json!({"client_id": id}))
        .send()
        .unwrap();
    assert_error(json_body, 400, "invalid_request");
    let e = assert_error(s.login_response("root", "wrong"), 400, "invalid_grant");
    assert_eq!(e["detail"], "Invalid grant: user credentials are invalid");
    assert_error(s.login_response("nobody", "wrong"), 400, "invalid_grant");

    // Tokens: missing, malformed, unknown, expired.
    assert_error(
        s.get("/api/v1/users/me").send().unwrap(),
        401,
        "unauthorized_request",
    );
    assert_error(
        s.get("/api/v1/users/me")
            .header("authorization", "Basic abc")
            .send()
            .unwrap(),
        400,
        "invalid_request",
    );
    assert_error(
        s.get("/api/v1/users/me")
            .bearer_auth("f".repeat(40))
            .send()
            .unwrap(),
        401,
        "invalid_token",
    );
    let t = s.root_token();
    assert_eq!(
        s.get("/api/v1/users/me")
            .bearer_auth(&t)
            .send()
            .unwrap()
            .status(),
        200
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_error(
        s.get("/api/v1/users/me").bearer_auth(&t).send().unwrap(),
        401,
        "invalid_token",
    );

    // Throttling: after 4 failures from this address (over all names), it is locked, even with
    // the right password.
    for _ in 0..2 {
        assert_error(
            s.login_response("root", "still wrong"),
            400,
            "invalid_grant",
        );
    }
    let r = s.login_response("root", crate::common::ROOT_PASSWORD);
    assert!(r.headers().get("retry-after").is_some());
    assert_error(r, 429, "too_many_requests");
}

#[test]
fn users_cannot_touch_what_is_not_theirs() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "frank", "frank-password", 2);
    s.create_user(&root, "grace", "grace-password", 2);
    let frank = token_of(&s.login("frank", "frank-password"));
    let grace = token_of(&s.login("grace", "grace-password"));
    assert_error(
        s.put("/api/v1/video-channels/grace_channel")
            .bearer_auth(&frank)
            .json(&json!({"displayName": "mine now"}))
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    assert_error(
        s.delete("/api/v1/video-channels/grace_channel")
            .bearer_auth(&frank)
            .send()
            .unwrap(),
        403,
        "forbidden",
    );
    // Grace cannot delete her only channel.
    assert_error(
        s.delete("/api/v1/video-channels/grace_channel")
            .bearer_auth(&grace)
            .send()
            .unwrap(),
        409,
        "conflict",
    );
    let c = s.get_json("/api/v1/video-channels/grace_channel");
    assert_eq!(c["displayName"], "Main grace channel");
    // Self-service: changing the password needs the current one.
    assert_error(
        s.put("/api/v1/users/me")
            .bearer_auth(&frank)
            .json(&json!({"password": "another-password"}))
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    assert_error(
        s.put("/api/v1/users/me")
            .bearer_auth(&frank)
            .json(&json!({"password": "another-password", "currentPassword": "nope"}))
            .send()
            .unwrap(),
        401,
        "current_password_is_invalid",
    );
    assert_error(
        s.put("/api/v1/users/me")
            .bearer_auth(&frank)
            .json(&json!({"nsfwPolicy": "show everything"}))
            .send()
            .unwrap(),
        400,
        "invalid_params",
    );
    let r = s.put("/api/v1/users/me").bearer_auth(&frank)
        .json(&json!({"displayName": "Frank F.", "nsfwPolicy": "blur", "password": "another-password", "currentPassword": "frank-password"}))
        .send().unwrap();
    assert_eq!(r.status(), 204);
    let me = s.me(&frank);
    assert_eq!(
        (
            me["nsfwPolicy"].as_str(),
            me["account"]["displayName"].as_str()
        ),
        (Some("blur"), Some("Frank F."))
    );
    s.login("frank", "another-password");
}

/// POST a JSON string twice `limit` long, but send only `limit + 1` of its bytes, so that the
/// server has read all that was sent when it answers; the answer as text.
fn oversized_post(s: &Server, path: &str, token: &str, limit: usize) -> String {
    use std::io::{Read, Write};
    let addr = s.url.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        tcp,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n\"",
        2 * limit
    )
    .unwrap();
    tcp.write_all(&vec![b'x'; limit]).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains('}') {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}
