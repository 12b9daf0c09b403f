//! The web UI's static assets (`web/static/`), embedded into the binary by rust-embed and served
//! under content-hashed names (`/assets/player.3f2a1b9c.js`) with a year of immutable caching,
//! a strong ETag, and gzip or brotli forms made once at start for the text types.
//!
//! A hashed name changes whenever the bytes do, so a page always names the assets it was
//! rendered with and a browser never needs to revalidate one.

use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "web/static/"]
struct Files;

/// One asset in its three encodings.
struct Asset {
    content_type: &'static str,
    identity: Vec<u8>,
    gzip: Option<Vec<u8>>,
    brotli: Option<Vec<u8>>,
    /// The first 16 hex digits of the SHA-256 of the bytes: the name's tag and the ETag.
    hash: String,
}

struct Table {
    /// Hashed name → asset.
    by_hashed: HashMap<String, Asset>,
    /// Plain name (`player.js`) → URL path (`/assets/player.<hash>.js`).
    urls: HashMap<String, String>,
}

static TABLE: LazyLock<Table> = LazyLock::new(build);

/// Compress every asset now rather than on the first request (called at start-up).
pub fn warm() {
    LazyLock::force(&TABLE);
}

/// The URL path of the asset named `name` (as in `web/static/`), or `/assets/missing` (a 404)
/// if there is none: templates name assets by literal, and a test renders every page.
pub fn url(name: &str) -> &'static str {
    TABLE
        .urls
        .get(name)
        .map(String::as_str)
        .unwrap_or("/assets/missing")
}

/// The plain names of all assets, for tests and the bench.
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = TABLE.urls.keys().cloned().collect();
    v.sort();
    v
}

/// The uncompressed bytes of an asset by its plain name.
pub fn bytes(name: &str) -> Option<&'static [u8]> {
    let url = TABLE.urls.get(name)?;
    let hashed = url.strip_prefix("/assets/")?;
    TABLE.by_hashed.get(hashed).map(|a| a.identity.as_slice())
}

fn build() -> Table {
    let mut by_hashed = HashMap::new();
    let mut urls = HashMap::new();
    for name in Files::iter() {
        let Some(file) = Files::get(&name) else {
            continue;
        };
        let identity = file.data.into_owned();
        let hash: String = file.metadata.sha256_hash()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let hashed = hashed_name(&name, &hash);
        let content_type = content_type(&name);
        let compressible = content_type.starts_with("text/")
            || content_type.starts_with("application/javascript")
            || content_type.starts_with("image/svg");
        let (gzip, brotli) = if compressible {
            (
                smaller(gzip(&identity), identity.len()),
                smaller(brotli(&identity), identity.len()),
            )
        } else {
            (None, None)
        };
        urls.insert(name.to_string(), format!("/assets/{hashed}"));
        by_hashed.insert(
            hashed,
            Asset {
                content_type,
                identity,
                gzip,
                brotli,
                hash,
            },
        );
    }
    Table { by_hashed, urls }
}

/// `dir/player.js` with hash `ab12` → `dir/player.ab12.js`.
fn hashed_name(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hash}.{ext}"),
        _ => format!("{name}.{hash}"),
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "application/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn smaller(packed: Option<Vec<u8>>, original: usize) -> Option<Vec<u8>> {
    packed.filter(|p| p.len() < original)
}

fn gzip(data: &[u8]) -> Option<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).ok()?;
    enc.finish().ok()
}

fn brotli(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    {
        // Quality 11, window 2^22: the assets are compressed once, so the smallest form wins.
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        w.write_all(data).ok()?;
        w.flush().ok()?;
    }
    Some(out)
}

/// The encodings a request accepts, in the order the server prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// Parse `Accept-Encoding` (with q-values): brotli, then gzip, when accepted with q > 0.
fn accepted(headers: &HeaderMap) -> Vec<Encoding> {
    let mut br = false;
    let mut gz = false;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            match coding.as_str() {
                "br" => br = true,
                "gzip" | "x-gzip" => gz = true,
                "*" => {
                    br = true;
                    gz = true;
                }
                _ => {}
            }
        }
    }
    let mut v = Vec::new();
    if br {
        v.push(Encoding::Brotli);
    }
    if gz {
        v.push(Encoding::Gzip);
    }
    v.push(Encoding::Identity);
    v
}

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = TABLE.by_hashed.get(&name) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "No such asset\n",
        )
            .into_response();
    };
    let (encoding, body) = accepted(&headers)
        .into_iter()
        .find_map(|e| match e {
            Encoding::Brotli => asset.brotli.as_deref().map(|b| (e, b)),
            Encoding::Gzip => asset.gzip.as_deref().map(|b| (e, b)),
            Encoding::Identity => Some((e, asset.identity.as_slice())),
        })
        .unwrap_or((Encoding::Identity, asset.identity.as_slice()));
    // A strong ETag names exact bytes, so each encoding has its own.
    let etag = match encoding {
        Encoding::Brotli => format!("\"{}-br\"", asset.hash),
        Encoding::Gzip => format!("\"{}-gz\"", asset.hash),
        Encoding::Identity => format!("\"{}\"", asset.hash),
    };
    let mut response = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(body.to_vec()));
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        match encoding {
            Encoding::Brotli => {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            }
            Encoding::Gzip => {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            Encoding::Identity => {}
        }
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap(),
        );
        h
    }

    #[test]
    fn accept_encoding_is_read_with_its_q_values() {
        use Encoding::*;
        assert_eq!(accepted(&HeaderMap::new()), vec![Identity]);
        assert_eq!(
            accepted(&headers("gzip, deflate, br")),
            vec![Brotli, Gzip, Identity]
        );
        assert_eq!(
            accepted(&headers("br;q=0, gzip;q=0.5")),
            vec![Gzip, Identity]
        );
        assert_eq!(accepted(&headers("*")), vec![Brotli, Gzip, Identity]);
        assert_eq!(accepted(&headers("identity")), vec![Identity]);
    }

    #[test]
    fn hashed_names_keep_the_extension_last() {
        assert_eq!(hashed_name("player.js", "ab"), "player.ab.js");
        assert_eq!(hashed_name("icons/logo.svg", "ab"), "icons/logo.ab.svg");
        assert_eq!(hashed_name("LICENSE", "ab"), "LICENSE.ab");
    }

    #[test]
    fn every_asset_has_a_hashed_url_and_text_is_compressed() {
        let names = names();
        assert!(names.iter().any(|n| n == "player.js"), "{names:?}");
        for name in names {
            let url = url(&name);
            let hashed = url.strip_prefix("/assets/").unwrap();
            let asset = &TABLE.by_hashed[hashed];
            assert_eq!(asset.identity, bytes(&name).unwrap());
            if name.ends_with(".js") || name.ends_with(".css") {
                assert!(asset.brotli.is_some() && asset.gzip.is_some(), "{name}");
                let mut out = Vec::new();
                brotli::BrotliDecompress(&mut asset.brotli.as_deref().unwrap(), &mut out).unwrap();
                assert_eq!(out, asset.identity, "{name}");
            }
        }
        assert_eq!(url("no-such.js"), "/assets/missing");
    }
}
