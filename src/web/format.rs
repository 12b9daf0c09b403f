//! How numbers and times read on the pages: durations as a player shows them, view counts,
//! ages ("3 days ago"), and `?start=` times (`1m30s`, `90`, `1:30`).

/// `65` → `1:05`, `3725` → `1:02:05`.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `1` → `1 view`, `1234` → `1,234 views`.
pub fn views(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n == 1 {
        format!("{grouped} view")
    } else {
        format!("{grouped} views")
    }
}

/// How long ago `then_ms` was, seen at `now_ms`, in the largest whole unit.
pub fn age(then_ms: i64, now_ms: i64) -> String {
    let secs = (now_ms - then_ms).max(0) / 1000;
    const UNITS: &[(i64, &str)] = &[
        (365 * 86_400, "year"),
        (30 * 86_400, "month"),
        (7 * 86_400, "week"),
        (86_400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ];
    for &(size, unit) in UNITS {
        let n = secs / size;
        if n >= 1 {
            let s = if n == 1 { "" } else { "s" };
            return format!("{n} {unit}{s} ago");
        }
    }
    "just now".to_owned()
}

/// A start time as PeerTube and YouTube links write it: `90`, `1m30s`, `1h2m3s`, `1:30`,
/// `1:02:03`. `None` for anything else (the video then starts at the beginning).
pub fn start_time(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    if s.contains(':') {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() > 3 {
            return None;
        }
        let mut total = 0u64;
        for p in parts {
            let n: u64 = p.parse().ok()?;
            total = total.checked_mul(60)?.checked_add(n)?;
        }
        return Some(total);
    }
    let mut total = 0u64;
    let mut number = String::new();
    let mut seen_unit = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: u64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
        seen_unit = true;
    }
    (number.is_empty() && seen_unit).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_player() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(65), "1:05");
        assert_eq!(duration(3725), "1:02:05");
    }

    #[test]
    fn views_are_grouped_by_thousands() {
        assert_eq!(views(0), "0 views");
        assert_eq!(views(1), "1 view");
        assert_eq!(views(999), "999 views");
        assert_eq!(views(1234), "1,234 views");
        assert_eq!(views(1_234_567), "1,234,567 views");
    }

    #[test]
    fn ages_use_the_largest_whole_unit() {
        let day = 86_400_000;
        assert_eq!(age(0, 5_000), "just now");
        assert_eq!(age(0, 60_000), "1 minute ago");
        assert_eq!(age(0, 3 * day), "3 days ago");
        assert_eq!(age(0, 15 * day), "2 weeks ago");
        assert_eq!(age(0, 800 * day), "2 years ago");
        assert_eq!(age(10, 0), "just now");
    }

    #[test]
    fn start_times_in_every_usual_spelling() {
        assert_eq!(start_time("90"), Some(90));
        assert_eq!(start_time("1m30s"), Some(90));
        assert_eq!(start_time("1h2m3s"), Some(3723));
        assert_eq!(start_time("30s"), Some(30));
        assert_eq!(start_time("1:30"), Some(90));
        assert_eq!(start_time("1:02:03"), Some(3723));
        for bad in [
            "",
            "1x",
            "m",
            "1m30",
            "1:2:3:4",
            "-5",
            "99999999999999999999999",
        ] {
            assert_eq!(start_time(bad), None, "{bad}");
        }
    }
}
