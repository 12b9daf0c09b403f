//! The "Federation" administration page (`/admin/federation`): whom the instance follows
//! (follow a host or a `name@host` handle, unfollow), who follows it (accept, reject, remove),
//! and what it blocks (servers, accounts). Moderators see it and manage the blocklist;
//! administrators also manage the follows, as PeerTube's rights say. Every form goes through
//! the same `service/` functions as PeerTube's API routes.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::blocking;
use crate::http::hosts;
use crate::model::account::Account;
use crate::model::user::User;
use crate::service::blocklist::{self, BlockPage, BlockedAccount, Scope};
use crate::service::follows::{self, Decision, FollowQuery, FollowRow, FollowSort};
use crate::service::{Core, following, rights};
use crate::web::format;
use crate::web::page::{Chrome, PageError, PageForm, form_status, respond};
use crate::web::pages::admin::refusal;
use crate::web::pages::login::see_other;
use crate::web::session::Visitor;

const HERE: &str = "/admin/federation";
/// Entries shown per list (the API pages through more).
const SHOWN: usize = 100;

/// One follow, either way.
pub struct FollowLine {
    pub handle: String,
    pub kind: String,
    pub state: &'static str,
    pub since: String,
}

/// One blocklist entry: what to show, and what the unblock form sends.
pub struct BlockLine {
    pub label: String,
    pub target: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "admin_federation.html")]
struct FederationPage {
    chrome: Chrome,
    /// Whether the visitor may manage follows (administrators), not only blocks.
    manages_follows: bool,
    following: Vec<FollowLine>,
    followers: Vec<FollowLine>,
    servers: Vec<BlockLine>,
    accounts: Vec<BlockLine>,
    flash: Option<&'static str>,
    error: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

fn follow_line(r: &FollowRow, now: i64) -> FollowLine {
    FollowLine {
        handle: format!("{}@{}", r.actor.preferred_username, r.actor.host),
        kind: r.actor.kind.clone(),
        state: r.state.as_str(),
        since: format::age(r.created_at_ms, now),
    }
}

fn account_handle(a: &BlockedAccount, local_host: &str) -> String {
    match a {
        BlockedAccount::Local(Account { name, .. }) => format!("{name}@{local_host}"),
        BlockedAccount::Remote(r) => format!("{}@{}", r.preferred_username, r.host),
    }
}

/// Everything the page lists, read as `me`.
fn lists(core: &Core, me: &User) -> ApiResult<FederationPage> {
    let now = crate::model::now_ms();
    let q = FollowQuery {
        start: 0,
        count: SHOWN,
        sort: (FollowSort::CreatedAt, true),
        state: None,
        actor_type: None,
        search: None,
    };
    let page = BlockPage {
        start: 0,
        count: SHOWN,
        newest_first: true,
    };
    let local_host = core.config().public_host();
    let (_, following) = following::page(core, &q)?;
    let (_, followers) = follows::instance_followers_page(core, &q)?;
    let (_, servers) = blocklist::hosts(core, me, Scope::Instance, page)?;
    let (_, accounts) = blocklist::accounts(core, me, Scope::Instance, page)?;
    Ok(FederationPage {
        chrome: Chrome::empty(),
        manages_follows: rights::can_manage_server_follows(me),
        following: following.iter().map(|r| follow_line(r, now)).collect(),
        followers: followers.iter().map(|r| follow_line(r, now)).collect(),
        servers: servers
            .into_iter()
            .map(|l| BlockLine {
                label: l.what.clone(),
                target: l.what,
                since: format::age(l.block.created_at_ms, now),
            })
            .collect(),
        accounts: accounts
            .into_iter()
            .map(|l| {
                let handle = account_handle(&l.what, &local_host);
                BlockLine {
                    label: handle.clone(),
                    target: handle,
                    since: format::age(l.block.created_at_ms, now),
                }
            })
            .collect(),
        flash: None,
        error: None,
    })
}

async fn show_page(
    state: &AppState,
    visitor: &Visitor,
    me: User,
    flash: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let core = state.core.clone();
    let mut t = blocking(move || lists(&core, &me)).await?;
    t.chrome = Chrome::new(state, visitor, "Federation", HERE);
    t.flash = flash;
    t.error = error.clone();
    Ok(respond(visitor, form_status(&error), &t))
}

/// The visitor, if they may see the page (moderators and administrators).
fn moderator(visitor: &Visitor) -> Option<User> {
    visitor.user.clone().filter(rights::can_moderate_content)
}

/// `GET /admin/federation`.
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let Some(me) = moderator(&visitor) else {
        return Ok(refusal(&visitor, HERE));
    };
    let flash = match q.done.as_deref() {
        Some("follow") => Some("Asked: the follow is sent in the background, and listed below."),
        Some("unfollow") => Some("No longer followed."),
        Some("decided") => Some("The follower was answered."),
        Some("blocked") => Some("Blocked."),
        Some("unblocked") => Some("Unblocked."),
        _ => None,
    };
    show_page(&state, &visitor, me, flash, None).await
}

/// Every form of the page: what it asks, and the target it names.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
}

/// `POST /admin/federation`: one action, then back to the page (or the page with why not).
pub async fn act(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(f): PageForm<ActionForm>,
) -> Result<Response, PageError> {
    let me = visitor.form_sender(&f.csrf, HERE)?;
    if !rights::can_moderate_content(&me) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Only administrators and moderators can see this page.",
        ));
    }
    let target = f.target.trim().to_owned();
    let core = state.core.clone();
    let who = me.clone();
    let action = f.action.clone();
    let outcome = blocking(move || run(&core, &who, &action, &target)).await;
    match outcome {
        Ok(done) => Ok(see_other(&visitor, &format!("{HERE}?done={done}"))),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            show_page(&state, &visitor, me, None, Some(e.explanation())).await
        }
        Err(e) => Err(e.into()),
    }
}

fn not_a(what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{what} is not a host (videos.example) or a handle (name@videos.example)"
    ))
}

/// Do `action` on `target` as `me`; the word for the page's notice.
fn run(core: &Core, me: &User, action: &str, target: &str) -> ApiResult<&'static str> {
    let handle = || hosts::handle(target).ok_or_else(|| not_a("That"));
    let host = || hosts::host(target).ok_or_else(|| not_a("That"));
    match action {
        "follow" => {
            let local = core.config().public_host();
            match hosts::handle(target) {
                Some(h) => following::request(core, me, &[], &[h], &local)?,
                None => following::request(core, me, &[host()?], &[], &local)?,
            }
            Ok("follow")
        }
        "unfollow" => {
            match hosts::handle(target) {
                Some((name, h)) => following::stop(core, me, Some(&name), &h)?,
                None => following::stop(core, me, None, &host()?)?,
            }
            Ok("unfollow")
        }
        "accept" | "reject" | "remove" => {
            let (name, h) = handle()?;
            let decision = match action {
                "accept" => Decision::Accept,
                "reject" => Decision::Reject,
                _ => Decision::Remove,
            };
            follows::decide(core, me, &name, &h, decision)?;
            Ok("decided")
        }
        "block-server" => {
            blocklist::block_host(core, me, Scope::Instance, &host()?)?;
            Ok("blocked")
        }
        "unblock-server" => {
            blocklist::unblock_host(core, me, Scope::Instance, &host()?)?;
            Ok("unblocked")
        }
        "block-account" => {
            blocklist::block_account(core, me, Scope::Instance, target)?;
            Ok("blocked")
        }
        "unblock-account" => {
            blocklist::unblock_account(core, me, Scope::Instance, target)?;
            Ok("unblocked")
        }
        _ => Err(ApiError::bad_request("Unknown action")),
    }
}
