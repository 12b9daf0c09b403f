//! The accept loop: every TCP connection is admitted under the connection caps
//! (`server::connections`), then served as HTTP/1.1 by hyper with a deadline for each request
//! head, and shut down gracefully on the stop signal.
//!
//! Which part does what:
//! - hyper's `http1::Builder::header_read_timeout` (with hyper-util's `TokioTimer`) closes a
//!   connection whose request head has not fully arrived in time. It runs from the moment the
//!   connection is served and again from the end of each response, so it is also the idle
//!   keep-alive timeout (hyper 1.12).
//! - tower-http's `RequestBodyTimeoutLayer` (on the upload routes, `app.rs`) ends a body that
//!   stops arriving; the other routes' `TimeoutLayer` bounds the whole request, body included.
//! - hyper-util's `GracefulShutdown` lets requests in progress finish at shutdown.
//! - The caps on open connections are ours: none of those crates counts connections.
//!
//! `axum::serve` is not used because it sets no timer, so hyper's header timeout never runs.
//! HTTP/2 is not served in clear text (browsers only speak it over TLS); it comes with TLS.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::{Body as _, Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use super::connections::{Admitted, Caps, CloseSignal, Connections, Refused};

/// How connections are served.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A request head (the first, or the next on a kept-alive connection) must arrive within
    /// this.
    pub header_timeout: Duration,
    pub caps: Caps,
    /// How long requests in progress may run on after the stop signal.
    pub shutdown_grace: Duration,
}

/// Connections waiting to be accepted: the kernel drops new ones (the client retries a second
/// later) past this. tokio's default, 1024, overflowed under a burst of connections; Linux caps
/// it at `net.core.somaxconn` (4096 by default).
const BACKLOG: u32 = 4096;

/// Listen on `addr` with the backlog above.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serve `router` on `listener` until `stop` resolves, then let requests in progress finish
/// (at most `shutdown_grace`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: Settings,
    stop: impl std::future::Future<Output = ()>,
) {
    let connections = Connections::new(settings.caps);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let refusals = Refusals::default();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let (admitted, close) = match connections.admit(peer.ip()) {
            Ok(admitted) => admitted,
            Err(refused) => {
                refusals.count(refused, connections.open());
                reset(stream);
                continue;
            }
        };
        let service = Service::new(router.clone(), peer, admitted);
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(run_connection(conn, close));
    }
    drop(listener);
    if tokio::time::timeout(settings.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = settings.shutdown_grace.as_secs(),
            "requests still running at shutdown were cut off"
        );
    }
}

/// Serve one connection until it ends, or until the caps want its place.
async fn run_connection(
    conn: impl std::future::Future<Output = Result<(), hyper::Error>>,
    close: CloseSignal,
) {
    tokio::select! {
        result = conn => {
            if let Err(e) = result {
                // Timeouts and clients going away are routine; only log them for debugging.
                tracing::debug!(error = %e, "connection ended");
            }
        }
        _ = close => tracing::debug!("connection closed to make room for a newer one"),
    }
}

/// Close a refused connection with a reset: no lingering state on either side.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// What `accept` failing means: a client gone before we took it is nothing; running out of
/// descriptors (which the caps should prevent) or another error is waited out, as the listener
/// cannot do better than try again shortly.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    static LAST_LOGGED: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);
    {
        let mut last = LAST_LOGGED.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() > LOG_EVERY) {
            tracing::error!(error = %e, "accepting a connection failed");
            *last = Some(Instant::now());
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// At most one log line per this much time about refused connections.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Counts refused connections and says so at most every `LOG_EVERY`, so an attack does not
/// flood the log.
#[derive(Debug, Default)]
struct Refusals {
    by_address: AtomicU64,
    full: AtomicU64,
    last_logged: std::sync::Mutex<Option<Instant>>,
}

impl Refusals {
    fn count(&self, refused: Refused, open: usize) {
        match refused {
            Refused::Address => self.by_address.fetch_add(1, Ordering::Relaxed),
            Refused::Full => self.full.fetch_add(1, Ordering::Relaxed),
        };
        let mut last = self.last_logged.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < LOG_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        tracing::warn!(
            open,
            over_address_cap = self.by_address.swap(0, Ordering::Relaxed),
            over_total_cap = self.full.swap(0, Ordering::Relaxed),
            "connections refused: every connection allowed is busy (server.max_connections, server.max_connections_per_address)"
        );
    }
}

/// The router behind one connection: marks the connection as started at its first request, and
/// gives handlers the client address (`ConnectInfo`).
#[derive(Clone)]
struct Service {
    router: Router,
    peer: SocketAddr,
    admitted: Arc<Admitted>,
}

impl Service {
    fn new(router: Router, peer: SocketAddr, admitted: Admitted) -> Service {
        Service {
            router,
            peer,
            admitted: Arc::new(admitted),
        }
    }
}

impl hyper::service::Service<hyper::Request<Incoming>> for Service {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, mut req: hyper::Request<Incoming>) -> Self::Future {
        self.admitted.started();
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let (req, read) = Watched::wrap(req);
        let answer = self.router.clone().oneshot(req);
        Box::pin(async move {
            let mut response = answer.await?;
            if read.is_some_and(|read| !read.load(Ordering::Acquire)) {
                close_after(&mut response);
            }
            Ok(response)
        })
    }
}

/// Say that the connection closes after this answer. A request answered before its body was
/// read to the end (a refusal: too large, unauthorised, malformed) leaves the rest of the body
/// on the wire, so hyper closes the connection; without this header the client would not know
/// and could send its next request on a connection that is going away (RFC 9112, section 9.6).
fn close_after(response: &mut axum::response::Response) {
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
}

/// A request body that notes when it has been read to its end.
struct Watched {
    inner: Incoming,
    read: Arc<AtomicBool>,
}

impl Watched {
    /// Wrap the body of `req`; the flag is `None` when the request has no body at all.
    fn wrap(req: hyper::Request<Incoming>) -> (hyper::Request<Watched>, Option<Arc<AtomicBool>>) {
        let empty = req.body().is_end_stream();
        let read = Arc::new(AtomicBool::new(empty));
        let flag = (!empty).then(|| read.clone());
        (req.map(|inner| Watched { inner, read }), flag)
    }
}

impl hyper::body::Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
