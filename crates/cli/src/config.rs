//! The config file: which vendor, and each vendor's section. Every section has `base_url` and
//! may set `allow_insecure_http`; its other keys are the vendor's registry entry's settings
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

use agentstatus::registry::{ConnectError, Entry, SettingKind, Settings};
use agentstatus::{BuildError, ClientConfig, Presence, RetryPolicy};
use toml::de::{DeTable, DeValue};

/// A configuration problem: which file, where, and what to do.
#[derive(Debug)]
pub struct ConfigError(pub String);

/// A value from the file, with where it is.
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Integer(String),
    Bool(bool),
    Other(&'static str),
}

#[derive(Debug, Clone)]
struct At<T> {
    value: T,
    span: Range<usize>,
}

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

fn position(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(":{line}:{col}")
}

fn kind_of(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn names(registry: &[Entry]) -> String {
    let n: Vec<&str> = registry.iter().map(|e| e.name).collect();
    n.join(", ")
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
    let table = DeTable::parse(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| position(&text, s.start))
            .unwrap_or_default();
        ConfigError(format!("{}{at}: {}", path.display(), e.message()))
    })?;
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
                    let known = matches!(k_name.as_str(), "base_url" | "allow_insecure_http")
                        || entry.settings.iter().any(|s| {
                            s.key == k_name && !matches!(s.kind, SettingKind::Secret { .. })
                                || s.env_key().as_deref() == Some(k_name.as_str())
                        });
                    if !known {
                        let secret = entry.setting(&k_name).is_some();
                        let mut allowed: Vec<String> =
                            vec!["base_url".into(), "allow_insecure_http".into()];
                        for s in entry.settings {
                            allowed.push(s.env_key().unwrap_or_else(|| s.key.to_string()));
                        }
                        return Err(err(
                            k.span(),
                            if secret {
                                format!(
                                    "[{name}] `{k_name}` is a secret: it is read from the environment only, never from the file (name the variable with `{k_name}_env`)"
                                )
                            } else {
                                format!(
                                    "[{name}] unknown key `{k_name}`: expected one of {}",
                                    allowed.join(", ")
                                )
                            },
                        ));
                    }
                    let value = match v.get_ref() {
                        DeValue::String(s) => Value::Text(s.to_string()),
                        DeValue::Integer(i) => Value::Integer(i.as_str().replace('_', "")),
                        DeValue::Boolean(b) => Value::Bool(*b),
                        other => Value::Other(kind_of(other)),
                    };
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

fn secret(var: &str, vendor: &str) -> Result<String, ConfigError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(ConfigError(format!(
            "{vendor}: the secret is read from the environment: set ${var} (secrets are never taken from the command line or the config file)"
        ))),
    }
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
        let text = |key: &str| -> Result<Option<(String, Range<usize>)>, ConfigError> {
            match keys.get(key) {
                None => Ok(None),
                Some(At {
                    value: Value::Text(s),
                    span,
                }) => Ok(Some((s.clone(), span.clone()))),
                Some(At { value, span }) => Err(ConfigError(format!(
                    "{}: [{name}] `{key}` must be a string, not {}",
                    self.at(span),
                    match value {
                        Value::Integer(_) => "an integer",
                        Value::Bool(_) => "a boolean",
                        Value::Other(k) => k,
                        Value::Text(_) => unreachable!(),
                    }
                ))),
            }
        };
        let missing =
            |key: &str| ConfigError(format!("{}: [{name}] needs `{key}`", self.at(section_span)));
        let (base_url, base_span) = text("base_url")?.ok_or_else(|| missing("base_url"))?;
        let allow_insecure_http = match keys.get("allow_insecure_http") {
            None => false,
            Some(At {
                value: Value::Bool(b),
                ..
            }) => *b,
            Some(At { span, .. }) => {
                return Err(ConfigError(format!(
                    "{}: [{name}] `allow_insecure_http` must be true or false",
                    self.at(span)
                )));
            }
        };
        let base = ClientConfig::default();
        let retry = RetryPolicy {
            deadline,
            ..base.retry.clone()
        };
        let mut settings = Settings::new(
            base_url.clone(),
            base.with_retry(retry)
                .allow_insecure_http(allow_insecure_http),
        );
        for s in entry.settings {
            match s.kind {
                SettingKind::Secret { env } => {
                    let env_key = s.env_key().unwrap_or_default();
                    let var = text(&env_key)?.map_or_else(|| env.to_string(), |(v, _)| v);
                    settings = settings.with_secret(s.key, secret(&var, name)?.into());
                }
                SettingKind::Text { default } => {
                    let v = match text(s.key)? {
                        Some((v, _)) => v,
                        None => default.map(str::to_string).ok_or_else(|| missing(s.key))?,
                    };
                    settings = settings.with_value(s.key, v);
                }
                SettingKind::Choice { values, default } => {
                    let v = match text(s.key)? {
                        Some((v, span)) if !values.contains(&v.as_str()) => {
                            return Err(ConfigError(format!(
                                "{}: [{name}] `{}` must be one of {}, not {v:?}",
                                self.at(&span),
                                s.key,
                                values.join(", ")
                            )));
                        }
                        Some((v, _)) => v,
                        None => default.to_string(),
                    };
                    settings = settings.with_value(s.key, v);
                }
                SettingKind::Number => match keys.get(s.key) {
                    Some(At {
                        value: Value::Integer(i),
                        ..
                    }) => settings = settings.with_value(s.key, i.clone()),
                    Some(At { span, .. }) => {
                        return Err(ConfigError(format!(
                            "{}: [{name}] `{}` must be an integer",
                            self.at(span),
                            s.key
                        )));
                    }
                    None => return Err(missing(s.key)),
                },
            }
        }
        (entry.connect)(&settings).map_err(|e| match e {
            // the library's message names its API; a command-line user needs the config key
            ConnectError::Build(BuildError::InsecureHttp { host }) => ConfigError(format!(
                "{}: [{name}] base_url: refusing to send credentials over plain http:// to {host:?}, which is not a loopback address; use https://, or add `allow_insecure_http = true` to the [{name}] section",
                self.at(&base_span)
            )),
            ConnectError::Build(e @ BuildError::InvalidBaseUrl { .. }) => {
                ConfigError(format!("{}: [{name}] base_url: {e}", self.at(&base_span)))
            }
            other => ConfigError(format!("{name}: {other}")),
        })
    }
}
