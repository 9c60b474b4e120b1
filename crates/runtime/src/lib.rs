//! What every generated vendor client shares: building the `reqwest::Client` with the vendor's
//! credentials in sensitive default headers, the per-client state progenitor carries ([`Inner`]):
//! retry policy, rate limit and timeouts, applied by the request hooks ([`client_hooks!`]),
//! [`OpenEnum`] for response enums a vendor may extend, and [`forms`], the query styles and
//! bodies progenitor cannot send.
//!
//! Secrets only ever live in [`secrecy::SecretString`], in [`SecretText`] (the generated types'
//! `format: password` strings) and in headers marked sensitive, so they never show in `Debug`
//! output, errors or logs; a generated call whose URL carries a secret (a path segment, a query
//! parameter) redacts it from every error it returns ([`without_url_secrets`]); credentials
//! are refused over plain `http://`
//! to anything but a loopback address unless the caller opts in.
//!
//! OAuth 2.0 client credentials ([`oauth2`]): a generated `Client::with_<oauth2 scheme>` is built
//! with [`connect_oauth2`]; its request hooks get a token from the token endpoint once, cache it
//! for every clone of the client, refresh it before it expires and once on a 401 (retrying the
//! request once), and send it only to the API's origin. The client secret goes only to the token
//! URL; neither it nor a token appears in `Debug` output, errors or logs (also at trace level).
//! The token endpoint's failures are typed: [`TokenError`].
#![warn(missing_docs)]

pub mod forms;
pub mod guard;
pub mod oauth2;
mod open_enum;
pub mod pace;
pub mod retry;
mod secret_text;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
pub use secrecy::{ExposeSecret, SecretString};

pub use guard::{
    BodyTooLarge, PathSegmentError, Redirect, UrlSecrets, body_too_large, path_segment,
    redirect_of, without_url_secrets,
};
pub use oauth2::{ClientAuth, ClientCredentials, OAuth2, TokenError, TokenErrorKind};
pub use open_enum::OpenEnum;
pub use pace::{Pacer, Permit};
pub use retry::{MARGIN_PERCENT, RateLimit, RateLimitScope, RetryPolicy};
pub use secret_text::SecretText;

/// Timeouts, retries, rate limit and transport security of a vendor client.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Timeout of one attempt (each retry gets its own, cut to the deadline). Default 30 s.
    pub timeout: Duration,
    /// TCP/TLS connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// `User-Agent` header. Default `agentstatus/<version>`.
    pub user_agent: String,
    /// Which requests are retried, how often, how long. See [`RetryPolicy`].
    pub retry: RetryPolicy,
    /// Never send more than this many requests. Default none (Engage Digital's constructor sets
    /// its documented 500 per minute).
    pub rate_limit: Option<RateLimit>,
    /// What [`rate_limit`](Self::rate_limit) counts: every request of the client together (the
    /// default) or each operation on its own, as the vendor's server counts ([`RateLimitScope`]:
    /// Rocket.Chat's registry entry sets [`RateLimitScope::Operation`]).
    pub rate_limit_scope: RateLimitScope,
    /// The budget this client shares with the other clients of its server ([`ServerBudgets`]):
    /// its [`rate_limit`](Self::rate_limit) is then counted in one limiter with theirs. Default
    /// none: the client's own.
    pub shared_budget: Option<SharedBudget>,
    /// Send credentials over plain `http://` to a host that is not loopback. Default `false`.
    pub allow_insecure_http: bool,
    /// The largest response body read, in bytes, enforced while streaming (a larger body fails
    /// with [`BodyTooLarge`] once the limit is reached, or at once if `Content-Length` says so).
    /// Default 64 MiB.
    pub max_response_bytes: u64,
}

/// The default [`ClientConfig::max_response_bytes`]: 64 MiB, about 400,000 agents in the largest
/// answer of any vendor (Engage Digital's `GET /status`, about 160 bytes an agent).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("agentstatus/", env!("CARGO_PKG_VERSION")).to_string(),
            retry: RetryPolicy::default(),
            rate_limit: None,
            rate_limit_scope: RateLimitScope::Client,
            shared_budget: None,
            allow_insecure_http: false,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl ClientConfig {
    /// Retries and the per-call deadline (default [`RetryPolicy::default`]).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// A client-side rate limit, `None` for none (the vendors' own defaults differ: see each crate).
    pub fn with_rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// Counting the rate limit per client or per operation (see [`ClientConfig::rate_limit_scope`]).
    pub fn with_rate_limit_scope(mut self, scope: RateLimitScope) -> Self {
        self.rate_limit_scope = scope;
        self
    }

    /// Counting the rate limit in the budget shared by every client of its server (see
    /// [`ServerBudgets::of`]), `None` for the client's own.
    pub fn with_shared_budget(mut self, budget: Option<SharedBudget>) -> Self {
        self.shared_budget = budget;
        self
    }

    /// The whole-request timeout and the connect timeout (defaults 30 s and 10 s).
    pub fn with_timeouts(mut self, timeout: Duration, connect_timeout: Duration) -> Self {
        self.timeout = timeout;
        self.connect_timeout = connect_timeout;
        self
    }

    /// The largest response body to read (see [`ClientConfig::max_response_bytes`]).
    pub fn with_max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Allow credentials over plain `http://` to a non-loopback host (a test network, say).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
}

/// The rate-limit budgets of servers, shared by the clients of each: a server that counts its
/// limit per client IP (Chatwoot's Rack::Attack `req/ip`; Rocket.Chat's per IP and route) counts
/// every client of one process together, so several clients of one server (several desks of one
/// vendor, with different accounts or tokens) must be paced together. Clients built with
/// [`ClientConfig::with_shared_budget`]`(Some(budgets.of(base_url)))` and the same rate limit
/// and scope share one limiter (one pacer, or one per operation) per server origin (scheme,
/// host and port); a client with another limit (an operator's own, for that desk) keeps its
/// own. Cloning shares the same budgets.
#[derive(Debug, Clone, Default)]
pub struct ServerBudgets {
    limiters: Arc<std::sync::Mutex<std::collections::HashMap<BudgetKey, retry::Limiter>>>,
}

type BudgetKey = (String, RateLimit, RateLimitScope);

impl ServerBudgets {
    /// No budget yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The budget of the server at `base_url` (its origin: scheme, host and port; a URL that
    /// does not parse is its own key, as written).
    pub fn of(&self, base_url: &str) -> SharedBudget {
        let origin = url::Url::parse(base_url)
            .ok()
            .map(|u| u.origin().ascii_serialization())
            .filter(|o| o != "null")
            .unwrap_or_else(|| base_url.to_string());
        SharedBudget {
            budgets: self.clone(),
            origin,
        }
    }

    /// How many limiters are shared now (one per server, limit and scope).
    pub fn len(&self) -> usize {
        self.limiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One server's share of [`ServerBudgets`], for [`ClientConfig::with_shared_budget`].
#[derive(Debug, Clone)]
pub struct SharedBudget {
    budgets: ServerBudgets,
    origin: String,
}

impl SharedBudget {
    /// The server's origin (`https://chat.example.com:443` is `https://chat.example.com`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The limiter of `limit` counted by `scope` at this server: the one made by the first
    /// client that asked, else a new one.
    fn limiter(&self, limit: RateLimit, scope: RateLimitScope) -> Option<retry::Limiter> {
        let mut all = self
            .budgets
            .limiters
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let key = (self.origin.clone(), limit, scope);
        if let Some(l) = all.get(&key) {
            return Some(l.clone());
        }
        let l = retry::Limiter::new(limit, scope)?;
        all.insert(key, l.clone());
        Some(l)
    }
}

/// Per-client state carried by every generated client (progenitor's "inner type").
#[derive(Debug, Clone)]
pub struct Inner {
    retry: RetryPolicy,
    timeout: Duration,
    max_response_bytes: u64,
    limiter: Option<retry::Limiter>,
    oauth2: Option<OAuth2>,
    /// A bearer token given for every request instead of the client's own credentials
    /// ([`Inner::with_bearer`]): a sensitive header, `Sensitive` in `Debug`.
    bearer: Option<HeaderValue>,
}

impl Default for Inner {
    fn default() -> Self {
        Self::new(&ClientConfig::default())
    }
}

impl Inner {
    /// The state for `config`: its retry policy, rate limiter and body limit.
    pub fn new(config: &ClientConfig) -> Self {
        Self {
            retry: config.retry.clone(),
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
            limiter: config.rate_limit.and_then(|r| match &config.shared_budget {
                Some(shared) => shared.limiter(r, config.rate_limit_scope),
                None => retry::Limiter::new(r, config.rate_limit_scope),
            }),
            oauth2: None,
            bearer: None,
        }
    }

    /// This state (its retry policy, rate limiter, body limit) with every request authenticated
    /// by `token`, sent as `Authorization: Bearer <token>` (a sensitive header) instead of the
    /// client's own credentials, whose OAuth 2.0 token cache is left out (a 401 is the answer:
    /// no token of the client's is fetched in its place). For a call made on behalf of another
    /// principal over an existing generated client's HTTP client: `Client::new_with_client(base,
    /// http, inner.with_bearer(&token)?)` (Microsoft Graph's change-notification subscriptions
    /// take a signed-in user's delegated token, the rest of its client an application's). The
    /// request goes to the client's base URL, as every other; redirects are never followed.
    pub fn with_bearer(&self, token: &SecretString) -> Result<Self, BuildError> {
        let value = sensitive_header(&format!("Bearer {}", token.expose_secret()), "token")?;
        Ok(Self {
            oauth2: None,
            bearer: Some(value),
            ..self.clone()
        })
    }

    /// The OAuth 2.0 client credentials grant the client authenticates with, if any (see
    /// [`connect_oauth2`]): its token cache is shared by the client's clones.
    pub fn oauth2(&self) -> Option<&OAuth2> {
        self.oauth2.as_ref()
    }

    /// The retry policy the client was built with.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The deadline of one call, and of one presence operation built on this client.
    pub fn deadline(&self) -> Duration {
        self.retry.deadline
    }
}

/// Why a client could not be built. Never contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL is not an absolute http(s) URL without query and fragment.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given, with any user, password, query and fragment replaced by `redacted`.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    #[error(
        "refusing to send credentials over plain http:// to {host:?}, which is not a loopback address; use https://, or opt in with ClientConfig::allow_insecure_http(true)"
    )]
    /// Credentials over plain `http://` to a host that is not loopback, without the opt-in.
    InsecureHttp {
        /// The host that would be reached over plain http.
        host: String,
    },
    /// A credential that cannot be an HTTP header value (control characters, non-ASCII).
    #[error(
        "invalid credential: {what} cannot be sent in an HTTP header (it contains a control character or non-ASCII text)"
    )]
    InvalidCredential {
        /// Which credential (`token`, `api_secret`, ...).
        what: &'static str,
    },
    /// An OAuth 2.0 client id or secret outside what RFC 6749 allows (Appendix A: `client-id`
    /// and `client-secret` are `*VSCHAR`, the visible ASCII characters and space).
    #[error(
        "invalid credential: the OAuth 2.0 {what} may hold only visible ASCII characters and spaces (RFC 6749, Appendix A); it contains a control character or non-ASCII text"
    )]
    InvalidClientCredential {
        /// Which credential: `client id` or `client secret`.
        what: &'static str,
    },
    /// The OAuth 2.0 token URL is not an absolute http(s) URL (or one relative to the base URL)
    /// without credentials, fragment or unset `{variable}`.
    #[error("invalid OAuth 2.0 token URL {url:?}: {reason}")]
    InvalidTokenUrl {
        /// The URL as given, with any user, password, query and fragment replaced by `redacted`.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    #[error("cannot build the HTTP client: {0}")]
    /// The HTTP client could not be built (the TLS backend failed to initialise, say).
    Http(#[from] reqwest::Error),
}

/// Only visible ASCII and spaces: what a credential may contain.
fn visible_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// A header value holding a secret: marked sensitive so `Debug` prints `Sensitive`, and never
/// echoed in the error. Only visible ASCII and spaces are accepted (no tab, CR, LF or other
/// control character, no non-ASCII text).
pub fn sensitive_header(value: &str, what: &'static str) -> Result<HeaderValue, BuildError> {
    if !visible_ascii(value) {
        return Err(BuildError::InvalidCredential { what });
    }
    let mut v = HeaderValue::from_str(value).map_err(|_| BuildError::InvalidCredential { what })?;
    v.set_sensitive(true);
    Ok(v)
}

/// `Authorization: Basic base64(user:password)` as a sensitive header. RFC 7617 leaves the
/// charset of the pair to the server, so only visible ASCII is accepted (no control character,
/// no non-ASCII text, no `:` in `user`): anything else is refused, never sent as raw bytes.
pub fn basic_auth(
    user: &str,
    password: &str,
    what: &'static str,
) -> Result<HeaderValue, BuildError> {
    if !visible_ascii(user) || !visible_ascii(password) || user.contains(':') {
        return Err(BuildError::InvalidCredential { what });
    }
    use base64::Engine as _;
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    sensitive_header(&format!("Basic {pair}"), what)
}

/// Check a base URL: absolute http(s), no query, no credentials in it; plain http only to a
/// loopback host unless `allow_insecure_http`.
pub fn check_base_url(url: &str, allow_insecure_http: bool) -> Result<String, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidBaseUrl {
        url: redact_url(url),
        reason: reason.to_string(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "credentials do not belong in the URL; pass them to the constructor",
        ));
    }
    if parsed.query().is_some() {
        return Err(invalid(
            "the base URL must not have a query string (`?...`): every request path would be appended to it",
        ));
    }
    if parsed.fragment().is_some() {
        return Err(invalid(
            "the base URL must not have a fragment (`#...`): every request path would be appended to it and never sent",
        ));
    }
    if parsed.cannot_be_a_base() || parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the base URL needs a host"));
    }
    if parsed.scheme() == "http" && !allow_insecure_http && !is_loopback(&parsed) {
        return Err(BuildError::InsecureHttp {
            host: parsed.host_str().unwrap_or_default().to_string(),
        });
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Whether `url`'s host is this machine: `localhost`, or a loopback IPv4 or IPv6 address (the
/// one place plain `http://` is allowed without opting in, for clients and for the public URLs
/// of the webhook receivers).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            if !u.username().is_empty() {
                let _ = u.set_username("redacted");
            }
            if u.password().is_some() {
                let _ = u.set_password(Some("redacted"));
            }
            if u.query().is_some() {
                u.set_query(Some("redacted"));
            }
            if u.fragment().is_some() {
                u.set_fragment(Some("redacted"));
            }
            u.to_string()
        }
        Err(_) => "<unparseable>".to_string(),
    }
}

/// Include the generated client of the vendor crate this is called in: `OUT_DIR/client.rs` when
/// its build script generated it (it sets `cfg(agentstatus_codegen)`, only with the crate's
/// `codegen` feature: the workspace's own builds), else the copy in `generated/` that a package,
/// a git or path dependency and a vendored checkout compile without the generator:
/// `client.rs` (the slice, checked in and kept equal to the build's output by tests/golden.rs),
/// or `full.rs` with the crate's `full` feature (written by `cargo xtask package`). Called once,
/// as the body of the vendor crate's `mod generated`.
#[macro_export]
macro_rules! include_generated_client {
    () => {
        #[cfg(agentstatus_codegen)]
        include!(concat!(env!("OUT_DIR"), "/client.rs"));
        #[cfg(all(not(agentstatus_codegen), not(feature = "full")))]
        include!(concat!(env!("CARGO_MANIFEST_DIR"), "/generated/client.rs"));
        #[cfg(all(not(agentstatus_codegen), feature = "full"))]
        include!(concat!(env!("CARGO_MANIFEST_DIR"), "/generated/full.rs"));
    };
}

/// A vendor crate's golden test, the whole of its `tests/golden.rs` (`client`: the generated
/// client equals the checked-in `generated/client.rs`, which a package compiles) or
/// `tests/golden_full.rs` (`full_surface`: with the `full` feature, the complete API's public
/// surface equals `tests/golden/full-surface.txt`; the whole code is too big to review). After
/// an intended change: `EXPECTORATE=overwrite cargo test -p <crate> [--features full] --test
/// golden[_full]`. The test crate needs `expectorate` (a dev-dependency).
#[macro_export]
macro_rules! golden_test {
    (client) => {
        // The comparison needs the generator's output: never a test that passes without it
        // (the manifest's `required-features = ["codegen"]` skips it then; this stops a build
        // without the cfg).
        #[cfg(not(agentstatus_codegen))]
        compile_error!(
            "tests/golden.rs needs the generator: the build script generates only with the `codegen` feature"
        );
        #[test]
        fn generated_client_matches_golden_file() {
            let generated = include_str!(concat!(env!("OUT_DIR"), "/client.rs"));
            ::expectorate::assert_contents("generated/client.rs", generated);
        }
    };
    (full_surface) => {
        #[cfg(feature = "full")]
        #[test]
        fn full_api_surface_matches_golden_file() {
            let surface = include_str!(concat!(env!("OUT_DIR"), "/surface.txt"));
            ::expectorate::assert_contents("tests/golden/full-surface.txt", surface);
        }
    };
}

/// Everything a vendor crate's `lib.rs` needs of its generated client, in one line:
/// `mod generated` (the [`include_generated_client!`] body, documented as the vendor's spec),
/// its items and the runtime's client types ([`ClientConfig`], [`RetryPolicy`], ...)
/// re-exported at the crate root, and the request hooks ([`client_hooks!`]); with `(presence,
/// fake)`, also the vendor crate's two optional modules, `pub mod presence` (`src/presence.rs`,
/// feature `presence`: the adapter and the registry entry) and `pub mod fake` (`src/fake.rs`,
/// feature `fake`: the fake server). The vendor's lib adds only its genuine quirks (credential
/// types, constructors).
#[macro_export]
macro_rules! generated_client {
    (presence, fake) => {
        #[cfg(feature = "fake")]
        pub mod fake;
        #[cfg(feature = "presence")]
        pub mod presence;

        $crate::generated_client!();
    };
    () => {
        /// The generated client: from `specs/<vendor>/` by the build script in this repository,
        /// from `generated/` in a package (see [`agentstatus_runtime::include_generated_client`]).
        /// Its documentation is the vendor's, from the spec; items without a description stay bare.
        #[allow(missing_docs)]
        mod generated {
            $crate::include_generated_client!();
        }

        pub use generated::*;
        pub use $crate::{
            BuildError, ClientConfig, Inner, OpenEnum, RateLimit, RateLimitScope, RetryPolicy,
            SecretString,
        };

        $crate::client_hooks!();
    };
}

/// Make the TLS feature's choice effective before a `reqwest::Client` is built.
///
/// With `rustls-ring` (the default) reqwest is built without a crypto provider, so ring is
/// installed as rustls's process-wide default provider, unless the program installed one itself
/// (that one is kept) or the `rustls-aws-lc` feature is also on (reqwest then defaults to
/// aws-lc-rs). With the other TLS features, or none, there is nothing to do.
pub fn ensure_tls_provider() {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed one in between: that one is used, which is fine.
        let _ = ring_provider().install_default();
    }
}

/// rustls's ring provider. rustls 0.23.48 deprecates `rustls::crypto::ring::default_provider`
/// ("no support for post-quantum algorithms") without an API that replaces it: the provider
/// with post-quantum key exchange (X25519MLKEM768) is aws-lc-rs, this crate's `rustls-aws-lc`
/// feature. `rustls-ring` stays the default because it builds light (no aws-lc-sys); the one
/// use of the deprecated function is here, allowed by name, so every other deprecation still
/// warns (CI builds the newest compatible dependencies with `-D warnings`).
#[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Finish a `reqwest::ClientBuilder` the way every client of this workspace is finished: TLS
/// provider ready ([`ensure_tls_provider`]), redirects never followed (a 3xx is returned as it
/// is, see [`redirect_of`]: the credentials would travel with them, to wherever the server
/// points, and a POST would be sent again), no `Referer`.
pub fn finish_http_client(builder: reqwest::ClientBuilder) -> reqwest::Result<reqwest::Client> {
    ensure_tls_provider();
    builder
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .build()
}

/// The generated `Client::new(base_url, inner)` of every vendor crate builds its HTTP client
/// here: [`finish_http_client`] over progenitor's 15-second timeouts.
///
/// # Panics
///
/// When the TLS backend cannot be initialised (progenitor's `Client::new` returns no `Result`).
/// The vendor crates' own constructors (`with_config`, `with_*_auth`) return the error instead.
pub fn generated_http_client(builder: reqwest::ClientBuilder) -> reqwest::Client {
    finish_http_client(builder).unwrap_or_else(|e| panic!("cannot build the HTTP client: {e}"))
}

/// Build the `reqwest::Client` a vendor client uses, with `headers` (auth) sent on every request,
/// and `config`'s user agent and timeouts; finished by [`finish_http_client`].
pub fn http_client(
    headers: Vec<(HeaderName, HeaderValue)>,
    config: &ClientConfig,
) -> Result<reqwest::Client, BuildError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(name, value);
    }
    Ok(finish_http_client(
        reqwest::Client::builder()
            .default_headers(map)
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout),
    )?)
}

/// Check `base_url` and build the HTTP client with `headers` on every request and the
/// [`Inner`] state for `config`: what every vendor constructor does, with its own auth headers.
pub fn connect(
    base_url: &str,
    headers: Vec<(HeaderName, HeaderValue)>,
    config: &ClientConfig,
) -> Result<(String, reqwest::Client, Inner), BuildError> {
    let base = check_base_url(base_url, config.allow_insecure_http)?;
    Ok((base, http_client(headers, config)?, Inner::new(config)))
}

/// Check `base_url` and build the HTTP client and the [`Inner`] state of a client that
/// authenticates with OAuth 2.0 client credentials (see [`oauth2`]), with `headers` (the other
/// schemes of the requirement, if any) on every request; the pre-request hook ([`authorize`]) gives each request to the API's origin the
/// cached token, fetched from `credentials`' token URL when needed. What a generated
/// `Client::with_<oauth2 scheme>` calls.
pub fn connect_oauth2(
    base_url: &str,
    headers: Vec<(HeaderName, HeaderValue)>,
    credentials: ClientCredentials,
    config: &ClientConfig,
) -> Result<(String, reqwest::Client, Inner), BuildError> {
    let base = check_base_url(base_url, config.allow_insecure_http)?;
    let http = http_client(headers, config)?;
    // the token endpoint's own client: the API's other credentials never go there
    let token_http = http_client(Vec::new(), config)?;
    let oauth2 = OAuth2::new(&format!("{base}/"), credentials, token_http, config)?;
    let inner = Inner {
        oauth2: Some(oauth2),
        ..Inner::new(config)
    };
    Ok((base, http, inner))
}

/// The header [`authorize`] stamps on a request of an OAuth 2.0 client: when the call's one
/// budget ends (nanoseconds since [`epoch`]), for [`execute`], which removes it before
/// anything is sent. progenitor's hooks share nothing else between `pre` and `exec`.
const CALL_DEADLINE: HeaderName = HeaderName::from_static("x-agentstatus-call-deadline");

/// The instant the call deadlines of [`CALL_DEADLINE`] count from.
fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Stamp `deadline` on `request` for [`execute`] (see [`CALL_DEADLINE`]).
fn stamp_deadline(request: &mut reqwest::Request, deadline: std::time::Instant) {
    let nanos = deadline.saturating_duration_since(epoch()).as_nanos();
    if let Ok(v) = HeaderValue::from_str(&nanos.to_string()) {
        request.headers_mut().insert(CALL_DEADLINE, v);
    }
}

/// The deadline [`stamp_deadline`] put on `request`, removed from it (never sent).
fn take_deadline(request: &mut reqwest::Request) -> Option<std::time::Instant> {
    let v = request.headers_mut().remove(CALL_DEADLINE)?;
    let nanos: u64 = v.to_str().ok()?.parse().ok()?;
    epoch().checked_add(Duration::from_nanos(nanos))
}

/// The hook that gives a request its OAuth 2.0 token, when the client has one ([`connect_oauth2`]).
/// The call's deadline ([`RetryPolicy::deadline`]) starts here: the token fetch (with its
/// retries) and the request sent by [`execute`] share it. A token that cannot be had fails the
/// call with progenitor's `Error::Custom`, carrying the [`TokenError`]'s message (never the
/// secret), and records the typed error for [`observed_token_error`] (in the innermost
/// enclosing [`observe`]); [`OAuth2::token`] gives the typed error too.
pub async fn authorize<E>(
    inner: &Inner,
    request: &mut reqwest::Request,
) -> Result<(), progenitor_client::Error<E>> {
    if let Some(bearer) = &inner.bearer {
        request
            .headers_mut()
            .insert(reqwest::header::AUTHORIZATION, bearer.clone());
        return Ok(());
    }
    let Some(o) = &inner.oauth2 else {
        return Ok(());
    };
    let deadline = retry::deadline_after(std::time::Instant::now(), inner.retry.deadline);
    stamp_deadline(request, deadline);
    // boxed: the token fetch (with its retries) is large, and every generated call's future
    // would carry it inline (deep async stacks in debug builds)
    Box::pin(o.authorize_until(request, deadline))
        .await
        .map_err(|e| {
            let message = e.to_string();
            let _ = TOKEN_ERROR.try_with(|t| *t.borrow_mut() = Some(e));
            progenitor_client::Error::Custom(message)
        })
}

/// The token error of the last request sent within the innermost enclosing [`observe`], if
/// that request could not get an OAuth 2.0 token (its generated call failed with
/// progenitor's `Error::Custom`, whose message is this error's). `None` outside an `observe`,
/// or when the last request got its token. An inner `observe` hands it to the enclosing one
/// as it does [`Observed`].
pub fn observed_token_error() -> Option<TokenError> {
    TOKEN_ERROR.try_with(|t| t.borrow().clone()).ok().flatten()
}

/// The hook every vendor client runs before sending a request: records `operation_id` (the
/// generated client method, from progenitor's `OperationInfo`) for [`observe`].
///
/// progenitor 0.15 adds `api-version: <info.version of the spec>` to every request (its issue
/// #1120); the vendors do not version their APIs by header, so it is removed.
pub fn pre_request(request: &mut reqwest::Request, operation_id: &'static str) {
    request.headers_mut().remove("api-version");
    let _ = OBSERVED.try_with(|o| {
        o.set(Observed {
            operation: Some(operation_id),
            writes: !matches!(
                *request.method(),
                reqwest::Method::GET | reqwest::Method::HEAD | reqwest::Method::OPTIONS
            ),
            status: None,
            retry_after: None,
        })
    });
    let _ = TOKEN_ERROR.try_with(|t| t.borrow_mut().take());
}

/// Send a request the way every vendor client does: rate limit, retries, deadline. With OAuth 2.0
/// ([`connect_oauth2`]), the deadline is the one [`authorize`] started for the call (the token
/// fetch and this share it), and a 401 to a request sent with the token drops that token,
/// fetches a new one and sends the request once more (if its body can be replayed), all within
/// that deadline; a second 401, or a refresh that fails, leaves the API's 401 as the answer.
pub async fn execute(
    client: &reqwest::Client,
    inner: &Inner,
    request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    execute_operation(client, inner, request, None).await
}

/// [`execute`] for a request of `operation` (progenitor's `OperationInfo::operation_id`, what
/// the request hooks pass): with [`RateLimitScope::Operation`], its own rate-limit bucket.
pub async fn execute_operation(
    client: &reqwest::Client,
    inner: &Inner,
    mut request: reqwest::Request,
    operation: Option<&'static str>,
) -> reqwest::Result<reqwest::Response> {
    let limiter = inner.limiter.as_ref().and_then(|l| l.bucket(operation));
    let limiter = limiter.as_deref();
    let deadline = take_deadline(&mut request)
        .unwrap_or_else(|| retry::deadline_after(std::time::Instant::now(), inner.retry.deadline));
    let Some(oauth2) = &inner.oauth2 else {
        return send(client, inner, limiter, request, deadline).await;
    };
    let used = request
        .headers()
        .get(reqwest::header::AUTHORIZATION)
        .cloned();
    let again = used.as_ref().and_then(|_| request.try_clone());
    let response = send(client, inner, limiter, request, deadline).await?;
    if response.status() != reqwest::StatusCode::UNAUTHORIZED {
        return Ok(response);
    }
    let (Some(used), Some(mut again)) = (used, again) else {
        return Ok(response);
    };
    match Box::pin(oauth2.refresh_rejected_until(&used, deadline)).await {
        Ok(header) => {
            drop(response);
            again
                .headers_mut()
                .insert(reqwest::header::AUTHORIZATION, header);
            send(client, inner, limiter, again, deadline).await
        }
        Err(e) => {
            tracing::debug!(
                target: "agentstatus_runtime::oauth2",
                error = %e,
                "the API answered 401 and no new token could be had: the 401 is the answer"
            );
            Ok(response)
        }
    }
}

async fn send(
    client: &reqwest::Client,
    inner: &Inner,
    limiter: Option<&Pacer>,
    request: reqwest::Request,
    deadline: std::time::Instant,
) -> reqwest::Result<reqwest::Response> {
    let response = retry::execute_until(
        client,
        &inner.retry,
        limiter,
        inner.timeout,
        request,
        deadline,
    )
    .await?;
    Ok(guard::limit_body(response, inner.max_response_bytes))
}

/// What the request hooks ([`client_hooks!`]) recorded of the requests sent within
/// [`observe`]: the operation of the last request and the status of its answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Observed {
    /// The operation id of the last request sent: progenitor's `OperationInfo::operation_id`,
    /// the generated client method (`get_livechat_user`, ...). `None` when nothing was sent (a
    /// request refused while it was built, such as an id that cannot be a path segment).
    pub operation: Option<&'static str>,
    /// Whether that request could change state at the vendor: its method is not `GET`, `HEAD`
    /// or `OPTIONS`. A failed presence write whose last request was a read (the read before
    /// the write, or the read back after a write the server answered) did not leave a write
    /// that may still land.
    pub writes: bool,
    /// The HTTP status of the last answer received. progenitor's
    /// `Error::InvalidResponsePayload` (a body that does not decode) does not carry it; with
    /// this, a caller can still say which answer was malformed.
    pub status: Option<u16>,
    /// How long that answer, an error, asked to be left alone ([`retry::server_wait`]:
    /// `Retry-After`, a 429's `X-RateLimit-Reset`), for an error whose body did not decode
    /// (progenitor then drops the headers).
    pub retry_after: Option<std::time::Duration>,
}

tokio::task_local! {
    static OBSERVED: std::cell::Cell<Observed>;
    /// The token error of the last request (see [`observed_token_error`]).
    static TOKEN_ERROR: std::cell::RefCell<Option<TokenError>>;
}

/// Run `fut` and also return what the hooks recorded of the requests it sent. Scopes nest: an
/// inner `observe` records into its own scope, and when it ends, what it recorded (if it sent
/// anything) becomes the enclosing scope's latest, so an outer scope knows the last operation
/// sent by everything inside it. Concurrent futures of one task each keep their own scope.
pub async fn observe<F: std::future::Future>(fut: F) -> (F::Output, Observed) {
    let scope = async {
        let out = fut.await;
        let token = TOKEN_ERROR.with(|t| t.borrow_mut().take());
        (out, OBSERVED.with(std::cell::Cell::get), token)
    };
    let (out, seen, token) = OBSERVED
        .scope(
            std::cell::Cell::new(Observed::default()),
            TOKEN_ERROR.scope(std::cell::RefCell::new(None), scope),
        )
        .await;
    if seen.operation.is_some() {
        let _ = OBSERVED.try_with(|o| o.set(seen));
        let _ = TOKEN_ERROR.try_with(|t| *t.borrow_mut() = token);
    }
    (out, seen)
}

/// What the innermost enclosing [`observe`] has recorded so far (nothing outside one).
pub fn observed() -> Observed {
    OBSERVED.try_with(std::cell::Cell::get).unwrap_or_default()
}

/// The hook every vendor client runs after a request: records the status for [`observe`].
pub fn post_request(result: &reqwest::Result<reqwest::Response>) {
    if let Ok(r) = result {
        let retry_after = if r.status().is_client_error() || r.status().is_server_error() {
            retry::server_wait(r.status(), r.headers(), std::time::SystemTime::now())
        } else {
            None
        };
        let _ = OBSERVED.try_with(|o| {
            o.set(Observed {
                status: Some(r.status().as_u16()),
                retry_after,
                ..o.get()
            })
        });
    }
}

/// Give a generated request the JSON media types its operation declares where progenitor uses
/// `application/json` (a JSON:API vendor's `application/vnd.api+json`): `Content-Type` when it
/// has a body, `Accept` always. Called by generated code.
///
/// The media types come from a vendor's document: one that is no header value (a line break,
/// a control character) never panics here; it is not sent, and the request keeps the header it
/// had. The generator records no such media type (the `json-media-types` pass leaves it out),
/// so this is only a guard.
pub fn declared_media_types(
    request: &mut reqwest::Request,
    content_type: Option<&'static str>,
    accept: Option<&'static str>,
) {
    use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
    let headers = request.headers_mut();
    if let Some(c) = content_type.and_then(|c| HeaderValue::from_str(c).ok())
        && headers.contains_key(CONTENT_TYPE)
    {
        headers.insert(CONTENT_TYPE, c);
    }
    if let Some(a) = accept.and_then(|a| HeaderValue::from_str(a).ok()) {
        headers.insert(ACCEPT, a);
    }
}

#[doc(hidden)]
pub mod __private {
    pub use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
    pub use reqwest::{Request, Response, Result};
}

/// Implements progenitor's `ClientHooks` for the generated `Client` of the calling crate:
/// [`pre_request`] (which records the operation id progenitor passes in `OperationInfo`),
/// [`execute`] (retries, rate limit, deadline) and [`post_request`] (the answer's status), so an
/// [`observe`]d call knows which operation it sent and what came back. One line in each vendor
/// crate: `client_hooks!();`.
#[macro_export]
macro_rules! client_hooks {
    () => {
        impl $crate::__private::ClientHooks<$crate::Inner> for Client {
            async fn pre<E>(
                &self,
                request: &mut $crate::__private::Request,
                info: &$crate::__private::OperationInfo,
            ) -> ::std::result::Result<(), $crate::__private::Error<E>> {
                use $crate::__private::ClientInfo as _;
                $crate::pre_request(request, info.operation_id);
                $crate::authorize(self.inner(), request).await
            }

            async fn exec(
                &self,
                request: $crate::__private::Request,
                info: &$crate::__private::OperationInfo,
            ) -> $crate::__private::Result<$crate::__private::Response> {
                use $crate::__private::ClientInfo as _;
                $crate::execute_operation(
                    self.client(),
                    self.inner(),
                    request,
                    Some(info.operation_id),
                )
                .await
            }

            async fn post<E>(
                &self,
                result: &$crate::__private::Result<$crate::__private::Response>,
                _info: &$crate::__private::OperationInfo,
            ) -> ::std::result::Result<(), $crate::__private::Error<E>> {
                $crate::post_request(result);
                Ok(())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_given_bearer_token_is_sent_in_a_sensitive_header_and_never_shown() {
        ensure_tls_provider();
        let inner = Inner::default()
            .with_bearer(&SecretString::from("user-token-1"))
            .unwrap();
        assert!(!format!("{inner:?}").contains("user-token-1"));
        let mut request = reqwest::Client::new()
            .get("http://127.0.0.1:1/subscriptions")
            .build()
            .unwrap();
        authorize::<()>(&inner, &mut request).await.unwrap();
        let auth = &request.headers()[reqwest::header::AUTHORIZATION];
        assert_eq!(auth, "Bearer user-token-1");
        assert!(auth.is_sensitive());
        // a token that cannot be a header value is refused, without its text
        let e = Inner::default()
            .with_bearer(&SecretString::from("line\nbreak"))
            .unwrap_err();
        assert!(matches!(e, BuildError::InvalidCredential { what: "token" }));
        assert!(!e.to_string().contains("break"));
    }

    #[test]
    fn declared_media_types_replace_progenitors_json() {
        use reqwest::header::{ACCEPT, CONTENT_TYPE};
        ensure_tls_provider();
        let client = reqwest::Client::new();
        let vnd = "application/vnd.api+json";
        let mut with_body = client
            .patch("http://127.0.0.1:1/a")
            .header(ACCEPT, "application/json")
            .json(&serde_json::json!({"data": {}}))
            .build()
            .unwrap();
        declared_media_types(&mut with_body, Some(vnd), Some(vnd));
        assert_eq!(with_body.headers().get_all(CONTENT_TYPE).iter().count(), 1);
        assert_eq!(with_body.headers()[CONTENT_TYPE], vnd);
        assert_eq!(with_body.headers().get_all(ACCEPT).iter().count(), 1);
        assert_eq!(with_body.headers()[ACCEPT], vnd);
        // no body: no Content-Type is invented
        let mut get = client.get("http://127.0.0.1:1/a").build().unwrap();
        declared_media_types(&mut get, Some(vnd), None);
        assert!(get.headers().get(CONTENT_TYPE).is_none());
        assert!(get.headers().get(ACCEPT).is_none());
    }

    #[test]
    fn a_declared_media_type_that_is_no_header_value_never_panics() {
        use reqwest::header::{ACCEPT, CONTENT_TYPE};
        ensure_tls_provider();
        let client = reqwest::Client::new();
        for bad in [
            "application/vnd.x+json\nX-Injected: 1",
            "application/vnd.x+json\r",
            "application/vnd.\u{7}+json",
            "application/json; a=\u{0}",
            "application/vnd.x+json\u{7f}",
        ] {
            let mut request = client
                .post("http://127.0.0.1:1/a")
                .header(ACCEPT, "application/json")
                .json(&serde_json::json!({}))
                .build()
                .unwrap();
            declared_media_types(&mut request, Some(bad), Some(bad));
            // the headers progenitor set are kept, nothing of the bad value is sent
            assert_eq!(
                request.headers()[CONTENT_TYPE],
                "application/json",
                "{bad:?}"
            );
            assert_eq!(request.headers()[ACCEPT], "application/json", "{bad:?}");
            assert!(request.headers().get("x-injected").is_none());
        }
    }

    #[test]
    fn sensitive_header_hides_value_in_debug() {
        let v = sensitive_header("s3cr3t", "token").unwrap();
        assert!(!format!("{v:?}").contains("s3cr3t"));
        let e = sensitive_header("bad\nvalue-s3cr3t", "token").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn secrets_with_control_characters_or_non_ascii_text_are_refused() {
        for bad in [
            "a\rb",
            "a\nb",
            "a\tb",
            "s3cr3t\u{7f}",
            "pässwort",
            "\u{1b}[0m",
        ] {
            let e = sensitive_header(bad, "token").unwrap_err();
            assert!(
                matches!(e, BuildError::InvalidCredential { what: "token" }),
                "{bad:?}"
            );
            assert!(basic_auth("key", bad, "secret").is_err(), "{bad:?}");
            assert!(basic_auth(bad, "s", "secret").is_err(), "{bad:?}");
        }
        assert!(basic_auth("a:b", "s", "secret").is_err(), "`:` in the user");
        let v = basic_auth("key", "s3cr3t", "secret").unwrap();
        assert!(v.is_sensitive());
        assert_eq!(v.to_str().unwrap(), "Basic a2V5OnMzY3IzdA==");
    }

    #[test]
    fn base_url_checks_do_not_echo_credentials() {
        assert_eq!(
            check_base_url("https://x.example/1.0/", false).unwrap(),
            "https://x.example/1.0"
        );
        let e = check_base_url("https://user:pw-s3cr3t@x.example", false).unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        let e = check_base_url("https://x.example/?access_token=s3cr3t", false).unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        assert!(check_base_url("ftp://x", false).is_err());
        for bad in [
            "https://x.example/#frag",
            "https://x.example/api?",
            "https://x.example/a#",
        ] {
            let e = check_base_url(bad, false).unwrap_err().to_string();
            assert!(e.contains("query") || e.contains("fragment"), "{bad}: {e}");
        }
        assert!(check_base_url("not a url", false).is_err());
    }

    #[test]
    fn plain_http_only_to_loopback_unless_opted_in() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:9",
        ] {
            assert!(check_base_url(ok, false).is_ok(), "{ok}");
        }
        let e = check_base_url("http://desk.example.com", false).unwrap_err();
        assert!(matches!(e, BuildError::InsecureHttp { ref host } if host == "desk.example.com"));
        assert!(check_base_url("http://desk.example.com", true).is_ok());
        assert!(check_base_url("https://desk.example.com", false).is_ok());
    }
}

#[cfg(all(test, feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
mod tls_tests {
    /// reqwest is built without a provider under `rustls-ring`: building a client must install
    /// ring first (reqwest would panic otherwise), and it must be ring, not some other provider.
    #[test]
    fn the_default_tls_feature_installs_ring_before_a_client_is_built() {
        let client = super::generated_http_client(reqwest::ClientBuilder::new());
        drop(client);
        let installed = rustls::crypto::CryptoProvider::get_default().expect("a provider");
        let ring = super::ring_provider();
        assert_eq!(
            format!("{:?}", installed.kx_groups),
            format!("{:?}", ring.kx_groups)
        );
        assert_eq!(
            format!("{:?}", installed.cipher_suites),
            format!("{:?}", ring.cipher_suites)
        );
        // and an https client of a vendor constructor builds too
        super::http_client(Vec::new(), &super::ClientConfig::default()).expect("https client");
    }
}
