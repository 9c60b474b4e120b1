//! The config file: which vendor, and each vendor's base URL and non-secret identifiers. Secrets
//! come from environment variables only (never from the file or the command line).
//!
//! ```toml
//! vendor = "rocketchat"            # the one line to change to switch vendor
//!
//! [rocketchat]
//! base_url = "https://chat.example.com"
//! user_id = "rbAXPnMktTFbNpwtJ"    # token from $ROCKETCHAT_AUTH_TOKEN
//!
//! [libredesk]
//! base_url = "https://desk.example.com"
//! api_key = "my-api-key"           # secret from $LIBREDESK_API_SECRET
//! scheme = "basic"                 # or "token"
//!
//! [engage-digital]
//! base_url = "https://acme.api.engagement.dimelo.com/1.0"   # token from $ENGAGE_DIGITAL_TOKEN
//! ```

use std::path::{Path, PathBuf};

use agentstatus_presence::engage_digital::EngageDigitalPresence;
use agentstatus_presence::libredesk::LibredeskPresence;
use agentstatus_presence::rocketchat::RocketChatPresence;
use agentstatus_presence::{Presence, Vendor};
use std::time::Duration;

use agentstatus_rocketchat::{BuildError, ClientConfig, RetryPolicy};
use serde::Deserialize;

/// A configuration problem: which file, where, and what to do.
#[derive(Debug)]
pub struct ConfigError(pub String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The vendor to use unless `--vendor` says otherwise.
    pub vendor: Option<String>,
    pub rocketchat: Option<RocketChat>,
    pub libredesk: Option<Libredesk>,
    #[serde(rename = "engage-digital")]
    pub engage_digital: Option<EngageDigital>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RocketChat {
    pub base_url: String,
    pub user_id: String,
    /// The environment variable holding the auth token.
    #[serde(default = "defaults::rocketchat")]
    pub token_env: String,
    /// Allow credentials over plain http:// to a host that is not loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Basic,
    Token,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Libredesk {
    pub base_url: String,
    pub api_key: String,
    #[serde(default = "defaults::scheme")]
    pub scheme: Scheme,
    /// The environment variable holding the API secret.
    #[serde(default = "defaults::libredesk")]
    pub secret_env: String,
    /// Allow credentials over plain http:// to a host that is not loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngageDigital {
    pub base_url: String,
    /// The environment variable holding the API token.
    #[serde(default = "defaults::engage")]
    pub token_env: String,
    /// Allow credentials over plain http:// to a host that is not loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

mod defaults {
    pub fn rocketchat() -> String {
        "ROCKETCHAT_AUTH_TOKEN".into()
    }
    pub fn libredesk() -> String {
        "LIBREDESK_API_SECRET".into()
    }
    pub fn engage() -> String {
        "ENGAGE_DIGITAL_TOKEN".into()
    }
    pub fn scheme() -> super::Scheme {
        super::Scheme::Basic
    }
}

/// Where the config file is: `--config`, else `$AGENTSTATUS_CONFIG`, else `./agentstatus.toml`.
pub fn path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("AGENTSTATUS_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("agentstatus.toml"))
}

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "{}: cannot read the config file: {e} (give one with --config or $AGENTSTATUS_CONFIG)",
            path.display()
        ))
    })?;
    toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let before = &text[..s.start];
                let line = before.matches('\n').count() + 1;
                let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!(":{line}:{col}")
            })
            .unwrap_or_default();
        ConfigError(format!("{}{at}: {}", path.display(), e.message()))
    })
}

fn secret(var: &str, vendor: Vendor) -> Result<String, ConfigError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(ConfigError(format!(
            "{vendor}: the secret is read from the environment: set ${var} (secrets are never taken from the command line or the config file)"
        ))),
    }
}

fn section<T>(s: Option<T>, vendor: Vendor, path: &Path) -> Result<T, ConfigError> {
    s.ok_or_else(|| ConfigError(format!("{}: no [{vendor}] section", path.display())))
}

fn built(vendor: Vendor, path: &Path) -> impl FnOnce(BuildError) -> ConfigError {
    move |e| match e {
        // the library's message names its API; a command-line user needs the config key
        BuildError::InsecureHttp { host } => ConfigError(format!(
            "{}: [{vendor}] base_url: refusing to send credentials over plain http:// to {host:?}, which is not a loopback address; use https://, or add `allow_insecure_http = true` to the [{vendor}] section",
            path.display()
        )),
        BuildError::InvalidBaseUrl { .. } => {
            ConfigError(format!("{}: [{vendor}] base_url: {e}", path.display()))
        }
        other => ConfigError(format!("{vendor}: {other}")),
    }
}

/// The client settings the command uses: the library defaults, with the operation deadline
/// from `--deadline` and the section's `allow_insecure_http`.
fn client_config(
    base: ClientConfig,
    deadline: Duration,
    allow_insecure_http: bool,
) -> ClientConfig {
    let retry = RetryPolicy {
        deadline,
        ..base.retry.clone()
    };
    base.with_retry(retry)
        .allow_insecure_http(allow_insecure_http)
}

impl Config {
    /// The vendor to talk to: `--vendor`, else the file's `vendor`.
    pub fn vendor(&self, flag: Option<&str>, path: &Path) -> Result<Vendor, ConfigError> {
        let name = flag.or(self.vendor.as_deref()).ok_or_else(|| {
            ConfigError(format!(
                "{}: no vendor chosen: add `vendor = \"rocketchat\"` (or libredesk, engage-digital) or pass --vendor",
                path.display()
            ))
        })?;
        name.parse().map_err(ConfigError)
    }

    /// The presence adapter for `vendor`, with its secret from the environment.
    pub fn presence(
        &self,
        vendor: Vendor,
        path: &Path,
        deadline: Duration,
    ) -> Result<Box<dyn Presence>, ConfigError> {
        Ok(match vendor {
            Vendor::RocketChat => {
                let c = section(self.rocketchat.as_ref(), vendor, path)?;
                let token = secret(&c.token_env, vendor)?;
                let creds = agentstatus_rocketchat::Credentials::new(&c.user_id, token.into());
                let config =
                    client_config(ClientConfig::default(), deadline, c.allow_insecure_http);
                let client =
                    agentstatus_rocketchat::Client::with_config(&c.base_url, creds, &config)
                        .map_err(built(vendor, path))?;
                Box::new(RocketChatPresence::new(client))
            }
            Vendor::Libredesk => {
                let c = section(self.libredesk.as_ref(), vendor, path)?;
                let s = secret(&c.secret_env, vendor)?.into();
                let creds = match c.scheme {
                    Scheme::Basic => agentstatus_libredesk::Credentials::basic(&c.api_key, s),
                    Scheme::Token => agentstatus_libredesk::Credentials::token(&c.api_key, s),
                };
                let config =
                    client_config(ClientConfig::default(), deadline, c.allow_insecure_http);
                let client =
                    agentstatus_libredesk::Client::with_config(&c.base_url, creds, &config)
                        .map_err(built(vendor, path))?;
                Box::new(LibredeskPresence::new(client))
            }
            Vendor::EngageDigital => {
                let c = section(self.engage_digital.as_ref(), vendor, path)?;
                let token = secret(&c.token_env, vendor)?;
                let config = client_config(
                    agentstatus_engage_digital::default_config(),
                    deadline,
                    c.allow_insecure_http,
                );
                let client = agentstatus_engage_digital::Client::with_config(
                    &c.base_url,
                    token.into(),
                    &config,
                )
                .map_err(built(vendor, path))?;
                Box::new(EngageDigitalPresence::new(client))
            }
        })
    }
}
