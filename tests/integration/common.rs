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
        Server::start_at(data_dir, free_port(), env)
    }

    /// The port this server listens on (to start it again at the same address).
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port")
    }

    /// Start on `data_dir` at `port` with extra `VIREO_*` environment.
    pub fn start_at(data_dir: &Path, port: u16, env: &[(&str, &str)]) -> Server {
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
            .tls_backend_preconfigured(vireo::federation::client::tls_config().unwrap())
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

    /// GET an absolute URL (another server's, say) with this server's client.
    pub fn get_url(&self, url: &str) -> RequestBuilder {
        self.http.get(url)
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
    /// `method path` as `token`'s user, with a JSON body: the answer.
    pub fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> Response {
        self.http_request(method, path)
            .bearer_auth(token)
            .json(body)
            .send()
            .expect("request")
    }

    pub fn http_request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url))
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

    /// The form of a password grant.
    pub fn password_form(&self, username: &str, password: &str) -> Vec<(String, String)> {
        let (id, secret) = self.client();
        [
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
            ("grant_type", "password"),
            ("response_type", "code"),
            ("username", username),
            ("password", password),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    /// Password grant; returns the raw response.
    pub fn login_response(&self, username: &str, password: &str) -> Response {
        self.post("/api/v1/users/token")
            .form(&self.password_form(username, password))
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

    /// `GET path` as an anonymous visitor, which must succeed with JSON.
    pub fn get_json(&self, path: &str) -> Value {
        json_of(self.get(path).send().expect(path), path)
    }

    /// `GET path` with `token`, which must succeed with JSON.
    pub fn get_json_as(&self, path: &str, token: impl std::fmt::Display) -> Value {
        json_of(self.get(path).bearer_auth(token).send().expect(path), path)
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

/// Debian's ffmpeg, which the tests use to make inputs and to judge outputs (Vireo never runs
/// it; `tests/run.sh` installs it): `-hide_banner -loglevel error -y`, then the inputs and
/// options given, then one output.
pub struct Ffmpeg(Command);

impl Default for Ffmpeg {
    fn default() -> Self {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-loglevel", "error", "-y"]);
        Ffmpeg(cmd)
    }
}

impl Ffmpeg {
    pub fn new() -> Ffmpeg {
        Ffmpeg::default()
    }

    /// A generated input (`testsrc2=size=320x240:rate=25:duration=2`, `sine=frequency=440`…).
    pub fn lavfi(mut self, source: &str) -> Ffmpeg {
        self.0.args(["-f", "lavfi", "-i", source]);
        self
    }

    /// A file input.
    pub fn input(mut self, path: impl AsRef<std::ffi::OsStr>) -> Ffmpeg {
        self.0.arg("-i").arg(path);
        self
    }

    /// Options, in order (codecs, durations, input options before the next input…).
    pub fn args<S: AsRef<std::ffi::OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Ffmpeg {
        self.0.args(args);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Ffmpeg {
        self.0.arg(arg);
        self
    }

    /// Write `out`, which must succeed; returns its path.
    pub fn make(mut self, out: impl AsRef<Path>) -> std::path::PathBuf {
        let out = out.as_ref().to_owned();
        let done = self
            .0
            .arg(&out)
            .output()
            .expect("ffmpeg is installed (tests/run.sh installs it)");
        assert!(
            done.status.success(),
            "ffmpeg made no {}: {}",
            out.display(),
            String::from_utf8_lossy(&done.stderr)
        );
        out
    }

    /// Run to the given output arguments (`-f null -`, `-f framemd5 -`…) and return what it
    /// printed, for judging; the caller checks the status.
    pub fn run(mut self) -> std::process::Output {
        self.0
            .output()
            .expect("ffmpeg is installed (tests/run.sh installs it)")
    }
}

/// The JSON body of a successful answer to `what`.
pub fn json_of(r: Response, what: &str) -> Value {
    let status = r.status();
    let body = r.text().expect(what);
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"))
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

/// The setting that lets two test servers on 127.0.0.1 federate.
pub const LAB: (&str, &str) = ("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true");

/// The host (and port) a test server calls itself.
pub fn host(s: &Server) -> String {
    s.url.trim_start_matches("http://").to_owned()
}

/// Poll `path` on `s` until `ok` holds of its JSON (or fail after 30 s, showing the last).
pub fn wait_for(s: &Server, path: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = s.get_json(path);
        if ok(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{path} never matched: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
