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

/// Characters no name may hold: controls (C0, DEL, C1: NUL, CR, LF, escape …), the bidi
/// embeddings, overrides and isolates that make a name display as something else (`\u{202e}`
/// turns "gnp.exe" into "exe.png"), line and paragraph separators, and the invisible spaces and
/// joiners that make two names look alike (zero-width space, word joiner, byte-order mark).
/// The zero-width joiner and non-joiner and the left/right marks are kept: emoji sequences and
/// several scripts need them.
fn forbidden_in_name(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{200b}'
                | '\u{2060}'
                | '\u{feff}'
                | '\u{180e}'
        )
}

/// A one-line name (a display name, a video's title, a tag): `min` to `max` characters, none of
/// `forbidden_in_name`, and something visible.
pub fn name(field: &'static str, s: &str, min: usize, max: usize) -> Result<()> {
    length(field, s, min, max)?;
    if s.chars().any(forbidden_in_name) {
        return Err(ServiceError::invalid(
            field,
            format!(
                "Should have a valid {field}: control characters, direction overrides and invisible spaces are not allowed"
            ),
        ));
    }
    if min > 0 && s.trim().is_empty() {
        return Err(ServiceError::invalid(
            field,
            format!("Should have a valid {field}: it is blank"),
        ));
    }
    Ok(())
}

/// A text of several lines (a description, a support text): `min` to `max` characters, and no
/// control characters but tabs and line breaks.
pub fn text(field: &'static str, s: &str, min: usize, max: usize) -> Result<()> {
    length(field, s, min, max)?;
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ServiceError::invalid(
            field,
            format!("Should have a valid {field}: control characters are not allowed"),
        ));
    }
    Ok(())
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

/// A language code from the list `/api/v1/videos/languages` offers (`model::languages`).
pub fn language(field: &'static str, code: &str) -> Result<()> {
    if crate::model::vocab::language_label(code).is_some() {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            field,
            format!("Should have a valid {field}: one of /api/v1/videos/languages"),
        ))
    }
}

/// The languages a user wants to see videos in: fewer than 500, each from the list.
pub fn languages(field: &'static str, codes: &[String]) -> Result<()> {
    if codes.len() >= 500 {
        return Err(ServiceError::invalid(field, "Too many languages"));
    }
    codes.iter().try_for_each(|c| language(field, c))
}

/// The themes a user may pick: Vireo has one look, so only the names PeerTube always accepts
/// for it: `instance-default` (follow the instance) and `default`; `/api/v1/config` lists no
/// other theme as registered or built in.
pub fn theme(s: &str) -> Result<()> {
    if s == "instance-default" || s == "default" {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "theme",
            "Should have a valid theme: this instance has only instance-default and default",
        ))
    }
}

/// The name a client gives an uploaded file (kept to show its owner, never used as a path): a
/// base name of 1–255 characters, no folder, no control character, not `.` or `..`.
pub fn upload_filename(s: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(ServiceError::invalid(
            "filename",
            format!("Should have a valid filename: {why}"),
        ))
    };
    if s.is_empty() || s.chars().count() > 255 {
        return bad("1 to 255 characters");
    }
    if s.contains(['/', '\\']) || s == "." || s == ".." {
        return bad("a file name without folders");
    }
    if s.chars().any(char::is_control) {
        return bad("no control characters");
    }
    Ok(())
}

/// The type a client announces for an upload: a video type, or the generic
/// `application/octet-stream` some clients send for Matroska; absent means "look at the bytes".
/// The bytes are recognised whatever is announced (`media::sniff`); this only refuses at once
/// what is announced as something else.
pub fn announced_video_type(announced: Option<&str>) -> Result<()> {
    let Some(announced) = announced else {
        return Ok(());
    };
    let essence = announced
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence.starts_with("video/") || essence == "application/octet-stream" {
        Ok(())
    } else {
        Err(ServiceError::UnsupportedType(format!(
            "{essence} is not a video type: upload MP4, MOV, WebM or Matroska video"
        )))
    }
}

/// Up to 5 tags of 2–30 characters each.
pub fn tags(tags: &[String]) -> Result<()> {
    if tags.len() > 5 {
        return Err(ServiceError::invalid("tags", "Should have at most 5 tags"));
    }
    for t in tags {
        name("tags", t, 2, 30)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_announce_a_file_name_and_a_video_type() {
        assert!(upload_filename("holiday 2024.mp4").is_ok());
        assert!(upload_filename("été.mkv").is_ok());
        for bad in [
            "",
            "../../etc/passwd",
            "a/b.mp4",
            "c:\\x.mp4",
            "..",
            "a\nb.mp4",
        ] {
            assert!(upload_filename(bad).is_err(), "{bad:?}");
        }
        assert!(upload_filename(&"a".repeat(256)).is_err());
        assert!(announced_video_type(None).is_ok());
        assert!(announced_video_type(Some("video/mp4")).is_ok());
        assert!(announced_video_type(Some("Video/X-Matroska; x=y")).is_ok());
        assert!(announced_video_type(Some("application/octet-stream")).is_ok());
        assert!(matches!(
            announced_video_type(Some("text/html")),
            Err(ServiceError::UnsupportedType(_))
        ));
    }

    #[test]
    fn languages_and_themes_come_from_their_lists() {
        assert!(language("language", "fr").is_ok());
        assert!(language("language", "notalang").is_err());
        assert!(language("language", "").is_err());
        assert!(languages("videoLanguages", &["en".into(), "de".into()]).is_ok());
        assert!(languages("videoLanguages", &["en".into(), "xx".into()]).is_err());
        assert!(theme("instance-default").is_ok());
        assert!(theme("hacker-green").is_err());
    }

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

    #[test]
    fn names_refuse_controls_overrides_and_invisible_spaces() {
        assert!(name("displayName", "Zoë 🐦", 1, 120).is_ok());
        // Emoji sequences and Persian need the zero-width joiner and non-joiner.
        assert!(name("displayName", "👩\u{200d}💻 می\u{200c}خواهم", 1, 120).is_ok());
        for bad in [
            "nul\0byte",
            "two\nlines",
            "cr\rlf",
            "gnp.\u{202e}exe",
            "iso\u{2067}late",
            "zero\u{200b}width",
            "\u{feff}bom",
            "esc\u{1b}[31m",
            "c1\u{85}",
        ] {
            assert!(name("displayName", bad, 1, 120).is_err(), "{bad:?}");
        }
        assert!(name("displayName", "   ", 1, 120).is_err());
        assert!(text("description", "line one\nline two\r\n\ttab", 3, 100).is_ok());
        assert!(text("description", "nul\0", 3, 100).is_err());
        assert!(tags(&["ok".into(), "b\u{202e}ad".into()]).is_err());
    }
}
