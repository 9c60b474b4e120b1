//! What a hostile or broken server cannot make a client do: read an unbounded body, follow a
//! redirect (with the credentials) to somewhere else, or turn an id into more than one path
//! segment.

use std::fmt;

use bytes::Bytes;
use http_body::Frame;
use http_body_util::{BodyExt as _, LengthLimitError, Limited, StreamBody};

/// A response body longer than [`crate::ClientConfig::max_response_bytes`]. Found in the source
/// chain of the `reqwest::Error` the body read fails with: see [`body_too_large`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooLarge {
    /// The configured limit, in bytes.
    pub limit: u64,
}

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the response body is larger than the limit of {} bytes (ClientConfig::max_response_bytes); nothing past the limit was read",
            self.limit
        )
    }
}

impl std::error::Error for BodyTooLarge {}

/// The [`BodyTooLarge`] somewhere in `error`'s source chain, if the failure was the body limit.
pub fn body_too_large(error: &(dyn std::error::Error + 'static)) -> Option<BodyTooLarge> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<BodyTooLarge>() {
            return Some(*t);
        }
        next = e.source();
    }
    None
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `response` with its body limited to `limit` bytes: refused at once, nothing read, when its
/// `Content-Length` is larger; otherwise read through `http-body-util`'s [`Limited`], which
/// fails with the first frame past the limit (so no more than the limit is ever held). Either
/// failure is a [`BodyTooLarge`] in the read error's source chain.
///
/// [`Limited`]: http_body_util::Limited
pub(crate) fn limit_body(response: reqwest::Response, limit: u64) -> reqwest::Response {
    let url = response.url().clone();
    let announced_too_large = response.content_length().is_some_and(|n| n > limit);
    let http: http::Response<reqwest::Body> = response.into();
    let (mut parts, body) = http.into_parts();
    // reqwest keeps the URL in an extension the conversion drops: put it back
    use reqwest::ResponseBuilderExt as _;
    if let Ok(with_url) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(with_url.into_parts().0.extensions);
    }
    let too_large = move || -> BoxError { Box::new(BodyTooLarge { limit }) };
    let limited = if announced_too_large {
        // the connection's body is dropped unread
        drop(body);
        reqwest::Body::wrap(StreamBody::new(futures_util::stream::iter([Err::<
            Frame<Bytes>,
            BoxError,
        >(
            too_large()
        )])))
    } else {
        // a limit beyond the address space cannot be reached anyway
        let max = usize::try_from(limit).unwrap_or(usize::MAX);
        reqwest::Body::wrap(Limited::new(body, max).map_err(move |e: BoxError| {
            if e.is::<LengthLimitError>() {
                too_large()
            } else {
                e
            }
        }))
    };
    reqwest::Response::from(http::Response::from_parts(parts, limited))
}

/// A redirect the client did not follow: the clients never follow redirects (the credentials
/// would travel with them), so a 3xx answer is reported with where it pointed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The 3xx status.
    pub status: u16,
    /// Where the server pointed: scheme, host, port and path only (no user, query or fragment),
    /// or `None` if the answer had no usable `Location`.
    pub location: Option<String>,
    /// The `Location` is on the same scheme, host and port as the request.
    pub same_origin: bool,
    /// The `Location` is the request's own URL: following it would loop.
    pub is_loop: bool,
}

impl fmt::Display for Redirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.location, self.is_loop) {
            (Some(to), true) => write!(
                f,
                "redirect loop: the server answered {} redirecting {to} to itself",
                self.status
            ),
            (Some(to), false) => write!(
                f,
                "the server answered {} redirecting to {to}{}; redirects are not followed (credentials would travel with them): set base_url to where the API is",
                self.status,
                if self.same_origin {
                    ""
                } else {
                    " (another origin)"
                }
            ),
            (None, _) => write!(
                f,
                "the server answered {} (a redirect without a usable Location); redirects are not followed: check base_url",
                self.status
            ),
        }
    }
}

/// `scheme://host[:port]/path` of `url`: never its user, password, query or fragment.
pub fn origin_and_path(url: &reqwest::Url) -> String {
    let mut s = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        s.push_str(&format!(":{port}"));
    }
    s.push_str(url.path());
    s
}

/// The [`Redirect`] this answer is, if it is a 3xx.
pub fn redirect_of(response: &reqwest::Response) -> Option<Redirect> {
    let status = response.status();
    if !status.is_redirection() || status == reqwest::StatusCode::NOT_MODIFIED {
        return None;
    }
    let from = response.url();
    let to = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| from.join(v.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let same_origin = to.as_ref().is_some_and(|u| u.origin() == from.origin());
    let is_loop = to
        .as_ref()
        .is_some_and(|u| same_origin && u.path() == from.path() && u.query() == from.query());
    Some(Redirect {
        status: status.as_u16(),
        location: to.as_ref().map(origin_and_path),
        same_origin,
        is_loop,
    })
}

/// An id that cannot be sent as one URL path segment: `.` and `..` are dot-segments that every
/// URL parser resolves (also when percent-encoded), and an empty id is no segment at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSegmentError {
    value: String,
}

impl fmt::Display for PathSegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            f.write_str("a path parameter is empty: an id must not be empty")
        } else {
            write!(
                f,
                "a path parameter is {:?}: `.` and `..` cannot be sent as one URL path segment (URLs resolve them as \"this\" and \"parent\" directory)",
                self.value
            )
        }
    }
}

impl std::error::Error for PathSegmentError {}

impl<E> From<PathSegmentError> for progenitor_client::Error<E> {
    fn from(e: PathSegmentError) -> Self {
        progenitor_client::Error::InvalidRequest(e.to_string())
    }
}

/// Everything but RFC 3986's unreserved characters is percent-encoded: `/`, `\`, `%`, `?`,
/// `#`, `;`, control characters and non-ASCII included, so an id is exactly one segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` as exactly one percent-encoded URL path segment, or an error for the values that
/// cannot be one (`""`, `.`, `..`). The generated clients call it for every path parameter
/// (codegen replaces progenitor's `encode_path`, which leaves `\` and dot-segments alone).
pub fn path_segment(value: &str) -> Result<String, PathSegmentError> {
    if matches!(value, "" | "." | "..") {
        return Err(PathSegmentError {
            value: value.to_string(),
        });
    }
    Ok(percent_encoding::utf8_percent_encode(value, SEGMENT).to_string())
}

/// Where the URL of a generated operation carries a secret: a `format: password` path
/// parameter's segment, a secret query parameter (`?api_key=`, `?access_token=`). The generated
/// `send()` of such an operation runs inside [`without_url_secrets`], so no error it returns
/// shows them: `reqwest::Error` and an unexpected answer print their URL in `Display` and
/// `Debug`, with the secret in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlSecrets {
    /// The path segments that hold a secret, counted from the path's end (0 is the last): the
    /// operation's path template ends the URL's path whatever the base URL's own path, and each
    /// path parameter is exactly one segment ([`path_segment`]).
    pub segments_from_end: &'static [usize],
    /// The names (as sent) of the secret query parameters; `name[...]` (a `deepObject` member)
    /// is one of them too.
    pub query: &'static [&'static str],
}

/// What a secret in a URL is replaced with.
pub const REDACTED: &str = "REDACTED";

impl UrlSecrets {
    /// `url` with every secret segment and secret query value replaced by [`REDACTED`]; the
    /// rest (origin, the other segments and query parameters) kept, to say which call failed.
    pub fn redact(&self, url: &mut reqwest::Url) {
        let segments: Option<Vec<String>> =
            url.path_segments().map(|s| s.map(str::to_string).collect());
        if let Some(segments) = segments
            && !self.segments_from_end.is_empty()
        {
            let n = segments.len();
            let path: Vec<&str> = segments
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    if self
                        .segments_from_end
                        .iter()
                        .any(|&k| k < n && i == n - 1 - k)
                    {
                        REDACTED
                    } else {
                        s.as_str()
                    }
                })
                .collect();
            url.set_path(&format!("/{}", path.join("/")));
        }
        if url.query().is_some() && !self.query.is_empty() {
            let secret = |k: &str| {
                self.query
                    .iter()
                    .any(|n| k == *n || k.strip_prefix(n).is_some_and(|rest| rest.starts_with('[')))
            };
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if secret(&k) {
                        REDACTED.to_string()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        if url.fragment().is_some() {
            url.set_fragment(None);
        }
    }

    /// `error` with the secrets of its URL redacted ([`UrlSecrets::redact`]): the URL of a
    /// transport error (`CommunicationError`, `ResponseBodyError`, `InvalidUpgrade`) and of an
    /// unexpected answer (`UnexpectedResponse`, whose status, headers and body stay as they
    /// are). The other errors carry no URL.
    pub fn redact_error<E>(
        &self,
        error: progenitor_client::Error<E>,
    ) -> progenitor_client::Error<E> {
        use progenitor_client::Error;
        let redact = |mut e: reqwest::Error| {
            if let Some(url) = e.url_mut() {
                self.redact(url);
            }
            e
        };
        match error {
            Error::CommunicationError(e) => Error::CommunicationError(redact(e)),
            Error::ResponseBodyError(e) => Error::ResponseBodyError(redact(e)),
            Error::InvalidUpgrade(e) => Error::InvalidUpgrade(redact(e)),
            Error::UnexpectedResponse(r) => {
                let mut url = r.url().clone();
                self.redact(&mut url);
                Error::UnexpectedResponse(with_url(r, url))
            }
            other => other,
        }
    }
}

/// Run a generated `send()` whose URL carries `secrets`, its error redacted
/// ([`UrlSecrets::redact_error`]). What the generated code of such an operation calls.
pub async fn without_url_secrets<T, E>(
    secrets: UrlSecrets,
    call: impl std::future::Future<Output = Result<T, progenitor_client::Error<E>>>,
) -> Result<T, progenitor_client::Error<E>> {
    call.await.map_err(|e| secrets.redact_error(e))
}

/// `response` as it is (status, headers, body unread), its URL `url`.
fn with_url(response: reqwest::Response, url: reqwest::Url) -> reqwest::Response {
    let http: http::Response<reqwest::Body> = response.into();
    let (mut parts, body) = http.into_parts();
    use reqwest::ResponseBuilderExt as _;
    if let Ok(with_url) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(with_url.into_parts().0.extensions);
    }
    reqwest::Response::from(http::Response::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_one_segment_or_refused() {
        let base = reqwest::Url::parse("https://h.example/api/v1/users/").unwrap();
        for id in [
            "a\\b",
            "a/b",
            "%2e%2e",
            "%2F",
            "a?b",
            "a#b",
            "a;b",
            "a\r\nb",
            "\u{1b}[31m",
            "…",
            "...",
            " ",
            "a b",
            "@",
            ":",
        ] {
            let seg = path_segment(id).unwrap();
            let url = base.join(&seg).unwrap();
            let segments: Vec<&str> = url.path_segments().unwrap().collect();
            assert_eq!(segments.len(), 4, "{id:?} -> {url}");
            let back = percent_encoding::percent_decode_str(segments[3]).decode_utf8_lossy();
            assert_eq!(back, id, "{id:?} round-trips");
            assert!(url.query().is_none() && url.fragment().is_none(), "{id:?}");
        }
        for bad in ["", ".", ".."] {
            let e = path_segment(bad).unwrap_err();
            assert!(e.to_string().contains("path parameter"), "{e}");
        }
    }

    #[test]
    fn redirect_names_where_without_credentials() {
        use reqwest::ResponseBuilderExt as _;
        let answer = |status: u16, location: &str| {
            reqwest::Response::from(
                http::Response::builder()
                    .status(status)
                    .url(reqwest::Url::parse("https://h.example/api/v1/me").unwrap())
                    .header("location", location)
                    .body("")
                    .unwrap(),
            )
        };
        let resp = answer(
            302,
            "https://user:pw@evil.example:8443/steal?token=s3cr3t#f",
        );
        let redirect = redirect_of(&resp).unwrap();
        assert_eq!(
            redirect.location.as_deref(),
            Some("https://evil.example:8443/steal")
        );
        assert!(!redirect.same_origin && !redirect.is_loop);
        let text = redirect.to_string();
        assert!(!text.contains("s3cr3t") && !text.contains("pw"), "{text}");
        assert!(text.contains("another origin") && text.contains("base_url"));

        let looping = answer(301, "/api/v1/me");
        let redirect = redirect_of(&looping).unwrap();
        assert!(redirect.is_loop, "{redirect:?}");
        assert!(redirect.to_string().starts_with("redirect loop"));
    }

    #[test]
    fn url_secrets_are_redacted_and_the_rest_kept() {
        let secrets = UrlSecrets {
            segments_from_end: &[2],
            query: &["api_key", "auth"],
        };
        let mut url = reqwest::Url::parse(
            "https://h.example/api/v1/vaults/v4ult%20s3cret/items/item-1?page=2&api_key=k3y&auth[token]=t0k&x=1#frag",
        )
        .unwrap();
        secrets.redact(&mut url);
        assert_eq!(
            url.as_str(),
            "https://h.example/api/v1/vaults/REDACTED/items/item-1?page=2&api_key=REDACTED&auth%5Btoken%5D=REDACTED&x=1"
        );
        // a shorter path than the template (never generated) is left alone
        let mut short = reqwest::Url::parse("https://h.example/a").unwrap();
        secrets.redact(&mut short);
        assert_eq!(short.as_str(), "https://h.example/a");
    }

    #[test]
    fn an_unexpected_answers_url_is_redacted_and_the_answer_kept() {
        use reqwest::ResponseBuilderExt as _;
        let secrets = UrlSecrets {
            segments_from_end: &[0],
            query: &["token"],
        };
        let answer = reqwest::Response::from(
            http::Response::builder()
                .status(418)
                .url(reqwest::Url::parse("https://h.example/keys/s3cr3t?token=t0k3n").unwrap())
                .header("x-a", "1")
                .body("teapot")
                .unwrap(),
        );
        let e = secrets.redact_error::<()>(progenitor_client::Error::UnexpectedResponse(answer));
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0k3n"),
            "{shown}"
        );
        assert!(
            shown.contains("https://h.example/keys/REDACTED?token=REDACTED"),
            "{shown}"
        );
        let progenitor_client::Error::UnexpectedResponse(r) = e else {
            panic!("{e:?}")
        };
        assert_eq!(r.status(), 418);
        assert_eq!(r.headers()["x-a"], "1");
    }
}
