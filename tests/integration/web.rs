//! The web UI over HTTP against the real binary: every page renders with its headers (CSP,
//! no caching), escapes what uploaders write, and answers missing and private videos with
//! clear pages and the API's status codes; assets are hashed, immutable, compressed and
//! revalidated by ETag; the login form, logout, CSRF checks, the cookie's use by the API and
//! ended sessions behave; oEmbed answers for public videos only.

use std::collections::HashMap;
use std::io::Read;

use reqwest::blocking::{Client, Response};
use reqwest::header;
use serde_json::{Value, json};

use crate::common::{ROOT_PASSWORD, Server, tempdir};
use crate::uploads::{channel_id, clip, wait_for_state};

/// A browser's view of the server: cookies kept, redirects not followed.
struct Visitor<'a> {
    s: &'a Server,
    http: Client,
    cookies: HashMap<String, String>,
}

impl<'a> Visitor<'a> {
    fn new(s: &'a Server) -> Self {
        let http = Client::builder()
            .tls_backend_preconfigured(vireo::federation::client::tls_config().unwrap())
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Visitor {
            s,
            http,
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, r: &Response) {
        for v in r.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn get(&mut self, path: &str) -> Response {
        let r = self
            .http
            .get(format!("{}{path}", self.s.url))
            .header(header::COOKIE, self.cookie_header())
            .header(header::ACCEPT, "text/html")
            .send()
            .unwrap();
        self.keep(&r);
        r
    }

    fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let r = self
            .http
            .post(format!("{}{path}", self.s.url))
            .header(header::COOKIE, self.cookie_header())
            .form(form)
            .send()
            .unwrap();
        self.keep(&r);
        r
    }

    fn csrf(&mut self) -> String {
        if !self.cookies.contains_key("vireo_csrf") {
            self.get("/login");
        }
        self.cookies["vireo_csrf"].clone()
    }

    fn log_in(&mut self, user: &str, password: &str) -> Response {
        let csrf = self.csrf();
        self.post_form(
            "/login",
            &[
                ("username", user),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/videos/upload"),
            ],
        )
    }
}

fn html(r: Response, status: u16) -> String {
    assert_eq!(r.status(), status, "{}", r.url());
    let h = r.headers();
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{h:?}"
    );
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    r.text().unwrap()
}

fn upload(s: &Server, token: &str, name: &str, description: &str, privacy: u8) -> Value {
    let form = reqwest::blocking::multipart::Form::new()
        .text("channelId", channel_id(s, token).to_string())
        .text("name", name.to_owned())
        .text("description", description.to_owned())
        .text("privacy", privacy.to_string())
        .text("tags[0]", "<b>tag</b>")
        .part(
            "videofile",
            reqwest::blocking::multipart::Part::bytes(clip())
                .file_name("clip.mp4")
                .mime_str("video/mp4")
                .unwrap(),
        );
    let r = s
        .post("/api/v1/videos/upload")
        .bearer_auth(token)
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    let uuid = v["video"]["uuid"].as_str().unwrap();
    if privacy == 1 {
        wait_for_state(s, uuid, 1);
    } else {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while s
            .get(&format!("/api/v1/videos/{uuid}"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json::<Value>()
            .unwrap()["state"]["id"]
            != 1
        {
            assert!(std::time::Instant::now() < deadline, "published");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    v["video"].clone()
}

const HOSTILE: &str = "<script>alert('x')</script><img src=x onerror=alert(1)>";

#[test]
fn every_page_renders_escaped_with_its_headers_and_clear_errors() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let token = s.root_token();
    let description = format!(
        "**Bold** words and [a link](https://example.org/x). {HOSTILE} [bad](javascript:alert(1))\n\n{}",
        "A long line of description. ".repeat(350)
    );
    let title = format!("Cats {HOSTILE}");
    let v = upload(&s, &token, &title, &description, 1);
    let (uuid, short) = (
        v["uuid"].as_str().unwrap(),
        v["shortUUID"].as_str().unwrap(),
    );
    let mut anon = Visitor::new(&s);

    let pages = [
        "/".to_owned(),
        "/videos/recently-added".to_owned(),
        "/videos/trending?page=1".to_owned(),
        "/videos/local?page=999".to_owned(),
        format!("/w/{short}"),
        format!("/videos/watch/{uuid}?start=1m30s"),
        "/search?search=cats&sort=-views&date=week&duration=short".to_owned(),
        "/search?tagsOneOf=%3Cb%3Etag%3C%2Fb%3E".to_owned(),
        "/search".to_owned(),
        "/c/root_channel".to_owned(),
        "/video-channels/root_channel".to_owned(),
        "/a/root".to_owned(),
        "/accounts/root".to_owned(),
        "/login".to_owned(),
        "/about/instance".to_owned(),
    ];
    for p in &pages {
        let body = html(anon.get(p), 200);
        assert!(!body.contains("<script>alert"), "{p}: unescaped title");
        assert!(!body.contains("<img src=x"), "{p}: unescaped markup");
        assert!(!body.contains("href=\"javascript:"), "{p}: unsafe link");
        assert!(
            !body.contains("/assets/missing"),
            "{p}: names a missing asset"
        );
    }

    let watch = html(anon.get(&format!("/w/{short}")), 200);
    assert!(watch.len() < 50_000, "watch page is {} bytes", watch.len());
    assert!(watch.contains("<strong>Bold</strong>"), "Markdown rendered");
    assert!(
        watch.contains("&lt;script&gt;alert"),
        "raw HTML shown as text"
    );
    assert!(watch.contains(r#"rel="nofollow noopener noreferrer""#));
    assert!(watch.contains(r#"<meta property="og:title" content="Cats &#60;script&#62;"#));
    assert!(watch.contains(r#"<meta name="twitter:card" content="player">"#));
    assert!(watch.contains(&format!(
        r#"<meta property="og:video:url" content="{}/videos/embed/{uuid}">"#,
        s.url
    )));
    assert!(watch.contains("application/json+oembed"));
    assert!(watch.contains(&format!(
        "&#34;hls&#34;:&#34;/static/streaming-playlists/hls/{uuid}/master.m3u8&#34;"
    )));
    let start = html(anon.get(&format!("/videos/watch/{uuid}?start=1m30s")), 200);
    // The clip is shorter than 90 s: the start is kept inside it.
    assert!(
        start.contains("&#34;start&#34;:"),
        "start in the player config"
    );

    let home = html(anon.get("/"), 200);
    assert!(
        home.contains(&format!(r#"href="/w/{short}""#)),
        "home lists the video"
    );
    assert!(
        home.contains("0:0") && home.contains("0 views"),
        "card facts"
    );
    let search = html(anon.get("/search?search=cats"), 200);
    assert!(search.contains("1 result"), "search finds it");
    assert!(search.contains(&format!(r#"href="/w/{short}""#)));

    let embed = anon.get(&format!("/videos/embed/{uuid}"));
    let csp = embed.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    let embed = html(embed, 200);
    assert!(embed.contains(r#"id="player""#) && !embed.contains("class=\"top\""));
    let page_csp = anon.get("/").headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(page_csp.contains("frame-ancestors 'none'"), "{page_csp}");

    // Missing things: pages with the API's status codes.
    for p in [
        "/w/nonexistent".to_owned(),
        "/videos/watch/0b7a4b4e-6a43-4e44-8e5b-6f8f4d0c2f3a".to_owned(),
        format!("/w/{}", "x".repeat(5000)),
        "/c/nobody".to_owned(),
        "/a/nobody".to_owned(),
        "/no/such/page".to_owned(),
    ] {
        let body = html(anon.get(&p), 404);
        assert!(body.contains("not found"), "{p}: {body}");
    }
    // API clients still get problem documents for unknown paths.
    let r = s.get("/no/such/page").send().unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("json")
    );
    // Hostile query strings are still pages.
    for p in [
        "/search?search=%00%FF",
        "/?page=-1",
        "/search?search=a&page=abc",
    ] {
        let status = anon.get(p).status();
        assert!(status == 200 || status == 400, "{p}: {status}");
    }
}

#[test]
fn private_videos_get_login_and_forbidden_pages_and_oembed_only_serves_public_ones() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let token = s.root_token();
    let private = upload(&s, &token, "Secret cats", "hidden", 3);
    let public = upload(&s, &token, "Open cats", "seen", 1);
    let (pu, ps) = (
        private["uuid"].as_str().unwrap(),
        private["shortUUID"].as_str().unwrap(),
    );
    let mut anon = Visitor::new(&s);
    let body = html(anon.get(&format!("/w/{ps}")), 401);
    assert!(
        body.contains("private") && body.contains(r#"href="/login""#),
        "{body}"
    );
    html(anon.get(&format!("/videos/embed/{pu}")), 401);
    assert!(!html(anon.get("/"), 200).contains("Secret cats"));

    s.create_user(&token, "bob", "bobpassword1", 2);
    let mut bob = Visitor::new(&s);
    assert_eq!(bob.log_in("bob", "bobpassword1").status(), 303);
    html(bob.get(&format!("/w/{ps}")), 403);

    let mut root = Visitor::new(&s);
    assert_eq!(root.log_in("root", ROOT_PASSWORD).status(), 303);
    let watch = html(root.get(&format!("/w/{ps}")), 200);
    assert!(watch.contains(r#"<meta name="robots" content="noindex">"#));
    // The owner's player reads the private files with the session cookie alone.
    let master = root
        .http
        .get(format!(
            "{}/static/streaming-playlists/hls/{pu}/master.m3u8",
            s.url
        ))
        .header(header::COOKIE, root.cookie_header())
        .send()
        .unwrap();
    assert_eq!(master.status(), 200);
    let anon_master = s
        .get(&format!("/static/streaming-playlists/hls/{pu}/master.m3u8"))
        .send()
        .unwrap();
    assert_eq!(anon_master.status(), 403);

    let oembed_with = |url: &str, format: &str| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("url", url)
            .append_pair("format", format)
            .finish();
        s.get(&format!("/services/oembed?{q}")).send().unwrap()
    };
    let oembed = |url: &str| oembed_with(url, "json");
    let r = oembed(&format!(
        "{}/w/{}",
        s.url,
        public["shortUUID"].as_str().unwrap()
    ));
    assert_eq!(r.status(), 200);
    let o: Value = r.json().unwrap();
    assert_eq!(o["type"], "video");
    assert_eq!(o["title"], "Open cats");
    let iframe = o["html"].as_str().unwrap();
    assert!(
        iframe.starts_with("<iframe") && iframe.contains("/videos/embed/"),
        "{iframe}"
    );
    assert_eq!(oembed(&format!("{}/w/{ps}", s.url)).status(), 401);
    assert_eq!(oembed("https://elsewhere.example/w/abc").status(), 400);
    assert_eq!(
        oembed_with(&format!("{}/w/{ps}", s.url), "xml").status(),
        501
    );
}

fn decompress(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "br" => {
            brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap();
        }
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        _ => out.extend_from_slice(body),
    }
    out
}

#[test]
fn assets_are_hashed_immutable_compressed_and_revalidated() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let home = html(Visitor::new(&s).get("/"), 200);
    let css = home
        .split("href=\"")
        .filter_map(|p| p.split('"').next())
        .find(|u| u.starts_with("/assets/style."))
        .unwrap()
        .to_owned();
    assert!(
        css.ends_with(".css") && css.len() > "/assets/style..css".len() + 8,
        "{css}"
    );
    let plain = s
        .get(&css)
        .header(header::ACCEPT_ENCODING, "identity")
        .send()
        .unwrap();
    assert_eq!(plain.status(), 200);
    let h = plain.headers().clone();
    assert_eq!(
        h[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(h.get(header::CONTENT_ENCODING).is_none());
    let etag = h[header::ETAG].to_str().unwrap().to_owned();
    let original = plain.bytes().unwrap().to_vec();
    for encoding in ["br", "gzip"] {
        let r = s
            .get(&css)
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
            .unwrap();
        assert_eq!(r.headers()[header::CONTENT_ENCODING], encoding);
        assert_eq!(r.headers()[header::VARY], "Accept-Encoding");
        let tag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert_ne!(tag, etag, "each encoding has its own strong ETag");
        let body = r.bytes().unwrap().to_vec();
        assert!(
            body.len() < original.len() / 2,
            "{encoding}: {}",
            body.len()
        );
        assert_eq!(decompress(encoding, &body), original);
    }
    let again = s
        .get(&css)
        .header(header::ACCEPT_ENCODING, "identity")
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(
        s.get("/assets/style.0000000000000000.css")
            .send()
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        s.get("/assets/..%2F..%2Fetc%2Fpasswd")
            .send()
            .unwrap()
            .status(),
        404
    );
}

#[test]
fn login_logout_csrf_cookie_api_access_and_ended_sessions() {
    let dir = tempdir();
    // Access tokens live 1 s and refresh tokens 3 s, so renewal and expiry happen in the test.
    let s = Server::start_with(
        dir.path(),
        &[
            ("VIREO_AUTH__ACCESS_TOKEN_LIFETIME_SECS", "1"),
            ("VIREO_AUTH__REFRESH_TOKEN_LIFETIME_SECS", "3"),
        ],
    );
    let mut v = Visitor::new(&s);
    let r = v.get("/videos/upload");
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()[header::LOCATION],
        "/login?next=%2Fvideos%2Fupload"
    );
    let csrf = v.csrf();
    let set = v.get("/login");
    drop(set);

    // No or a wrong CSRF token: refused, nothing logged in.
    for token in ["", "0123456789abcdef0123456789abcdef"] {
        let r = v.post_form(
            "/login",
            &[
                ("username", "root"),
                ("password", ROOT_PASSWORD),
                ("csrf", token),
            ],
        );
        let body = html(r, 403);
        assert!(body.contains("expired"), "{body}");
        assert!(!v.cookies.contains_key("vireo_session"));
    }
    // A wrong password: the form again, with the username kept and escaped.
    let r = v.post_form(
        "/login",
        &[
            ("username", "<root>"),
            ("password", "nope"),
            ("csrf", &csrf),
        ],
    );
    let body = html(r, 401);
    assert!(body.contains("Incorrect username or password"));
    assert!(body.contains(r#"value="&#60;root&#62;""#), "{body}");
    assert!(!v.cookies.contains_key("vireo_session"));
    // A malformed form body is a page, not a crash.
    let r = v
        .http
        .post(format!("{}/login", s.url))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, v.cookie_header())
        .body("%%%=%")
        .send()
        .unwrap();
    assert!(r.status().is_client_error());

    // The right password: a session cookie, and back where the visitor was going.
    let r = v.log_in("root", ROOT_PASSWORD);
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[header::LOCATION], "/videos/upload");
    let cookie = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("vireo_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_ne!(
        v.cookies["vireo_csrf"], csrf,
        "a new CSRF token after login"
    );
    let csrf = v.cookies["vireo_csrf"].clone();
    let upload = html(v.get("/videos/upload"), 200);
    assert!(upload.contains("Main root channel") && upload.contains("Log out"));

    // The API takes the cookie: reads alone, writes only with the CSRF header.
    let api = |v: &Visitor, method: reqwest::Method, path: &str, csrf: Option<&str>| {
        let mut b = v
            .http
            .request(method, format!("{}{path}", s.url))
            .header(header::COOKIE, v.cookie_header());
        if let Some(c) = csrf {
            b = b.header("X-CSRF-Token", c);
        }
        b.json(&json!({"channelId": 1, "name": "x", "filename": "x.mp4"}))
            .send()
            .unwrap()
    };
    let me = api(&v, reqwest::Method::GET, "/api/v1/users/me", None);
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().unwrap()["username"], "root");
    let start = "/api/v1/videos/upload-resumable";
    assert_eq!(api(&v, reqwest::Method::POST, start, None).status(), 401);
    assert_eq!(
        api(&v, reqwest::Method::POST, start, Some("bad")).status(),
        401
    );
    // With the token the request is the user's (and fails only for the missing size header).
    assert_eq!(
        api(&v, reqwest::Method::POST, start, Some(&csrf)).status(),
        400
    );

    // The access token expires; the next page renews it from the refresh token.
    std::thread::sleep(std::time::Duration::from_millis(1300));
    let old = v.cookies["vireo_session"].clone();
    let page = html(v.get("/"), 200);
    assert!(page.contains("Log out"), "still logged in");
    assert_ne!(v.cookies["vireo_session"], old, "renewed");
    // Both expire: anonymous again, told so, the cookie removed.
    std::thread::sleep(std::time::Duration::from_millis(3300));
    let page = html(v.get("/"), 200);
    assert!(page.contains("Your session has ended"), "{page}");
    assert!(!page.contains("Log out"));
    assert!(!v.cookies.contains_key("vireo_session"));

    // Logging out needs the token too, and revokes the session.
    v.log_in("root", ROOT_PASSWORD);
    let session = v.cookies["vireo_session"].clone();
    let csrf = v.cookies["vireo_csrf"].clone();
    html(v.post_form("/logout", &[("csrf", "")]), 403);
    let r = v.post_form("/logout", &[("csrf", &csrf)]);
    assert_eq!(r.status(), 303);
    assert!(!v.cookies.contains_key("vireo_session"));
    v.cookies.insert("vireo_session".into(), session);
    let page = html(v.get("/"), 200);
    assert!(page.contains("Your session has ended") && !page.contains("Log out"));

    // `next` never leaves the site.
    let csrf = v.csrf();
    let r = v.post_form(
        "/login",
        &[
            ("username", "root"),
            ("password", ROOT_PASSWORD),
            ("csrf", &csrf),
            ("next", "//evil.example/"),
        ],
    );
    assert_eq!(r.headers()[header::LOCATION], "/");
}

/// A small PNG for the thumbnail field.
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 36, image::Rgb([200, 40, 40]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn my_videos_edit_and_delete_through_the_forms() {
    use reqwest::blocking::multipart::{Form, Part};
    let dir = tempdir();
    let s = Server::start(dir.path());
    let token = s.root_token();
    let v = upload(&s, &token, "Before the edit", "old words", 1);
    let (uuid, short) = (
        v["uuid"].as_str().unwrap().to_owned(),
        v["shortUUID"].as_str().unwrap().to_owned(),
    );
    let mut root = Visitor::new(&s);
    assert_eq!(root.get("/my-library/videos").status(), 303, "login first");
    root.log_in("root", ROOT_PASSWORD);
    let list = html(root.get("/my-library/videos"), 200);
    assert!(list.contains("Before the edit") && list.contains(&format!("/videos/update/{short}")));
    let form = html(root.get(&format!("/videos/update/{short}")), 200);
    assert!(form.contains("old words") && form.contains(r#"name="thumbnailfile""#));
    let before = s.get_json(&format!("/api/v1/videos/{uuid}"));

    let post = |v: &Visitor, path: &str, form: Form| {
        v.http
            .post(format!("{}{path}", s.url))
            .header(header::COOKIE, v.cookie_header())
            .multipart(form)
            .send()
            .unwrap()
    };
    let csrf = root.cookies["vireo_csrf"].clone();
    let edit = |csrf: &str, privacy: &str| {
        Form::new()
            .text("csrf", csrf.to_owned())
            .text("name", "<i>After</i> the edit")
            .text("description", "new **words**")
            .text("tagsLine", "cats,  dogs ,")
            .text("privacy", privacy.to_owned())
            .text("nsfw", "false")
            .text("nsfw", "true")
            .part(
                "thumbnailfile",
                Part::bytes(png())
                    .file_name("t.png")
                    .mime_str("image/png")
                    .unwrap(),
            )
    };
    let path = format!("/videos/update/{short}");
    html(post(&root, &path, edit("", "2")), 403);
    let bad = html(post(&root, &path, edit(&csrf, "42")), 400);
    assert!(bad.contains("privacy"), "{bad}");
    let unchanged = s.get_json(&format!("/api/v1/videos/{uuid}"));
    assert_eq!(
        unchanged["name"], "Before the edit",
        "nothing stored from a refused form"
    );
    // An empty file input sends an empty part: no new thumbnail, no error.
    let no_file = Form::new()
        .text("csrf", csrf.clone())
        .text("name", "Before the edit")
        .part("thumbnailfile", Part::bytes(Vec::new()).file_name(""));
    assert_eq!(post(&root, &path, no_file).status(), 303);
    let r = post(&root, &path, edit(&csrf, "2"));
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()[header::LOCATION],
        "/my-library/videos?done=saved"
    );
    let after = s.get_json(&format!("/api/v1/videos/{uuid}"));
    assert_eq!(after["name"], "<i>After</i> the edit");
    assert_eq!(after["description"], "new **words**");
    assert_eq!(after["tags"], json!(["cats", "dogs"]));
    assert_eq!(after["privacy"]["id"], 2);
    assert_eq!(after["nsfw"], true);
    assert_ne!(
        after["thumbnailPath"], before["thumbnailPath"],
        "a new thumbnail"
    );
    let list = html(root.get("/my-library/videos?done=saved"), 200);
    assert!(list.contains("&#60;i&#62;After&#60;/i&#62; the edit") && list.contains("saved"));

    // Another user may neither edit nor delete it.
    s.create_user(&token, "eve", "evepassword1", 2);
    let mut eve = Visitor::new(&s);
    eve.log_in("eve", "evepassword1");
    let eve_csrf = eve.cookies["vireo_csrf"].clone();
    html(eve.get(&path), 403);
    html(post(&eve, &path, edit(&eve_csrf, "1")), 403);
    html(
        eve.post_form(&format!("{path}/delete"), &[("csrf", &eve_csrf)]),
        403,
    );

    html(
        root.post_form(&format!("{path}/delete"), &[("csrf", "nope")]),
        403,
    );
    let r = root.post_form(&format!("{path}/delete"), &[("csrf", &csrf)]);
    assert_eq!(r.status(), 303);
    assert_eq!(
        s.get(&format!("/api/v1/videos/{uuid}"))
            .send()
            .unwrap()
            .status(),
        404
    );
    assert!(html(root.get("/my-library/videos"), 200).contains("not uploaded any video"));
}

#[test]
fn signing_up_through_the_form_creates_and_logs_in_the_account() {
    let dir = tempdir();
    let closed = Server::start_with(dir.path(), &[("VIREO_SIGNUP__ENABLED", "false")]);
    let body = html(Visitor::new(&closed).get("/signup"), 403);
    assert!(body.contains("does not take new accounts"));
    drop(closed);

    let dir = tempdir();
    let s = Server::start_with(dir.path(), &[("VIREO_SIGNUP__ENABLED", "true")]);
    let mut v = Visitor::new(&s);
    assert!(html(v.get("/"), 200).contains(r#"href="/signup""#));
    let csrf = v.csrf();
    let form = |name: &str, csrf: &str| {
        vec![
            ("username".to_owned(), name.to_owned()),
            ("email".to_owned(), format!("{}@example.org", name.len())),
            ("password".to_owned(), "a-good-password".to_owned()),
            ("display_name".to_owned(), "<Alice>".to_owned()),
            ("csrf".to_owned(), csrf.to_owned()),
        ]
    };
    let send = |v: &mut Visitor, f: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        v.post_form("/signup", &pairs)
    };
    html(send(&mut v, form("alice", "")), 403);
    let bad = html(send(&mut v, form("Not A Name", &csrf)), 400);
    assert!(
        bad.contains("username") && bad.contains(r#"value="&#60;Alice&#62;""#),
        "{bad}"
    );
    let r = send(&mut v, form("alice", &csrf));
    assert_eq!(r.status(), 303, "{:?}", r.text());
    assert!(html(v.get("/videos/upload"), 200).contains("alice"));
    let mut other = Visitor::new(&s);
    let csrf = other.csrf();
    let taken = send(&mut other, form("alice", &csrf));
    assert_eq!(taken.status(), 409);
    let token = s.login("alice", "a-good-password");
    assert!(
        token["access_token"].is_string(),
        "the account logs in through the API too"
    );
}

#[test]
fn feeds_list_public_videos_as_rss_and_atom_per_instance_channel_and_account() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let token = s.root_token();
    upload(&s, &token, "Feed me <now>", "**fed** words", 1);
    upload(&s, &token, "Not for feeds", "private", 3);
    let get = |path: &str| s.get(path).send().unwrap();

    let r = get("/feeds/videos.xml");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/rss+xml")
    );
    let channel = rss::Channel::read_from(&r.bytes().unwrap()[..]).unwrap();
    assert_eq!(channel.items().len(), 1, "private videos stay out");
    let item = &channel.items()[0];
    assert_eq!(item.title(), Some("Feed me <now>"));
    assert!(item.link().unwrap().starts_with(&format!("{}/w/", s.url)));
    assert!(item.description().unwrap().contains("<strong>fed</strong>"));
    let enclosure = item.enclosure().unwrap();
    assert_eq!(enclosure.mime_type(), "video/mp4");
    assert!(enclosure.length().parse::<u64>().unwrap() > 100_000);
    let file = enclosure.url().strip_prefix(&s.url).unwrap().to_owned();
    assert_eq!(get(&file).status(), 200, "the enclosure downloads");
    assert!(item.pub_date().unwrap().ends_with("+0000"));

    for scoped in [
        "/feeds/videos.xml?videoChannelName=root_channel",
        "/feeds/videos.xml?accountName=root",
        "/feeds/videos.xml?accountId=1",
    ] {
        let c = rss::Channel::read_from(&get(scoped).bytes().unwrap()[..]).unwrap();
        assert_eq!(c.items().len(), 1, "{scoped}");
    }
    let atom = get("/feeds/videos.xml?videoChannelName=root_channel&format=atom");
    assert!(
        atom.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let feed = atom_syndication::Feed::read_from(&atom.bytes().unwrap()[..]).unwrap();
    assert_eq!(feed.entries().len(), 1);
    assert_eq!(feed.entries()[0].title().as_str(), "Feed me <now>");
    assert!(
        feed.entries()[0]
            .links()
            .iter()
            .any(|l| l.rel() == "enclosure")
    );
    assert_eq!(
        get("/feeds/videos.xml?videoChannelName=nobody").status(),
        404
    );
    assert_eq!(get("/feeds/videos.xml?videoChannelId=abc").status(), 400);
    assert_eq!(get("/feeds/videos.xml?format=json5").status(), 400);
    // Pages name their feeds.
    let page = html(Visitor::new(&s).get("/c/root_channel"), 200);
    assert!(page.contains("/feeds/videos.xml?videoChannelName=root_channel"));
}

#[test]
fn administrators_list_create_block_and_unblock_users() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let token = s.root_token();
    let carol_id = s.create_user(&token, "carol", "carolpassword", 2);
    let mut anon = Visitor::new(&s);
    assert_eq!(anon.get("/admin/users").status(), 303);
    let mut carol = Visitor::new(&s);
    carol.log_in("carol", "carolpassword");
    html(carol.get("/admin/users"), 403);
    html(carol.get("/admin/settings"), 403);
    let carol_csrf = carol.cookies["vireo_csrf"].clone();
    html(
        carol.post_form(
            "/admin/users",
            &[
                ("csrf", &carol_csrf),
                ("username", "mallory"),
                ("email", "m@example.org"),
                ("password", "password1"),
                ("role", "0"),
            ],
        ),
        403,
    );

    let mut root = Visitor::new(&s);
    root.log_in("root", ROOT_PASSWORD);
    let page = html(root.get("/admin/users"), 200);
    assert!(page.contains("carol") && page.contains("carol@example.org"));
    assert!(html(root.get("/admin/users?search=car"), 200).contains("carol"));
    assert!(!html(root.get("/admin/users?search=zzz"), 200).contains("carol@"));
    let csrf = root.cookies["vireo_csrf"].clone();
    let create = |v: &mut Visitor, name: &str, password: &str, csrf: &str| {
        v.post_form(
            "/admin/users",
            &[
                ("csrf", csrf),
                ("username", name),
                ("email", &format!("{name}@example.org")),
                ("password", password),
                ("role", "2"),
            ],
        )
    };
    html(create(&mut root, "dave", "davepassword", ""), 403);
    let short = html(create(&mut root, "dave", "123", &csrf), 400);
    assert!(short.contains("password"), "{short}");
    let r = create(&mut root, "dave", "davepassword", &csrf);
    assert_eq!(r.status(), 303);
    assert!(html(root.get("/admin/users?done=created"), 200).contains("dave@example.org"));
    assert!(s.login("dave", "davepassword")["access_token"].is_string());

    // Blocking ends carol's sessions; unblocking lets her log in again.
    let r = root.post_form(
        &format!("/admin/users/{carol_id}/block"),
        &[("csrf", &csrf), ("reason", "spam <b>links</b>")],
    );
    assert_eq!(r.status(), 303);
    let page = html(root.get("/admin/users?done=blocked"), 200);
    assert!(page.contains("spam &#60;b&#62;links&#60;/b&#62;"), "{page}");
    assert!(html(carol.get("/"), 200).contains("Your session has ended"));
    assert_eq!(s.login_response("carol", "carolpassword").status(), 400);
    let r = root.post_form(
        &format!("/admin/users/{carol_id}/unblock"),
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status(), 303);
    assert!(s.login("carol", "carolpassword")["access_token"].is_string());
    // Root cannot be blocked (nor can anyone block themselves): refused, whoever asks.
    html(
        root.post_form("/admin/users/1/block", &[("csrf", &csrf)]),
        400,
    );
    assert!(!html(root.get("/admin/users"), 200).contains(r#"action="/admin/users/1/block""#));
}

#[test]
fn the_settings_form_changes_the_instance_at_once_keeps_refused_input_and_restores_the_file() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let token = s.root_token();
    s.create_user(&token, "mona", "monapassword", 1);
    s.create_user(&token, "ursula", "ursulapassword", 2);
    let mut user = Visitor::new(&s);
    user.log_in("ursula", "ursulapassword");
    html(user.get("/admin/settings"), 403);
    // A moderator sees the settings without the form, and cannot post it.
    let mut moderator = Visitor::new(&s);
    moderator.log_in("mona", "monapassword");
    let page = html(moderator.get("/admin/settings"), 200);
    assert!(page.contains("<fieldset disabled>") && !page.contains(">Save</button>"));
    let mod_csrf = moderator.cookies["vireo_csrf"].clone();
    html(
        moderator.post_form("/admin/settings", &[("csrf", &mod_csrf), ("name", "Mine")]),
        403,
    );

    // A form sent once the session has ended leads to the login form, then back here.
    let mut gone = Visitor::new(&s);
    html(gone.get("/login"), 200);
    let gone_csrf = gone.cookies["vireo_csrf"].clone();
    let r = gone.post_form("/admin/settings", &[("csrf", &gone_csrf), ("name", "X")]);
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fadmin%2Fsettings");

    let mut root = Visitor::new(&s);
    root.log_in("root", ROOT_PASSWORD);
    let page = html(root.get("/admin/settings"), 200);
    assert!(page.contains(r#"name="name" value="Vireo""#), "{page}");
    assert!(page.contains("server.public_url") && !page.contains(r#"class="set-here""#));
    let csrf = root.cookies["vireo_csrf"].clone();
    let form = |name: &str, rung: &str, quota: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("name".to_owned(), name.to_owned()),
            ("short_description".to_owned(), "Films of birds".to_owned()),
            ("description".to_owned(), "We film **birds**.".to_owned()),
            ("terms".to_owned(), String::new()),
            ("default_nsfw_policy".to_owned(), "blur".to_owned()),
            ("signup_enabled".to_owned(), "on".to_owned()),
            ("signup_limit".to_owned(), "-1".to_owned()),
            ("minimum_age".to_owned(), "16".to_owned()),
            ("video_quota".to_owned(), quota.to_owned()),
            ("video_quota_daily".to_owned(), "-1".to_owned()),
            ("transcoding_enabled".to_owned(), "on".to_owned()),
            ("rung".to_owned(), rung.to_owned()),
            ("rung".to_owned(), "240".to_owned()),
            ("max_concurrent_uploads".to_owned(), "2".to_owned()),
            ("max_queued_minutes".to_owned(), "30".to_owned()),
        ]
    };
    let post = |v: &mut Visitor, pairs: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        v.post_form("/admin/settings", &pairs)
    };
    let mut no_csrf = form("Birds", "360", "-1");
    no_csrf[0].1 = String::new();
    html(post(&mut root, no_csrf), 403);

    // Refused: the page comes back with a 400, the reason, and what was typed.
    let refused = html(post(&mut root, form("Typed <name>", "100", "-1")), 400);
    assert!(refused.contains("144 to 4320"), "{refused}");
    assert!(
        refused.contains(r#"value="Typed &#60;name&#62;""#),
        "{refused}"
    );
    let refused = html(post(&mut root, form("Typed", "360", "lots")), 400);
    assert!(
        refused.contains("video quota must be a whole number"),
        "{refused}"
    );
    let config = s.get_json("/api/v1/config");
    assert_eq!(config["instance"]["name"], "Vireo");

    let r = post(&mut root, form("Birds <&> Bees", "360", "1000000"));
    assert_eq!(r.status(), 303);
    let page = html(root.get("/admin/settings?done=saved"), 200);
    assert!(page.contains("are saved and in force") && page.contains(r#"class="set-here""#));
    assert!(
        page.contains(r#"name="rung" value="360" checked"#),
        "{page}"
    );
    assert!(page.contains(r#"name="rung" value="1080">"#), "{page}");
    assert!(
        page.contains(r#"name="max_queued_minutes" type="number" min="-1" step="1" value="30""#),
        "{page}"
    );
    assert!(
        page.contains(r#"name="max_concurrent_uploads" type="number" min="1" step="1" value="2""#)
    );
    // Every page and the API see it at once; anonymous visitors get the sign-up link.
    let home = html(Visitor::new(&s).get("/"), 200);
    assert!(home.contains("Birds &#60;&#38;&#62; Bees"), "{home}");
    assert!(home.contains("/signup"));
    let config = s.get_json("/api/v1/config");
    assert_eq!(config["instance"]["name"], "Birds <&> Bees");
    assert_eq!(config["instance"]["defaultNSFWPolicy"], "blur");
    assert_eq!(
        config["transcoding"]["enabledResolutions"],
        json!([240, 360])
    );
    assert_eq!(config["user"]["videoQuota"], 1_000_000);
    // The about page shows the new texts, the Markdown rendered.
    let about = html(Visitor::new(&s).get("/about/instance"), 200);
    assert!(
        about.contains("<h1>Birds &#60;&#38;&#62; Bees</h1>"),
        "{about}"
    );
    assert!(about.contains("We film <strong>birds</strong>."), "{about}");
    assert!(about.contains("has not written its terms yet"));
    assert!(home.contains(r#"href="/about/instance""#));

    // Restoring the file's values.
    html(
        root.post_form("/admin/settings/restore", &[("csrf", "")]),
        403,
    );
    let r = root.post_form("/admin/settings/restore", &[("csrf", &csrf)]);
    assert_eq!(r.status(), 303);
    let page = html(root.get("/admin/settings?done=restored"), 200);
    assert!(!page.contains(r#"class="set-here""#) && page.contains(r#"value="Vireo""#));
    assert!(!html(Visitor::new(&s).get("/"), 200).contains("/signup"));
}

#[test]
fn my_account_settings_and_password_change() {
    let dir = tempdir();
    let s = Server::start(dir.path());
    let token = s.root_token();
    s.create_user(&token, "frank", "frankpassword", 2);
    let mut v = Visitor::new(&s);
    assert_eq!(v.get("/my-account/settings").status(), 303);
    v.log_in("frank", "frankpassword");
    let page = html(v.get("/my-account/settings"), 200);
    assert!(page.contains("frank@example.org") && page.contains(r#"value="do_not_list" selected"#));
    let csrf = v.cookies["vireo_csrf"].clone();
    let profile = |v: &mut Visitor, csrf: &str, nsfw: &str| {
        v.post_form(
            "/my-account/settings",
            &[
                ("csrf", csrf),
                ("display_name", "<Frank>"),
                ("description", "I film **trains**."),
                ("nsfw_policy", nsfw),
            ],
        )
    };
    html(profile(&mut v, "", "blur"), 403);
    html(profile(&mut v, &csrf, "sometimes"), 400);
    assert_eq!(profile(&mut v, &csrf, "blur").status(), 303);
    let api_token = s.login("frank", "frankpassword")["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = s.me(&api_token);
    assert_eq!(me["nsfwPolicy"], "blur");
    assert_eq!(me["account"]["displayName"], "<Frank>");
    let public = html(v.get("/a/frank"), 200);
    assert!(public.contains("&#60;Frank&#62;") && public.contains("<strong>trains</strong>"));

    let change = |v: &mut Visitor, current: &str| {
        let csrf = v.cookies["vireo_csrf"].clone();
        v.post_form(
            "/my-account/password",
            &[
                ("csrf", csrf.as_str()),
                ("current_password", current),
                ("new_password", "a-newer-password"),
            ],
        )
    };
    let wrong = html(change(&mut v, "not-it"), 400);
    assert!(wrong.contains("current password"), "{wrong}");
    let r = change(&mut v, "frankpassword");
    assert_eq!(r.status(), 303);
    let page = html(v.get("/my-account/settings?done=password"), 200);
    assert!(page.contains("Log out") && page.contains("password is changed"));
    // The page's own session stays; every other one ended.
    let r = s
        .get("/api/v1/users/me")
        .bearer_auth(&api_token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401, "the API session ended");
    assert_eq!(s.login_response("frank", "frankpassword").status(), 400);
    assert!(s.login("frank", "a-newer-password")["access_token"].is_string());
}

#[test]
fn the_federation_page_follows_answers_and_blocks() {
    let lab = [("VIREO_FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true")];
    let (da, db) = (tempdir(), tempdir());
    let a = Server::start_with(da.path(), &lab);
    let b = Server::start_with(db.path(), &lab);
    let host_a = a.url.trim_start_matches("http://").to_owned();
    let host_b = b.url.trim_start_matches("http://").to_owned();
    let tb = b.root_token();
    b.create_user(&tb, "carol", "carolpassword", 2);
    b.create_user(&tb, "mo", "mopassword", 1);

    // Who sees it: not visitors, not users; moderators without the follow forms.
    assert_eq!(Visitor::new(&b).get("/admin/federation").status(), 303);
    let mut carol = Visitor::new(&b);
    carol.log_in("carol", "carolpassword");
    html(carol.get("/admin/federation"), 403);
    let mut mo = Visitor::new(&b);
    mo.log_in("mo", "mopassword");
    let page = html(mo.get("/admin/federation"), 200);
    assert!(page.contains("Block a server") && !page.contains("Follow an instance"));
    let csrf = mo.csrf();
    let r = mo.post_form(
        "/admin/federation",
        &[("csrf", &csrf), ("action", "follow"), ("target", &host_a)],
    );
    html(r, 403);

    // The administrator of B follows A; A's administrator sees the follower, rejects it; B's
    // page shows it rejected.
    let mut root_b = Visitor::new(&b);
    root_b.log_in("root", ROOT_PASSWORD);
    let csrf_b = root_b.csrf();
    let r = root_b.post_form(
        "/admin/federation",
        &[
            ("csrf", &csrf_b),
            ("action", "follow"),
            ("target", "not a host"),
        ],
    );
    assert!(html(r, 400).contains("is not a host"));
    let r = root_b.post_form(
        "/admin/federation",
        &[("csrf", &csrf_b), ("action", "follow"), ("target", &host_a)],
    );
    assert_eq!(r.status(), 303);
    let handle_a = format!("peertube@{host_a}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !html(root_b.get("/admin/federation"), 200).contains("accepted") {
        assert!(std::time::Instant::now() < deadline, "never accepted");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(html(root_b.get("/admin/federation"), 200).contains(&handle_a));
    let mut root_a = Visitor::new(&a);
    root_a.log_in("root", ROOT_PASSWORD);
    let page = html(root_a.get("/admin/federation"), 200);
    let handle_b = format!("peertube@{host_b}");
    assert!(page.contains(&handle_b), "{page}");
    let csrf_a = root_a.csrf();
    let r = root_a.post_form(
        "/admin/federation",
        &[
            ("csrf", &csrf_a),
            ("action", "reject"),
            ("target", &handle_b),
        ],
    );
    assert_eq!(r.status(), 303);
    while !html(root_b.get("/admin/federation"), 200).contains("rejected") {
        assert!(std::time::Instant::now() < deadline, "never rejected");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let r = root_b.post_form(
        "/admin/federation",
        &[
            ("csrf", &csrf_b),
            ("action", "unfollow"),
            ("target", &handle_a),
        ],
    );
    assert_eq!(r.status(), 303);
    assert!(
        html(root_b.get("/admin/federation?done=unfollow"), 200)
            .contains("This instance follows no one")
    );

    // The moderator blocks a server and an account, and unblocks them.
    for (action, target) in [("block-server", "spam.example"), ("block-account", "carol")] {
        let r = mo.post_form(
            "/admin/federation",
            &[("csrf", &csrf), ("action", action), ("target", target)],
        );
        assert_eq!(r.status(), 303, "{action}");
    }
    let page = html(mo.get("/admin/federation?done=blocked"), 200);
    assert!(page.contains("Server spam.example"), "{page}");
    assert!(page.contains(&format!("Account carol@{host_b}")), "{page}");
    let again = mo.post_form(
        "/admin/federation",
        &[
            ("csrf", &csrf),
            ("action", "block-server"),
            ("target", "spam.example"),
        ],
    );
    assert!(html(again, 400).contains("already blocked"));
    for (action, target) in [
        ("unblock-server", "spam.example".to_owned()),
        ("unblock-account", format!("carol@{host_b}")),
    ] {
        let r = mo.post_form(
            "/admin/federation",
            &[("csrf", &csrf), ("action", action), ("target", &target)],
        );
        assert_eq!(r.status(), 303, "{action}");
    }
    assert!(html(mo.get("/admin/federation"), 200).contains("Nothing is blocked."));
}

fn location(r: &Response) -> String {
    r.headers()[header::LOCATION].to_str().unwrap().to_owned()
}

/// "Follow from your server" between two real servers: a visitor of A's channel page names its
/// account on B; A finds B's remote-follow page by WebFinger and sends the browser there; B's
/// administrator, logged in, confirms, and B follows A's channel. Bad handles and unreachable
/// servers send the visitor back to the page, told why.
#[test]
fn follow_from_your_server_goes_from_the_channel_page_to_the_follower_s_server() {
    use crate::common::{LAB, host};
    let (da, db) = (tempdir(), tempdir());
    let a = Server::start_with(da.path(), &[LAB]);
    let b = Server::start_with(db.path(), &[LAB]);
    let (host_a, host_b) = (host(&a), host(&b));
    let tb = b.root_token();
    b.create_user(&tb, "carol", "carolpassword", 2);

    // The form on A's channel and account pages.
    let mut visitor = Visitor::new(&a);
    let page = html(visitor.get("/c/root_channel"), 200);
    assert!(page.contains("Follow from your server"), "{page}");
    assert!(html(visitor.get("/a/root"), 200).contains("Follow from your server"));
    // A bad handle, an unreachable server, an unknown actor.
    let r = visitor.get("/remote-follow?actor=root_channel&account=nonsense");
    assert_eq!(r.status(), 303);
    let back = location(&r);
    assert_eq!(back, "/c/root_channel?follow_error=handle");
    assert!(html(visitor.get(&back), 200).contains("Give your account as name@server"));
    let r = visitor.get("/remote-follow?actor=root_channel&account=someone@127.0.0.1:1");
    assert_eq!(location(&r), "/c/root_channel?follow_error=unreachable");
    let r = visitor.get(&format!(
        "/remote-follow?actor=nobody&account=root@{host_b}"
    ));
    assert_eq!(r.status(), 404);

    // root@B: sent to B's page, with A's channel.
    let r = visitor.get(&format!(
        "/remote-follow?actor=root_channel&account=root@{host_b}"
    ));
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let channel = format!("{}/video-channels/root_channel", a.url);
    let encoded: String = url::form_urlencoded::byte_serialize(channel.as_bytes()).collect();
    assert_eq!(to, format!("{}/authorize_interaction?uri={encoded}", b.url));
    let path = to.strip_prefix(&b.url).unwrap().to_owned();

    // On B: log in first; a user is told whom to ask; the administrator follows.
    let mut root_b = Visitor::new(&b);
    assert_eq!(root_b.get(&path).status(), 303);
    let mut carol = Visitor::new(&b);
    carol.log_in("carol", "carolpassword");
    assert!(html(carol.get(&path), 200).contains("Ask one to follow"));
    root_b.log_in("root", ROOT_PASSWORD);
    let handle = format!("root_channel@{host_a}");
    let page = html(root_b.get(&path), 200);
    assert!(page.contains(&format!("Follow {handle}")), "{page}");
    let csrf = root_b.csrf();
    let r = root_b.post_form(
        "/admin/federation",
        &[("csrf", &csrf), ("action", "follow"), ("target", &handle)],
    );
    assert_eq!(r.status(), 303);
    crate::common::wait_for(&b, "/api/v1/server/following", |v| {
        v["data"][0]["following"]["name"] == "root_channel" && v["data"][0]["state"] == "accepted"
    });
    // A address that names nothing to follow is said so.
    let page = html(
        root_b.get("/authorize_interaction?uri=javascript%3Aalert(1)"),
        200,
    );
    assert!(page.contains("Vireo cannot follow"));
}
