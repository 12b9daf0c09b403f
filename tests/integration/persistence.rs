//! Data survives a graceful restart and a `kill -9`, including one taken in the middle of writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::common::{Server, tempdir, token_of};

#[test]
fn data_survives_restart_and_kill9() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    s.create_user(&root, "carol", "carol-password", 2);
    let carol = token_of(&s.login("carol", "carol-password"));
    assert!(s.stop());

    let s = Server::start(dir.path());
    assert!(
        !s.stdout
            .iter()
            .any(|l| l.contains("created the administrator")),
        "root is created only once"
    );
    let me = s.me(&carol);
    assert_eq!(me["username"], "carol", "sessions survive a restart");
    s.kill9();

    let s = Server::start(dir.path());
    let me = s.me(&carol);
    assert_eq!(me["username"], "carol", "and a kill -9");
    s.login("root", crate::common::ROOT_PASSWORD);
}

#[test]
fn kill9_during_writes_keeps_every_acknowledged_change() {
    let dir = tempdir();
    let s = Arc::new(Server::start(dir.path()));
    let root = s.root_token();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (s, stop, root) = (s.clone(), stop.clone(), root.clone());
        std::thread::spawn(move || {
            let mut acknowledged = Vec::new();
            for i in 0..500 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let name = format!("chan_{i}");
                let r = s
                    .post("/api/v1/video-channels")
                    .bearer_auth(&root)
                    .json(&json!({"name": name, "displayName": name}))
                    .send();
                match r {
                    Ok(r) if r.status() == 200 => acknowledged.push(name),
                    Ok(r) if r.status() == 400 => break, // channel limit per account reached
                    _ => break,                          // the server died
                }
            }
            acknowledged
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(150));
    let pid = s.pid();
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    let acknowledged = writer.join().unwrap();
    drop(s);

    let s = Server::start(dir.path());
    for name in &acknowledged {
        let r = s
            .get(&format!("/api/v1/video-channels/{name}"))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged channel {name} survived");
    }
    // Every stored channel is complete: listed with its owner, and its name resolves.
    let list = s.get_json("/api/v1/accounts/root/video-channels?count=100");
    for c in list["data"].as_array().unwrap() {
        assert_eq!(c["ownerAccount"]["name"], "root");
        let name = c["name"].as_str().unwrap();
        assert_eq!(
            s.get(&format!("/api/v1/video-channels/{name}"))
                .send()
                .unwrap()
                .status(),
            200
        );
    }
    assert!(list["total"].as_u64().unwrap() as usize > acknowledged.len());
}

/// `jobs.workers` threads run jobs, each at niceness `jobs.nice`, while the HTTP threads keep
/// the normal priority.
#[test]
fn job_threads_run_at_lower_priority() {
    let dir = crate::common::tempdir();
    let s = crate::common::Server::start_with(
        dir.path(),
        &[("VIREO_JOBS__WORKERS", "2"), ("VIREO_JOBS__NICE", "7")],
    );
    let tasks = std::path::PathBuf::from(format!("/proc/{}/task", s.pid()));
    let mut niceness = std::collections::BTreeMap::new();
    for task in std::fs::read_dir(tasks).unwrap() {
        let stat = std::fs::read_to_string(task.unwrap().path().join("stat")).unwrap();
        // comm is in parentheses; nice is the 17th field after it.
        let (head, rest) = stat.rsplit_once(')').unwrap();
        let comm = head.split_once('(').unwrap().1.to_owned();
        let nice: i32 = rest.split_whitespace().nth(16).unwrap().parse().unwrap();
        niceness.insert(comm, nice);
    }
    assert_eq!(niceness.get("vireo-jobs-0"), Some(&7), "{niceness:?}");
    assert_eq!(niceness.get("vireo-jobs-1"), Some(&7), "{niceness:?}");
    assert!(
        niceness
            .iter()
            .any(|(name, nice)| name.starts_with("tokio") && *nice == 0),
        "{niceness:?}"
    );
}
