//! The webhook receiver every push channel shares: a vendor's feed that is posted to (Graph's
//! change notifications, Twilio's event callbacks) brings only its service, the handler of one
//! request; `serve` (feature `receiver`) accepts the connections, bounds them by
//! [`ReceiverLimits`] and runs the service on each request. [`check_public_url`] checks the
//! public URL the vendor posts to, with the vendor's setting name in its messages.
//!
//! What `serve` guarantees, whatever the service does:
//! - at most [`ReceiverLimits::max_connections`] connections are served at once; the others wait
//!   in the listen queue until one ends;
//! - a client that does not send a request's headers within
//!   [`ReceiverLimits::header_read_timeout`] (a new connection, or one kept alive between
//!   requests; a byte a second, "slowloris") is cut off (hyper's `header_read_timeout`);
//! - a request not answered within [`ReceiverLimits::request_timeout`] once its headers are in
//!   (a body that trickles in, a slow service) is answered `408 Request Timeout` and its
//!   connection closed;
//! - the service reads the body through `Body`, which fails past
//!   [`ReceiverLimits::max_body`] bytes (`read_body` turns that into `BodyError::TooLarge`,
//!   answered 413; axum's `Bytes` extractor answers 413 by itself);
//! - a failed `accept` (out of file descriptors, say) is tried again after a pause, not in a
//!   busy loop, and every connection ends with the accept loop (abort the task that runs
//!   `serve` to stop it all).

use std::time::Duration;

use crate::{Failure, PresenceError, Vendor};

/// How long a client has by default to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request may take by default once its headers are in (its body read and the
/// answer made included).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections are served at once by default.
pub const MAX_CONNECTIONS: usize = 64;

/// The largest request body read by default (1 MiB).
pub const MAX_BODY: usize = 1 << 20;

/// A receiver's bounds on slow, many and large clients. [`Default`]: [`HEADER_READ_TIMEOUT`],
/// [`REQUEST_TIMEOUT`], [`MAX_CONNECTIONS`], [`MAX_BODY`]; a vendor's feed may start from its
/// own (its webhook says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverLimits {
    /// Cut off a client whose request headers are not in after this long.
    pub header_read_timeout: Duration,
    /// Answer 408 to a request not answered after this long (from its headers).
    pub request_timeout: Duration,
    /// Serve at most this many connections at once.
    pub max_connections: usize,
    /// Read at most this many bytes of a request's body.
    pub max_body: usize,
}

impl Default for ReceiverLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: HEADER_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            max_body: MAX_BODY,
        }
    }
}

impl ReceiverLimits {
    /// Cut off a client whose headers are not in after `timeout`.
    pub fn with_header_read_timeout(self, timeout: Duration) -> Self {
        Self {
            header_read_timeout: timeout,
            ..self
        }
    }

    /// Answer 408 to a request not done after `timeout`.
    pub fn with_request_timeout(self, timeout: Duration) -> Self {
        Self {
            request_timeout: timeout,
            ..self
        }
    }

    /// Serve at most `n` connections at once.
    pub fn with_max_connections(self, n: usize) -> Self {
        Self {
            max_connections: n,
            ..self
        }
    }

    /// Read at most `bytes` of a request's body.
    pub fn with_max_body(self, bytes: usize) -> Self {
        Self {
            max_body: bytes,
            ..self
        }
    }

    /// These limits, unless one of them is zero (a receiver that serves nothing): an
    /// [`Failure::InvalidInput`] error of `vendor` naming them.
    pub fn checked(self, vendor: Vendor) -> Result<Self, PresenceError> {
        if self.header_read_timeout.is_zero()
            || self.request_timeout.is_zero()
            || self.max_connections == 0
            || self.max_body == 0
        {
            return Err(PresenceError::new(
                vendor,
                Failure::InvalidInput {
                    message: format!("the webhook receiver's limits must be above zero: {self:?}"),
                },
            ));
        }
        Ok(self)
    }
}

/// `url` checked as the public URL `vendor` posts to (its setting `setting`, served by the
/// receiver listening on `listen_setting` behind a reverse proxy): `https://`, or `http://` to
/// loopback only (tests, a fake: [`agentstatus_runtime::is_loopback`]); no credentials, no
/// fragment. The parsed URL is returned; a vendor that signs the URL as given (Twilio) keeps its
/// own text, one that normalises it (Graph) takes the parsed one's. An error shows the URL's
/// scheme and host only, never its credentials, path, query or fragment.
pub fn check_public_url(
    vendor: Vendor,
    setting: &str,
    listen_setting: &str,
    url: &str,
) -> Result<reqwest::Url, PresenceError> {
    let invalid = |message: String| PresenceError::new(vendor, Failure::InvalidInput { message });
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| invalid(format!("{setting}: {:?} is not a URL ({e})", shown(url))))?;
    let web = matches!(parsed.scheme(), "https" | "http");
    // what a message may show of the URL: its scheme and host, never its path, query, fragment
    // or credentials (which may hold a secret)
    let origin = format!(
        "{}://{}",
        parsed.scheme(),
        parsed.host_str().unwrap_or_default()
    );
    if !web {
        return Err(invalid(format!(
            "{setting}: not an http(s) URL; {vendor} posts to https:// URLs only (http:// to loopback only); put a reverse proxy with a certificate in front of {listen_setting}"
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(format!(
            "{setting} ({origin}/...): no credentials in the public URL"
        )));
    }
    if parsed.fragment().is_some() {
        return Err(invalid(format!(
            "{setting} ({origin}/...): no fragment in the public URL"
        )));
    }
    if parsed.scheme() == "http" && !agentstatus_runtime::is_loopback(&parsed) {
        return Err(invalid(format!(
            "{setting} ({origin}/...): {vendor} posts to https:// URLs only (http:// to loopback only); put a reverse proxy with a certificate in front of {listen_setting}"
        )));
    }
    Ok(parsed)
}

/// Text that is not a URL, for a message: without what could be a user and password before
/// an `@`.
fn shown(text: &str) -> String {
    match text.rsplit_once('@') {
        Some((_, host)) => format!("...@{host}"),
        None => text.to_string(),
    }
}

#[cfg(feature = "receiver")]
pub use serving::{Body, BodyError, read_body, serve};

#[cfg(feature = "receiver")]
mod serving {
    use std::error::Error as StdError;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::time::Duration;

    use http_body_util::combinators::UnsyncBoxBody;
    use http_body_util::{BodyExt as _, Empty, Limited};
    use hyper::body::{Bytes, Incoming};
    use hyper::header::{CONNECTION, HeaderValue};
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::{TokioIo, TokioTimer};

    use super::ReceiverLimits;

    /// A request's body as the service gets it: it fails past [`ReceiverLimits::max_body`]
    /// bytes (an [`http_body_util::LengthLimitError`]).
    pub type Body = Limited<Incoming>;

    /// Why [`read_body`] has no body.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum BodyError {
        /// Longer than [`ReceiverLimits::max_body`]: answer 413.
        TooLarge,
        /// The client broke off or sent a malformed body: answer 400.
        Broken,
    }

    impl BodyError {
        /// The status to answer with.
        pub fn status(self) -> StatusCode {
            match self {
                BodyError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                BodyError::Broken => StatusCode::BAD_REQUEST,
            }
        }
    }

    /// The whole body, within [`ReceiverLimits::max_body`].
    pub async fn read_body(body: Body) -> Result<Bytes, BodyError> {
        match body.collect().await {
            Ok(b) => Ok(b.to_bytes()),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(BodyError::TooLarge)
            }
            Err(_) => Err(BodyError::Broken),
        }
    }

    /// A failed `accept` (out of file descriptors, say) is tried again after this pause, not
    /// in a busy loop.
    const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

    type BoxError = Box<dyn StdError + Send + Sync>;

    /// The service's error, or its answer body's: the connection is closed. A named type, not
    /// a boxed `dyn Error`, so that the connection's future is `Send` for every service.
    #[derive(Debug)]
    struct Broken(BoxError);

    impl std::fmt::Display for Broken {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.fmt(f)
        }
    }

    impl StdError for Broken {}

    type Answer = Response<UnsyncBoxBody<Bytes, Broken>>;

    /// Serve `service` on `listener` within `limits` (see the [module](super)) until the task
    /// running it is aborted: every connection ends with it. HTTP/1 only (what the vendors post
    /// with, behind the reverse proxy). `service` answers one request; an error it returns closes
    /// the connection without an answer.
    pub async fn serve<S, B>(listener: tokio::net::TcpListener, service: S, limits: ReceiverLimits)
    where
        S: hyper::service::Service<Request<Body>, Response = Response<B>> + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let service = Arc::new(service);
        let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
        let mut connections = tokio::task::JoinSet::new();
        loop {
            // the connections that ended (their slots are free already)
            while connections.try_join_next().is_some() {}
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            };
            let service = service.clone();
            connections.spawn(async move {
                let bounded = hyper::service::service_fn(move |request: Request<Incoming>| {
                    one_request(service.clone(), request, limits)
                });
                let mut http = hyper::server::conn::http1::Builder::new();
                http.timer(TokioTimer::new())
                    .header_read_timeout(limits.header_read_timeout);
                let _ = http.serve_connection(TokioIo::new(stream), bounded).await;
                drop(permit);
            });
        }
    }

    /// One request, its body bounded, answered within the request timeout (else 408, and the
    /// connection closed).
    fn one_request<S, B>(
        service: Arc<S>,
        request: Request<Incoming>,
        limits: ReceiverLimits,
    ) -> Pin<Box<dyn Future<Output = Result<Answer, Broken>> + Send>>
    where
        S: hyper::service::Service<Request<Body>, Response = Response<B>> + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let request = request.map(|b| Limited::new(b, limits.max_body));
        let answering = service.call(request);
        Box::pin(async move {
            match tokio::time::timeout(limits.request_timeout, answering).await {
                Ok(Ok(answer)) => {
                    Ok(answer.map(|b| b.map_err(|e| Broken(e.into())).boxed_unsync()))
                }
                Ok(Err(e)) => Err(Broken(e.into())),
                Err(_) => {
                    let empty = Empty::new().map_err(|never| match never {}).boxed_unsync();
                    let mut answer = Response::new(empty);
                    *answer.status_mut() = StatusCode::REQUEST_TIMEOUT;
                    answer
                        .headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                    Ok(answer)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: Vendor = Vendor::new("example");

    fn check(url: &str) -> Result<String, String> {
        check_public_url(V, "webhook_url", "webhook_listen", url)
            .map(|u| u.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn https_or_loopback_http_only_without_credentials_or_fragment() {
        for ok in [
            "https://hooks.example.com/in",
            "http://127.0.0.1:8080/in",
            "http://localhost/in",
            "http://[::1]:9/in",
        ] {
            check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let e = check("http://hooks.example.com/in").unwrap_err();
        assert!(
            e.contains("webhook_url") && e.contains("webhook_listen"),
            "{e}"
        );
        assert!(e.contains("https://"), "{e}");
        let e = check("https://hooks.example.com/in#top").unwrap_err();
        assert!(e.contains("fragment"), "{e}");
        let e = check("not a url").unwrap_err();
        assert!(e.contains("webhook_url") && e.contains("not a URL"), "{e}");
    }

    #[test]
    fn credentials_are_refused_and_never_repeated() {
        for url in [
            "https://user:hunter2@hooks.example.com/in",
            "https://hunter2@hooks.example.com/in",
        ] {
            let e = check(url).unwrap_err();
            assert!(e.contains("credentials"), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.contains("hooks.example.com"), "{e}");
        }
        for odd in ["hunter2:x@", "hunter2:x@host", "ftp://u:hunter2@host/x"] {
            let e = check(odd).unwrap_err();
            assert!(!e.contains("hunter2"), "{odd}: {e}");
        }
        // a secret in the path, query or fragment is not shown either
        let e = check("http://hooks.example.com/hunter2?k=hunter2#hunter2").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("http://hooks.example.com"), "{e}");
    }

    #[test]
    fn limits_of_zero_are_refused() {
        let l = ReceiverLimits::default();
        for bad in [
            l.with_header_read_timeout(Duration::ZERO),
            l.with_request_timeout(Duration::ZERO),
            l.with_max_connections(0),
            l.with_max_body(0),
        ] {
            let e = bad.checked(V).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{e}");
        }
        assert_eq!(l.checked(V).unwrap(), l);
    }

    /// The shared receiver on the wire: a body over the bound is answered 413 through
    /// `read_body`, one that trickles in 408 within the request timeout; the service's answer
    /// otherwise.
    #[cfg(feature = "receiver")]
    #[tokio::test]
    async fn the_receiver_bounds_bodies_and_slow_requests() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = hyper::service::service_fn(|request: hyper::Request<Body>| async move {
            let status = match read_body(request.into_body()).await {
                Ok(b) if &b[..] == b"hello" => hyper::StatusCode::OK,
                Ok(_) => hyper::StatusCode::UNPROCESSABLE_ENTITY,
                Err(e) => e.status(),
            };
            let mut answer =
                hyper::Response::new(http_body_util::Empty::<hyper::body::Bytes>::new());
            *answer.status_mut() = status;
            Ok::<_, std::convert::Infallible>(answer)
        });
        let limits = ReceiverLimits::default()
            .with_max_body(8)
            .with_request_timeout(Duration::from_millis(500));
        let task = tokio::spawn(serve(listener, service, limits));
        async fn ask(addr: std::net::SocketAddr, request: &[u8], then: &[u8]) -> String {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(request).await.unwrap();
            if !then.is_empty() {
                tokio::time::sleep(Duration::from_millis(900)).await;
                let _ = s.write_all(then).await;
            }
            let mut got = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await;
            String::from_utf8_lossy(&got).into_owned()
        }
        let head = |len: usize| {
            format!(
                "POST /in HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {len}\r\n\r\n"
            )
        };
        let ok = ask(addr, format!("{}hello", head(5)).as_bytes(), b"").await;
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        let big = ask(addr, format!("{}0123456789", head(10)).as_bytes(), b"").await;
        assert!(big.starts_with("HTTP/1.1 413"), "{big}");
        let slow = ask(addr, head(5).as_bytes(), b"hello").await;
        assert!(slow.starts_with("HTTP/1.1 408"), "{slow}");
        task.abort();
    }
}
