//! Video descriptions as safe HTML: Markdown (pulldown-cmark) in which raw HTML is shown as
//! text, links keep only http(s) and mailto targets and open with `rel="nofollow noopener
//! noreferrer"`, images become links, and line breaks are kept, as PeerTube renders them.
//!
//! Nothing an uploader writes can become a tag, an attribute or a script: every event that
//! could carry markup is rewritten before HTML is written.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

/// The description rendered to HTML that is safe to insert into a page.
pub fn to_html(source: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut in_image = 0usize;
    let events = Parser::new_ext(source, options).filter_map(|event| match event {
        // Raw HTML is shown as the text it is.
        Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
        // Descriptions keep the writer's line breaks (markdown-it's `breaks`, as PeerTube).
        Event::SoftBreak => Some(Event::HardBreak),
        Event::Start(Tag::Link { dest_url, .. }) => Some(Event::Html(open_link(&dest_url))),
        Event::End(TagEnd::Link) => Some(Event::Html(CowStr::Borrowed("</a>"))),
        // An image is a link to it: pages load no image an uploader names.
        Event::Start(Tag::Image { dest_url, .. }) => {
            in_image += 1;
            Some(Event::Html(open_link(&dest_url)))
        }
        Event::End(TagEnd::Image) => {
            in_image = in_image.saturating_sub(1);
            Some(Event::Html(CowStr::Borrowed("</a>")))
        }
        Event::Start(Tag::Heading { .. }) => Some(Event::Html(CowStr::Borrowed("<p><strong>"))),
        Event::End(TagEnd::Heading(_)) => Some(Event::Html(CowStr::Borrowed("</strong></p>"))),
        Event::Start(Tag::FootnoteDefinition(_))
        | Event::End(TagEnd::FootnoteDefinition)
        | Event::FootnoteReference(_) => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(source.len() + source.len() / 4);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// `<a …>` for a link target, or a span when the target's scheme is not one a description may
/// use (`javascript:`, `data:`, …).
fn open_link(dest: &str) -> CowStr<'static> {
    if !allowed_target(dest) {
        return CowStr::Borrowed("<a>");
    }
    // escape_href percent-encodes quotes and brackets and writes `&` and `'` as entities: what
    // pulldown-cmark's own writer puts in a double-quoted `href`.
    let mut href = String::new();
    let _ = pulldown_cmark_escape::escape_href(&mut href, dest);
    CowStr::from(format!(
        "<a href=\"{href}\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">"
    ))
}

fn allowed_target(dest: &str) -> bool {
    let d = dest.trim().to_ascii_lowercase();
    d.starts_with("https://") || d.starts_with("http://") || d.starts_with("mailto:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered() {
        let h = to_html("**bold** and *it*\nnext line\n\n- a\n- b");
        assert!(h.contains("<strong>bold</strong>"), "{h}");
        assert!(h.contains("<em>it</em>"), "{h}");
        assert!(h.contains("<br />"), "{h}");
        assert!(h.contains("<li>a</li>"), "{h}");
    }

    #[test]
    fn raw_html_is_text() {
        let h = to_html("<script>alert(1)</script> <img src=x onerror=alert(1)> <b>b</b>");
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(!h.contains("<b>"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
    }

    #[test]
    fn links_are_safe() {
        let h = to_html("[x](https://example.org/a?b=1&c=\"2\") [y](javascript:alert(1))");
        assert!(
            h.contains("href=\"https://example.org/a?b=1&amp;c=%222%22\""),
            "{h}"
        );
        assert!(h.contains("rel=\"nofollow noopener noreferrer\""), "{h}");
        assert!(!h.contains("javascript"), "{h}");
        let h = to_html("![pic](https://example.org/p.png \"t\") ![evil](data:text/html,x)");
        assert!(!h.contains("<img"), "{h}");
        assert!(!h.contains("data:"), "{h}");
        let h = to_html("<https://example.org/\"onmouseover=\"x>");
        assert!(
            h.contains("href=\"https://example.org/%22onmouseover=%22x\""),
            "{h}"
        );
    }

    #[test]
    fn a_huge_description_renders_in_one_pass() {
        let src = "> ".repeat(5000) + &"*a ".repeat(5000);
        let h = to_html(&src);
        assert!(h.len() > 1000);
    }
}
