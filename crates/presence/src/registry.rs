//! How a vendor crate describes itself to programs that pick a vendor by name at run time (the
//! `agentstatus` command, the demo): its settings as data, how to connect, and a demo against
//! its fake. Each vendor crate has one [`Entry`] (its `presence::entry()`); the `agentstatus`
//! facade crate lists them, one line per vendor, like `sqlx::any` lists its drivers.
//!
//! ```
//! use agentstatus_presence::registry::{ConnectError, Entry, Setting, Settings};
//! use agentstatus_presence::Presence;
//!
//! fn connect(s: &Settings) -> Result<Box<dyn Presence>, ConnectError> {
//!     let _token = s.secret("token")?;
//!     let _account: i64 = s.number("account_id")?;
//!     Err(ConnectError::Setting("a real vendor builds its client and adapter here".into()))
//! }
//!
//! pub const ENTRY: Entry = Entry::new("example", "Example Desk", connect).with_settings(&[
//!     Setting::text("account_id", "the numeric account id", None).number(),
//!     Setting::secret("token", "EXAMPLE_TOKEN", "the API access token"),
//! ]);
//! assert_eq!(ENTRY.setting("token").map(|s| s.help), Some("the API access token"));
//! assert!(ENTRY.demo.is_none());
//! ```
//!
//! A vendor's fake, started with agents by name (`agentstatus fake`), is its crate's
//! `fake::SEEDER` (`agentstatus_fakes::seed`), which the facade lists beside its entry.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use agentstatus_runtime::{ClientConfig, RateLimit, SecretString};

use crate::Presence;

/// One vendor, as data: [`Entry::new`], then [`with_settings`](Entry::with_settings) and
/// [`with_demo`](Entry::with_demo) (`#[non_exhaustive]`: a part added later is not a breaking
/// change; the fields are public to read).
///
/// ```compile_fail,E0639
/// # use agentstatus_presence::registry::{ConnectError, Entry, Settings};
/// # fn connect(_: &Settings) -> Result<Box<dyn agentstatus_presence::Presence>, ConnectError> { todo!() }
/// let e = Entry { name: "x", title: "X", settings: &[], connect, demo: None };
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Entry {
    /// The vendor's name: its `specs/` folder, its config section, `--vendor NAME`.
    pub name: &'static str,
    /// How people write it (`Rocket.Chat`).
    pub title: &'static str,
    /// The keys of its config section besides `base_url` and `allow_insecure_http`, which every
    /// vendor has.
    pub settings: &'static [Setting],
    /// Build the adapter from a parsed section.
    pub connect: fn(&Settings) -> Result<Box<dyn Presence>, ConnectError>,
    /// Start the vendor's fake with sample agents and connect to it (vendor crate built with its
    /// `fake` feature), for `agentstatus demo`.
    pub demo: Option<DemoFn>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .field("demo", &self.demo.is_some())
            .finish()
    }
}

impl Entry {
    /// The entry of vendor `name` (written `title`) that connects with `connect`; no settings
    /// besides `base_url` and `allow_insecure_http` ([`Entry::with_settings`]), no demo
    /// ([`Entry::with_demo`]).
    pub const fn new(
        name: &'static str,
        title: &'static str,
        connect: fn(&Settings) -> Result<Box<dyn Presence>, ConnectError>,
    ) -> Self {
        Self {
            name,
            title,
            settings: &[],
            connect,
            demo: None,
        }
    }

    /// With these settings (the keys of its config section besides `base_url` and
    /// `allow_insecure_http`).
    pub const fn with_settings(self, settings: &'static [Setting]) -> Self {
        Self { settings, ..self }
    }

    /// With this demo (see [`Entry::demo`]).
    pub const fn with_demo(self, demo: Option<DemoFn>) -> Self {
        Self { demo, ..self }
    }

    /// The setting called `key`.
    pub fn setting(&self, key: &str) -> Option<&'static Setting> {
        self.settings.iter().find(|s| s.key == key)
    }
}

/// Why [`Entry::connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The client could not be built (base URL, credentials, insecure http).
    #[error(transparent)]
    Build(#[from] agentstatus_runtime::BuildError),
    /// A setting is missing or malformed.
    #[error("{0}")]
    Setting(String),
}

impl From<String> for ConnectError {
    fn from(s: String) -> Self {
        Self::Setting(s)
    }
}

/// Starts a demo: see [`Entry::demo`].
pub type DemoFn = fn() -> Pin<Box<dyn Future<Output = Result<Demo, String>> + Send>>;

/// A vendor's fake, running, with an adapter connected to it: [`Demo::new`]
/// (`#[non_exhaustive]`: a part added later is not a breaking change; the fields are public to
/// read).
///
/// ```compile_fail,E0639
/// # use agentstatus_presence::registry::Demo;
/// # fn parts() -> (Box<dyn agentstatus_presence::Presence>, Box<dyn Fn() -> u64 + Send + Sync>) { todo!() }
/// let (presence, changes) = parts();
/// let d = Demo { presence, agent: "ada".into(), changes, guard: Box::new(()) };
/// ```
#[non_exhaustive]
pub struct Demo {
    /// The adapter, connected to the fake.
    pub presence: Box<dyn Presence>,
    /// An agent the adapter may set.
    pub agent: String,
    /// The state changes the fake has counted so far.
    pub changes: Box<dyn Fn() -> u64 + Send + Sync>,
    /// Keeps the fake running while the demo lives.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

impl Demo {
    /// A demo over `fake`, kept running while the demo lives, whose state changes `changes`
    /// counts.
    pub fn new<F: Send + Sync + 'static>(
        fake: F,
        presence: Box<dyn Presence>,
        agent: impl Into<String>,
        changes: fn(&F) -> u64,
    ) -> Self {
        let fake = std::sync::Arc::new(fake);
        let counter = fake.clone();
        Self {
            presence,
            agent: agent.into(),
            changes: Box::new(move || changes(&counter)),
            guard: Box::new(fake),
        }
    }
}

/// A key of a vendor's config section: [`Setting::text`], [`Setting::secret`], ...
/// (`#[non_exhaustive]`: a part added later is not a breaking change; the fields are public to
/// read).
///
/// ```compile_fail,E0639
/// # use agentstatus_presence::registry::{Setting, SettingKind};
/// let s = Setting { key: "token", help: "the token", kind: SettingKind::Number };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Setting {
    /// The key in the vendor's config section (`base_url`, `token`, ...).
    pub key: &'static str,
    /// One line for `--help` and config errors.
    pub help: &'static str,
    /// What the value is.
    pub kind: SettingKind,
}

/// What a setting's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// A string; required unless it has a default.
    Text {
        /// The value when the key is absent.
        default: Option<&'static str>,
    },
    /// An integer; required.
    Number,
    /// One of `values`.
    Choice {
        /// The accepted values.
        values: &'static [&'static str],
        /// The value when the key is absent.
        default: &'static str,
    },
    /// A secret: never in the file or on the command line, read from the environment variable
    /// `env` (the section may name another one with `<key>_env = "VAR"`).
    Secret {
        /// The environment variable read by default.
        env: &'static str,
    },
}

impl Setting {
    /// A text setting, with its default if it has one.
    pub const fn text(
        key: &'static str,
        help: &'static str,
        default: Option<&'static str>,
    ) -> Self {
        Self {
            key,
            help,
            kind: SettingKind::Text { default },
        }
    }

    /// This setting, as an integer.
    pub const fn number(self) -> Self {
        Self {
            kind: SettingKind::Number,
            ..self
        }
    }

    /// A setting that takes one of `values`, `default` when absent.
    pub const fn choice(
        key: &'static str,
        help: &'static str,
        values: &'static [&'static str],
        default: &'static str,
    ) -> Self {
        Self {
            key,
            help,
            kind: SettingKind::Choice { values, default },
        }
    }

    /// A secret read from the environment variable `env` (never from the file or argv).
    pub const fn secret(key: &'static str, env: &'static str, help: &'static str) -> Self {
        Self {
            key,
            help,
            kind: SettingKind::Secret { env },
        }
    }

    /// The key naming the environment variable of a secret (`token_env`).
    pub fn env_key(&self) -> Option<String> {
        matches!(self.kind, SettingKind::Secret { .. }).then(|| format!("{}_env", self.key))
    }
}

/// A parsed config section: what [`Entry::connect`] reads.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The vendor's API base URL.
    pub base_url: String,
    /// Timeouts, retries, `allow_insecure_http`: the vendor may start from its own defaults and
    /// apply [`Settings::apply`].
    pub config: ClientConfig,
    values: BTreeMap<&'static str, String>,
    secrets: BTreeMap<&'static str, SecretString>,
    /// The operator's rate limit (`Some(None)`: none), replacing the vendor's declared one.
    rate_limit: Option<Option<RateLimit>>,
    /// How far behind the vendor's reads may be (a read replica's), when declared.
    read_lag: Option<std::time::Duration>,
}

impl Settings {
    /// Settings for `base_url` with `config`, no values or secrets yet.
    pub fn new(base_url: impl Into<String>, config: ClientConfig) -> Self {
        Self {
            base_url: base_url.into(),
            config,
            values: BTreeMap::new(),
            secrets: BTreeMap::new(),
            rate_limit: None,
            read_lag: None,
        }
    }

    /// How far behind the vendor's reads may be (a read replica's lag, sync's desk
    /// `read_lag`): an adapter that confirms a read with a later one, or reads a write back,
    /// waits this long for it (Rocket.Chat's toggle, Twilio TaskRouter's 412, Microsoft
    /// Graph's read-back). Without it, each adapter's own default.
    pub fn with_read_lag(mut self, read_lag: std::time::Duration) -> Self {
        self.read_lag = Some(read_lag);
        self
    }

    /// The read lag declared with [`Settings::with_read_lag`], if one was.
    pub fn read_lag(&self) -> Option<std::time::Duration> {
        self.read_lag
    }

    /// The operator's rate limit for this connection, in the vendor's own terms (Rocket.Chat:
    /// per route and method; the vendor's entry says what its server counts, and keeps that
    /// [`RateLimitScope`](agentstatus_runtime::RateLimitScope)): it replaces the vendor's declared default (a
    /// self-hosted server configured otherwise); `None` turns the client's limit off (a server
    /// whose limiter is off, a token that bypasses it). Without this, the vendor's default holds.
    pub fn with_rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = Some(rate_limit);
        self
    }

    /// The rate limit chosen with [`Settings::with_rate_limit`], if one was (`Some(None)`: off).
    pub fn rate_limit(&self) -> Option<Option<RateLimit>> {
        self.rate_limit
    }

    /// Set a text, number or choice setting.
    pub fn with_value(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.values.insert(key, value.into());
        self
    }

    /// Set a secret setting.
    pub fn with_secret(mut self, key: &'static str, value: SecretString) -> Self {
        self.secrets.insert(key, value);
        self
    }

    /// A text or choice setting.
    pub fn text(&self, key: &str) -> Result<&str, String> {
        self.values
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("missing setting `{key}`"))
    }

    /// An integer setting.
    pub fn number(&self, key: &str) -> Result<i64, String> {
        let v = self.text(key)?;
        v.parse()
            .map_err(|_| format!("setting `{key}` must be an integer, not {v:?}"))
    }

    /// A secret setting.
    pub fn secret(&self, key: &str) -> Result<SecretString, String> {
        self.secrets
            .get(key)
            .cloned()
            .ok_or_else(|| format!("missing secret `{key}`"))
    }

    /// `base`, a vendor's default client settings, with what the section and the command line
    /// chose (deadline, retries, timeouts, `allow_insecure_http`, body limit, rate limit). The
    /// rate limit is the operator's ([`Settings::with_rate_limit`], off included), else
    /// [`Settings::config`]'s, else the vendor's declared one in `base`; what it counts (per
    /// client or per operation) is always the vendor's (`base`).
    pub fn apply(&self, base: ClientConfig) -> ClientConfig {
        let c = &self.config;
        let rate_limit = match self.rate_limit {
            Some(chosen) => chosen,
            None => c.rate_limit.or(base.rate_limit),
        };
        base.with_retry(c.retry.clone())
            .with_timeouts(c.timeout, c.connect_timeout)
            .with_rate_limit(rate_limit)
            .with_max_response_bytes(c.max_response_bytes)
            .allow_insecure_http(c.allow_insecure_http)
            .with_shared_budget(c.shared_budget.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentstatus_runtime::RateLimitScope;

    #[test]
    fn the_operators_rate_limit_replaces_the_vendors_declared_one_and_off_is_off() {
        let declared = RateLimit::per_minute(3000);
        let vendor = ClientConfig::default()
            .with_rate_limit(Some(declared))
            .with_rate_limit_scope(RateLimitScope::Operation);
        let s = Settings::new("http://127.0.0.1:1", ClientConfig::default());
        // nothing chosen: the vendor's default holds
        assert_eq!(s.apply(vendor.clone()).rate_limit, Some(declared));
        // the operator's own
        let mine = RateLimit::per_minute(6000);
        let c = s.clone().with_rate_limit(Some(mine)).apply(vendor.clone());
        assert_eq!(c.rate_limit, Some(mine));
        assert_eq!(
            c.rate_limit_scope,
            RateLimitScope::Operation,
            "counted as the vendor counts"
        );
        // off
        assert_eq!(
            s.clone()
                .with_rate_limit(None)
                .apply(vendor.clone())
                .rate_limit,
            None
        );
        // a program's config beats the vendor's default too
        let program = Settings::new(
            "http://127.0.0.1:1",
            ClientConfig::default().with_rate_limit(Some(mine)),
        );
        assert_eq!(program.apply(vendor).rate_limit, Some(mine));
    }
}
