//! The uploader's own videos: "My videos" (`/my-library/videos`, every state and privacy, with
//! processing progress), the edit form (`/videos/update/{id}`: title, description, tags,
//! privacy, sensitive content, thumbnail) and deletion. The form posts go through the same
//! update and delete functions as the API, so the same checks apply.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{FileFields, JsonOrMultipart, MultipartFields, blocking};
use crate::http::video_form::{
    UpdateVideoBody, VIDEO_ARRAY_FIELDS, VIDEO_BOOLEAN_FIELDS, VIDEO_NUMBER_FIELDS,
};
use crate::model::video::{Video, VideoState, short_uuid};
use crate::service::catalog::{Filter, SortKey};
use crate::service::{images, manage, videos, visibility};
use crate::web::cards::{self, Card, Pager};
use crate::web::page::{Chrome, PageError, PageForm, respond};
use crate::web::pages::login::see_other;
use crate::web::pages::upload::{PrivacyOption, login_first, privacy_options};
use crate::web::session::Visitor;

const PER_PAGE: usize = 24;

/// One of my videos: its card, and what only its owner sees.
pub struct Mine {
    pub card: Card,
    pub edit_href: String,
    pub privacy: &'static str,
    pub progress: Option<String>,
}

#[derive(Template)]
#[template(path = "my_videos.html")]
struct MyVideosPage {
    chrome: Chrome,
    videos: Vec<Mine>,
    pager: Pager,
    total: String,
    flash: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<String>,
    done: Option<String>,
}

pub async fn my_videos(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let Some(me) = visitor.user.clone() else {
        return Ok(login_first(&visitor, "/my-library/videos"));
    };
    let page = cards::page_number(q.page.as_deref());
    let core = state.core.clone();
    let (total, list) = blocking(move || {
        let filter = Filter {
            account_id: Some(me.account_id),
            ..Filter::default()
        };
        let (total, found) = videos::list(
            &core,
            &filter,
            SortKey::CreatedAt,
            true,
            (page - 1) * PER_PAGE,
            PER_PAGE,
        )?;
        Ok((total, found.clone(), cards::cards(&core, &found)?))
    })
    .await
    .map(|(total, found, cards)| (total, mine(&state, found, cards)))?;
    let t = MyVideosPage {
        chrome: Chrome::new(&state, &visitor, "My videos", "/my-library/videos"),
        videos: list,
        pager: cards::pager(page, PER_PAGE, total, |n| {
            format!("/my-library/videos?page={n}")
        }),
        total: match total {
            1 => "1 video".to_owned(),
            n => format!("{n} videos"),
        },
        flash: match q.done.as_deref() {
            Some("saved") => Some("Your changes are saved."),
            Some("deleted") => Some("The video was deleted."),
            _ => None,
        },
    };
    Ok(respond(&visitor, StatusCode::OK, &t))
}

fn mine(state: &AppState, found: Vec<Video>, cards: Vec<Card>) -> Vec<Mine> {
    found
        .into_iter()
        .zip(cards)
        .map(|(v, card)| Mine {
            edit_href: format!("/videos/update/{}", short_uuid(&v.uuid)),
            privacy: v.privacy.label(),
            progress: state.core.progress.get(v.id).map(|p| match v.state {
                VideoState::Published => format!("More qualities: {:.0} %", p.percent),
                _ => format!("Processing: {:.0} %", p.percent),
            }),
            card,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "edit.html")]
struct EditPage {
    chrome: Chrome,
    action: String,
    delete_action: String,
    watch_href: String,
    name: String,
    description: String,
    tags: String,
    privacy: u8,
    privacies: Vec<PrivacyOption>,
    nsfw: bool,
    thumbnail: Option<String>,
    state: Option<&'static str>,
    error: Option<String>,
}

fn edit_page(state: &AppState, visitor: &Visitor, v: &Video, error: Option<String>) -> EditPage {
    let short = short_uuid(&v.uuid);
    EditPage {
        chrome: Chrome::new(
            state,
            visitor,
            format!("Edit {}", v.name),
            &format!("/videos/update/{short}"),
        ),
        action: format!("/videos/update/{short}"),
        delete_action: format!("/videos/update/{short}/delete"),
        watch_href: format!("/w/{short}"),
        name: v.name.clone(),
        description: v.description.clone().unwrap_or_default(),
        tags: v.tags.join(", "),
        privacy: v.privacy.id(),
        privacies: privacy_options(),
        nsfw: v.nsfw,
        thumbnail: v
            .thumbnail
            .as_ref()
            .map(|n| format!("/lazy-static/thumbnails/{n}")),
        state: (v.state != VideoState::Published).then(|| v.state.label()),
        error,
    }
}

pub async fn edit(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Some(me) = visitor.user.clone() else {
        return Ok(login_first(&visitor, &format!("/videos/update/{id}")));
    };
    let (v, _) = visibility::video_to_manage(&state.core, &me, &id)?;
    let t = edit_page(&state, &visitor, &v, None);
    Ok(respond(&visitor, StatusCode::OK, &t))
}

/// The edit form: the API's update fields, the CSRF token, and the tags as one line.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    tags_line: Option<String>,
    #[serde(flatten)]
    body: UpdateVideoBody,
}

impl MultipartFields for EditForm {
    const NUMBERS: &'static [&'static str] = VIDEO_NUMBER_FIELDS;
    const BOOLEANS: &'static [&'static str] = VIDEO_BOOLEAN_FIELDS;
    const ARRAYS: &'static [&'static str] = VIDEO_ARRAY_FIELDS;
    const FILES: &'static [&'static str] = &["thumbnailfile"];
}

/// `a, b,,  c` → `["a", "b", "c"]`.
fn split_tags(line: &str) -> Vec<String> {
    line.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

pub async fn save(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    form: Result<JsonOrMultipart<EditForm>, ApiError>,
) -> Result<Response, PageError> {
    // A form that cannot be read is an error page, like any other.
    let JsonOrMultipart(form, files) = form?;
    let me = visitor.form_sender(&form.csrf, &format!("/videos/update/{id}"))?;
    let mut body = form.body;
    if let Some(line) = &form.tags_line {
        body.tags = Some(split_tags(line));
    }
    // A file input left empty still sends an empty part.
    let files = files.into_iter().filter(|(_, b)| !b.is_empty()).collect();
    match update(&state, &me, &id, body, files).await {
        Ok(_) => Ok(see_other(&visitor, "/my-library/videos?done=saved")),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            // Show the form again with the reason; nothing was changed.
            let (v, _) = visibility::video_to_manage(&state.core, &me, &id)?;
            let t = edit_page(&state, &visitor, &v, Some(e.explanation()));
            Ok(respond(&visitor, StatusCode::BAD_REQUEST, &t))
        }
        Err(e) => Err(e.into()),
    }
}

/// Apply the edit form as the API's update does.
async fn update(
    state: &AppState,
    me: &crate::model::user::User,
    id: &str,
    body: UpdateVideoBody,
    files: FileFields,
) -> Result<Video, ApiError> {
    let up = body.into_update()?;
    let (core, me, id) = (state.core.clone(), me.clone(), id.to_owned());
    blocking(move || {
        let made = images::from_form_files(&files)?;
        Ok(manage::update_video(&core, &me, &id, up, &made)?)
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
}

pub async fn delete(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<DeleteForm>,
) -> Result<Response, PageError> {
    let me = visitor.form_sender(&form.csrf, "/my-library/videos")?;
    let core = state.core.clone();
    blocking(move || Ok(manage::delete_video(&core, &me, &id)?)).await?;
    Ok(see_other(&visitor, "/my-library/videos?done=deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lines_split_on_commas() {
        assert_eq!(split_tags(" a, b,,  c "), vec!["a", "b", "c"]);
        assert!(split_tags(" , ").is_empty());
    }
}
