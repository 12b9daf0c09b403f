//! Attacks one client could make on the whole instance, each shown failing against the real
//! binary: slowloris and idle connections, unbounded bodies (the server's peak memory measured),
//! the quota overrun by parallel uploads, password guessing in parallel, sessions that outlive a
//! password change. Each test names the figure it measures in its output.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Server, assert_error, tempdir, token_of};
use crate::uploads::{channel_id, clip, files_in};

pub(crate) fn addr_of(s: &Server) -> SocketAddr {
    s.url.trim_start_matches("http://").parse().unwrap()
}

/// A field of `/proc/<pid>/status`, in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Reset the process's peak resident size to its current one; returns that, in MB.
fn reset_peak(pid: u32) -> f64 {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    status_kb(pid, "VmRSS:") as f64 / 1024.0
}

fn peak_mb(pid: u32) -> f64 {
    status_kb(pid, "VmHWM:") as f64 / 1024.0
}

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Send `head` then a body of `body_len` bytes made by `fill` in 64 KiB chunks, on a raw
/// connection, while reading the answer: returns its status (None when the connection ended
/// without one) and the body bytes sent before the answer came or the server hung up.
pub(crate) fn send_streaming(
    addr: SocketAddr,
    head: &str,
    body_len: u64,
    fill: impl Fn(u64) -> Vec<u8> + Send + 'static,
) -> (Option<u16>, u64) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let answered = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let (a, n) = (answered.clone(), sent.clone());
    let pump = std::thread::spawn(move || {
        let mut offset = 0;
        while offset < body_len && !a.load(Ordering::SeqCst) {
            let chunk = fill(offset);
            let take = chunk.len().min((body_len - offset) as usize);
            if writer.write_all(&chunk[..take]).is_err() {
                break;
            }
            offset += take as u64;
            n.store(offset, Ordering::SeqCst);
        }
    });
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut head_bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !head_bytes.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head_bytes.push(byte[0]),
            _ => break,
        }
    }
    answered.store(true, Ordering::SeqCst);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    pump.join().unwrap();
    let status = String::from_utf8_lossy(&head_bytes)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok());
    (status, sent.load(Ordering::SeqCst))
}

fn multipart_head(addr: SocketAddr, path: &str, token: &str, length: u64) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// A multipart body whose parts are `prefix`, then `len` bytes of `byte` in the open part.
fn multipart_filler(prefix: Vec<u8>, byte: u8) -> impl Fn(u64) -> Vec<u8> + Send + 'static {
    move |offset| {
        if offset == 0 {
            let mut first = prefix.clone();
            first.resize(first.len() + 64 * 1024, byte);
            first
        } else {
            vec![byte; 64 * 1024]
        }
    }
}

/// One text part of a multipart body.
fn text_part(name: &str, value: &str) -> String {
    format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

/// Bodies an attacker sends to the upload routes, none of which may make the server hold them:
/// its peak memory stays within 100 MB of where it started, whatever is sent, and each is
/// refused with a reason.
#[test]
fn upload_bodies_are_bounded_whatever_is_sent() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let channel = channel_id(&s, &root);
    let addr = addr_of(&s);
    let pid = s.pid();
    let base = reset_peak(pid);

    // A 600 MB `name` field.
    let prefix = format!(
        "{}--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n",
        text_part("channelId", &channel.to_string())
    );
    let len = 600_000_000;
    let (status, sent) = send_streaming(
        addr,
        &multipart_head(addr, "/api/v1/videos/upload", &root, len),
        len,
        multipart_filler(prefix.into_bytes(), b'a'),
    );
    println!("600 MB name field: answered {status:?} after {sent} bytes");
    assert_eq!(status, Some(413));
    assert!(sent < 100_000_000, "refused while it streamed: {sent}");

    // 80 thumbnails of 7 MiB: the second one is refused.
    let thumb = |n: u32| {
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"thumbnailfile\"; filename=\"t{n}.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
    };
    let seven = 7 << 20;
    let mut parts = Vec::new();
    for n in 0..80u32 {
        parts.extend_from_slice(thumb(n).as_bytes());
        parts.resize(parts.len() + seven, 0xff);
        parts.extend_from_slice(b"\r\n");
    }
    let parts = Arc::new(parts);
    let total = parts.len() as u64;
    let p = parts.clone();
    let (status, _) = send_streaming(
        addr,
        &multipart_head(addr, "/api/v1/videos/upload", &root, total),
        total,
        move |offset| {
            let from = offset as usize;
            p[from..(from + (1 << 20)).min(p.len())].to_vec()
        },
    );
    assert_eq!(status, Some(400), "a second thumbnailfile");

    // 400 MB of JSON to start a resumable upload.
    let len = 400_000_000;
    let head = format!(
        "POST /api/v1/videos/upload-resumable HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {root}\r\n\
         Content-Type: application/json\r\nX-Upload-Content-Length: 1000\r\nContent-Length: {len}\r\n\r\n"
    );
    let (status, sent) = send_streaming(
        addr,
        &head,
        len,
        multipart_filler(b"{\"name\": \"".to_vec(), b'b'),
    );
    println!("400 MB JSON: answered {status:?} after {sent} bytes");
    assert_eq!(status, Some(413));

    // Thousands of small parts.
    let many: String = (0..5000)
        .map(|n| text_part("tags", &format!("t{n}")))
        .collect();
    let r = s
        .post("/api/v1/videos/upload")
        .bearer_auth(&root)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(many)
        .send()
        .unwrap();
    // The rest of the body is left unread, so the connection closes after the answer, and
    // the answer says so: the client must not send its next request on it.
    assert_eq!(r.headers().get("connection").unwrap(), "close");
    assert_error(r, 413, "payload_too_large");

    let peak = peak_mb(pid);
    println!(
        "server memory under the body attacks: {base:.0} MB before, peak {peak:.0} MB (+{:.0} MB)",
        peak - base
    );
    assert!(peak - base < 100.0, "peak grew by {:.0} MB", peak - base);
    // Nothing was kept, and the server still works.
    assert!(files_in(&dir.path().join("uploads")).is_empty());
    let r = crate::uploads::single_upload(&s, &root, channel, "Still works", clip());
    assert_eq!(r.status(), 200);
    // A body read to its end keeps the connection open for the next request.
    assert!(r.headers().get("connection").is_none());
}

/// Three parallel single-request uploads of 300 MB by a user with a 1 MB quota: each is stopped
/// as soon as it passes what the quota leaves (the others' bytes counted), with PeerTube's quota
/// error, and no more than the quota ever reaches the disk.
#[test]
fn the_quota_holds_while_parallel_uploads_stream() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "quinn", "quinn-password", 2);
    let id = s.me(&token_of(&s.login("quinn", "quinn-password")))["id"]
        .as_u64()
        .unwrap();
    let r = s
        .put(&format!("/api/v1/users/{id}"))
        .bearer_auth(&root)
        .json(&json!({"videoQuota": 1_000_000}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let quinn = token_of(&s.login("quinn", "quinn-password"));
    let channel = channel_id(&s, &quinn);
    let addr = addr_of(&s);
    let uploads = dir.path().join("uploads");
    let watching = Arc::new(AtomicBool::new(true));
    let most_on_disk = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (w, m, uploads) = (watching.clone(), most_on_disk.clone(), uploads.clone());
        std::thread::spawn(move || {
            while w.load(Ordering::SeqCst) {
                let bytes: u64 = std::fs::read_dir(&uploads)
                    .map(|d| {
                        d.filter_map(|e| e.ok()?.metadata().ok())
                            .map(|m| m.len())
                            .sum()
                    })
                    .unwrap_or(0);
                m.fetch_max(bytes, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let len = 300_000_000;
    let prefix = format!(
        "{}{}--XyZ\r\nContent-Disposition: form-data; name=\"videofile\"; filename=\"v.mp4\"\r\nContent-Type: video/mp4\r\n\r\n",
        text_part("channelId", &channel.to_string()),
        text_part("name", "Quota buster")
    );
    let attempts: Vec<_> = (0..3)
        .map(|_| {
            let (head, prefix) = (
                multipart_head(addr, "/api/v1/videos/upload", &quinn, len),
                prefix.clone(),
            );
            std::thread::spawn(move || {
                send_streaming(addr, &head, len, multipart_filler(prefix.into_bytes(), 0))
            })
        })
        .collect();
    let results: Vec<_> = attempts.into_iter().map(|t| t.join().unwrap()).collect();
    watching.store(false, Ordering::SeqCst);
    watcher.join().unwrap();
    let most = most_on_disk.load(Ordering::SeqCst);
    println!("3 × 300 MB uploads against a 1 MB quota: {results:?}, at most {most} bytes on disk");
    for (status, sent) in &results {
        assert_eq!(*status, Some(413));
        assert!(*sent < 100_000_000, "stopped while streaming: {sent}");
    }
    assert!(most <= 1_000_000, "{most} bytes reached the disk");
    assert!(files_in(&uploads).is_empty(), "partial files removed");
    let r = crate::uploads::single_upload(&s, &quinn, channel, "Quota", vec![0; 2_000_000]);
    assert_error(r, 413, "quota_reached");
}

/// Half-sent heads, idle kept-alive connections, silent connections and stalled upload bodies
/// are closed after their timeouts.
#[test]
fn idle_and_half_sent_connections_are_closed() {
    let dir = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[
            ("VIREO_SERVER__HEADER_TIMEOUT_SECS", "2"),
            ("VIREO_UPLOADS__BODY_IDLE_TIMEOUT_SECS", "2"),
        ],
    );
    let root = s.root_token();
    let addr = addr_of(&s);
    let closed_after = |mut stream: TcpStream| {
        let start = Instant::now();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut buf = Vec::new();
        let _ = stream.read_to_end(&mut buf);
        (start.elapsed(), String::from_utf8_lossy(&buf).into_owned())
    };
    // Nothing sent.
    let (t, _) = closed_after(TcpStream::connect(addr).unwrap());
    assert!(t < Duration::from_secs(5), "silent connection held {t:?}");
    // A head never finished.
    let mut half = TcpStream::connect(addr).unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let (t, _) = closed_after(half);
    assert!(t < Duration::from_secs(5), "half-sent head held {t:?}");
    // One request answered, then nothing: the keep-alive idle time is the same timeout.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (t, answer) = closed_after(idle);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(t < Duration::from_secs(5), "idle connection held {t:?}");
    // An upload chunk whose body stops coming.
    let channel = channel_id(&s, &root);
    let r = s
        .post("/api/v1/videos/upload-resumable")
        .bearer_auth(&root)
        .header("x-upload-content-length", "100000")
        .json(&json!({"channelId": channel, "name": "Stalled", "filename": "s.mp4"}))
        .send()
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let path = location.trim_start_matches(&s.url);
    let mut stalled = TcpStream::connect(addr).unwrap();
    write!(
        stalled,
        "PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {root}\r\n\
         Content-Range: bytes 0-99999/100000\r\nContent-Length: 100000\r\n\r\n0123456789"
    )
    .unwrap();
    let (t, _) = closed_after(stalled);
    assert!(t < Duration::from_secs(8), "stalled body held {t:?}");
    // What arrived is kept for the resume.
    let r = s
        .put(path)
        .bearer_auth(&root)
        .header("content-range", "bytes */100000")
        .send()
        .unwrap();
    assert_eq!(r.status(), 308);
}

struct Attacker {
    child: Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Attacker {
    /// Start `tests/attacks/slowloris.py` with `count` connections from `sources`.
    fn start(addr: SocketAddr, count: usize, sources: &[String]) -> Attacker {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/attacks/slowloris.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string())
            .arg(count.to_string())
            .args(sources)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let out = child.stdout.take().unwrap();
        use std::io::BufRead;
        Attacker {
            child,
            lines: std::io::BufReader::new(out).lines(),
        }
    }

    fn report(&mut self) -> Value {
        serde_json::from_str(&self.lines.next().unwrap().unwrap()).unwrap()
    }

    /// Ask how many connections the server has closed.
    fn finish(mut self) -> Value {
        self.child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"go\n")
            .unwrap();
        let v = self.report();
        let _ = self.child.wait();
        v
    }
}

fn loopback(from: u8, to: u8) -> Vec<String> {
    (from..=to).map(|n| format!("127.0.0.{n}")).collect()
}

/// 20 000 half-sent requests from 100 addresses, and 3 000 from one, while `/livez` is asked
/// again and again from another address: it answers every time, the server's descriptors stay
/// within its cap, one address holds no more than its share, and the header timeout closes what
/// is left.
#[test]
fn livez_answers_under_twenty_thousand_slowloris_connections() {
    let dir = tempdir();
    let s = Server::start_with(dir.path(), &[("VIREO_SERVER__HEADER_TIMEOUT_SECS", "10")]);
    let addr = addr_of(&s);
    let pid = s.pid();
    let probing = Arc::new(AtomicBool::new(true));
    let prober = {
        let (probing, url) = (probing.clone(), format!("{}/livez", s.url));
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder()
                .tls_backend_preconfigured(vireo::federation::client::tls_config().unwrap())
                .no_proxy()
                .pool_max_idle_per_host(0)
                .local_address(IpAddr::from([127, 0, 0, 1]))
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let (mut times, mut failures) = (Vec::new(), Vec::new());
            while probing.load(Ordering::SeqCst) {
                let start = Instant::now();
                match client.get(&url).send() {
                    Ok(r) if r.status() == 200 => times.push(start.elapsed()),
                    other => failures.push(format!("{other:?}")),
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (times, failures)
        })
    };
    // One address first: it keeps no more than its share.
    let mut one = Attacker::start(addr, 3_000, &loopback(200, 200));
    let one_opened = one.report();
    // Connections the kernel completed may still wait in the listen backlog: let the server
    // take them all.
    std::thread::sleep(Duration::from_secs(2));
    let one_left = one.finish();
    println!("3000 from one address: {one_opened}, then {one_left}");
    let kept = one_left["still_open"].as_u64().unwrap();
    assert!(
        (200..=256).contains(&kept),
        "one address keeps its share: {one_left}"
    );
    // Then 20 000 from 100 addresses, each under its own share: the total cap holds.
    let started = Instant::now();
    let mut spread: Vec<(Attacker, Value)> = [(2, 51), (52, 101)]
        .into_iter()
        .map(|(a, b)| Attacker::start(addr, 10_000, &loopback(a, b)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|mut a| {
            let r = a.report();
            (a, r)
        })
        .collect();
    let all_open = started.elapsed();
    let opened: u64 = spread
        .iter()
        .map(|(_, r)| r["opened"].as_u64().unwrap())
        .sum();
    // Connections accepted over the cap are shed one by one (the oldest idle gives way), so
    // the count is read once it has settled, for at most 3 s: a single early reading caught
    // 8 150 to 9 750 descriptors depending on how far the shedding had got.
    let settle = Instant::now() + Duration::from_secs(3);
    let mut descriptors = open_descriptors(pid);
    while descriptors >= 8192 + 1024 && Instant::now() < settle {
        std::thread::sleep(Duration::from_millis(100));
        descriptors = open_descriptors(pid);
    }
    println!(
        "opened {opened} from 100 addresses in {all_open:?}; server descriptors {descriptors}"
    );
    assert!(opened >= 19_000, "the attack opened {opened}");
    assert!(descriptors < 8192 + 1024, "{descriptors} descriptors");
    // Probe a while longer with everything held.
    std::thread::sleep(Duration::from_secs(2));
    probing.store(false, Ordering::SeqCst);
    let (mut times, failures) = prober.join().unwrap();
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let worst = times.last().copied().unwrap_or_default();
    println!(
        "/livez under attack: {} answers, median {median:?}, worst {worst:?}, {} failures",
        times.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:?}");
    assert!(times.len() >= 20);
    assert!(worst < Duration::from_secs(2), "worst {worst:?}");
    // The header timeout closes the rest.
    let all_timed_out = all_open + Duration::from_secs(10 + 3);
    std::thread::sleep(all_timed_out.saturating_sub(started.elapsed()));
    let left: u64 = spread
        .drain(..)
        .map(|(a, _)| a.finish()["still_open"].as_u64().unwrap())
        .sum();
    assert_eq!(left, 0, "every half-sent connection was closed");
    assert!(s.get("/livez").send().unwrap().status() == 200);
}

/// A client whose connections come from `ip` (any of 127.0.0.0/8).
fn client_from(ip: [u8; 4]) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(vireo::federation::client::tls_config().unwrap())
        .no_proxy()
        .local_address(IpAddr::from(ip))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn login_from(s: &Server, ip: [u8; 4], username: &str, password: &str) -> u16 {
    client_from(ip)
        .post(format!("{}/api/v1/users/token", s.url))
        .form(&s.password_form(username, password))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// 500 wrong passwords at once from one address: no more than the limit are checked, since
/// each is counted before its hash. The lockout is per account and address, whatever name the
/// account is given; one address cannot spray many accounts; past an account's ceiling only
/// addresses it logged in from recently may try; and at most a core's worth of hashes run at
/// once however many logins arrive.
#[test]
fn password_guessing_is_counted_before_hashing() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "owner", "owner-password", 2);
    let form = Arc::new(s.password_form("owner", "wrong-password"));
    let url = format!("{}/api/v1/users/token", s.url);
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let (form, url) = (form.clone(), url.clone());
            std::thread::spawn(move || {
                let client = client_from([127, 0, 0, 1]);
                (0..10)
                    .map(|_| {
                        client
                            .post(&url)
                            .form(&*form)
                            .send()
                            .unwrap()
                            .status()
                            .as_u16()
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let tried = statuses.iter().filter(|s| **s == 400).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    println!("500 parallel wrong passwords from one address: {tried} checked, {refused} refused");
    assert_eq!(tried + refused, 500, "{statuses:?}");
    assert!(tried <= 10, "{tried} passwords were checked");
    // Locked from that address, even with the right password; not from another.
    assert_eq!(
        login_from(&s, [127, 0, 0, 1], "owner", "owner-password"),
        429
    );
    assert_eq!(
        login_from(&s, [127, 0, 0, 3], "owner@example.org", "owner-password"),
        200
    );
    // Username and e-mail are one account.
    for _ in 0..5 {
        assert_eq!(login_from(&s, [127, 0, 0, 4], "owner", "wrong"), 400);
        assert_eq!(
            login_from(&s, [127, 0, 0, 4], "OWNER@example.org", "wrong"),
            400
        );
    }
    assert_eq!(
        login_from(&s, [127, 0, 0, 4], "owner@example.org", "wrong"),
        429
    );
    // One address over many names.
    for n in 0..30 {
        assert_eq!(
            login_from(&s, [127, 0, 0, 5], &format!("nobody{n}"), "x"),
            400
        );
    }
    assert_eq!(login_from(&s, [127, 0, 0, 5], "nobody-else", "x"), 429);
    // Past the account's ceiling (100 failures) from many addresses, a new address waits, the
    // owner's recent one (127.0.0.3) does not.
    for host in 10..18u8 {
        for _ in 0..10 {
            assert_eq!(login_from(&s, [127, 0, 0, host], "owner", "wrong"), 400);
        }
    }
    assert_eq!(
        login_from(&s, [127, 0, 0, 30], "owner", "owner-password"),
        429
    );
    assert_eq!(
        login_from(&s, [127, 0, 0, 3], "owner", "owner-password"),
        200
    );

    // 200 logins at once, each from its own address: hashes wait for a slot instead of all
    // running at once.
    let pid = s.pid();
    let base = reset_peak(pid);
    let threads: Vec<_> = (0..200u8)
        .map(|n| {
            let (url, form) = (url.clone(), s.password_form(&format!("ghost{n}"), "guess"));
            std::thread::spawn(move || {
                client_from([127, 0, 1, n])
                    .post(&url)
                    .form(&form)
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let peak = peak_mb(pid);
    println!(
        "200 parallel logins: server memory {base:.0} MB, peak {peak:.0} MB (+{:.0} MB)",
        peak - base
    );
    assert!(statuses.iter().all(|s| *s == 400), "{statuses:?}");
    assert!(peak - base < 100.0, "peak grew by {:.0} MB", peak - base);
}

/// Behind a trusted reverse proxy the client is the rightmost forwarded address that is not a
/// proxy, so a client cannot dodge the login throttle by writing addresses into the header; a
/// peer that is not a trusted proxy is itself the client, whatever it sends.
#[test]
fn client_addresses_come_from_trusted_proxies_only() {
    let dir = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[("VIREO_SERVER__TRUSTED_PROXIES", "[\"127.0.0.2\"]")],
    );
    let root = s.root_token();
    s.create_user(&root, "owner", "owner-password", 2);
    let login = |peer: [u8; 4], forwarded: &str, password: &str| {
        client_from(peer)
            .post(format!("{}/api/v1/users/token", s.url))
            .header("x-forwarded-for", forwarded)
            .form(&s.password_form("owner", password))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    // Through the proxy, a new forged hop each time left of what the proxy saw.
    for n in 0..10 {
        let forged = format!("6.6.6.{n}, 203.0.113.5");
        assert_eq!(login([127, 0, 0, 2], &forged, "wrong"), 400);
    }
    assert_eq!(
        login([127, 0, 0, 2], "9.9.9.9, 203.0.113.5", "owner-password"),
        429
    );
    // Another client behind the same proxy is not locked out.
    assert_eq!(login([127, 0, 0, 2], "198.51.100.7", "owner-password"), 200);
    // Not through a trusted proxy: the header is ignored, the peer is the client.
    for n in 0..10 {
        assert_eq!(login([127, 0, 0, 9], &format!("6.6.7.{n}"), "wrong"), 400);
    }
    assert_eq!(login([127, 0, 0, 9], "198.51.100.8", "owner-password"), 429);
}

/// Sign-ups racing for the last places: the user limit is checked in the transaction that
/// creates the user, so however many arrive at once, the instance ends with exactly its limit.
#[test]
fn simultaneous_sign_ups_cannot_pass_the_user_limit() {
    let dir = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[
            ("VIREO_SIGNUP__ENABLED", "true"),
            ("VIREO_SIGNUP__LIMIT", "5"),
        ],
    );
    let url = format!("{}/api/v1/users/register", s.url);
    let threads: Vec<_> = (0..24u8)
        .map(|n| {
            let url = url.clone();
            std::thread::spawn(move || {
                let body = json!({
                    "username": format!("racer{n}"),
                    "password": "racer-password",
                    "email": format!("racer{n}@example.org"),
                });
                client_from([127, 0, 2, n])
                    .post(&url)
                    .json(&body)
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let created = statuses.iter().filter(|s| **s == 204).count();
    println!("24 sign-ups at once for 4 places: {created} created, {statuses:?}");
    assert_eq!(created, 4, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 204 || *s == 403),
        "{statuses:?}"
    );
    let root = s.root_token();
    let users = s.get_json_as("/api/v1/users?count=100", &root);
    assert_eq!(users["total"], 5);
}

/// Registrations and the current-password check of a password change are throttled like logins.
#[test]
fn registration_and_current_password_are_throttled() {
    let dir = tempdir();
    let s = Server::start_with(dir.path(), &[("VIREO_SIGNUP__ENABLED", "true")]);
    for n in 0..5 {
        let r = s
            .post("/api/v1/users/register")
            .json(
                &json!({"username": format!("joiner{n}"), "password": "joiner-password",
                          "email": format!("j{n}@example.org")}),
            )
            .send()
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let r = s
        .post("/api/v1/users/register")
        .json(&json!({"username": "joiner9", "password": "joiner-password", "email": "j9@example.org"}))
        .send()
        .unwrap();
    assert_error(r, 429, "too_many_requests");
    let joiner = token_of(&s.login("joiner0", "joiner-password"));
    let change = |current: &str| {
        s.put("/api/v1/users/me")
            .bearer_auth(&joiner)
            .json(&json!({"password": "another-password", "currentPassword": current}))
            .send()
            .unwrap()
    };
    for _ in 0..10 {
        assert_error(change("wrong"), 401, "current_password_is_invalid");
    }
    assert_error(change("joiner-password"), 429, "too_many_requests");
}

/// Changing one's password ends every other session (not the one it was changed in), and a
/// session ends at its absolute lifetime however often it is refreshed.
#[test]
fn a_password_change_ends_other_sessions_and_sessions_end() {
    let dir = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[("VIREO_AUTH__SESSION_MAX_LIFETIME_SECS", "3")],
    );
    let root = s.root_token();
    s.create_user(&root, "pat", "pat-password", 2);
    let here = s.login("pat", "pat-password");
    let elsewhere = s.login("pat", "pat-password");
    let r = s
        .put("/api/v1/users/me")
        .bearer_auth(token_of(&here))
        .json(&json!({"password": "pat-new-password", "currentPassword": "pat-password"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    s.me(&token_of(&here));
    assert_error(
        s.get("/api/v1/users/me")
            .bearer_auth(token_of(&elsewhere))
            .send()
            .unwrap(),
        401,
        "invalid_token",
    );
    assert_error(
        s.refresh_response(elsewhere["refresh_token"].as_str().unwrap()),
        400,
        "invalid_grant",
    );
    // Refreshing carries the session's start on: it ends 3 s after the login.
    let renewed: Value = s
        .refresh_response(here["refresh_token"].as_str().unwrap())
        .json()
        .unwrap();
    assert!(
        renewed["refresh_token_expires_in"].as_i64().unwrap() <= 3,
        "{renewed}"
    );
    std::thread::sleep(Duration::from_millis(3500));
    assert_error(
        s.refresh_response(renewed["refresh_token"].as_str().unwrap()),
        400,
        "invalid_grant",
    );
}

fn header(r: &reqwest::blocking::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// A name we gave a file: `<uuid>-<32 hex digits><tail>`.
fn random_name(path: &str, uuid: &str, tail: &str) -> bool {
    let name = path.rsplit('/').next().unwrap();
    name.strip_prefix(&format!("{uuid}-"))
        .and_then(|rest| rest.strip_suffix(tail))
        .is_some_and(|r| r.len() == 32 && r.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A private video's images are checked like its other files, their names cannot be guessed,
/// and nothing of a video that is not public is marked cacheable by shared caches.
#[test]
fn a_private_videos_images_are_private_too() {
    let dir = tempdir();
    let s = crate::ladder::start(dir.path(), "[240]");
    let root = s.root_token();
    s.create_user(&root, "other", "other-password", 2);
    let other = token_of(&s.login("other", "other-password"));
    let uuid = crate::ladder::upload_named(&s, &root, "Soon private", clip());
    let public = crate::ladder::wait_for_rungs(&s, &uuid, &[240]);
    let thumbnail = public["thumbnailPath"].as_str().unwrap().to_owned();
    let preview = public["previewPath"].as_str().unwrap().to_owned();
    let boards = s.get_json(&format!("/api/v1/videos/{uuid}/storyboards"));
    let storyboard = boards["storyboards"][0]["storyboardPath"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(random_name(&thumbnail, &uuid, ".jpg"), "{thumbnail}");
    assert!(random_name(&preview, &uuid, ".jpg"), "{preview}");
    assert!(
        random_name(&storyboard, &uuid, "-storyboard.jpg"),
        "{storyboard}"
    );
    for path in [&thumbnail, &preview, &storyboard] {
        let r = s.get(path).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(header(&r, "cache-control").starts_with("public"), "{path}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    }

    let r = s
        .put(&format!("/api/v1/videos/{uuid}"))
        .bearer_auth(&root)
        .json(&json!({"privacy": 3}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let private = s.get_json_as(&format!("/api/v1/videos/{uuid}"), &root);
    let playlist = private["streamingPlaylists"][0]["playlistUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches(&s.url)
        .to_owned();
    let web_file = private["files"][0]["fileUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches(&s.url)
        .to_owned();
    for path in [&thumbnail, &preview, &storyboard, &playlist, &web_file] {
        // PeerTube's static routes answer a request without credentials with 403.
        assert_error(s.get(path).send().unwrap(), 403, "forbidden");
        assert_error(
            s.get(path).bearer_auth(&other).send().unwrap(),
            403,
            "forbidden",
        );
        let r = s.get(path).bearer_auth(&root).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let cache = header(&r, "cache-control");
        assert!(cache.starts_with("private"), "{path}: {cache}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    }
}

/// Browsers' preflights get PeerTube's answer on every API path, whatever methods the path
/// has, and JSON answers say `nosniff`.
#[test]
fn cors_preflights_are_answered_and_nothing_is_sniffed() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let preflight = |path: &str, method: &str| {
        s.http_request(reqwest::Method::OPTIONS, path)
            .header("origin", "https://elsewhere.example")
            .header("access-control-request-method", method)
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
            .unwrap()
    };
    for (path, method) in [
        ("/api/v1/users/me", "PUT"),
        ("/api/v1/videos", "GET"),
        ("/api/v1/videos/upload-resumable", "PUT"),
        ("/api/v1/users/token", "POST"),
        ("/static/web-videos/nothing.mp4", "GET"),
    ] {
        let r = preflight(path, method);
        assert_eq!(r.status(), 204, "{path}");
        assert_eq!(header(&r, "access-control-allow-origin"), "*", "{path}");
        assert!(
            header(&r, "access-control-allow-methods").contains(method),
            "{path}"
        );
        assert_eq!(
            header(&r, "access-control-allow-headers").to_lowercase(),
            "authorization,content-type",
            "{path}"
        );
    }
    let r = s
        .get("/api/v1/config")
        .header("origin", "https://elsewhere.example")
        .send()
        .unwrap();
    assert_eq!(header(&r, "access-control-allow-origin"), "*");
    assert!(header(&r, "access-control-expose-headers").contains("retry-after"));
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let r = s.get("/api/v1/nothing-here").send().unwrap();
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
}

/// Names with control characters, direction overrides or invisible spaces are refused wherever
/// a name is set.
#[test]
fn names_with_controls_and_overrides_are_refused() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    for bad in [
        "nul\u{0}",
        "line\r\nbreak",
        "gnp.\u{202e}exe",
        "zero\u{200b}width",
    ] {
        let r = s
            .put("/api/v1/users/me")
            .bearer_auth(&root)
            .json(&json!({"displayName": bad}))
            .send()
            .unwrap();
        assert_error(r, 400, "invalid_params");
        let r = s
            .post("/api/v1/video-channels")
            .bearer_auth(&root)
            .json(&json!({"name": "fresh_channel", "displayName": bad}))
            .send()
            .unwrap();
        assert_error(r, 400, "invalid_params");
        let channel = channel_id(&s, &root);
        let r = crate::uploads::single_upload(&s, &root, channel, bad, clip());
        assert_error(r, 400, "invalid_params");
    }
    assert_eq!(s.me(&root)["account"]["displayName"], "root");
    let r = s
        .put("/api/v1/users/me")
        .bearer_auth(&root)
        .json(&json!({"displayName": "Zoë 👩\u{200d}💻"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
}

/// A minute of cheap H.264 (plain pictures, 24 fps): a ladder long enough to watch.
fn long_clip(dir: &std::path::Path) -> Vec<u8> {
    crate::uploads::ffmpeg_clip(
        dir,
        "long.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=24:duration=60",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "48",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

fn ladder_with_slices(dir: &std::path::Path) -> Server {
    Server::start_with(
        dir,
        &[
            ("VIREO_TRANSCODING__ENABLED", "true"),
            ("VIREO_TRANSCODING__RESOLUTIONS", "[240]"),
            ("VIREO_TRANSCODING__WEB_VIDEOS", "false"),
            ("VIREO_JOBS__TIME_SLICE_SECS", "2"),
        ],
    )
}

/// One user's long encode does not hold the worker from another user: past its time slice it
/// gives the worker up, the other user's upload is published and gets its rung, and the long
/// one then resumes where it stopped and ends whole.
#[test]
fn another_users_upload_does_not_wait_for_a_long_encode() {
    let dir = tempdir();
    let work = tempdir();
    let s = ladder_with_slices(dir.path());
    let root = s.root_token();
    s.create_user(&root, "bea", "bea-password", 2);
    let bea = token_of(&s.login("bea", "bea-password"));
    let long = crate::ladder::upload_named(&s, &root, "Long one", long_clip(work.path()));
    crate::ladder::wait_until_encoding(&s, &long);
    let second = crate::ladder::upload_named(&s, &root, "Root's second", clip());
    let started = Instant::now();
    let short = crate::ladder::upload_named(&s, &bea, "Bea's", clip());
    crate::uploads::wait_up_to(&s, &short, 60, "Bea's video published", |v| {
        v["state"]["id"] == 1
    });
    let published_after = started.elapsed();
    crate::ladder::wait_for_rungs(&s, &short, &[240]);
    let rung_after = started.elapsed();
    let still = crate::ladder::video_json(&s, &long);
    println!(
        "another user's upload behind a long encode: published after {published_after:?}, its rung after {rung_after:?}"
    );
    assert!(
        crate::ladder::av1_heights(&still).is_empty(),
        "the long encode was still going: {still}"
    );
    assert!(published_after < Duration::from_secs(20));
    // The long one resumes and ends whole; root's second follows.
    let done = crate::ladder::wait_for_rungs(&s, &long, &[240]);
    let rung = crate::ladder::hls_files(&done)
        .into_iter()
        .find(|f| f["fileUrl"].as_str().unwrap().contains("-av1-"))
        .unwrap();
    let playlist = rung["fileUrl"]
        .as_str()
        .unwrap()
        .replace("-fragmented.mp4", ".m3u8");
    let total: f64 = crate::ladder::segments(&s, &playlist).iter().sum();
    assert!(
        (total - 60.0).abs() < 0.5,
        "the resumed rung lasts {total} s"
    );
    crate::ladder::wait_for_rungs(&s, &second, &[240]);
}

/// Deleting a video whose encode is running stops it at once: its files are gone within
/// seconds and the worker is free for the next job.
#[test]
fn deleting_a_video_stops_its_encode() {
    let dir = tempdir();
    let work = tempdir();
    let s = ladder_with_slices(dir.path());
    let root = s.root_token();
    let long = crate::ladder::upload_named(&s, &root, "Doomed", long_clip(work.path()));
    crate::ladder::wait_until_encoding(&s, &long);
    let next = crate::ladder::upload_named(&s, &root, "Next", clip());
    let deleted = Instant::now();
    let r = s
        .delete(&format!("/api/v1/videos/{long}"))
        .bearer_auth(&root)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let media = dir.path().join("media").join(&long);
    while media.exists() {
        assert!(
            deleted.elapsed() < Duration::from_secs(10),
            "the deleted video's files are still there"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let gone_after = deleted.elapsed();
    crate::uploads::wait_up_to(&s, &next, 30, "the next video published", |v| {
        v["state"]["id"] == 1
    });
    println!(
        "deleted during its encode: files gone after {gone_after:?}, the next video published after {:?}",
        deleted.elapsed()
    );
}

fn start_session(s: &Server, token: &str, size: usize) -> reqwest::blocking::Response {
    let channel = channel_id(s, token);
    s.post("/api/v1/videos/upload-resumable")
        .bearer_auth(token)
        .header("x-upload-content-length", size.to_string())
        .json(&json!({"channelId": channel, "name": "Limited", "filename": "l.mp4"}))
        .send()
        .unwrap()
}

/// One user may have so many uploads in progress and so much video waiting to be processed;
/// past either, a new upload is refused with a reason, and a resumable upload refused at its end
/// keeps its bytes, to be finished once the user's videos are ready.
#[test]
fn uploads_in_progress_and_queued_video_are_limited_per_user() {
    let dir = tempdir();
    let s = Server::start_with(
        dir.path(),
        &[
            ("VIREO_UPLOADS__MAX_CONCURRENT_PER_USER", "2"),
            ("VIREO_JOBS__MAX_QUEUED_SECS_PER_USER", "8"),
            ("VIREO_TRANSCODING__ENABLED", "true"),
            ("VIREO_TRANSCODING__RESOLUTIONS", "[240]"),
        ],
    );
    let root = s.root_token();
    let bytes = clip();
    let first = start_session(&s, &root, bytes.len());
    let second = start_session(&s, &root, bytes.len());
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (201, 201)
    );
    let e = assert_error(
        start_session(&s, &root, bytes.len()),
        429,
        "too_many_requests",
    );
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("2 uploads in progress"),
        "{e}"
    );
    let single = crate::uploads::single_upload(&s, &root, channel_id(&s, &root), "Third", clip());
    assert_error(single, 429, "too_many_requests");
    let location = |r: &reqwest::blocking::Response| {
        r.headers()["location"]
            .to_str()
            .unwrap()
            .trim_start_matches(&s.url)
            .to_owned()
    };
    let (first, second) = (location(&first), location(&second));
    let put_all = |path: &str| {
        s.put(path)
            .bearer_auth(&root)
            .header(
                "content-range",
                format!("bytes 0-{}/{}", bytes.len() - 1, bytes.len()),
            )
            .body(bytes.clone())
            .send()
            .unwrap()
    };
    // The first 5 s clip is queued for processing; the second would make 10 s of 8.
    assert_eq!(put_all(&first).status(), 200);
    let e = assert_error(put_all(&second), 429, "too_many_requests");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("waiting to be processed"),
        "{e}"
    );
    // Once the first video is processed, asking again finishes the second from its bytes.
    let deadline = Instant::now() + Duration::from_secs(120);
    let finished = loop {
        let r = s
            .put(&second)
            .bearer_auth(&root)
            .header("content-range", format!("bytes */{}", bytes.len()))
            .send()
            .unwrap();
        if r.status() == 200 {
            break r.json::<Value>().unwrap();
        }
        assert_eq!(r.status(), 429);
        assert!(
            Instant::now() < deadline,
            "the first video was never processed"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let uuid = finished["video"]["uuid"].as_str().unwrap();
    let stored = std::fs::read(dir.path().join("media").join(uuid).join("original.mp4")).unwrap();
    assert_eq!(stored, bytes);
}
