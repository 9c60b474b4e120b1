//! Presence changes as they happen: [`Watcher`] turns a vendor's reads (or its own change feed)
//! into a stream of [`Change`]s, one per agent whose availability or vendor status changed.
//!
//! Every vendor can be watched: the default is a poll of the adapter's one bulk read
//! ([`Presence::list`]) at [`WatchOptions::interval`], diffed against the last snapshot. A vendor
//! that offers something better (a delta query, a push channel) gives a [`ChangeFeed`] through
//! [`Presence::change_feed`]; the watcher still owns the snapshot, so a feed that restates an
//! agent's state yields no event, and a feed that fails (a dropped connection, an expired queue)
//! is followed by a full read that reports everything that changed meanwhile, never skipping a
//! change silently.
//!
//! ```no_run
//! use std::sync::Arc;
//! use agentstatus_presence::watch::{Watcher, WatchOptions};
//!
//! # async fn run(presence: Arc<dyn agentstatus_presence::Presence>) {
//! let mut watcher = Watcher::new(presence, "support", WatchOptions::default());
//! loop {
//!     match watcher.next().await {
//!         Ok(change) => println!("{change}"),
//!         // a failed read or a dropped feed: reported, then the next read catches up
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # }
//! ```
//!
//! What a poll cannot see: an agent who changed and changed back between two reads. A push
//! feed sees it; a delta query sees it if the vendor keeps each change.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{AgentPresence, DetailField, ListFilter, Presence, PresenceError, Vendor};

/// How a change was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Origin {
    /// The vendor pushed it (a websocket, an event queue, a subscription).
    Push,
    /// A query for what changed since the last one.
    Delta,
    /// A full read, diffed against the previous one (the default, and every resynchronisation).
    Poll,
}

impl Origin {
    /// `push`, `delta` or `poll`.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Push => "push",
            Origin::Delta => "delta",
            Origin::Poll => "poll",
        }
    }
}

/// One agent's presence changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Change {
    /// The vendor.
    pub vendor: Vendor,
    /// The desk: which configured instance of the vendor (its name in the caller's config).
    pub desk: String,
    /// The agent's id on the vendor.
    pub agent_id: String,
    /// What was known before; `None` for an agent not seen before (or, with
    /// [`WatchOptions::initial`], every agent of the first read).
    pub before: Option<AgentPresence>,
    /// What is known now; `None` for an agent the vendor no longer lists (Engage Digital lists
    /// connected agents only).
    pub after: Option<AgentPresence>,
    /// When this process observed it (not when the vendor says it happened).
    pub observed_at: DateTime<Utc>,
    /// How it was observed.
    pub origin: Origin,
}

impl fmt::Display for Change {
    /// `rocketchat/support ada (Ada Lovelace): available -> away (poll)`; when the availability
    /// stays, the vendor's words say what changed: `engage-digital/mail e1: away (Lunch) -> away
    /// (Late lunch) (poll)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = matches!((&self.before, &self.after),
            (Some(b), Some(a)) if b.availability == a.availability);
        // the status message, when that is what moved: `offline (online, "In a call")`
        let message = matches!((&self.before, &self.after),
            (Some(b), Some(a)) if b.detail.message != a.detail.message);
        let state = |p: &Option<AgentPresence>| match p {
            Some(p) if words && message => format!(
                "{} ({}, {})",
                p.availability,
                crate::escape_controls(p.detail.state()),
                p.detail.message.as_deref().map_or_else(
                    || "no message".to_string(),
                    |m| format!("\"{}\"", crate::escape_controls(m))
                )
            ),
            Some(p) if words => format!(
                "{} ({})",
                p.availability,
                crate::escape_controls(p.detail.state())
            ),
            Some(p) => p.availability.as_str().to_string(),
            None => "unlisted".to_string(),
        };
        write!(f, "{}/{} {}", self.vendor, self.desk, self.agent_id)?;
        let name = self.after.as_ref().or(self.before.as_ref());
        if let Some(name) = name.and_then(|p| p.name.as_deref()) {
            write!(f, " ({name})")?;
        }
        write!(
            f,
            ": {} -> {} ({})",
            state(&self.before),
            state(&self.after),
            self.origin.as_str()
        )
    }
}

/// What a [`ChangeFeed`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Batch {
    /// Agents the vendor reports as changed. An agent may come again with the state it had
    /// (the watcher drops it).
    Changed(Vec<AgentPresence>),
    /// The feed cannot say what changed (its delta is too old, the vendor sent everything):
    /// the watcher reads every agent and diffs against its snapshot.
    Resync,
}

/// A vendor's own feed of changes, better than polling ([`Presence::change_feed`]).
#[crate::async_trait]
pub trait ChangeFeed: Send {
    /// How this feed observes changes ([`Origin::Push`] or [`Origin::Delta`]).
    fn origin(&self) -> Origin;

    /// Wait for what the vendor reports next. An error means the feed lost track of the
    /// vendor: the watcher reports it, reads every agent afresh and calls `next` again, which
    /// reconnects (or registers a new queue, or restarts its delta).
    async fn next(&mut self) -> Result<Batch, PresenceError>;

    /// Release what the feed holds at the vendor (subscriptions, registered queues) before the
    /// process ends, within a deadline of the feed's own; the feed is not used afterwards. Called
    /// on a graceful shutdown ([`Watcher::shutdown`]: `agentstatus watch` on SIGINT or SIGTERM,
    /// `sync`'s shutdown). An error is for the caller to log: shutting down goes on. The
    /// default: nothing to release.
    async fn shutdown(&mut self) -> Result<(), PresenceError> {
        Ok(())
    }

    /// Undo what an earlier run of this feed left at the vendor because it could not release
    /// it (killed with `kill -9`, a crash, a power cut), without starting to watch: Twilio
    /// TaskRouter's workspace callback URL put back from the record the feed wrote before
    /// replacing it, Graph's subscriptions to this feed's URL deleted. `Ok(Some(what))` says
    /// what was done, in words fit for a log (no secret, no full URL); `Ok(None)`: nothing
    /// was left. A feed that starts does the same by itself (`agentstatus watch --restore`
    /// is for an operator who does not want to watch again). Called instead of
    /// [`ChangeFeed::next`], on a feed not used afterwards. The default: nothing to undo.
    async fn recover(&mut self) -> Result<Option<String>, PresenceError> {
        Ok(None)
    }

    /// When the first request of the last batch [`ChangeFeed::next`] answered began (a delta
    /// query's, before the reads of the agents it names), if the feed knows: the states in the
    /// batch are no older than a read begun then ([`Watcher::began`]). The default: not
    /// known (the watcher takes the moment it asked the feed, which is earlier).
    fn began(&self) -> Option<tokio::time::Instant> {
        None
    }
}

/// How [`Watcher`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchOptions {
    /// Time between two polls, and the pause before a full read after a feed failed. Default
    /// 15 s. A poll is one [`Presence::list`] (its pages at the client's rate limit), so the
    /// interval should leave room for the other requests the credentials make.
    pub interval: Duration,
    /// Report every agent of the first read as a change from nothing (default: the first read
    /// is the baseline and reports nothing).
    pub initial: bool,
    /// Poll even when the vendor has a [`ChangeFeed`].
    pub poll_only: bool,
    /// How far behind the vendor's answers may be, at most (a read replica, a cache in front
    /// of it; default none): a delta query asks from this much earlier than it would, so a
    /// change a replica had not yet when it answered is in the next delta, not lost.
    pub read_lag: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(15),
            initial: false,
            poll_only: false,
            read_lag: Duration::ZERO,
        }
    }
}

impl WatchOptions {
    /// Poll every `interval` (at least 100 ms).
    pub fn every(interval: Duration) -> Self {
        Self {
            interval: interval.max(Duration::from_millis(100)),
            ..Self::default()
        }
    }

    /// Report the first read's agents as changes too.
    pub fn with_initial(self, initial: bool) -> Self {
        Self { initial, ..self }
    }

    /// Poll even when the vendor has a change feed.
    pub fn poll_only(self, poll_only: bool) -> Self {
        Self { poll_only, ..self }
    }

    /// The vendor's answers may be up to `read_lag` behind ([`WatchOptions::read_lag`]).
    pub fn with_read_lag(self, read_lag: Duration) -> Self {
        Self { read_lag, ..self }
    }
}

/// What identifies an agent's state for change detection: its availability and the parts of
/// its detail the adapter declares observed ([`Presence::observed`]). Engage Digital's
/// per-channel busyness moves with every conversation and is not a change of presence.
fn same_state(a: &AgentPresence, b: &AgentPresence, observed: &[DetailField]) -> bool {
    a.availability == b.availability && a.detail.same_observed(&b.detail, observed)
}

/// When a [`Watcher`] last read its desk successfully: a full read that succeeded, or a feed
/// that answered (a batch of changes, possibly empty: a push feed's heartbeat). Shared: a
/// clone ([`Watcher::success_clock`]) reads it while the watcher waits for the next change,
/// so a quiet desk (nothing changed) is told from a desk that cannot be read.
///
/// It keeps both clocks: the wall time, to show ([`LastSuccess::get`]), and the monotonic
/// instant, to measure by ([`LastSuccess::elapsed`]): the wall clock can step (an NTP
/// correction, a resumed virtual machine), and an age computed from it would then be hours too
/// long, or nothing, however recent the read.
#[derive(Debug, Clone, Default)]
pub struct LastSuccess(Arc<Mutex<Option<Success>>>);

/// One success: on the wall clock, and on the monotonic one.
type Success = (DateTime<Utc>, tokio::time::Instant);

impl LastSuccess {
    /// A clock that has seen no success yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last success, if any, on the wall clock (for people to read).
    pub fn get(&self) -> Option<DateTime<Utc>> {
        self.pair().map(|(at, _)| at)
    }

    /// The last success, if any, on the monotonic clock.
    pub fn instant(&self) -> Option<tokio::time::Instant> {
        self.pair().map(|(_, at)| at)
    }

    /// Time since the last success, if any, on the monotonic clock (a step of the wall clock
    /// changes nothing).
    pub fn elapsed(&self) -> Option<Duration> {
        self.instant().map(|at| at.elapsed())
    }

    /// Record a success now.
    pub fn touch(&self) {
        *self.lock() = Some((now(), tokio::time::Instant::now()));
    }

    /// Record a success at `at` on the wall clock: as long ago as `at` is before the wall
    /// clock's now (a time in the future is now).
    pub fn set(&self, at: DateTime<Utc>) {
        let ago = (now() - at).to_std().unwrap_or(Duration::ZERO);
        let instant = tokio::time::Instant::now();
        let instant = instant.checked_sub(ago).unwrap_or(instant);
        *self.lock() = Some((at, instant));
    }

    fn pair(&self) -> Option<Success> {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Success>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// States the watcher's caller wrote to agents of the desk (`agentstatus sync`'s writes, once
/// their answers came). A full read that begins after a write's answer is diffed against the
/// state written, not against what the watcher last read: without it, a person who sets the
/// agent back to the state last read, after the write and before the next read, changes
/// nothing the watcher can see, and their change is lost. A read already under way when the
/// answer came is diffed as before (it may not show the write); a feed's agents are diffed
/// against the writes answered before they came. A caller may push a state it read itself
/// (`agentstatus sync`'s read of one agent) to make it the one the next reads are diffed
/// against. Shared: a clone
/// ([`Watcher::own_writes`]) is pushed to from another task; each read takes what it applies.
///
/// A write is timed by when its answer came ([`OwnWrites::push_at`]), not by when the caller
/// got round to pushing it (a bulk write's outcomes, recorded in a batch, come seconds after
/// their answers): a read that began after the answer shows the write, or a change made after
/// it, so the write is applied only to the state read before it, never over a read begun after
/// its answer that changed the agent (that read is newer: applying the write over it would hide
/// a person who set the agent to the written state again meanwhile). A read begun after the
/// answer that found the agent as before (it was diffed against a state without the write: a
/// person who set the agent back at once) is not newer than the write: the write is applied
/// over it, and the next read is diffed against the state written.
#[derive(Debug, Clone, Default)]
pub struct OwnWrites(Arc<Mutex<Vec<(AgentPresence, tokio::time::Instant)>>>);

impl OwnWrites {
    /// Nothing written yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `presence` was written, its answer in now.
    pub fn push(&self, presence: AgentPresence) {
        self.push_at(presence, tokio::time::Instant::now());
    }

    /// `presence` was written, its answer in at `answered` (earlier than now when the caller
    /// records its writes' outcomes after they came: a bulk write's, a batch's).
    pub fn push_at(&self, presence: AgentPresence, answered: tokio::time::Instant) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((presence, answered));
    }

    /// Into `known`, the writes answered before `began` (agents it holds); the later ones are
    /// kept for the next read. A write answered before `known` was read (`read_at`: when the
    /// read it came from began, or when a feed reported the agent) is dropped: that read is
    /// newer than the write.
    fn apply(
        &self,
        known: &mut HashMap<String, AgentPresence>,
        read_at: &dyn Fn(&str) -> Option<tokio::time::Instant>,
        changed_at: &dyn Fn(&str) -> Option<tokio::time::Instant>,
        began: tokio::time::Instant,
    ) {
        let mut written = self.0.lock().unwrap_or_else(|e| e.into_inner());
        written.retain(|(p, at)| {
            if *at > began {
                return true;
            }
            // a read newer than the write's answer that changed the agent is newer than the
            // write (a person's change after it: kept); one that found the agent as it was
            // before the write was diffed against a state without it, and a person who set the
            // agent back to that state would go unseen: the write is applied over it, so the
            // next read is diffed against the state written
            if read_at(&p.agent_id).is_some_and(|read| *at < read)
                && changed_at(&p.agent_id).is_some_and(|changed| *at < changed)
            {
                return false;
            }
            if let Some(k) = known.get_mut(&p.agent_id) {
                let mut p = p.clone();
                // the write's answer may not name the agent: the read's name and address stay
                if p.name.is_none() {
                    p.name = k.name.clone();
                }
                if p.email.is_none() {
                    p.email = k.email.clone();
                }
                *k = p;
            }
            false
        });
    }
}

/// Changes of one desk as they happen. See the [module docs](self).
pub struct Watcher {
    presence: Arc<dyn Presence>,
    desk: String,
    options: WatchOptions,
    feed: Option<Box<dyn ChangeFeed>>,
    /// The last known state of every agent; `None` before the first full read.
    known: Option<HashMap<String, AgentPresence>>,
    /// A full read is owed before the feed is trusted again.
    resync: bool,
    /// A full read happened before.
    read_before: bool,
    /// When the last full read a feed asked for began.
    last_requested_read_at: Option<tokio::time::Instant>,
    /// The feed failed: the full read that follows waits for the interval.
    failed: bool,
    ready: VecDeque<Change>,
    ticker: tokio::time::Interval,
    last_success: LastSuccess,
    written: OwnWrites,
    /// When the full read `known` came from began.
    read_began: Option<tokio::time::Instant>,
    /// Agents a feed reported since that read, and when.
    fed_at: HashMap<String, tokio::time::Instant>,
    /// When the read the changes in `ready` came from began ([`Watcher::began`]).
    began: Option<tokio::time::Instant>,
    /// Per agent: when a read (its start) or a feed last reported it changed ([`OwnWrites`]:
    /// a write pushed after a newer read is applied over that read unless the read changed
    /// the agent).
    changed_at: HashMap<String, tokio::time::Instant>,
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher")
            .field("vendor", &self.presence.vendor())
            .field("desk", &self.desk)
            .field("options", &self.options)
            .field("feed", &self.feed.as_ref().map(|f| f.origin()))
            .field("agents", &self.known.as_ref().map(HashMap::len))
            .finish()
    }
}

/// The least time between two full reads a feed asks for ([`Batch::Resync`]), when the
/// interval is longer: a feed that asks again and again gets one read a second at most.
pub const RESYNC_GAP: Duration = Duration::from_secs(1);

impl Watcher {
    /// Watch `presence`, calling it `desk` in the changes.
    pub fn new(
        presence: Arc<dyn Presence>,
        desk: impl Into<String>,
        options: WatchOptions,
    ) -> Self {
        let feed = if options.poll_only {
            None
        } else {
            presence.change_feed(&options)
        };
        let mut ticker = tokio::time::interval(options.interval);
        // a poll that took longer than the interval is followed by the next one after a full
        // interval, not by a burst of catch-up reads
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            presence,
            desk: desk.into(),
            options,
            feed,
            known: None,
            resync: true,
            read_before: false,
            last_requested_read_at: None,
            failed: false,
            ready: VecDeque::new(),
            ticker,
            last_success: LastSuccess::new(),
            written: OwnWrites::new(),
            read_began: None,
            fed_at: HashMap::new(),
            began: None,
            changed_at: HashMap::new(),
        }
    }

    /// When the read the last change [`Watcher::next`] returned came from began: the full
    /// read's first request, or the feed's ([`ChangeFeed::began`]; the moment the watcher asked
    /// the feed when it does not say). A vendor that answers from a replica up to a lag behind
    /// shows, in that read, no state older than that lag before this instant. `None` before
    /// the first read.
    pub fn began(&self) -> Option<tokio::time::Instant> {
        self.began
    }

    /// Diff the full reads against the caller's writes in `written` (one the caller made, e.g.
    /// before the watcher exists; see [`OwnWrites`]).
    pub fn with_own_writes(self, written: OwnWrites) -> Self {
        Self { written, ..self }
    }

    /// A shared handle on the caller's writes the full reads are diffed against ([`OwnWrites`]).
    pub fn own_writes(&self) -> OwnWrites {
        self.written.clone()
    }

    /// Record successes in `clock` (one the caller made, e.g. before the watcher exists).
    pub fn with_success_clock(self, clock: LastSuccess) -> Self {
        if let Some(pair) = self.last_success.pair() {
            *clock.lock() = Some(pair);
        }
        Self {
            last_success: clock,
            ..self
        }
    }

    /// When the desk was last read successfully (a full read, or a feed's answer, empty
    /// included); `None` before the first. Unlike [`Watcher::next`], this moves when nothing
    /// changed.
    pub fn last_success(&self) -> Option<DateTime<Utc>> {
        self.last_success.get()
    }

    /// A shared handle on [`Watcher::last_success`], readable from another task while this
    /// watcher waits in [`Watcher::next`].
    pub fn success_clock(&self) -> LastSuccess {
        self.last_success.clone()
    }

    /// How changes are observed: the feed's origin, or [`Origin::Poll`].
    pub fn origin(&self) -> Origin {
        self.feed.as_ref().map_or(Origin::Poll, |f| f.origin())
    }

    /// The last known state of every agent (empty before the first read).
    pub fn snapshot(&self) -> impl Iterator<Item = &AgentPresence> {
        self.known.iter().flat_map(HashMap::values)
    }

    /// The next change. An error is a read or a feed that failed: nothing is lost, the next
    /// call reads every agent again (after the interval) and reports what changed meanwhile.
    pub async fn next(&mut self) -> Result<Change, PresenceError> {
        loop {
            if let Some(change) = self.ready.pop_front() {
                return Ok(change);
            }
            if self.resync || self.feed.is_none() {
                self.full_read().await?;
                continue;
            }
            let feed = self.feed.as_mut().expect("checked above");
            let origin = feed.origin();
            let asked = tokio::time::Instant::now();
            match feed.next().await {
                Ok(Batch::Changed(agents)) => {
                    self.last_success.touch();
                    self.began = Some(feed.began().unwrap_or(asked).max(asked));
                    self.observe(agents, origin)
                }
                Ok(Batch::Resync) => self.resync = true,
                Err(e) => {
                    self.resync = true;
                    self.failed = true;
                    return Err(e);
                }
            }
        }
    }

    /// Release what the vendor's feed holds ([`ChangeFeed::shutdown`]: Graph's subscriptions,
    /// say) before the process ends; nothing to do when polling. Call it once, on a graceful
    /// shutdown, after the last [`Watcher::next`] (a `next` cancelled by a `select!` included);
    /// the watcher is not used afterwards. An error is the caller's to log, not a reason to keep
    /// running.
    pub async fn shutdown(&mut self) -> Result<(), PresenceError> {
        match self.feed.as_mut() {
            Some(feed) => feed.shutdown().await,
            None => Ok(()),
        }
    }

    /// The changes as a stream (endless; errors are items, as from [`Watcher::next`]).
    pub fn into_stream(
        self,
    ) -> impl futures::Stream<Item = Result<Change, PresenceError>> + Send + 'static {
        futures::stream::unfold(self, |mut w| async move {
            let item = w.next().await;
            Some((item, w))
        })
    }

    async fn full_read(&mut self) -> Result<(), PresenceError> {
        // polls are paced by the interval (its first tick is immediate), and so is the read
        // after a feed failed; a feed's own request for a full read (after it connects, say) is
        // served at once, unless the feed's last request was served less than
        // [`RESYNC_GAP`] (or the interval, if shorter) ago: a feed that asks again and again (a
        // hostile or confused server) cannot make the watcher read every agent back to back,
        // and one that reconnects after a drop is still read at once
        if self.feed.is_none() || self.failed || !self.read_before {
            self.ticker.tick().await;
        } else {
            if let Some(last) = self.last_requested_read_at {
                let gap = RESYNC_GAP.min(self.options.interval);
                tokio::time::sleep_until(last + gap).await;
            }
            self.last_requested_read_at = Some(tokio::time::Instant::now());
        }
        self.read_before = true;
        self.failed = false;
        let began = tokio::time::Instant::now();
        let agents = self.presence.list(&ListFilter::all()).await?;
        let read = began.elapsed();
        self.began = Some(began);
        if let Some(known) = self.known.as_mut() {
            let (read_began, fed_at) = (self.read_began, &self.fed_at);
            let read_at = |agent: &str| fed_at.get(agent).copied().or(read_began);
            let changed = &self.changed_at;
            let changed_at = |agent: &str| changed.get(agent).copied();
            self.written.apply(known, &read_at, &changed_at, began);
        }
        self.read_began = Some(began);
        self.fed_at.clear();
        let now = now();
        self.last_success.set(now);
        let mut fresh: HashMap<String, AgentPresence> = HashMap::with_capacity(agents.len());
        for a in agents {
            fresh.insert(a.agent_id.clone(), a);
        }
        match self.known.take() {
            None => {
                if self.options.initial {
                    let mut ids: Vec<&String> = fresh.keys().collect();
                    ids.sort();
                    for id in ids {
                        self.ready.push_back(self.change(
                            id,
                            None,
                            fresh.get(id).cloned(),
                            now,
                            Origin::Poll,
                        ));
                    }
                }
            }
            Some(old) => {
                let mut ids: Vec<&String> = old.keys().chain(fresh.keys()).collect();
                ids.sort();
                ids.dedup();
                let observed = self.presence.observed();
                for id in ids {
                    let (before, after) = (old.get(id), fresh.get(id));
                    let changed = match (before, after) {
                        (Some(b), Some(a)) => !same_state(b, a, observed),
                        _ => true,
                    };
                    if changed {
                        self.changed_at.insert(id.clone(), began);
                        self.ready.push_back(self.change(
                            id,
                            before.cloned(),
                            after.cloned(),
                            now,
                            Origin::Poll,
                        ));
                    }
                }
            }
        }
        self.known = Some(fresh);
        self.resync = false;
        tracing::debug!(
            target: "agentstatus_presence::watch",
            desk = %self.desk,
            agents = self.known.as_ref().map_or(0, HashMap::len),
            changes = self.ready.len(),
            read_us = read.as_micros() as u64,
            diff_us = (began.elapsed() - read).as_micros() as u64,
            "full read"
        );
        Ok(())
    }

    /// Agents a feed reported: each one whose state differs from the known one is a change.
    fn observe(&mut self, agents: Vec<AgentPresence>, origin: Origin) {
        let now = now();
        let observed = self.presence.observed();
        let mut changes = Vec::new();
        let known = self.known.get_or_insert_with(HashMap::new);
        // the feed's agents are diffed against the caller's writes answered before they came
        // (a person who set the agent back to the state the feed last reported is a change)
        let came = tokio::time::Instant::now();
        let (read_began, fed_at) = (self.read_began, &self.fed_at);
        let read_at = |agent: &str| fed_at.get(agent).copied().or(read_began);
        let changed = &self.changed_at;
        let changed_at = |agent: &str| changed.get(agent).copied();
        self.written.apply(known, &read_at, &changed_at, came);
        for a in &agents {
            self.fed_at.insert(a.agent_id.clone(), came);
        }
        for mut a in agents {
            let before = known.get(&a.agent_id);
            // a feed that does not carry the name or e-mail (a push event names the user
            // only): the known ones are kept
            if let Some(b) = before {
                if a.name.is_none() {
                    a.name = b.name.clone();
                }
                if a.email.is_none() {
                    a.email = b.email.clone();
                }
            }
            if before.is_some_and(|b| same_state(b, &a, observed)) {
                // a restatement, or the echo of a state already reported: keep the newer detail
                known.insert(a.agent_id.clone(), a);
                continue;
            }
            let before = known.insert(a.agent_id.clone(), a.clone());
            changes.push((a.agent_id.clone(), before, a));
        }
        for (id, before, after) in changes {
            self.changed_at.insert(id.clone(), came);
            let change = self.change(&id, before, Some(after), now, origin);
            self.ready.push_back(change);
        }
    }

    fn change(
        &self,
        id: &str,
        before: Option<AgentPresence>,
        after: Option<AgentPresence>,
        observed_at: DateTime<Utc>,
        origin: Origin,
    ) -> Change {
        Change {
            vendor: self.presence.vendor(),
            desk: self.desk.clone(),
            agent_id: id.to_string(),
            before,
            after,
            observed_at,
            origin,
        }
    }
}

/// The system clock (`Utc::now` needs chrono's `clock` feature; `From<SystemTime>` does not).
fn now() -> DateTime<Utc> {
    std::time::SystemTime::now().into()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::{Availability, Detail};

    /// A desk whose `list` answers are scripted: each call takes the next one.
    struct Scripted {
        reads: Mutex<VecDeque<Result<Vec<AgentPresence>, PresenceError>>>,
        feed: Mutex<Option<Box<dyn ChangeFeed>>>,
    }

    fn agent(id: &str, a: Availability, word: &str) -> AgentPresence {
        AgentPresence::new(
            id,
            Some(format!("Agent {id}")),
            a,
            Detail {
                vendor_status: word.into(),
                ..Detail::default()
            },
        )
    }

    fn down() -> PresenceError {
        PresenceError::not_found(Vendor::new("scripted"), "the desk", None)
    }

    #[crate::async_trait]
    impl Presence for Scripted {
        fn vendor(&self) -> Vendor {
            Vendor::new("scripted")
        }
        fn supported(&self) -> &'static [Availability] {
            &[]
        }
        async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
            Err(PresenceError::not_found(self.vendor(), agent, None))
        }
        async fn set(&self, agent: &str, _: Availability) -> Result<AgentPresence, PresenceError> {
            Err(PresenceError::not_found(self.vendor(), agent, None))
        }
        async fn list(&self, _: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
            self.reads
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| Err(down()))
        }
        fn change_feed(&self, _: &WatchOptions) -> Option<Box<dyn ChangeFeed>> {
            self.feed.lock().unwrap().take()
        }
    }

    fn scripted(
        reads: Vec<Result<Vec<AgentPresence>, PresenceError>>,
        feed: Option<Box<dyn ChangeFeed>>,
    ) -> Arc<dyn Presence> {
        Arc::new(Scripted {
            reads: Mutex::new(reads.into()),
            feed: Mutex::new(feed),
        })
    }

    fn summary(c: &Change) -> String {
        format!(
            "{} {}->{} {}",
            c.agent_id,
            c.before.as_ref().map_or("-", |p| p.availability.as_str()),
            c.after.as_ref().map_or("-", |p| p.availability.as_str()),
            c.origin.as_str()
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_reports_each_change_once_and_agents_that_come_and_go() {
        use Availability::*;
        let presence = scripted(
            vec![
                Ok(vec![
                    agent("a", Available, "online"),
                    agent("b", Away, "away"),
                ]),
                // nothing changed: no event
                Ok(vec![
                    agent("a", Available, "online"),
                    agent("b", Away, "away"),
                ]),
                // a changed, b left, c came
                Ok(vec![
                    agent("a", Busy, "busy"),
                    agent("c", Offline, "offline"),
                ]),
                // only the vendor's word changed: a change too (manual vs automatic away)
                Ok(vec![
                    agent("a", Busy, "dnd"),
                    agent("c", Offline, "offline"),
                ]),
            ],
            None,
        );
        let mut w = Watcher::new(
            presence,
            "desk",
            WatchOptions::every(Duration::from_secs(5)),
        );
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(summary(&w.next().await.unwrap()));
        }
        assert_eq!(
            seen,
            [
                "a available->busy poll",
                "b away->- poll",
                "c -->offline poll",
                "a busy->busy poll"
            ]
        );
        let c = w.snapshot().find(|p| p.agent_id == "a").unwrap();
        assert_eq!(c.detail.vendor_status, "dnd");
    }

    /// The observed parts of the detail ([`Presence::observed`]): a renamed state is a change,
    /// reported once; a part not observed (busyness) is not; `until` is.
    #[tokio::test(start_paused = true)]
    async fn the_observed_detail_decides_and_nothing_else() {
        use Availability::*;
        let with = |state: &str, busyness: &str, until: Option<i64>| {
            let mut a = agent("a", Away, "away");
            a.detail.state = Some(state.into());
            a.detail.custom_status_id = Some("cs-1".into());
            a.detail.channels = vec![crate::ChannelPresence {
                id: "c1".into(),
                name: None,
                status: "away".into(),
                busyness: Some(busyness.into()),
            }];
            a.detail.until = until.and_then(|t| DateTime::from_timestamp(t, 0));
            a
        };
        let presence = scripted(
            vec![
                Ok(vec![with("Lunch", "ok", None)]),
                // the busyness moved: not observed, no event
                Ok(vec![with("Lunch", "busy", None)]),
                // the custom status renamed (same id, same availability): one change
                Ok(vec![with("Meeting", "busy", None)]),
                // read again unchanged: nothing
                Ok(vec![with("Meeting", "ok", None)]),
                // an end time appears: a change
                Ok(vec![with("Meeting", "ok", Some(1_900_000_000))]),
                Ok(vec![with("Meeting", "ok", Some(1_900_000_000))]),
            ],
            None,
        );
        let mut w = Watcher::new(
            presence,
            "desk",
            WatchOptions::every(Duration::from_secs(5)),
        );
        let start = tokio::time::Instant::now();
        let c = w.next().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(10), "the third read");
        assert_eq!(
            c.to_string(),
            "scripted/desk a (Agent a): away (Lunch) -> away (Meeting) (poll)"
        );
        assert_eq!(c.before.unwrap().detail.state(), "Lunch");
        assert_eq!(c.after.unwrap().detail.state(), "Meeting");
        let c = w.next().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(20), "the fifth read");
        assert_eq!(c.before.unwrap().detail.until, None);
        assert!(c.after.unwrap().detail.until.is_some());
        // the sixth read restates; then reads fail (the script ends): no change in between
        assert!(w.next().await.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(30));
    }

    /// The status message is observed by default: a new one is a change, shown with both
    /// messages; the same one read again is not.
    #[tokio::test(start_paused = true)]
    async fn a_new_status_message_is_a_change_and_reads_well() {
        use Availability::*;
        let with = |message: Option<&str>| {
            let mut a = agent("a", Available, "available");
            a.detail.state = Some("online".into());
            a.detail.message = message.map(str::to_string);
            a
        };
        let presence = scripted(
            vec![
                Ok(vec![with(Some("In a call"))]),
                Ok(vec![with(Some("In a call"))]),
                Ok(vec![with(Some("Lunch"))]),
                Ok(vec![with(None)]),
            ],
            None,
        );
        let mut w = Watcher::new(
            presence,
            "desk",
            WatchOptions::every(Duration::from_secs(5)),
        );
        let c = w.next().await.unwrap();
        assert_eq!(
            c.to_string(),
            "scripted/desk a (Agent a): available (online, \"In a call\") -> available (online, \"Lunch\") (poll)"
        );
        let c = w.next().await.unwrap();
        assert_eq!(
            c.to_string(),
            "scripted/desk a (Agent a): available (online, \"Lunch\") -> available (online, no message) (poll)"
        );
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["before"]["detail"]["message"], "Lunch");
        assert!(json["after"]["detail"].get("message").is_none());
        assert!(DetailField::DEFAULT.contains(&DetailField::Message));
    }

    #[test]
    fn a_detail_field_compares_its_part_only() {
        let a = Detail {
            vendor_status: "away".into(),
            ..Detail::default()
        };
        // no word: `vendor_status` is the word
        let b = Detail {
            state: Some("away".into()),
            ..a.clone()
        };
        assert!(a.same_observed(&b, DetailField::DEFAULT));
        let c = Detail {
            state: Some("Lunch".into()),
            ..a.clone()
        };
        assert!(!a.same_observed(&c, DetailField::DEFAULT));
        assert!(a.same_observed(&c, &[DetailField::VendorStatus]));
    }

    #[tokio::test(start_paused = true)]
    async fn polls_wait_for_the_interval() {
        use Availability::*;
        let presence = scripted(
            vec![
                Ok(vec![agent("a", Available, "online")]),
                Ok(vec![agent("a", Away, "away")]),
            ],
            None,
        );
        let start = tokio::time::Instant::now();
        let mut w = Watcher::new(
            presence,
            "desk",
            WatchOptions::every(Duration::from_secs(30)),
        );
        w.next().await.unwrap();
        // the first read is immediate, the second one interval later
        assert_eq!(start.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_read_is_reported_and_the_next_read_catches_up() {
        use Availability::*;
        let presence = scripted(
            vec![
                Ok(vec![
                    agent("a", Available, "online"),
                    agent("b", Available, "online"),
                ]),
                Err(down()),
                Err(down()),
                Ok(vec![
                    agent("a", Away, "away"),
                    agent("b", Available, "online"),
                ]),
            ],
            None,
        );
        let mut w = Watcher::new(presence, "desk", WatchOptions::default());
        // the first read is the baseline; the next two fail
        assert!(w.next().await.is_err());
        assert!(w.next().await.is_err());
        assert_eq!(summary(&w.next().await.unwrap()), "a available->away poll");
    }

    #[tokio::test(start_paused = true)]
    async fn quiet_reads_move_the_success_clock_and_failed_ones_do_not() {
        use Availability::*;
        let same = || Ok(vec![agent("a", Available, "online")]);
        let presence = scripted(vec![same(), same(), same(), Err(down()), Err(down())], None);
        let clock = LastSuccess::new();
        let w = Watcher::new(
            presence,
            "desk",
            WatchOptions::every(Duration::from_secs(5)),
        )
        .with_success_clock(clock.clone());
        assert_eq!(w.last_success(), None);
        let reader = w.success_clock();
        // the watcher waits in `next` (nothing changes); the clock is read from outside
        let task = tokio::spawn(async move {
            let mut w = w;
            loop {
                if w.next().await.is_err() {
                    break w;
                }
            }
        });
        // reads at 0, 5 and 10 s succeed, the one at 15 s fails; the clock is reset to the
        // epoch before each and looked at 2.5 s after
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        for n in 0..3 {
            assert!(reader.get().is_some_and(|t| t > epoch), "read {n}");
            reader.set(epoch);
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let w = task.await.unwrap();
        // the failed read left the clock where it was
        assert_eq!(w.last_success(), Some(epoch));
        assert_eq!(clock.get(), Some(epoch));
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_feed_batch_is_a_success_and_a_feed_without_names_keeps_them() {
        use Availability::*;
        let mut nameless = agent("a", Away, "away");
        nameless.name = None;
        let feed = Feed(
            vec![
                Ok(Batch::Changed(vec![])),
                Ok(Batch::Changed(vec![nameless])),
            ]
            .into(),
        );
        let presence = scripted(
            vec![Ok(vec![
                agent("a", Available, "online").with_email(Some("a@x".into())),
            ])],
            Some(Box::new(feed)),
        );
        let mut w = Watcher::new(presence, "desk", WatchOptions::default());
        let c = w.next().await.unwrap();
        assert_eq!(summary(&c), "a available->away push");
        let after = c.after.unwrap();
        assert_eq!(after.name.as_deref(), Some("Agent a"));
        assert_eq!(after.email.as_deref(), Some("a@x"));
        assert!(w.last_success().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_read_can_be_reported() {
        use Availability::*;
        let presence = scripted(
            vec![Ok(vec![
                agent("b", Away, "away"),
                agent("a", Available, "online"),
            ])],
            None,
        );
        let mut w = Watcher::new(presence, "desk", WatchOptions::default().with_initial(true));
        assert_eq!(summary(&w.next().await.unwrap()), "a -->available poll");
        assert_eq!(summary(&w.next().await.unwrap()), "b -->away poll");
    }

    /// A feed whose batches are scripted; `Err` is a dropped connection.
    struct Feed(VecDeque<Result<Batch, PresenceError>>);

    #[crate::async_trait]
    impl ChangeFeed for Feed {
        fn origin(&self) -> Origin {
            Origin::Push
        }
        async fn next(&mut self) -> Result<Batch, PresenceError> {
            match self.0.pop_front() {
                Some(r) => r,
                None => std::future::pending().await,
            }
        }
    }

    /// A feed that counts its shutdowns and fails the second.
    struct Closing(Arc<std::sync::atomic::AtomicUsize>);

    #[crate::async_trait]
    impl ChangeFeed for Closing {
        fn origin(&self) -> Origin {
            Origin::Push
        }
        async fn next(&mut self) -> Result<Batch, PresenceError> {
            std::future::pending().await
        }
        async fn shutdown(&mut self) -> Result<(), PresenceError> {
            match self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => Ok(()),
                _ => Err(down()),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_reaches_the_feed_and_a_poll_has_nothing_to_release() {
        use Availability::*;
        let closed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let presence = scripted(
            vec![Ok(vec![agent("a", Available, "online")])],
            Some(Box::new(Closing(closed.clone()))),
        );
        let mut w = Watcher::new(presence, "desk", WatchOptions::default());
        // a `next` cancelled by a select (a signal), then the shutdown
        let waited = tokio::time::timeout(Duration::from_secs(60), w.next()).await;
        assert!(waited.is_err(), "the feed has nothing to report");
        w.shutdown().await.unwrap();
        assert_eq!(closed.load(std::sync::atomic::Ordering::SeqCst), 1);
        // the feed's error comes back to the caller, to log
        assert!(w.shutdown().await.is_err());
        assert_eq!(closed.load(std::sync::atomic::Ordering::SeqCst), 2);

        // polling, or a feed that keeps the default: nothing to do
        let presence = scripted(
            vec![Ok(vec![agent("a", Available, "online")])],
            Some(Box::new(Feed(VecDeque::new()))),
        );
        let mut w = Watcher::new(presence, "desk", WatchOptions::default().poll_only(true));
        w.shutdown().await.unwrap();
        let presence = scripted(vec![], Some(Box::new(Feed(VecDeque::new()))));
        let mut w = Watcher::new(presence, "desk", WatchOptions::default());
        w.shutdown().await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_feed_drops_restatements_and_a_dropped_feed_resynchronises() {
        use Availability::*;
        let feed = Feed(
            vec![
                // a restatement of the known state: nothing
                Ok(Batch::Changed(vec![agent("a", Available, "online")])),
                Ok(Batch::Changed(vec![
                    agent("a", Away, "away"),
                    agent("a", Away, "away"),
                ])),
                // the connection drops; meanwhile b changed
                Err(down()),
                Ok(Batch::Changed(vec![agent("a", Available, "online")])),
                // the feed cannot tell: a full read, at once
                Ok(Batch::Resync),
            ]
            .into(),
        );
        let presence = scripted(
            vec![
                Ok(vec![
                    agent("a", Available, "online"),
                    agent("b", Available, "online"),
                ]),
                // the full read after the drop
                Ok(vec![
                    agent("a", Away, "away"),
                    agent("b", Offline, "offline"),
                ]),
                // the full read the feed asked for: c came
                Ok(vec![
                    agent("a", Available, "online"),
                    agent("b", Offline, "offline"),
                    agent("c", Away, "away"),
                ]),
            ],
            Some(Box::new(feed)),
        );
        let mut w = Watcher::new(presence, "desk", WatchOptions::default());
        assert_eq!(w.origin(), Origin::Push);
        assert_eq!(summary(&w.next().await.unwrap()), "a available->away push");
        assert!(w.next().await.is_err());
        assert_eq!(
            summary(&w.next().await.unwrap()),
            "b available->offline poll"
        );
        assert_eq!(summary(&w.next().await.unwrap()), "a away->available push");
        let before = tokio::time::Instant::now();
        assert_eq!(summary(&w.next().await.unwrap()), "c -->away poll");
        assert_eq!(
            before.elapsed(),
            Duration::ZERO,
            "a requested resync waits for nothing"
        );
    }

    /// A feed that asks for a full read again and again (a hostile or confused server) gets at
    /// most one a [`RESYNC_GAP`].
    #[tokio::test(start_paused = true)]
    async fn a_feed_asking_for_full_reads_again_and_again_is_paced() {
        use Availability::*;
        let feed = Feed(
            std::iter::repeat_with(|| Ok(Batch::Resync))
                .take(10)
                .collect(),
        );
        let presence = scripted(
            vec![
                Ok(vec![agent("a", Available, "online")]),
                Ok(vec![agent("a", Away, "away")]),
                Ok(vec![agent("a", Offline, "offline")]),
            ],
            Some(Box::new(feed)),
        );
        let interval = WatchOptions::default().interval;
        let mut w = Watcher::new(presence, "desk", WatchOptions::default());
        let start = tokio::time::Instant::now();
        // the first request is served at once (a feed's read after it connects)
        assert_eq!(summary(&w.next().await.unwrap()), "a available->away poll");
        assert_eq!(start.elapsed(), Duration::ZERO);
        // the next one RESYNC_GAP after it (the interval, 15 s, is longer)
        assert!(interval > RESYNC_GAP);
        assert_eq!(summary(&w.next().await.unwrap()), "a away->offline poll");
        assert_eq!(start.elapsed(), RESYNC_GAP);
    }

    #[tokio::test(start_paused = true)]
    async fn poll_only_ignores_the_feed_and_display_reads_well() {
        use Availability::*;
        let feed = Feed(VecDeque::new());
        let presence = scripted(
            vec![
                Ok(vec![agent("a", Available, "online")]),
                Ok(vec![agent("a", Away, "away")]),
            ],
            Some(Box::new(feed)),
        );
        let mut w = Watcher::new(presence, "support", WatchOptions::default().poll_only(true));
        assert_eq!(w.origin(), Origin::Poll);
        let c = w.next().await.unwrap();
        assert_eq!(
            c.to_string(),
            "scripted/support a (Agent a): available -> away (poll)"
        );
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["before"]["availability"], "available");
        assert_eq!(json["after"]["detail"]["vendor_status"], "away");
        assert_eq!(json["origin"], "poll");
    }

    #[tokio::test(start_paused = true)]
    async fn the_success_clock_measures_by_monotonic_time() {
        let clock = LastSuccess::new();
        assert_eq!(clock.elapsed(), None);
        // a success as of 5 s ago on the wall clock is 5 s old
        let wall = now();
        clock.set(wall - chrono::TimeDelta::seconds(5));
        let age = clock.elapsed().unwrap();
        assert!(
            age >= Duration::from_secs(5) && age < Duration::from_secs(6),
            "{age:?}"
        );
        // time passes on the monotonic clock, whatever the wall clock does meanwhile
        clock.touch();
        tokio::time::advance(Duration::from_millis(1_500)).await;
        assert_eq!(clock.elapsed(), Some(Duration::from_millis(1_500)));
        // one in the future (a clock stepped back since) is now, not a negative age
        clock.set(wall + chrono::TimeDelta::hours(1));
        assert_eq!(clock.elapsed(), Some(Duration::ZERO));
        assert_eq!(clock.get(), Some(wall + chrono::TimeDelta::hours(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn reads_after_the_callers_write_are_diffed_against_it() {
        use Availability::*;
        let presence = scripted(
            vec![
                Ok(vec![agent("a", Available, "online")]),
                // the caller wrote offline; a person set it back before this read
                Ok(vec![agent("a", Available, "online")]),
                Ok(vec![agent("a", Available, "online")]),
            ],
            None,
        );
        let mut w = Watcher::new(
            presence,
            "support",
            WatchOptions::every(Duration::from_secs(1)).with_initial(true),
        );
        assert_eq!(summary(&w.next().await.unwrap()), "a -->available poll");
        w.own_writes().push(agent("a", Offline, "offline"));
        // without the write, the second read is the first one again: no change, ever
        let c = tokio::time::timeout(Duration::from_secs(10), w.next())
            .await
            .expect("the person's change is seen")
            .unwrap();
        assert_eq!(summary(&c), "a offline->available poll");
    }

    #[tokio::test(start_paused = true)]
    async fn a_feeds_agents_after_the_callers_write_are_diffed_against_it() {
        use Availability::*;
        // the feed reports the agent available again: a person set it back after the caller's
        // write (or the caller pushed a read of its own, which the feed then contradicts)
        let feed = Feed(VecDeque::from([Ok(Batch::Changed(vec![agent(
            "a", Available, "online",
        )]))]));
        let presence = scripted(
            vec![Ok(vec![agent("a", Available, "online")])],
            Some(Box::new(feed)),
        );
        let mut w = Watcher::new(
            presence,
            "support",
            WatchOptions::every(Duration::from_secs(1)).with_initial(true),
        );
        assert_eq!(summary(&w.next().await.unwrap()), "a -->available poll");
        w.own_writes().push(agent("a", Offline, "offline"));
        // without the write, the feed's agent is the one last read: no change, ever
        let c = tokio::time::timeout(Duration::from_secs(10), w.next())
            .await
            .expect("the person's change is seen")
            .unwrap();
        assert_eq!(summary(&c), "a offline->available push");
    }

    /// A desk whose reads take `0.1` s (the scripted answers, late).
    struct Slow(Arc<dyn Presence>);

    #[crate::async_trait]
    impl Presence for Slow {
        fn vendor(&self) -> Vendor {
            self.0.vendor()
        }
        fn supported(&self) -> &'static [Availability] {
            &[]
        }
        async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
            self.0.get(agent).await
        }
        async fn set(&self, agent: &str, a: Availability) -> Result<AgentPresence, PresenceError> {
            self.0.set(agent, a).await
        }
        async fn list(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.0.list(filter).await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn writes_pushed_during_a_read_begun_after_their_answers_are_not_changes() {
        use Availability::*;
        // the caller's bulk write: two agents written before the second read began, their
        // outcomes pushed while it runs (a batch recorded after the last answer came)
        let presence: Arc<dyn Presence> = Arc::new(Slow(scripted(
            vec![
                Ok(vec![
                    agent("a", Available, "online"),
                    agent("b", Available, "online"),
                ]),
                Ok(vec![
                    agent("a", Offline, "offline"),
                    agent("b", Offline, "offline"),
                ]),
            ],
            None,
        )));
        let mut w = Watcher::new(
            presence,
            "support",
            WatchOptions::every(Duration::from_secs(1)).with_initial(true),
        );
        assert_eq!(summary(&w.next().await.unwrap()), "a -->available poll");
        assert_eq!(summary(&w.next().await.unwrap()), "b -->available poll");
        let written = w.own_writes();
        let answered = tokio::time::Instant::now();
        let record = async {
            // the first read ended 0.1 s after it began, the second begins a second after
            // it and takes 0.1 s: pushed half way through the second
            tokio::time::sleep(Duration::from_millis(950)).await;
            written.push_at(agent("a", Offline, "offline"), answered);
            written.push_at(agent("b", Offline, "offline"), answered);
        };
        let (next, ()) = tokio::join!(
            tokio::time::timeout(Duration::from_secs(3), w.next()),
            record
        );
        // the read after them shows the writes: nothing changed (the desk is then down)
        assert!(
            !matches!(next, Ok(Ok(_))),
            "sync's own writes reported as changes: {:?}",
            next.map(|c| c.map(|c| summary(&c)))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_pushed_after_a_newer_read_that_found_the_old_state_is_applied() {
        use Availability::*;
        // the caller wrote offline; a person set the agent back at once, so the read after
        // the write's answer finds it as before the write: no change then. The write's outcome
        // is pushed after that read (a batch recorded late, stamped with its answer)
        let presence = scripted(
            vec![
                Ok(vec![agent("a", Available, "online")]),
                Ok(vec![agent("a", Available, "online")]),
                Ok(vec![agent("a", Available, "online")]),
            ],
            None,
        );
        let mut w = Watcher::new(
            presence,
            "support",
            WatchOptions::every(Duration::from_secs(1)).with_initial(true),
        );
        assert_eq!(summary(&w.next().await.unwrap()), "a -->available poll");
        let answered = tokio::time::Instant::now();
        let written = w.own_writes();
        let record = async {
            // after the second read (at 1 s), before the third (at 2 s)
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            written.push_at(agent("a", Offline, "offline"), answered);
        };
        let (c, ()) = tokio::join!(
            tokio::time::timeout(Duration::from_secs(10), w.next()),
            record
        );
        // without it applied, every read is the first one again: the person's change is lost
        let c = c.expect("the person's change is seen").unwrap();
        assert_eq!(summary(&c), "a offline->available poll");
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_pushed_after_a_newer_read_never_hides_a_later_change() {
        use Availability::*;
        let presence = scripted(
            vec![
                Ok(vec![agent("a", Available, "online")]),
                // the caller wrote offline (answered before this read); a person set busy since
                Ok(vec![agent("a", Busy, "busy")]),
                // and then offline, the state the caller wrote
                Ok(vec![agent("a", Offline, "offline")]),
            ],
            None,
        );
        let mut w = Watcher::new(
            presence,
            "support",
            WatchOptions::every(Duration::from_secs(1)).with_initial(true),
        );
        assert_eq!(summary(&w.next().await.unwrap()), "a -->available poll");
        let answered = tokio::time::Instant::now();
        // the write's outcome not pushed yet: the read shows the person's change
        assert_eq!(summary(&w.next().await.unwrap()), "a available->busy poll");
        // pushed late, stamped with its answer: older than the read just made
        w.own_writes()
            .push_at(agent("a", Offline, "offline"), answered);
        let c = tokio::time::timeout(Duration::from_secs(10), w.next())
            .await
            .expect("the person's change to the written state is seen")
            .unwrap();
        assert_eq!(summary(&c), "a busy->offline poll");
    }
}
