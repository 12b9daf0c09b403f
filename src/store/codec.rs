//! Versioned record encoding: every value in redb is one version byte followed by JSON.
//!
//! The version byte lets a later schema read what an older Vireo wrote: `Record::migrate` turns an
//! old version's JSON into today's type on read, so upgrades never need an offline migration step.
//! JSON (rather than a compact binary format) is chosen because fields can be added with
//! `#[serde(default)]` without a version bump, and a value can be inspected with standard tools.

/// Why a stored value could not be turned back into a record.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("empty value")]
    Empty,
    #[error("{kind} record has version {found}, this build reads up to {supported}")]
    UnknownVersion {
        kind: &'static str,
        found: u8,
        supported: u8,
    },
    #[error("{kind} record is not valid: {source}")]
    Json {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

pub use crate::model::Record;

/// Encode a record with its version prefix.
pub fn encode<T: Record>(record: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.push(T::VERSION);
    // Serialising our own plain structs to a Vec cannot fail: no maps with non-string keys, no I/O.
    if serde_json::to_writer(&mut out, record).is_err() {
        out.truncate(1);
        out.extend_from_slice(b"null");
    }
    out
}

/// Decode a record, migrating older versions on the way.
pub fn decode<T: Record>(bytes: &[u8]) -> Result<T, CodecError> {
    let (&version, body) = bytes.split_first().ok_or(CodecError::Empty)?;
    let json_err = |source| CodecError::Json {
        kind: T::KIND,
        source,
    };
    if version == T::VERSION {
        serde_json::from_slice(body).map_err(json_err)
    } else if version < T::VERSION {
        let value = serde_json::from_slice(body).map_err(json_err)?;
        T::migrate(version, value).ok_or(CodecError::UnknownVersion {
            kind: T::KIND,
            found: version,
            supported: T::VERSION,
        })
    } else {
        Err(CodecError::UnknownVersion {
            kind: T::KIND,
            found: version,
            supported: T::VERSION,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct V2 {
        name: String,
        size: u64,
    }

    impl Record for V2 {
        const KIND: &'static str = "test";
        const VERSION: u8 = 2;
        fn migrate(found: u8, value: serde_json::Value) -> Option<Self> {
            // Version 1 had only a name.
            match (found, value.get("name").and_then(|n| n.as_str())) {
                (1, Some(name)) => Some(V2 {
                    name: name.to_owned(),
                    size: 0,
                }),
                _ => None,
            }
        }
    }

    #[test]
    fn round_trip() {
        let v = V2 {
            name: "a".into(),
            size: 3,
        };
        assert_eq!(decode::<V2>(&encode(&v)).unwrap(), v);
    }

    #[test]
    fn older_version_is_migrated_on_read() {
        let mut old = vec![1u8];
        old.extend_from_slice(br#"{"name":"old"}"#);
        let v: V2 = decode(&old).unwrap();
        assert_eq!(
            v,
            V2 {
                name: "old".into(),
                size: 0
            }
        );
    }

    #[test]
    fn newer_or_broken_values_are_errors_not_panics() {
        assert!(matches!(
            decode::<V2>(&[9, b'{', b'}']),
            Err(CodecError::UnknownVersion { found: 9, .. })
        ));
        assert!(matches!(decode::<V2>(&[]), Err(CodecError::Empty)));
        assert!(matches!(
            decode::<V2>(&[2, b'x']),
            Err(CodecError::Json { .. })
        ));
    }
}
