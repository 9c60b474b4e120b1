//! One error type for every vendor: which vendor, which operation, the HTTP status and the
//! vendor's own error code and message. Never a secret: messages come from response bodies and
//! transport errors, which carry no credentials (they travel in sensitive headers only).

use std::fmt;

use crate::{Availability, Vendor};

/// What went wrong, for callers (and exit codes) that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
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
    /// Could not talk to the vendor (connect, timeout, connection dropped).
    Network,
    /// The vendor answered something we cannot understand.
    InvalidResponse,
}

/// A presence operation that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PresenceError {
    /// The vendor has no state for this availability (e.g. `Busy` on Libredesk): nothing is
    /// silently substituted.
    #[error("{vendor} cannot set an agent {availability}; it supports: {supported}")]
    Unsupported {
        vendor: Vendor,
        availability: Availability,
        supported: Supported,
    },
    /// This vendor only lets the credentials' own agent be changed.
    #[error(
        "{vendor} can only change the availability of the agent the credentials belong to (`me`), not {agent:?}"
    )]
    OwnAgentOnly { vendor: Vendor, agent: String },
    #[error("{vendor}: {operation}: no agent {agent:?}{}", describe(*status, code, message))]
    NotFound {
        vendor: Vendor,
        operation: &'static str,
        agent: String,
        status: Option<u16>,
        code: Option<String>,
        message: Option<String>,
    },
    #[error(
        "{vendor}: agent {agent:?} is {found} after setting {wanted}: changed by someone else in between, or refused by the server (e.g. outside business hours)"
    )]
    Conflict {
        vendor: Vendor,
        agent: String,
        wanted: Availability,
        found: Availability,
    },
    /// An error answer from the vendor.
    #[error("{vendor}: {operation}:{}", describe(Some(*status), code, message))]
    Http {
        vendor: Vendor,
        operation: &'static str,
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },
    #[error("{vendor}: {operation}: {message}")]
    Network {
        vendor: Vendor,
        operation: &'static str,
        message: String,
    },
    #[error("{vendor}: {operation}: unexpected answer{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    InvalidResponse {
        vendor: Vendor,
        operation: &'static str,
        status: Option<u16>,
        message: String,
    },
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
            Self::Network { .. } => ErrorKind::Network,
            Self::InvalidResponse { .. } => ErrorKind::InvalidResponse,
        }
    }

    pub fn vendor(&self) -> Vendor {
        match self {
            Self::Unsupported { vendor, .. }
            | Self::OwnAgentOnly { vendor, .. }
            | Self::NotFound { vendor, .. }
            | Self::Conflict { vendor, .. }
            | Self::Http { vendor, .. }
            | Self::Network { vendor, .. }
            | Self::InvalidResponse { vendor, .. } => *vendor,
        }
    }

    /// The HTTP status of the vendor's answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            Self::NotFound { status, .. } | Self::InvalidResponse { status, .. } => *status,
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

/// The `(code, message)` of a vendor's typed error body.
pub(crate) trait ErrorBody {
    fn parts(self) -> (Option<String>, Option<String>);
}

/// At most this many characters of an unexpected body go into an error.
const SNIPPET: usize = 200;

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(SNIPPET).collect();
    if text.chars().count() > SNIPPET {
        s.push('…');
    }
    s
}

/// A generated client's failed call, with the status of the last answer it received.
pub(crate) struct Failed<E> {
    pub error: progenitor_client::Error<E>,
    pub status: Option<u16>,
}

/// Run a generated client call, keeping the answer's status for errors that lose it.
pub(crate) async fn call<T, E>(
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
    pub(crate) async fn into_error(
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
            (status, code, message)
        }
        E::UnexpectedResponse(response) => {
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
            (status, code, message)
        }
        E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
            return PresenceError::Network {
                vendor,
                operation,
                message: transport(&e),
            };
        }
        E::InvalidResponsePayload(bytes, e) => {
            return PresenceError::InvalidResponse {
                vendor,
                operation,
                status: last_status,
                message: format!("{e}; the body starts: {}", snippet(&bytes)),
            };
        }
        E::InvalidRequest(m) | E::Custom(m) => {
            return PresenceError::InvalidResponse {
                vendor,
                operation,
                status: None,
                message: m,
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
