//! Hosts and handles as every edge reads them from people: a server's host (`videos.example`,
//! `127.0.0.1:9000`) and an actor's handle (`name@host`), for following, unfollowing and
//! blocking, from the API's bodies and paths and from the admin pages' forms.

/// A host as Vireo takes it: DNS labels (letters, digits, `-`; 1 to 63 each) joined by dots,
/// with an optional port (1 to 65535, no leading zero), 255 characters at most; returned
/// lower-cased, without the default ports `:443` and `:80` (PeerTube strips them too). Written
/// by hand, not with the `url` crate, so that it is exactly the pattern the conformance run
/// gives schemathesis (`tests/conformance/fix_spec.py`, `HOST_PATTERN`).
pub fn host(s: &str) -> Option<String> {
    if s.is_empty() || s.len() > 255 {
        return None;
    }
    let (name, port) = match s.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (s, None),
    };
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !name.split('.').all(label_ok) {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) => {
            let digits_ok = (1..=5).contains(&p.len())
                && !p.starts_with('0')
                && p.bytes().all(|b| b.is_ascii_digit());
            Some(p.parse::<u16>().ok().filter(|_| digits_ok)?)
        }
    };
    let name = name.to_ascii_lowercase();
    Some(match port {
        Some(443 | 80) | None => name,
        Some(p) => format!("{name}:{p}"),
    })
}

/// `name@host` (a leading `@` allowed): a name of letters, digits, `_`, `-` and `.` (1 to 255),
/// and a host as `host` takes it.
pub fn handle(s: &str) -> Option<(String, String)> {
    if s.len() > 255 {
        return None;
    }
    let (name, host_part) = s.strip_prefix('@').unwrap_or(s).split_once('@')?;
    let valid_name = (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    valid_name.then_some(())?;
    Some((name.to_owned(), host(host_part)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_handles_are_read_as_peertube_reads_them() {
        assert_eq!(host("PT.example").as_deref(), Some("pt.example"));
        assert_eq!(host("pt.example:443").as_deref(), Some("pt.example"));
        assert_eq!(host("127.0.0.1:9001").as_deref(), Some("127.0.0.1:9001"));
        assert_eq!(host("pt.example:80").as_deref(), Some("pt.example"));
        for bad in [
            "",
            "pt.example/x",
            "a@b",
            "pt .example",
            "pt.example:99999",
            "pt.example:0",
            "pt.example:080",
            "http://x",
            "a..b",
            "é.example",
        ] {
            assert_eq!(host(bad), None, "{bad}");
        }
        assert_eq!(
            handle("@cooking@pt.example"),
            Some(("cooking".into(), "pt.example".into()))
        );
        assert_eq!(handle("pt.example"), None);
        assert_eq!(handle("a b@pt.example"), None);
        assert_eq!(handle("x@"), None);
    }
}
