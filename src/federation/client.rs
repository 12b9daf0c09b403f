//! Vireo's outgoing HTTP for federation: fetching remote actors and objects, and delivering
//! activities, within bounds a hostile or broken peer cannot stretch.
//!
//! - **Where to**: https only, to hosts whose every address is public (no loopback, private,
//!   link-local, CGNAT, documentation or reserved ranges; IPv4-mapped and NAT64 forms included).
//!   The check is made by the resolver, on the very addresses connected to, so DNS rebinding
//!   cannot slip between check and connect; IP-literal URLs, which skip the resolver, are checked
//!   before sending. `federation.allow_private_addresses` (tests, labs) lifts all of it, and
//!   allows plain http and any port.
//! - **How long and how much**: `federation.fetch_timeout_secs` for the whole exchange, bodies
//!   capped at `federation.max_fetch_bytes` while they stream, no redirects (a peer could send
//!   us to another host), no proxies from the environment, no decompression.
//! - **TLS**: rustls on ring with Mozilla's roots compiled in (see Cargo.toml).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::Config;

/// What peers are told they are talking to.
const USER_AGENT: &str = concat!(
    "Vireo/",
    env!("CARGO_PKG_VERSION"),
    " (ActivityPub; +https://joinpeertube.org)"
);

/// What Vireo asks for when it fetches an ActivityPub document.
pub const ACCEPT_ACTIVITY: &str = "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// Why a fetch or a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not a URL Vireo fetches: {1}")]
    Refused(String, &'static str),
    #[error("{url} answered {status}")]
    Status { url: String, status: StatusCode },
    #[error("{0} answered more than the {1} bytes allowed")]
    TooLarge(String, usize),
    #[error("{url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{0} did not answer JSON: {1}")]
    NotJson(String, serde_json::Error),
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// The TLS configuration of every outgoing connection (public for the tests' own clients, which
/// share the crate's reqwest and so its TLS features).
pub fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // rustls 0.23.48 deprecates its ring provider to steer users to aws-lc's post-quantum key
    // exchange; Vireo keeps ring, the tree's one crypto provider (no C++ or cmake-built C).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // reqwest sets no ALPN on a configuration it is given; without HTTP/2 support, offer 1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The two shared clients: one for the public internet, one for labs (private addresses).
static PUBLIC: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
static LAB: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();

/// The HTTP client for the configuration in force.
pub fn client(config: &Config) -> Result<reqwest::Client, FetchError> {
    let lab = config.federation.allow_private_addresses;
    let cell = if lab { &LAB } else { &PUBLIC };
    cell.get_or_init(|| build(lab))
        .clone()
        .map_err(FetchError::Client)
}

fn build(allow_private: bool) -> Result<reqwest::Client, String> {
    let tls = tls_config().map_err(|e| e.to_string())?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .dns_resolver(PublicOnly { allow_private })
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .no_proxy()
        .referer(false)
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| e.to_string())
}

/// Whether Vireo may send a request to `url` at all (before any resolution).
pub fn check_url(url: &url::Url, config: &Config) -> Result<(), FetchError> {
    let lab = config.federation.allow_private_addresses;
    let refused = |why| Err(FetchError::Refused(url.to_string(), why));
    match url.scheme() {
        "https" => {}
        "http" if lab => {}
        _ => return refused("only https URLs are fetched"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refused("it carries credentials");
    }
    let Some(host) = url.host() else {
        return refused("it has no host");
    };
    if !lab && url.port().is_some_and(|p| p != 443) {
        return refused("only the https port is used");
    }
    let ip = match host {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(d) => {
            if !lab && (d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost")) {
                return refused("it names this machine");
            }
            None
        }
    };
    if let Some(ip) = ip
        && !lab
        && !is_public(ip)
    {
        return refused("its address is not public");
    }
    Ok(())
}

/// A request, as `send` makes it.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a url::Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
}

/// An answer, its body read within the limit.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Send `request` within the configured bounds; any status comes back as an `Answer`.
pub async fn send(config: &Config, request: Request<'_>) -> Result<Answer, FetchError> {
    check_url(request.url, config)?;
    let url_text = request.url.to_string();
    let http = |source| FetchError::Http {
        url: url_text.clone(),
        source,
    };
    let client = client(config)?;
    let mut builder = client
        .request(request.method, request.url.clone())
        .timeout(Duration::from_secs(config.federation.fetch_timeout_secs))
        .headers(request.headers);
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let mut response = builder.send().await.map_err(http)?;
    let max = config.federation.max_fetch_bytes;
    if response
        .content_length()
        .is_some_and(|n| n > u64::try_from(max).unwrap_or(u64::MAX))
    {
        return Err(FetchError::TooLarge(url_text, max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http)? {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge(url_text, max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body,
    })
}

/// GET an ActivityPub document (`headers` may carry a signature) and read it as JSON; any
/// status but 200 is an error (redirects included: they are not followed).
pub async fn get_json(
    config: &Config,
    url: &url::Url,
    headers: HeaderMap,
) -> Result<serde_json::Value, FetchError> {
    get_json_as(config, url, headers, ACCEPT_ACTIVITY).await
}

/// GET a JSON document asking for `accept` (WebFinger's JRD, NodeInfo), within the same bounds.
pub async fn get_json_as(
    config: &Config,
    url: &url::Url,
    headers: HeaderMap,
    accept: &'static str,
) -> Result<serde_json::Value, FetchError> {
    let body = get_bytes(config, url, headers, accept).await?;
    serde_json::from_slice(&body).map_err(|e| FetchError::NotJson(url.to_string(), e))
}

/// GET `url` asking for `accept`, within the same bounds; its body when it answers 200 (any
/// other status is an error, redirects included: they are not followed).
pub async fn get_bytes(
    config: &Config,
    url: &url::Url,
    mut headers: HeaderMap,
    accept: &'static str,
) -> Result<Vec<u8>, FetchError> {
    headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
    let answer = send(
        config,
        Request {
            method: Method::GET,
            url,
            headers,
            body: None,
        },
    )
    .await?;
    if answer.status != StatusCode::OK {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: answer.status,
        });
    }
    Ok(answer.body)
}

/// Add a header whose value Vireo made (always visible ASCII).
pub fn insert(
    h: &mut HeaderMap,
    name: &'static str,
    value: &str,
) -> Result<(), crate::service::ServiceError> {
    let v = HeaderValue::from_str(value)
        .map_err(|e| crate::service::ServiceError::internal("making a header", e))?;
    h.insert(name, v);
    Ok(())
}

/// The resolver every federation connection goes through.
#[derive(Debug, Clone, Copy)]
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            // A name with any private address is refused whole: a peer could otherwise list
            // one public and one internal address and let the connector pick.
            if !allow_private && found.iter().any(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to an address that is not public").into());
            }
            if found.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is an address of the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || (s[0] & 0xffc0) == 0xfec0 // site-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64, which embeds an IPv4 address
                || s[0] == 0x2002) // 6to4, likewise
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (b & 0xc0) == 64) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // benchmarking
        || a >= 240) // reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lab: bool) -> Config {
        let mut c = Config::default();
        c.federation.allow_private_addresses = lab;
        c
    }

    fn allowed(url: &str, lab: bool) -> bool {
        check_url(&url::Url::parse(url).unwrap(), &config(lab)).is_ok()
    }

    #[test]
    fn only_public_https_hosts_unless_in_a_lab() {
        assert!(allowed("https://videos.example/accounts/a", false));
        assert!(allowed("https://93.184.215.14/inbox", false));
        for bad in [
            "http://videos.example/accounts/a",
            "https://videos.example:8443/inbox",
            "https://127.0.0.1/inbox",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[fd00::1]/",
            "https://100.64.0.1/",
            "https://localhost/",
            "https://a.localhost/",
            "https://user:pw@videos.example/",
            "ftp://videos.example/",
        ] {
            assert!(!allowed(bad, false), "{bad}");
        }
        assert!(allowed("http://127.0.0.1:9000/accounts/a", true));
        assert!(allowed("http://localhost:9000/", true));
        assert!(!allowed("ftp://127.0.0.1/", true));
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_private_addresses() {
        let public_only = PublicOnly {
            allow_private: false,
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(public_only.resolve(name).await.is_err());
        let lab = PublicOnly {
            allow_private: true,
        };
        let name: Name = "localhost".parse().unwrap();
        let addrs: Vec<SocketAddr> = lab.resolve(name).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn a_fetch_to_a_private_address_never_leaves() {
        let c = config(false);
        let url = url::Url::parse("https://169.254.169.254/latest/meta-data").unwrap();
        let e = get_json(&c, &url, HeaderMap::new()).await.unwrap_err();
        assert!(matches!(e, FetchError::Refused(..)), "{e}");
    }
}
