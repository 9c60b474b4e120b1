//! Getting a vendor document: from its pinned copy, from a `--sources DIR` folder, or downloaded
//! (`--live`, optionally from a `--mirror`) with a timeout, one retry, a size cap and redirects
//! kept within the origin of the URL asked for.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use agentstatus_codegen::sources::{Source, SourceKind};
use agentstatus_codegen::{Error, ErrorKind, Location};
use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};

/// The most bytes a download may have: the cap `cargo xtask try` and `corpus` put on a
/// document. A larger answer is refused (from its Content-Length, or once the body passes it).
pub const MAX_DOWNLOAD_BYTES: u64 = crate::trial::MAX_DOCUMENT_BYTES;

/// Redirects followed per download, all within the origin of the URL asked for.
const MAX_REDIRECTS: usize = 5;

/// Where the vendors' *current* documents come from.
#[derive(Debug, Clone)]
pub enum Current {
    /// Download each source from its `url` (or from `mirror/<vendor>/<file name>`).
    Live {
        mirror: Option<String>,
        timeout: Duration,
    },
    /// Read `DIR/<vendor>/<file name>`.
    Dir(PathBuf),
}

impl Current {
    pub fn label(&self) -> String {
        match self {
            Current::Live { mirror: None, .. } => "live".into(),
            Current::Live {
                mirror: Some(m), ..
            } => format!("live, mirror {}", shown(m)),
            Current::Dir(d) => format!("folder {}", d.display()),
        }
    }
}

impl crate::flags::LiveArgs {
    /// Where the current documents come from: downloaded with `--live`, else read from
    /// `sources` (a `--sources DIR`), else nowhere (only the pinned copies are read).
    pub fn current(&self, sources: Option<PathBuf>) -> Option<Current> {
        if self.live {
            Some(Current::Live {
                mirror: self.mirror.clone(),
                timeout: Duration::from_secs(self.timeout.max(1)),
            })
        } else {
            sources.map(Current::Dir)
        }
    }
}

/// The pinned copy of a source.
pub fn pinned(dir: &Path, source: &Source) -> Result<(Vec<u8>, PathBuf), Error> {
    let path = dir.join(&source.pinned);
    Ok((agentstatus_codegen::read(&path)?, path))
}

/// The URL `--live` asks for a source's document (`None`: it is not downloaded), as [`current`]
/// names it when there was no redirect.
pub fn live_url(current: &Current, vendor: &str, source: &Source) -> Option<String> {
    match current {
        Current::Live { mirror, .. } if source.kind != SourceKind::HandWritten => {
            Some(normalised(&url_of(mirror.as_deref(), vendor, source)))
        }
        _ => None,
    }
}

fn url_of(mirror: Option<&str>, vendor: &str, source: &Source) -> String {
    match mirror {
        Some(m) => format!(
            "{}/{vendor}/{}",
            m.trim_end_matches('/'),
            source.file_name()
        ),
        None => source.url.clone(),
    }
}

/// The current document of a source, and the name to report it under: the file read, or the
/// URL the document was finally downloaded from (after redirects). Hand-written sources are
/// this project's own files: they have nothing to download, so their pinned copy is current.
pub fn current(
    current: &Current,
    vendor: &str,
    vendor_dir: &Path,
    source: &Source,
) -> Result<(Vec<u8>, PathBuf), Error> {
    match current {
        Current::Dir(root) => {
            let path = root.join(vendor).join(source.file_name());
            if source.kind == SourceKind::HandWritten && !path.exists() {
                return pinned(vendor_dir, source);
            }
            Ok((agentstatus_codegen::read(&path)?, path))
        }
        Current::Live { .. } if source.kind == SourceKind::HandWritten => {
            pinned(vendor_dir, source)
        }
        Current::Live { mirror, timeout } => {
            let url = url_of(mirror.as_deref(), vendor, source);
            let (bytes, final_url) = download(&url, *timeout)?;
            Ok((bytes, PathBuf::from(final_url)))
        }
    }
}

/// GET `url` with a timeout; one retry after a connection error, a timeout or a 5xx answer.
/// Redirects are followed only within the origin (scheme, host, port) of `url`, at most
/// [`MAX_REDIRECTS`] of them; the body may not pass [`MAX_DOWNLOAD_BYTES`]. Returns the body
/// and the URL it came from (after redirects, without user name or password). Prints a progress
/// line on stderr.
pub fn download(url: &str, timeout: Duration) -> Result<(Vec<u8>, String), Error> {
    // errors and progress lines never show a user name or password the URL may carry
    let named = shown(url);
    let fail = |message: String| Error::new(ErrorKind::Io, &named, Location::File, message);
    // https through the workspace's TLS choice (rustls + ring, see agentstatus-runtime)
    agentstatus_runtime::ensure_tls_provider();
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(Policy::custom(same_origin_redirects))
        .user_agent(concat!("agentstatus-xtask/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail(format!("download failed: {}", reason(e))))?;
    const ATTEMPTS: u32 = 2;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        eprintln!("fetch {named} (attempt {attempt}/{ATTEMPTS})");
        let response = client.get(url).send();
        // where a redirected answer came from, for the messages below
        let (final_url, from) = match &response {
            Ok(r) if shown_url(r.url()) != normalised(url) => {
                let final_url = shown_url(r.url());
                eprintln!("fetch {named}: redirected to {final_url}");
                let from = format!(" (from {final_url})");
                (final_url, from)
            }
            _ => (normalised(url), String::new()),
        };
        match response {
            Ok(response) if response.status().is_success() => {
                return match read_capped(response, timeout) {
                    Ok(bytes) => Ok((bytes, final_url)),
                    Err(Body::Announced(n)) => Err(fail(format!(
                        "download refused{from}: the server announces {n} bytes, more than \
                         the {} MiB cap",
                        MAX_DOWNLOAD_BYTES >> 20
                    ))),
                    Err(Body::TooLarge) => Err(fail(format!(
                        "download stopped{from}: the body is larger than the {} MiB cap",
                        MAX_DOWNLOAD_BYTES >> 20
                    ))),
                    Err(Body::Failed(why)) => Err(fail(format!(
                        "download failed while reading the body{from}: {why}"
                    ))),
                };
            }
            Ok(response) if response.status().is_server_error() => {
                last = format!("server answered {}{from}", response.status());
            }
            Ok(response) => {
                return Err(fail(format!(
                    "download failed: server answered {}{from}",
                    response.status()
                )));
            }
            // a refused redirect is refused again: no retry
            Err(e) if e.is_redirect() => {
                return Err(fail(format!("download refused: {}", reason(e))));
            }
            Err(e) => last = reason(e),
        }
        if attempt < ATTEMPTS {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    Err(fail(format!(
        "download failed after {ATTEMPTS} attempts: {last}"
    )))
}

/// Why a body was not read.
enum Body {
    /// Its Content-Length passes the cap: nothing was read.
    Announced(u64),
    /// It passed the cap while being read (the read stopped there).
    TooLarge,
    /// A read error or the timeout.
    Failed(String),
}

/// The body, at most [`MAX_DOWNLOAD_BYTES`] of it, within `timeout`. The blocking client's
/// timeout bounds each read; the deadline bounds them all (give or take the read under way).
fn read_capped(response: reqwest::blocking::Response, timeout: Duration) -> Result<Vec<u8>, Body> {
    if let Some(n) = response.content_length()
        && n > MAX_DOWNLOAD_BYTES
    {
        return Err(Body::Announced(n));
    }
    let deadline = Instant::now() + timeout;
    // one byte past the cap tells a body at the cap from a larger one
    let mut body = response.take(MAX_DOWNLOAD_BYTES + 1);
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        if Instant::now() > deadline {
            return Err(Body::Failed("timed out".into()));
        }
        let n = match body.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Body::Failed(io_reason(e))),
        };
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() as u64 > MAX_DOWNLOAD_BYTES {
            return Err(Body::TooLarge);
        }
    }
    Ok(bytes)
}

/// Follow a redirect only within the origin (scheme, host, port) of the URL asked for, so
/// never from https to http, and at most [`MAX_REDIRECTS`] times.
fn same_origin_redirects(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    let next = attempt.url().clone();
    let previous = attempt.previous();
    let first = previous.first().unwrap_or(&next).clone();
    let via = match previous.last() {
        Some(hop) if *hop != first => format!(" (via {})", shown_url(hop)),
        _ => String::new(),
    };
    // an opaque origin (no scheme, host and port) equals no other
    if next.origin() != first.origin() {
        let message = format!(
            "{} redirects to {}{via}, outside its origin {}: only redirects within the origin \
             (scheme, host, port) are followed",
            shown_url(&first),
            shown_url(&next),
            first.origin().ascii_serialization()
        );
        attempt.error(message)
    } else if previous.len() > MAX_REDIRECTS {
        let message = format!(
            "{} redirects more than {MAX_REDIRECTS} times (next to {}{via})",
            shown_url(&first),
            shown_url(&next)
        );
        attempt.error(message)
    } else {
        attempt.follow()
    }
}

/// `url` as errors, reports and progress lines show it: as written, without a user name or
/// password.
fn shown(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) if u.username().is_empty() && u.password().is_none() => url.to_string(),
        Ok(u) => shown_url(&u),
        // not a URL (the download fails on it): drop anything up to an `@`, where a
        // user name and password would be
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}{}", &url[..s + 3], &url[at + 1..]),
            _ => url.to_string(),
        },
    }
}

/// `url` as the client reads it (as [`download`] returns it), without a user name or password.
fn normalised(url: &str) -> String {
    Url::parse(url).map_or_else(|_| shown(url), |u| shown_url(&u))
}

fn shown_url(url: &Url) -> String {
    let mut u = url.clone();
    // both fail only for URLs that cannot have credentials
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

fn reason(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        // the URL is the error's name already (without credentials): not again here
        let e = e.without_url();
        let mut s = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            s.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        s
    }
}

fn io_reason(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::TimedOut {
        return "timed out".into();
    }
    let text = e.to_string();
    match e
        .into_inner()
        .map(|inner| inner.downcast::<reqwest::Error>())
    {
        Some(Ok(e)) => reason(*e),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::net::TcpListener;

    /// A server on 127.0.0.1 answering every request with `len` bytes, with or without a
    /// Content-Length (without: the body ends when the connection closes).
    fn serve(len: u64, announce: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/doc.json", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(&stream);
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                        line.clear();
                    }
                    let length = if announce {
                        format!("Content-Length: {len}\r\n")
                    } else {
                        String::new()
                    };
                    let head = format!("HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n");
                    let _ = stream.write_all(head.as_bytes());
                    let chunk = vec![b' '; 1 << 16];
                    let mut left = len;
                    while left > 0 {
                        let n = left.min(chunk.len() as u64) as usize;
                        if stream.write_all(&chunk[..n]).is_err() {
                            break;
                        }
                        left -= n as u64;
                    }
                });
            }
        });
        url
    }

    #[test]
    fn a_body_of_exactly_the_cap_is_read_and_one_byte_more_is_refused() {
        let timeout = Duration::from_secs(20);
        for announce in [true, false] {
            let url = serve(MAX_DOWNLOAD_BYTES, announce);
            let (bytes, final_url) = download(&url, timeout).unwrap();
            assert_eq!(bytes.len() as u64, MAX_DOWNLOAD_BYTES);
            assert_eq!(final_url, url);

            let url = serve(MAX_DOWNLOAD_BYTES + 1, announce);
            let error = download(&url, timeout).unwrap_err().to_string();
            let expected = if announce {
                format!(
                    "{url}: download refused: the server announces {} bytes, more than the \
                     64 MiB cap",
                    MAX_DOWNLOAD_BYTES + 1
                )
            } else {
                format!("{url}: download stopped: the body is larger than the 64 MiB cap")
            };
            assert_eq!(error, expected);
        }
    }

    #[test]
    fn urls_are_shown_without_user_name_or_password() {
        assert_eq!(
            shown("https://user:secret@example.com/a/b.json"),
            "https://example.com/a/b.json"
        );
        assert_eq!(shown("http://user:secret@[::1/x"), "http://[::1/x");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = format!("http://user:secret@127.0.0.1:{port}/doc.json");
        let error = download(&url, Duration::from_secs(5))
            .unwrap_err()
            .to_string();
        assert!(!error.contains("secret"), "{error}");
        assert!(error.starts_with(&format!("http://127.0.0.1:{port}/doc.json: ")));
        assert_eq!(
            Current::Live {
                mirror: Some("http://user:secret@127.0.0.1:9/".into()),
                timeout: Duration::from_secs(1),
            }
            .label(),
            "live, mirror http://127.0.0.1:9/"
        );
    }
}
