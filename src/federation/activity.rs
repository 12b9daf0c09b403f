//! What an incoming activity says, read once from its JSON into a type the inbox acts on: the
//! activities Vireo understands, with the fields each needs checked, and everything else named
//! and ignored. Pure (no I/O), so the fuzz target (`federation::fuzz`) runs it on any bytes.

use serde_json::Value;

use crate::model::federation::RateKind;

/// The longest id or URL accepted in an activity (PeerTube's bound).
const MAX_URL: usize = 2000;

/// Why an activity cannot be acted on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ActivityError {
    #[error("The body is not a JSON object")]
    NotAnObject,
    #[error("The activity has no actor")]
    NoActor,
    #[error("The {0} has no id")]
    NoId(String),
    #[error("The {0} has no object")]
    NoObject(String),
    #[error("Only its actor may undo an activity")]
    UndoByOther,
}

/// A read activity: who sends it, and what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub actor: String,
    /// Its id, when it has one (every activity Vireo acts on must).
    pub id: Option<String>,
    pub what: Incoming,
}

/// What an activity asks of this instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// Follow the local actor at `object`.
    Follow { id: String, object: String },
    /// Take back an earlier activity.
    Undo { id: String, undone: Undone },
    /// Like or dislike the local video at `object`.
    Rate {
        id: String,
        object: String,
        kind: RateKind,
    },
    /// One view of the local video at `object`.
    View { id: String, object: String },
    /// The answer to a `Follow` this instance sent: `Accept` (`accepted`) or `Reject`; `follow`
    /// is the follow's id when the answer names it.
    Answer {
        id: String,
        follow: Option<String>,
        accepted: bool,
    },
    /// A video to fetch and keep: a `Create` of it, or an `Announce` (a server or channel
    /// sharing it). `object` is its URL.
    Share { id: String, object: String },
    /// Its origin changed the video at `object` (`Update`).
    Changed { id: String, object: String },
    /// Its origin deleted the object at `object` (`Delete`).
    Deleted { id: String, object: String },
    /// Understood or not, nothing to do (yet): its type.
    Ignored { kind: String },
}

/// What an `Undo` takes back: the activity's id and its object, when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undone {
    Follow {
        id: Option<String>,
        object: Option<String>,
    },
    Rate {
        id: Option<String>,
        object: Option<String>,
        kind: RateKind,
    },
    Other,
}

/// Read `value` as an activity.
pub fn read(value: &Value) -> Result<Envelope, ActivityError> {
    if !value.is_object() {
        return Err(ActivityError::NotAnObject);
    }
    let actor = id_of(&value["actor"])
        .ok_or(ActivityError::NoActor)?
        .to_owned();
    let kind = value["type"].as_str().unwrap_or_default();
    let id = id_of(&value["id"]).map(str::to_owned);
    let need_id = || {
        id.clone()
            .ok_or_else(|| ActivityError::NoId(kind.to_owned()))
    };
    let object = || {
        id_of(&value["object"])
            .map(str::to_owned)
            .ok_or_else(|| ActivityError::NoObject(kind.to_owned()))
    };
    let what = match kind {
        "Follow" => Incoming::Follow {
            id: need_id()?,
            object: object()?,
        },
        "Like" | "Dislike" => Incoming::Rate {
            id: need_id()?,
            object: object()?,
            kind: if kind == "Like" {
                RateKind::Like
            } else {
                RateKind::Dislike
            },
        },
        // A View with `expires` is PeerTube's "watching now" beacon for live viewer counts.
        "View" if value.get("expires").is_some_and(|e| !e.is_null()) => Incoming::Ignored {
            kind: "View (viewer beacon)".to_owned(),
        },
        "View" => Incoming::View {
            id: need_id()?,
            object: object()?,
        },
        // An Accept or Reject of anything but a follow (PeerTube's of a Like, say) needs nothing.
        "Accept" | "Reject" if !answers_follow(&value["object"]) => Incoming::Ignored {
            kind: format!("{kind} of another activity"),
        },
        "Accept" | "Reject" => Incoming::Answer {
            id: need_id()?,
            follow: id_of(&value["object"]).map(str::to_owned),
            accepted: kind == "Accept",
        },
        // Mastodon's posts and PeerTube's comments are Notes: no video to fetch.
        "Create" | "Announce" if !names_video(&value["object"]) => Incoming::Ignored {
            kind: format!("{kind} of another object"),
        },
        "Create" | "Announce" => Incoming::Share {
            id: need_id()?,
            object: object()?,
        },
        // An Update carries the object; only a video's matters here (actors are fetched again
        // when their keys stop verifying).
        "Update" if value["object"]["type"] != "Video" => Incoming::Ignored {
            kind: "Update of another object".to_owned(),
        },
        "Update" => Incoming::Changed {
            id: need_id()?,
            object: object()?,
        },
        "Delete" => Incoming::Deleted {
            id: need_id()?,
            object: object()?,
        },
        "Undo" => Incoming::Undo {
            id: need_id()?,
            undone: undone(&value["object"], &actor)?,
        },
        other => Incoming::Ignored {
            kind: other.chars().take(64).collect(),
        },
    };
    Ok(Envelope { actor, id, what })
}

/// Whether an `Accept` or `Reject` answers a follow: its object is a `Follow`, or an id alone
/// (Mastodon and PeerTube embed it; some servers send only the id).
fn answers_follow(object: &Value) -> bool {
    match object.get("type") {
        Some(t) => t == "Follow",
        None => object.is_string(),
    }
}

/// Whether an activity's object may be a video: a `Video`, or an id alone (PeerTube announces
/// by id; what it is shows once fetched).
fn names_video(object: &Value) -> bool {
    match object.get("type") {
        Some(t) => t == "Video",
        None => object.is_string(),
    }
}

/// The activity an `Undo` names: embedded (Mastodon, PeerTube) or by id alone (then taken to be
/// a Follow, the only one undone without embedding it).
fn undone(object: &Value, actor: &str) -> Result<Undone, ActivityError> {
    if let Some(by) = object.get("actor").and_then(id_of)
        && by != actor
    {
        return Err(ActivityError::UndoByOther);
    }
    let id = id_of(object).map(str::to_owned);
    let target = id_of(&object["object"]).map(str::to_owned);
    Ok(match object["type"].as_str() {
        Some("Follow") | None => Undone::Follow { id, object: target },
        Some("Like") => Undone::Rate {
            id,
            object: target,
            kind: RateKind::Like,
        },
        Some("Dislike") => Undone::Rate {
            id,
            object: target,
            kind: RateKind::Dislike,
        },
        Some(_) => Undone::Other,
    })
}

/// The id of an object or link: the string itself, or its `id`; bounded in length.
pub fn id_of(v: &Value) -> Option<&str> {
    v.as_str()
        .or_else(|| v.get("id").and_then(Value::as_str))
        .filter(|s| !s.is_empty() && s.len() <= MAX_URL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::fixture;
    use serde_json::json;

    #[test]
    fn real_mastodon_and_peertube_activities_are_read() {
        let follow = read(&fixture("mastodon/activities/follow.json")).unwrap();
        assert!(matches!(follow.what, Incoming::Follow { .. }), "{follow:?}");
        let undo = read(&fixture("mastodon/activities/undo_follow.json")).unwrap();
        assert!(
            matches!(
                &undo.what,
                Incoming::Undo {
                    undone: Undone::Follow {
                        id: Some(_),
                        object: Some(_)
                    },
                    ..
                }
            ),
            "{undo:?}"
        );
        let like = read(&fixture("mastodon/activities/like_page.json")).unwrap();
        assert!(matches!(
            like.what,
            Incoming::Rate {
                kind: RateKind::Like,
                ..
            }
        ));
        let unlike = read(&fixture("mastodon/activities/undo_like_page.json")).unwrap();
        assert!(matches!(
            unlike.what,
            Incoming::Undo {
                undone: Undone::Rate {
                    kind: RateKind::Like,
                    ..
                },
                ..
            }
        ));
        // Understood later (comments, reports): read, and ignored.
        for path in [
            "mastodon/activities/create_note.json",
            "mastodon/activities/flag.json",
        ] {
            let a = read(&fixture(path)).unwrap();
            assert!(matches!(a.what, Incoming::Ignored { .. }), "{path}: {a:?}");
        }
        // A channel's Announce of its video names the video to fetch; a Delete, what is gone.
        let announce = read(&fixture("peertube/activities/announce_video.json")).unwrap();
        assert_eq!(
            announce.what,
            Incoming::Share {
                id: "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1/announces/299".into(),
                object: "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1".into(),
            }
        );
        let delete = read(&fixture("mastodon/activities/delete.json")).unwrap();
        assert!(
            matches!(delete.what, Incoming::Deleted { .. }),
            "{delete:?}"
        );
    }

    #[test]
    fn what_cannot_be_acted_on_says_why() {
        assert_eq!(read(&json!([1])), Err(ActivityError::NotAnObject));
        assert_eq!(
            read(&json!({"type": "Follow", "id": "https://a.example/1"})),
            Err(ActivityError::NoActor)
        );
        assert_eq!(
            read(&json!({"type": "Follow", "actor": "https://a.example/u"})),
            Err(ActivityError::NoId("Follow".into()))
        );
        assert_eq!(
            read(
                &json!({"type": "Like", "id": "https://a.example/1", "actor": "https://a.example/u"})
            ),
            Err(ActivityError::NoObject("Like".into()))
        );
        assert_eq!(
            read(&json!({
                "type": "Undo", "id": "https://a.example/2", "actor": "https://a.example/u",
                "object": {"type": "Follow", "id": "https://b.example/1", "actor": "https://b.example/v"}
            })),
            Err(ActivityError::UndoByOther)
        );
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL));
        assert_eq!(
            read(
                &json!({"type": "Follow", "id": long, "actor": "https://a.example/u", "object": "x"})
            ),
            Err(ActivityError::NoId("Follow".into()))
        );
        // PeerTube's Accept of a follow (its shape), a Reject by id alone, and an Accept of
        // something else.
        let accept = read(&json!({
            "type": "Accept", "id": "https://pt.example/accepts/follows/93",
            "actor": "https://pt.example/accounts/peertube",
            "object": {"type": "Follow", "id": "https://v.example/accounts/peertube/follows/4",
                       "actor": "https://v.example/accounts/peertube",
                       "object": "https://pt.example/accounts/peertube"}
        }))
        .unwrap();
        assert_eq!(
            accept.what,
            Incoming::Answer {
                id: "https://pt.example/accepts/follows/93".into(),
                follow: Some("https://v.example/accounts/peertube/follows/4".into()),
                accepted: true
            }
        );
        let reject = read(&json!({
            "type": "Reject", "id": "https://a.example/r/1", "actor": "https://a.example/u",
            "object": "https://v.example/accounts/peertube/follows/4"
        }))
        .unwrap();
        assert!(matches!(
            reject.what,
            Incoming::Answer {
                accepted: false,
                ..
            }
        ));
        let other = read(&json!({
            "type": "Accept", "id": "https://a.example/r/2", "actor": "https://a.example/u",
            "object": {"type": "Offer", "id": "https://v.example/o/1"}
        }))
        .unwrap();
        assert!(matches!(other.what, Incoming::Ignored { .. }));
        let beacon = read(&json!({
            "type": "View", "id": "https://a.example/v/1", "actor": "https://a.example/u",
            "object": "https://v.example/videos/watch/x", "expires": "2030-01-01T00:00:00Z"
        }))
        .unwrap();
        assert!(matches!(beacon.what, Incoming::Ignored { .. }));
        // An Update of a video is acted on; of an actor, ignored; a Create of a Video by id.
        let update = |object: Value| {
            read(&json!({"type": "Update", "id": "https://a.example/u/1",
                         "actor": "https://a.example/u", "object": object}))
            .unwrap()
            .what
        };
        assert!(matches!(
            update(json!({"type": "Video", "id": "https://a.example/v/1"})),
            Incoming::Changed { .. }
        ));
        assert!(matches!(
            update(json!({"type": "Person", "id": "https://a.example/u"})),
            Incoming::Ignored { .. }
        ));
        assert!(matches!(
            update(json!("https://a.example/v/1")),
            Incoming::Ignored { .. }
        ));
        let create = read(&json!({"type": "Create", "id": "https://a.example/c/1",
                                  "actor": "https://a.example/u", "object": "https://a.example/v/1"}))
        .unwrap();
        assert!(matches!(create.what, Incoming::Share { .. }));
    }
}
