//! Federation bench: how many signed activities Vireo's inbox verifies and stores per second,
//! against the same requests answered by nginx `return 202` in the same run.
//!
//! A remote actor (its document and inbox served by nginx, as any peer would) signs `FOLLOWS`
//! distinct `Follow`s of Vireo's root account with its own RSA key, ahead of time. The same
//! client then sends them all, `CONCURRENCY` at once, to Vireo's inbox (each is checked, its key
//! taken from the cache after the first, the follower stored and an `Accept` queued and sent back
//! to nginx) and to nginx. Run: `cargo bench --bench federation` (nginx installed, as
//! `bash benches/run.sh` installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::http::Method;
use common::{Vireo, free_port, rss_kib, start_nginx, stop};
use vireo::federation::signatures;
use vireo::service::keys;

const FOLLOWS: usize = 4000;
const CONCURRENCY: usize = 32;

/// One signed request, ready to send.
struct Signed {
    body: String,
    date: String,
    digest: String,
    signature: String,
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let nginx_port = free_port();
    let peer = format!("http://127.0.0.1:{nginx_port}");
    let key = keys::generate_key().unwrap();
    let actor = serde_json::json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "type": "Person",
        "id": format!("{peer}/actor"),
        "preferredUsername": "bench",
        "inbox": format!("{peer}/inbox"),
        "publicKey": {
            "id": format!("{peer}/actor#main-key"),
            "owner": format!("{peer}/actor"),
            "publicKeyPem": key.public_pem,
        },
    });
    std::fs::write(dir.path().join("actor.json"), actor.to_string()).unwrap();
    let nginx = start_nginx(
        dir.path(),
        "location = /actor { default_type application/activity+json; try_files /actor.json =404; }\n\
         location = /inbox { return 202; }\n\
         location = /reference/inbox { return 202; }",
        nginx_port,
    );

    let data = dir.path().join("vireo");
    std::fs::create_dir_all(&data).unwrap();
    let vireo = Vireo::start(
        &data,
        &[("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true")],
    );
    let inbox = url::Url::parse(&format!("{}/accounts/root/inbox", vireo.url)).unwrap();

    let started = Instant::now();
    let requests: Vec<Signed> = (0..=FOLLOWS)
        .map(|i| {
            let body = serde_json::json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{peer}/follows/{i}"),
                "type": "Follow",
                "actor": format!("{peer}/actor"),
                "object": format!("{}/accounts/root", vireo.url),
            })
            .to_string();
            let s = signatures::sign(
                &key,
                &format!("{peer}/actor#main-key"),
                &Method::POST,
                &inbox,
                Some(body.as_bytes()),
                SystemTime::now(),
            )
            .unwrap();
            Signed {
                body,
                date: s.date,
                digest: s.digest.unwrap(),
                signature: s.signature,
            }
        })
        .collect();
    println!(
        "signed {} requests in {:.1} s",
        requests.len(),
        started.elapsed().as_secs_f64()
    );
    let requests = Arc::new(requests);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(vireo::federation::client::tls_config().unwrap())
        .no_proxy()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();

    // The first request fetches the actor's key; the rest find it cached.
    let host = inbox.host_str().unwrap().to_owned() + &format!(":{}", inbox.port().unwrap());
    let first = runtime.block_on(send(&client, inbox.as_str(), &host, &requests[0]));
    assert_eq!(first, 202, "the inbox accepts the first follow");

    let rss_before = rss_kib(vireo.child.id());
    let (vireo_secs, vireo_statuses) =
        runtime.block_on(run(&client, inbox.as_str(), &host, requests.clone()));
    let rss_after = rss_kib(vireo.child.id());
    let reference = format!("{peer}/reference/inbox");
    let (nginx_secs, nginx_statuses) =
        runtime.block_on(run(&client, &reference, &host, requests.clone()));

    let rate = |secs: f64| FOLLOWS as f64 / secs;
    println!();
    println!("| server | activities | accepted (202) | seconds | activities/s |");
    println!("|---|---|---|---|---|");
    println!(
        "| vireo inbox (verify, store, queue the Accept) | {FOLLOWS} | {} | {vireo_secs:.2} | {:.0} |",
        vireo_statuses,
        rate(vireo_secs)
    );
    println!(
        "| nginx `return 202`, same requests | {FOLLOWS} | {} | {nginx_secs:.2} | {:.0} |",
        nginx_statuses,
        rate(nginx_secs)
    );
    println!();
    println!(
        "vireo / nginx: {:.3}; vireo RSS {} MB before, {} MB after",
        nginx_secs / vireo_secs,
        rss_before / 1024,
        rss_after / 1024
    );
    stop(vireo.child);
    stop(nginx);
}

/// Send every request but the first (the warm-up), `CONCURRENCY` at once: the time taken and
/// how many were answered 202.
async fn run(
    client: &reqwest::Client,
    url: &str,
    host: &str,
    requests: Arc<Vec<Signed>>,
) -> (f64, usize) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(1));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (client, url, host) = (client.clone(), url.to_owned(), host.to_owned());
        let (requests, next) = (requests.clone(), next.clone());
        tasks.spawn(async move {
            let mut accepted = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(r) = requests.get(i) else { break };
                if send(&client, &url, &host, r).await == 202 {
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
    (started.elapsed().as_secs_f64(), accepted)
}

async fn send(client: &reqwest::Client, url: &str, host: &str, r: &Signed) -> u16 {
    let answer = client
        .post(url)
        .header("host", host)
        .header("date", &r.date)
        .header("digest", &r.digest)
        .header("signature", &r.signature)
        .header("content-type", "application/activity+json")
        .body(r.body.clone())
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    answer.status().as_u16()
}
