//! `vireo admin` works while the server runs (through the admin socket) and when it is stopped
//! (directly on the store), and `vireo check` validates configuration and data.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::common::{Server, admin, bin, tempdir, token_of};

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "admin failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn admin_commands_work_while_running_and_stopped() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let socket = dir.path().join("admin.sock");
    assert_eq!(
        std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777,
        0o700
    );

    // While running: create with a generated password, which is printed once and works.
    let out = ok(&s.admin(&[
        "user",
        "create",
        "--username",
        "dave",
        "--email",
        "dave@example.org",
        "--role",
        "moderator",
    ]));
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap()
        .to_owned();
    let me: Value = s
        .get("/api/v1/users/me")
        .bearer_auth(token_of(&s.login("dave", &password)))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["role"]["id"], 1);

    // passwd revokes sessions; role changes show in the API at once.
    let session = token_of(&s.login("dave", &password));
    ok(&s.admin(&["user", "passwd", "dave", "--password", "new-dave-password"]));
    assert_eq!(
        s.get("/api/v1/users/me")
            .bearer_auth(&session)
            .send()
            .unwrap()
            .status(),
        401
    );
    ok(&s.admin(&["user", "role", "dave", "admin"]));
    let me: Value = s
        .get("/api/v1/users/me")
        .bearer_auth(token_of(&s.login("dave", "new-dave-password")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["role"]["id"], 0);
    let list = ok(&s.admin(&["user", "list"]));
    assert!(list.contains("dave") && list.contains("root"), "{list}");

    // Errors are reported, and change nothing.
    let dup = s.admin(&[
        "user",
        "create",
        "--username",
        "dave",
        "--email",
        "other@example.org",
    ]);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let bad = s.admin(&["user", "role", "root", "user"]);
    assert!(!bad.status.success());
    let out = ok(&s.admin(&["user", "list"]));
    assert_eq!(out.lines().count(), 3, "header, root, dave: {out}");
    assert!(s.stop());
    assert!(!socket.exists(), "socket removed at shutdown");

    // Stopped: the same commands work on the store directly.
    ok(&admin(
        dir.path(),
        &[
            "user",
            "create",
            "--username",
            "erin",
            "--email",
            "erin@example.org",
            "--password",
            "erin-password",
        ],
    ));
    let s = Server::start(dir.path());
    s.login("erin", "erin-password");
    s.kill9();
    // A stale socket left by kill -9 does not stop offline commands.
    assert!(socket.exists());
    ok(&admin(
        dir.path(),
        &["user", "passwd", "erin", "--password", "erin-password-2"],
    ));
    let s = Server::start(dir.path());
    s.login("erin", "erin-password-2");
}

#[test]
fn check_and_version() {
    let dir = tempdir();
    let out = std::process::Command::new(bin())
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("vireo "));
    let check = |extra: &[(&str, &str)]| {
        let mut c = std::process::Command::new(bin());
        c.arg("--data-dir").arg(dir.path()).arg("check");
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    assert!(check(&[]).status.success());
    let bad = check(&[("VIREO_SERVER__LISTEN", "not-an-address")]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("server.listen"));
    let s = Server::start(dir.path());
    let out = check(&[]);
    assert!(
        out.status.success(),
        "check passes while the server holds the store"
    );
    drop(s);
    let out = check(&[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 users"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
