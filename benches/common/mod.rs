//! Helpers shared by the bench binaries: ports, readiness, process control, RSS, and the
//! reference tools (wrk as the load generator, Debian's nginx as the static-file reference).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const WRK_SECONDS: &str = "10s";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_ready(url: &str, deadline: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let ok = Command::new("curl")
            .args(["-fsS", "-o", "/dev/null", url])
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return start.elapsed();
        }
        assert!(start.elapsed() < deadline, "{url} never answered");
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[derive(Debug)]
pub struct Wrk {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
}

pub fn parse_latency(s: &str) -> f64 {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let v: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => v / 1000.0,
        "ms" => v,
        "s" => v * 1000.0,
        _ => f64::NAN,
    }
}

/// `wrk -t2 -c64 -d10s --latency` with extra headers (`"Name: value"`).
pub fn wrk(url: &str, headers: &[&str]) -> Wrk {
    wrk_with(url, headers, None)
}

/// `wrk` posting `json` to `url` on every request (through a wrk Lua script in `dir`).
pub fn wrk_post_json(dir: &Path, url: &str, json: &str) -> Wrk {
    let script = dir.join("post.lua");
    let body = json.replace('\\', "\\\\").replace('"', "\\\"");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = \"{body}\"\n\
             wrk.headers[\"Content-Type\"] = \"application/json\"\n"
        ),
    )
    .unwrap();
    wrk_with(url, &[], Some(&script))
}

fn wrk_with(url: &str, headers: &[&str], script: Option<&Path>) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c64", "-d", WRK_SECONDS, "--latency"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("wrk is installed (benches/run.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
    };
    Wrk {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").map(|v| parse_latency(&v)).unwrap_or(f64::NAN),
        p99_ms: field("99%").map(|v| parse_latency(&v)).unwrap_or(f64::NAN),
        non_2xx: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

/// Debian's nginx on `port` with `locations` (nginx `location` blocks) and a `/readyz`.
pub fn start_nginx(dir: &Path, locations: &str, port: u16) -> Child {
    let server = format!(
        "  access_log off;\n  server {{\n    listen 127.0.0.1:{port};\n    root {d};\n\
             {locations}\n\
             location = /readyz {{ return 200 'ready'; }}\n  }}\n",
        d = dir.display()
    );
    start_nginx_http(dir, &server, port)
}

/// Debian's nginx with `http` (the inside of its `http` block: servers, logs), ready once
/// `/readyz` answers on `port` (which `http` must serve).
pub fn start_nginx_http(dir: &Path, http: &str, port: u16) -> Child {
    let conf = format!(
        "worker_processes auto;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\nuser root;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  keepalive_requests 100000;\n{http}}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .args(["-p"])
        .arg(dir)
        .args(["-c"])
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx is installed (benches/run.sh installs it)");
    wait_ready(
        &format!("http://127.0.0.1:{port}/readyz"),
        Duration::from_secs(10),
    );
    child
}

pub const ROOT_PASSWORD: &str = "bench-root-password";

/// `curl -fsS` with `args`; its output (a failure is a panic with curl's message).
pub fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-fsS"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A top-level field of a JSON body, as a string.
pub fn json_field(body: &str, key: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v[key]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v[key].to_string())
}

/// The fixture clip (`bigbuckbunny.mp4`, 720p25, 5.3 s) looped `times` times without
/// re-encoding.
pub fn loop_fixture(dir: &Path, times: u32) -> std::path::PathBuf {
    let clip =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/media/bigbuckbunny.mp4");
    let out = dir.join(format!("loop{times}.mp4"));
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-stream_loop"])
        .arg((times - 1).to_string())
        .arg("-i")
        .arg(&clip)
        .args(["-c", "copy", "-movflags", "+faststart"])
        .arg(&out)
        .status()
        .expect("ffmpeg is installed (benches/run.sh installs it)");
    assert!(status.success());
    out
}

/// An access token for `user` on the Vireo at `url`, through PeerTube's password grant.
pub fn log_in(url: &str, user: &str, password: &str) -> String {
    let client = curl(&[&format!("{url}/api/v1/oauth-clients/local")]);
    let token = curl(&[
        "-d",
        &format!(
            "client_id={}&client_secret={}&grant_type=password&username={user}&password={password}",
            json_field(&client, "client_id"),
            json_field(&client, "client_secret")
        ),
        &format!("{url}/api/v1/users/token"),
    ]);
    json_field(&token, "access_token")
}

/// The release `vireo` on a fresh data directory, with an administrator's token and channel.
pub struct Vireo {
    pub child: Child,
    pub url: String,
    pub token: String,
    pub channel: u64,
}

impl Vireo {
    pub fn start(data: &Path, env: &[(&str, &str)]) -> Vireo {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vireo"));
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data)
            .env("VIREO_INITIAL_ADMIN_PASSWORD", ROOT_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        wait_ready(&format!("{url}/readyz"), Duration::from_secs(20));
        let token = log_in(&url, "root", ROOT_PASSWORD);
        let me = curl(&[
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("{url}/api/v1/users/me"),
        ]);
        let me: serde_json::Value = serde_json::from_str(&me).unwrap();
        let channel = me["videoChannels"][0]["id"].as_u64().unwrap();
        Vireo {
            child,
            url,
            token,
            channel,
        }
    }

    /// Upload `input` in one multipart request; the new video's uuid.
    pub fn upload(&self, input: &Path) -> String {
        let kind = match input.extension().and_then(|e| e.to_str()) {
            Some("webm") => "video/webm",
            _ => "video/mp4",
        };
        let answer = curl(&[
            "-H",
            &format!("Authorization: Bearer {}", self.token),
            "-F",
            &format!("channelId={}", self.channel),
            "-F",
            "name=Bench upload",
            "-F",
            &format!("videofile=@{};type={kind}", input.display()),
            &format!("{}/api/v1/videos/upload", self.url),
        ]);
        assert!(answer.contains("\"uuid\""), "{answer}");
        json_field(&json_field(&answer, "video"), "uuid")
    }

    /// The video's JSON.
    pub fn video(&self, uuid: &str) -> serde_json::Value {
        let v = curl(&[&format!("{}/api/v1/videos/{uuid}", self.url)]);
        serde_json::from_str(&v).unwrap()
    }

    pub fn stop(self) {
        stop(self.child);
    }
}

/// Run Debian's ffmpeg quietly, failing the bench on an error.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed (benches/run.sh installs it)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A data directory with `count` public, published videos in root's channel (realistic titles,
/// descriptions, tags, categories, languages), made through Vireo's own services in one
/// transaction.
pub fn seed_videos(data: &Path, count: usize) {
    let mut config = vireo::config::Config::default();
    config.storage.data_dir = data.to_owned();
    vireo::server::prepare_data_dir(data).unwrap();
    let core = vireo::service::Core::open(config).unwrap();
    vireo::server::bootstrap_root(&core).unwrap();
    let channel = vireo::service::actors::channel_by_handle(&core, "root_channel")
        .unwrap()
        .id;
    let words = [
        "river", "mountain", "rust", "video", "cooking", "travel", "music", "night", "city",
        "garden",
    ];
    let batch: Vec<vireo::service::videos::NewVideo> = (0..count)
        .map(|i| vireo::service::videos::NewVideo {
            channel_id: channel,
            name: format!(
                "{} {} {} #{i}",
                words[i % 10],
                words[(i / 10) % 10],
                words[(i / 100) % 10]
            ),
            description: Some(
                format!("A video about {} and {}. ", words[i % 7], words[i % 3]).repeat(8),
            ),
            support: None,
            category: Some(1 + (i % 18) as u32),
            licence: Some(1 + (i % 7) as u32),
            language: Some(["en", "fr", "de", "es"][i % 4].into()),
            privacy: vireo::model::video::Privacy::Public,
            nsfw: false,
            tags: vec![words[i % 10].into(), words[(i + 3) % 10].into()],
            comments_policy: vireo::model::video::CommentsPolicy::Enabled,
            download_enabled: true,
            wait_transcoding: false,
            state: vireo::model::video::VideoState::Published,
            duration: 30 + (i % 600) as u64,
            originally_published_at_ms: None,
            input_size: 0,
        })
        .collect();
    vireo::service::videos::create_batch(&core, batch).unwrap();
}
