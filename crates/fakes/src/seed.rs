//! A vendor's fake, started by name with agents (`agentstatus fake`): the vendor crate says how
//! its fake holds each availability, whether its agent ids are numbers and how to start it with
//! agents and the credentials it prints ([`Seeded`], written beside the fake); a program that
//! picks the vendor at run time gets it as a [`Seeder`] (the `agentstatus` facade's
//! `seeder(name)`, from each vendor's `fake::SEEDER`), with no code of its own per vendor.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), String> {
//! use agentstatus_fakes::axum::Router;
//! use agentstatus_fakes::seed::{Availability, Secrets, Seed, Seeded, Seeder, Settings};
//! use agentstatus_fakes::{Fake, serde_json::json};
//!
//! #[derive(Default)]
//! struct Inner { agents: Vec<(String, &'static str)>, token: String }
//!
//! agentstatus_fakes::fake! {
//!     /// A fake Acme server.
//!     pub struct Acme(Inner);
//! }
//!
//! impl Seeded for Acme {
//!     fn status(availability: Availability) -> Option<&'static str> {
//!         match availability {
//!             Availability::Available => Some("on"),
//!             Availability::Offline => Some("off"),
//!             _ => None,
//!         }
//!     }
//!
//!     async fn seeded(agents: Vec<Seed>, secrets: Secrets) -> Result<(Self, Settings), String> {
//!         let fake = Fake::start(Inner::default(), Router::new()).await.map_err(|e| e.to_string())?;
//!         let mut state = fake.lock();
//!         state.token = secrets.get("token").cloned().unwrap_or_default();
//!         state.agents = agents.into_iter().map(|a| (a.id, a.status)).collect();
//!         drop(state);
//!         Ok((Self(fake), vec![("account", json!("main"))]))
//!     }
//! }
//!
//! const SEEDER: Seeder = Seeder::of::<Acme>();
//! let seeds = vec![SEEDER.seed("ada", "Ada", Availability::Offline).unwrap()];
//! assert_eq!(seeds[0].status, "off");
//! let secrets = Secrets::from([("token", "fake-acme-token".to_string())]);
//! let running = SEEDER.start(seeds, secrets).await?;
//! assert!(running.server.url().starts_with("http://127.0.0.1:"));
//! assert_eq!(running.settings, [("account", json!("main"))]);
//! assert_eq!((SEEDER.status)(Availability::Busy), None);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

pub use agentstatus_presence::Availability;

use agentstatus_presence::registry::{Entry, SettingKind};

use crate::FakeServer;

/// One agent a fake starts with ([`Seeder::seed`]): an availability the fake holds, and a
/// positive number as id when [`Seeded::NUMERIC_IDS`] (checked by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The agent's id in the vendor.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its availability.
    pub availability: Availability,
    /// The fake's own word for it (what [`Seeded::status`] gave).
    pub status: &'static str,
}

impl Seed {
    /// The id as a number, for a fake whose ids are numbers.
    pub fn number(&self) -> Result<i64, String> {
        self.id
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("agent ids are positive numbers here, not {:?}", self.id))
    }
}

/// The value of each secret setting of the vendor's registry entry (its key -> the value the
/// fake is to accept): the caller prints them, so they are fakes' credentials, never real ones.
pub type Secrets = BTreeMap<&'static str, String>;

/// The vendor's config settings besides `base_url` and the secrets that point a client at the
/// started fake (`("account_id", json!(1))`).
pub type Settings = Vec<(&'static str, serde_json::Value)>;

/// A vendor's fake that can be started with agents: written beside the fake, in the vendor
/// crate, and handed to the registry as a [`Seeder`] (`pub const SEEDER: Seeder =
/// Seeder::of::<TheFake>();` in the vendor's `fake` module).
pub trait Seeded: Deref<Target = FakeServer> + Send + Sync + Sized + 'static {
    /// Whether the fake's agent ids are positive numbers (the caller refuses other ids).
    const NUMERIC_IDS: bool = false;

    /// Whether the vendor ends a state set with an expiry by itself but its reads do not say
    /// when (Microsoft Graph's application sessions): the contract then does not ask for the
    /// expiry back (`Case::with_expiry_unread` in `agentstatus_presence::testing`).
    const EXPIRY_UNREAD: bool = false;

    /// A well-formed agent id for the `n`th sample agent (from 1) called `name`: what the
    /// default cast and the cross-vendor tests use. Default: `n` when [`Seeded::NUMERIC_IDS`],
    /// else `name`. A vendor whose ids have a shape of their own (Mattermost's 26 characters)
    /// says so here.
    fn sample_id(n: usize, name: &str) -> String {
        if Self::NUMERIC_IDS {
            n.to_string()
        } else {
            name.to_string()
        }
    }

    /// The fake's word for `availability`, or `None` when it cannot hold it.
    fn status(availability: Availability) -> Option<&'static str>;

    /// Start the fake with `agents` (at least one; the first is the one the `secrets` belong to
    /// where the vendor's credentials are an agent's), accepting `secrets`; and the settings
    /// besides them that point a client at it.
    fn seeded(
        agents: Vec<Seed>,
        secrets: Secrets,
    ) -> impl Future<Output = Result<(Self, Settings), String>> + Send;
}

/// A vendor's fake, running: the server (faults, request log, `url()`), kept running while this
/// lives, and the settings besides the secrets that point a client at it.
pub struct Running {
    /// The vendor's fake, as its server.
    pub server: Arc<dyn Deref<Target = FakeServer> + Send + Sync>,
    /// The vendor's settings besides `base_url` and the secrets.
    pub settings: Settings,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("url", &self.server.url())
            .field("settings", &self.settings)
            .finish()
    }
}

type Start =
    fn(Vec<Seed>, Secrets) -> Pin<Box<dyn Future<Output = Result<Running, String>> + Send>>;

/// A [`Seeded`] fake as data, for a registry of vendors picked by name at run time.
#[derive(Clone, Copy)]
pub struct Seeder {
    /// The fake's word for an availability, `None` when it cannot hold it ([`Seeded::status`]).
    pub status: fn(Availability) -> Option<&'static str>,
    /// Whether its agent ids are positive numbers ([`Seeded::NUMERIC_IDS`]).
    pub numeric_ids: bool,
    /// A well-formed agent id for the `n`th sample agent called `name` ([`Seeded::sample_id`]).
    pub sample_id: fn(usize, &str) -> String,
    /// Whether its reads leave out the end of a timed state ([`Seeded::EXPIRY_UNREAD`]).
    pub expiry_unread: bool,
    start: Start,
}

impl std::fmt::Debug for Seeder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let holds: Vec<&str> = self.holds().map(Availability::as_str).collect();
        f.debug_struct("Seeder")
            .field("holds", &holds)
            .field("numeric_ids", &self.numeric_ids)
            .finish_non_exhaustive()
    }
}

impl Seeder {
    /// The seeder of fake `F`.
    pub const fn of<F: Seeded>() -> Self {
        Self {
            status: F::status,
            numeric_ids: F::NUMERIC_IDS,
            sample_id: F::sample_id,
            expiry_unread: F::EXPIRY_UNREAD,
            start: start::<F>,
        }
    }

    /// The seeder of a fake not written yet (a scaffold's, `cargo xtask new-vendor`): it holds
    /// no availability, and starting it fails, saying so.
    pub const fn unwritten() -> Self {
        Self {
            status: |_| None,
            numeric_ids: false,
            sample_id: |_, name| name.to_string(),
            expiry_unread: false,
            start: |_, _| {
                Box::pin(async {
                    Err("the fake is not written yet: implement `agentstatus_fakes::seed::Seeded` for it and make its `SEEDER` `Seeder::of::<TheFake>()` (src/fake.rs)".into())
                })
            },
        }
    }

    /// Agent `id` called `name` in `availability`, or `None` if the fake cannot hold it.
    pub fn seed(&self, id: &str, name: &str, availability: Availability) -> Option<Seed> {
        (self.status)(availability).map(|status| Seed {
            id: id.to_string(),
            name: name.to_string(),
            availability,
            status,
        })
    }

    /// The agents a fake starts with unless told otherwise: Ada, not available; Grace,
    /// available; Katherine, in the vendor's third state if it has one (ids `1`, `2`, `3` when
    /// the ids are numbers, else `ada`, `grace`, `katherine`). Empty for a fake that holds no
    /// availability.
    pub fn default_cast(&self) -> Vec<Seed> {
        let off: Vec<Availability> = [
            Availability::Offline,
            Availability::Away,
            Availability::Busy,
        ]
        .into_iter()
        .filter(|a| (self.status)(*a).is_some())
        .collect();
        let cast = [
            ("ada", "Ada Lovelace", off.first().copied()),
            ("grace", "Grace Hopper", Some(Availability::Available)),
            ("katherine", "Katherine Johnson", off.get(1).copied()),
        ];
        cast.into_iter()
            .enumerate()
            .filter_map(|(i, (id, name, a))| {
                let id = (self.sample_id)(i + 1, id);
                self.seed(&id, name, a.unwrap_or(Availability::Available))
            })
            .collect()
    }

    /// The availabilities the fake can hold, in [`Availability::ALL`]'s order.
    pub fn holds(&self) -> impl Iterator<Item = Availability> + '_ {
        Availability::ALL
            .into_iter()
            .filter(|a| (self.status)(*a).is_some())
    }

    /// Start the fake with `agents`, accepting `secrets` ([`Seeded::seeded`]).
    pub async fn start(&self, agents: Vec<Seed>, secrets: Secrets) -> Result<Running, String> {
        (self.start)(agents, secrets).await
    }
}

fn start<F: Seeded>(
    agents: Vec<Seed>,
    secrets: Secrets,
) -> Pin<Box<dyn Future<Output = Result<Running, String>> + Send>> {
    Box::pin(async move {
        let (fake, settings) = F::seeded(agents, secrets).await?;
        Ok(Running {
            server: Arc::new(fake),
            settings,
        })
    })
}

/// The value a fake accepts for each secret setting of `entry`, `fake-<vendor>-<key>`, with the
/// setting's key and environment variable. Not secrets: they are printed, and only the fakes
/// accept them.
pub fn fake_secrets(entry: &Entry) -> Vec<(&'static str, &'static str, String)> {
    entry
        .settings
        .iter()
        .filter_map(|s| match s.kind {
            SettingKind::Secret { env } => {
                Some((s.key, env, format!("fake-{}-{}", entry.name, s.key)))
            }
            _ => None,
        })
        .collect()
}

/// The presence contract ([`agentstatus_presence::testing::contract`], feature `testing`)
/// against vendor `entry`'s fake, started by `seeder` with its [default
/// cast](Seeder::default_cast) and connected by the entry with [`fake_secrets`] and the fake's
/// settings, as `agentstatus fake` and the command do: the adapter sets the first agent, the
/// one the credentials belong to; the adapter with wrong credentials gets `wrong-<vendor>-<key>`
/// secrets; a vendor with numeric ids gets `999999` as its unknown agent. Panics (it is a test)
/// naming the vendor when the fake does not start or the entry does not connect.
#[cfg(feature = "testing")]
pub async fn contract(entry: Entry, seeder: Seeder) {
    use agentstatus_presence::registry::Settings;
    use agentstatus_presence::testing::{Case, contract};
    let name = entry.name;
    let cast = seeder.default_cast();
    let secrets = fake_secrets(&entry);
    let accepted = secrets.iter().map(|(k, _, v)| (*k, v.clone())).collect();
    let running = seeder
        .start(cast.clone(), accepted)
        .await
        .unwrap_or_else(|e| panic!("{name}: the fake did not start: {e}"));
    let connect = |wrong: bool| {
        let config = agentstatus_runtime::ClientConfig::default();
        let mut settings = Settings::new(running.server.url(), config);
        // the defaults of the section, as the command's config reads them, then the fake's
        for s in entry.settings {
            match s.kind {
                SettingKind::Text { default: Some(d) } | SettingKind::Choice { default: d, .. } => {
                    settings = settings.with_value(s.key, d);
                }
                _ => {}
            }
        }
        for (key, value) in &running.settings {
            let value = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            settings = settings.with_value(key, value);
        }
        for (key, _, value) in &secrets {
            let value = if wrong {
                value.replacen("fake-", "wrong-", 1)
            } else {
                value.clone()
            };
            settings = settings.with_secret(key, value.into());
        }
        (entry.connect)(&settings).unwrap_or_else(|e| panic!("{name}: cannot connect: {e}"))
    };
    let (good, bad) = (connect(false), connect(true));
    let agent = cast.first().map(|s| s.id.clone()).unwrap_or_default();
    let case = Case::new(running, good, bad, agent, |r| r.server.state_changes());
    // an id of the vendor's shape that no agent has
    let case = case.with_unknown((seeder.sample_id)(999_999, "no-such-agent"));
    let case = if seeder.expiry_unread {
        case.with_expiry_unread()
    } else {
        case
    };
    contract(case).await;
}
