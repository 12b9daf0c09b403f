//! OAuth sessions as PeerTube issues them: the local client, password and refresh-token grants,
//! bearer-token authentication and revocation. Only SHA-256 digests of tokens are stored.

use redb::{ReadableTable, WriteTransaction};

use super::{Core, Result, ServiceError};
use crate::auth::secret;
use crate::model::now_ms;
use crate::model::token::{OAuthClient, Token};
use crate::model::user::User;
use crate::store::{Tx, codec, records, tables};

const CLIENT_KEY: &str = "oauth_client";

/// The instance's OAuth client, created on first use.
pub fn local_client(core: &Core) -> Result<OAuthClient> {
    if let Some(c) = records::get_meta::<OAuthClient>(&core.store.read()?, CLIENT_KEY)? {
        return Ok(c);
    }
    core.store.write(|tx| {
        if let Some(c) = records::get_meta::<OAuthClient>(tx, CLIENT_KEY)? {
            return Ok(c);
        }
        let c = OAuthClient {
            client_id: secret::random_hex::<16>().map_err(internal)?,
            client_secret: secret::random_hex::<16>().map_err(internal)?,
        };
        records::put_meta(tx, CLIENT_KEY, &c)?;
        Ok(c)
    })
}

/// Whether `id` and `secret_given` are the local OAuth client's (compared in constant time).
pub fn is_local_client(core: &Core, id: &str, secret_given: &str) -> Result<bool> {
    let client = local_client(core)?;
    Ok(secret::equal(id, &client.client_id) && secret::equal(secret_given, &client.client_secret))
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal("making an OAuth secret", e.to_string())
}

/// A freshly issued token pair.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub refresh_token_expires_in: i64,
}

/// Issue a new token pair for `user_id`: a new session.
pub fn issue(core: &Core, user_id: u64) -> Result<Issued> {
    core.store.write(|tx| issue_in(tx, core, user_id, now_ms()))
}

/// A token pair of the session that began at `session_started`: neither token outlives the
/// session's absolute end.
fn issue_in(
    tx: &WriteTransaction,
    core: &Core,
    user_id: u64,
    session_started: i64,
) -> Result<Issued> {
    let now = now_ms();
    let access = secret::random_hex::<20>().map_err(internal)?;
    let refresh = secret::random_hex::<20>().map_err(internal)?;
    let auth = &core.config().auth;
    let session_end = session_started.saturating_add(auth.session_max_lifetime_secs * 1000);
    let access_expires_ms = (now + auth.access_token_lifetime_secs * 1000).min(session_end);
    let refresh_expires_ms = (now + auth.refresh_token_lifetime_secs * 1000).min(session_end);
    let access_hash = secret::sha256(access.as_bytes());
    let refresh_hash = secret::sha256(refresh.as_bytes());
    let token = Token {
        user_id,
        refresh_hash: secret::hex(&refresh_hash),
        access_expires_ms,
        refresh_expires_ms,
        created_at_ms: now,
        session_started_ms: Some(session_started),
    };
    tx.open_table(tables::TOKENS)?
        .insert(access_hash.as_slice(), codec::encode(&token).as_slice())?;
    tx.open_table(tables::REFRESH_TOKENS)?
        .insert(refresh_hash.as_slice(), access_hash.as_slice())?;
    tx.open_table(tables::USER_TOKENS)?
        .insert((user_id, access_hash.as_slice()), ())?;
    Ok(Issued {
        access_token: access,
        refresh_token: refresh,
        // PeerTube reports whole seconds left, rounded down.
        expires_in: ((access_expires_ms - now) / 1000 - 1).max(0),
        refresh_token_expires_in: ((refresh_expires_ms - now) / 1000 - 1).max(0),
    })
}

/// Why a token grant was refused; each maps to PeerTube's OAuth error code.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("Invalid grant: user credentials are invalid")]
    BadCredentials,
    #[error("Invalid grant: refresh token is invalid")]
    BadRefreshToken,
    #[error("Invalid grant: refresh token has expired")]
    ExpiredRefreshToken,
    #[error("User is blocked.")]
    Blocked,
    /// Too many failed attempts: wait this many seconds.
    #[error("Too many failed login attempts, please try again later.")]
    Throttled(u64),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::store::StoreError> for GrantError {
    fn from(e: crate::store::StoreError) -> Self {
        GrantError::Service(e.into())
    }
}

/// Exchange a refresh token for a new pair; the old pair is revoked in the same transaction.
pub fn refresh(core: &Core, refresh_token: &str) -> Result<(User, Issued), GrantError> {
    let refresh_hash = secret::sha256(refresh_token.as_bytes());
    core.store
        .write(|tx| {
            let access_hash = tx
                .open_table(tables::REFRESH_TOKENS)?
                .get(refresh_hash.as_slice())?
                .map(|v| v.value().to_vec())
                .ok_or(GrantError::BadRefreshToken)?;
            let token = load_token(tx, &access_hash)?.ok_or(GrantError::BadRefreshToken)?;
            remove_token(tx, &access_hash, &token)?;
            if token.refresh_expires_ms <= now_ms() {
                return Err(GrantError::ExpiredRefreshToken);
            }
            let user = records::get::<User>(tx, tables::USERS, token.user_id)?
                .ok_or(GrantError::BadRefreshToken)?;
            if user.blocked {
                return Err(GrantError::Blocked);
            }
            let issued = issue_in(tx, core, user.id, token.session_started())?;
            Ok((user, issued))
        })
        .map_err(|e| {
            // An expired refresh token was removed above, but the error aborts that
            // transaction; remove it for good in a transaction of its own.
            if matches!(e, GrantError::ExpiredRefreshToken)
                && let Err(failed) = revoke_refresh(core, &refresh_hash)
            {
                tracing::warn!(error = %failed, "removing an expired refresh token");
            }
            e
        })
}

fn revoke_refresh(core: &Core, refresh_hash: &[u8; 32]) -> Result<()> {
    core.store.write(|tx| {
        let access = tx
            .open_table(tables::REFRESH_TOKENS)?
            .get(refresh_hash.as_slice())?
            .map(|v| v.value().to_vec());
        if let Some(access) = access
            && let Some(token) = load_token(tx, &access)?
        {
            remove_token(tx, &access, &token)?;
        }
        Ok(())
    })
}

fn load_token(tx: &impl Tx, access_hash: &[u8]) -> Result<Option<Token>> {
    let table = tx.table(tables::TOKENS)?;
    let v = table.get(access_hash)?;
    match v {
        Some(v) => Ok(Some(codec::decode(v.value())?)),
        None => Ok(None),
    }
}

fn remove_token(tx: &WriteTransaction, access_hash: &[u8], token: &Token) -> Result<()> {
    tx.open_table(tables::TOKENS)?.remove(access_hash)?;
    let refresh = hex_decode(&token.refresh_hash);
    tx.open_table(tables::REFRESH_TOKENS)?
        .remove(refresh.as_slice())?;
    tx.open_table(tables::USER_TOKENS)?
        .remove((token.user_id, access_hash))?;
    Ok(())
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Unknown,
    Expired,
    Blocked,
}

/// The user behind a bearer token. Read-only: expired tokens are swept by `purge_expired`.
pub fn authenticate(core: &Core, access_token: &str) -> Result<Result<User, TokenProblem>> {
    let hash = secret::sha256(access_token.as_bytes());
    let tx = core.store.read()?;
    let Some(token) = load_token(&tx, &hash)? else {
        return Ok(Err(TokenProblem::Unknown));
    };
    if token.access_expires_ms <= now_ms() {
        return Ok(Err(TokenProblem::Expired));
    }
    match records::get::<User>(&tx, tables::USERS, token.user_id)? {
        Some(u) if u.blocked => Ok(Err(TokenProblem::Blocked)),
        Some(u) => Ok(Ok(u)),
        None => Ok(Err(TokenProblem::Unknown)),
    }
}

/// Revoke the session an access token belongs to.
pub fn revoke(core: &Core, access_token: &str) -> Result<()> {
    let hash = secret::sha256(access_token.as_bytes());
    core.store.write(|tx| {
        if let Some(token) = load_token(tx, &hash)? {
            remove_token(tx, &hash, &token)?;
        }
        Ok(())
    })
}

/// Revoke every session of a user (password change, block, role change, deletion).
pub fn revoke_all_in(tx: &WriteTransaction, user_id: u64) -> Result<()> {
    revoke_others_in(tx, user_id, None)
}

/// Revoke every session of a user but the one of `keep` (an access token): changing one's own
/// password ends the sessions on other devices, not the one it was changed from.
pub fn revoke_others_in(tx: &WriteTransaction, user_id: u64, keep: Option<&str>) -> Result<()> {
    let keep = keep.map(|t| secret::sha256(t.as_bytes()));
    let hashes: Vec<Vec<u8>> = {
        let t = tx.open_table(tables::USER_TOKENS)?;
        let range = t.range((user_id, [].as_slice())..(user_id + 1, [].as_slice()))?;
        let mut v = Vec::new();
        for e in range {
            let (k, _) = e?;
            v.push(k.value().1.to_vec());
        }
        v
    };
    for h in hashes {
        if keep.is_some_and(|k| k.as_slice() == h.as_slice()) {
            continue;
        }
        if let Some(token) = load_token(tx, &h)? {
            remove_token(tx, &h, &token)?;
        } else {
            tx.open_table(tables::USER_TOKENS)?
                .remove((user_id, h.as_slice()))?;
        }
    }
    Ok(())
}

/// Delete sessions whose refresh token has expired; run at start and periodically.
pub fn purge_expired(core: &Core) -> Result<usize> {
    let now = now_ms();
    core.store.write(|tx| {
        let expired: Vec<(Vec<u8>, Token)> = {
            let t = tx.open_table(tables::TOKENS)?;
            let mut v = Vec::new();
            for e in t.range::<&[u8]>(..)? {
                let (k, val) = e?;
                let token: Token = codec::decode(val.value())?;
                if token.refresh_expires_ms <= now {
                    v.push((k.value().to_vec(), token));
                }
            }
            v
        };
        for (hash, token) in &expired {
            remove_token(tx, hash, token)?;
        }
        Ok(expired.len())
    })
}

super::via_store_error!(GrantError: redb::TableError, redb::StorageError, crate::store::CodecError);
