//! The inbox fuzz target's entry point (`fuzz/fuzz_targets/inbox.rs`) and its corpus replay:
//! everything the inbox and the fetcher read from another server, run on arbitrary bytes. The
//! `Signature` header grammar, the JSON body as an activity, the same JSON as an actor document
//! and as a `Video` object, and a public-key PEM.

use super::{activity, fetcher, signatures, video_object};
use crate::service::keys::PublicKey;

/// Read `data` every way a peer's bytes are read, and discard the results.
pub fn exercise(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = signatures::parse(&text);
    let _ = PublicKey::from_pem(&text);
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = activity::read(&json);
        if let Ok(url) = url::Url::parse("https://peer.example/users/a") {
            let key_id = json["publicKey"]["id"]
                .as_str()
                .unwrap_or("https://peer.example/users/a#main-key");
            let _ = fetcher::parse_actor(&json, &url, Some(key_id));
            let _ = fetcher::parse_actor(&json, &url, None);
        }
        let fetched = json["id"]
            .as_str()
            .unwrap_or("https://peer.example/videos/watch/1");
        let _ = video_object::read(&json, fetched);
    }
}

#[cfg(test)]
mod tests {
    /// Every input of the fuzzer's regression corpus, and every real payload of the shared
    /// fixtures, is read without a panic.
    #[test]
    fn fuzz_corpus_and_fixtures_replay() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let corpus = root.join("fuzz/corpus/inbox");
        let mut replayed = 0;
        for entry in std::fs::read_dir(&corpus).unwrap() {
            super::exercise(&std::fs::read(entry.unwrap().path()).unwrap());
            replayed += 1;
        }
        assert!(replayed >= 5, "the corpus is there");
        let fixtures = root.join("../shared/fixtures/activitypub");
        for kind in ["mastodon", "peertube"] {
            for group in ["activities", "objects", "collections"] {
                let Ok(dir) = std::fs::read_dir(fixtures.join(kind).join(group)) else {
                    continue;
                };
                for entry in dir {
                    super::exercise(&std::fs::read(entry.unwrap().path()).unwrap());
                    replayed += 1;
                }
            }
        }
        assert!(replayed >= 20, "the fixtures are there");
    }
}
