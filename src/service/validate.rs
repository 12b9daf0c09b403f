//! Field rules shared by the API and the admin commands, with PeerTube's limits
//! (`CONSTRAINTS_FIELDS`), so a value PeerTube accepts is accepted here and vice versa.

use super::{Result, ServiceError};

/// PeerTube's rule for local usernames and channel names:
/// `^[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?$`, 1–50 characters (`.` and `-` only inside the name).
fn is_local_actor_name(s: &str) -> bool {
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            s.len() <= 50
                && edge_ok(first)
                && edge_ok(last)
                && bytes.iter().all(|&b| edge_ok(b) || b == b'.' || b == b'-')
        }
        _ => false,
    }
}

pub fn username(s: &str) -> Result<()> {
    if is_local_actor_name(s) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "username",
            "Should have a valid username: 1 to 50 characters among a-z, 0-9 and '_' ('.' and '-' inside)",
        ))
    }
}

/// Names of local channels follow the username rule.
pub fn actor_name(field: &'static str, s: &str) -> Result<()> {
    if is_local_actor_name(s) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            field,
            "Should have a valid channel name: 1 to 50 characters among a-z, 0-9 and '_' ('.' and '-' inside)",
        ))
    }
}

pub fn password(s: &str) -> Result<()> {
    if (6..=255).contains(&s.chars().count()) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "password",
            "Should have a valid password: 6 to 255 characters",
        ))
    }
}

/// A plausible e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn email(s: &str) -> Result<()> {
    let valid = s.len() <= 400
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(())
    } else {
        Err(ServiceError::invalid("email", "Should have a valid email"))
    }
}

/// A string whose length in characters lies in `range`.
pub fn length(field: &'static str, s: &str, min: usize, max: usize) -> Result<()> {
    let n = s.chars().count();
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            field,
            format!("Should have a valid {field}: {min} to {max} characters"),
        ))
    }
}

/// Quotas: -1 (unlimited) or a non-negative byte count.
pub fn quota(field: &'static str, v: i64) -> Result<()> {
    if v >= -1 {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            field,
            format!("Should have a valid {field}"),
        ))
    }
}

pub fn nsfw_policy(s: &str) -> Result<()> {
    if ["display", "blur", "do_not_list"].contains(&s) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "nsfwPolicy",
            "Should have a valid nsfwPolicy: display, blur or do_not_list",
        ))
    }
}

/// Up to 5 tags of 2–30 characters each.
pub fn tags(tags: &[String]) -> Result<()> {
    if tags.len() > 5 {
        return Err(ServiceError::invalid("tags", "Should have at most 5 tags"));
    }
    for t in tags {
        length("tags", t, 2, 30)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(username("root").is_ok());
        assert!(username("a.b_c9").is_ok());
        assert!(username("a-b").is_ok());
        assert!(username(".ab").is_err());
        assert!(username("ab-").is_err());
        assert!(username("_").is_ok());
        assert!(username("Root").is_err());
        assert!(username("").is_err());
        assert!(username(&"a".repeat(51)).is_err());
        assert!(username("émile").is_err());
    }

    #[test]
    fn emails_and_names() {
        assert!(email("a@example.org").is_ok());
        assert!(email("a@b").is_err());
        assert!(email("a b@example.org").is_err());
        assert!(email("@example.org").is_err());
        assert!(actor_name("name", "my-channel_1").is_ok());
        assert!(actor_name("name", "My-Channel").is_err());
        assert!(actor_name("name", "no spaces").is_err());
        assert!(length("displayName", "é", 1, 120).is_ok());
        assert!(length("displayName", "", 1, 120).is_err());
        assert!(quota("videoQuota", -2).is_err());
    }
}
