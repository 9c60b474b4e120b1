//! One availability per person across helpdesks.
//!
//! A support agent works in several desks at once (a chat desk, a ticket desk); when they go
//! away or busy in one, the others keep routing work to them. `agentstatus-sync` watches every
//! desk ([`agentstatus_presence::watch::Watcher`]), decides each person's availability by
//! declared rules, and writes it to the other desks through an outbox kept in SQLite.
//!
//! - **Who is who**: a people map ([`People`], a CSV file: one row per person, a column per
//!   desk), or matching by e-mail (`match = "email"`, [`People::by_email`]) where the desks
//!   give addresses ([`people::email_source`]). An agent the map does not name, or without an
//!   address, or sharing one with another agent of its desk, is reported, never guessed.
//!   Two desks of one vendor account (two Chatwoot desks of one account, say two teams'
//!   tokens; two Rocket.Chat desks of one server: [`config::account_settings`]) see the same
//!   agents: an agent id the map gives on both, to one person or two, is refused when the
//!   config is loaded ([`SyncConfig::load_people`]), naming both desks and the map's lines, and
//!   so is `match = "email"` over such desks. There one agent has one state, read and written
//!   through both desks: sync would write it through one and read its own write back through
//!   the other as a person's change, override a person's state with the other desk's
//!   substitute, or (two people given one agent) take each one's changes for the other's. Each
//!   agent goes on one of the two desks. [`Engine::new`] is given desks without their
//!   connection settings and cannot tell; the check is the config's.
//! - **Rules**: the last human change on a source desk wins; one person changed on several
//!   desks in one cycle is resolved by a precedence order (default busy > available > away >
//!   offline, like Microsoft Graph's presence aggregation), then by desk order, and the
//!   decision is logged. A desk that cannot hold a state holds its declared substitute
//!   (Rocket.Chat has no busy: `busy = "offline"`); without one, the desk keeps its state and
//!   the `Unsupported` is reported once per (desk, state).
//! - **No echoes**: what sync wrote is expected back; when the desk shows it, it is recognised
//!   and never propagated. A read under way when sync's write landed that shows an earlier
//!   write of sync's is read again rather than decided; a desk's watcher diffs the reads that
//!   begin after sync's write against the state written (a person setting it back at once is
//!   seen). States the vendor computes ([`computed`]) are not human changes.
//! - **Stale and partial reads**: a desk's answer may be a read replica's, up to its
//!   [`Desk::read_lag`] old ([`DEFAULT_READ_LAG`], 2 s; `read_lag` in sync.toml). A state an
//!   agent held until lately (the one sync's landed write replaced, the one a person's change
//!   replaced, an earlier write of sync's), seen again in a read that began less than the read
//!   lag after it ended, is neither an echo (of a write of that state still on its way) nor a
//!   change until a read of the agent that begins at least the read lag after it ended, and
//!   after the observation, shows it (a person who did set it back is decided then, not lost);
//!   so is a write's read-back showing the state it replaced. The record of those states is
//!   kept in the database too and restored on start (as ended then: a replica behind shows the
//!   states before a restart in the first reads after it). A skip is never decided from such a
//!   read: a write of a state the agent held until lately is sent alone through `set`, which
//!   sends it whatever the read before it shows (`set` is idempotent: one request, where a
//!   confirming read costs one and may still need the write), not through the bulk path,
//!   whose one read may show the agent already so; a retry's read showing the state to write
//!   sends it all the same, and one showing another state held until lately (a person's change,
//!   or the replica's older state) is read again once a read cannot show it stale. Rocket.Chat's
//!   delta asks from the read lag earlier than its last answer, so a delta a replica computed
//!   from an older snapshot loses nothing. An agent a full read does not
//!   list (an agent list read in pages while agents join or leave) is read alone before its
//!   absence is decided. After a restart, a change seen in a read that began less than the read
//!   lag after the engine started is read again then (what the killed engine saw its writes
//!   replace was in its memory only). Such a read of one agent is tried until it answers (an interval apart,
//!   then from the desk's full read, up to 8 intervals apart, at once when the desk answers
//!   again): the observation is never dropped.
//!
//!   What sync can and cannot tell apart: a read that began at least the desk's `read_lag`
//!   after a state ended shows what the agent holds (or held since), so it is taken as it is;
//!   one that began earlier may be a replica's, so a state it shows that the agent held until
//!   lately costs one more read of the agent (the read lag later), and a person who set that
//!   state again within the read lag is decided that much later, never lost. There is no other
//!   window: how long a state is remembered follows from each desk's read lag and how often it
//!   is read (until its watcher hands over a read begun a read lag after the state ended).
//!   Sync cannot tell a replica further behind than the declared `read_lag` from a person's
//!   change: such a read showing an older state is decided as a change (declare the replica's
//!   worst lag); and a wall clock stepped forward across a restart may leave out the stored
//!   states that ended just before it.
//! - **Late writes** ([`late`]): a write whose outcome is unknown (its client's deadline or
//!   timeout, a connection dropped or reset after sending, an answer that could not be read, a
//!   5xx other than 503) may still be applied by the vendor later; a refusal (429, 503, a 4xx)
//!   surely was not. Such a write is *in doubt* from when it is sent until the desk's
//!   [`Desk::late_grace`] after its failure ([`DEFAULT_LATE_GRACE`], 60 s: a reverse proxy's
//!   default upstream timeout; `late_write_grace` in sync.toml). While in doubt, a change
//!   decided after it was sent wins: a person's change on that desk, or a newer write of sync's.
//!   If the write's state then shows on the agent, by a read or by a retry's answer, it is
//!   sync's own late write, not a person's change and not an echo: the decided state is put
//!   back (one write, logged as a decision with its reason, counted in `late_writes_undone`)
//!   and nothing is propagated. A retry reads the agent first and writes only if it still
//!   holds what sync last read; one that landed after a person's change all the same is undone
//!   the same way. How a person's own change to the written state is told apart: each attempt
//!   in doubt lands at most once; its state seen with nothing decided since it was sent is its
//!   landing (an echo), after which the state is a person's; past the grace, it is a
//!   person's. What cannot be told apart: within the grace, a person who sets the agent back to
//!   the in-doubt write's state after another change, before that write was seen landing, is
//!   taken for the late write and their state before is put back (they set it again, and then
//!   it stands); a person's change that lasts less than one read of the desk and is then
//!   overwritten by the late write is never seen (nor, if a person sets the agent back to
//!   what sync last read before any read shows the write landed, can a retry tell that from
//!   a write that never landed: it writes again). Writes in doubt are kept in the database
//!   (`doubts`, written in the transaction that hands a write out, records its answer or
//!   decides a change over it; pruned once their grace is over by the wall clock) and restored
//!   on start: a write handed to a writer and not answered when sync stopped (`kill -9`
//!   included) is in doubt then (sent or not, sync cannot know), for the desk's grace after
//!   [`late::ANSWER_BOUND`] from its hand-out. One that lands after the restart, over a change
//!   decided since, is undone as above. One that lands while sync is down over a person's
//!   change sync never read cannot be told from an echo of it (the person's change was never
//!   seen); a person's change on another desk meanwhile is decided at the restart and written
//!   over it.
//! - **Durable** ([`Store`]): the last known state per (desk, agent), each person's decided
//!   availability, the outbox (a write is stored before it is sent and removed after success;
//!   `set` is idempotent, so resending after a crash changes nothing twice), the expected
//!   echoes and the decision log, one transaction per batch of decisions ([`DECIDE_BATCH`]
//!   people). Killed at any point and restarted, the first read of each desk is compared with
//!   the stored states: a change made meanwhile (or seen and not yet decided) is decided,
//!   nothing is replayed. Nothing is written to a desk before this run has read it once: a
//!   desk down at the restart keeps its owed writes in the outbox (changes on the other desks
//!   add to them) until it answers a read; that read decides what a person changed there
//!   meanwhile (a write it overrides is dropped), then the rest is written.
//! - **At the vendors' rate limits**: the writes of a decided batch go out while the next is
//!   decided, up to two writers per desk at its client's pace (a small margin under the
//!   vendor's declared limit, never more than the limit in one of its windows:
//!   `agentstatus_runtime::RateLimit`), so 10,000 people changed at once
//!   start reaching the other desks after the first batch, not after the last.
//! - **Time**: the wall clock can step (an NTP correction, a resumed virtual machine) and the
//!   vendors' clocks are not ours, so nothing is ordered, waited for or measured by it. The last
//!   human change is the last one observed (each desk's reads in sequence, cycles in order);
//!   intervals, backoffs, `/health`'s staleness and the lag are monotonic time; the wall clock
//!   only stamps what is stored for people to read ([`WallClock`], injectable:
//!   [`Options::wall_clock`]). The [`clock`] module has the whole table.
//!
//! ```no_run
//! use std::path::Path;
//! use std::time::Duration;
//! use agentstatus_sync::{Engine, Options, Store, SyncConfig};
//!
//! # async fn run(registry: Vec<agentstatus_presence::registry::Entry>) -> Result<(), Box<dyn std::error::Error>> {
//! let config = SyncConfig::load(Path::new("sync.toml"), &registry)?;
//! let desks = config.connect(Duration::from_secs(60))?;
//! let people = config.load_people()?;
//! let store = Store::open(&config.database)?;
//! let options = Options::default().precedence(config.precedence.clone());
//! let mut engine = Engine::new(desks, people, store, options)?;
//! // runs until `stop` completes (the command passes SIGINT/SIGTERM)
//! let stop = std::future::pending::<()>();
//! let summary = engine.run(stop).await?;
//! println!("{summary}");
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod clock;
pub mod config;
mod engine;
pub mod late;
pub mod metrics;
pub mod people;
pub mod section;
pub mod store;

pub use clock::{SteppedClock, SystemClock, WallClock};
pub use config::{ConfigError, DeskConfig, SyncConfig};
pub use engine::{
    DECIDE_BATCH, DEFAULT_READ_LAG, Desk, DeskStats, Engine, MAX_SERVER_WAIT, Options, Planned,
    Role, Stats, Summary, SyncError, computed,
};
pub use late::DEFAULT_LATE_GRACE;
pub use people::People;
pub use store::{Store, StoreError};
