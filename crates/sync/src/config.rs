//! `sync.toml`: the desks, the people map, the rules, the database.
//!
//! ```toml
//! database = "sync.db"          # SQLite; relative paths are relative to this file
//! people = "people.csv"         # one row per person, a column per desk
//! # match = "email"             # instead of `people`: match agents by their e-mail address
//! interval = 15                 # seconds between two reads of a desk (each desk may override)
//! precedence = ["busy", "available", "away", "offline"]   # the default
//! listen = "127.0.0.1:9464"     # optional: GET /health and /metrics (Prometheus)
//! stale_after = 3               # /health fails (503) for a desk not read for 3 intervals
//!
//! [desks.chat]                  # a desk's name: its column in people.csv
//! vendor = "rocketchat"
//! role = "both"                 # source (read), target (written) or both (the default)
//! base_url = "https://chat.example.com"
//! user_id = "rbAXPnMktTFbNpwtJ" # token from $ROCKETCHAT_AUTH_TOKEN, or name one: token_env
//! substitute = { busy = "offline", away = "offline" }   # what it holds for states it cannot
//! read_lag = 2                  # seconds its reads may be behind (a read replica; the default)
//! late_write_grace = 60         # seconds a write that timed out may still land (the default)
//!
//! [desks.tickets]
//! vendor = "chatwoot"
//! interval = 30
//! base_url = "https://desk.example.com"
//! account_id = 1
//! rate_limit = "6000/min"       # this server's RACK_ATTACK_LIMIT (the vendor's default: 3000)
//! ```
//!
//! A desk's `read_lag` is also its adapter's (`Settings::with_read_lag`): where an adapter confirms
//! a read with a later one or reads a write back (Rocket.Chat's toggle, Twilio TaskRouter's 412,
//! Microsoft Graph's read-back), it waits that long.
//!
//! Besides `vendor`, `role`, `interval`, `substitute`, `read_lag` and `late_write_grace`, a desk's keys are its vendor's
//! connection settings, read by the same rules as the `agentstatus` command's config
//! ([`crate::section`]), `rate_limit` included ([`section::rate_limit`]: `"<requests>/<period>"`
//! or `"off"`, in the vendor's own terms, replacing its declared default for this desk). Every
//! mistake is reported with `file:line:col`.
//!
//! Desks on one server (the same `base_url` origin: scheme, host, port) share its budget: the
//! vendors' servers count their limit per client IP (Chatwoot's `req/ip`, Rocket.Chat's per IP
//! and route), so two Chatwoot desks of one server (two accounts, two tokens) are paced together
//! under its one limit, not each under it ([`agentstatus_runtime::ServerBudgets`]): one pacer
//! per server and limit. An operator's `rate_limit` on a desk still wins: desks of one server
//! given the same `rate_limit` (the server's limit, as its admin set it) share it; a desk given
//! another one (a token whose limit was raised, a server that counts it apart) is paced on its
//! own at that; `"off"` is not paced at all.
//!
//! `match = "email"` replaces the people map: an agent is the person of the e-mail address its
//! desk's list answer gives ([`crate::people`]); a desk whose vendor gives none
//! ([`email_source`](crate::people::email_source): Engage Digital, Twilio TaskRouter) is refused
//! at load, with its place.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agentstatus_presence::Availability;
use agentstatus_presence::registry::Entry;
use agentstatus_runtime::{ClientConfig, RetryPolicy};
use toml::de::DeValue;

use crate::engine::{Desk, Role};
use crate::section::{self, At, Value, kind_of, names, parse_table, position};

/// A configuration problem: which file, where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// One desk as configured (not yet connected).
#[derive(Debug, Clone)]
pub struct DeskConfig {
    /// Its name (the `[desks.<name>]` key and its people.csv column).
    pub name: String,
    /// Its vendor.
    pub entry: Entry,
    /// Read, written, or both.
    pub role: Role,
    /// Time between two reads.
    pub interval: Duration,
    /// States the desk cannot hold, and what it holds instead.
    pub substitute: HashMap<Availability, Availability>,
    /// How old its reads may be (a read replica's lag; [`Desk::read_lag`]).
    pub read_lag: Duration,
    /// How long after its failure a write may still land ([`Desk::late_grace`]).
    pub late_grace: Duration,
    substitute_at: HashMap<Availability, Range<usize>>,
    span: Range<usize>,
    keys: BTreeMap<String, At<Value>>,
}

/// The connection settings, besides `base_url`, that say which account's agents a desk of
/// `vendor` sees: two desks of one vendor with the same `base_url` and the same values of these
/// see the same agents (one agent id there is one presence, whoever's token reads it). `None`
/// for a vendor this table does not know: then every setting that is not a secret counts (two
/// desks that differ in any are taken for two accounts).
///
/// | vendor | one account |
/// |---|---|
/// | rocketchat | the server (`base_url`): `user_id` is whose token it is, not whose agents |
/// | chatwoot | `account_id` on the server: availability is per account membership |
/// | engage-digital, libredesk, mattermost, zulip | the server or domain (`base_url`) |
/// | msgraph | `base_url`: a user's id is the same whatever the app registration |
/// | twilio-taskrouter | `workspace_sid` (a worker belongs to one workspace) |
pub fn account_settings(vendor: &str) -> Option<&'static [&'static str]> {
    match vendor {
        "rocketchat" | "engage-digital" | "libredesk" | "mattermost" | "zulip" | "msgraph" => {
            Some(&[])
        }
        "chatwoot" => Some(&["account_id"]),
        "twilio-taskrouter" => Some(&["workspace_sid"]),
        _ => None,
    }
}

/// The parsed `sync.toml`.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// The file read.
    pub path: PathBuf,
    text: String,
    /// The SQLite database (resolved against the config file's folder).
    pub database: PathBuf,
    /// The people map (resolved against the config file's folder); `None` with
    /// `match = "email"`.
    pub people: Option<PathBuf>,
    /// `match = "email"`: people are matched by the e-mail address each desk gives.
    pub by_email: bool,
    /// Which state wins when one person changed on two desks in the same cycle (first wins).
    pub precedence: Vec<Availability>,
    /// Writes in flight per desk.
    pub write_concurrency: usize,
    /// Where to serve `/health` and `/metrics` ([`crate::metrics`]), if anywhere.
    pub listen: Option<std::net::SocketAddr>,
    /// `/health` fails for a desk not read successfully for this many of its intervals
    /// (default 3).
    pub stale_after: u32,
    /// The desks, in file order (the last tie-breaker).
    pub desks: Vec<DeskConfig>,
}

/// The default precedence, like Microsoft Graph's presence aggregation (DoNotDisturb and Busy
/// over Available over Away over Offline).
pub const DEFAULT_PRECEDENCE: [Availability; 4] = [
    Availability::Busy,
    Availability::Available,
    Availability::Away,
    Availability::Offline,
];

/// Seconds, as an integer or a decimal (`0.5`), at least 100 ms.
/// A desk's `read_lag` or `late_write_grace`: seconds between 0 and 300.
fn lag_seconds(v: &DeValue<'_>) -> Option<Duration> {
    let s = match v {
        DeValue::Integer(i) => i.as_str().replace('_', "").parse::<f64>().ok()?,
        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok()?,
        _ => return None,
    };
    (s.is_finite() && (0.0..=300.0).contains(&s)).then(|| Duration::from_secs_f64(s))
}

fn seconds(v: &DeValue<'_>) -> Option<Duration> {
    let s = match v {
        DeValue::Integer(i) => i.as_str().replace('_', "").parse::<f64>().ok()?,
        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok()?,
        _ => return None,
    };
    (s.is_finite() && (0.1..=86_400.0).contains(&s)).then(|| Duration::from_secs_f64(s))
}

impl SyncConfig {
    /// Read and check `path` against the vendors in `registry`.
    pub fn load(path: &Path, registry: &[Entry]) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!(
                "{}: cannot read the sync config: {e}",
                path.display()
            ))
        })?;
        Self::parse(path, text, registry)
    }

    /// Check `text`, read from `path`, against the vendors in `registry`.
    pub fn parse(path: &Path, text: String, registry: &[Entry]) -> Result<Self, ConfigError> {
        let err = |span: &Range<usize>, msg: String| {
            ConfigError(format!(
                "{}{}: {msg}",
                path.display(),
                position(&text, span.start)
            ))
        };
        let table = parse_table(path, &text).map_err(ConfigError)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                dir.join(p)
            }
        };
        let mut database = None;
        let mut people = None;
        let mut by_email = None;
        let mut interval = Duration::from_secs(15);
        let mut precedence = DEFAULT_PRECEDENCE.to_vec();
        let mut write_concurrency = 4;
        let mut desks_table = None;
        let mut listen = None;
        let mut stale_after = 3;
        for (key, value) in table.get_ref() {
            let name = key.get_ref().as_ref();
            let v = value.get_ref();
            let span = value.span();
            match (name, v) {
                ("database", DeValue::String(s)) => database = Some(resolve(s)),
                ("people", DeValue::String(s)) => people = Some(resolve(s)),
                ("match", DeValue::String(m)) if m.as_ref() == "email" => {
                    by_email = Some(span);
                }
                ("match", other) => {
                    return Err(err(
                        &span,
                        format!(
                            "`match` can only be \"email\" (agents matched by their e-mail address; else give `people = \"people.csv\"`), not {}",
                            match other {
                                DeValue::String(s) => format!("{:?}", s.as_ref()),
                                other => kind_of(other).to_string(),
                            }
                        ),
                    ));
                }
                ("database" | "people", other) => {
                    return Err(err(
                        &span,
                        format!(
                            "`{name}` must be a file path (a string), not {}",
                            kind_of(other)
                        ),
                    ));
                }
                ("interval", v) => {
                    interval = seconds(v).ok_or_else(|| {
                        err(
                            &span,
                            "`interval` must be seconds between 0.1 and 86400".into(),
                        )
                    })?;
                }
                ("write_concurrency", DeValue::Integer(i)) => {
                    write_concurrency = i
                        .as_str()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=64).contains(n))
                        .ok_or_else(|| {
                            err(&span, "`write_concurrency` must be between 1 and 64".into())
                        })?;
                }
                ("precedence", DeValue::Array(items)) => {
                    let mut order = Vec::new();
                    for item in items {
                        let s = match item.get_ref() {
                            DeValue::String(s) => s.to_string(),
                            other => {
                                return Err(err(
                                    &item.span(),
                                    format!(
                                        "`precedence` lists availabilities (strings), not {}",
                                        kind_of(other)
                                    ),
                                ));
                            }
                        };
                        let a: Availability = s.parse().map_err(|e| err(&item.span(), e))?;
                        if order.contains(&a) {
                            return Err(err(&item.span(), format!("`precedence` names {a} twice")));
                        }
                        order.push(a);
                    }
                    if order.len() != Availability::ALL.len() {
                        return Err(err(
                            &span,
                            "`precedence` must order all four: available, busy, away, offline"
                                .into(),
                        ));
                    }
                    precedence = order;
                }
                ("desks", DeValue::Table(t)) => desks_table = Some((t, key.span())),
                ("listen", DeValue::String(s)) => {
                    listen = Some(s.parse::<std::net::SocketAddr>().map_err(|_| {
                        err(
                            &span,
                            format!("`listen` must be an address and port (\"127.0.0.1:9464\"), not {:?}", s.as_ref()),
                        )
                    })?);
                }
                ("stale_after", DeValue::Integer(i)) => {
                    stale_after = i
                        .as_str()
                        .replace('_', "")
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            err(
                                &span,
                                "`stale_after` must be a number of intervals between 1 and 1000"
                                    .into(),
                            )
                        })?;
                }
                (
                    "write_concurrency" | "precedence" | "desks" | "listen" | "stale_after",
                    other,
                ) => {
                    return Err(err(&span, format!("`{name}` cannot be {}", kind_of(other))));
                }
                (other, _) => {
                    return Err(err(
                        &key.span(),
                        format!(
                            "unknown key `{other}`: expected database, people, match, interval, precedence, write_concurrency, listen, stale_after or [desks.<name>]"
                        ),
                    ));
                }
            }
        }
        let start = 0..0;
        let database = database.ok_or_else(|| {
            err(
                &start,
                "needs `database = \"<file>\"` (where sync keeps its state)".into(),
            )
        })?;
        match (&people, &by_email) {
            (None, None) => {
                return Err(err(
                    &start,
                    "needs `people = \"<file.csv>\"` (who is who on each desk), or `match = \"email\"`".into(),
                ));
            }
            (Some(_), Some(span)) => {
                return Err(err(
                    span,
                    "`match = \"email\"` and `people` exclude each other: keep one".into(),
                ));
            }
            _ => {}
        }
        let Some((desks_table, _)) = desks_table else {
            return Err(err(
                &start,
                "no desks: add a [desks.<name>] section per desk".into(),
            ));
        };
        let mut desks = Vec::new();
        for (key, value) in desks_table {
            let name = key.get_ref().to_string();
            let label = format!("[desks.{name}]");
            let DeValue::Table(t) = value.get_ref() else {
                return Err(err(
                    &key.span(),
                    format!("`desks.{name}` must be a table ([desks.{name}])"),
                ));
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(err(
                    &key.span(),
                    format!("desk name {name:?}: use letters, digits, `-`, `_` or `.`"),
                ));
            }
            let vendor = t
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == "vendor")
                .ok_or_else(|| {
                    err(
                        &key.span(),
                        format!("{label} needs `vendor = \"...\"` ({})", names(registry)),
                    )
                })?;
            let DeValue::String(vendor_name) = vendor.1.get_ref() else {
                return Err(err(
                    &vendor.1.span(),
                    format!("{label} `vendor` must be a string"),
                ));
            };
            let entry = *registry
                .iter()
                .find(|e| e.name == vendor_name.as_ref())
                .ok_or_else(|| {
                    err(
                        &vendor.1.span(),
                        format!(
                            "{label} unknown vendor {:?}: this build knows {}",
                            vendor_name.as_ref(),
                            names(registry)
                        ),
                    )
                })?;
            if let Some(match_span) = &by_email
                && crate::people::email_source(entry.name).is_none()
            {
                return Err(err(
                    &vendor.1.span(),
                    format!(
                        "{label} {} cannot be matched by e-mail (`match = \"email\"` at {}{}): its agent list gives no address; use a people map (`people = \"people.csv\"`) instead",
                        entry.title,
                        path.display(),
                        position(&text, match_span.start)
                    ),
                ));
            }
            let mut desk = DeskConfig {
                name: name.clone(),
                entry,
                role: Role::Both,
                interval,
                substitute: HashMap::new(),
                read_lag: crate::engine::DEFAULT_READ_LAG,
                late_grace: crate::late::DEFAULT_LATE_GRACE,
                substitute_at: HashMap::new(),
                span: key.span(),
                keys: BTreeMap::new(),
            };
            for (k, v) in t {
                let k_name = k.get_ref().to_string();
                let span = v.span();
                match (k_name.as_str(), v.get_ref()) {
                    ("vendor", _) => {}
                    ("role", DeValue::String(s)) => {
                        desk.role = match s.as_ref() {
                            "source" => Role::Source,
                            "target" => Role::Target,
                            "both" => Role::Both,
                            other => {
                                return Err(err(
                                    &span,
                                    format!(
                                        "{label} `role` must be source, target or both, not {other:?}"
                                    ),
                                ));
                            }
                        }
                    }
                    ("interval", v) => {
                        desk.interval = seconds(v).ok_or_else(|| {
                            err(
                                &span,
                                format!("{label} `interval` must be seconds between 0.1 and 86400"),
                            )
                        })?;
                    }
                    ("read_lag", v) => {
                        desk.read_lag = lag_seconds(v).ok_or_else(|| {
                            err(
                                &span,
                                format!("{label} `read_lag` must be seconds between 0 and 300"),
                            )
                        })?;
                    }
                    ("late_write_grace", v) => {
                        desk.late_grace = lag_seconds(v).ok_or_else(|| {
                            err(
                                &span,
                                format!(
                                    "{label} `late_write_grace` must be seconds between 0 and 300"
                                ),
                            )
                        })?;
                    }
                    ("substitute", DeValue::Table(subs)) => {
                        for (from, to) in subs {
                            let state = |s: &str, span: &Range<usize>| {
                                s.parse::<Availability>()
                                    .map_err(|e| err(span, format!("{label} substitute: {e}")))
                            };
                            let f = state(from.get_ref(), &from.span())?;
                            let DeValue::String(to_s) = to.get_ref() else {
                                return Err(err(
                                    &to.span(),
                                    format!(
                                        "{label} substitute: `{f}` must name an availability (a string)"
                                    ),
                                ));
                            };
                            let t = state(to_s, &to.span())?;
                            if f == t {
                                return Err(err(
                                    &to.span(),
                                    format!("{label} substitute: {f} for itself"),
                                ));
                            }
                            desk.substitute.insert(f, t);
                            desk.substitute_at.insert(f, to.span());
                        }
                    }
                    ("role" | "substitute", other) => {
                        return Err(err(
                            &span,
                            format!("{label} `{k_name}` cannot be {}", kind_of(other)),
                        ));
                    }
                    (_, value) => {
                        section::check_key(&entry, &label, &k_name)
                            .map_err(|m| err(&k.span(), m))?;
                        if k_name == "rate_limit" {
                            section::rate_limit(&Value::of(value))
                                .map_err(|m| err(&span, format!("{label} {m}")))?;
                        }
                        desk.keys.insert(
                            k_name,
                            At {
                                value: Value::of(value),
                                span,
                            },
                        );
                    }
                }
            }
            desks.push(desk);
        }
        // file order: the last tie-breaker between desks
        desks.sort_by_key(|d| d.span.start);
        Ok(Self {
            path: path.to_path_buf(),
            text,
            database,
            people,
            by_email: by_email.is_some(),
            precedence,
            write_concurrency,
            listen,
            stale_after,
            desks,
        })
    }

    /// Who is who: the people map, read and checked against the desks, or, with
    /// `match = "email"`, no one yet ([`People::by_email`](crate::People::by_email)). An agent
    /// id the map gives on two desks of one account ([`account_settings`]: two Chatwoot desks
    /// of one account, two Rocket.Chat desks of one server), to one person or to two, is an
    /// error naming both desks and the map's lines, and so are two such desks with
    /// `match = "email"`: one agent is one presence there, which sync would write through one
    /// desk and read back through the other as a person's change.
    pub fn load_people(&self) -> Result<crate::People, ConfigError> {
        let names: Vec<&str> = self.desks.iter().map(|d| d.name.as_str()).collect();
        match &self.people {
            Some(path) if !self.by_email => {
                let people = crate::People::load(path, &names)?;
                self.check_shared_agents(&people)?;
                Ok(people)
            }
            _ => {
                self.check_email_accounts()?;
                Ok(crate::People::by_email(&names))
            }
        }
    }

    /// The account whose agents the desk sees ([`account_settings`]): its vendor, server and
    /// scoping settings, as compared.
    fn account(&self, d: &DeskConfig) -> String {
        let text = |v: &Value| match v {
            Value::Text(s) => s.trim().to_string(),
            Value::Integer(i) => i.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Other(what) => what.to_string(),
        };
        let base = d.keys.get("base_url").map_or_else(String::new, |b| {
            text(&b.value).trim_end_matches('/').to_ascii_lowercase()
        });
        let mut account = format!("{} {base}", d.entry.name);
        let secret = |k: &str| {
            d.entry.settings.iter().any(|s| {
                s.key == k
                    && matches!(
                        s.kind,
                        agentstatus_presence::registry::SettingKind::Secret { .. }
                    )
            })
        };
        for (k, v) in &d.keys {
            let counts = match account_settings(d.entry.name) {
                Some(keys) => keys.contains(&k.as_str()),
                None => {
                    !secret(k)
                        && !k.ends_with("_env")
                        && !matches!(
                            k.as_str(),
                            "base_url" | "rate_limit" | "allow_insecure_http"
                        )
                }
            };
            if counts {
                account.push_str(&format!(" {k}={}", text(&v.value)));
            }
        }
        account
    }

    /// One agent id on two desks of one account ([`account_settings`]) is one presence read
    /// and written through both: sync would take its own write through one desk, read back
    /// through the other, for a person's change there (and two people given it would take
    /// each other's changes for their own). Refused, naming both desks and the map's lines.
    fn check_shared_agents(&self, people: &crate::People) -> Result<(), ConfigError> {
        for (i, a) in self.desks.iter().enumerate() {
            let account = self.account(a);
            let same: Vec<usize> = (i..self.desks.len())
                .filter(|&j| self.account(&self.desks[j]) == account)
                .collect();
            if same.len() < 2 {
                continue;
            }
            if let Some((agent, (p1, d1), (p2, d2))) = people.shared_agent(&same) {
                let (first, second) = (&self.desks[d1], &self.desks[d2]);
                let who = if p1 == p2 {
                    format!(
                        "person {:?} has it on both ({})",
                        people.name(p1),
                        people.place(p1).unwrap_or("?")
                    )
                } else {
                    format!(
                        "person {:?} has it on {:?} ({}) and person {:?} on {:?} ({})",
                        people.name(p1),
                        first.name,
                        people.place(p1).unwrap_or("?"),
                        people.name(p2),
                        second.name,
                        people.place(p2).unwrap_or("?")
                    )
                };
                return Err(ConfigError(format!(
                    "{}: agent {agent:?} is mapped on desks {:?} ({}) and {:?} ({}), two desks of one {} account (same base_url{}): {who}. There it is one agent with one state, read and written through both desks, so sync would read its own write through one desk back through the other as a person's change. Map the agent on one of the two desks only (leave the other cell empty)",
                    people.place(p2).unwrap_or("people map"),
                    first.name,
                    self.at(&first.span),
                    second.name,
                    self.at(&second.span),
                    first.entry.title,
                    match account_settings(first.entry.name) {
                        Some([]) => String::new(),
                        Some(keys) => format!(", same {}", keys.join(", ")),
                        None => ", same settings".to_string(),
                    }
                )));
            }
        }
        Ok(())
    }

    /// Two desks of one account ([`account_settings`]) with `match = "email"`: every agent of
    /// the account has its address on both, so every one would be one person on both desks.
    fn check_email_accounts(&self) -> Result<(), ConfigError> {
        for (i, a) in self.desks.iter().enumerate() {
            let account = self.account(a);
            if let Some(b) = self.desks[i + 1..]
                .iter()
                .find(|b| self.account(b) == account)
            {
                return Err(ConfigError(format!(
                    "{}: desks {:?} and {:?} ({}) are two desks of one {} account, and `match = \"email\"` would match every agent there to one person on both: one agent read and written through two desks, sync's own writes read back as people's changes. Keep one of the two desks, or use a people map (`people = \"people.csv\"`) that puts each agent on one of them",
                    self.at(&b.span),
                    a.name,
                    b.name,
                    self.at(&a.span),
                    a.entry.title
                )));
            }
        }
        Ok(())
    }

    fn at(&self, span: &Range<usize>) -> String {
        format!(
            "{}{}",
            self.path.display(),
            position(&self.text, span.start)
        )
    }

    /// Connect every desk (secrets from the environment), each operation within `deadline`.
    /// A substitute the desk's vendor cannot hold either is an error here, with its place.
    pub fn connect(&self, deadline: Duration) -> Result<Vec<Desk>, ConfigError> {
        let base = ClientConfig::default();
        let retry = RetryPolicy {
            deadline,
            ..base.retry.clone()
        };
        let base = base.with_retry(retry);
        // desks on one server share its budget (its limit counts per client IP): one pacer per
        // server and limit, so a desk given a `rate_limit` of its own is paced apart, at that
        let budgets = agentstatus_runtime::ServerBudgets::new();
        let mut desks = Vec::new();
        for d in &self.desks {
            let label = format!("[desks.{}]", d.name);
            let shared = match d.keys.get("base_url") {
                Some(At {
                    value: Value::Text(url),
                    ..
                }) => Some(budgets.of(url)),
                _ => None,
            };
            let presence = section::connect_lagging(
                &d.entry,
                &label,
                &d.span,
                &d.keys,
                &|s| self.at(s),
                base.clone().with_shared_budget(shared),
                Some(d.read_lag),
            )
            .map_err(ConfigError)?;
            let supported = presence.supported();
            for (from, to) in &d.substitute {
                if !supported.contains(to) {
                    let at = self.at(&d.substitute_at[from]);
                    return Err(ConfigError(format!(
                        "{at}: {label} substitute: {} cannot hold {to} either (it holds {})",
                        d.entry.title,
                        supported
                            .iter()
                            .map(|a| a.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
            desks.push(Desk {
                name: d.name.clone(),
                presence: Arc::from(presence),
                role: d.role,
                interval: d.interval,
                substitute: d.substitute.clone(),
                read_lag: d.read_lag,
                late_grace: d.late_grace,
            });
        }
        Ok(desks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentstatus_presence::registry::Setting;

    fn never(
        _: &agentstatus_presence::registry::Settings,
    ) -> Result<Box<dyn agentstatus_presence::Presence>, agentstatus_presence::registry::ConnectError>
    {
        Err("not in unit tests".to_string().into())
    }

    const REGISTRY: &[Entry] = &[
        Entry::new("rocketchat", "Rocket.Chat", never).with_settings(&[
            Setting::text("user_id", "the user", None),
            Setting::secret("token", "ROCKETCHAT_AUTH_TOKEN", "the token"),
        ]),
        Entry::new("engage-digital", "Engage Digital", never),
        Entry::new("chatwoot", "Chatwoot", never).with_settings(&[
            Setting::text("account_id", "the account", None),
            Setting::secret("token", "CHATWOOT_API_TOKEN", "the token"),
        ]),
    ];

    /// Two Chatwoot desks (`tickets`, `tickets-b`: `b_url`, `b_account`) beside chat, and
    /// the people map `csv`.
    fn two_desks(b_url: &str, b_account: &str, csv: &str) -> Result<crate::People, String> {
        let dir = tempfile::tempdir().unwrap();
        let people = dir.path().join("people.csv");
        std::fs::write(&people, csv).unwrap();
        let text = format!(
            r#"database = "state.db"
people = "{}"

[desks.chat]
vendor = "rocketchat"
base_url = "https://chat.example.com"
user_id = "bot"

[desks.tickets]
vendor = "chatwoot"
base_url = "https://desk.example.com"
account_id = 1

[desks.tickets-b]
vendor = "chatwoot"
base_url = "{b_url}"
account_id = {b_account}
"#,
            people.display()
        );
        let c = parse(&text).map_err(|e| e.0)?;
        c.load_people()
            .map_err(|e| e.0.replace(&people.display().to_string(), "people.csv"))
    }

    #[test]
    fn one_agent_on_two_desks_of_one_account_is_refused_naming_both() {
        let url = "https://desk.example.com";
        // two teams of one account, each person their own agent on each: fine
        two_desks(
            url,
            "1",
            "person,chat,tickets,tickets-b\nada,r1,1,501\ngrace,r2,2,502\n",
        )
        .unwrap();
        // one person's agent on both desks of the account
        let e = two_desks(
            url,
            "1",
            "person,chat,tickets,tickets-b\nada,r1,1,501\ngrace,r2,2,2\n",
        )
        .unwrap_err();
        assert_eq!(
            e,
            "people.csv:3: agent \"2\" is mapped on desks \"tickets\" (dir/sync.toml:9:8) and \"tickets-b\" (dir/sync.toml:14:8), two desks of one Chatwoot account (same base_url, same account_id): person \"grace\" has it on both (people.csv:3). There it is one agent with one state, read and written through both desks, so sync would read its own write through one desk back through the other as a person's change. Map the agent on one of the two desks only (leave the other cell empty)"
        );
        // one agent given to two people, one on each desk; a trailing slash and the
        // account as a string are the same account
        let e = two_desks(
            "https://DESK.example.com/",
            "\"1\"",
            "person,chat,tickets,tickets-b\nada,r1,7,501\ngrace,r2,2,7\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with("people.csv:3: agent \"7\" is mapped on desks \"tickets\" (dir/sync.toml:9:8) and \"tickets-b\" (dir/sync.toml:14:8), two desks of one Chatwoot account (same base_url, same account_id): person \"ada\" has it on \"tickets\" (people.csv:2) and person \"grace\" on \"tickets-b\" (people.csv:3)."),
            "{e}"
        );
        // another account, or another server: another agent of the same id
        two_desks(url, "2", "person,chat,tickets,tickets-b\nada,r1,1,1\n").unwrap();
        two_desks(
            "https://other.example.com",
            "1",
            "person,chat,tickets,tickets-b\nada,r1,1,1\n",
        )
        .unwrap();
        // the same id on desks of two vendors is two agents
        two_desks(url, "2", "person,chat,tickets,tickets-b\nada,1,1,5\n").unwrap();
    }

    #[test]
    fn two_desks_of_one_account_cannot_be_matched_by_email() {
        let two = r#"database = "state.db"
match = "email"

[desks.chat]
vendor = "rocketchat"
base_url = "https://chat.example.com"
user_id = "bot"

[desks.support]
vendor = "rocketchat"
base_url = "https://chat.example.com/"
user_id = "another-bot"
"#;
        let e = parse(two).unwrap().load_people().unwrap_err().0;
        assert!(
            e.starts_with("dir/sync.toml:9:8: desks \"chat\" and \"support\" (dir/sync.toml:4:8) are two desks of one Rocket.Chat account, and `match = \"email\"` would match every agent there to one person on both"),
            "{e}"
        );
        // another server: two accounts
        parse(&two.replace("https://chat.example.com/", "https://chat2.example.com"))
            .unwrap()
            .load_people()
            .unwrap();
    }

    /// Says the read lag its settings carry, as its error.
    fn tell_read_lag(
        s: &agentstatus_presence::registry::Settings,
    ) -> Result<Box<dyn agentstatus_presence::Presence>, agentstatus_presence::registry::ConnectError>
    {
        Err(format!("read lag {:?}", s.read_lag()).into())
    }

    #[test]
    fn a_desks_read_lag_reaches_its_adapter() {
        const LAGGING: &[Entry] = &[Entry::new(
            "engage-digital",
            "Engage Digital",
            tell_read_lag,
        )];
        let text = r#"database = "state.db"
people = "/etc/people.csv"

[desks.a]
vendor = "engage-digital"
base_url = "http://127.0.0.1:1"
read_lag = 7

[desks.b]
vendor = "engage-digital"
base_url = "http://127.0.0.1:2"
"#;
        let c = SyncConfig::parse(Path::new("dir/sync.toml"), text.to_string(), LAGGING).unwrap();
        let e = c.connect(Duration::from_secs(60)).err().unwrap().0;
        assert!(e.contains("read lag Some(7s)"), "{e}");
    }

    #[test]
    fn matching_by_email_is_refused_for_a_desk_that_gives_no_address() {
        let by_email = GOOD.replace("people = \"/etc/people.csv\"", "match = \"email\"");
        let c = parse(&by_email).unwrap();
        assert!(c.by_email);
        assert_eq!(c.people, None);
        assert!(c.load_people().unwrap().matches_by_email());
        let e = parse(&by_email.replace(
            "vendor = \"rocketchat\"\nrole",
            "vendor = \"engage-digital\"\nrole",
        ))
        .unwrap_err()
        .0;
        assert!(
            e.starts_with("dir/sync.toml:13:10: [desks.alpha] Engage Digital cannot be matched by e-mail (`match = \"email\"` at dir/sync.toml:2:9): its agent list gives no address"),
            "{e}"
        );
    }

    fn parse(text: &str) -> Result<SyncConfig, ConfigError> {
        SyncConfig::parse(Path::new("dir/sync.toml"), text.to_string(), REGISTRY)
    }

    const GOOD: &str = r#"database = "state.db"
people = "/etc/people.csv"
interval = 0.5
precedence = ["busy", "away", "available", "offline"]

[desks.zulu]
vendor = "rocketchat"
base_url = "http://127.0.0.1:1"
user_id = "u"
substitute = { busy = "offline" }

[desks.alpha]
vendor = "rocketchat"
role = "target"
interval = 3
base_url = "http://127.0.0.1:2"
user_id = "v"
"#;

    #[test]
    fn a_good_file_keeps_desk_order_and_resolves_paths() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.database, Path::new("dir/state.db"));
        assert_eq!(c.people.as_deref(), Some(Path::new("/etc/people.csv")));
        assert!(!c.by_email);
        let names: Vec<&str> = c.desks.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["zulu", "alpha"]);
        assert_eq!(c.desks[0].interval, Duration::from_millis(500));
        assert_eq!(c.desks[1].interval, Duration::from_secs(3));
        assert_eq!(c.desks[1].role, Role::Target);
        assert_eq!(c.desks[0].role, Role::Both);
        assert_eq!(
            c.desks[0].substitute.get(&Availability::Busy),
            Some(&Availability::Offline)
        );
        assert_eq!(c.precedence[1], Availability::Away);
        assert_eq!(c.stale_after, 3);
        let c = parse(&GOOD.replace("interval = 0.5", "interval = 0.5\nstale_after = 10")).unwrap();
        assert_eq!(c.stale_after, 10);
        assert_eq!(c.desks[0].read_lag, crate::DEFAULT_READ_LAG);
        let c = parse(&GOOD.replace("user_id = \"v\"", "user_id = \"v\"\nread_lag = 0")).unwrap();
        assert_eq!(c.desks[1].read_lag, Duration::ZERO);
        let c = parse(&GOOD.replace("user_id = \"u\"", "user_id = \"u\"\nread_lag = 7.5")).unwrap();
        assert_eq!(c.desks[0].read_lag, Duration::from_millis(7_500));
        assert_eq!(c.desks[0].late_grace, crate::DEFAULT_LATE_GRACE);
        let c = parse(&GOOD.replace("user_id = \"u\"", "user_id = \"u\"\nlate_write_grace = 5"))
            .unwrap();
        assert_eq!(c.desks[0].late_grace, Duration::from_secs(5));
    }

    #[test]
    fn a_desks_rate_limit_is_read_in_the_vendors_terms_or_off() {
        use agentstatus_runtime::RateLimit;
        let read = |v: Value| section::rate_limit(&v);
        let text = |t: &str| read(Value::Text(t.to_string()));
        let per = |requests, ms| {
            Ok(Some(RateLimit {
                requests,
                per: Duration::from_millis(ms),
            }))
        };
        assert_eq!(text("10/min"), per(10, 60_000));
        assert_eq!(text("3_000 / minute"), per(3000, 60_000));
        assert_eq!(text("20/s"), per(20, 1_000));
        assert_eq!(text("10/30s"), per(10, 30_000));
        assert_eq!(text("5/250ms"), per(5, 250));
        assert_eq!(text("500/1h"), per(500, 3_600_000));
        assert_eq!(text("off"), Ok(None));
        assert_eq!(read(Value::Bool(false)), Ok(None));
        for bad in [
            "",
            "10",
            "10/",
            "/min",
            "-1/min",
            "1.5/min",
            "10/0s",
            "10/1.5min",
            "4294967296/h",
        ] {
            assert!(text(bad).is_err(), "{bad:?} accepted");
        }
        assert!(read(Value::Bool(true)).is_err());
        // a good one passes the whole file's check
        let c = parse(&GOOD.replace(
            "user_id = \"v\"",
            "user_id = \"v\"\nrate_limit = \"10/min\"",
        ))
        .unwrap();
        assert_eq!(c.desks.len(), 2);
    }

    #[test]
    fn mistakes_are_reported_with_their_place() {
        let cases = [
            (
                GOOD.replace("role = \"target\"", "role = \"sink\""),
                "dir/sync.toml:14:8: [desks.alpha] `role` must be source, target or both",
            ),
            (
                GOOD.replace("user_id = \"v\"", "token = \"secret\""),
                "dir/sync.toml:17:1: [desks.alpha] `token` is a secret",
            ),
            (
                GOOD.replace("user_id = \"v\"", "colour = 1"),
                "dir/sync.toml:17:1: [desks.alpha] unknown key `colour`",
            ),
            (
                GOOD.replace("busy = \"offline\"", "busy = \"gone\""),
                "dir/sync.toml:10:23: [desks.zulu] substitute: unknown availability \"gone\"",
            ),
            (
                GOOD.replace("vendor = \"rocketchat\"\nrole", "vendor = \"teams\"\nrole"),
                "dir/sync.toml:13:10: [desks.alpha] unknown vendor \"teams\"",
            ),
            (
                GOOD.replace("\"away\", \"available\"", "\"away\", \"away\""),
                "dir/sync.toml:4:31: `precedence` names away twice",
            ),
            (
                GOOD.replace("interval = 0.5", "interval = 0"),
                "dir/sync.toml:3:12: `interval` must be seconds",
            ),
            (
                GOOD.replace("database = \"state.db\"\n", ""),
                "dir/sync.toml:1:1: needs `database",
            ),
            (
                GOOD.replace("[desks.zulu]", "[desks.zulu]\ncolour = [1]"),
                "dir/sync.toml:7:1: [desks.zulu] unknown key `colour`",
            ),
            (
                GOOD.replace("interval = 0.5", "intervals = 1"),
                "dir/sync.toml:3:1: unknown key `intervals`",
            ),
            ("database = ".to_string(), "dir/sync.toml:1:"),
            (
                GOOD.replace(
                    "people = \"/etc/people.csv\"",
                    "match = \"email\"\npeople = \"x.csv\"",
                ),
                "dir/sync.toml:2:9: `match = \"email\"` and `people` exclude each other",
            ),
            (
                GOOD.replace("people = \"/etc/people.csv\"", "match = \"name\""),
                "dir/sync.toml:2:9: `match` can only be \"email\"",
            ),
            (
                GOOD.replace("people = \"/etc/people.csv\"\n", ""),
                "dir/sync.toml:1:1: needs `people = \"<file.csv>\"` (who is who on each desk), or `match = \"email\"`",
            ),
            (
                GOOD.replace("user_id = \"v\"", "user_id = \"v\"\nread_lag = 301"),
                "dir/sync.toml:18:12: [desks.alpha] `read_lag` must be seconds between 0 and 300",
            ),
            (
                GOOD.replace("user_id = \"v\"", "user_id = \"v\"\nread_lag = \"2s\""),
                "dir/sync.toml:18:12: [desks.alpha] `read_lag` must be seconds",
            ),
            (
                GOOD.replace("interval = 0.5", "interval = 0.5\nstale_after = 0"),
                "dir/sync.toml:4:15: `stale_after` must be a number of intervals",
            ),
            (
                GOOD.replace("interval = 0.5", "interval = 0.5\nstale_after = \"3\""),
                "dir/sync.toml:4:15: `stale_after` cannot be",
            ),
            (
                GOOD.replace("user_id = \"v\"", "user_id = \"v\"\nrate_limit = \"0/min\""),
                "dir/sync.toml:18:14: [desks.alpha] `rate_limit` \"0/min\": zero requests",
            ),
            (
                GOOD.replace(
                    "user_id = \"v\"",
                    "user_id = \"v\"\nrate_limit = \"10/fortnight\"",
                ),
                "dir/sync.toml:18:14: [desks.alpha] `rate_limit` \"10/fortnight\": unknown unit \"fortnight\"",
            ),
            (
                GOOD.replace(
                    "user_id = \"v\"",
                    "user_id = \"v\"\nrate_limit = \"999999999/ms\"",
                ),
                "dir/sync.toml:18:14: [desks.alpha] `rate_limit` \"999999999/ms\": more than 100000 requests a second",
            ),
            (
                GOOD.replace("user_id = \"v\"", "user_id = \"v\"\nrate_limit = 10"),
                "dir/sync.toml:18:14: [desks.alpha] `rate_limit` must be a string or false, not an integer",
            ),
            (
                GOOD.replace(
                    "user_id = \"v\"",
                    "user_id = \"v\"\nrate_limit = \"ten/min\"",
                ),
                "dir/sync.toml:18:14: [desks.alpha] `rate_limit` \"ten/min\": \"ten\" is not a whole number",
            ),
            (
                GOOD.replace(
                    "user_id = \"v\"",
                    "user_id = \"v\"\nrate_limit = \"10/2days\"",
                ),
                "dir/sync.toml:18:14: [desks.alpha] `rate_limit` \"10/2days\": unknown unit",
            ),
            (
                GOOD.replace(
                    "user_id = \"v\"",
                    "user_id = \"v\"\nrate_limit = \"10/25h\"",
                ),
                "dir/sync.toml:18:14: [desks.alpha] `rate_limit` \"10/25h\": the period must be between 1 ms and a day",
            ),
        ];
        for (text, want) in cases {
            let e = parse(&text).unwrap_err().0;
            assert!(e.starts_with(want), "{e}\n  does not start with\n{want}");
        }
    }
}
