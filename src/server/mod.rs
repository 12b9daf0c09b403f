//! `vireo serve`: prepare the data directory, open the store, create the first administrator,
//! start the job worker and the admin socket, then serve HTTP until SIGTERM/SIGINT and shut down
//! cleanly (in-flight requests finish, then redb is closed). `listener` is the accept loop,
//! `connections` the caps on open connections.

pub mod connections;
pub mod listener;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::admin;
use crate::app::{AppState, app};
use crate::auth::address::TrustedProxies;
use crate::auth::{password, secret};
use crate::config::{Config, env_secret};
use crate::jobs::Worker;
use crate::model::user::Role;
use crate::service::users::{self, NewUser};
use crate::service::{Core, sessions};

/// Create the data directory, readable only by its owner.
pub fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", dir.display()))?;
    Ok(())
}

/// What the first start tells the operator about the `root` account.
#[derive(Debug)]
pub enum RootAccount {
    Exists,
    Created { password: Option<String> },
}

/// Create `root` when the instance has no user. Its password comes from
/// `VIREO_INITIAL_ADMIN_PASSWORD` (or `…_FILE`); otherwise one is generated and returned so it
/// can be printed once.
pub fn bootstrap_root(core: &Core) -> anyhow::Result<RootAccount> {
    if users::count(&core.store.read()?)? > 0 {
        return Ok(RootAccount::Exists);
    }
    let (pass, generated) = match env_secret("VIREO_INITIAL_ADMIN_PASSWORD")? {
        Some(p) => (p, false),
        None => (secret::random_password()?, true),
    };
    crate::service::validate::password(&pass)
        .map_err(|e| anyhow::anyhow!("VIREO_INITIAL_ADMIN_PASSWORD: {e}"))?;
    let new = NewUser {
        username: "root".into(),
        email: format!("admin@{}", host_for_email(&core.config().public_host())),
        password_hash: password::hash(&pass)?,
        role: Role::Administrator,
        video_quota: -1,
        video_quota_daily: -1,
        display_name: None,
        channel_name: Some("root_channel".into()),
        channel_display_name: Some("Main root channel".into()),
        email_verified: true,
    };
    users::create(core, new)?;
    Ok(RootAccount::Created {
        password: generated.then_some(pass),
    })
}

/// `127.0.0.1:9000` is no e-mail domain; keep a dotted host, otherwise use `localhost.localdomain`.
fn host_for_email(host: &str) -> String {
    let name = host.split(':').next().unwrap_or(host);
    if name.contains('.') && !name.chars().all(|c| c.is_ascii_digit() || c == '.') {
        name.to_owned()
    } else {
        "localhost.localdomain".to_owned()
    }
}

/// Run the server until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    prepare_data_dir(&config.storage.data_dir)?;
    let core = tokio::task::spawn_blocking(move || Core::open(config))
        .await?
        .context("opening the store")?;
    // The web UI's assets are compressed once (brotli at its best takes a moment), beside the
    // rest of start-up.
    let assets = tokio::task::spawn_blocking(crate::web::assets::warm);
    let root = {
        let core = core.clone();
        tokio::task::spawn_blocking(move || bootstrap_root(&core)).await??
    };
    assets.await?;
    match crate::service::uploads::sweep(&core) {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "removed unfinished uploads and orphaned media"),
        Err(e) => tracing::warn!(error = %e, "could not sweep uploads"),
    }
    if let Ok(n) = sessions::purge_expired(&core)
        && n > 0
    {
        tracing::info!(sessions = n, "removed expired sessions");
    }
    if !core.search.is_ready() {
        tracing::info!("building the search index in the background");
        crate::service::search::rebuild_in_background(core.clone());
    }
    let worker = Worker::start(core.clone())?;
    let view_writer = tokio::spawn(write_views_periodically(core.clone()));
    // With federation off, chores and deliveries stay queued until it is on again.
    let deliveries = core
        .config()
        .federation
        .enabled
        .then(|| crate::federation::delivery::start(core.clone()));
    let addr: SocketAddr = core.config().listen_addr()?;
    let listener = listener::bind(addr).with_context(|| format!("listening on {addr}"))?;
    let socket_path = core.config().admin_socket_path();
    let admin_task = admin::socket::listen(&socket_path, core.clone())
        .with_context(|| format!("admin socket {}", socket_path.display()))?;
    announce(&core, &listener.local_addr()?, &root);
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "ready");
    let router = app(AppState::new(core.clone()));
    listener::serve(
        listener,
        router,
        listener_settings(&core.config().server),
        shutdown_signal(),
    )
    .await;
    tracing::info!("shutting down");
    admin_task.abort();
    let _ = admin_task.await;
    view_writer.abort();
    let _ = view_writer.await;
    // A delivery in flight is tried again after its lease (`service::deliveries`).
    if let Some(deliveries) = deliveries {
        deliveries.abort();
        let _ = deliveries.await;
    }
    write_views(core.clone()).await;
    admin::socket::cleanup(&socket_path);
    worker.stop(&core);
    // A delivery aborted mid-send may still have a blocking step running (signing, recording
    // the outcome); each takes milliseconds, so wait for them, half a second at most.
    for _ in 0..25 {
        if Arc::strong_count(&core) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The router, the admin task and the worker have released their handles: this is the last
    // one, and dropping it closes redb cleanly.
    if Arc::strong_count(&core) > 1 {
        tracing::warn!("the store is still referenced at shutdown; it closes at exit");
    }
    drop(core);
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Descriptors kept for everything but client connections: the store, media files being read
/// and written, the search index, the admin socket, outgoing connections.
const RESERVED_DESCRIPTORS: u64 = 512;

/// How the listener serves connections, with the caps fitted to the descriptors this process
/// may open (raised to the hard limit first, as servers do).
fn listener_settings(server: &crate::config::Server) -> listener::Settings {
    let descriptors = raise_descriptor_limit();
    let fits = descriptors.map_or(usize::MAX, |n| {
        usize::try_from(n.saturating_sub(RESERVED_DESCRIPTORS).max(64)).unwrap_or(usize::MAX)
    });
    let total = server.max_connections.min(fits);
    if total < server.max_connections {
        tracing::warn!(
            configured = server.max_connections,
            used = total,
            descriptors,
            "server.max_connections is more than the open-file limit allows; raise `ulimit -n` (LimitNOFILE=)"
        );
    }
    // Every connection through a reverse proxy comes from the proxy: no per-address cap there.
    let uncapped = TrustedProxies::parse(&server.trusted_proxies).unwrap_or_default();
    listener::Settings {
        header_timeout: std::time::Duration::from_secs(server.header_timeout_secs),
        caps: connections::Caps {
            total,
            per_address: server.max_connections_per_address,
            uncapped,
        },
        shutdown_grace: std::time::Duration::from_secs(SHUTDOWN_GRACE_SECS),
    }
}

/// Requests still running this long after SIGTERM are cut off, so a stop never hangs on a slow
/// client.
const SHUTDOWN_GRACE_SECS: u64 = 10;

/// Raise the soft limit on open files to the hard one; returns the limit in force, `None` when
/// unlimited.
fn raise_descriptor_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => return limit.maximum,
            Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
        }
    }
    limit.current
}

/// How often counted views reach the store: a crash loses at most this much counting.
const WRITE_VIEWS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

async fn write_views_periodically(core: Arc<Core>) {
    let mut every = tokio::time::interval(WRITE_VIEWS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        write_views(core.clone()).await;
    }
}

/// Store the views counted since last time, and forget viewers gone for an hour.
async fn write_views(core: Arc<Core>) {
    let done = tokio::task::spawn_blocking(move || {
        core.views.expire(std::time::Instant::now());
        crate::service::views::flush(&core)
    })
    .await;
    match done {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not store the views counted; will retry"),
        Err(e) => tracing::warn!(error = %e, "the view writer stopped"),
    }
}

/// Tell the operator where the instance is and how to log in.
#[allow(clippy::print_stdout)]
fn announce(core: &Core, bound: &SocketAddr, root: &RootAccount) {
    let url = if core.config().server.public_url.is_empty() {
        format!("http://{bound}")
    } else {
        core.config().public_url()
    };
    println!("Vireo is running at {url}");
    println!(
        "  data directory: {}",
        core.config().storage.data_dir.display()
    );
    match root {
        RootAccount::Created { password: Some(p) } => {
            println!("  created the administrator account `root` with password: {p}");
            println!("  (shown once; change it with `vireo admin user passwd root`)");
        }
        RootAccount::Created { password: None } => {
            println!(
                "  created the administrator account `root` (password from VIREO_INITIAL_ADMIN_PASSWORD)"
            );
        }
        RootAccount::Exists => println!("  log in as `root` or any user you created"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
