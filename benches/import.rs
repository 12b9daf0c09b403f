//! Import bench: a followed instance with `VIDEOS` videos, brought in from its outbox. Time from
//! the origin's `Accept` until every video is listed here, and Vireo's peak RSS meanwhile,
//! against a reference measured in the same run: a client fetching the same documents and
//! images from the same origin, `CONCURRENCY` at once (the network's and the origin's share).
//!
//! The origin is nginx serving PeerTube-shaped documents from files (its NodeInfo, instance
//! actor, channel and account, outbox pages of ten `Announce`s, one `Video` object per video
//! and one preview image), as any static peer would; its inbox answers 202. Vireo follows it
//! through PeerTube's `/api/v1/server/following`; the bench then signs the origin's `Accept`
//! with the origin's key. Run: `cargo bench --bench import` (nginx and ffmpeg installed, as
//! `bash benches/run.sh` installs them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use axum::http::Method;
use common::{Vireo, curl, ffmpeg, free_port, rss_kib, start_nginx};
use serde_json::{Value, json};
use vireo::federation::signatures;
use vireo::service::keys;

const VIDEOS: usize = 5000;
const PAGE: usize = 10;
/// Vireo's default `federation.delivery_concurrency`, which also bounds its fetches.
const CONCURRENCY: usize = 8;

fn write(root: &Path, path: &str, doc: &Value) {
    let file = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, doc.to_string()).unwrap();
}

fn actor(peer: &str, path: &str, kind: &str, name: &str, pem: &str) -> Value {
    let id = format!("{peer}{path}");
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "type": kind,
        "id": id,
        "preferredUsername": name,
        "name": format!("Bench {name}"),
        "inbox": format!("{peer}/inbox"),
        // Not under the actor's own path: the actor is a file, so it cannot be a folder too.
        "outbox": if kind == "Application" { format!("{peer}/instance-outbox") } else { format!("{peer}/outboxes/{name}") },
        "endpoints": {"sharedInbox": format!("{peer}/inbox")},
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem},
    })
}

fn video(peer: &str, i: usize) -> (String, Value) {
    let uuid = uuid::Uuid::from_u128(0x5eed_0000_0000_4000_8000_0000_0000_0000 + i as u128);
    let id = format!("{peer}/videos/watch/{uuid}");
    let hls = format!("{peer}/static/streaming-playlists/hls/{uuid}");
    let doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "type": "Video",
        "id": id,
        "uuid": uuid,
        "name": format!("Imported video number {i}"),
        "duration": "PT95S",
        "category": {"identifier": "15", "name": "Science & Technology"},
        "licence": {"identifier": "2", "name": "Attribution - Share Alike"},
        "language": {"identifier": "en", "name": "English"},
        "views": i,
        "sensitive": false,
        "state": 1,
        "commentsPolicy": 1,
        "downloadEnabled": true,
        "published": "2026-01-02T03:04:05.000Z",
        "updated": "2026-01-02T03:04:05.000Z",
        "tag": [{"type": "Hashtag", "name": "bench"}],
        "mediaType": "text/markdown",
        "content": "A video of the import bench, with a description as long as a short one is.",
        "icon": [{"type": "Image", "url": format!("{peer}/preview.jpg"), "mediaType": "image/jpeg",
                  "width": 850, "height": 480}],
        "url": [
            {"type": "Link", "mediaType": "text/html", "href": id},
            {"type": "Link", "mediaType": "application/x-mpegURL", "href": format!("{hls}/master.m3u8"),
             "tag": [{"type": "Link", "mediaType": "video/mp4", "href": format!("{hls}/{uuid}-720-fragmented.mp4"),
                      "height": 720, "width": 1280, "size": 12_345_678, "fps": 30}]}
        ],
        "attributedTo": [
            {"type": "Person", "id": format!("{peer}/accounts/bench")},
            {"type": "Group", "id": format!("{peer}/video-channels/bench_channel")}
        ],
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [],
    });
    (id, doc)
}

/// Write the origin's files; the URLs a full import fetches (pages, videos, images).
fn build_origin(root: &Path, peer: &str, pem: &str) -> Vec<String> {
    let instance = format!("{peer}/accounts/peertube");
    write(
        root,
        "/.well-known/nodeinfo",
        &json!({"links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": format!("{peer}/nodeinfo/2.0.json")},
            {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": instance}
        ]}),
    );
    write(
        root,
        "/accounts/peertube",
        &actor(peer, "/accounts/peertube", "Application", "peertube", pem),
    );
    write(
        root,
        "/accounts/bench",
        &actor(peer, "/accounts/bench", "Person", "bench", pem),
    );
    write(
        root,
        "/video-channels/bench_channel",
        &actor(
            peer,
            "/video-channels/bench_channel",
            "Group",
            "bench_channel",
            pem,
        ),
    );
    let pages = VIDEOS.div_ceil(PAGE);
    write(
        root,
        "/instance-outbox",
        &json!({"type": "OrderedCollection", "id": format!("{peer}/instance-outbox"), "totalItems": VIDEOS,
                "first": format!("{peer}/outbox/1")}),
    );
    let mut fetched = vec![format!("{peer}/instance-outbox")];
    for p in 1..=pages {
        let items: Vec<Value> = ((p - 1) * PAGE..(p * PAGE).min(VIDEOS))
            .map(|i| {
                let (id, doc) = video(peer, i);
                write(root, id.trim_start_matches(peer), &doc);
                fetched.push(id.clone());
                fetched.push(format!("{peer}/preview.jpg"));
                json!({"type": "Announce", "id": format!("{id}/announces/1"), "actor": instance, "object": id})
            })
            .collect();
        let mut page = json!({"type": "OrderedCollectionPage", "id": format!("{peer}/outbox/{p}"),
                              "orderedItems": items});
        if p < pages {
            page["next"] = json!(format!("{peer}/outbox/{}", p + 1));
        }
        write(root, &format!("/outbox/{p}"), &page);
        fetched.push(format!("{peer}/outbox/{p}"));
    }
    fetched
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("origin");
    std::fs::create_dir_all(&root).unwrap();
    let port = free_port();
    let peer = format!("http://127.0.0.1:{port}");
    let key = keys::generate_key().unwrap();
    let started = Instant::now();
    let fetched = build_origin(&root, &peer, &key.public_pem);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=850x480",
        "-frames:v",
        "1",
        "-q:v",
        "4",
        root.join("preview.jpg").to_str().unwrap(),
    ]);
    println!(
        "origin of {VIDEOS} videos written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let nginx = start_nginx(
        &root,
        "default_type application/activity+json;\n\
         location = /inbox { return 202; }\n\
         location = /preview.jpg { default_type image/jpeg; }",
        port,
    );

    let data = dir.path().join("vireo");
    std::fs::create_dir_all(&data).unwrap();
    let vireo = Vireo::start(
        &data,
        &[("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true")],
    );
    let auth = format!("Authorization: Bearer {}", vireo.token);
    curl(&[
        "-H",
        &auth,
        "-H",
        "Content-Type: application/json",
        "-d",
        &json!({"hosts": [format!("127.0.0.1:{port}")]}).to_string(),
        &format!("{}/api/v1/server/following", vireo.url),
    ]);
    // The follow is sent (pending) before its Accept can settle it.
    wait_until(Duration::from_secs(30), || {
        let v = curl(&[&format!("{}/api/v1/server/following", vireo.url)]);
        v.contains("\"pending\"")
    });

    let rss_before = rss_kib(vireo.child.id());
    let accept = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{peer}/accepts/1"),
        "type": "Accept",
        "actor": format!("{peer}/accounts/peertube"),
        "object": {"type": "Follow", "object": format!("{peer}/accounts/peertube")},
    })
    .to_string();
    let inbox = url::Url::parse(&format!("{}/inbox", vireo.url)).unwrap();
    let signed = signatures::sign(
        &key,
        &format!("{peer}/accounts/peertube#main-key"),
        &Method::POST,
        &inbox,
        Some(accept.as_bytes()),
        SystemTime::now(),
    )
    .unwrap();
    let sent = Instant::now();
    curl(&[
        "-H",
        &format!("date: {}", signed.date),
        "-H",
        &format!("digest: {}", signed.digest.unwrap()),
        "-H",
        &format!("signature: {}", signed.signature),
        "-H",
        "content-type: application/activity+json",
        "-d",
        &accept,
        inbox.as_str(),
    ]);
    let mut peak = rss_before;
    let listed = |v: &Vireo| {
        let list = curl(&[&format!("{}/api/v1/videos?isLocal=false&count=1", v.url)]);
        serde_json::from_str::<Value>(&list).unwrap()["total"]
            .as_u64()
            .unwrap_or(0)
    };
    let mut last_report = Instant::now();
    loop {
        peak = peak.max(rss_kib(vireo.child.id()));
        let n = listed(&vireo);
        if n as usize >= VIDEOS {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            println!("  {n} listed after {:.0} s", sent.elapsed().as_secs_f64());
            last_report = Instant::now();
        }
        assert!(
            sent.elapsed() < Duration::from_secs(1800),
            "the import did not finish"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let vireo_secs = sent.elapsed().as_secs_f64();
    let searchable = Instant::now();
    wait_until(Duration::from_secs(600), || {
        let found = curl(&[&format!(
            "{}/api/v1/search/videos?search=imported&count=1",
            vireo.url
        )]);
        serde_json::from_str::<Value>(&found).unwrap()["total"].as_u64() == Some(VIDEOS as u64)
    });
    let search_secs = vireo_secs + searchable.elapsed().as_secs_f64();
    peak = peak.max(rss_kib(vireo.child.id()));

    let reference_secs = reference(&fetched);
    println!();
    println!("| what | documents fetched | seconds | videos/s | peak RSS |");
    println!("|---|---|---|---|---|");
    println!(
        "| vireo: Accept → {VIDEOS} videos listed (fetch, check, keep, thumbnail) | {} | {vireo_secs:.1} | {:.0} | {} MB (from {} MB) |",
        fetched.len(),
        VIDEOS as f64 / vireo_secs,
        peak / 1024,
        rss_before / 1024
    );
    println!("| vireo: … and all of them found by search | | {search_secs:.1} | | |");
    println!(
        "| reference: the same GETs, {CONCURRENCY} at once, no processing | {} | {reference_secs:.2} | {:.0} | |",
        fetched.len(),
        VIDEOS as f64 / reference_secs
    );
    println!();
    println!(
        "ratio reference / vireo: {:.3}",
        reference_secs / vireo_secs
    );
    vireo.stop();
    common::stop(nginx);
}

fn wait_until(limit: Duration, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < end, "timed out");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Fetch every URL, `CONCURRENCY` at once; seconds taken.
fn reference(urls: &[String]) -> f64 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(vireo::federation::client::tls_config().unwrap())
        .no_proxy()
        .build()
        .unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(urls.to_vec()));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..CONCURRENCY {
            let (client, queue) = (client.clone(), queue.clone());
            workers.spawn(async move {
                loop {
                    let Some(url) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let body = client
                        .get(&url)
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    assert!(!body.is_empty());
                }
            });
        }
        while workers.join_next().await.is_some() {}
        started.elapsed().as_secs_f64()
    })
}
