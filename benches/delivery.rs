//! Delivery bench: one new video told to 1 000 followers on 100 loopback hosts, the time from
//! its publication until every delivery arrived, and Vireo's peak RSS meanwhile; against the
//! same number of POSTs of the same activity sent to the same inboxes by a plain client
//! (unsigned, as many at once as Vireo sends), in the same run.
//!
//! nginx plays the 100 hosts: one server listening on 100 ports, serving each host's actor
//! documents from its own folder and answering 202 on every inbox, logging each POST. Two
//! local accounts are followed by the same number of remote actors: `root`'s followers declare
//! their host's shared inbox (what Mastodon and PeerTube do: one delivery per host), `solo`'s
//! do not (one delivery per follower). Each account then uploads a clip, and the bench waits
//! for the `Create`s to arrive. Run: `cargo bench --bench delivery` (nginx installed, as
//! `bash benches/run.sh` installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::http::Method;
use common::{Vireo, curl, free_port, json_field, rss_kib, start_nginx_http, stop};
use vireo::federation::signatures;
use vireo::service::keys;

const HOSTS: usize = 100;
const PER_HOST: usize = 10;
/// Follows sent to Vireo at once while the followers are set up.
const FOLLOW_CONCURRENCY: usize = 16;
/// Vireo's default `federation.delivery_concurrency`, which the reference client matches.
const DELIVERY_CONCURRENCY: usize = 8;

/// One signed request, ready to send.
struct Signed {
    inbox: String,
    body: String,
    date: String,
    digest: String,
    signature: String,
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..HOSTS).map(|_| free_port()).collect();
    let key = keys::generate_key().unwrap();
    let www = dir.path().join("www");
    for port in &ports {
        write_actors(&www, *port, &key.public_pem);
    }
    let log = dir.path().join("deliveries.log");
    let nginx = start_nginx_http(dir.path(), &nginx_http(&www, &log, &ports), ports[0]);

    let data = dir.path().join("vireo");
    std::fs::create_dir_all(&data).unwrap();
    let vireo = Vireo::start(
        &data,
        &[
            ("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true"),
            ("VIREO_TRANSCODING__ENABLED", "false"),
        ],
    );
    let solo = Solo::create(&vireo);

    // Followers: `shared/{i}` follow root, `own/{i}` follow solo, on every host.
    let started = Instant::now();
    let mut follows = Vec::new();
    for port in &ports {
        for i in 0..PER_HOST {
            follows.push(follow(&key, &vireo.url, *port, "shared", i, "root"));
            follows.push(follow(&key, &vireo.url, *port, "own", i, "solo"));
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(vireo::federation::client::tls_config().unwrap())
        .no_proxy()
        .pool_max_idle_per_host(FOLLOW_CONCURRENCY)
        .build()
        .unwrap();
    let follows = Arc::new(follows);
    let accepted = runtime.block_on(post_all(&client, follows.clone(), FOLLOW_CONCURRENCY));
    assert_eq!(accepted, follows.len(), "every follow is accepted");
    // Every follower hears its Accept (to its own inbox) before the clock starts.
    wait_for_posts(
        &log,
        |l| l.contains("/inbox") && !l.contains(" /inbox "),
        follows.len(),
    );
    println!(
        "{} followers on {HOSTS} hosts set up in {:.1} s",
        follows.len(),
        started.elapsed().as_secs_f64()
    );

    let clip = dir.path().join("clip.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25:duration=2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-shortest",
        clip.to_str().unwrap(),
    ]);

    println!();
    println!(
        "| followers of | deliveries | vireo: publication to last delivery (s) | peak RSS (MB) | reference client (s) | reference / vireo |"
    );
    println!("|---|---|---|---|---|---|");
    for (who, token, expected, shared) in [
        ("root (shared inboxes)", vireo.token.clone(), HOSTS, true),
        (
            "solo (own inboxes)",
            solo.token.clone(),
            HOSTS * PER_HOST,
            false,
        ),
    ] {
        let before = count_posts(&log, |l| l.contains(" /inbox ") || is_own_create(l));
        let uuid = upload_as(&vireo, &token, solo_channel(&vireo, &token), &clip);
        let published = wait_published(&vireo, &uuid);
        let mut peak = rss_kib(vireo.child.id());
        let target = before + expected;
        loop {
            let n = count_posts(&log, |l| l.contains(" /inbox ") || is_own_create(l));
            peak = peak.max(rss_kib(vireo.child.id()));
            if n >= target {
                break;
            }
            assert!(
                published.elapsed() < Duration::from_secs(300),
                "deliveries stalled at {n}/{target}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let vireo_secs = published.elapsed().as_secs_f64();
        let reference = reference_posts(&ports, expected, shared);
        let reference_secs = runtime.block_on(reference_run(&client, Arc::new(reference)));
        println!(
            "| {who} | {expected} | {vireo_secs:.2} | {} | {reference_secs:.2} | {:.3} |",
            peak / 1024,
            reference_secs / vireo_secs
        );
    }
    stop(vireo.child);
    stop(nginx);
}

/// The nginx configuration: every port serves its own folder; inboxes answer 202 and are logged.
fn nginx_http(www: &Path, log: &Path, ports: &[u16]) -> String {
    let listens: String = ports
        .iter()
        .map(|p| format!("    listen 127.0.0.1:{p};\n"))
        .collect();
    format!(
        "  log_format deliveries '$request_method $server_port $uri $status';\n\
           server {{\n{listens}    root {w}/$server_port;\n    access_log off;\n\
             location ~ /inbox$ {{ access_log {l} deliveries; return 202; }}\n\
             location /users/ {{ default_type application/activity+json; }}\n\
             location = /readyz {{ return 200 'ready'; }}\n  }}\n",
        w = www.display(),
        l = log.display()
    )
}

/// The actor documents of one host: `shared/{i}` with the host's shared inbox, `own/{i}`
/// without; all share one key (each under its own key id), which keeps key generation out of
/// the set-up.
fn write_actors(www: &Path, port: u16, public_pem: &str) {
    let base = format!("http://127.0.0.1:{port}");
    for kind in ["shared", "own"] {
        let folder = www.join(port.to_string()).join("users").join(kind);
        std::fs::create_dir_all(&folder).unwrap();
        for i in 0..PER_HOST {
            let id = format!("{base}/users/{kind}/{i}");
            let mut actor = serde_json::json!({
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                "type": "Person",
                "id": id,
                "preferredUsername": format!("{kind}{i}"),
                "inbox": format!("{id}/inbox"),
                "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public_pem},
            });
            if kind == "shared" {
                actor["endpoints"] = serde_json::json!({"sharedInbox": format!("{base}/inbox")});
            }
            std::fs::write(folder.join(i.to_string()), actor.to_string()).unwrap();
        }
    }
}

/// A signed `Follow` of the local account `whom` by `{kind}/{i}` on `port`.
fn follow(
    key: &vireo::model::key::ActorKey,
    vireo: &str,
    port: u16,
    kind: &str,
    i: usize,
    whom: &str,
) -> Signed {
    let actor = format!("http://127.0.0.1:{port}/users/{kind}/{i}");
    let body = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/follows/1"),
        "type": "Follow",
        "actor": actor,
        "object": format!("{vireo}/accounts/{whom}"),
    })
    .to_string();
    let inbox = url::Url::parse(&format!("{vireo}/accounts/{whom}/inbox")).unwrap();
    let s = signatures::sign(
        key,
        &format!("{actor}#main-key"),
        &Method::POST,
        &inbox,
        Some(body.as_bytes()),
        SystemTime::now(),
    )
    .unwrap();
    Signed {
        inbox: inbox.to_string(),
        body,
        date: s.date,
        digest: s.digest.unwrap(),
        signature: s.signature,
    }
}

/// POST every request, `concurrency` at once; how many were answered 202.
async fn post_all(client: &reqwest::Client, all: Arc<Vec<Signed>>, concurrency: usize) -> usize {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, all, next) = (client.clone(), all.clone(), next.clone());
        tasks.spawn(async move {
            let mut accepted = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(r) = all.get(i) else { break };
                let answer = client
                    .post(&r.inbox)
                    .header("date", &r.date)
                    .header("digest", &r.digest)
                    .header("signature", &r.signature)
                    .header("content-type", "application/activity+json")
                    .body(r.body.clone())
                    .timeout(Duration::from_secs(60))
                    .send()
                    .await
                    .unwrap();
                if answer.status().as_u16() == 202 {
                    accepted += 1;
                }
            }
            accepted
        });
    }
    let mut accepted = 0;
    while let Some(n) = tasks.join_next().await {
        accepted += n.unwrap();
    }
    accepted
}

/// The logged POSTs that `wanted` picks.
fn count_posts(log: &Path, wanted: impl Fn(&str) -> bool) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("POST ") && wanted(l))
        .count()
}

/// A delivery to a follower's own inbox after the Accepts: the own-inbox followers' Creates.
fn is_own_create(line: &str) -> bool {
    line.contains("/users/own/")
}

fn wait_for_posts(log: &Path, wanted: impl Fn(&str) -> bool + Copy, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while count_posts(log, wanted) < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} arrived",
            count_posts(log, wanted)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The second local account, with its token.
struct Solo {
    token: String,
}

impl Solo {
    fn create(vireo: &Vireo) -> Solo {
        curl(&[
            "-H",
            &format!("Authorization: Bearer {}", vireo.token),
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"username":"solo","password":"solo-password","email":"solo@example.org","role":2}"#,
            &format!("{}/api/v1/users", vireo.url),
        ]);
        Solo {
            token: common::log_in(&vireo.url, "solo", "solo-password"),
        }
    }
}

/// The first channel of the user behind `token`.
fn solo_channel(vireo: &Vireo, token: &str) -> u64 {
    let me = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("{}/api/v1/users/me", vireo.url),
    ]);
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    me["videoChannels"][0]["id"].as_u64().unwrap()
}

fn upload_as(vireo: &Vireo, token: &str, channel: u64, clip: &Path) -> String {
    let answer = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        "-F",
        &format!("channelId={channel}"),
        "-F",
        "name=Delivered",
        "-F",
        &format!("videofile=@{};type=video/mp4", clip.display()),
        &format!("{}/api/v1/videos/upload", vireo.url),
    ]);
    json_field(&json_field(&answer, "video"), "uuid")
}

/// The instant the video was seen published (polled every 5 ms).
fn wait_published(vireo: &Vireo, uuid: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if vireo.video(uuid)["state"]["id"] == 1 {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "never published");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The reference: `n` POSTs of an activity the size of Vireo's `Create`, to the same inboxes.
fn reference_posts(ports: &[u16], n: usize, shared: bool) -> Vec<(String, String)> {
    let body = "x".repeat(6000);
    (0..n)
        .map(|k| {
            let port = ports[k % ports.len()];
            let inbox = if shared {
                format!("http://127.0.0.1:{port}/reference/inbox")
            } else {
                format!(
                    "http://127.0.0.1:{port}/users/reference/{}/inbox",
                    k / ports.len()
                )
            };
            (inbox, body.clone())
        })
        .collect()
}

async fn reference_run(client: &reqwest::Client, all: Arc<Vec<(String, String)>>) -> f64 {
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..DELIVERY_CONCURRENCY {
        let (client, all, next) = (client.clone(), all.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((inbox, body)) = all.get(i) else {
                    break;
                };
                let r = client
                    .post(inbox)
                    .header("content-type", "application/activity+json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 202);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    started.elapsed().as_secs_f64()
}
