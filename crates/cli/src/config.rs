//! The config file: which vendor, and each vendor's section. Every section has `base_url` and
//! may set `allow_insecure_http` and `rate_limit` (`"10/min"`, `"off"`: replacing the vendor's
//! declared limit, in its terms; `agentstatus_sync::section::rate_limit`); its other keys are the vendor's registry entry's settings
//! (`agentstatus::registry::Setting`), so a new vendor brings its own keys. Secrets come from
//! environment variables only (never from the file or the command line); a section may name
//! another variable with `<secret>_env`.
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
//! ```
//!
//! Every mistake is reported with `file:line:col`: an unknown section or key, a value of the
//! wrong type, a missing required key.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use agentstatus::registry::Entry;
use agentstatus::{ClientConfig, Presence, RetryPolicy};
use agentstatus_sync::section::{self, At, Value, kind_of, names, parse_table, position};
use toml::de::DeValue;

/// A configuration problem: which file, where, and what to do.
#[derive(Debug)]
pub struct ConfigError(pub String);

/// A section: where its name is, and its keys with their values.
type Section = (Range<usize>, BTreeMap<String, At<Value>>);

/// The parsed file: every section, checked against the registry.
#[derive(Debug)]
pub struct Config {
    path: PathBuf,
    text: String,
    vendor: Option<At<String>>,
    /// section name -> key -> value
    sections: BTreeMap<String, Section>,
}

/// Where the config file is: `--config`, else `$AGENTSTATUS_CONFIG`, else `./agentstatus.toml`.
pub fn path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("AGENTSTATUS_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("agentstatus.toml"))
}

/// Read and check the file against the vendors in `registry`.
pub fn load(path: &Path, registry: &[Entry]) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "{}: cannot read the config file: {e} (give one with --config or $AGENTSTATUS_CONFIG)",
            path.display()
        ))
    })?;
    let err = |span: Range<usize>, msg: String| {
        ConfigError(format!(
            "{}{}: {msg}",
            path.display(),
            position(&text, span.start)
        ))
    };
    let table = parse_table(path, &text).map_err(ConfigError)?;
    let mut config = Config {
        path: path.to_path_buf(),
        text: text.clone(),
        vendor: None,
        sections: BTreeMap::new(),
    };
    for (key, value) in table.get_ref() {
        let name = key.get_ref().as_ref();
        match (name, value.get_ref()) {
            ("vendor", DeValue::String(s)) => {
                config.vendor = Some(At {
                    value: s.to_string(),
                    span: value.span(),
                })
            }
            ("vendor", other) => {
                return Err(err(
                    value.span(),
                    format!("`vendor` must be a string, not {}", kind_of(other)),
                ));
            }
            (name, DeValue::Table(section)) => {
                let Some(entry) = registry.iter().find(|e| e.name == name) else {
                    return Err(err(
                        key.span(),
                        format!(
                            "unknown vendor section [{name}]: this build knows {}",
                            names(registry)
                        ),
                    ));
                };
                let mut keys = BTreeMap::new();
                for (k, v) in section {
                    let k_name = k.get_ref().to_string();
                    section::check_key(entry, &format!("[{name}]"), &k_name)
                        .map_err(|m| err(k.span(), m))?;
                    let value = Value::of(v.get_ref());
                    keys.insert(
                        k_name,
                        At {
                            value,
                            span: v.span(),
                        },
                    );
                }
                config.sections.insert(name.to_string(), (key.span(), keys));
            }
            (name, _) => {
                return Err(err(
                    key.span(),
                    format!(
                        "unknown key `{name}`: the file has `vendor = \"...\"` and one [section] per vendor ({})",
                        names(registry)
                    ),
                ));
            }
        }
    }
    Ok(config)
}

impl Config {
    fn at(&self, span: &Range<usize>) -> String {
        format!(
            "{}{}",
            self.path.display(),
            position(&self.text, span.start)
        )
    }

    /// The vendor to talk to: `--vendor`, else the file's `vendor`.
    pub fn vendor<'r>(
        &self,
        flag: Option<&str>,
        registry: &'r [Entry],
    ) -> Result<&'r Entry, ConfigError> {
        let (name, at) = match (flag, &self.vendor) {
            (Some(f), _) => (f.to_string(), "--vendor".to_string()),
            (None, Some(v)) => (v.value.clone(), self.at(&v.span)),
            (None, None) => {
                return Err(ConfigError(format!(
                    "{}: no vendor chosen: add `vendor = \"<name>\"` ({}) or pass --vendor",
                    self.path.display(),
                    names(registry)
                )));
            }
        };
        registry.iter().find(|e| e.name == name).ok_or_else(|| {
            ConfigError(format!(
                "{at}: unknown vendor {name:?}: this build knows {}",
                names(registry)
            ))
        })
    }

    /// The presence adapter for `entry`, from its section, secrets from the environment, and the
    /// operation deadline from the command line.
    pub fn presence(
        &self,
        entry: &Entry,
        deadline: Duration,
    ) -> Result<Box<dyn Presence>, ConfigError> {
        let name = entry.name;
        let (section_span, keys) = self
            .sections
            .get(name)
            .ok_or_else(|| ConfigError(format!("{}: no [{name}] section", self.path.display())))?;
        let base = ClientConfig::default();
        let retry = RetryPolicy {
            deadline,
            ..base.retry.clone()
        };
        section::connect(
            entry,
            &format!("[{name}]"),
            section_span,
            keys,
            &|span| self.at(span),
            base.with_retry(retry),
        )
        .map_err(ConfigError)
    }
}
