//! The README's table of the PeerTube operations Vireo implements, checked both ways against
//! the running server and PeerTube's own spec: every row is a spec operation the server routes,
//! and every spec operation the server routes is a row. A route is "routed" when the answer is
//! not the API's fallback (`This API endpoint does not exist`) nor 405; a spec path whose literal
//! segment lands on one of Vireo's parameters (`GET /videos/imports` on `GET /videos/{id}`) is
//! told apart by matching it against the table's own patterns.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::{Server, tempdir};

const SPEC: &str = "../shared/fixtures/peertube-openapi/openapi.yaml";
const METHODS: &[&str] = &["get", "post", "put", "delete", "patch"];

type Operation = (String, String);

/// The spec's operations, read from its `paths:` block: a path is a two-space-indented key, a
/// method a four-space-indented one (the file's own layout; no YAML parser is needed for it).
fn spec_operations() -> BTreeSet<Operation> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(SPEC))
        .expect("PeerTube's spec");
    let mut ops = BTreeSet::new();
    let mut in_paths = false;
    let mut path = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_paths = line == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(key) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) {
            path = Some(key.trim_end_matches(':').trim_matches('\'').to_owned());
        } else if let Some(key) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')) {
            let method = key.trim_end_matches(':');
            if let (true, Some(p)) = (METHODS.contains(&method), &path) {
                ops.insert((method.to_uppercase(), p.clone()));
            }
        }
    }
    ops
}

/// The README's table rows, between its markers.
fn readme_operations() -> BTreeSet<Operation> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let start = text.find("<!-- endpoints:start -->").expect("start marker");
    let end = text.find("<!-- endpoints:end -->").expect("end marker");
    text[start..end]
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let method = *cells.get(1)?;
            let path = cells.get(2)?.trim_matches('`');
            (METHODS.contains(&method.to_lowercase().as_str()) && path.starts_with('/'))
                .then(|| (method.to_owned(), path.to_owned()))
        })
        .collect()
}

/// A concrete request path for a spec path: every parameter filled in (a feed's `{format}`
/// with one PeerTube serves; an HLS file's `{filename}` is PeerTube's `{uuid}/{file}`).
fn concrete(path: &str) -> String {
    let hls = path.contains("/streaming-playlists/hls/");
    path.split('/')
        .map(|seg| {
            if hls && seg == "{filename}" {
                "1/1".to_owned()
            } else if seg.starts_with('{') {
                "1".to_owned()
            } else {
                seg.replace("{format}", "xml")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `path` (a spec path) would land on the table's `pattern`, parameters matching any
/// segment.
fn lands_on(path: &str, pattern: &str) -> bool {
    let a: Vec<&str> = path.split('/').collect();
    let b: Vec<&str> = pattern.split('/').collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || y.starts_with('{') || x.starts_with('{'))
}

/// The status of a request for the operation, `None` when no route took it: 405, or the two
/// fallbacks' answers (the API's, and the whole server's for any other path).
/// Sent as the administrator, so that a route answers for itself rather than for its login.
fn answer(s: &Server, token: &str, method: &str, path: &str) -> Option<u16> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = s.http_request(method, &concrete(path));
    // Revoking would end the session every later probe is sent with.
    if !path.ends_with("/revoke-token") {
        request = request.bearer_auth(token);
    }
    let r = request.send().unwrap();
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().unwrap_or_default();
    let fallback = ["This API endpoint does not exist", "Not found"];
    let unrouted =
        status == 405 || (status == 404 && fallback.iter().any(|f| body["detail"] == *f));
    (!unrouted).then_some(status)
}

fn routed(s: &Server, token: &str, method: &str, path: &str) -> bool {
    answer(s, token, method, path).is_some()
}

#[test]
fn the_readme_lists_exactly_the_spec_operations_the_server_routes() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let root = s.root_token();
    let spec = spec_operations();
    assert!(spec.len() > 200, "the spec's operations: {}", spec.len());
    let table = readme_operations();
    assert!(table.len() >= 48, "README rows: {}", table.len());

    let not_in_spec: Vec<_> = table.difference(&spec).collect();
    assert!(
        not_in_spec.is_empty(),
        "README rows not in the spec: {not_in_spec:?}"
    );
    let unrouted: Vec<_> = table
        .iter()
        .filter(|(m, p)| !routed(&s, &root, m, p))
        .collect();
    assert!(
        unrouted.is_empty(),
        "README rows the server does not route: {unrouted:?}"
    );
    // A spec path landing on one of the table's parameters is taken by that route, which
    // refuses the literal as an id (400 or 404); any other answer means a route of its own.
    let unlisted: Vec<_> = spec
        .difference(&table)
        .filter_map(|(m, p)| {
            let collides = table.iter().any(|(tm, tp)| tm == m && lands_on(p, tp));
            match answer(&s, &root, m, p) {
                None => None,
                Some(400 | 404) if collides => None,
                Some(status) => Some((m, p, status)),
            }
        })
        .collect();
    assert!(
        unlisted.is_empty(),
        "spec operations the server routes but the README does not list: {unlisted:?}"
    );
    println!(
        "{} of the spec's {} operations implemented and listed",
        table.len(),
        spec.len()
    );
}
