//! What every generated vendor client shares: building the `reqwest::Client` with the vendor's
//! credentials in sensitive default headers, the per-client state progenitor carries (`Inner`),
//! and the request hook.
//!
//! Secrets only ever live in [`secrecy::SecretString`] and in headers marked sensitive, so they
//! never show in `Debug` output, errors or logs.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
pub use secrecy::{ExposeSecret, SecretString};

/// Per-client state carried by every generated client (progenitor's "inner type").
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Inner {}

/// Timeouts and identification for a vendor client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Whole-request timeout. Default 30 s.
    pub timeout: Duration,
    /// TCP/TLS connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// `User-Agent` header. Default `agentstatus/<version>`.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("agentstatus/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Why a client could not be built. Never contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    #[error(
        "invalid credential: {what} cannot be sent in an HTTP header (it contains a control character or non-ASCII text)"
    )]
    InvalidCredential { what: &'static str },
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A header value holding a secret: marked sensitive so `Debug` prints `Sensitive`, and never
/// echoed in the error.
pub fn sensitive_header(value: &str, what: &'static str) -> Result<HeaderValue, BuildError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| BuildError::InvalidCredential { what })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Check a base URL: absolute http(s), no query, no credentials in it.
pub fn check_base_url(url: &str) -> Result<String, BuildError> {
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
        return Err(invalid("the base URL must not have a query string"));
    }
    Ok(url.trim_end_matches('/').to_string())
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
            u.to_string()
        }
        Err(_) => "<unparseable>".to_string(),
    }
}

/// Build the `reqwest::Client` a vendor client uses, with `headers` (auth) sent on every request.
pub fn http_client(
    headers: Vec<(HeaderName, HeaderValue)>,
    config: &ClientConfig,
) -> Result<reqwest::Client, BuildError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(name, value);
    }
    Ok(reqwest::Client::builder()
        .default_headers(map)
        .user_agent(config.user_agent.clone())
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .build()?)
}

/// Check `base_url` and build the HTTP client with `headers` on every request: what every vendor
/// constructor does, with its own auth headers.
pub fn connect(
    base_url: &str,
    headers: Vec<(HeaderName, HeaderValue)>,
    config: &ClientConfig,
) -> Result<(String, reqwest::Client), BuildError> {
    Ok((check_base_url(base_url)?, http_client(headers, config)?))
}

/// The hook every vendor client runs before sending a request.
///
/// progenitor 0.15 adds `api-version: <info.version of the spec>` to every request (its issue
/// #1120); the vendors do not version their APIs by header, so it is removed.
pub fn pre_request(request: &mut reqwest::Request) {
    request.headers_mut().remove("api-version");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_header_hides_value_in_debug() {
        let v = sensitive_header("s3cr3t", "token").unwrap();
        assert!(!format!("{v:?}").contains("s3cr3t"));
        let e = sensitive_header("bad\nvalue-s3cr3t", "token").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn base_url_checks_do_not_echo_credentials() {
        assert_eq!(
            check_base_url("https://x.example/1.0/").unwrap(),
            "https://x.example/1.0"
        );
        let e = check_base_url("https://user:pw-s3cr3t@x.example").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        let e = check_base_url("https://x.example/?access_token=s3cr3t").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("not a url").is_err());
    }
}

#[doc(hidden)]
pub mod __private {
    pub use progenitor_client::{ClientHooks, Error, OperationInfo};
    pub use reqwest::Request;
}

/// Implements progenitor's `ClientHooks` for the generated `Client` of the calling crate, running
/// [`pre_request`] before every request. One line in each vendor crate: `client_hooks!();`.
#[macro_export]
macro_rules! client_hooks {
    () => {
        impl $crate::__private::ClientHooks<$crate::Inner> for Client {
            async fn pre<E>(
                &self,
                request: &mut $crate::__private::Request,
                _info: &$crate::__private::OperationInfo,
            ) -> ::std::result::Result<(), $crate::__private::Error<E>> {
                $crate::pre_request(request);
                Ok(())
            }
        }
    };
}
