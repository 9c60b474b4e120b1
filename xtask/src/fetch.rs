//! Getting a vendor document: from its pinned copy, from a `--sources DIR` folder, or downloaded
//! (`--live`, optionally from a `--mirror`) with a timeout and one retry.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agentstatus_codegen::sources::{Source, SourceKind};
use agentstatus_codegen::{Error, ErrorKind, Location};

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
            } => format!("live, mirror {m}"),
            Current::Dir(d) => format!("folder {}", d.display()),
        }
    }
}

/// The pinned copy of a source.
pub fn pinned(dir: &Path, source: &Source) -> Result<(Vec<u8>, PathBuf), Error> {
    let path = dir.join(&source.pinned);
    Ok((agentstatus_codegen::load::read(&path)?, path))
}

/// The current document of a source, and the name to report it under. Hand-written sources are
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
            Ok((agentstatus_codegen::load::read(&path)?, path))
        }
        Current::Live { .. } if source.kind == SourceKind::HandWritten => {
            pinned(vendor_dir, source)
        }
        Current::Live { mirror, timeout } => {
            let url = match mirror {
                Some(m) => format!(
                    "{}/{vendor}/{}",
                    m.trim_end_matches('/'),
                    source.file_name()
                ),
                None => source.url.clone(),
            };
            let bytes = download(&url, *timeout)?;
            Ok((bytes, PathBuf::from(url)))
        }
    }
}

/// GET `url` with a whole-request timeout; one retry after a connection error, a timeout or a
/// 5xx answer. Prints a progress line on stderr.
pub fn download(url: &str, timeout: Duration) -> Result<Vec<u8>, Error> {
    let fail = |message: String| Error::new(ErrorKind::Io, url, Location::File, message);
    // https through the workspace's TLS choice (rustls + ring, see agentstatus-runtime)
    agentstatus_runtime::ensure_tls_provider();
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("agentstatus-xtask/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail(format!("download failed: {e}")))?;
    const ATTEMPTS: u32 = 2;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        eprintln!("fetch {url} (attempt {attempt}/{ATTEMPTS})");
        match client.get(url).send() {
            Ok(response) if response.status().is_success() => {
                return response.bytes().map(|b| b.to_vec()).map_err(|e| {
                    fail(format!(
                        "download failed while reading the body: {}",
                        reason(&e)
                    ))
                });
            }
            Ok(response) if response.status().is_server_error() => {
                last = format!("server answered {}", response.status());
            }
            Ok(response) => {
                return Err(fail(format!(
                    "download failed: server answered {}",
                    response.status()
                )));
            }
            Err(e) => last = reason(&e),
        }
        if attempt < ATTEMPTS {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    Err(fail(format!(
        "download failed after {ATTEMPTS} attempts: {last}"
    )))
}

fn reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        let mut s = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(inner) = source {
            s.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        s
    }
}
