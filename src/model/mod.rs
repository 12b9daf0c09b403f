//! Vireo's domain types as they are stored: accounts, users, channels, videos, tokens and jobs.
//!
//! These are the records kept in redb (see `store::codec`); the PeerTube JSON shapes served by the
//! API are built from them in `api::views`, so the wire format can follow PeerTube without
//! constraining how data is kept.

pub mod account;
pub mod channel;
pub mod federation;
pub mod job;
pub mod key;
pub mod languages;
pub mod media;
pub mod token;
pub mod upload;
pub mod user;
pub mod video;
pub mod vocab;

mod record;
pub use record::Record;

/// PeerTube's numeric enumerations (privacy, state, role…): stored and sent as their `u8` id,
/// labelled with PeerTube's English label. `strum` derives the variant list (`VariantArray`),
/// the labels (`IntoStaticStr`) and the lookup by id (`FromRepr`); this gives each enum the
/// same `id`, `label` and `u8` conversions (serde goes through them).
macro_rules! numeric_enum {
    ($t:ty, $what:literal) => {
        impl $t {
            pub fn id(self) -> u8 {
                self as u8
            }
            pub fn label(self) -> &'static str {
                self.into()
            }
        }

        impl From<$t> for u8 {
            fn from(v: $t) -> u8 {
                v as u8
            }
        }

        impl TryFrom<u8> for $t {
            type Error = String;
            fn try_from(v: u8) -> Result<Self, String> {
                <$t>::from_repr(v).ok_or_else(|| format!(concat!("unknown ", $what, " {}"), v))
            }
        }
    };
}
pub(crate) use numeric_enum;

/// Milliseconds since the Unix epoch; the one clock every record uses.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Format Unix milliseconds as PeerTube does (`2024-01-31T12:00:00.000Z`).
pub fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// Parse an RFC 3339 date as PeerTube's clients send them; `None` when it is not one.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_round_trip_in_peertube_format() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::iso8601(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            super::parse_iso8601("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        assert_eq!(super::parse_iso8601("yesterday"), None);
    }
}
