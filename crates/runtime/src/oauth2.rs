//! OAuth 2.0 client credentials (RFC 6749 §4.4): what a generated `Client::with_<scheme>` of an
//! `oauth2` security scheme with a `clientCredentials` flow runs on.
//!
//! - **One token, shared.** The token endpoint is called when the first request needs a token;
//!   the token is cached in the client's [`Inner`](crate::Inner), shared by every clone of the
//!   client. Concurrent requests wait for one fetch (single-flight): N requests at once send one
//!   token request, and if that fails, all N get its error (no stampede on a failing endpoint).
//! - **Refreshed before expiry:** at `expires_in` less a skew ([`ClientCredentials::with_refresh_skew`],
//!   default 60 s, at most half the lifetime); a token without `expires_in` is kept until the API
//!   answers 401.
//! - **Once on a 401:** a request answered 401 makes the client drop that token, fetch a new one
//!   (one fetch however many requests saw the 401) and send the request once more; a second 401
//!   is the API's answer. A request whose body cannot be replayed (a stream) is not retried.
//! - **Where secrets go.** The client secret is sent only to the token URL, in the form body
//!   ([`ClientAuth::Post`], `client_secret_post`, the default) or as HTTP Basic
//!   ([`ClientAuth::Basic`], RFC 6749 §2.3.1). The token is sent only to the API's origin (scheme,
//!   host and port of the base URL), in a sensitive `Authorization: Bearer` header. Neither is ever
//!   in `Debug` output, an error, a log event or a URL.
//! - **Retried like the API's calls.** A token request the endpoint could not answer (the
//!   connection refused or dropped before an answer), or answered 429 or 5xx (500, 502, 503,
//!   504; `Retry-After` honoured), is sent again with the client's [`crate::RetryPolicy`]:
//!   at most `max_attempts` in all, jittered exponential backoff. A refusal (400, 401, 403:
//!   `invalid_client`, `invalid_scope`, ...) is never retried: the same credentials get the
//!   same answer. The request only asks for a token, so sending it again changes nothing.
//! - **Bounded: one budget per call.** A generated call's token fetch and its request (with
//!   their retries, and the one refresh after a 401) share one deadline,
//!   [`crate::RetryPolicy::deadline`], counted from the moment the call's hooks start: a call
//!   never takes longer than the deadline (plus the last attempt's cancellation), however the
//!   time is split between the token endpoint and the API. [`OAuth2::token`] alone has the
//!   whole deadline. The token endpoint's answer is read up to [`MAX_TOKEN_ANSWER_BYTES`], each
//!   attempt at most the client's timeout; redirects are never followed.
//! - **Typed errors.** [`TokenError`]: the endpoint's own RFC 6749 §5.2 error (`error`,
//!   `error_description`, `error_uri`), another status, an unparseable, oversized or redirecting
//!   answer, a network failure or the deadline ([`TokenError::is_transient`] says whether trying
//!   later may help). A generated call that cannot get a token fails with progenitor's
//!   `Error::Custom` carrying the error's message, and the typed error is recorded for
//!   [`crate::observed_token_error`] (the presence layer maps it from there);
//!   [`OAuth2::token`] gives the typed error too.
//!
//! Why `client_secret_post` by default: RFC 6749 §2.3.1 lets a server accept the credentials in
//! the body, and the identity providers the vendors of this workspace use (Microsoft identity
//! platform for Graph) document exactly that form; Basic requires both parts to be
//! form-urlencoded before base64, which servers decode inconsistently. Servers that only take
//! Basic (the RFC's MUST) get it with [`ClientAuth::Basic`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use crate::retry::{self, RetryPolicy};
use crate::{BuildError, ClientConfig, guard};

/// The largest token endpoint answer read, in bytes: a token answer is a few KiB at most (an
/// Entra ID JWT is ~2 KiB); anything larger is refused with [`TokenErrorKind::TooLarge`].
pub const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;

/// The longest a token is kept without a refresh, whatever its `expires_in` says: a year.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The default [`ClientCredentials::with_refresh_skew`]: a token is refreshed 60 s before it
/// expires (at most half its lifetime before).
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);

/// How the client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_secret_post`: `client_id` and `client_secret` in the form body. The default.
    #[default]
    Post,
    /// `client_secret_basic`: `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
    Basic,
}

/// The client credentials grant's settings: client id and secret, token URL, scopes.
///
/// A generated `Client::<scheme>_credentials(client_id, client_secret)` returns one with the
/// document's `tokenUrl` and scopes; [`with_token_url`](Self::with_token_url) and
/// [`with_scopes`](Self::with_scopes) override them (Microsoft's token URL has the tenant in its
/// path, say). `Debug` never shows the secret.
#[derive(Clone)]
pub struct ClientCredentials {
    client_id: String,
    client_secret: SecretString,
    token_url: String,
    scopes: Vec<String>,
    client_auth: ClientAuth,
    refresh_skew: Duration,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("token_url", &shown_token_url(&self.token_url))
            .field("scopes", &self.scopes)
            .field("client_auth", &self.client_auth)
            .field("refresh_skew", &self.refresh_skew)
            .finish()
    }
}

impl ClientCredentials {
    /// Credentials for `token_url`, with no scope, [`ClientAuth::Post`] and the default skew.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: SecretString,
        token_url: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            token_url: token_url.into(),
            scopes: Vec::new(),
            client_auth: ClientAuth::default(),
            refresh_skew: DEFAULT_REFRESH_SKEW,
        }
    }

    /// Another token URL (absolute, or relative to the client's base URL).
    pub fn with_token_url(mut self, token_url: impl Into<String>) -> Self {
        self.token_url = token_url.into();
        self
    }

    /// The scopes asked for (the `scope` parameter, space-separated; none: no parameter).
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// How the client authenticates to the token endpoint (default [`ClientAuth::Post`]).
    pub fn with_client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.client_auth = client_auth;
        self
    }

    /// How long before its expiry a token is refreshed (default [`DEFAULT_REFRESH_SKEW`]; at
    /// most half the token's lifetime is used).
    pub fn with_refresh_skew(mut self, skew: Duration) -> Self {
        self.refresh_skew = skew;
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The token URL.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
}

/// What went wrong getting a token; never contains the client secret or a token.
///
/// `Display` and `Debug` show [`TokenError::token_url`] without its query, fragment and
/// credentials ([`shown_token_url`]), however it was made: the runtime's own errors hold the
/// scheme, host, port and path only, and one built elsewhere from a token URL as configured
/// (`...?client_secret=...`) is printed the same way.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenError {
    /// The token URL: scheme, host, port and path (never its query, in the runtime's errors).
    pub token_url: String,
    /// What happened.
    pub kind: TokenErrorKind,
}

/// The ways getting a token fails.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenErrorKind {
    /// The endpoint's own error answer (RFC 6749 §5.2), e.g. `invalid_client`, `invalid_scope`.
    Rejected {
        /// The HTTP status (400 or 401 by the RFC).
        status: u16,
        /// `error`: the RFC's error code.
        error: String,
        /// `error_description`, if any (control characters escaped, clipped).
        description: Option<String>,
        /// `error_uri`, if any.
        uri: Option<String>,
    },
    /// A status that is not success and a body that is not an RFC 6749 §5.2 error.
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// A success answer that is not a usable token answer (not JSON, no `access_token`, a
    /// `token_type` other than Bearer, a token that cannot be sent in a header).
    InvalidAnswer {
        /// The HTTP status.
        status: u16,
        /// Why it is not usable.
        reason: String,
    },
    /// An answer larger than [`MAX_TOKEN_ANSWER_BYTES`]; nothing past the limit was read.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A 3xx answer: redirects are never followed (the secret would travel with them).
    Redirect(guard::Redirect),
    /// The endpoint could not be reached, or the connection failed.
    Network {
        /// What failed (the transport's error chain; no URL query, no secret).
        message: String,
    },
    /// No answer within the client's deadline.
    TimedOut {
        /// The deadline.
        after: Duration,
    },
}

/// A token URL as it may be shown (an error, `Debug`): scheme, host, port and path; a query,
/// a fragment or credentials in it are replaced by `<redacted>` (a query may carry a
/// `client_secret`). A URL that does not parse (a relative one) keeps what comes before its
/// first `?` or `#`, without anything up to an `@` in its authority.
pub fn shown_token_url(url: &str) -> String {
    let redacted = "<redacted>";
    if let Ok(u) = reqwest::Url::parse(url) {
        let mut shown = String::new();
        if !u.username().is_empty() || u.password().is_some() {
            shown.push_str(redacted);
            shown.push('@');
        }
        let mut s = guard::origin_and_path(&u);
        if !shown.is_empty() {
            // the credentials' place: after the scheme
            if let Some(at) = s.find("://") {
                s.insert_str(at + 3, &shown);
            }
        }
        if u.query().is_some() {
            s.push('?');
            s.push_str(redacted);
        }
        if u.fragment().is_some() {
            s.push('#');
            s.push_str(redacted);
        }
        return s;
    }
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let (head, tail) = url.split_at(cut);
    // `scheme://user:pass@host/...` that did not parse: no credentials either
    let head = match head.find("://") {
        Some(scheme_end) => {
            let authority_end = head[scheme_end + 3..]
                .find('/')
                .map_or(head.len(), |i| scheme_end + 3 + i);
            match head[scheme_end + 3..authority_end].rfind('@') {
                Some(at) => format!(
                    "{}{redacted}{}",
                    &head[..scheme_end + 3],
                    &head[scheme_end + 3 + at..]
                ),
                None => head.to_string(),
            }
        }
        None => head.to_string(),
    };
    let mut shown: String = head
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    if tail.starts_with('?') {
        shown.push('?');
        shown.push_str(redacted);
    } else if tail.starts_with('#') {
        shown.push('#');
        shown.push_str(redacted);
    }
    shown
}

impl fmt::Debug for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenError")
            .field("token_url", &shown_token_url(&self.token_url))
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OAuth 2.0 token endpoint {}: ",
            shown_token_url(&self.token_url)
        )?;
        match &self.kind {
            TokenErrorKind::Rejected {
                status,
                error,
                description,
                uri,
            } => {
                write!(f, "refused the client credentials: {error} (HTTP {status})")?;
                if let Some(d) = description {
                    write!(f, ": {d}")?;
                }
                if let Some(u) = uri {
                    write!(f, " (see {u})")?;
                }
                Ok(())
            }
            TokenErrorKind::Status { status } => write!(
                f,
                "answered HTTP {status} without an OAuth 2.0 error (RFC 6749 §5.2)"
            ),
            TokenErrorKind::InvalidAnswer { status, reason } => {
                write!(f, "answered HTTP {status} but not a usable token: {reason}")
            }
            TokenErrorKind::TooLarge { limit } => write!(
                f,
                "the answer is larger than {limit} bytes; nothing past the limit was read"
            ),
            TokenErrorKind::Redirect(r) => write!(f, "{r}"),
            TokenErrorKind::Network { message } => write!(f, "{message}"),
            TokenErrorKind::TimedOut { after } => {
                write!(f, "no token within the client's deadline of {after:?}")
            }
        }
    }
}

impl std::error::Error for TokenError {}

impl TokenError {
    /// Whether asking again later may give a token: the endpoint could not be reached or
    /// dropped the connection, did not answer in time, or answered 429 or 5xx (an RFC 6749
    /// error such as `temporarily_unavailable` with a 503 included). A refusal of the
    /// credentials (400, 401, 403), an unusable answer or a redirect is not transient.
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            TokenErrorKind::Rejected { status, .. } | TokenErrorKind::Status { status } => {
                retryable_status(*status)
            }
            TokenErrorKind::Network { .. } | TokenErrorKind::TimedOut { .. } => true,
            _ => false,
        }
    }

    /// The token endpoint's HTTP status, when it answered.
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            TokenErrorKind::Rejected { status, .. }
            | TokenErrorKind::Status { status }
            | TokenErrorKind::InvalidAnswer { status, .. } => Some(*status),
            TokenErrorKind::Redirect(r) => Some(r.status),
            _ => None,
        }
    }
}

/// The token endpoint's statuses worth another attempt: the API's ([`retry::is_retryable_status`]:
/// 429, 502, 503, 504) and 500, since a token request changes nothing when sent again.
fn retryable_status(status: u16) -> bool {
    status == 500 || reqwest::StatusCode::from_u16(status).is_ok_and(retry::is_retryable_status)
}

/// One failed attempt at the token endpoint: the error, and whether to try again (after the
/// answer's `Retry-After`, if it had one).
struct Attempt {
    error: TokenError,
    transient: bool,
    retry_after: Option<Duration>,
}

/// A cached token: the `Authorization` header it is sent as, and when to refresh it.
struct Cached {
    header: HeaderValue,
    refresh_at: Option<Instant>,
}

#[derive(Default)]
struct State {
    token: Option<Cached>,
    last_error: Option<TokenError>,
}

struct Shared {
    credentials: ClientCredentials,
    token_url: reqwest::Url,
    api_origin: url::Origin,
    http: reqwest::Client,
    timeout: Duration,
    retry: RetryPolicy,
    state: tokio::sync::Mutex<State>,
    /// Fetches finished (successful or not): a waiter that sees it change got that fetch's result.
    fetches: AtomicU64,
}

/// The client credentials grant of one client, shared by its clones: the token cache and the
/// token endpoint's settings. Built by [`crate::connect_oauth2`]; reached by a generated client
/// through `client.inner().oauth2()`.
#[derive(Clone)]
pub struct OAuth2 {
    shared: Arc<Shared>,
}

impl fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2")
            .field("client_id", &self.shared.credentials.client_id)
            .field("token_url", &guard::origin_and_path(&self.shared.token_url))
            .field("scopes", &self.shared.credentials.scopes)
            .finish_non_exhaustive()
    }
}

/// `s` without control characters (escaped), at most 300 characters, with `secret` replaced.
fn clean(s: &str, secret: &str) -> String {
    let s = if secret.is_empty() {
        s.to_string()
    } else {
        s.replace(secret, "[redacted]")
    };
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == 300 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

impl OAuth2 {
    /// Check the token URL (absolute, or relative to `base_url`) and set up the grant.
    pub(crate) fn new(
        base_url: &str,
        credentials: ClientCredentials,
        http: reqwest::Client,
        config: &ClientConfig,
    ) -> Result<Self, BuildError> {
        let base = reqwest::Url::parse(base_url).map_err(|e| BuildError::InvalidBaseUrl {
            url: crate::redact_url(base_url),
            reason: e.to_string(),
        })?;
        // RFC 6749, Appendix A: client-id and client-secret = *VSCHAR (%x20-7E); anything else
        // is a paste error (a line break, a tab) or text the token endpoint cannot take as sent
        let vschar = |text: &str| text.chars().all(|c| (' '..='~').contains(&c));
        if !vschar(&credentials.client_id) {
            return Err(BuildError::InvalidClientCredential { what: "client id" });
        }
        if !vschar(credentials.client_secret.expose_secret()) {
            return Err(BuildError::InvalidClientCredential {
                what: "client secret",
            });
        }
        let invalid = |reason: &str| BuildError::InvalidTokenUrl {
            url: crate::redact_url(&credentials.token_url),
            reason: reason.to_string(),
        };
        let token_url = base
            .join(&credentials.token_url)
            .map_err(|e| invalid(&e.to_string()))?;
        if !matches!(token_url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be https (or http to loopback)"));
        }
        if !token_url.username().is_empty() || token_url.password().is_some() {
            return Err(invalid(
                "credentials do not belong in the URL; pass them to ClientCredentials",
            ));
        }
        if token_url.fragment().is_some() {
            return Err(invalid("the token URL must not have a fragment"));
        }
        if token_url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the token URL needs a host"));
        }
        if token_url.scheme() == "http"
            && !config.allow_insecure_http
            && !crate::is_loopback(&token_url)
        {
            return Err(BuildError::InsecureHttp {
                host: token_url.host_str().unwrap_or_default().to_string(),
            });
        }
        if token_url.path().contains('{') || token_url.path().contains("%7B") {
            return Err(invalid(
                "the token URL still has a `{variable}` in its path: set it with ClientCredentials::with_token_url",
            ));
        }
        Ok(Self {
            shared: Arc::new(Shared {
                credentials,
                token_url,
                api_origin: base.origin(),
                http,
                timeout: config.timeout,
                retry: config.retry.clone(),
                state: tokio::sync::Mutex::new(State::default()),
                fetches: AtomicU64::new(0),
            }),
        })
    }

    /// The `Authorization` header value of a valid token: the cached one, or a new one from the
    /// token endpoint (one fetch for all concurrent callers, retried on transient failures,
    /// within the client's deadline). The value is marked sensitive.
    pub async fn token(&self) -> Result<HeaderValue, TokenError> {
        self.token_until(self.deadline_from_now()).await
    }

    fn deadline_from_now(&self) -> std::time::Instant {
        retry::deadline_after(std::time::Instant::now(), self.shared.retry.deadline)
    }

    /// [`OAuth2::token`], with a fetch (its retries and waits) ending by `deadline`.
    pub(crate) async fn token_until(
        &self,
        deadline: std::time::Instant,
    ) -> Result<HeaderValue, TokenError> {
        let seen = self.shared.fetches.load(Ordering::SeqCst);
        let mut state = self.shared.state.lock().await;
        if let Some(cached) = &state.token
            && cached.refresh_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(cached.header.clone());
        }
        // a fetch finished while this caller waited, and failed: its error is this caller's too
        if self.shared.fetches.load(Ordering::SeqCst) != seen
            && let Some(e) = &state.last_error
        {
            return Err(e.clone());
        }
        let result = self.fetch(deadline).await;
        self.shared.fetches.fetch_add(1, Ordering::SeqCst);
        match result {
            Ok(cached) => {
                let header = cached.header.clone();
                state.token = Some(cached);
                state.last_error = None;
                Ok(header)
            }
            Err(e) => {
                state.token = None;
                state.last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// The error of the last token fetch, if it failed and no fetch has succeeded since: what a
    /// generated call that failed with `Error::Custom` (no token) ran into, typed, without
    /// asking the token endpoint again (an adapter maps [`TokenErrorKind::Rejected`] to an
    /// authentication failure, say).
    pub async fn last_error(&self) -> Option<TokenError> {
        self.shared.state.lock().await.last_error.clone()
    }

    /// Give `request` the token, if it goes to the API's origin (never elsewhere).
    pub async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), TokenError> {
        self.authorize_until(request, self.deadline_from_now())
            .await
    }

    /// [`OAuth2::authorize`], with a token fetch ending by `deadline`.
    pub(crate) async fn authorize_until(
        &self,
        request: &mut reqwest::Request,
        deadline: std::time::Instant,
    ) -> Result<(), TokenError> {
        if request.url().origin() != self.shared.api_origin {
            tracing::debug!(
                target: "agentstatus_runtime::oauth2",
                // the origin only: the path may hold a secret path parameter
                origin = %request.url().origin().ascii_serialization(),
                "not the API's origin: the request is sent without the token"
            );
            return Ok(());
        }
        let header = self.token_until(deadline).await?;
        request.headers_mut().insert(AUTHORIZATION, header);
        Ok(())
    }

    /// The API answered 401 to a request sent with `used`: drop that token (unless another
    /// request already replaced it) and get a valid one.
    pub async fn refresh_rejected(&self, used: &HeaderValue) -> Result<HeaderValue, TokenError> {
        self.refresh_rejected_until(used, self.deadline_from_now())
            .await
    }

    /// [`OAuth2::refresh_rejected`], with a token fetch ending by `deadline`.
    pub(crate) async fn refresh_rejected_until(
        &self,
        used: &HeaderValue,
        deadline: std::time::Instant,
    ) -> Result<HeaderValue, TokenError> {
        {
            let mut state = self.shared.state.lock().await;
            if state.token.as_ref().is_some_and(|c| c.header == *used) {
                tracing::debug!(
                    target: "agentstatus_runtime::oauth2",
                    "the API answered 401: the token is dropped and fetched again"
                );
                state.token = None;
            }
        }
        self.token_until(deadline).await
    }

    fn error(&self, kind: TokenErrorKind) -> TokenError {
        TokenError {
            token_url: guard::origin_and_path(&self.shared.token_url),
            kind,
        }
    }

    /// Get a token, retrying transient failures per the client's [`RetryPolicy`], every
    /// attempt and wait ending by `deadline`.
    async fn fetch(&self, deadline: std::time::Instant) -> Result<Cached, TokenError> {
        let policy = &self.shared.retry;
        let timed_out = || {
            self.error(TokenErrorKind::TimedOut {
                after: policy.deadline,
            })
        };
        let mut schedule = policy.schedule();
        let mut attempt = 1;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            tracing::debug!(
                target: "agentstatus_runtime::oauth2",
                token_url = %guard::origin_and_path(&self.shared.token_url),
                attempt,
                "requesting an OAuth 2.0 token (client credentials)"
            );
            let failed = match tokio::time::timeout(left, self.fetch_once(left)).await {
                Err(_) => return Err(timed_out()),
                Ok(Ok(cached)) => return Ok(cached),
                Ok(Err(failed)) => failed,
            };
            if !failed.transient || attempt >= policy.max_attempts.max(1) {
                return Err(failed.error);
            }
            // the schedule advances with every retry, whether Retry-After or it sets the wait
            let backoff = schedule.next().map(retry::full_jitter).unwrap_or_default();
            let wait = failed.retry_after.unwrap_or(backoff);
            if retry::ends_after(wait, deadline) {
                return Err(failed.error);
            }
            tracing::debug!(
                target: "agentstatus_runtime::oauth2",
                error = %failed.error,
                ?wait,
                "the token endpoint failed transiently: asking again"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt, of at most `left` (and the client's timeout).
    async fn fetch_once(&self, left: Duration) -> Result<Cached, Attempt> {
        let final_ = |error: TokenError| Attempt {
            error,
            transient: false,
            retry_after: None,
        };
        let c = &self.shared.credentials;
        let secret = c.client_secret.expose_secret();
        // the form is written before anything is awaited (its serializer is not `Send`)
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials");
            if !c.scopes.is_empty() {
                form.append_pair("scope", &c.scopes.join(" "));
            }
            if c.client_auth == ClientAuth::Post {
                form.append_pair("client_id", &c.client_id);
                form.append_pair("client_secret", secret);
            }
            form.finish()
        };
        let mut request = self
            .shared
            .http
            .post(self.shared.token_url.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .timeout(self.shared.timeout.min(left).max(Duration::from_millis(1)));
        match c.client_auth {
            ClientAuth::Post => {} // in the form above
            ClientAuth::Basic => {
                // RFC 6749 §2.3.1: both parts form-urlencoded, then Basic
                let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
                let (id, pw): (String, String) = (enc(&c.client_id), enc(secret));
                use base64::Engine as _;
                let pair = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{pw}"));
                let mut v = HeaderValue::from_str(&format!("Basic {pair}"))
                    .expect("base64 is a valid header value");
                v.set_sensitive(true);
                request = request.header(AUTHORIZATION, v);
            }
        }
        let response = request.body(body).send().await.map_err(|e| Attempt {
            error: self.error(TokenErrorKind::Network {
                message: clean(&transport(&e), secret),
            }),
            // nothing answered, or the connection closed before an answer (not a timeout:
            // the deadline governs those), as for the API's requests
            transient: retry::retryable_error(&e),
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        if let Some(redirect) = guard::redirect_of(&response) {
            return Err(final_(self.error(TokenErrorKind::Redirect(redirect))));
        }
        let retry_after = retry::retry_after(response.headers(), SystemTime::now());
        let bytes = self.read_bounded(response, secret).await.map_err(final_)?;
        if !(200..300).contains(&status) {
            return Err(Attempt {
                error: self.error(self.refusal(status, &bytes, secret)),
                transient: retryable_status(status),
                retry_after,
            });
        }
        let invalid = |reason: String| {
            final_(self.error(TokenErrorKind::InvalidAnswer {
                status,
                reason: clean(&reason, secret),
            }))
        };
        let answer: TokenAnswer = serde_json::from_slice(&bytes).map_err(|e| {
            // serde's message may quote the input: keep only its category and position
            invalid(format!(
                "not a JSON token answer (RFC 6749 §5.1) ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        let Some(token) = answer.access_token.filter(|t| !t.is_empty()) else {
            return Err(invalid("no `access_token`".into()));
        };
        match answer.token_type.as_deref() {
            Some(t) if t.eq_ignore_ascii_case("bearer") => {}
            Some(t) => {
                return Err(invalid(format!(
                    "`token_type` is `{}`, not Bearer",
                    clean(t, &token)
                )));
            }
            None => return Err(invalid("no `token_type`".into())),
        }
        let header = crate::sensitive_header(&format!("Bearer {token}"), "the OAuth 2.0 token")
            .map_err(|_| {
                invalid("the token has characters that cannot be sent in a header".into())
            })?;
        // a lifetime past a year (or past what the clock can add: a hostile `1e300`) is a year
        let lifetime = answer
            .expires_in
            .and_then(|e| e.seconds())
            .map(|secs| secs.min(MAX_TOKEN_LIFETIME.as_secs()));
        let refresh_at = lifetime.and_then(|secs| {
            let lifetime = Duration::from_secs(secs);
            let skew = c.refresh_skew.min(lifetime / 2);
            Instant::now().checked_add(lifetime - skew)
        });
        tracing::debug!(
            target: "agentstatus_runtime::oauth2",
            expires_in = ?lifetime,
            "OAuth 2.0 token received"
        );
        Ok(Cached { header, refresh_at })
    }

    /// The answer's body, at most [`MAX_TOKEN_ANSWER_BYTES`].
    async fn read_bounded(
        &self,
        mut response: reqwest::Response,
        secret: &str,
    ) -> Result<Vec<u8>, TokenError> {
        let too_large = || {
            self.error(TokenErrorKind::TooLarge {
                limit: MAX_TOKEN_ANSWER_BYTES,
            })
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_TOKEN_ANSWER_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_TOKEN_ANSWER_BYTES {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(bytes),
                Err(e) => {
                    return Err(self.error(TokenErrorKind::Network {
                        message: clean(&transport(&e), secret),
                    }));
                }
            }
        }
    }

    /// A non-success answer: the RFC 6749 §5.2 error if the body is one.
    fn refusal(&self, status: u16, bytes: &[u8], secret: &str) -> TokenErrorKind {
        match serde_json::from_slice::<ErrorAnswer>(bytes) {
            Ok(ErrorAnswer {
                error: Some(error),
                error_description,
                error_uri,
            }) if !error.is_empty() => TokenErrorKind::Rejected {
                status,
                error: clean(&error, secret),
                description: error_description.map(|d| clean(&d, secret)),
                uri: error_uri.map(|u| clean(&u, secret)),
            },
            _ => TokenErrorKind::Status { status },
        }
    }
}

/// A transport error's chain, without the URL (reqwest's message carries it).
fn transport(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    let mut s = what.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    s
}

/// RFC 6749 §5.1's answer (only what is used).
#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<ExpiresIn>,
}

/// `expires_in` is a number by the RFC; some servers send a string.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum ExpiresIn {
    Number(serde_json::Number),
    Text(String),
}

impl ExpiresIn {
    fn seconds(&self) -> Option<u64> {
        match self {
            ExpiresIn::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            }),
            ExpiresIn::Text(s) => s.trim().parse().ok(),
        }
    }
}

/// RFC 6749 §5.2's error answer.
#[derive(serde::Deserialize)]
struct ErrorAnswer {
    error: Option<String>,
    error_description: Option<String>,
    error_uri: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c = ClientCredentials::new(
            "app-id",
            SecretString::from("s3cr3t-value"),
            "https://login.example/token",
        )
        .with_scopes(["a", "b"]);
        let d = format!("{c:?}");
        assert!(!d.contains("s3cr3t"), "{d}");
        assert!(d.contains("app-id") && d.contains("[redacted]"), "{d}");
        let o = OAuth2::new(
            "https://api.example/v1",
            c,
            crate::http_client(Vec::new(), &ClientConfig::default()).unwrap(),
            &ClientConfig::default(),
        )
        .unwrap();
        let d = format!("{o:?}");
        assert!(!d.contains("s3cr3t"), "{d}");
    }

    #[test]
    fn token_urls_are_checked() {
        let cfg = ClientConfig::default();
        let build = |url: &str| {
            OAuth2::new(
                "https://api.example/v1/",
                ClientCredentials::new("id", SecretString::from("s3cr3t"), url),
                crate::http_client(Vec::new(), &cfg).unwrap(),
                &cfg,
            )
        };
        assert!(build("https://login.example/t/oauth2/token").is_ok());
        // relative to the base URL
        let o = build("/oauth/token").unwrap();
        assert_eq!(
            o.shared.token_url.as_str(),
            "https://api.example/oauth/token"
        );
        assert!(matches!(
            build("http://login.example/token"),
            Err(BuildError::InsecureHttp { .. })
        ));
        assert!(build("http://127.0.0.1:9/token").is_ok());
        for (bad, says) in [
            ("https://u:pw-s3cr3t@login.example/token", "credentials"),
            ("https://login.example/token#x", "fragment"),
            ("ftp://login.example/token", "scheme"),
            (
                "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
                "{variable}",
            ),
        ] {
            let e = build(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(!e.contains("s3cr3t"), "{e}");
        }
    }

    #[test]
    fn expires_in_as_number_or_text() {
        let e: ExpiresIn = serde_json::from_str("3599").unwrap();
        assert_eq!(e.seconds(), Some(3599));
        let e: ExpiresIn = serde_json::from_str("\"3599\"").unwrap();
        assert_eq!(e.seconds(), Some(3599));
        let e: ExpiresIn = serde_json::from_str("-1").unwrap();
        assert_eq!(e.seconds(), None);
        // absurd values do not overflow the clock (capped to MAX_TOKEN_LIFETIME when used)
        let e: ExpiresIn = serde_json::from_str("1e300").unwrap();
        assert_eq!(e.seconds(), Some(u64::MAX));
        let capped = Duration::from_secs(e.seconds().unwrap().min(MAX_TOKEN_LIFETIME.as_secs()));
        assert!(Instant::now().checked_add(capped).is_some());
    }

    /// A token URL with a secret in its query (a user who put `?client_secret=` there), its
    /// fragment or its credentials is never printed: not by a `TokenError`'s `Display` or
    /// `Debug` however it was built (its field is public), not by `ClientCredentials`' `Debug`;
    /// the host and path still say which endpoint.
    #[test]
    fn a_token_urls_query_and_credentials_are_never_shown() {
        for (url, shown) in [
            (
                "https://login.example.com/t/oauth2/v2.0/token?client_secret=s3cr3t&x=1",
                "https://login.example.com/t/oauth2/v2.0/token?<redacted>",
            ),
            (
                "https://app:s3cr3t@login.example.com:8443/token#s3cr3t",
                "https://<redacted>@login.example.com:8443/token#<redacted>",
            ),
            (
                "/tenant/token?client_secret=s3cr3t",
                "/tenant/token?<redacted>",
            ),
            (
                "https://app:s3cr3t@[not a host/token?client_secret=s3cr3t",
                "https://<redacted>@[not a host/token?<redacted>",
            ),
            (
                "https://login.example.com/token",
                "https://login.example.com/token",
            ),
        ] {
            assert_eq!(shown_token_url(url), shown, "{url}");
            let e = TokenError {
                token_url: url.to_string(),
                kind: TokenErrorKind::Status { status: 400 },
            };
            for text in [e.to_string(), format!("{e:?}")] {
                assert!(!text.contains("s3cr3t"), "{text}");
                assert!(text.contains(shown), "{text}");
            }
            let credentials =
                ClientCredentials::new("app", SecretString::from("other-secret"), url);
            let debug = format!("{credentials:?}");
            assert!(!debug.contains("s3cr3t"), "{debug}");
            assert!(!debug.contains("other-secret"), "{debug}");
        }
    }

    #[test]
    fn clean_redacts_escapes_and_clips() {
        assert_eq!(clean("bad s3cr3t here", "s3cr3t"), "bad [redacted] here");
        assert_eq!(clean("a\nb", "x"), "a\\u{a}b");
        assert_eq!(clean(&"x".repeat(400), "s").chars().count(), 301);
    }
}
