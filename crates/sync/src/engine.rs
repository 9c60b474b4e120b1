//! The engine: one [`Watcher`] per desk, the rules, the outbox. See the [crate docs](crate).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentstatus_presence::watch::{Change, LastSuccess, OwnWrites, WatchOptions, Watcher};
use agentstatus_presence::{
    AgentPresence, Availability, ErrorKind, ListFilter, Presence, PresenceError,
};
use futures_util::{FutureExt, StreamExt};
use serde::Serialize;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use crate::clock::{WallClock, stamp_of};
use crate::late::{ANSWER_BOUND, Answered, DEFAULT_LATE_GRACE, Doubts, Kept};
use crate::people::{Learnt, People};
use crate::store::{Decision, Owed, Store, StoreError, StoredDoubt};

/// What sync does with a desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Its human changes decide a person's availability; sync never writes it.
    Source,
    /// Sync writes it; its own changes decide nothing.
    Target,
    /// Both.
    Both,
}

impl Role {
    /// Whether its changes decide.
    pub fn is_source(self) -> bool {
        matches!(self, Role::Source | Role::Both)
    }

    /// Whether sync writes it.
    pub fn is_target(self) -> bool {
        matches!(self, Role::Target | Role::Both)
    }
}

/// A connected desk.
#[derive(Clone)]
pub struct Desk {
    /// Its name (its column in the people map).
    pub name: String,
    /// Its adapter.
    pub presence: Arc<dyn Presence>,
    /// Read, written, or both.
    pub role: Role,
    /// Time between two reads.
    pub interval: Duration,
    /// What it holds for a state it cannot (declared; anything else is reported).
    pub substitute: HashMap<Availability, Availability>,
    /// How old a read of it may be, at most ([`DEFAULT_READ_LAG`] unless declared): a read
    /// replica or a cache in front of the vendor answers with a state that old. A state the
    /// agent held within this long (before sync's write to it landed, or before a person's
    /// change) is not taken for a change without a read that begins this long after it ended.
    pub read_lag: Duration,
    /// How long after a write's failure it may still land ([`DEFAULT_LATE_GRACE`] unless
    /// declared): a write whose outcome is unknown (the client's deadline, a connection
    /// dropped after sending) is in doubt until then, and its state seen over a change decided
    /// after it was sent is sync's own late write, undone.
    pub late_grace: Duration,
}

impl fmt::Debug for Desk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Desk")
            .field("name", &self.name)
            .field("vendor", &self.presence.vendor())
            .field("role", &self.role)
            .field("interval", &self.interval)
            .field("substitute", &self.substitute)
            .field("read_lag", &self.read_lag)
            .field("late_grace", &self.late_grace)
            .finish()
    }
}

impl Desk {
    /// A desk that is both source and target, read every `interval`, with no substitutes.
    pub fn new(name: impl Into<String>, presence: Arc<dyn Presence>, interval: Duration) -> Self {
        Self {
            name: name.into(),
            presence,
            role: Role::Both,
            interval,
            substitute: HashMap::new(),
            read_lag: DEFAULT_READ_LAG,
            late_grace: DEFAULT_LATE_GRACE,
        }
    }

    /// Its writes whose outcome is unknown may land up to `grace` after their failure
    /// ([`Desk::late_grace`]).
    pub fn late_grace(self, grace: Duration) -> Self {
        Self {
            late_grace: grace,
            ..self
        }
    }

    /// Its reads may be up to `lag` old ([`Desk::read_lag`]).
    pub fn read_lag(self, lag: Duration) -> Self {
        Self {
            read_lag: lag,
            ..self
        }
    }

    /// With this role.
    pub fn role(self, role: Role) -> Self {
        Self { role, ..self }
    }

    /// Holding `instead` for `state`, which the desk cannot hold.
    pub fn substitute(mut self, state: Availability, instead: Availability) -> Self {
        self.substitute.insert(state, instead);
        self
    }

    /// What this desk should hold for a person whose availability is `a`: `a`, or its declared
    /// substitute; `None` when it can hold neither.
    pub fn holds(&self, a: Availability) -> Option<Availability> {
        if self.presence.supported().contains(&a) {
            Some(a)
        } else {
            self.substitute.get(&a).copied()
        }
    }
}

/// How old a desk's read may be unless declared ([`Desk::read_lag`]): a read replica's lag of
/// seconds at most. Sync reads a desk every interval (15 s by default), so this delays only a
/// change that undoes, within it, a state that just ended (a person setting back sync's write).
pub const DEFAULT_READ_LAG: Duration = Duration::from_secs(2);

/// Why a state is computed by the vendor rather than set by a person, if it is. Such a change
/// is recorded, never propagated:
///
/// | vendor | computed state |
/// |---|---|
/// | Engage Digital | Busy: every available channel `busy`/`full`, computed from the agent's conversations |
/// | Chatwoot | a vendor status with `auto_offline`: shown offline until the agent's dashboard connects |
/// | Libredesk | vendor status `away`: idle detection (a person's away is `away_manual`) |
///
/// Rocket.Chat's `statusLivechat` is set by people (or by sync); nothing there is computed.
pub fn computed(
    vendor: &str,
    availability: Availability,
    vendor_status: &str,
) -> Option<&'static str> {
    match vendor {
        "engage-digital" if availability == Availability::Busy => Some(
            "Engage Digital computes busy from the agent's conversations (every available channel busy or full)",
        ),
        "chatwoot" if vendor_status.contains("auto_offline") => {
            Some("Chatwoot shows an auto_offline agent offline until their dashboard connects")
        }
        "libredesk" if vendor_status == "away" => {
            Some("Libredesk's idle detection set away (a person's away is away_manual)")
        }
        _ => None,
    }
}

/// How the engine runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Which state wins when one person changed on several desks in one cycle (first wins).
    pub precedence: Vec<Availability>,
    /// Decide and log, but write nothing to the vendors (the outbox and the state are a
    /// private copy: see [`Store::open_copy`]).
    pub dry_run: bool,
    /// Writes in flight per desk.
    pub write_concurrency: usize,
    /// How long to gather changes into one cycle after the first arrives.
    pub settle: Duration,
    /// A desk not read successfully for this many of its intervals is stale: `/health`
    /// answers 503 (default 3).
    pub stale_after: u32,
    /// The wall clock the engine stamps what it stores with (the system's by default); it
    /// orders, waits for and measures nothing by it (see [`crate::clock`]).
    pub wall_clock: Arc<dyn WallClock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            precedence: crate::config::DEFAULT_PRECEDENCE.to_vec(),
            dry_run: false,
            write_concurrency: 4,
            settle: Duration::from_millis(200),
            stale_after: 3,
            wall_clock: crate::clock::system(),
        }
    }
}

impl Options {
    /// With this precedence order.
    pub fn precedence(self, precedence: Vec<Availability>) -> Self {
        Self { precedence, ..self }
    }

    /// Writing nothing to vendors.
    pub fn dry_run(self, dry_run: bool) -> Self {
        Self { dry_run, ..self }
    }

    /// With `n` writes in flight per desk (at least 1).
    pub fn write_concurrency(self, n: usize) -> Self {
        Self {
            write_concurrency: n.max(1),
            ..self
        }
    }

    /// Gathering changes into one cycle for `settle` after the first.
    pub fn settle(self, settle: Duration) -> Self {
        Self { settle, ..self }
    }

    /// Stamping what it stores with `clock` (a [`crate::clock::SteppedClock`] in a
    /// simulation of a clock that steps).
    pub fn wall_clock(self, clock: impl WallClock + 'static) -> Self {
        Self {
            wall_clock: Arc::new(clock),
            ..self
        }
    }

    /// Judging a desk stale after `n` intervals without a successful read (at least 1).
    pub fn stale_after(self, n: u32) -> Self {
        Self {
            stale_after: n.max(1),
            ..self
        }
    }
}

/// A desk's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeskStats {
    /// The desk.
    pub desk: String,
    /// Its vendor.
    pub vendor: String,
    /// Human changes seen on it (each decided something).
    pub changes_seen: u64,
    /// Its changes that were sync's own writes coming back.
    pub echoes: u64,
    /// Its changes the vendor computed (not propagated).
    pub computed: u64,
    /// Writes made to it.
    pub writes_made: u64,
    /// Writes `--dry-run` would have made to it.
    pub writes_planned: u64,
    /// Write attempts that failed.
    pub writes_failed: u64,
    /// Sync's own writes whose outcome was unknown that landed late, over a change decided
    /// after they were sent, and were undone (the change put back: one write each).
    pub late_writes_undone: u64,
    /// Reads that failed.
    pub read_failures: u64,
    /// Times its writer task panicked (each logged; the writer restarted with backoff and the
    /// writes it had in flight handed out again).
    pub writer_panics: u64,
    /// Its agents that are no one in the people map (matching by e-mail: without an
    /// address, or with one another agent of the desk shares).
    pub unmatched: u64,
    /// Matching by e-mail: addresses several of its agents share (none of them is matched).
    pub ambiguous_emails: u64,
    /// States it could not be given (no substitute declared), each reported once.
    pub unsupported: u64,
    /// Time from a decision to its last write to this desk, the latest, in milliseconds.
    pub lag_ms_last: u64,
    /// The same, the longest so far.
    pub lag_ms_max: u64,
    /// Time between two reads of the desk, in milliseconds.
    pub interval_ms: u64,
    /// When the desk was last read successfully (a full read, or its feed's answer, empty
    /// included), RFC 3339; `None` before the first.
    pub last_read: Option<String>,
    /// Milliseconds since that read (since the engine started, before the first).
    pub last_read_age_ms: u64,
    /// Not read successfully for [`Options::stale_after`] intervals.
    pub stale: bool,
    /// Its reads refused for something another process holds ([`ErrorKind::InUse`]: its push
    /// feed's lock file, taken by another watch of the same state file or notification URL,
    /// or a vendor setting another system uses), the refusal as reported (logged once);
    /// `None` while it answers. Refused at the engine's start, the engine stops instead
    /// ([`SyncError::InUse`]).
    pub in_use: Option<String>,
}

/// What the engine did so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Per desk, in config order.
    pub desks: Vec<DeskStats>,
    /// Decisions made.
    pub decisions: u64,
    /// Writes still owed.
    pub owed: u64,
}

impl Summary {
    /// Whether every desk was read successfully within its [`Options::stale_after`]
    /// intervals.
    pub fn healthy(&self) -> bool {
        self.desks.iter().all(|d| !d.stale)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} decisions, {} writes still owed",
            self.decisions, self.owed
        )?;
        for d in &self.desks {
            writeln!(
                f,
                "  {} ({}): {} changes seen, {} echoes, {} computed, {} writes made{}, {} failed{}, {} failed reads, {} unmatched agents{}",
                d.desk,
                d.vendor,
                d.changes_seen,
                d.echoes,
                d.computed,
                d.writes_made,
                if d.writes_planned > 0 {
                    format!(" ({} more in the dry run)", d.writes_planned)
                } else {
                    String::new()
                },
                d.writes_failed,
                if d.late_writes_undone > 0 {
                    format!(" ({} landed late and undone)", d.late_writes_undone)
                } else {
                    String::new()
                },
                d.read_failures,
                d.unmatched,
                if d.ambiguous_emails > 0 {
                    format!(" ({} ambiguous e-mail addresses)", d.ambiguous_emails)
                } else {
                    String::new()
                }
            )?;
        }
        Ok(())
    }
}

/// The engine's counters, readable while it runs (for a metrics endpoint), with each desk's
/// last successful read.
#[derive(Debug, Clone)]
pub struct Stats {
    summary: Arc<Mutex<Summary>>,
    /// Per desk: when it was last read successfully, and its interval.
    pub(crate) clocks: Arc<Mutex<Vec<(LastSuccess, Duration)>>>,
    /// When the engine started, on the monotonic clock (a desk never read is as old as this).
    started: Instant,
    pub(crate) stale_after: Arc<std::sync::atomic::AtomicU32>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            summary: Arc::default(),
            clocks: Arc::default(),
            started: Instant::now(),
            stale_after: Arc::new(3.into()),
        }
    }
}

impl Stats {
    /// A copy of the counters now, each desk's read age and staleness computed now, on the
    /// monotonic clock (a step of the wall clock changes neither: see [`crate::clock`]).
    pub fn snapshot(&self) -> Summary {
        self.snapshot_after(Duration::ZERO)
    }

    /// The same, as it will be `later` from now if no desk is read meanwhile.
    pub fn snapshot_after(&self, later: Duration) -> Summary {
        let mut s = self
            .summary
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let clocks = self.clocks.lock().unwrap_or_else(|e| e.into_inner());
        let n = self
            .stale_after
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(1);
        for (d, (clock, interval)) in s.desks.iter_mut().zip(clocks.iter()) {
            let last = clock.get();
            let age = clock
                .elapsed()
                .unwrap_or_else(|| self.started.elapsed())
                .saturating_add(later);
            let age = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
            d.interval_ms = interval.as_millis() as u64;
            d.last_read = last.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            d.last_read_age_ms = age;
            d.stale = u128::from(age) > interval.as_millis() * u128::from(n);
        }
        s
    }

    /// The clock of desk number `desk` (what its watcher touches on each successful read).
    pub fn clock(&self, desk: usize) -> Option<LastSuccess> {
        let clocks = self.clocks.lock().unwrap_or_else(|e| e.into_inner());
        clocks.get(desk).map(|(c, _)| c.clone())
    }

    pub(crate) fn with(&self, f: impl FnOnce(&mut Summary)) {
        f(&mut self.summary.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// A write `--dry-run` would have made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    /// The desk.
    pub desk: String,
    /// The agent there.
    pub agent: String,
    /// The person.
    pub person: String,
    /// The state it would set.
    pub availability: Availability,
}

/// Why the engine stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The database failed: the engine stops rather than lose track.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The desks and the people map disagree.
    #[error("{0}")]
    Setup(String),
    /// A desk's first read was refused for something another process holds
    /// ([`ErrorKind::InUse`]: its push feed's state file or notification URL, whose lock file
    /// another watch holds; a vendor setting another system uses): retrying changes nothing
    /// while the other one runs, so sync does not start beside it. The error names the file,
    /// its lock file and the holder.
    #[error("desk {desk}: {error}")]
    InUse {
        /// The desk (as sync.toml names it).
        desk: String,
        /// The refusal.
        error: Box<PresenceError>,
    },
}

enum Event {
    /// A desk's first read, and when it began.
    Initial(usize, Vec<AgentPresence>, Option<Instant>),
    /// The engine's own read of one agent, made after a read under way when sync's write to
    /// the agent landed showed a state sync had written before ([`Engine::recheck`]), and when
    /// that read began.
    /// `None`: the desk does not know the agent (Engage Digital lists connected agents only).
    Recheck(usize, String, Option<AgentPresence>, Instant),
    /// A change a desk's watcher saw, and when the read it came from began
    /// ([`Watcher::began`]).
    Change(usize, Box<Change>, Option<Instant>),
    Failed(usize, PresenceError),
}

struct Observation {
    desk: usize,
    agent: String,
    after: Option<AgentPresence>,
    /// When the read began, if the engine knows (its own rechecks): it cannot show a state
    /// a write that landed before replaced.
    began: Option<Instant>,
    /// When the read it came from began (a recheck's, a watcher's, a pass's): a state the agent
    /// held until less than the desk's read lag before it may be a replica's
    /// ([`Engine::stale_read`]).
    read_began: Option<Instant>,
}

struct Candidate {
    desk: usize,
    agent: String,
    before: Availability,
    after: Availability,
    word: String,
}

/// A person's decision, ready to store.
struct Prepared {
    who: String,
    reason: String,
    wanted: Availability,
    source: String,
    /// In precedence order: the first decided.
    cands: Vec<Candidate>,
    /// Each other target desk: its agent, and the state it should hold (`None`: it cannot).
    plan: Vec<(usize, String, Option<Availability>)>,
    at: String,
    /// When the engine observed the change (monotonic: the lag of its writes counts from it).
    seen: Instant,
}

type OnDryRun = Box<dyn FnMut(&Planned) + Send>;

/// The sync engine. See the [crate docs](crate).
pub struct Engine {
    desks: Vec<Desk>,
    people: People,
    store: Store,
    options: Options,
    stats: Stats,
    /// (desk, state) whose `Unsupported` was reported.
    unsupported: HashSet<(usize, Availability)>,
    /// (desk, agent) reported as no one.
    unmatched: HashSet<(usize, String)>,
    /// Desks whose first read this process has seen (their writes wait for it).
    ready: Vec<bool>,
    /// When a failed write may be tried again.
    backoff: HashMap<(usize, String), Instant>,
    on_dry_run: Option<OnDryRun>,
    /// Changes seen but not decided yet (decided [`DECIDE_BATCH`] people per transaction,
    /// while the writes of the decided ones are sent).
    undecided: VecDeque<(usize, Vec<Candidate>, String, Instant)>,
    /// Per desk: the writer tasks sending its owed writes (at most [`WRITERS_PER_DESK`]).
    writing: Vec<usize>,
    /// Per desk: whether the outbox may hold writes owed to it (so that a dispatch with
    /// nothing to hand out does not read the whole outbox).
    pending: Vec<bool>,
    /// The (desk, agent) writes a writer task has been given and not answered yet, with the
    /// writer's number (a desk may have [`WRITERS_PER_DESK`] at once: a panicking one gives
    /// back only its own).
    in_flight: HashMap<(usize, String), u64>,
    /// The number the next writer task gets.
    next_writer: u64,
    /// Where the writer tasks send each write's outcome.
    results_tx: mpsc::UnboundedSender<Written>,
    /// Where a writer task says it has sent all it was given (apart from the outcomes, so that
    /// its desk gets the next writes without waiting for the outcomes ahead to be recorded).
    done_tx: mpsc::UnboundedSender<(usize, u64)>,
    /// Per writer task (its number): its desk, and how many of the writes it was given are not
    /// answered yet. A desk's next writer starts only when those of the running ones are down
    /// to [`NEXT_WRITER_AT`] ([`Engine::takes_writer`]).
    left: HashMap<u64, (usize, usize)>,
    /// A running writer's writes went down to [`NEXT_WRITER_AT`] while more are owed to its
    /// desk: hand them out once the outcomes in are recorded.
    hand_out_soon: bool,
    /// Taken by [`Engine::run`] and [`Engine::once`] while they run.
    inbox: Option<Inbox>,
    /// The writer tasks (aborted when the engine stops or is dropped).
    writers: tokio::task::JoinSet<()>,
    /// Per desk: no writes handed out before this (the server's `Retry-After` after a 429, a
    /// writer restarting after a panic).
    held: Vec<Option<Instant>>,
    /// Per desk: its writer's panics in a row (the restart backoff's exponent).
    panics: Vec<u32>,
    /// Per desk: wakes the rechecks waiting after failed reads when the desk answers again.
    answering: Vec<Arc<Notify>>,
    /// Per desk: when a read of it last failed (monotonic), until a read succeeds after it.
    read_down: Vec<Option<Instant>>,
    /// Per (desk, agent) owed a write: the decision that owes it and when it was decided
    /// (monotonic), for the lag of its write.
    queued: HashMap<(usize, String), (i64, Instant)>,
    /// Per (desk, agent): the states it held lately and no longer holds, each with when it
    /// ended (monotonic): the state a write of sync's that landed replaced (a person's, or an
    /// earlier write of sync's), the state a person's decided change replaced. A read already
    /// under way then, or one answered by a replica up to the desk's [`Desk::read_lag`]
    /// behind, can still show one: seen in a read that began less than the read lag after it
    /// ended, it is read again ([`Engine::recheck`]) rather than taken for a person's change.
    /// At most one entry per state (four per agent); an entry goes once the desk's watcher has
    /// handed over a read that began a read lag after it ended ([`Engine::prune_lately`]).
    /// Stored too (`lately`), and restored on start as ended then.
    superseded: Lately,
    /// Per desk: when the latest read its watcher handed over began (entries of `superseded`
    /// whose read lag passed before it are forgotten).
    watched: Vec<Option<Instant>>,
    /// When the stored `lately` rows were last pruned.
    pruned: Instant,
    /// Per (desk, agent) being read again ([`Engine::recheck`]): when a read last asked for it
    /// (a read that began before that is followed by another).
    rechecking: HashMap<(usize, String), Instant>,
    /// Where a recheck sends its read (while [`Engine::run`] runs).
    recheck_tx: Option<mpsc::UnboundedSender<Event>>,
    /// Per desk: sync's writes that landed, for its watcher to diff its next reads against
    /// (a person who sets the agent back before the next read is then seen).
    own_writes: Vec<OwnWrites>,
    /// When this engine was made ([`Engine::restarted_lately`]).
    started: Instant,
    /// Sync's writes whose outcome is unknown, until they can no longer land
    /// ([`crate::late`]).
    doubts: Doubts,
    /// Per desk: when its first read of this run was handled; a refusal of its feed
    /// ([`ErrorKind::InUse`]) with no answer from it since is a refusal at the start.
    first_read: Vec<Option<Instant>>,
}

/// Per (desk, agent): the states it held until lately, each with when it ended (monotonic).
type Lately = HashMap<(usize, String), Vec<(Availability, Instant)>>;

/// How long a stored `lately` row is kept beyond its desk's read lag (by the wall clock):
/// after a restart only the states that ended less than the read lag before it matter (every
/// read then begins after it), and a restart takes a while.
const LATELY_KEPT: Duration = Duration::from_secs(60);

/// How often the stored `lately` rows are pruned ([`LATELY_KEPT`]).
const LATELY_PRUNE_EVERY: Duration = Duration::from_secs(5);

/// Reads of one agent a recheck makes, an interval apart, while they fail; then each try falls
/// back to the desk's full read (the agent in it, or unlisted), further apart (up to 8
/// intervals, at most [`RECHECK_MAX_WAIT`], or as soon as the desk answers a read again), until
/// one answers: the observation is never dropped.
const RECHECK_TRIES: usize = 10;

/// The longest wait between two tries of a recheck whose reads keep failing.
const RECHECK_MAX_WAIT: Duration = Duration::from_secs(60);

/// The writer tasks' reports.
struct Inbox {
    results: mpsc::UnboundedReceiver<Written>,
    done: mpsc::UnboundedReceiver<(usize, u64)>,
}

/// What a writer task reports.
enum Written {
    /// One owed write's outcome, and when its answer came.
    One(Box<Answer>),
    /// The desk's writer task (its number) has sent all it was given.
    Done(usize, u64),
    /// The desk's writer task (its number) panicked (the message): what it had not reported
    /// is handed out again.
    Panicked(usize, u64, String),
}

/// People decided in one transaction. A large cycle (10,000 people changed at once) is decided
/// in batches, and the writes of a batch start as soon as it is stored, while the next batches
/// are decided: one transaction per batch keeps deciding fast, and a crash loses at most the
/// batch being decided, which is then decided again from the desks' next read (its changes are
/// not yet the stored states).
pub const DECIDE_BATCH: usize = 250;

/// Writes' outcomes recorded in one transaction, at most (as many as have come in).
const RECORD_BATCH: usize = 500;

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("desks", &self.desks)
            .field("people", &self.people.len())
            .field("options", &self.options)
            .finish()
    }
}

impl Engine {
    /// An engine over `desks` (their names must be the people map's desks, in the same order),
    /// keeping its state in `store`.
    pub fn new(
        desks: Vec<Desk>,
        people: People,
        store: Store,
        options: Options,
    ) -> Result<Self, SyncError> {
        let names: Vec<&str> = desks.iter().map(|d| d.name.as_str()).collect();
        if names
            != people
                .desks()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        {
            return Err(SyncError::Setup(format!(
                "the desks ({}) are not the people map's ({})",
                names.join(", "),
                people.desks().join(", ")
            )));
        }
        let stats = Stats::default();
        stats.with(|s| {
            s.desks = desks
                .iter()
                .map(|d| DeskStats {
                    desk: d.name.clone(),
                    vendor: d.presence.vendor().to_string(),
                    ..DeskStats::default()
                })
                .collect();
        });
        *stats.clocks.lock().unwrap_or_else(|e| e.into_inner()) = desks
            .iter()
            .map(|d| (LastSuccess::new(), d.interval))
            .collect();
        stats.stale_after.store(
            options.stale_after.max(1),
            std::sync::atomic::Ordering::Relaxed,
        );
        let mut store = store;
        reconcile(&desks, &people, &mut store)?;
        let superseded = restore_lately(&desks, &store, &*options.wall_clock)?;
        let doubts = restore_doubts(&desks, &store, &*options.wall_clock)?;
        let ready = vec![false; desks.len()];
        let writing = vec![0; desks.len()];
        let held = vec![None; desks.len()];
        let panics = vec![0; desks.len()];
        let (results_tx, results) = mpsc::unbounded_channel();
        let (done_tx, done) = mpsc::unbounded_channel();
        Ok(Self {
            undecided: VecDeque::new(),
            pending: vec![true; writing.len()],
            writing,
            in_flight: HashMap::new(),
            next_writer: 0,
            results_tx,
            done_tx,
            left: HashMap::new(),
            hand_out_soon: false,
            inbox: Some(Inbox { results, done }),
            writers: tokio::task::JoinSet::new(),
            held,
            panics,
            read_down: vec![None; desks.len()],
            answering: (0..desks.len()).map(|_| Arc::new(Notify::new())).collect(),
            queued: HashMap::new(),
            superseded,
            watched: vec![None; desks.len()],
            pruned: Instant::now(),
            started: Instant::now(),
            rechecking: HashMap::new(),
            recheck_tx: None,
            own_writes: (0..desks.len()).map(|_| OwnWrites::new()).collect(),
            doubts,
            first_read: vec![None; desks.len()],
            desks,
            people,
            store,
            options,
            stats,
            unsupported: HashSet::new(),
            unmatched: HashSet::new(),
            ready,
            backoff: HashMap::new(),
            on_dry_run: None,
        })
    }

    /// Call `f` with each write `--dry-run` would make, as it would make it.
    pub fn on_dry_run(mut self, f: impl FnMut(&Planned) + Send + 'static) -> Self {
        self.on_dry_run = Some(Box::new(f));
        self
    }

    /// The counters, readable while the engine runs.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// The counters now, and the writes still owed.
    pub fn summary(&self) -> Summary {
        let owed = self.store.read(|t| t.outbox_len()).unwrap_or(0);
        let mut s = self.stats.snapshot();
        s.owed = owed;
        s
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// One pass: read every desk once, decide, send what is owed (each write tried once),
    /// and return. The first pass over a new database only records every agent's state.
    pub async fn once(&mut self) -> Result<Summary, SyncError> {
        let began = Instant::now();
        let reads = futures_util::future::join_all(self.desks.iter().map(|d| {
            let p = d.presence.clone();
            async move { p.list(&ListFilter::all()).await }
        }))
        .await;
        // one cycle: every desk's read decided together
        let mut observations = Vec::new();
        for (i, r) in reads.into_iter().enumerate() {
            match r {
                Ok(agents) => {
                    self.ready[i] = true;
                    self.first_read[i].get_or_insert_with(Instant::now);
                    if let Some(clock) = self.stats.clock(i) {
                        clock.touch();
                    }
                    observations.extend(self.initial_observations(i, agents, Some(began))?);
                }
                Err(e) => self.read_failed(i, &e)?,
            }
        }
        self.recovered();
        self.observe(observations)?;
        let mut inbox = self.inbox.take().expect("the engine runs once at a time");
        let r = self.once_write(&mut inbox).await;
        self.inbox = Some(inbox);
        r?;
        Ok(self.summary())
    }

    /// [`Engine::once`]'s deciding and writing: every batch decided, its writes sent while the
    /// next is decided, each write tried once.
    async fn once_write(&mut self, inbox: &mut Inbox) -> Result<(), SyncError> {
        loop {
            while let Ok((d, w)) = inbox.done.try_recv() {
                self.written(Written::Done(d, w), false)?;
            }
            let mut ws = Vec::new();
            while let Ok(w) = inbox.results.try_recv() {
                ws.push(w);
            }
            self.written_all(ws, false)?;
            if !self.undecided.is_empty() {
                self.decide_batch()?;
                self.dispatch()?;
                tokio::task::yield_now().await;
                continue;
            }
            self.dispatch()?;
            // done when every writer is, and every outcome it sent is recorded
            if self.writing.iter().all(|w| *w == 0) && self.in_flight.is_empty() {
                break;
            }
            tokio::select! {
                w = inbox.results.recv() => match w {
                    Some(w) => self.written_all(vec![w], false)?,
                    None => break,
                },
                d = inbox.done.recv() => match d {
                    Some((d, w)) => self.written(Written::Done(d, w), false)?,
                    None => break,
                },
            }
        }
        self.count_owed()
    }

    /// Run until `stop` completes (a signal), then return what was done. Dropping the future
    /// instead is a crash, which the database survives: the next run resends what is owed and
    /// decides nothing twice.
    ///
    /// Any tokio runtime runs it: on a multi-threaded runtime's worker (a spawned task) the
    /// database steps hand the worker's other tasks to another thread while they run
    /// (`block_in_place`); elsewhere (a current-thread runtime, a `LocalSet`, the runtime's own
    /// `block_on`) they run on the engine's task. The writers and the desks' watchers are
    /// spawned tasks (`Send`) either way.
    pub async fn run(&mut self, stop: impl Future<Output = ()>) -> Result<Summary, SyncError> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (halt, halted) = tokio::sync::watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        for (i, d) in self.desks.iter().enumerate() {
            let watcher = Watcher::new(
                d.presence.clone(),
                d.name.clone(),
                WatchOptions::every(d.interval)
                    .with_initial(true)
                    .with_read_lag(d.read_lag),
            )
            .with_success_clock(self.stats.clock(i).unwrap_or_default())
            .with_own_writes(self.own_writes[i].clone());
            tasks.spawn(watch_desk(
                i,
                watcher,
                d.name.clone(),
                tx.clone(),
                halted.clone(),
            ));
        }
        self.recheck_tx = Some(tx);
        let period = self
            .desks
            .iter()
            .map(|d| d.interval)
            .min()
            .unwrap_or(Duration::from_secs(15));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stop = stop.fuse();
        tokio::pin!(stop);
        let mut inbox = self.inbox.take().expect("the engine runs once at a time");
        let r = self.run_loop(&mut rx, &mut inbox, &mut tick, stop).await;
        self.inbox = Some(inbox);
        self.recheck_tx = None;
        // the rechecks under way end with the channel (their observations: the next run's
        // first reads)
        self.rechecking.clear();
        // each desk's watcher releases what its feed holds at the vendor (Graph's
        // subscriptions), within the feed's deadline; a desk that takes longer is abandoned
        let _ = halt.send(true);
        let _ = tokio::time::timeout(WATCHERS_SHUTDOWN, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        tasks.abort_all();
        // writes in flight are abandoned, as a crash would: they stay in the outbox, and the
        // next run reads the agent before sending one again
        self.writers.abort_all();
        self.abandoned(|_| true);
        let kept = blocking(|| self.keep_doubts());
        self.in_flight.clear();
        self.left.clear();
        self.writing.iter_mut().for_each(|w| *w = 0);
        r?;
        kept?;
        Ok(self.summary())
    }

    async fn run_loop(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Event>,
        inbox: &mut Inbox,
        tick: &mut tokio::time::Interval,
        mut stop: std::pin::Pin<&mut futures_util::future::Fuse<impl Future<Output = ()>>>,
    ) -> Result<(), SyncError> {
        loop {
            let deciding = !self.undecided.is_empty();
            tokio::select! {
                () = &mut stop => return Ok(()),
                // a desk's writer is done: it gets what is owed now, whatever outcomes are still
                // to be recorded (those writes are in flight: not handed out again)
                d = inbox.done.recv() => {
                    if let Some((d, w)) = d {
                        self.written(Written::Done(d, w), true)?;
                    }
                }
                w = inbox.results.recv() => {
                    if let Some(w) = w {
                        // what else is in, recorded with it
                        let mut ws = vec![w];
                        while ws.len() < RECORD_BATCH {
                            match inbox.results.try_recv() {
                                Ok(w) => ws.push(w),
                                Err(_) => break,
                            }
                        }
                        self.written_all(ws, true)?;
                    }
                }
                ev = rx.recv() => {
                    let Some(ev) = ev else { return Ok(()) };
                    let mut batch = vec![ev];
                    let until = Instant::now() + self.options.settle;
                    loop {
                        tokio::select! {
                            ev = rx.recv() => match ev {
                                Some(ev) => batch.push(ev),
                                None => break,
                            },
                            () = tokio::time::sleep_until(until) => break,
                        }
                    }
                    // what an earlier cycle saw is decided before this one's observations are
                    // compared with the stored states
                    while !self.undecided.is_empty() {
                        self.decide_batch()?;
                    }
                    self.handle(batch)?;
                    self.decide_batch()?;
                    self.dispatch()?;
                }
                // the next batch, once the results already in are recorded (its writes start
                // while the batch after it is decided)
                () = tokio::task::yield_now(), if deciding => {
                    self.decide_batch()?;
                    self.dispatch()?;
                }
                _ = tick.tick() => {
                    self.prune_lately()?;
                    self.doubts.expire(Instant::now());
                    self.recovered();
                    self.dispatch()?
                }
            }
        }
    }

    fn handle(&mut self, batch: Vec<Event>) -> Result<(), SyncError> {
        let mut observations = Vec::new();
        // rechecks asked for again after their read began
        let mut again = Vec::new();
        for ev in batch {
            match ev {
                Event::Initial(i, agents, read_began) => {
                    // the first read of this process: compared with the stored states, so a
                    // change made while sync was down is decided, and nothing else is
                    self.ready[i] = true;
                    self.first_read[i].get_or_insert_with(Instant::now);
                    self.watched(i, read_began);
                    observations.extend(self.initial_observations(i, agents, read_began)?);
                }
                Event::Change(i, c, read_began) => {
                    let c = *c;
                    self.watched(i, read_began);
                    observations.push(Observation {
                        desk: i,
                        agent: c.agent_id,
                        after: c.after,
                        began: None,
                        read_began,
                    })
                }
                Event::Recheck(i, agent, after, began) => {
                    let key = (i, agent.clone());
                    // asked for again by an observation its read may not show (that read was
                    // under way, or the desk's replica behind): another read follows
                    let lag = self.desks[i].read_lag;
                    if self
                        .rechecking
                        .remove(&key)
                        .is_some_and(|asked| asked + lag > began)
                    {
                        again.push(key);
                    }
                    // the desk's watcher diffs its next reads against this one: it may hold the
                    // state that asked for it (a stale read), which a person may set for real
                    // later, and which it would then not report
                    if let Some(p) = &after {
                        self.own_writes[i].push(p.clone());
                    }
                    observations.push(Observation {
                        desk: i,
                        agent,
                        after,
                        began: Some(began),
                        read_began: Some(began),
                    })
                }
                Event::Failed(i, e) => self.read_failed(i, &e)?,
            }
        }
        self.observe(observations)?;
        for (desk, agent) in again {
            if !self.rechecking.contains_key(&(desk, agent.clone())) {
                self.recheck(desk, &agent, Instant::now());
            }
        }
        Ok(())
    }

    fn initial_observations(
        &self,
        desk: usize,
        agents: Vec<AgentPresence>,
        read_began: Option<Instant>,
    ) -> Result<Vec<Observation>, SyncError> {
        let name = &self.desks[desk].name;
        let listed: HashSet<String> = agents.iter().map(|a| a.agent_id.clone()).collect();
        let mut obs: Vec<Observation> = agents
            .into_iter()
            .map(|a| Observation {
                desk,
                agent: a.agent_id.clone(),
                after: Some(a),
                began: None,
                read_began,
            })
            .collect();
        // known before, no longer listed (Engage Digital lists connected agents only)
        for agent in self.store.read(|t| t.known_agents(name))? {
            if !listed.contains(&agent) {
                obs.push(Observation {
                    desk,
                    agent,
                    after: None,
                    began: None,
                    read_began,
                });
            }
        }
        Ok(obs)
    }

    /// A desk read successfully again after failed reads: the writes owed to it that failed
    /// meanwhile (and wait a growing multiple of its interval) are handed out at the next
    /// dispatch, not after their backoff. A wait the server asked for (`Retry-After`: the
    /// desk held) still holds.
    fn recovered(&mut self) {
        for d in 0..self.desks.len() {
            let Some(failed) = self.read_down[d] else {
                continue;
            };
            let Some(ok) = self.stats.clock(d).and_then(|c| c.instant()) else {
                continue;
            };
            if ok <= failed {
                continue;
            }
            self.read_down[d] = None;
            let mut was_in_use = false;
            self.stats
                .with(|s| was_in_use = s.desks[d].in_use.take().is_some());
            if was_in_use {
                info!(desk = %self.desks[d].name, "the desk's feed answers again: what held it let go");
            }
            // the rechecks that failed meanwhile try now, not after their growing wait
            self.answering[d].notify_waiters();
            let before = self.backoff.len();
            self.backoff.retain(|(desk, _), _| *desk != d);
            if self.backoff.len() < before {
                self.pending[d] = true;
                info!(desk = %self.desks[d].name, writes = before - self.backoff.len(), "the desk answers again: the writes that failed meanwhile are sent now");
            }
        }
    }

    /// A read of `desk` failed. Refused for something another process holds
    /// ([`ErrorKind::InUse`]): at the start (before this run's first read of the desk, or with
    /// no answer from the desk since it: a push feed takes its lock after the first full read),
    /// the engine stops ([`SyncError::InUse`]: the operator started it beside another watch of
    /// the desk's feed); later (another process took it since), the desk is marked ([`DeskStats::in_use`], in
    /// `/health` and `/metrics`) and the refusal logged once, not at every interval, until the
    /// desk answers again.
    fn read_failed(&mut self, desk: usize, e: &PresenceError) -> Result<(), SyncError> {
        self.read_down[desk] = Some(Instant::now());
        let name = &self.desks[desk].name;
        self.stats.with(|s| s.desks[desk].read_failures += 1);
        if e.kind() == ErrorKind::InUse {
            let answered_since = self.first_read[desk].is_some_and(|first| {
                self.stats
                    .clock(desk)
                    .and_then(|c| c.instant())
                    .is_some_and(|ok| ok > first)
            });
            if !answered_since {
                error!(desk = %name, error = %e, "the desk's feed is refused: another process holds it; sync does not start beside it");
                return Err(SyncError::InUse {
                    desk: name.clone(),
                    error: Box::new(e.clone()),
                });
            }
            let refusal = e.to_string();
            let mut new = false;
            self.stats.with(|s| {
                let d = &mut s.desks[desk];
                new = d.in_use.is_none();
                d.in_use = Some(refusal);
            });
            if new {
                error!(desk = %name, error = %e, "the desk's feed is refused: another process holds it now; the desk is unhealthy until it lets go (reported once)");
            } else {
                debug!(desk = %name, error = %e, "the desk's feed is still refused");
            }
            return Ok(());
        }
        if matches!(e.kind(), ErrorKind::Auth | ErrorKind::Unsupported) {
            error!(desk = %name, error = %e, "cannot read the desk (retrying will not mend this)");
        } else {
            warn!(desk = %name, error = %e, "read failed; the next read catches up");
        }
        Ok(())
    }

    fn observe(&mut self, observations: Vec<Observation>) -> Result<(), SyncError> {
        let started = Instant::now();
        let n = observations.len();
        // one transaction for the whole cycle (10,000 echoes are one commit, not 10,000): a
        // crash before it ends loses only what the next read shows again
        let r = blocking(|| {
            self.store.begin()?;
            match self.observe_all(observations) {
                Ok(()) => Ok(self.store.commit()?),
                Err(e) => {
                    self.store.rollback();
                    Err(e)
                }
            }
        });
        timed("observe", n, started);
        r
    }

    fn observe_all(&mut self, observations: Vec<Observation>) -> Result<(), SyncError> {
        // the last observation of each (desk, agent) in the cycle
        let mut last: HashMap<(usize, String), usize> = HashMap::new();
        for (n, o) in observations.iter().enumerate() {
            last.insert((o.desk, o.agent.clone()), n);
        }
        if self.people.matches_by_email() {
            // every address of the cycle first: an ambiguity found later in the cycle unmatches
            // an agent seen earlier in it
            for o in &observations {
                self.learn(o);
            }
        }
        let mut candidates: BTreeMap<usize, Vec<Candidate>> = BTreeMap::new();
        // the stamp stored for people to read; the instant the lag counts from
        let at = stamp_of(self.options.wall_clock.now());
        let seen = Instant::now();
        for (n, o) in observations.into_iter().enumerate() {
            if last.get(&(o.desk, o.agent.clone())) != Some(&n) {
                continue;
            }
            let desk = &self.desks[o.desk];
            let name = desk.name.clone();
            let vendor = desk.presence.vendor();
            let (state, word) = match &o.after {
                Some(p) => (p.availability, p.detail.vendor_status.clone()),
                None => (Availability::Offline, "unlisted".to_string()),
            };
            let agent = o.agent;
            let person = self.people.person_of(o.desk, &agent);
            let key = (o.desk, agent.clone());
            if person.is_none() && self.unmatched.insert(key.clone()) {
                self.stats.with(|s| s.desks[o.desk].unmatched += 1);
                if !self.people.matches_by_email() {
                    warn!(desk = %name, agent = %agent, "agent is no one in the people map: not synced (add a row, never guessed)");
                } else if o.after.as_ref().is_some_and(|p| p.email.is_none()) {
                    warn!(desk = %name, agent = %agent, "agent has no e-mail address on this desk: not synced (never guessed)");
                }
            } else if person.is_some() && self.unmatched.remove(&key) {
                self.stats.with(|s| s.desks[o.desk].unmatched -= 1);
            }
            let is_computed = computed(vendor.as_str(), state, &word).is_some();
            let (known, expected, owed) = self.store.read(|t| {
                Ok((
                    t.known(&name, &agent)?,
                    t.expected(&name, &agent)?,
                    t.owed(&name, &agent)?,
                ))
            })?;
            // an agent a full read did not list (an agent list read in pages while agents join
            // or leave misses one) is read alone before its absence is decided: the vendor
            // knows it (then its state) or not (then it is unlisted: Engage Digital lists the
            // connected agents only, the others are gone)
            if o.after.is_none()
                && o.began.is_none()
                && known.as_ref().is_some_and(|k| k.0 != state)
                && self.recheck(o.desk, &agent, Instant::now())
            {
                debug!(desk = %name, agent = %agent, "not in the desk's list: the agent is read alone");
                continue;
            }
            // a state the agent held until lately, in a read that may be a replica's behind: not
            // a person's change, and not the echo of a write of that state still on its way
            // either (taken for it, the write would be settled unsent)
            if known.as_ref().map(|k| k.0) != Some(state)
                && let Some(fresh_from) = self.stale_read(&key, state, o.read_began).or_else(|| {
                    // a state stored by an engine before this one (not a first sight)
                    known
                        .as_ref()
                        .and_then(|_| self.restarted_lately(o.desk, o.read_began))
                })
                && self.recheck(o.desk, &agent, fresh_from)
            {
                debug!(desk = %name, agent = %agent, state = %state, expected = expected.contains(&state), "a state the agent held until lately: a read under way then, or a replica behind; the agent is read again");
                continue;
            }
            // sync's own write in doubt landing late over a change decided after it was sent
            if let Some(k) = known.as_ref().filter(|k| k.0 != state)
                && self.doubts.landed_late(&key, state)
            {
                let back = owed.filter(|o| *o != state).unwrap_or(k.0);
                self.undo_late_write(o.desk, &agent, state, &word, back, "a read of the desk")?;
                continue;
            }
            if known.as_ref().map(|k| k.0) == Some(state) || expected.contains(&state) {
                // a restatement, or sync's own write coming back (recorded before a crash or not;
                // an earlier write's, too, when a newer one is still on its way)
                let echo = expected.contains(&state);
                let same_word = known.as_ref().is_some_and(|k| k.1 == word);
                if same_word && !echo && owed != Some(state) {
                    // nothing new to store (a restart's first read of an unchanged desk)
                    continue;
                }
                self.store.transaction(|t| {
                    t.set_known(&name, &agent, state, &word, &at, is_computed)?;
                    if echo {
                        t.echoed(&name, &agent, state)?;
                    }
                    if owed == Some(state) {
                        t.settle(&name, &agent, Some(state))?;
                    }
                    Ok(())
                })?;
                if echo {
                    self.stats.with(|s| s.desks[o.desk].echoes += 1);
                    debug!(desk = %name, agent = %agent, state = %state, "echo of sync's own write");
                }
                // the echo seen before the write's answer: the state it replaced can still show
                if let Some((k, _, _)) = known.as_ref().filter(|k| k.0 != state) {
                    self.supersede(key, [*k], state)?;
                }
                continue;
            }
            let Some((before, before_word, settled)) = known else {
                // first sight: the baseline, not a change
                self.store
                    .transaction(|t| t.set_known(&name, &agent, state, &word, &at, is_computed))?;
                continue;
            };
            let why_computed = computed(vendor.as_str(), state, &word);
            let was_computed = computed(vendor.as_str(), before, &before_word).is_some();
            let decides =
                why_computed.is_none() && self.desks[o.desk].role.is_source() && person.is_some();
            if !decides {
                self.store.transaction(|t| {
                    t.set_known(&name, &agent, state, &word, &at, is_computed)?;
                    t.forget_expected(&name, &agent)
                })?;
                self.supersede(key.clone(), [before], state)?;
                if let Some(why) = why_computed {
                    self.stats.with(|s| s.desks[o.desk].computed += 1);
                    info!(desk = %name, agent = %agent, state = %state, vendor_status = %word, reason = why, "computed by the vendor: not a human change, not propagated");
                } else {
                    debug!(desk = %name, agent = %agent, state = %state, "changed on a desk whose changes decide nothing");
                }
                continue;
            }
            let person = person.expect("checked in `decides`");
            if was_computed && settled == state {
                // back to what the desk held before the vendor computed a state
                self.store.transaction(|t| {
                    t.set_known(&name, &agent, state, &word, &at, is_computed)?;
                    t.forget_expected(&name, &agent)
                })?;
                info!(desk = %name, agent = %agent, state = %state, "the vendor's computed state ended");
                continue;
            }
            self.stats.with(|s| s.desks[o.desk].changes_seen += 1);
            // a write of sync's to the agent still in doubt would undo this change by landing
            self.doubts.overtake(&key, state);
            candidates.entry(person).or_default().push(Candidate {
                desk: o.desk,
                agent,
                before,
                after: state,
                word,
            });
        }
        self.undecided.extend(
            candidates
                .into_iter()
                .map(|(person, cands)| (person, cands, at.clone(), seen)),
        );
        // the writes in doubt overtaken by these changes (or seen landing), in the cycle's
        // transaction
        self.keep_doubts()
    }

    /// Matching by e-mail: who the observed agent is, an ambiguity reported once.
    fn learn(&mut self, o: &Observation) {
        let Some(p) = &o.after else { return };
        let Learnt::Ambiguous {
            email,
            agents,
            new: true,
        } = self.people.learn(o.desk, &o.agent, p.email.as_deref())
        else {
            return;
        };
        if agents.len() == 2 {
            self.stats.with(|s| s.desks[o.desk].ambiguous_emails += 1);
        }
        for a in &agents {
            if self.unmatched.insert((o.desk, a.clone())) {
                self.stats.with(|s| s.desks[o.desk].unmatched += 1);
            }
        }
        warn!(desk = %self.desks[o.desk].name, email = %email, agents = %agents.join(", "), "several agents of the desk have this e-mail address: none of them is matched on this desk (never guessed; give each its own address, or use a people map)");
    }

    fn rank(&self, a: Availability) -> usize {
        self.options
            .precedence
            .iter()
            .position(|p| *p == a)
            .unwrap_or(usize::MAX)
    }

    /// Decide the next [`DECIDE_BATCH`] people of the undecided people, in one transaction:
    /// for each, the observed states, the person's availability, the writes owed, the log line.
    fn decide_batch(&mut self) -> Result<(), SyncError> {
        let n = DECIDE_BATCH.min(self.undecided.len());
        if n == 0 {
            return Ok(());
        }
        let started = Instant::now();
        let r = blocking(|| self.decide(n));
        timed("decide", n, started);
        r
    }

    fn decide(&mut self, n: usize) -> Result<(), SyncError> {
        // the decisions and the states they end (`lately`) in one transaction
        if self.store.in_batch() {
            return self.decide_now(n);
        }
        self.store.begin()?;
        match self.decide_now(n) {
            Ok(()) => Ok(self.store.commit()?),
            Err(e) => {
                self.store.rollback();
                Err(e)
            }
        }
    }

    fn decide_now(&mut self, n: usize) -> Result<(), SyncError> {
        let batch: Vec<Prepared> = self
            .undecided
            .drain(..n)
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(person, cands, at, seen)| self.prepare(person, cands, at, seen))
            .collect();
        let desks = &self.desks;
        let in_flight = &self.in_flight;
        let stored: Vec<(i64, Vec<(usize, String)>)> = self.store.transaction(|t| {
            batch
                .iter()
                .map(|p| Self::store_decision(t, desks, in_flight, p))
                .collect()
        })?;
        self.stats.with(|s| s.decisions += n as u64);
        for (p, (id, owed)) in batch.into_iter().zip(stored) {
            // the states the people's changes replaced can still show in a read for a while
            for c in &p.cands {
                self.supersede((c.desk, c.agent.clone()), [c.before], c.after)?;
            }
            let writes = owed.len();
            for key in owed {
                self.queued.insert(key, (id, p.seen));
            }
            // a new write owed is sent at once, not after an older write's backoff
            for (d, agent, holds) in &p.plan {
                self.backoff.remove(&(*d, agent.clone()));
                if holds.is_some() {
                    self.pending[*d] = true;
                }
            }
            let chosen = &p.cands[0];
            if self
                .in_flight
                .contains_key(&(chosen.desk, chosen.agent.clone()))
            {
                // their state, written back after the write in flight
                self.pending[chosen.desk] = true;
                warn!(desk = %p.source, agent = %chosen.agent, person = %p.who, state = %chosen.after, "a person changed the agent while sync's write to it was on its way: their state is written back after it lands");
            }
            info!(
                decision = id,
                person = %p.who,
                desk = %p.source,
                agent = %chosen.agent,
                before = %chosen.before,
                after = %chosen.after,
                writes,
                reason = %p.reason,
                "decided"
            );
            for (d, _, holds) in p.plan {
                if holds.is_none() {
                    self.report_unsupported(d, p.wanted);
                }
            }
        }
        self.count_owed()
    }

    /// What one person's decision is: the candidates in precedence order (the first wins), why,
    /// and what each other target desk should hold.
    fn prepare(
        &self,
        person: usize,
        mut cands: Vec<Candidate>,
        at: String,
        seen: Instant,
    ) -> Prepared {
        cands.sort_by_key(|c| (self.rank(c.after), c.desk));
        let chosen = &cands[0];
        let who = self.people.name(person).to_string();
        let reason = if cands.len() == 1 {
            "last human change wins".to_string()
        } else {
            let all: Vec<String> = cands
                .iter()
                .map(|c| format!("{} on {}", c.after, self.desks[c.desk].name))
                .collect();
            let tie = cands[1].after == chosen.after;
            format!(
                "changed on {} desks in one cycle ({}): {} wins by precedence{}",
                cands.len(),
                all.join(", "),
                chosen.after,
                if tie { ", then desk order" } else { "" }
            )
        };
        let wanted = chosen.after;
        let source = self.desks[chosen.desk].name.clone();
        let mut plan: Vec<(usize, String, Option<Availability>)> = Vec::new();
        for (t, desk) in self.desks.iter().enumerate() {
            if t == chosen.desk || !desk.role.is_target() {
                continue;
            }
            let Some(agent) = self.people.agent(person, t) else {
                continue;
            };
            plan.push((t, agent.to_string(), desk.holds(wanted)));
        }
        Prepared {
            who,
            reason,
            wanted,
            source,
            cands,
            plan,
            at,
            seen,
        }
    }

    /// One decision's rows, inside the batch's transaction: its id and the (desk, agent) it
    /// owes writes to.
    fn store_decision(
        t: &crate::store::Tx<'_>,
        desks: &[Desk],
        in_flight: &HashMap<(usize, String), u64>,
        p: &Prepared,
    ) -> rusqlite::Result<(i64, Vec<(usize, String)>)> {
        let at = p.at.as_str();
        let chosen = &p.cands[0];
        // a desk whose agent a person changed while sync's write to it is on its way: that
        // write still lands (over their change), and its echo is still sync's own
        let sending = |c: &Candidate| in_flight.contains_key(&(c.desk, c.agent.clone()));
        for c in &p.cands {
            let name = &desks[c.desk].name;
            t.set_known(name, &c.agent, c.after, &c.word, at, false)?;
            if !sending(c) {
                t.forget_expected(name, &c.agent)?;
            }
        }
        t.set_wanted(&p.who, p.wanted, &p.source, at)?;
        let id = t.log(
            &Decision {
                person: p.who.clone(),
                desk: p.source.clone(),
                agent: chosen.agent.clone(),
                before: Some(chosen.before.as_str().to_string()),
                after: chosen.after.as_str().to_string(),
                wanted: p.wanted.as_str().to_string(),
                reason: p.reason.clone(),
                writes: 0,
            },
            at,
        )?;
        // a write still owed to the desk a person just changed would undo their change
        t.settle(&p.source, &chosen.agent, None)?;
        let mut owed = Vec::new();
        if sending(chosen) {
            // the write on its way overwrites their change when it lands: theirs is written
            // back after it (handed out once the write in flight is answered)
            t.owe(&Owed {
                desk: p.source.clone(),
                agent: chosen.agent.clone(),
                person: p.who.clone(),
                availability: chosen.after,
                decision: id,
                queued_at: at.to_string(),
                attempts: 0,
            })?;
            t.expect(&p.source, &chosen.agent, chosen.after)?;
            owed.push((chosen.desk, chosen.agent.clone()));
        } else {
            t.forget_expected(&p.source, &chosen.agent)?;
        }
        for (d, agent, holds) in &p.plan {
            let name = &desks[*d].name;
            let Some(target) = holds else {
                t.settle(name, agent, None)?;
                t.forget_expected(name, agent)?;
                continue;
            };
            // what the desk holds once the writes on their way land: the last one owed or
            // sent, else what was last read
            match t.expected(name, agent)?.last() {
                // that write is owed or on its way already
                Some(last) if last == target => continue,
                Some(_) => {}
                None if t.known(name, agent)?.map(|k| k.0) == Some(*target) => {
                    t.settle(name, agent, None)?;
                    continue;
                }
                None => {}
            }
            t.owe(&Owed {
                desk: name.clone(),
                agent: agent.clone(),
                person: p.who.clone(),
                availability: *target,
                decision: id,
                queued_at: at.to_string(),
                attempts: 0,
            })?;
            t.expect(name, agent, *target)?;
            owed.push((*d, agent.clone()));
        }
        t.set_writes(id, owed.len() as i64)?;
        Ok((id, owed))
    }

    /// Keep the outbox size in the counters.
    fn count_owed(&self) -> Result<(), SyncError> {
        let owed = self.store.read(|t| t.outbox_len())?;
        self.stats.with(|s| s.owed = owed);
        Ok(())
    }

    fn report_unsupported(&mut self, desk: usize, state: Availability) {
        if self.unsupported.insert((desk, state)) {
            self.stats.with(|s| s.desks[desk].unsupported += 1);
            let d = &self.desks[desk];
            let holds: Vec<&str> = d.presence.supported().iter().map(|a| a.as_str()).collect();
            warn!(
                desk = %d.name,
                state = %state,
                "{} cannot hold {state} (it holds {}) and the config declares no substitute: declare one (`substitute = {{ {state} = \"...\" }}`) or accept that this desk keeps its state (reported once)",
                d.presence.vendor(),
                holds.join(", ")
            );
        }
    }

    /// Hand what is owed to desks whose first read this process has seen to a new writer task
    /// per desk (none for a desk with [`WRITERS_PER_DESK`] writers still busy: it gets the rest
    /// when one is done), each desk at its client's pace, `write_concurrency` at a time per
    /// writer. The outcomes come back as
    /// [`Written`] and are recorded by [`Engine::written`]; nothing waits here.
    fn dispatch(&mut self) -> Result<(), SyncError> {
        let started = Instant::now();
        let r = blocking(|| self.hand_out());
        timed("dispatch", 0, started);
        r
    }

    fn hand_out(&mut self) -> Result<(), SyncError> {
        let now = Instant::now();
        let held: Vec<bool> = self
            .held
            .iter()
            .map(|h| h.is_some_and(|t| t > now))
            .collect();
        let takes: Vec<bool> = (0..self.desks.len())
            .map(|d| self.takes_writer(d))
            .collect();
        if (0..self.desks.len()).all(|d| !self.ready[d] || !takes[d] || !self.pending[d] || held[d])
        {
            return Ok(());
        }
        let owed = self.store.read(|t| t.outbox_known())?;
        let index = desk_indexes(&self.desks);
        let mut per_desk: Vec<Vec<(Owed, Option<Availability>)>> =
            vec![Vec::new(); self.desks.len()];
        let mut pending = vec![false; self.desks.len()];
        for (o, known) in owed {
            let Some(&d) = index.get(o.desk.as_str()) else {
                continue;
            };
            pending[d] = true;
            if !self.ready[d]
                || !takes[d]
                || held[d]
                || self.in_flight.contains_key(&(d, o.agent.clone()))
            {
                continue;
            }
            if self
                .backoff
                .get(&(d, o.agent.clone()))
                .is_some_and(|t| *t > now)
            {
                continue;
            }
            per_desk[d].push((o, known));
        }
        self.pending = pending;
        if per_desk.iter().all(Vec::is_empty) {
            return Ok(());
        }
        let given: Vec<bool> = per_desk.iter().map(|rows| !rows.is_empty()).collect();
        let mut numbers = vec![0; self.desks.len()];
        for (d, rows) in per_desk.iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            numbers[d] = self.next_writer;
            self.next_writer += 1;
            self.left.insert(numbers[d], (d, rows.len()));
            for (o, _) in rows {
                self.in_flight.insert((d, o.agent.clone()), numbers[d]);
                self.doubts
                    .sent(&(d, o.agent.clone()), o.availability, o.attempts == 0);
            }
        }
        // stored before anything is sent: a process killed from here on restarts with these
        // attempts in doubt (sent or not, it cannot know)
        self.keep_doubts()?;
        let dry_run = self.options.dry_run;
        let concurrency = self.options.write_concurrency;
        // per desk: the rows whose state the agent held until lately (a read begun now may be a
        // replica's showing it: the bulk path's read would skip the write, a retry's read take
        // it for there), and those states
        let lately: Vec<HashMap<String, Vec<(Availability, Instant)>>> = per_desk
            .iter()
            .enumerate()
            .map(|(d, rows)| {
                rows.iter()
                    .filter_map(|(o, _)| {
                        let lately = self.lately_of(d, &o.agent);
                        (!lately.is_empty()).then(|| (o.agent.clone(), lately))
                    })
                    .collect()
            })
            .collect();
        let unconfirmed: Vec<HashSet<String>> = per_desk
            .iter()
            .enumerate()
            .map(|(d, rows)| {
                rows.iter()
                    .filter(|(o, _)| self.unconfirmed(d, &o.agent, o.availability).is_some())
                    .map(|(o, _)| o.agent.clone())
                    .collect()
            })
            .collect();
        // many first attempts to one desk go through its bulk path (one read of the desk, then
        // one write per agent that needs it, at the client's pace); a few are set one by one
        // (a bulk read of a large desk costs more than they do); retries read the agent first
        let (mut lately, mut unconfirmed) = (lately, unconfirmed);
        let streams = per_desk.into_iter().enumerate().map(|(d, rows)| {
            let lately = std::mem::take(&mut lately[d]);
            let unconfirmed = std::mem::take(&mut unconfirmed[d]);
            let presence = self.desks[d].presence.clone();
            // for the desk's watcher, while one runs (`once` reads every agent afresh): the
            // state a write's answer shows, or a retry's read found already there, as it comes,
            // timed by it, before the engine gets round to recording it (a read begun after it
            // is diffed against it). Not a bulk write's agents found already right: the bulk
            // path read them before its writes, when is not known (their echo is recognised)
            let own = self
                .recheck_tx
                .is_some()
                .then(|| self.own_writes[d].clone());
            let tell = move |o: &Owed, r: &Outcome, answered: Instant| {
                if let (Some(own), Outcome::Written(p) | Outcome::Already(p)) = (&own, r)
                    && p.availability == o.availability
                {
                    own.push_at(p.clone(), answered);
                }
            };
            // a first write whose state the agent held until lately goes alone (`set` sends it
            // whatever its read shows), not through the bulk path, whose read may be a replica's
            // showing that state (the write skipped, the agent left as it is)
            let (first, again): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(o, _)| {
                dry_run || (o.attempts == 0 && !unconfirmed.contains(&o.agent))
            });
            let (first, again) = if first.len() >= BULK_FROM || dry_run {
                (first, again)
            } else {
                (Vec::new(), first.into_iter().chain(again).collect())
            };
            // each agent's outcome of the bulk path is sent as soon as its answer is in (the
            // adapter's progress), timed by it, not when the last agent's is: the desk's
            // watcher diffs the reads begun after a write's answer against the state written
            let (answers_tx, answers) = mpsc::unbounded_channel::<Answer>();
            let bulk = {
                let presence = presence.clone();
                let tell = tell.clone();
                async move {
                    if first.is_empty() {
                        return Vec::new();
                    }
                    if dry_run {
                        return first
                            .into_iter()
                            .map(|(o, _)| (d, o, Outcome::Planned, Instant::now()))
                            .collect();
                    }
                    let updates: Vec<(String, Availability)> = first
                        .iter()
                        .map(|(o, _)| (o.agent.clone(), o.availability))
                        .collect();
                    let rows: std::sync::Mutex<HashMap<String, Owed>> = std::sync::Mutex::new(
                        first
                            .into_iter()
                            .map(|(o, _)| (o.agent.clone(), o))
                            .collect(),
                    );
                    let progress = |r: &agentstatus_presence::bulk::BulkResult| {
                        let row = rows
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&r.agent);
                        if let Some(o) = row {
                            let outcome = bulk_outcome(&*presence, Some(&r.outcome));
                            let answered = Instant::now();
                            if matches!(outcome, Outcome::Written(_)) {
                                tell(&o, &outcome, answered);
                            }
                            let _ = answers_tx.send((d, o, outcome, answered));
                        }
                    };
                    let options = agentstatus_presence::bulk::BulkOptions::new(concurrency)
                        .with_progress(&progress);
                    let results: HashMap<String, agentstatus_presence::bulk::BulkResult> = presence
                        .set_many(updates, &options)
                        .await
                        .into_iter()
                        .map(|r| (r.agent.clone(), r))
                        .collect();
                    // the agents an adapter's bulk path did not report as it went
                    let left = std::mem::take(&mut *rows.lock().unwrap_or_else(|e| e.into_inner()));
                    let answered = Instant::now();
                    left.into_values()
                        .map(|o| {
                            let r =
                                bulk_outcome(&*presence, results.get(&o.agent).map(|r| &r.outcome));
                            (d, o, r, answered)
                        })
                        .collect::<Vec<Answer>>()
                }
            };
            let answers = futures_util::stream::unfold(answers, |mut rx| async move {
                rx.recv().await.map(|a| (a, rx))
            });
            let bulk = futures_util::stream::select(
                answers,
                futures_util::stream::once(bulk).flat_map(futures_util::stream::iter),
            )
            .boxed();
            let lately = Arc::new(lately);
            let retries = futures_util::stream::iter(again)
                .map(move |(o, known)| {
                    let presence = presence.clone();
                    let tell = tell.clone();
                    let lately = lately.clone();
                    async move {
                        let r = if o.attempts > 0 {
                            let lately = lately.get(&o.agent).map_or(&[][..], Vec::as_slice);
                            retry(&*presence, &o, known, lately).await
                        } else {
                            match presence.set(&o.agent, o.availability).await {
                                Ok(p) => Outcome::Written(p),
                                Err(e) => Outcome::Failed(e),
                            }
                        };
                        let answered = Instant::now();
                        tell(&o, &r, answered);
                        (d, o, r, answered)
                    }
                })
                .buffer_unordered(concurrency)
                .boxed();
            futures_util::stream::select(bulk, retries).boxed()
        });
        let streams: Vec<_> = streams.collect();
        for (d, mut stream) in streams.into_iter().enumerate() {
            if !given[d] {
                continue;
            }
            self.writing[d] += 1;
            let number = numbers[d];
            let tx = self.results_tx.clone();
            let done = self.done_tx.clone();
            // supervised: a panic in the desk's adapter ends this task's stream, is caught and
            // reported, and the engine restarts the desk's writer (see `Written::Panicked`)
            let panicked = self.results_tx.clone();
            self.writers.spawn(async move {
                let send_all = std::panic::AssertUnwindSafe(async move {
                    while let Some(answer) = stream.next().await {
                        if tx.send(Written::One(Box::new(answer))).is_err() {
                            return false;
                        }
                    }
                    true
                });
                match send_all.catch_unwind().await {
                    Ok(true) => {
                        let _ = done.send((d, number));
                    }
                    Ok(false) => {}
                    Err(payload) => {
                        let _ =
                            panicked.send(Written::Panicked(d, number, panic_message(&*payload)));
                    }
                }
            });
        }
        Ok(())
    }

    /// Record what the writer tasks reported, in one transaction (see [`Store::begin`]).
    fn written_all(&mut self, ws: Vec<Written>, again: bool) -> Result<(), SyncError> {
        if ws.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let n = ws.len();
        let r = blocking(|| self.record_all(ws, again));
        timed("record", n, started);
        r
    }

    fn record_all(&mut self, ws: Vec<Written>, again: bool) -> Result<(), SyncError> {
        self.store.begin()?;
        let mut done = Vec::new();
        for w in ws {
            let r = match w {
                Written::Done(d, w) => {
                    done.push(Written::Done(d, w));
                    Ok(())
                }
                Written::Panicked(d, w, m) => {
                    done.push(Written::Panicked(d, w, m));
                    Ok(())
                }
                one => self.written(one, false),
            };
            if let Err(e) = r {
                self.store.rollback();
                return Err(e);
            }
        }
        // the writes in doubt as the answers left them, in the transaction that records them
        if let Err(e) = self.keep_doubts() {
            self.store.rollback();
            return Err(e);
        }
        self.store.commit()?;
        for w in done {
            self.written(w, again)?;
        }
        if again && std::mem::take(&mut self.hand_out_soon) {
            self.dispatch()?;
        }
        Ok(())
    }

    /// Record what a writer task reports; when a desk's writer is done, hand it what was owed
    /// meanwhile (unless `again` is false: [`Engine::once`] tries each write once).
    fn written(&mut self, w: Written, again: bool) -> Result<(), SyncError> {
        match w {
            Written::One(one) => {
                let (d, o, r, answered) = *one;
                if let Some(number) = self.in_flight.remove(&(d, o.agent.clone()))
                    && let Some((_, left)) = self.left.get_mut(&number)
                {
                    *left = left.saturating_sub(1);
                    if *left == NEXT_WRITER_AT && self.pending[d] {
                        self.hand_out_soon = true;
                    }
                }
                self.record(d, o, r, answered)
            }
            Written::Done(d, number) => {
                self.left.remove(&number);
                self.writing[d] = self.writing[d].saturating_sub(1);
                self.panics[d] = 0;
                // the finished writers, reaped (a JoinSet keeps them until joined)
                while self.writers.try_join_next().is_some() {}
                self.count_owed()?;
                if again { self.dispatch() } else { Ok(()) }
            }
            Written::Panicked(d, number, message) => {
                self.left.remove(&number);
                self.writing[d] = self.writing[d].saturating_sub(1);
                while self.writers.try_join_next().is_some() {}
                // what it had not reported stays in the outbox: handed out again (`set` is
                // idempotent; the outcomes it did report came before this message); whether
                // it was sent is not known
                self.abandoned(|w| w == number);
                self.keep_doubts()?;
                self.in_flight.retain(|_, w| *w != number);
                self.pending[d] = true;
                self.panics[d] = self.panics[d].saturating_add(1);
                let wait = writer_restart_backoff(self.panics[d]);
                self.held[d] = Some(Instant::now() + wait);
                self.stats.with(|s| s.desks[d].writer_panics += 1);
                error!(desk = %self.desks[d].name, panic = %message, restarts = self.panics[d], restart_in_ms = wait.as_millis() as u64, "the desk's writer panicked: restarted after a backoff, the writes it had in flight handed out again");
                self.count_owed()
            }
        }
    }

    /// Record one write's outcome, its answer in at `answered` (for the desk's watcher: the
    /// reads begun after it are diffed against the state written).
    fn record(
        &mut self,
        d: usize,
        o: Owed,
        r: Outcome,
        answered: Instant,
    ) -> Result<(), SyncError> {
        let name = self.desks[d].name.clone();
        // what became of the attempt, for the writes in doubt: one that landed over a change
        // decided after the write was first sent is put back below
        let put_back = self.doubt_answered(d, &o, &r, answered)?;
        let at = stamp_of(self.options.wall_clock.now());
        let r = match r {
            Outcome::Written(p) => Ok((Some(p), true)),
            Outcome::Already(p) => Ok((Some(p), false)),
            Outcome::Planned => Ok((None, false)),
            Outcome::Failed(e) => Err(e),
            Outcome::Moved(p) => {
                self.unqueue(d, &o);
                self.store.transaction(|t| {
                    t.settle(&name, &o.agent, Some(o.availability))?;
                    t.forget_expected(&name, &o.agent)
                })?;
                info!(desk = %name, agent = %o.agent, state = %o.availability, found = %p.availability, "changed by someone since sync last read it: not overwritten (the change is read and decided like any other)");
                return Ok(());
            }
        };
        match r {
            Ok((after, wrote)) => {
                let (mut state, mut word) = match &after {
                    Some(p) => (p.availability, p.detail.vendor_status.clone()),
                    None => (o.availability, "dry-run".to_string()),
                };
                let mut is_computed =
                    computed(self.desks[d].presence.vendor().as_str(), state, &word).is_some();
                let before = self.store.read(|t| t.known(&name, &o.agent))?.map(|k| k.0);
                // the write was answered (an adapter checks the vendor's answer to it), and the
                // state read back after it is the one it replaced: a read replica behind, or a
                // person who set it back at once. The write landed; that state, if a read
                // shows it again, is read again before it is decided
                let read_back_stale =
                    wrote && state != o.availability && Some(state) == before && !is_computed;
                if read_back_stale {
                    debug!(desk = %name, agent = %o.agent, state = %o.availability, read_back = %state, "the write's read-back shows the state it replaced: taken as landed");
                    state = o.availability;
                    word = String::new();
                    is_computed = false;
                }
                let mut replaced = Vec::new();
                self.store.transaction(|t| {
                    t.settle(&name, &o.agent, Some(o.availability))?;
                    t.set_known(&name, &o.agent, state, &word, &at, is_computed)?;
                    if state != o.availability {
                        t.forget_expected(&name, &o.agent)?;
                    } else {
                        // the writes before it, and the state it replaced, can no longer show
                        // in a fresh read begun from now on (a replica behind still may)
                        replaced = t.landed(&name, &o.agent, o.availability)?;
                        replaced.extend(before);
                    }
                    Ok(())
                })?;
                // for the desk's watcher, while one runs (`once` reads every agent afresh): a
                // read-back taken as landed (the answer's own state went to the watcher as the
                // writer got it, in `hand_out`; a bulk write's agents found already right, read
                // before its writes, do not: their echo, if any, is recognised)
                if let Some(p) = after
                    .as_ref()
                    .filter(|p| state == o.availability && p.availability != o.availability)
                    && self.recheck_tx.is_some()
                {
                    let mut p = p.clone();
                    p.availability = o.availability;
                    self.own_writes[d].push_at(p, answered);
                }
                if state == o.availability {
                    self.supersede((d, o.agent.clone()), replaced, o.availability)?;
                }
                self.backoff.remove(&(d, o.agent.clone()));
                let lag = self.lag(d, &o);
                let dry_run = after.is_none();
                self.stats.with(|s| {
                    let s = &mut s.desks[d];
                    if dry_run {
                        s.writes_planned += 1;
                    } else if wrote {
                        s.writes_made += 1;
                        s.lag_ms_last = lag;
                        s.lag_ms_max = s.lag_ms_max.max(lag);
                    }
                });
                if after.is_none() {
                    let planned = Planned {
                        desk: name.clone(),
                        agent: o.agent.clone(),
                        person: o.person.clone(),
                        availability: o.availability,
                    };
                    info!(desk = %name, agent = %o.agent, person = %o.person, state = %o.availability, "dry run: would write");
                    if let Some(f) = self.on_dry_run.as_mut() {
                        f(&planned);
                    }
                } else {
                    info!(desk = %name, agent = %o.agent, person = %o.person, state = %o.availability, lag_ms = lag, "written");
                }
                if let Some(back) = put_back {
                    let word = after.map(|p| p.detail.vendor_status).unwrap_or_default();
                    self.undo_late_write(
                        d,
                        &o.agent,
                        o.availability,
                        &word,
                        back,
                        "a retry's answer",
                    )?;
                }
            }
            Err(e) => {
                self.stats.with(|s| s.desks[d].writes_failed += 1);
                let message = e.to_string();
                match e.kind() {
                    ErrorKind::RateLimited
                    | ErrorKind::Vendor
                    | ErrorKind::Network
                    | ErrorKind::InvalidResponse => {
                        let attempts = o.attempts + 1;
                        self.store
                            .transaction(|t| t.failed(&name, &o.agent, o.availability, &message))?;
                        let interval_wait = self.desks[d]
                            .interval
                            .saturating_mul(1 << attempts.clamp(0, 6))
                            .min(Duration::from_secs(300));
                        // the server's word when it gave one (Retry-After, X-RateLimit-Reset),
                        // bounded: a hostile or broken server cannot stall the desk for ever
                        let wait = match e.retry_after() {
                            Some(asked) if asked > MAX_SERVER_WAIT => {
                                warn!(desk = %name, asked_s = asked.as_secs(), capped_s = MAX_SERVER_WAIT.as_secs(), "the server asked to wait longer than sync ever waits: capped");
                                MAX_SERVER_WAIT
                            }
                            Some(asked) => asked,
                            None => interval_wait,
                        };
                        let until = Instant::now() + wait;
                        self.backoff.insert((d, o.agent.clone()), until);
                        if e.retry_after().is_some() && e.kind() == ErrorKind::RateLimited {
                            // the server refuses the desk's writes until then, not only this
                            // agent's: none is handed out before
                            self.held[d] = Some(self.held[d].map_or(until, |h| h.max(until)));
                        }
                        warn!(desk = %name, agent = %o.agent, state = %o.availability, attempts, error = %message, retry_in_ms = wait.as_millis() as u64, server_asked = e.retry_after().is_some(), "write failed; kept in the outbox");
                    }
                    kind => {
                        self.unqueue(d, &o);
                        self.store.transaction(|t| {
                            t.settle(&name, &o.agent, Some(o.availability))?;
                            t.forget_expected(&name, &o.agent)
                        })?;
                        match kind {
                            ErrorKind::Unsupported => self.report_unsupported(d, o.availability),
                            ErrorKind::Conflict => {
                                info!(desk = %name, agent = %o.agent, error = %message, "someone changed the agent meanwhile: their change is read and decided like any other")
                            }
                            _ => {
                                error!(desk = %name, agent = %o.agent, state = %o.availability, error = %message, "write refused; dropped from the outbox")
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Engine {
    /// Whether desk `d` may get a new writer task now: it has none, or fewer than
    /// [`WRITERS_PER_DESK`] and each running one has at most [`NEXT_WRITER_AT`] writes left
    /// to answer. A new writer begins with its bulk read of the desk; started while the last
    /// writes of the running one go out, it is ready when they are done, so a desk written
    /// at its rate limit never waits between hand-outs — and two writers given their rows
    /// together, which share the desk's pace and so run dry together, never both read the
    /// desk while nothing is written.
    fn takes_writer(&self, d: usize) -> bool {
        self.writing[d] == 0
            || (self.writing[d] < WRITERS_PER_DESK
                && self
                    .left
                    .values()
                    .filter(|(desk, _)| *desk == d)
                    .all(|(_, left)| *left <= NEXT_WRITER_AT))
    }

    /// The time from the decision that owed `o` to now, in milliseconds, its entry in
    /// `queued` removed: monotonic when this run decided it; for a write an earlier run owed,
    /// by the wall clock (the only clock two runs share), never below zero.
    fn lag(&mut self, d: usize, o: &Owed) -> u64 {
        if let Some(at) = self.unqueue(d, o) {
            return u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX);
        }
        chrono::DateTime::parse_from_rfc3339(&o.queued_at)
            .map(|q| {
                (self.options.wall_clock.now() - q.to_utc())
                    .num_milliseconds()
                    .max(0) as u64
            })
            .unwrap_or(0)
    }

    /// (desk, agent) holds `now` and no longer the states `ended` (from this instant): a read
    /// begun less than the desk's read lag from now can still show them
    /// ([`Engine::stale_read`]). Stored too (`lately`, in the transaction open, if one is), so
    /// a restart still knows them.
    fn supersede(
        &mut self,
        key: (usize, String),
        ended: impl IntoIterator<Item = Availability>,
        now: Availability,
    ) -> Result<(), SyncError> {
        let at = Instant::now();
        let entry = self.superseded.entry(key.clone()).or_default();
        let held_again = entry.iter().any(|(a, _)| *a == now);
        entry.retain(|(a, _)| *a != now);
        let mut stored = Vec::new();
        for a in ended {
            if a != now {
                entry.retain(|(b, _)| *b != a);
                entry.push((a, at));
                stored.push(a);
            }
        }
        if entry.is_empty() {
            self.superseded.remove(&key);
        }
        if stored.is_empty() && !held_again {
            return Ok(());
        }
        let name = &self.desks[key.0].name;
        let ended_ms = self.options.wall_clock.now().timestamp_millis();
        self.store.transaction(|t| {
            if held_again {
                t.holds_again(name, &key.1, now)?;
            }
            for a in stored {
                t.ended(name, &key.1, a, ended_ms)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Whether `state`, seen on (desk, agent) by a read that began at `began` (unknown:
    /// `None`), may be a state the agent no longer holds: it held it until lately
    /// ([`Engine::supersede`]) and the read began less than the desk's [`Desk::read_lag`]
    /// after that ended (a read under way then, or a replica up to the read lag behind, may
    /// show it). Then the instant from which a read shows what the agent holds. The bound is
    /// the read lag: a read that began later is taken as it is, whatever it shows.
    fn stale_read(
        &self,
        key: &(usize, String),
        state: Availability,
        began: Option<Instant>,
    ) -> Option<Instant> {
        let lag = self.desks[key.0].read_lag;
        let fresh_from = self
            .superseded
            .get(key)?
            .iter()
            .find(|(a, _)| *a == state)
            .map(|(_, at)| *at + lag)?;
        match began {
            Some(b) if b >= fresh_from => None,
            _ => Some(fresh_from),
        }
    }

    /// Desk `d`'s watcher handed over a read that began at `began`.
    fn watched(&mut self, d: usize, began: Option<Instant>) {
        if let Some(b) = began {
            self.watched[d] = Some(self.watched[d].map_or(b, |w| w.max(b)));
        }
    }

    /// Forget the states held until lately that no read can show any more: the desk's watcher
    /// handed over a read begun at least the desk's read lag after the state ended (its later
    /// reads begin later still), and no recheck of the agent is under way (its read may have
    /// begun before); and, every [`LATELY_PRUNE_EVERY`], the stored rows older than the
    /// desk's read lag and [`LATELY_KEPT`] by the wall clock (a restart needs no older one).
    /// What is kept is bounded anyway: one entry per (desk, agent, state).
    fn prune_lately(&mut self) -> Result<(), SyncError> {
        let desks = &self.desks;
        let watched = &self.watched;
        let rechecking = &self.rechecking;
        self.superseded.retain(|key, ended| {
            if rechecking.contains_key(key) {
                return true;
            }
            let Some(read) = watched[key.0] else {
                return true;
            };
            let lag = desks[key.0].read_lag;
            ended.retain(|(_, at)| read < *at + lag);
            !ended.is_empty()
        });
        if self.pruned.elapsed() < LATELY_PRUNE_EVERY {
            return Ok(());
        }
        self.pruned = Instant::now();
        let now_ms = self.options.wall_clock.now().timestamp_millis();
        let cutoffs: Vec<(String, i64)> = self
            .desks
            .iter()
            .map(|d| {
                let kept = d.read_lag.saturating_add(LATELY_KEPT).as_millis() as i64;
                (d.name.clone(), now_ms.saturating_sub(kept))
            })
            .collect();
        let started = Instant::now();
        blocking(|| {
            self.store.transaction(|t| {
                for (desk, before) in &cutoffs {
                    t.prune_lately(desk, *before)?;
                }
                // the writes in doubt that can no longer land (kept in memory the same way:
                // `Doubts::expire`)
                t.prune_doubts(now_ms)?;
                Ok(())
            })
        })?;
        timed("prune", cutoffs.len(), started);
        Ok(())
    }

    /// The instant from which a read of (desk, agent) cannot show `state` as one the agent
    /// held until lately, if that is still to come ([`Engine::stale_read`] for a read begun
    /// now): a write of `state` decided from a read before then is not skipped on what that
    /// read shows.
    fn unconfirmed(&self, d: usize, agent: &str, state: Availability) -> Option<Instant> {
        self.stale_read(&(d, agent.to_string()), state, Some(Instant::now()))
    }

    /// The states (desk, agent) held until lately, each with the instant from which a read
    /// cannot show it any more (for a retry's read, [`retry`]).
    fn lately_of(&self, d: usize, agent: &str) -> Vec<(Availability, Instant)> {
        let lag = self.desks[d].read_lag;
        self.superseded
            .get(&(d, agent.to_string()))
            .map(|e| e.iter().map(|(a, at)| (*a, *at + lag)).collect())
            .unwrap_or_default()
    }

    /// Whether a read of `desk` that began at `began` (unknown: `None`, taken as now) may be a
    /// replica's answer from before this engine started: what the engine before it (killed,
    /// restarted) saw its writes replace is not known here ([`Engine::supersede`] is kept in
    /// memory), and a replica up to the desk's [`Desk::read_lag`] behind can still show such a
    /// state, which would be taken for a person's change. Then the instant from which a read
    /// shows only states held since the start: a change seen before it is read again then
    /// ([`Engine::recheck`]), decided a read lag later, never lost.
    fn restarted_lately(&self, desk: usize, began: Option<Instant>) -> Option<Instant> {
        let fresh_from = self.started + self.desks[desk].read_lag;
        (began.unwrap_or_else(Instant::now) < fresh_from).then_some(fresh_from)
    }

    /// A read showed (desk, agent) in a state it held until lately ([`Engine::stale_read`]):
    /// a read under way when sync's write landed, a replica behind, or a person who set it
    /// again meanwhile. Neither decided nor stored: the agent is read again, an interval and
    /// the desk's [`Desk::read_lag`] later and not before `fresh_from`, and that read is
    /// decided like any other (one that finds the agent gone is an unlisted agent). While the agent's reads fail it is read again an
    /// interval apart, [`RECHECK_TRIES`] times, then from the desk's full read, further apart
    /// (at most [`RECHECK_MAX_WAIT`]), until one answers or the engine stops: the observation is
    /// never dropped (a restart reads every desk afresh). One recheck per agent at a time; an
    /// observation made while one is under way is covered by it, or by another one if its read
    /// began less than the desk's read lag after that observation. Outside [`Engine::run`] (one pass: reads, then writes, never together)
    /// there is no such read, and the state is taken as it is.
    fn recheck(&mut self, desk: usize, agent: &str, fresh_from: Instant) -> bool {
        let Some(tx) = self.recheck_tx.clone() else {
            return false;
        };
        let key = (desk, agent.to_string());
        if let Some(asked) = self.rechecking.get_mut(&key) {
            *asked = Instant::now();
            return true;
        }
        self.rechecking.insert(key, Instant::now());
        let d = &self.desks[desk];
        let presence = d.presence.clone();
        let interval = d.interval;
        let name = d.name.clone();
        let agent = agent.to_string();
        // a read that shows what the agent holds now: after the state it held ended, and after
        // this observation (a person's change just made may not show in a replica yet)
        let first = (Instant::now() + interval.max(d.read_lag)).max(fresh_from);
        let answering = self.answering[desk].clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(first).await;
            let mut failed = 0usize;
            loop {
                if tx.is_closed() {
                    return;
                }
                let began = Instant::now();
                let read = match presence.get(&agent).await {
                    Ok(p) => Ok(Some(p)),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                    // the agent's own reads keep failing: the desk's full read tells too
                    Err(_) if failed >= RECHECK_TRIES => presence
                        .list(&ListFilter::all())
                        .await
                        .map(|all| all.into_iter().find(|a| a.agent_id == agent)),
                    Err(e) => Err(e),
                };
                match read {
                    Ok(after) => {
                        let _ = tx.send(Event::Recheck(desk, agent, after, began));
                        return;
                    }
                    Err(e) => {
                        failed += 1;
                        debug!(desk = %name, agent = %agent, error = %e, tries = failed, "the agent could not be read again; trying again");
                    }
                }
                let wait = if failed < RECHECK_TRIES {
                    interval
                } else {
                    interval
                        .saturating_mul(1 << (failed - RECHECK_TRIES).min(3))
                        .min(RECHECK_MAX_WAIT.max(interval))
                };
                // or until the desk answers a read again
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = answering.notified() => {}
                }
            }
        });
        true
    }

    /// Forget when `o` was decided (it is settled), if this run decided it: that instant.
    fn unqueue(&mut self, d: usize, o: &Owed) -> Option<Instant> {
        let key = (d, o.agent.clone());
        match self.queued.get(&key) {
            Some((id, at)) if *id == o.decision => {
                let at = *at;
                self.queued.remove(&key);
                Some(at)
            }
            _ => None,
        }
    }
}

/// The states each (desk, agent) held until lately, as the database keeps them from an earlier
/// run ([`Engine::supersede`]): each taken as ended now (when the run starts), so a read begun
/// less than its desk's read lag after the start that shows one is read again rather than
/// taken for a person's change (a replica behind shows the state before the restart). Rows
/// older than the desk's read lag and [`LATELY_KEPT`] by the wall clock are left out (every
/// read of this run begins after they ended); a wall clock stepped forward across the restart
/// leaves out more.
fn restore_lately(
    desks: &[Desk],
    store: &Store,
    wall: &dyn WallClock,
) -> Result<Lately, SyncError> {
    let names = desk_indexes(desks);
    let now_ms = wall.now().timestamp_millis();
    let at = Instant::now();
    let mut out: Lately = HashMap::new();
    for (desk, agent, state, ended_ms) in store.read(|t| t.lately())? {
        let Some(&d) = names.get(desk.as_str()) else {
            continue;
        };
        let kept = desks[d].read_lag.saturating_add(LATELY_KEPT);
        if now_ms.saturating_sub(ended_ms) > kept.as_millis() as i64 {
            continue;
        }
        out.entry((d, agent)).or_default().push((state, at));
    }
    Ok(out)
}

/// Sync's writes in doubt as the database keeps them from an earlier run ([`Engine::keep_doubts`]),
/// restored: an attempt that run had on its way is in doubt (it may have been sent), each for
/// what is left of its time to land by the wall clock. A desk no longer configured is left
/// out (its rows were forgotten by [`reconcile`]).
fn restore_doubts(
    desks: &[Desk],
    store: &Store,
    wall: &dyn WallClock,
) -> Result<Doubts, SyncError> {
    let names = desk_indexes(desks);
    let now_ms = wall.now().timestamp_millis();
    let now = Instant::now();
    let mut doubts = Doubts::default();
    for r in store.read(|t| t.doubts())? {
        let Some(&d) = names.get(r.desk.as_str()) else {
            continue;
        };
        let until_ms = r.until_ms.unwrap_or(now_ms);
        if until_ms <= now_ms {
            continue;
        }
        doubts.restore(
            (d, r.agent),
            Kept {
                state: r.availability,
                doubtful: u32::try_from(r.doubtful.max(0)).unwrap_or(u32::MAX),
                in_flight: r.sent_ms.is_some(),
                left: Some(Duration::from_millis((until_ms - now_ms) as u64)),
                overtaken: r.overtaken,
            },
            now,
        );
    }
    Ok(doubts)
}

/// Sync's own writes landing late ([`crate::late`]).
impl Engine {
    /// Store the writes in doubt changed since the last call (in the caller's transaction when
    /// one is open): an attempt on its way is stored with when it was handed out (`sent_ms`)
    /// and kept until [`ANSWER_BOUND`] and the desk's grace after it (its answer, or its
    /// client giving up, comes within the bound); doubtful attempts until their grace ends.
    fn keep_doubts(&mut self) -> Result<(), SyncError> {
        let now = Instant::now();
        let changed = self.doubts.take_changed(now);
        if changed.is_empty() {
            return Ok(());
        }
        let now_ms = self.options.wall_clock.now().timestamp_millis();
        let rows: Vec<(usize, String, Vec<StoredDoubt>)> = changed
            .into_iter()
            .map(|((d, agent), kept)| {
                let grace = self.desks[d].late_grace;
                let name = &self.desks[d].name;
                let rows = kept
                    .into_iter()
                    .map(|k| {
                        let mut left = k.left.unwrap_or(Duration::ZERO);
                        if k.in_flight {
                            left = left.max(ANSWER_BOUND.saturating_add(grace));
                        }
                        StoredDoubt {
                            desk: name.clone(),
                            agent: agent.clone(),
                            availability: k.state,
                            doubtful: i64::from(k.doubtful),
                            sent_ms: k.in_flight.then_some(now_ms),
                            until_ms: Some(now_ms.saturating_add(left.as_millis() as i64)),
                            overtaken: k.overtaken,
                        }
                    })
                    .collect();
                (d, agent, rows)
            })
            .collect();
        self.store.transaction(|t| {
            for (d, agent, rows) in &rows {
                t.put_doubts(&self.desks[*d].name, agent, rows)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// What became of one attempt of `o` to desk `d` (answered at `answered`), for the writes
    /// in doubt. `Some(state)` when it landed (a retry written, or finding its state there)
    /// over a change decided after the write was first sent, or a newer write of sync's: the
    /// state to put back (the write owed to the agent now, else the state known before).
    fn doubt_answered(
        &mut self,
        d: usize,
        o: &Owed,
        r: &Outcome,
        answered: Instant,
    ) -> Result<Option<Availability>, SyncError> {
        let how = match r {
            Outcome::Written(p) | Outcome::Already(p) if p.availability == o.availability => {
                Answered::Landed
            }
            // answered: it did what the answer shows (someone else's state since), nothing later
            Outcome::Written(_) | Outcome::Already(_) | Outcome::Planned => Answered::Nothing,
            Outcome::Moved(_) => Answered::Moved,
            Outcome::Failed(e) if crate::late::in_doubt(e) => Answered::InDoubt,
            Outcome::Failed(_) => Answered::Nothing,
        };
        let key = (d, o.agent.clone());
        let grace = self.desks[d].late_grace;
        if !self
            .doubts
            .answered(&key, o.availability, how, answered, grace)
        {
            return Ok(None);
        }
        let name = &self.desks[d].name;
        let (known, owed) = self
            .store
            .read(|t| Ok((t.known(name, &o.agent)?, t.owed(name, &o.agent)?)))?;
        Ok(owed
            .filter(|a| *a != o.availability)
            .or(known.map(|k| k.0).filter(|a| *a != o.availability)))
    }

    /// Sync's own write of `landed` to (desk `d`, `agent`), whose outcome was unknown, landed
    /// late (seen by `seen_by`) over `back`, a state decided after it was sent (a person's
    /// change on the desk, or a newer write of sync's): `back` is put back, one write, logged
    /// as a decision with its reason, counted (`late_writes_undone`). Not an echo, and not a
    /// person's change: nothing is propagated to the other desks.
    fn undo_late_write(
        &mut self,
        d: usize,
        agent: &str,
        landed: Availability,
        word: &str,
        back: Availability,
        seen_by: &str,
    ) -> Result<(), SyncError> {
        let Some(person) = self.people.person_of(d, agent) else {
            return Ok(());
        };
        let who = self.people.name(person).to_string();
        let name = self.desks[d].name.clone();
        let at = stamp_of(self.options.wall_clock.now());
        let reason = format!(
            "sync's own write of {landed}, whose outcome was unknown (its client gave up, or its connection dropped), landed late over {back}, decided after it was sent (seen by {seen_by}): {back} put back"
        );
        let id = self.store.transaction(|t| {
            t.set_known(&name, agent, landed, word, &at, false)?;
            t.echoed(&name, agent, landed)?;
            let wanted = t.wanted(&who)?.map_or(back, |w| w.0);
            let id = t.log(
                &Decision {
                    person: who.clone(),
                    desk: name.clone(),
                    agent: agent.to_string(),
                    before: Some(back.as_str().to_string()),
                    after: landed.as_str().to_string(),
                    wanted: wanted.as_str().to_string(),
                    reason: reason.clone(),
                    writes: 1,
                },
                &at,
            )?;
            t.owe(&Owed {
                desk: name.clone(),
                agent: agent.to_string(),
                person: who.clone(),
                availability: back,
                decision: id,
                queued_at: at.clone(),
                attempts: 0,
            })?;
            t.expect(&name, agent, back)?;
            Ok(id)
        })?;
        let key = (d, agent.to_string());
        self.queued.insert(key.clone(), (id, Instant::now()));
        self.backoff.remove(&key);
        self.pending[d] = true;
        self.stats.with(|s| s.desks[d].late_writes_undone += 1);
        warn!(decision = id, desk = %name, agent = %agent, person = %who, landed = %landed, put_back = %back, seen_by, "sync's own write landed late, over a change decided after it was sent: that change is put back");
        Ok(())
    }

    /// The writes in flight of the writers `which` accepts (by number) are abandoned (a writer
    /// panicked, the engine stops): whether they were sent is not known, so they are in doubt.
    fn abandoned(&mut self, which: impl Fn(u64) -> bool) {
        let now = Instant::now();
        let keys: Vec<(usize, String)> = self
            .in_flight
            .iter()
            .filter(|(_, w)| which(**w))
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let grace = self.desks[key.0].late_grace;
            self.doubts.abandoned(&key, now, grace);
        }
    }
}

/// Each desk's index by its name (the names the database stores rows under).
fn desk_indexes(desks: &[Desk]) -> HashMap<&str, usize> {
    desks
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.as_str(), i))
        .collect()
}

/// What the database holds from an earlier run, made to agree with this run's desks and people
/// map before anything is read or written:
///
/// - a desk no longer configured is forgotten (its known states, the writes owed to it and
///   expected back): configured again later, it starts from a fresh first read, a baseline,
///   rather than from states and writes as old as its removal;
/// - a write owed to an agent who is no longer the person it was decided for (the row moved
///   in the people map, or was removed) is dropped: it would set another person's agent, or
///   no one's. The person's next change is written to their agent in the map as it is now.
///
/// Each is logged. Matching by e-mail learns who is who from the desks' reads, so only the
/// first rule applies then.
fn reconcile(desks: &[Desk], people: &People, store: &mut Store) -> Result<(), SyncError> {
    let names = desk_indexes(desks);
    let stored = store.read(|t| t.stored_desks())?;
    for desk in stored.iter().filter(|d| !names.contains_key(d.as_str())) {
        let (known, owed) = store.transaction(|t| t.forget_desk(desk))?;
        warn!(desk = %desk, known_states = known, owed_writes = owed, "the desk is no longer in the config: forgotten (its writes still owed dropped; configured again, it starts from a new first read)");
    }
    if people.matches_by_email() {
        return Ok(());
    }
    let owed = store.read(|t| t.outbox())?;
    for o in owed {
        let Some(&d) = names.get(o.desk.as_str()) else {
            continue;
        };
        let now = people.person_of(d, &o.agent).map(|p| people.name(p));
        if now == Some(o.person.as_str()) {
            continue;
        }
        store.transaction(|t| {
            t.settle(&o.desk, &o.agent, None)?;
            t.forget_expected(&o.desk, &o.agent)
        })?;
        warn!(desk = %o.desk, agent = %o.agent, decided_for = %o.person, now = now.unwrap_or("no one"), state = %o.availability, "the people map changed: a write owed to an agent who is no longer that person's is dropped");
    }
    Ok(())
}

/// The longest a server's `Retry-After` (or `X-RateLimit-Reset`) is waited for before a desk's
/// writes are tried again; a longer one is capped to this, and logged. The runtime's constant:
/// a client's own retries cap the server's wait the same way.
pub use agentstatus_runtime::retry::MAX_SERVER_WAIT;

/// How long a desk's writer waits before it is restarted after its `n`th panic in a row: 1 s,
/// doubling, at most a minute.
fn writer_restart_backoff(n: u32) -> Duration {
    Duration::from_secs(1 << n.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

/// What a panic said, for the log (clipped, control characters escaped).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let said = if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "(a panic without a message)"
    };
    agentstatus_presence::adapter::clip(said)
}

/// Writer tasks one desk may have at once. The second takes the writes owed while the first is
/// still sending its own (its bulk read and its first writes overlap the first one's last
/// writes), so a desk written at its rate limit does not wait between batches; both go through
/// the desk's one client, whose pacer keeps them together under the limit.
const WRITERS_PER_DESK: usize = 2;

/// Writes a desk's running writer has left to answer when the next one may start (and read the
/// desk): at Engage Digital's scaled 194 a second, two thirds of a second of writes, longer
/// than a bulk read of 10,000 agents takes on a loaded machine.
const NEXT_WRITER_AT: usize = 128;

/// First writes to one desk from which its bulk path (`set_many`: one read of the desk, then the
/// writes) is used rather than one `set` each.
const BULK_FROM: usize = 16;

/// One owed write to a desk, how it went, and when its answer came (monotonic).
type Answer = (usize, Owed, Outcome, Instant);

/// A bulk write's outcome for one agent (`None`: the adapter gave none).
fn bulk_outcome(
    presence: &dyn Presence,
    outcome: Option<&Result<agentstatus_presence::bulk::Applied, PresenceError>>,
) -> Outcome {
    match outcome {
        Some(Ok(a)) if a.changed == Some(false) => Outcome::Already(a.presence.clone()),
        Some(Ok(a)) => Outcome::Written(a.presence.clone()),
        Some(Err(e)) => Outcome::Failed(e.clone()),
        None => Outcome::Failed(PresenceError::new(
            presence.vendor(),
            agentstatus_presence::Failure::InvalidResponse {
                status: None,
                message: "the bulk write gave no result for the agent".into(),
            },
        )),
    }
}

/// How sending one owed write went.
enum Outcome {
    /// Written; the desk's answer.
    Written(AgentPresence),
    /// A retry found the state already there (an earlier attempt got through unanswered).
    Already(AgentPresence),
    /// A retry found the agent changed by someone since sync last read it: not overwritten.
    Moved(AgentPresence),
    /// `--dry-run`: not sent.
    Planned,
    /// Failed.
    Failed(PresenceError),
}

/// A write that failed before is sent again only after a read: an earlier attempt may have got
/// through unanswered (then nothing is written), or a person may have changed the agent since
/// sync last read it (then their change wins: it is read and decided like any other).
///
/// That read may be a replica's, up to the desk's read lag behind: a state the agent held until
/// lately (`lately`: each with the instant from which a read cannot show it any more), shown
/// by a read begun before then, decides nothing by itself. Shown as the state to write, the
/// write is sent anyway (`set` is idempotent: one request, where confirming by a read costs one
/// and may still need the write); shown as another state (a person's change, or a replica's
/// older state), the agent is read again once a read cannot show it stale, and that read
/// decides.
async fn retry(
    presence: &dyn Presence,
    o: &Owed,
    known: Option<Availability>,
    lately: &[(Availability, Instant)],
) -> Outcome {
    let stale_until = |state: Availability, began: Instant| {
        lately
            .iter()
            .find(|(a, fresh_from)| *a == state && began < *fresh_from)
            .map(|(_, fresh_from)| *fresh_from)
    };
    let vendor = presence.vendor();
    let moved = |now: &AgentPresence| {
        now.availability != o.availability
            && known.is_some_and(|k| k != now.availability)
            && computed(vendor.as_str(), now.availability, &now.detail.vendor_status).is_none()
    };
    let mut began = Instant::now();
    let mut now = match presence.get(&o.agent).await {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(e),
    };
    if moved(&now)
        && let Some(fresh_from) = stale_until(now.availability, began)
    {
        tokio::time::sleep_until(fresh_from).await;
        began = Instant::now();
        now = match presence.get(&o.agent).await {
            Ok(p) => p,
            Err(e) => return Outcome::Failed(e),
        };
    }
    if now.availability == o.availability && stale_until(o.availability, began).is_none() {
        Outcome::Already(now)
    } else if moved(&now) && stale_until(now.availability, began).is_none() {
        Outcome::Moved(now)
    } else {
        match presence.set(&o.agent, o.availability).await {
            Ok(p) => Outcome::Written(p),
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// Run an engine step that works the database (deciding a batch, recording outcomes, handing
/// out writes, a cycle's observations) where it does not hold up the tasks beside it: on a
/// worker thread of a multi-threaded runtime its worker's other tasks (the writers, their
/// connections, the watchers) move to another thread meanwhile
/// ([`tokio::task::block_in_place`]), so a desk's writes keep their pace while a batch is
/// decided; anywhere else it runs as it is. Anywhere else is also where `block_in_place` would
/// panic, or could not move anything: a current-thread runtime, a `LocalSet` (on a
/// multi-threaded runtime too: the engine's future polled by `LocalSet::run_until`, or spawned
/// with `spawn_local`, runs on the thread that drives the set, which is no worker, and
/// `block_in_place` refuses to block there), a runtime's `block_on` itself (no worker either:
/// nothing to move).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        // a worker thread of a multi-threaded runtime: `block_in_place` hands its other tasks
        // over (whatever the context's own permission to block says: a worker may)
        Ok(h)
            if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
                && tokio::runtime::worker_index().is_some() =>
        {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// The time an engine step took (deciding a batch, recording outcomes, handing out writes,
/// comparing a cycle's observations with the stored states), as a `debug` event of target
/// `agentstatus_sync::timing` when it took a millisecond or more: what holds the engine's task
/// (and, on a runtime with few threads, the writers beside it).
fn timed(step: &'static str, n: usize, started: Instant) {
    let took = started.elapsed();
    if took >= Duration::from_millis(1) {
        debug!(target: "agentstatus_sync::timing", step, n, us = took.as_micros() as u64, "step");
    }
}

/// How long a graceful shutdown waits for the desks' watchers to release what their feeds
/// hold ([`Watcher::shutdown`]); longer than any feed's own deadline.
const WATCHERS_SHUTDOWN: Duration = Duration::from_secs(15);

/// A desk's watcher (reporting its first read's agents as new: `with_initial`), its events
/// sent to the engine. The first read is sent as one [`Event::Initial`].
async fn watch_desk(
    desk: usize,
    mut watcher: Watcher,
    name: String,
    tx: mpsc::UnboundedSender<Event>,
    mut halted: tokio::sync::watch::Receiver<bool>,
) {
    let mut first = true;
    loop {
        // the halt's guard is dropped inside its own block: the future stays `Send`
        let halt = async {
            let _ = halted.wait_for(|h| *h).await;
        };
        let next = tokio::select! {
            () = halt => None,
            next = watcher.next() => Some(next),
        };
        let Some(next) = next else {
            if let Err(e) = watcher.shutdown().await {
                warn!(desk = %name, error = %e, "the desk's feed was not released at shutdown");
            }
            return;
        };
        let ev = match next {
            Ok(change) if first => {
                first = false;
                let all: Vec<AgentPresence> = watcher.snapshot().cloned().collect();
                // the rest of the first read is in `all`; the watcher hands it out at once
                for _ in 1..all.len() {
                    let _ = watcher.next().await;
                }
                drop(change);
                Event::Initial(desk, all, watcher.began())
            }
            Ok(change) => Event::Change(desk, Box::new(change), watcher.began()),
            Err(e) => Event::Failed(desk, e),
        };
        if tx.send(ev).is_err() {
            return;
        }
    }
}
