//! A vendor's connection settings in a TOML table: `base_url`, `allow_insecure_http`,
//! `rate_limit` ([`rate_limit`]: the operator's, replacing the vendor's declared one), and the
//! keys its registry [`Entry`] declares (secrets from the environment only, `<secret>_env`
//! naming another variable), checked with their place in the file and turned into the adapter
//! by [`Entry::connect`]. The same rules as the `agentstatus` command's config file.

use std::collections::BTreeMap;
use std::ops::Range;

use agentstatus_presence::Presence;
use agentstatus_presence::registry::{ConnectError, Entry, SettingKind, Settings};
use agentstatus_runtime::{BuildError, ClientConfig, RateLimit};
use toml::de::DeValue;

/// A value from the file.
#[derive(Debug, Clone)]
pub enum Value {
    /// A string.
    Text(String),
    /// An integer, as written (without `_`).
    Integer(String),
    /// A boolean.
    Bool(bool),
    /// Anything else: what it is (`an array`).
    Other(&'static str),
}

impl Value {
    /// The value of a TOML item.
    pub fn of(v: &DeValue<'_>) -> Self {
        match v {
            DeValue::String(s) => Value::Text(s.to_string()),
            DeValue::Integer(i) => Value::Integer(i.as_str().replace('_', "")),
            DeValue::Boolean(b) => Value::Bool(*b),
            other => Value::Other(kind_of(other)),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::Text(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Bool(_) => "a boolean",
            Value::Other(k) => k,
        }
    }
}

/// `:line:col` of byte `offset` in `text` (columns in characters, from 1), for messages.
pub fn position(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(":{line}:{col}")
}

/// The registered vendors' names, for messages (`rocketchat, libredesk, ...`).
pub fn names(registry: &[Entry]) -> String {
    let n: Vec<&str> = registry.iter().map(|e| e.name).collect();
    n.join(", ")
}

/// `text`, read from `path`, as a TOML table; a syntax error is `path:line:col: message`.
pub fn parse_table<'t>(
    path: &std::path::Path,
    text: &'t str,
) -> Result<toml::Spanned<toml::de::DeTable<'t>>, String> {
    toml::de::DeTable::parse(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| position(text, s.start))
            .unwrap_or_default();
        format!("{}{at}: {}", path.display(), e.message())
    })
}

/// What a TOML item is, for messages (`a string`, `a table`).
pub fn kind_of(v: &DeValue<'_>) -> &'static str {
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

/// A value and where it is in the file (byte offsets).
#[derive(Debug, Clone)]
pub struct At<T> {
    /// The value.
    pub value: T,
    /// Where it is.
    pub span: Range<usize>,
}

/// The most requests a `rate_limit` may allow per second: more is no limit at all (write
/// `"off"`).
pub const MAX_RATE_PER_SECOND: u64 = 100_000;

/// A section's `rate_limit`: `"<requests>/<period>"` (`"10/min"`, `"3000/minute"`,
/// `"20/s"`, `"10/30s"`, `"500/1h"`; units `ms`, `s`, `min`, `h` and their long names), or
/// `"off"` (or `false`) for no client-side limit. `Ok(None)` is off. The limit is what the
/// vendor's server counts, in its terms: Rocket.Chat's calls per route and method
/// (`API_Enable_Rate_Limiter_Limit_Calls_Default` per `_Time_Default`), Chatwoot's requests per
/// client IP (`RACK_ATTACK_LIMIT` per minute), Engage Digital's requests per token. Zero
/// requests, a period under 1 ms or over a day, more than [`MAX_RATE_PER_SECOND`] a second, and
/// an unknown unit are refused, saying what is expected.
pub fn rate_limit(value: &Value) -> Result<Option<RateLimit>, String> {
    const EXPECTED: &str = "write \"<requests>/<period>\" (\"10/min\", \"3000/minute\", \"20/s\", \"10/30s\"; units ms, s, min, h) or \"off\"";
    let text = match value {
        Value::Bool(false) => return Ok(None),
        Value::Text(t) => t.trim(),
        other => {
            return Err(format!(
                "`rate_limit` must be a string or false, not {}: {EXPECTED}",
                other.kind()
            ));
        }
    };
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let Some((requests, period)) = text.split_once('/') else {
        return Err(format!("`rate_limit` {text:?}: {EXPECTED}"));
    };
    let requests = requests.trim().replace('_', "");
    let requests: u64 = match requests.parse() {
        Ok(n) if requests.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => {
            return Err(format!(
                "`rate_limit` {text:?}: {requests:?} is not a whole number of requests; {EXPECTED}"
            ));
        }
    };
    if requests == 0 {
        return Err(format!(
            "`rate_limit` {text:?}: zero requests would never call the desk; for no client-side limit write \"off\""
        ));
    }
    let period = period.trim();
    let digits = period.len()
        - period
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    let (count, unit) = period.split_at(digits);
    let count: u64 = if count.is_empty() {
        1
    } else {
        count.parse().unwrap_or(u64::MAX)
    };
    let unit_ms: u64 = match unit.trim() {
        "ms" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "second" | "seconds" => 1_000,
        "m" | "min" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        other => {
            return Err(format!(
                "`rate_limit` {text:?}: unknown unit {other:?}; {EXPECTED}"
            ));
        }
    };
    let ms = count.saturating_mul(unit_ms);
    if !(1..=86_400_000).contains(&ms) {
        return Err(format!(
            "`rate_limit` {text:?}: the period must be between 1 ms and a day"
        ));
    }
    // requests per second, rounded up: more than the bound is no limit at all
    if requests.saturating_mul(1_000).div_ceil(ms) > MAX_RATE_PER_SECOND {
        return Err(format!(
            "`rate_limit` {text:?}: more than {MAX_RATE_PER_SECOND} requests a second is no limit; write \"off\" for none"
        ));
    }
    let requests = u32::try_from(requests).map_err(|_| {
        format!(
            "`rate_limit` {text:?}: at most {} requests per period",
            u32::MAX
        )
    })?;
    Ok(Some(RateLimit {
        requests,
        per: std::time::Duration::from_millis(ms),
    }))
}

/// Whether `key` may appear in a section of `entry`'s vendor; else the message saying why not
/// (`label` names the section, `[chat]`).
pub fn check_key(entry: &Entry, label: &str, key: &str) -> Result<(), String> {
    let known = matches!(key, "base_url" | "allow_insecure_http" | "rate_limit")
        || entry.settings.iter().any(|s| {
            s.key == key && !matches!(s.kind, SettingKind::Secret { .. })
                || s.env_key().as_deref() == Some(key)
        });
    if known {
        return Ok(());
    }
    if entry.setting(key).is_some() {
        return Err(format!(
            "{label} `{key}` is a secret: it is read from the environment only, never from the file (name the variable with `{key}_env`)"
        ));
    }
    let mut allowed: Vec<String> = vec![
        "base_url".into(),
        "allow_insecure_http".into(),
        "rate_limit".into(),
    ];
    for s in entry.settings {
        allowed.push(s.env_key().unwrap_or_else(|| s.key.to_string()));
    }
    Err(format!(
        "{label} unknown key `{key}`: expected one of {}",
        allowed.join(", ")
    ))
}

/// `[desks.chat]` -> `desks.chat`
fn bare(label: &str) -> &str {
    label.trim_start_matches('[').trim_end_matches(']')
}

fn secret(var: &str, label: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(format!(
            "{}: the secret is read from the environment: set ${var} (secrets are never taken from the command line or the config file)",
            bare(label)
        )),
    }
}

/// Build `entry`'s adapter from a section's `keys` (already checked with [`check_key`]).
/// `label` names the section in messages (`[desks.chat]`), `at` turns a span into
/// `file:line:col`, `section` is where the section's name is, `base` the client settings to
/// start from (timeouts, retries).
pub fn connect(
    entry: &Entry,
    label: &str,
    section: &Range<usize>,
    keys: &BTreeMap<String, At<Value>>,
    at: &dyn Fn(&Range<usize>) -> String,
    base: ClientConfig,
) -> Result<Box<dyn Presence>, String> {
    connect_lagging(entry, label, section, keys, at, base, None)
}

/// [`connect`], the adapter told how far behind the vendor's reads may be
/// ([`Settings::with_read_lag`]; a desk's `read_lag`).
pub fn connect_lagging(
    entry: &Entry,
    label: &str,
    section: &Range<usize>,
    keys: &BTreeMap<String, At<Value>>,
    at: &dyn Fn(&Range<usize>) -> String,
    base: ClientConfig,
    read_lag: Option<std::time::Duration>,
) -> Result<Box<dyn Presence>, String> {
    let text = |key: &str| -> Result<Option<(String, Range<usize>)>, String> {
        match keys.get(key) {
            None => Ok(None),
            Some(At {
                value: Value::Text(s),
                span,
            }) => Ok(Some((s.clone(), span.clone()))),
            Some(At { value, span }) => Err(format!(
                "{}: {label} `{key}` must be a string, not {}",
                at(span),
                value.kind()
            )),
        }
    };
    let missing = |key: &str| format!("{}: {label} needs `{key}`", at(section));
    let (base_url, base_span) = text("base_url")?.ok_or_else(|| missing("base_url"))?;
    let allow_insecure_http = match keys.get("allow_insecure_http") {
        None => false,
        Some(At {
            value: Value::Bool(b),
            ..
        }) => *b,
        Some(At { span, .. }) => {
            return Err(format!(
                "{}: {label} `allow_insecure_http` must be true or false",
                at(span)
            ));
        }
    };
    let mut settings = Settings::new(
        base_url.clone(),
        base.allow_insecure_http(allow_insecure_http),
    );
    if let Some(lag) = read_lag {
        settings = settings.with_read_lag(lag);
    }
    if let Some(At { value, span }) = keys.get("rate_limit") {
        let limit = rate_limit(value).map_err(|m| format!("{}: {label} {m}", at(span)))?;
        settings = settings.with_rate_limit(limit);
    }
    for s in entry.settings {
        match s.kind {
            SettingKind::Secret { env } => {
                let env_key = s.env_key().unwrap_or_default();
                let var = text(&env_key)?.map_or_else(|| env.to_string(), |(v, _)| v);
                settings = settings.with_secret(s.key, secret(&var, label)?.into());
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
                        return Err(format!(
                            "{}: {label} `{}` must be one of {}, not {v:?}",
                            at(&span),
                            s.key,
                            values.join(", ")
                        ));
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
                    return Err(format!(
                        "{}: {label} `{}` must be an integer",
                        at(span),
                        s.key
                    ));
                }
                None => return Err(missing(s.key)),
            },
        }
    }
    (entry.connect)(&settings).map_err(|e| match e {
        ConnectError::Build(BuildError::InsecureHttp { host }) => format!(
            "{}: {label} base_url: refusing to send credentials over plain http:// to {host:?}, which is not a loopback address; use https://, or add `allow_insecure_http = true` to the {label} section",
            at(&base_span)
        ),
        ConnectError::Build(e @ BuildError::InvalidBaseUrl { .. }) => {
            format!("{}: {label} base_url: {e}", at(&base_span))
        }
        other => format!("{}: {other}", bare(label)),
    })
}
