//! `vireo admin` works while the server runs (through the admin socket) and when it is stopped
//! (directly on the store), and `vireo check` validates configuration and data.

use std::os::unix::fs::PermissionsExt;

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
    let me = s.get_json_as("/api/v1/users/me", token_of(&s.login("dave", &password)));
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
    let me = s.get_json_as(
        "/api/v1/users/me",
        token_of(&s.login("dave", "new-dave-password")),
    );
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

/// Passwords are asked for on a terminal, never echoed; a password given as an argument still
/// works but is warned about, since the process list shows it.
#[test]
fn passwords_are_asked_on_the_terminal() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let out = admin(
        dir.path(),
        &[
            "user",
            "create",
            "--username",
            "fay",
            "--email",
            "fay@example.org",
            "--password",
            "fay-password",
        ],
    );
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("visible to every local user"),
        "{out:?}"
    );
    s.login("fay", "fay-password");
    // `script` gives the command a terminal; what is typed comes from its standard input.
    let command = format!(
        "{} --data-dir {} admin user passwd fay",
        bin(),
        dir.path().display()
    );
    let typed = |input: &str| {
        let mut child = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("script runs");
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for line in input.lines() {
            std::thread::sleep(std::time::Duration::from_millis(300));
            stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let transcript = typed("fay-typed-1\nfay-typed-2");
    assert!(transcript.contains("passwords differ"), "{transcript}");
    let transcript = typed("fay-typed-pw\nfay-typed-pw");
    assert!(transcript.contains("New password for fay"), "{transcript}");
    assert!(!transcript.contains("fay-typed-pw"), "echoed: {transcript}");
    s.login("fay", "fay-typed-pw");
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
