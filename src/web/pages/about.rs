//! The instance's about page (`/about/instance`, PeerTube's address): its name, its one-line
//! and longer descriptions and its terms, as the administrator set them in the configuration
//! file or on the settings page. The Markdown is rendered as descriptions are (raw HTML shown
//! as text, only safe links).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::AppState;
use crate::service::rights;
use crate::web::markdown;
use crate::web::page::{Chrome, PageError, respond};
use crate::web::session::Visitor;

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage {
    chrome: Chrome,
    name: String,
    short_description: String,
    description_html: String,
    terms_html: String,
    /// Administrators get a link to where the texts are changed.
    editable: bool,
}

pub async fn instance(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let c = state.core.config();
    let i = &c.instance;
    let t = AboutPage {
        chrome: Chrome::new(&state, &visitor, "About", "/about/instance"),
        name: i.name.clone(),
        short_description: i.short_description.clone(),
        description_html: markdown::to_html(&i.description),
        terms_html: markdown::to_html(&i.terms),
        editable: visitor
            .user
            .as_ref()
            .is_some_and(rights::can_manage_configuration),
    };
    Ok(respond(&visitor, StatusCode::OK, &t))
}
