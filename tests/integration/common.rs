//! Test harness: start the real `vireo` binary on a free 127.0.0.1 port with a temporary data
//! directory, talk to it over HTTP, stop it gracefully or with `kill -9`.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

pub const ROOT_PASSWORD: &str = "root-password-for-tests";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vireo")
}

pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub data_dir: PathBuf,
    pub stdout: Vec<String>,
    http: Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Server {
    /// Start on `data_dir` with extra `VIREO_*` environment.
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(bin());
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir)
            .env("VIREO_INITIAL_ADMIN_PASSWORD", ROOT_PASSWORD)
            .env("RUST_LOG", "warn")
            // The AV1 ladder keeps both cores busy for seconds per upload; the tests about it
            // turn it on (`encode.rs`), the rest judge the remux alone.
            .env("VIREO_TRANSCODING__ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("vireo starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let http = Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let mut server = Server {
            child: Some(child),
            url,
            data_dir: data_dir.to_owned(),
            stdout: Vec::new(),
            http,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = server.http.get(format!("{}/readyz", server.url)).send()
                && r.status() == 200
            {
                break;
            }
            if let Some(status) = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("vireo exited early with {status}");
            }
            assert!(Instant::now() < deadline, "vireo did not become ready");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The announcement is printed before the listener serves; collect what has arrived.
        std::thread::sleep(Duration::from_millis(50));
        server.stdout.extend(rx.try_iter());
        server
    }

    pub fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[])
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// SIGTERM, then wait; returns whether the process exited successfully.
    pub fn stop(mut self) -> bool {
        let mut child = self.child.take().expect("running");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status.success();
            }
            assert!(Instant::now() < deadline, "vireo did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill9(mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("kill -9");
        child.wait().expect("reaped");
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(format!("{}{path}", self.url))
    }
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.http.post(format!("{}{path}", self.url))
    }
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.http.put(format!("{}{path}", self.url))
    }
    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.http.delete(format!("{}{path}", self.url))
    }

    pub fn client(&self) -> (String, String) {
        let c: Value = self
            .get("/api/v1/oauth-clients/local")
            .send()
            .expect("client")
            .json()
            .expect("json");
        (
            c["client_id"].as_str().expect("id").to_owned(),
            c["client_secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// Password grant; returns the raw response.
    pub fn login_response(&self, username: &str, password: &str) -> Response {
        let (id, secret) = self.client();
        self.post("/api/v1/users/token")
            .form(&[
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("grant_type", "password"),
                ("response_type", "code"),
                ("username", username),
                ("password", password),
            ])
            .send()
            .expect("token request")
    }

    /// Refresh-token grant; returns the raw response.
    pub fn refresh_response(&self, refresh_token: &str) -> Response {
        let (id, secret) = self.client();
        self.post("/api/v1/users/token")
            .form(&[
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ])
            .send()
            .expect("token request")
    }

    /// `GET /api/v1/users/me` with `token`, which must succeed.
    pub fn me(&self, token: &str) -> Value {
        let r = self
            .get("/api/v1/users/me")
            .bearer_auth(token)
            .send()
            .expect("me");
        assert_eq!(r.status(), 200, "me");
        r.json().expect("me json")
    }

    /// Password grant that must succeed; returns the token response.
    pub fn login(&self, username: &str, password: &str) -> Value {
        let r = self.login_response(username, password);
        assert_eq!(r.status(), 200, "login {username}");
        r.json().expect("token json")
    }

    pub fn root_token(&self) -> String {
        token_of(&self.login("root", ROOT_PASSWORD))
    }

    /// Create a user as `admin_token`; returns its id.
    pub fn create_user(&self, admin_token: &str, username: &str, password: &str, role: u8) -> u64 {
        let r = self
            .post("/api/v1/users")
            .bearer_auth(admin_token)
            .json(&json!({
                "username": username,
                "password": password,
                "email": format!("{username}@example.org"),
                "role": role,
            }))
            .send()
            .expect("create user");
        assert_eq!(r.status(), 200, "create {username}");
        let v: Value = r.json().expect("json");
        v["user"]["id"].as_u64().expect("id")
    }

    /// Run `vireo admin …` against this server's data directory.
    pub fn admin(&self, args: &[&str]) -> std::process::Output {
        admin(&self.data_dir, args)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn admin(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("--data-dir")
        .arg(data_dir)
        .arg("admin")
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("vireo admin runs")
}

pub fn token_of(v: &Value) -> String {
    v["access_token"].as_str().expect("access_token").to_owned()
}

/// Assert a PeerTube-shaped error with this status and code.
pub fn assert_error(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct}"
    );
    let body: Value = r.json().expect("error json");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("vireo-test-")
        .tempdir()
        .expect("tempdir")
}
