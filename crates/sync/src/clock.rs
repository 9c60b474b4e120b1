//! The wall clock the engine stamps its records with, and why it is used for nothing else.
//!
//! A sync process's wall clock can step: NTP corrects a drifted clock by seconds or minutes at
//! once, a virtual machine resumed after a pause jumps forward by the pause, an operator sets
//! the date by hand. The vendors' clocks differ from ours, too. So the engine reads the wall
//! clock ([`WallClock`], the system's by default) only to stamp what it stores for people to
//! read, and never orders, waits or measures by it:
//!
//! | what | by |
//! |---|---|
//! | which change is the last human change (it wins) | the order the engine observed the changes in: each desk's reads in sequence, a cycle's changes decided together (precedence, then desk order), cycles in the order they came; never a vendor's timestamp nor ours |
//! | the order writes are sent in | the decision's id in the outbox (a sequence), not `queued_at` |
//! | reads, intervals, settle time, backoffs, a server's `Retry-After`, the rate limiters | monotonic time (`tokio::time::Instant`) |
//! | a desk's staleness (`/health`), the read age | monotonic time since the desk's last successful read ([`LastSuccess::elapsed`]) |
//! | a desk back after failed reads (its failed writes sent at once) | monotonic time of the failure against that of the next successful read |
//! | lag, from a decision to its last write | monotonic time within one run; a write owed by an earlier run (before a restart) is measured by the wall clock, the only clock two runs share, never below zero (a step between the runs shows in those writes' lag only) |
//! | after a restart, what changed while sync was down | the desks' states compared with the stored states: no time involved, so a clock stepped back or forward across the restart replays nothing and loses nothing |
//! | `seen_at`, `decided_at`, `queued_at`, the decision log's `at` | the wall clock, as stamps for people: after a step they may go backwards; nothing reads them to decide |
//! | a server's wait given as a time (an HTTP-date `Retry-After`, Rocket.Chat's `X-RateLimit-Reset`) | against the server's own clock, its answer's `Date` header, when that is more than a couple of seconds off ours (`agentstatus_runtime::retry::server_wait`) |
//! | Rocket.Chat's presence delta (`users.presence?from=`) | the server's own time from its previous answer's `Date` header |
//! | whether a read may be stale (a state the agent held until lately, a replica's `read_lag`), when an agent is read again | monotonic time: when the state ended (a write's answer, a decision) and when the read began; across a restart the stored states are taken as ended at the start (their stored wall-clock stamps only prune them: older than the read lag and a minute) |
//!
//! [`LastSuccess::elapsed`]: agentstatus_presence::watch::LastSuccess::elapsed

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

/// Where the engine reads the wall time it stamps its records with ([`crate::Options::wall_clock`]).
pub trait WallClock: Send + Sync + fmt::Debug {
    /// Now, as this clock says.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        std::time::SystemTime::now().into()
    }
}

/// A wall clock that is the system's plus an offset the caller steps, forwards or backwards:
/// an NTP step or a resumed virtual machine, for tests and simulations, without waiting for
/// real time to pass. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct SteppedClock {
    /// Milliseconds added to the system's clock.
    offset_ms: Arc<AtomicI64>,
}

impl SteppedClock {
    /// The system's clock, not stepped yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Step the clock by `by` (negative: backwards).
    pub fn step(&self, by: TimeDelta) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }

    /// How far it is from the system's clock now.
    pub fn offset(&self) -> TimeDelta {
        TimeDelta::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl WallClock for SteppedClock {
    fn now(&self) -> DateTime<Utc> {
        SystemClock.now() + self.offset()
    }
}

/// The engine's wall clock, shared.
pub(crate) type Clock = Arc<dyn WallClock>;

pub(crate) fn system() -> Clock {
    Arc::new(SystemClock)
}

/// `at` as the engine stores it (RFC 3339, milliseconds, UTC).
pub(crate) fn stamp_of(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
