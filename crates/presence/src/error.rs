//! One error type for every vendor: which vendor, which operation, the HTTP status and the
//! vendor's own error code and message. Never a secret: messages come from response bodies and
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
        }
    }
}

/// A presence operation that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PresenceError {
    /// The vendor has no state for this availability (e.g. `Busy` on Libredesk): nothing is
    /// silently substituted.
    #[error("{vendor} cannot set an agent {availability}; it supports: {supported}")]
    Unsupported {
        /// The vendor the adapter is for.
        vendor: Vendor,
        /// The availability that was asked for.
        availability: Availability,
        /// The availabilities this vendor can set.
        supported: Supported,
    },
    /// This vendor only lets the credentials' own agent be changed.
    #[error(
        "{vendor} can only change the availability of the agent the credentials belong to (`me`), not {agent:?}"
    )]
    OwnAgentOnly {
        /// The vendor the adapter is for.
        vendor: Vendor,
        /// The agent id the caller gave (not the credentials' own).
        agent: String,
    },
    #[error("{vendor}: {operation}: no agent {agent:?}{}", describe(*status, code, message))]
    /// The agent does not exist on the vendor (or is not a livechat/support agent there).
    NotFound {
        /// The vendor the operation was sent to.
        vendor: Vendor,
        /// The operation: the generated client method that failed (`get_livechat_user`, ...) or the presence step.
        operation: &'static str,
        /// The agent id the caller gave.
        agent: String,
        /// The HTTP status of the answer, when there was one.
        status: Option<u16>,
        /// The vendor's error code, if its error body had one.
        code: Option<String>,
        /// The vendor's message, if its error body had one (clipped to 200 characters, control characters escaped).
        message: Option<String>,
    },
    /// The agent's state after a set is not what was set. `vendor_status` is the vendor's own
    /// word for what it found (an unknown word is shown as it is, never read as a state).
    #[error(
        "{vendor}: agent {agent:?} is {vendor_status:?} ({found}) after setting {wanted}: changed by someone else in between, or refused by the server (e.g. outside business hours)"
    )]
    Conflict {
        /// The vendor the adapter is for.
        vendor: Vendor,
        /// The agent id the caller gave.
        agent: String,
        /// What was set.
        wanted: Availability,
        /// What the read-back found, mapped to an [`Availability`].
        found: Availability,
        /// The vendor's own word for what it found.
        vendor_status: String,
    },
    /// An error answer from the vendor (4xx/5xx other than not found).
    #[error("{vendor}: {operation}:{}", describe(Some(*status), code, message))]
    Http {
        /// The vendor the operation was sent to.
        vendor: Vendor,
        /// The operation: the generated client method that failed (`get_livechat_user`, ...) or the presence step.
        operation: &'static str,
        /// The HTTP status of the answer.
        status: u16,
        /// The vendor's error code, if its error body had one.
        code: Option<String>,
        /// The vendor's message, if its error body had one (clipped to 200 characters, control characters escaped).
        message: Option<String>,
    },
    #[error("{vendor}: {operation}: {message}")]
    /// The request did not complete: connection refused or reset, TLS failure, timeout, or the whole operation's deadline passed.
    Network {
        /// The vendor the operation was sent to.
        vendor: Vendor,
        /// The operation: the generated client method that failed (`get_livechat_user`, ...) or the presence step.
        operation: &'static str,
        /// What went wrong, in the words of the client or transport (vendor text clipped and escaped).
        message: String,
    },
    #[error("{vendor}: {operation}: unexpected answer{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    /// An answer that does not decode as the vendor's documented shape (the status it came with, if known).
    InvalidResponse {
        /// The vendor the operation was sent to.
        vendor: Vendor,
        /// The operation: the generated client method that failed (`get_livechat_user`, ...) or the presence step.
        operation: &'static str,
        /// The HTTP status of the answer, when there was one.
        status: Option<u16>,
        /// What went wrong, in the words of the client or transport (vendor text clipped and escaped).
        message: String,
    },
    /// The server answered with a redirect, which the clients never follow (the credentials
    /// would travel with it): `base_url` is probably wrong.
    #[error("{vendor}: {operation}: {redirect}")]
    Redirect {
        /// The vendor the operation was sent to.
        vendor: Vendor,
        /// The operation: the generated client method that failed (`get_livechat_user`, ...) or the presence step.
        operation: &'static str,
        /// Where the server pointed, without user, password, query or fragment.
        redirect: agentstatus_runtime::Redirect,
    },
    /// The answer's body was larger than the client's `max_response_bytes`; reading stopped at
    /// the limit.
    #[error("{vendor}: {operation}: {cause}")]
    ResponseTooLarge {
        /// The vendor the operation was sent to.
        vendor: Vendor,
        /// The operation: the generated client method that failed (`get_livechat_user`, ...) or the presence step.
        operation: &'static str,
        /// The limit that was passed.
        cause: agentstatus_runtime::BodyTooLarge,
    },
    /// The operation (with its retries, read-backs and pages) did not finish within its
    /// deadline; whatever request was in flight was abandoned.
    #[error("{vendor}: {operation}: did not finish within its deadline of {}", humantime(*deadline))]
    Deadline {
        /// The vendor the operation was sent to.
        vendor: Vendor,
        /// The operation: the generated client method that failed (`get_livechat_user`, ...) or the presence step.
        operation: &'static str,
        /// The deadline the operation had ([`RetryPolicy::deadline`](agentstatus_runtime::RetryPolicy) or the adapter's `with_deadline`).
        deadline: std::time::Duration,
    },
    /// `list` stopped at a configured bound ([`crate::ListLimits`]): the server kept sending
    /// pages. Nothing is returned rather than a list that may be incomplete.
    #[error(
        "{vendor}: {operation}: stopped after {pages} pages and {agents} agents: {limit}{}; raise ListLimits if the vendor really has that many", total.map(|t| format!(" (the server reports {t} in all)")).unwrap_or_default()
    )]
    TooManyPages {
        /// The vendor the operation was sent to.
        vendor: Vendor,
        /// The operation: the generated client method that failed (`get_livechat_user`, ...) or the presence step.
        operation: &'static str,
        /// Pages read before stopping.
        pages: u32,
        /// Distinct agents read before stopping.
        agents: usize,
        /// Which bound was reached (`max_pages` or `max_agents`).
        limit: &'static str,
        /// The total the server reported, if it did.
        total: Option<i64>,
    },
    /// The caller's input cannot be sent as it is (an agent id of `.` or `..`, say).
    #[error("{vendor}: {operation}: {message}")]
    InvalidInput {
        /// The vendor the operation was sent to.
        vendor: Vendor,
        /// The operation: the generated client method that failed (`get_livechat_user`, ...) or the presence step.
        operation: &'static str,
        /// What went wrong, in the words of the client or transport (vendor text clipped and escaped).
        message: String,
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

impl PresenceError {
    /// The kind of failure, for callers that branch on it (exit codes, retries, metrics).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unsupported { .. } | Self::OwnAgentOnly { .. } => ErrorKind::Unsupported,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Conflict { .. } => ErrorKind::Conflict,
            Self::Http {
                status: 401 | 403, ..
            } => ErrorKind::Auth,
            Self::Http { status: 429, .. } => ErrorKind::RateLimited,
            Self::Http { .. } => ErrorKind::Vendor,
            Self::Network { .. } | Self::Deadline { .. } => ErrorKind::Network,
            Self::InvalidResponse { .. }
            | Self::Redirect { .. }
            | Self::ResponseTooLarge { .. }
            | Self::TooManyPages { .. } => ErrorKind::InvalidResponse,
            Self::InvalidInput { .. } => ErrorKind::InvalidInput,
        }
    }

    /// The vendor the failed operation was for.
    pub fn vendor(&self) -> Vendor {
        match self {
            Self::Unsupported { vendor, .. }
            | Self::OwnAgentOnly { vendor, .. }
            | Self::NotFound { vendor, .. }
            | Self::Conflict { vendor, .. }
            | Self::Http { vendor, .. }
            | Self::Network { vendor, .. }
            | Self::InvalidResponse { vendor, .. }
            | Self::Redirect { vendor, .. }
            | Self::ResponseTooLarge { vendor, .. }
            | Self::Deadline { vendor, .. }
            | Self::TooManyPages { vendor, .. }
            | Self::InvalidInput { vendor, .. } => *vendor,
        }
    }

    /// The HTTP status of the vendor's answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            Self::NotFound { status, .. } | Self::InvalidResponse { status, .. } => *status,
            Self::Redirect { redirect, .. } => Some(redirect.status),
            _ => None,
        }
    }

    /// The vendor's own error code (`error-business-hours-are-closed`, `disconnected`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Http { code, .. } | Self::NotFound { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// The `(code, message)` of a vendor's typed error body: implement it for each error type of a
/// generated client, so [`Failed::into_error`] can say what the vendor said.
pub trait ErrorBody {
    /// The vendor's error code and message from this error body, each if present.
    fn parts(self) -> (Option<String>, Option<String>);
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

/// A generated client's failed call, with the status of the last answer it received.
pub struct Failed<E> {
    /// The generated client's error.
    pub error: progenitor_client::Error<E>,
    /// The HTTP status of the last answer received, when progenitor's error lost it.
    pub status: Option<u16>,
}

/// Run a generated client call, keeping the answer's status for errors that lose it.
pub async fn call<T, E>(
    fut: impl std::future::Future<
        Output = Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>,
    >,
) -> Result<T, Failed<E>> {
    // The generated call is a large future: pinned on the heap once, it is not copied again
    // each time it is wrapped (a measurable share of the presence layer's cost at scale).
    match agentstatus_runtime::with_status(Box::pin(fut)).await {
        (Ok(rv), _) => Ok(rv.into_inner()),
        (Err(error), status) => Err(Failed { error, status }),
    }
}

impl<E: ErrorBody> Failed<E> {
    /// The [`PresenceError`] for this failure. `agent` is the agent the operation was about, so
    /// a 404 becomes [`PresenceError::NotFound`].
    pub async fn into_error(
        self,
        vendor: Vendor,
        operation: &'static str,
        agent: Option<&str>,
    ) -> PresenceError {
        from_client(vendor, operation, agent, self.error, self.status).await
    }
}

async fn from_client<E: ErrorBody>(
    vendor: Vendor,
    operation: &'static str,
    agent: Option<&str>,
    error: progenitor_client::Error<E>,
    last_status: Option<u16>,
) -> PresenceError {
    use progenitor_client::Error as E;
    let (status, code, message) = match error {
        E::ErrorResponse(rv) => {
            let status = rv.status().as_u16();
            let (code, message) = rv.into_inner().parts();
            (status, clip_opt(code), clip_opt(message))
        }
        E::UnexpectedResponse(response) => {
            if let Some(redirect) = agentstatus_runtime::redirect_of(&response) {
                return PresenceError::Redirect {
                    vendor,
                    operation,
                    redirect,
                };
            }
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap_or_default();
            // vendors' error bodies share field names: take what is there
            let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
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
                .or_else(|| (!bytes.is_empty()).then(|| snippet(&bytes)));
            (status, clip_opt(code), clip_opt(message))
        }
        E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
            if let Some(cause) = agentstatus_runtime::body_too_large(&e) {
                return PresenceError::ResponseTooLarge {
                    vendor,
                    operation,
                    cause,
                };
            }
            return PresenceError::Network {
                vendor,
                operation,
                message: clip(&transport(&e)),
            };
        }
        E::InvalidResponsePayload(bytes, e) => {
            return PresenceError::InvalidResponse {
                vendor,
                operation,
                status: last_status,
                message: format!(
                    "{}; the body starts: {}",
                    clip(&e.to_string()),
                    snippet(&bytes)
                ),
            };
        }
        E::InvalidRequest(m) => {
            return PresenceError::InvalidInput {
                vendor,
                operation,
                message: clip(&m),
            };
        }
        E::Custom(m) => {
            return PresenceError::InvalidResponse {
                vendor,
                operation,
                status: None,
                message: clip(&m),
            };
        }
    };
    match agent {
        Some(agent) if status == 404 => PresenceError::NotFound {
            vendor,
            operation,
            agent: agent.to_string(),
            status: Some(status),
            code,
            message,
        },
        _ => PresenceError::Http {
            vendor,
            operation,
            status,
            code,
            message,
        },
    }
}

/// Run one presence operation within `deadline`: past it, whatever request is in flight is
/// abandoned and the operation fails with [`PresenceError::Deadline`].
pub async fn within<T>(
    deadline: std::time::Duration,
    vendor: Vendor,
    operation: &'static str,
    op: impl std::future::Future<Output = Result<T, PresenceError>>,
) -> Result<T, PresenceError> {
    match tokio::time::timeout(deadline, op).await {
        Ok(result) => result,
        Err(_) => Err(PresenceError::Deadline {
            vendor,
            operation,
            deadline,
        }),
    }
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
}
