//! PeerTube's blocklists: the server's under `/api/v1/server/blocklist` (servers and accounts
//! the instance blocks; moderators), each user's own under `/api/v1/users/me/blocklist`, and
//! `GET /api/v1/blocklist/status` (whether given accounts and hosts are blocked, by either). What a block does is `service::blocklist`'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::pagination::ListResponse;
use super::views::{self, Ctx};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, Auth, MaybeAuth, Params, blocking};
use crate::http::query;
use crate::model::iso8601;
use crate::model::user::User;
use crate::service::blocklist::{self, BlockPage, BlockedAccount, Scope};
use crate::service::urls::{self, Urls};
use crate::service::{Core, actors};

/// The instance's own account, which PeerTube shows as the blocker (`byAccount`).
fn instance_account(core: &Core) -> ApiResult<Value> {
    let config = core.config();
    let tx = core
        .store
        .read()
        .map_err(crate::service::ServiceError::from)?;
    let name = actors::instance_actor_name(&tx)?;
    Ok(json!({
        "id": 0,
        "name": name,
        "displayName": name,
        "url": Urls::new(&config).absolute(&urls::account_actor(&name)),
        "host": config.public_host(),
        "avatars": [],
    }))
}

fn account_json(ctx: &Ctx, a: &BlockedAccount) -> Value {
    match a {
        BlockedAccount::Local(a) => json!(views::account_summary(ctx, a)),
        BlockedAccount::Remote(r) => json!({
            "id": r.number,
            "name": r.preferred_username,
            "displayName": r.name.clone().unwrap_or_else(|| r.preferred_username.clone()),
            "url": r.id,
            "host": r.host,
            "avatars": [],
        }),
    }
}

/// Whose blocklist a request is about: the instance's (`/server/blocklist`) or the caller's
/// own (`/users/me/blocklist`).
fn scope_of(mine: bool, me: &User) -> Scope {
    match mine {
        true => Scope::User(me.id),
        false => Scope::Instance,
    }
}

/// Who blocked, as PeerTube shows it (`byAccount`): the instance's account, or the user's.
fn blocker(core: &Core, scope: Scope, me: &User) -> ApiResult<Value> {
    match scope {
        Scope::Instance => instance_account(core),
        Scope::User(_) => {
            let account = actors::account_by_id(core, me.account_id)?;
            Ok(json!(views::account_summary(
                &Ctx::new(&core.config()),
                &account
            )))
        }
    }
}

/// `GET /api/v1/server/blocklist/servers`, or with `mine` `/api/v1/users/me/blocklist/servers`.
pub async fn servers(
    State(state): State<AppState>,
    Auth(me): Auth,
    params: Params,
    mine: bool,
) -> ApiResult<Response> {
    let page = block_page(&params)?;
    let core = state.core.clone();
    blocking(move || {
        let scope = scope_of(mine, &me);
        let (total, rows) = blocklist::hosts(&core, &me, scope, page)?;
        let by = blocker(&core, scope, &me)?;
        let data: Vec<Value> = rows
            .iter()
            .map(|l| {
                json!({
                    "byAccount": by,
                    "blockedServer": {"host": l.what},
                    "createdAt": iso8601(l.block.created_at_ms),
                })
            })
            .collect();
        Ok(axum::Json(ListResponse::new(total, data)).into_response())
    })
    .await
}

/// `GET /api/v1/server/blocklist/accounts`, or with `mine` `/api/v1/users/me/blocklist/accounts`.
pub async fn accounts(
    State(state): State<AppState>,
    Auth(me): Auth,
    params: Params,
    mine: bool,
) -> ApiResult<Response> {
    let page = block_page(&params)?;
    let core = state.core.clone();
    blocking(move || {
        let scope = scope_of(mine, &me);
        let (total, rows) = blocklist::accounts(&core, &me, scope, page)?;
        let by = blocker(&core, scope, &me)?;
        let ctx = Ctx::new(&core.config());
        let data: Vec<Value> = rows
            .iter()
            .map(|l| {
                json!({
                    "byAccount": by,
                    "blockedAccount": account_json(&ctx, &l.what),
                    "createdAt": iso8601(l.block.created_at_ms),
                })
            })
            .collect();
        Ok(axum::Json(ListResponse::new(total, data)).into_response())
    })
    .await
}

/// `start`, `count` and `sort` (`createdAt` or `-createdAt`, PeerTube's only key; newest first
/// by default).
fn block_page(params: &Params) -> ApiResult<BlockPage> {
    let page = query::page(params)?;
    let ((), newest_first) = query::sort(params, &[("createdAt", ())], ((), true))?;
    Ok(BlockPage {
        start: page.start,
        count: page.count,
        newest_first,
    })
}

/// A required string field of a JSON body.
fn field(body: &Value, name: &str) -> ApiResult<String> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ApiError::invalid_param("body", name, format!("Should have a valid {name}")))
}

fn body_host(body: &Value) -> ApiResult<String> {
    crate::http::hosts::host(&field(body, "host")?)
        .ok_or_else(|| ApiError::invalid_param("body", "host", "Should have a valid host"))
}

fn path_host(host: &str) -> ApiResult<String> {
    crate::http::hosts::host(host)
        .ok_or_else(|| ApiError::invalid_param("params", "host", "Should have a valid host"))
}

/// `POST /api/v1/server/blocklist/servers` `{"host": …}` (with `mine`, `/users/me/blocklist`).
pub async fn block_server(
    State(state): State<AppState>,
    Auth(me): Auth,
    ApiJson(body): ApiJson<Value>,
    mine: bool,
) -> ApiResult<Response> {
    let host = body_host(&body)?;
    change(state, me, mine, move |core, me, scope| {
        blocklist::block_host(core, me, scope, &host)
    })
    .await
}

/// `DELETE /api/v1/server/blocklist/servers/{host}` (with `mine`, `/users/me/blocklist`).
pub async fn unblock_server(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(host): Path<String>,
    mine: bool,
) -> ApiResult<Response> {
    let host = path_host(&host)?;
    change(state, me, mine, move |core, me, scope| {
        blocklist::unblock_host(core, me, scope, &host)
    })
    .await
}

/// `POST /api/v1/server/blocklist/accounts` `{"accountName": "name@host"}` (with `mine`,
/// `/users/me/blocklist`).
pub async fn block_account(
    State(state): State<AppState>,
    Auth(me): Auth,
    ApiJson(body): ApiJson<Value>,
    mine: bool,
) -> ApiResult<Response> {
    let handle = field(&body, "accountName")?;
    change(state, me, mine, move |core, me, scope| {
        blocklist::block_account(core, me, scope, &handle)
    })
    .await
}

/// `DELETE /api/v1/server/blocklist/accounts/{accountName}` (with `mine`, `/users/me/blocklist`).
pub async fn unblock_account(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(handle): Path<String>,
    mine: bool,
) -> ApiResult<Response> {
    change(state, me, mine, move |core, me, scope| {
        blocklist::unblock_account(core, me, scope, &handle)
    })
    .await
}

async fn change(
    state: AppState,
    me: User,
    mine: bool,
    f: impl FnOnce(&Core, &User, Scope) -> crate::service::Result<()> + Send + 'static,
) -> ApiResult<Response> {
    let core = state.core.clone();
    blocking(move || {
        f(&core, &me, scope_of(mine, &me))?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

/// `GET /api/v1/blocklist/status?accounts=…&hosts=…`: for each, whether the instance blocks
/// it (`blockedByServer`) and whether the caller blocked it (`blockedByUser`; false without a
/// token).
pub async fn status(
    State(state): State<AppState>,
    MaybeAuth(me): MaybeAuth,
    params: Params,
) -> ApiResult<Response> {
    let accounts: Vec<String> = params
        .all("accounts")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let hosts: Vec<String> = params.all("hosts").into_iter().map(str::to_owned).collect();
    let core = state.core.clone();
    blocking(move || {
        let mut by_account = Map::new();
        // Read once for the whole query, not once per account asked about.
        let hidden = blocklist::hidden_accounts(&core)?;
        for handle in accounts {
            let found = blocklist::find_account(&core, &handle)?;
            let blocked = match &found {
                Some(BlockedAccount::Local(a)) => hidden.contains(&a.id),
                Some(BlockedAccount::Remote(r)) => {
                    blocklist::is_actor_blocked(&core, &r.id, &r.host)?
                }
                None => false,
            };
            let by_user = match (&me, &found) {
                (Some(me), Some(account)) => blocklist::user_blocks(&core, me.id, account)?,
                _ => false,
            };
            by_account.insert(
                handle,
                json!({"blockedByServer": blocked, "blockedByUser": by_user}),
            );
        }
        let mut by_host = Map::new();
        for host in hosts {
            let blocked = blocklist::is_host_blocked(&core, &host)?;
            let by_user = match &me {
                Some(me) => blocklist::user_blocks_host(&core, me.id, &host)?,
                None => false,
            };
            by_host.insert(
                host,
                json!({"blockedByServer": blocked, "blockedByUser": by_user}),
            );
        }
        Ok(axum::Json(json!({"accounts": by_account, "hosts": by_host})).into_response())
    })
    .await
}
