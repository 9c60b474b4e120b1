//! One error type for every vendor: which vendor, which operation, which agent, and what went
//! wrong (the HTTP status and the vendor's own error code and message). Never a secret: messages come from response bodies and
//! transport errors, which carry no credentials (they travel in sensitive headers only).

use std::fmt;

use crate::{Availability, Vendor};

/// What went wrong, for callers (and exit codes) that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input cannot be sent (an agent id that cannot be one URL path segment).
    InvalidInput,
    /// The vendor cannot represent the availability, or this vendor cannot do the operation.
    Unsupported,
    /// No such agent.
    NotFound,
    /// Bad or missing credentials (401), or not allowed (403).
    Auth,
    /// The agent's state was not what we set: someone else changed it, or the server refused.
    Conflict,
    /// 429: slow down.
    RateLimited,
    /// Another error answer from the vendor.
    Vendor,
    /// Could not talk to the vendor (connect, timeout, connection dropped), or the operation's
    /// deadline passed.
    Network,
    /// The vendor answered something we cannot understand, or more than the client reads (a
    /// body over the size limit, pages without end), or a redirect (never followed).
    InvalidResponse,
    /// What the operation needs is someone else's while they keep it: a watch's state file or
    /// notification URL whose lock file another watch holds, a vendor setting another system
    /// uses (Twilio TaskRouter's one workspace callback URL) ([`Failure::InUse`]). Not transient
    /// the way a network error is: trying again changes nothing until the other one lets go, so
    /// a watch refused it stops rather than poll beside it.
    InUse,
}

impl ErrorKind {
    /// The kind as a `snake_case` word, for machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Unsupported => "unsupported",
            Self::NotFound => "not_found",
            Self::Auth => "auth",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate_limited",
            Self::Vendor => "vendor",
            Self::Network => "network",
            Self::InvalidResponse => "invalid_response",
            Self::InUse => "in_use",
        }
    }
}

/// A presence operation that failed: on which vendor ([`vendor`](Self::vendor)), in which
/// operation ([`operation`](Self::operation)), about which agent ([`agent`](Self::agent)), and
/// what went wrong: [`kind`](Self::kind) to branch on, [`failure`](Self::failure) for the
/// details ([`status`](Self::status) and [`code`](Self::code) for the vendor's answer).
///
/// The context is held once, whatever the failure: adding a kind of failure ([`Failure`] is
/// `#[non_exhaustive]`) or a piece of context (the fields are private) breaks no caller.
/// Adapters rarely build one: a failed generated-client call becomes one through
/// [`Failed::into_error`](crate::adapter::Failed::into_error), which names the operation the
/// client's hooks recorded, and the [adapter toolkit](mod@crate::adapter) names the operation of an
/// error that has none. Others build one with [`PresenceError::new`] (or a shorthand:
/// [`not_found`](Self::not_found), [`conflict`](Self::conflict), ...).
///
/// ```
/// use agentstatus_presence::{ErrorKind, Failure, PresenceError, Vendor};
///
/// let e = PresenceError::new(Vendor::new("example"), Failure::Http {
///     status: 503,
///     code: None,
///     message: Some("down for maintenance".into()),
/// })
/// .with_operation("list_agents");
/// assert_eq!(e.to_string(), "example: list_agents: HTTP 503 down for maintenance");
/// assert_eq!((e.kind(), e.operation(), e.status()), (ErrorKind::Vendor, Some("list_agents"), Some(503)));
/// ```
#[derive(Debug, Clone)]
pub struct PresenceError {
    vendor: Vendor,
    operation: Option<&'static str>,
    agent: Option<String>,
    failure: Failure,
    /// The server's wait and whether the failing request could change state. Boxed: most
    /// errors have neither, and the error stays small (`clippy::result_large_err`).
    more: Option<Box<More>>,
}

/// What some [`PresenceError`]s know beyond their context and failure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct More {
    /// [`PresenceError::retry_after`].
    retry_after: Option<std::time::Duration>,
    /// [`PresenceError::last_request_wrote`].
    wrote: Option<bool>,
}

impl More {
    /// `None` when it knows nothing.
    fn boxed(self) -> Option<Box<More>> {
        (self != More::default()).then(|| Box::new(self))
    }
}

/// What went wrong in a [`PresenceError`], beyond its context (vendor, operation, agent).
/// Match it with a wildcard arm: failures may be added.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Failure {
    /// The vendor has no state for this availability (e.g. `Busy` on Libredesk): nothing is
    /// silently substituted.
    Unsupported {
        /// The availability that was asked for.
        availability: Availability,
        /// The availabilities this vendor can set.
        supported: Supported,
    },
    /// This vendor cannot do a part of a [`SetRequest`](crate::SetRequest) beyond the
    /// availability (an expiry, a state by name): the whole request is refused, nothing sent.
    UnsupportedOption {
        /// The part: `until` (an expiry) or `state` (the vendor's own word for a state).
        option: &'static str,
        /// Why, and what the vendor can do instead (clipped and escaped caller text).
        message: String,
    },
    /// This vendor only lets the credentials' own agent be changed (the error's agent is the
    /// one the caller gave).
    OwnAgentOnly,
    /// The agent (the error's agent) does not exist on the vendor (or is not a livechat/support
    /// agent there).
    NotFound {
        /// The HTTP status of the answer, when there was one.
        status: Option<u16>,
        /// The vendor's error code, if its error body had one.
        code: Option<String>,
        /// The vendor's message, if its error body had one (clipped to 200 characters, control
        /// characters escaped), or what the adapter found.
        message: Option<String>,
    },
    /// The agent's state after a set is not what was set: changed by someone else in between,
    /// or refused by the server. `vendor_status` is the vendor's own word for what it found (an
    /// unknown word is shown as it is, never read as a state).
    Conflict {
        /// What was set.
        wanted: Availability,
        /// What the read-back found, mapped to an [`Availability`].
        found: Availability,
        /// The vendor's own word for what it found.
        vendor_status: String,
    },
    /// An error answer from the vendor (4xx/5xx other than not found).
    Http {
        /// The HTTP status of the answer.
        status: u16,
        /// The vendor's error code, if its error body had one.
        code: Option<String>,
        /// The vendor's message, if its error body had one (clipped to 200 characters, control
        /// characters escaped).
        message: Option<String>,
    },
    /// The request did not complete: connection refused or reset, TLS failure, timeout.
    Network {
        /// What went wrong, in the words of the client or transport (vendor text clipped and
        /// escaped).
        message: String,
    },
    /// An answer that does not decode as the vendor's documented shape (the status it came
    /// with, if known).
    InvalidResponse {
        /// The HTTP status of the answer, when there was one.
        status: Option<u16>,
        /// What went wrong, in the words of the client or transport (vendor text clipped and
        /// escaped).
        message: String,
    },
    /// The server answered with a redirect, which the clients never follow (the credentials
    /// would travel with it): `base_url` is probably wrong.
    Redirect {
        /// Where the server pointed, without user, password, query or fragment.
        redirect: agentstatus_runtime::Redirect,
    },
    /// The answer's body was larger than the client's `max_response_bytes`; reading stopped at
    /// the limit.
    ResponseTooLarge {
        /// The limit that was passed.
        cause: agentstatus_runtime::BodyTooLarge,
    },
    /// The operation (with its retries, read-backs and pages) did not finish within its
    /// deadline; whatever request was in flight was abandoned. The error's operation is the
    /// presence operation (`get`, `set`, `list`).
    Deadline {
        /// The deadline the operation had ([`RetryPolicy::deadline`](agentstatus_runtime::RetryPolicy)
        /// or the adapter's `with_deadline`).
        deadline: std::time::Duration,
    },
    /// `list` stopped at a configured bound ([`crate::ListLimits`]): the server kept sending
    /// pages. Nothing is returned rather than a list that may be incomplete.
    TooManyPages {
        /// Pages read before stopping.
        pages: u32,
        /// Distinct agents read before stopping.
        agents: usize,
        /// Which bound was reached (`max_pages reached` or `max_agents reached`).
        limit: &'static str,
        /// The total the server reported, if it did.
        total: Option<i64>,
    },
    /// The request was not sent: the client authenticates with OAuth 2.0 client credentials
    /// and its token endpoint gave no token (the runtime's typed error, with the endpoint's own
    /// words cleaned and never the client secret). Its [`kind`](PresenceError::kind): a refusal
    /// of the credentials (`invalid_client`, `invalid_scope`; 400, 401, 403) is
    /// [`ErrorKind::Auth`]; an endpoint that could not be reached, did not answer in time or
    /// answered 5xx (after the client's retries) is [`ErrorKind::Network`], worth trying later
    /// ([`TokenError::is_transient`](agentstatus_runtime::TokenError::is_transient)), and 429
    /// is [`ErrorKind::RateLimited`]; an answer that is no usable token, or a redirect, is
    /// [`ErrorKind::InvalidResponse`]. [`status`](PresenceError::status) and
    /// [`code`](PresenceError::code) are the token endpoint's.
    Token {
        /// What the token endpoint did (boxed: it is larger than the other failures).
        error: Box<agentstatus_runtime::TokenError>,
    },
    /// The caller's input cannot be sent as it is (an agent id of `.` or `..`, say).
    InvalidInput {
        /// What went wrong, in the words of the client or the adapter (vendor text clipped and
        /// escaped).
        message: String,
    },
    /// What the operation needs is someone else's while they keep it: the exclusive lock on
    /// `lock_file` ([`crate::lockfile`]) is held (a watch's state file or notification URL in
    /// use by the watch that holds it), or a vendor setting is another system's (Twilio
    /// TaskRouter's workspace callback URL). Its kind is [`ErrorKind::InUse`].
    InUse {
        /// What is in use (as the caller's config names it), by whom (the lock file and what
        /// its holder recorded there, clipped and escaped), and what to do instead.
        message: String,
        /// The lock file another holds, when a lock is what refused.
        lock_file: Option<std::path::PathBuf>,
    },
}

fn humantime(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

/// The availabilities a vendor can set, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supported(pub &'static [Availability]);

impl fmt::Display for Supported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&names.join(", "))
    }
}

fn describe(status: Option<u16>, code: &Option<String>, message: &Option<String>) -> String {
    let mut s = String::new();
    if let Some(st) = status {
        s.push_str(&format!(" HTTP {st}"));
    }
    if let Some(c) = code {
        s.push_str(&format!(" [{c}]"));
    }
    if let Some(m) = message.as_ref().filter(|m| Some(*m) != code.as_ref()) {
        s.push_str(&format!(" {m}"));
    }
    s
}

impl fmt::Display for PresenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vendor = self.vendor;
        let agent = self.agent.as_deref().unwrap_or_default();
        match &self.failure {
            // about the caller's request or the agent's state: no operation in the message
            Failure::Unsupported {
                availability,
                supported,
            } => {
                return write!(
                    f,
                    "{vendor} cannot set an agent {availability}; it supports: {supported}"
                );
            }
            Failure::UnsupportedOption { option, message } => {
                return write!(f, "{vendor} cannot set `{option}`: {message}");
            }
            Failure::OwnAgentOnly => {
                return write!(
                    f,
                    "{vendor} can only change the availability of the agent the credentials belong to (`me`), not {agent:?}"
                );
            }
            Failure::Conflict {
                wanted,
                found,
                vendor_status,
            } => {
                return write!(
                    f,
                    "{vendor}: agent {agent:?} is {vendor_status:?} ({found}) after setting {wanted}: changed by someone else in between, or refused by the server (e.g. outside business hours)"
                );
            }
            _ => {}
        }
        write!(f, "{vendor}:")?;
        if let Some(operation) = self.operation {
            write!(f, " {operation}:")?;
        }
        match &self.failure {
            Failure::NotFound {
                status,
                code,
                message,
            } => write!(f, " no agent {agent:?}{}", describe(*status, code, message)),
            Failure::Http {
                status,
                code,
                message,
            } => {
                f.write_str(&describe(Some(*status), code, message))?;
                if *status == 429 {
                    f.write_str(" (rate limited")?;
                    if let Some(wait) = self.retry_after() {
                        write!(f, "; the server asks to wait {}", humantime(wait))?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            Failure::Network { message }
            | Failure::InvalidInput { message }
            | Failure::InUse { message, .. } => {
                write!(f, " {message}")
            }
            Failure::InvalidResponse { status, message } => write!(
                f,
                " unexpected answer{}: {message}",
                status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
            ),
            Failure::Redirect { redirect } => write!(f, " {redirect}"),
            Failure::Token { error } => write!(f, " {}", escape_controls(&error.to_string())),
            Failure::ResponseTooLarge { cause } => write!(f, " {cause}"),
            Failure::Deadline { deadline } => write!(
                f,
                " did not finish within its deadline of {}",
                humantime(*deadline)
            ),
            Failure::TooManyPages {
                pages,
                agents,
                limit,
                total,
            } => write!(
                f,
                " stopped after {pages} pages and {agents} agents: {limit}{}; raise ListLimits if the vendor really has that many",
                total
                    .map(|t| format!(" (the server reports {t} in all)"))
                    .unwrap_or_default()
            ),
            Failure::Unsupported { .. }
            | Failure::UnsupportedOption { .. }
            | Failure::OwnAgentOnly
            | Failure::Conflict { .. } => Ok(()),
        }
    }
}

impl std::error::Error for PresenceError {}

impl PresenceError {
    /// `failure` on `vendor`, without operation or agent yet ([`with_operation`](Self::with_operation),
    /// [`with_agent`](Self::with_agent)). A failure about an agent ([`Failure::NotFound`],
    /// [`Failure::OwnAgentOnly`], [`Failure::Conflict`]) shows the agent: give it one, or use
    /// the shorthands below.
    pub fn new(vendor: Vendor, failure: Failure) -> Self {
        Self {
            vendor,
            operation: None,
            agent: None,
            failure,
            more: None,
        }
    }

    /// Whether the request that failed could change state at the vendor (its method is not
    /// `GET`, `HEAD` or `OPTIONS`), when known: `Some(false)` for a read that failed (the read
    /// before a write, which was then never sent; the read back after a write the server
    /// answered), `Some(true)` for a write whose answer failed or never came (it may still be
    /// applied), `None` when the error was not made from a request (a refusal before sending,
    /// an error built by hand). A caller deciding whether a failed write may still land
    /// (sync's writes in doubt) needs only `Some(true)` and `None` to be careful about.
    pub fn last_request_wrote(&self) -> Option<bool> {
        self.more.as_ref().and_then(|m| m.wrote)
    }

    /// The same error, made by a request that could (`true`) or could not change state
    /// ([`PresenceError::last_request_wrote`]).
    pub fn with_last_request_wrote(mut self, wrote: bool) -> Self {
        let more = self.more.take().map_or_else(More::default, |m| *m);
        self.more = More {
            wrote: Some(wrote),
            ..more
        }
        .boxed();
        self
    }

    /// How long the server asked to be left alone, when its answer said so: `Retry-After`
    /// (seconds or an HTTP date), else on a 429 `X-RateLimit-Reset`
    /// ([`agentstatus_runtime::retry::server_wait`]). The server's word, unbounded: a caller
    /// that waits for it caps it.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.more.as_ref().and_then(|m| m.retry_after)
    }

    /// The same error, the server having asked for `wait` ([`PresenceError::retry_after`]).
    pub fn with_retry_after(mut self, wait: Option<std::time::Duration>) -> Self {
        let more = self.more.take().map_or_else(More::default, |m| *m);
        self.more = More {
            retry_after: wait,
            ..more
        }
        .boxed();
        self
    }

    /// The same error, in `operation`: the generated client method (`list_agents`) or the
    /// presence operation (`get`, `set`, `list`).
    pub fn with_operation(mut self, operation: &'static str) -> Self {
        self.operation = Some(operation);
        self
    }

    /// The same error, about `agent` (the id the caller gave).
    pub fn with_agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    /// `agent` does not exist on `vendor` (the adapter looked: no answer said so), with what the
    /// adapter found, if it says more.
    pub fn not_found(vendor: Vendor, agent: impl Into<String>, message: Option<String>) -> Self {
        Self::new(
            vendor,
            Failure::NotFound {
                status: None,
                code: None,
                message,
            },
        )
        .with_agent(agent)
    }

    /// `agent` is `vendor_status` (mapped: `found`) after setting it `wanted`.
    pub fn conflict(
        vendor: Vendor,
        agent: impl Into<String>,
        wanted: Availability,
        found: Availability,
        vendor_status: impl Into<String>,
    ) -> Self {
        Self::new(
            vendor,
            Failure::Conflict {
                wanted,
                found,
                vendor_status: vendor_status.into(),
            },
        )
        .with_agent(agent)
    }

    /// `vendor` can only change the credentials' own agent, not `agent`.
    pub fn own_agent_only(vendor: Vendor, agent: impl Into<String>) -> Self {
        Self::new(vendor, Failure::OwnAgentOnly).with_agent(agent)
    }

    /// `vendor` cannot set `availability`; it can set the `supported` ones.
    pub fn unsupported(
        vendor: Vendor,
        availability: Availability,
        supported: &'static [Availability],
    ) -> Self {
        Self::new(
            vendor,
            Failure::Unsupported {
                availability,
                supported: Supported(supported),
            },
        )
    }

    /// `vendor` cannot set `option` of a [`SetRequest`](crate::SetRequest) (`until`, `state`),
    /// for the reason `message` gives.
    pub fn unsupported_option(
        vendor: Vendor,
        option: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::new(
            vendor,
            Failure::UnsupportedOption {
                option,
                message: message.into(),
            },
        )
    }

    /// What `vendor`'s operation needs is someone else's ([`Failure::InUse`]): the holder of
    /// `lock_file`'s, when a lock refused; `message` names what is in use and by whom, and
    /// says what to do.
    pub fn in_use(
        vendor: Vendor,
        message: impl Into<String>,
        lock_file: Option<std::path::PathBuf>,
    ) -> Self {
        Self::new(
            vendor,
            Failure::InUse {
                message: message.into(),
                lock_file,
            },
        )
    }

    /// The vendor the failed operation was for.
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// The operation that failed: the generated client method whose call failed
    /// (`get_livechat_user`, ...), else the last one the presence operation sent before it
    /// failed, else the presence operation itself (`get`, `set`, `list`; always that for
    /// [`Failure::Deadline`]). `None` only for an error built outside an adapter without one.
    pub fn operation(&self) -> Option<&'static str> {
        self.operation
    }

    /// The agent the operation was about (the id the caller gave), when it was about one.
    pub fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }

    /// What went wrong, in detail.
    pub fn failure(&self) -> &Failure {
        &self.failure
    }

    /// The kind of failure, for callers that branch on it (exit codes, retries, metrics).
    pub fn kind(&self) -> ErrorKind {
        match &self.failure {
            Failure::Unsupported { .. }
            | Failure::UnsupportedOption { .. }
            | Failure::OwnAgentOnly => ErrorKind::Unsupported,
            Failure::NotFound { .. } => ErrorKind::NotFound,
            Failure::Conflict { .. } => ErrorKind::Conflict,
            Failure::Http {
                status: 401 | 403, ..
            } => ErrorKind::Auth,
            Failure::Http { status: 429, .. } => ErrorKind::RateLimited,
            Failure::Http { .. } => ErrorKind::Vendor,
            Failure::Network { .. } | Failure::Deadline { .. } => ErrorKind::Network,
            Failure::InvalidResponse { .. }
            | Failure::Redirect { .. }
            | Failure::ResponseTooLarge { .. }
            | Failure::TooManyPages { .. } => ErrorKind::InvalidResponse,
            Failure::InvalidInput { .. } => ErrorKind::InvalidInput,
            Failure::InUse { .. } => ErrorKind::InUse,
            Failure::Token { error } => token_kind(error),
        }
    }

    /// The HTTP status of the vendor's answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match &self.failure {
            Failure::Http { status, .. } => Some(*status),
            Failure::NotFound { status, .. } | Failure::InvalidResponse { status, .. } => *status,
            Failure::Redirect { redirect } => Some(redirect.status),
            Failure::Token { error } => error.status(),
            _ => None,
        }
    }

    /// The vendor's own error code (`error-business-hours-are-closed`, `disconnected`, ...;
    /// the token endpoint's RFC 6749 `error`, such as `invalid_client`, for [`Failure::Token`]).
    pub fn code(&self) -> Option<&str> {
        match &self.failure {
            Failure::Http { code, .. } | Failure::NotFound { code, .. } => code.as_deref(),
            Failure::Token { error } => match &error.kind {
                agentstatus_runtime::TokenErrorKind::Rejected { error, .. } => Some(error),
                _ => None,
            },
            _ => None,
        }
    }

    /// This error, in `operation` if it names none yet (for the adapter toolkit).
    pub(crate) fn or_operation(mut self, operation: &'static str) -> Self {
        self.operation.get_or_insert(operation);
        self
    }
}

/// The [`ErrorKind`] of a token endpoint's failure (see [`Failure::Token`]).
fn token_kind(error: &agentstatus_runtime::TokenError) -> ErrorKind {
    use agentstatus_runtime::TokenErrorKind as K;
    if error.is_transient() {
        return if error.status() == Some(429) {
            ErrorKind::RateLimited
        } else {
            ErrorKind::Network
        };
    }
    match &error.kind {
        K::Rejected { .. } | K::Status { status: 401 | 403 } => ErrorKind::Auth,
        K::Status { .. } => ErrorKind::Vendor,
        _ => ErrorKind::InvalidResponse,
    }
}

/// The `(code, message)` of a vendor's typed error body: implement it for each error type of a
/// generated client, so [`Failed::into_error`] can say what the vendor said.
pub trait ErrorBody {
    /// The vendor's error code and message from this error body, each if present.
    fn parts(self) -> (Option<String>, Option<String>);
}

/// The error body of an operation whose document declares no error answers: progenitor's
/// `Error<()>`. Such an operation's error answers arrive as unexpected responses (their body
/// read for `code`/`message`), so there is nothing in `()` to say.
impl ErrorBody for () {
    fn parts(self) -> (Option<String>, Option<String>) {
        (None, None)
    }
}

/// At most this many characters of a vendor's text (an error message or code, an unexpected
/// body) go into an error.
pub const SNIPPET: usize = 200;

fn snippet(bytes: &[u8]) -> String {
    let end = bytes.len().min(SNIPPET * 4);
    let mut s = clip(&String::from_utf8_lossy(&bytes[..end]));
    if end < bytes.len() && !s.ends_with('…') {
        s.push('…');
    }
    s
}

/// A vendor's text as it goes into an error: at most [`SNIPPET`] characters (then `…`), with
/// control, format (bidi) and line-separator characters ([`is_unsafe_char`]) written as `\u{..}` escapes, so
/// a message can neither flood a log nor drive the terminal it is printed on.
pub fn clip(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(SNIPPET).collect();
    let mut out = escape_controls(&head);
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// `text` with every [`is_unsafe_char`] written as a visible `\u{..}` escape, nothing cut.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(is_unsafe_char) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that must not reach a terminal or a line-oriented reader raw: Unicode's controls
/// (Cc: C0, DEL, C1), format characters (Cf: the bidi embedding, override, isolate and mark
/// controls, which reorder what is shown; zero-width characters; the byte-order mark; tags) and
/// the line and paragraph separators (Zl U+2028, Zp U+2029, which some readers take as a line
/// break).
pub fn is_unsafe_char(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

fn clip_opt(text: Option<String>) -> Option<String> {
    text.map(|t| clip(&t))
}

/// A generated client's failed call, with what the client's hooks recorded of it. Built with
/// [`Failed::new`] (and [`with_status`](Failed::with_status),
/// [`with_operation`](Failed::with_operation)) outside this crate (`#[non_exhaustive]`: a part
/// added later is not a breaking change); its fields are public to read, match (with `..`) and
/// assign.
///
/// ```
/// use agentstatus_presence::adapter::Failed;
/// let f: Failed<()> = Failed::new(progenitor_client::Error::InvalidRequest("no".into()))
///     .with_status(Some(400));
/// assert_eq!((f.status, f.operation), (Some(400), None));
/// ```
///
/// ```compile_fail,E0639
/// # use agentstatus_presence::adapter::Failed;
/// let f: Failed<()> = Failed {
///     error: progenitor_client::Error::InvalidRequest("no".into()),
///     status: None,
///     operation: None,
/// };
/// ```
#[non_exhaustive]
pub struct Failed<E> {
    /// The generated client's error.
    pub error: progenitor_client::Error<E>,
    /// The HTTP status of the last answer received, when progenitor's error lost it.
    pub status: Option<u16>,
    /// The operation the call sent (progenitor's `OperationInfo::operation_id`, recorded by the
    /// client's hooks); `None` when the request was refused before it was sent.
    pub operation: Option<&'static str>,
}

impl<E> Failed<E> {
    /// The generated client's `error`, with no status and no operation recorded.
    pub fn new(error: progenitor_client::Error<E>) -> Self {
        Self {
            error,
            status: None,
            operation: None,
        }
    }

    /// With the HTTP status of the last answer received.
    pub fn with_status(mut self, status: Option<u16>) -> Self {
        self.status = status;
        self
    }

    /// With the operation the call sent.
    pub fn with_operation(mut self, operation: Option<&'static str>) -> Self {
        self.operation = operation;
        self
    }
}

/// Run a generated client call, keeping the operation it sent and the answer's status for its
/// error (see [`agentstatus_runtime::observe`]).
///
/// The generated call's future is moved to the heap at once: the future returned is small, so
/// a caller's stack frame holds no second and third copy of the call while it is wrapped (debug
/// builds copy a future at every move).
pub fn call<T, E>(
    fut: impl std::future::Future<
        Output = Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>,
    >,
) -> impl std::future::Future<Output = Result<T, Failed<E>>> {
    let answer = call_answer(fut);
    async move {
        answer
            .await
            .map(progenitor_client::ResponseValue::into_inner)
    }
}

/// [`call`], keeping the whole answer (its status and headers: a server's `Date`, an `ETag`).
pub fn call_answer<T, E>(
    fut: impl std::future::Future<
        Output = Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>,
    >,
) -> impl std::future::Future<Output = Result<progenitor_client::ResponseValue<T>, Failed<E>>> {
    // The generated call is a large future: pinned on the heap once, it is not copied again
    // each time it is wrapped (a measurable share of the presence layer's cost at scale).
    let fut = Box::pin(fut);
    async move {
        match agentstatus_runtime::observe(fut).await {
            (Ok(rv), _) => Ok(rv),
            (Err(error), seen) => Err(Failed {
                error,
                status: seen.status,
                operation: seen.operation,
            }),
        }
    }
}

impl<E: ErrorBody> Failed<E> {
    /// The [`PresenceError`] for this failure, in the operation the call sent. `agent` is the
    /// agent the operation was about, so a 404 becomes [`Failure::NotFound`]. A call that
    /// could not get its OAuth 2.0 token becomes [`Failure::Token`] (the typed error the
    /// client's hook recorded: [`agentstatus_runtime::observed_token_error`]) when this runs
    /// inside the presence operation that made the call ([`within`](crate::adapter::within),
    /// a bulk write), as the toolkit runs every operation; elsewhere, an invalid answer with
    /// the token endpoint's message.
    pub async fn into_error(self, vendor: Vendor, agent: Option<&str>) -> PresenceError {
        use progenitor_client::Error as E;
        // what the client's hooks recorded of this call, when it was the last one sent
        let seen = agentstatus_runtime::observed();
        let this_call = seen.operation.is_some() && seen.operation == self.operation;
        let retry_after = match &self.error {
            E::ErrorResponse(rv) => agentstatus_runtime::retry::server_wait(
                rv.status(),
                rv.headers(),
                std::time::SystemTime::now(),
            ),
            E::UnexpectedResponse(r) => agentstatus_runtime::retry::server_wait(
                r.status(),
                r.headers(),
                std::time::SystemTime::now(),
            ),
            // progenitor dropped the answer (its body did not decode): what the client's hooks
            // recorded of it, when it was this call's last answer
            _ => seen
                .retry_after
                .filter(|_| seen.status.is_some() && seen.status == self.status),
        };
        let failure = failure(agent.is_some(), self.error, self.status).await;
        PresenceError {
            vendor,
            operation: self.operation,
            agent: agent.map(str::to_string),
            failure,
            more: More {
                retry_after,
                wrote: this_call.then_some(seen.writes),
            }
            .boxed(),
        }
    }
}

async fn failure<E: ErrorBody>(
    about_an_agent: bool,
    error: progenitor_client::Error<E>,
    last_status: Option<u16>,
) -> Failure {
    use progenitor_client::Error as E;
    let (status, code, message) = match error {
        E::ErrorResponse(rv) => {
            let status = rv.status().as_u16();
            let (code, message) = rv.into_inner().parts();
            (status, clip_opt(code), clip_opt(message))
        }
        E::UnexpectedResponse(response) => {
            if let Some(redirect) = agentstatus_runtime::redirect_of(&response) {
                return Failure::Redirect { redirect };
            }
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap_or_default();
            let (code, message) = error_body(&bytes);
            (status, code, message)
        }
        // an error answer whose body is not the declared error schema (a proxy's plain-text
        // 429, an HTML 503): the status and what the body says, not the decoder's complaint
        E::InvalidResponsePayload(bytes, _) if last_status.is_some_and(|s| s >= 400) => {
            let (code, message) = error_body(&bytes);
            (last_status.unwrap_or_default(), code, message)
        }
        E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
            return match agentstatus_runtime::body_too_large(&e) {
                Some(cause) => Failure::ResponseTooLarge { cause },
                None => Failure::Network {
                    message: clip(&transport(&e)),
                },
            };
        }
        E::InvalidResponsePayload(bytes, e) => {
            return Failure::InvalidResponse {
                status: last_status,
                message: format!(
                    "{}; the body starts: {}",
                    clip(&e.to_string()),
                    snippet(&bytes)
                ),
            };
        }
        E::InvalidRequest(m) => return Failure::InvalidInput { message: clip(&m) },
        // the runtime's hook fails a call that could not get an OAuth 2.0 token with `Custom`,
        // and records the typed error where the call was observed
        E::Custom(m) => {
            return match agentstatus_runtime::observed_token_error() {
                Some(error) if error.to_string() == m => Failure::Token {
                    error: Box::new(error),
                },
                _ => Failure::InvalidResponse {
                    status: None,
                    message: clip(&m),
                },
            };
        }
    };
    if about_an_agent && status == 404 {
        Failure::NotFound {
            status: Some(status),
            code,
            message,
        }
    } else {
        Failure::Http {
            status,
            code,
            message,
        }
    }
}

/// The code and message of an error answer's body that is not (or not known to be) the
/// operation's declared error schema: vendors' error bodies share field names, so what is there
/// is taken; a body without them is shown as it starts.
fn error_body(bytes: &[u8]) -> (Option<String>, Option<String>) {
    let json: Option<serde_json::Value> = serde_json::from_slice(bytes).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let code = field("error_type")
        .or_else(|| field("errorType"))
        .or_else(|| field("error"));
    let message = field("message")
        .or_else(|| field("error"))
        .or_else(|| (!bytes.is_empty()).then(|| snippet(bytes)));
    (clip_opt(code), clip_opt(message))
}

/// A transport error's chain, without the URL's query (there is none: no secret goes there).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_at_the_snippet_length_and_escapes() {
        let exact = "x".repeat(SNIPPET);
        assert_eq!(clip(&exact), exact, "no ellipsis at exactly the limit");
        assert_eq!(clip(&format!("{exact}y")), format!("{exact}…"));
        assert_eq!(clip("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape_controls("ok\r\n"), "ok\\u{d}\\u{a}");
    }

    /// A 429 carries how long the server asked to wait: `Retry-After`, else
    /// `X-RateLimit-Reset` (Rocket.Chat's epoch milliseconds); other failures carry nothing.
    #[tokio::test]
    async fn a_429_keeps_the_servers_wait() {
        use progenitor_client::{Error, ResponseValue};
        use reqwest::StatusCode;
        use reqwest::header::{HeaderMap, HeaderValue};

        let vendor = Vendor::new("plain");
        let failed = |status, headers| Failed::<()> {
            error: Error::ErrorResponse(ResponseValue::new((), status, headers)),
            status: None,
            operation: Some("set_agent"),
        };
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("12"));
        let e = failed(StatusCode::TOO_MANY_REQUESTS, h)
            .into_error(vendor, None)
            .await;
        assert_eq!(e.kind(), crate::ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(12)));
        let reset = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 30_000;
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&reset.to_string()).unwrap(),
        );
        let e = failed(StatusCode::TOO_MANY_REQUESTS, h)
            .into_error(vendor, None)
            .await;
        let wait = e.retry_after().expect("X-RateLimit-Reset read");
        assert!(
            wait > std::time::Duration::from_secs(25) && wait <= std::time::Duration::from_secs(30),
            "{wait:?}"
        );
        let e = failed(StatusCode::BAD_REQUEST, HeaderMap::new())
            .into_error(vendor, None)
            .await;
        assert_eq!(e.retry_after(), None);
    }

    /// A document without error answers gives progenitor's `Error<()>`: its failures still
    /// become errors in their operation, with their status and kind.
    #[tokio::test]
    async fn an_operation_without_declared_error_answers_still_fails_well() {
        use progenitor_client::{Error, ResponseValue};
        use reqwest::{StatusCode, header::HeaderMap};

        let answer = |status| ResponseValue::new((), status, HeaderMap::new());
        let failed = |status| Failed::<()> {
            error: Error::ErrorResponse(answer(status)),
            status: None,
            operation: Some("get_agent"),
        };
        let vendor = Vendor::new("plain");
        let e = failed(StatusCode::NOT_FOUND)
            .into_error(vendor, Some("a1"))
            .await;
        assert_eq!(e.kind(), crate::ErrorKind::NotFound, "{e}");
        assert_eq!(
            (e.status(), e.operation(), e.agent()),
            (Some(404), Some("get_agent"), Some("a1"))
        );
        let e = failed(StatusCode::UNAUTHORIZED)
            .into_error(vendor, None)
            .await;
        assert_eq!(e.kind(), crate::ErrorKind::Auth, "{e}");
        assert_eq!(e.status(), Some(401));
        assert_eq!(().parts(), (None, None));
    }

    /// A set request's options a vendor lacks are refused by name, escaped, as Unsupported; an
    /// end that is not in the future is the caller's mistake.
    #[test]
    fn options_a_vendor_lacks_are_refused_by_name() {
        use crate::{Availability, SetRequest};
        use chrono::{DateTime, TimeDelta, Utc};

        let vendor = Vendor::new("plain");
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let timed = SetRequest::new(Availability::Away).until(at);
        let e = timed.refuse_options(vendor).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Unsupported);
        assert_eq!(
            e.to_string(),
            "plain cannot set `until`: it has no state that ends by itself (asked to end away at 2027-01-15T08:00:00Z)"
        );
        let e = timed.no_expiry(vendor, &[Availability::Busy]);
        assert!(
            e.to_string().contains("it can end only busy by itself"),
            "{e}"
        );
        let named = SetRequest::new(Availability::Away).state("on\u{1b}[2Jbreak");
        let e = named.refuse_options(vendor).unwrap_err();
        assert!(
            matches!(
                e.failure(),
                Failure::UnsupportedOption {
                    option: "state",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
        assert!(
            SetRequest::new(Availability::Away)
                .refuse_options(vendor)
                .is_ok()
        );

        // the expiry must be after now
        let e = timed.until_after(vendor, at).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{e}");
        let before = at - TimeDelta::seconds(1);
        assert_eq!(timed.until_after(vendor, before).unwrap(), Some(at));

        // a duration past what a time holds ends at the latest time there is, not a panic
        let forever = SetRequest::new(Availability::Busy).for_duration(std::time::Duration::MAX);
        assert_eq!(forever.until, Some(DateTime::<Utc>::MAX_UTC));
        let soon = SetRequest::new(Availability::Busy)
            .for_duration(std::time::Duration::from_secs(60))
            .until
            .unwrap();
        let now = DateTime::<Utc>::from(std::time::SystemTime::now());
        assert!(soon > now && soon <= now + TimeDelta::seconds(60), "{soon}");
    }
}
