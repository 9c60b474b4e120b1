//! Sync's own writes whose outcome is unknown, until they can no longer land: the engine's
//! record of them, so that one landing late, over a state a person (or a newer
//! write of sync's) set after it was sent, is recognised as sync's own late write and undone,
//! never taken for an echo or for a person's change. See the crate docs' rules.
//!
//! A write is *in doubt* from when it is handed to a writer until its answer says what became
//! of it: a success, or a refusal that surely changed nothing ([`in_doubt`]: a 429, a 4xx, a
//! 503, a conflict) ends the doubt; a failure that may have been applied (the client's
//! deadline or timeout, a connection dropped or reset after the request was sent, an answer
//! that could not be read, a 5xx other than 503: a gateway that gave up waiting on a server
//! still working on it) leaves it in doubt for the desk's grace ([`crate::Desk::late_grace`])
//! after that answer. Each such attempt lands at most once: one seen landing (its state shown
//! with nothing decided on the agent since it was sent) is no longer in doubt.
//!
//! Kept in the database (the `doubts` table) and restored on start: an attempt handed out and
//! not answered when the process stopped is in doubt from the restart, for the desk's grace
//! after [`ANSWER_BOUND`] from its hand-out; the others for what is left of their grace.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use agentstatus_presence::{Availability, ErrorKind, PresenceError};
use tokio::time::Instant;

/// How long after a write's failure answer it may still land, unless the desk declares its own
/// ([`crate::Desk::late_grace`], sync.toml `late_write_grace`): 60 s, the upstream timeout a
/// reverse proxy in front of a vendor's server gives the server by default (nginx's
/// `proxy_read_timeout`, an AWS load balancer's idle timeout), past which it stops waiting
/// for the server's work. The client's own deadline has passed when the failure comes back,
/// so a write is in doubt for its deadline plus this grace from when it was sent.
pub const DEFAULT_LATE_GRACE: Duration = Duration::from_secs(60);

/// How long after an attempt is handed to a writer its answer (or its client giving up) comes
/// at most, for an attempt a killed run had on its way: 120 s, four times the clients' default
/// timeout (30 s; an adapter's `set` may read before and after its write). Such an attempt is
/// kept in the database until this and the desk's grace after it was handed out.
pub const ANSWER_BOUND: Duration = Duration::from_secs(120);

/// Whether a write that failed with `e` may still have been applied (or be applied later):
/// its outcome is unknown. A refusal that surely changed nothing is not: 429 (rate limited),
/// a 4xx (input, auth, not found, a conflict), 503 (the server refused the work), an
/// unsupported state. A timeout, a connection dropped or reset after sending, an answer that
/// could not be read (the request was handled), and another 5xx (500, a gateway's 502 or 504:
/// the server behind it may still be working on it) are.
///
/// An adapter's `set` may make several requests (a read before, a read back after): one whose
/// write was answered reports it made even when its read back fails (Rocket.Chat's did not: a
/// 429 of its read route made an applied write a failure, which sync then sent again over a
/// person's change); otherwise a 429 or a 503 of the read back would be taken here for a
/// write not applied.
///
/// Whatever its kind, a failure of a request that could not change state
/// ([`PresenceError::last_request_wrote`] `Some(false)`: a read) is not in doubt: the read
/// before a write failed, so the write was never sent (Engage Digital's `set` reads the agent
/// first; a malformed answer to that read was taken for a write that may land, and a person's
/// setting back within the grace for that write landing late), or the read back after a write
/// the server answered failed, and that write landed when it was answered.
pub fn in_doubt(e: &PresenceError) -> bool {
    if e.last_request_wrote() == Some(false) {
        return false;
    }
    match e.kind() {
        ErrorKind::Network | ErrorKind::InvalidResponse => true,
        ErrorKind::Vendor => e
            .status()
            .is_none_or(|s| (500..600).contains(&s) && s != 503 && s != 501),
        _ => false,
    }
}

/// What became of one attempt of a write, for [`Doubts::answered`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answered {
    /// It landed: written, or found already there.
    Landed,
    /// It failed in a way that may have been applied ([`in_doubt`]).
    InDoubt,
    /// It surely changed nothing (refused, not sent, a dry run).
    Nothing,
    /// A retry found the agent changed by a person since sync last read it, and did not write.
    Moved,
}

/// One state sync wrote (or is writing) to one agent, while an attempt of it may land.
#[derive(Debug, Clone)]
struct Doubt {
    state: Availability,
    /// Its attempts answered with an unknown outcome that have not been seen landing.
    doubtful: u32,
    /// An attempt is on its way (handed out, not answered).
    in_flight: bool,
    /// Until when the doubtful attempts may land (the last one's answer plus the grace).
    until: Option<Instant>,
    /// Another state was decided (a person's change on the desk) or written by sync (a newer
    /// decision) on the agent since this write was sent: were it to land now, it would undo
    /// that.
    overtaken: bool,
}

/// Per (desk, agent): sync's writes in doubt ([`Doubt`]). Kept in the database too (the
/// `doubts` table, schema 3): the keys changed since the last [`Doubts::take_changed`] are
/// written by the engine in the transaction that records what changed them (the hand-out, a
/// write's answer, a decision), and restored on start ([`Doubts::restore`]), so a write of a
/// killed run that lands while sync is down or after the restart is still told from a
/// person's change.
#[derive(Debug, Default)]
pub(crate) struct Doubts(
    HashMap<(usize, String), Vec<Doubt>>,
    HashSet<(usize, String)>,
);

/// One write in doubt as the database keeps it ([`Doubts::take_changed`], [`Doubts::restore`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kept {
    pub(crate) state: Availability,
    /// Attempts answered with an unknown outcome, not seen landing.
    pub(crate) doubtful: u32,
    /// An attempt is on its way (handed out, not answered).
    pub(crate) in_flight: bool,
    /// How long after now the doubtful attempts may land.
    pub(crate) left: Option<Duration>,
    /// Something was decided or written on the agent since it was sent.
    pub(crate) overtaken: bool,
}

impl Doubts {
    /// The writes in doubt of each (desk, agent) changed since the last call (none: its rows
    /// go), for the database.
    pub(crate) fn take_changed(&mut self, now: Instant) -> Vec<((usize, String), Vec<Kept>)> {
        let keys = std::mem::take(&mut self.1);
        keys.into_iter()
            .map(|k| {
                let kept = self.0.get(&k).map_or_else(Vec::new, |list| {
                    list.iter()
                        .map(|d| Kept {
                            state: d.state,
                            doubtful: d.doubtful,
                            in_flight: d.in_flight,
                            left: d.until.map(|u| u.saturating_duration_since(now)),
                            overtaken: d.overtaken,
                        })
                        .collect()
                });
                (k, kept)
            })
            .collect()
    }

    /// A write in doubt kept by an earlier run, restored at `now` (changed: the database gets
    /// it back as this run holds it). An attempt that was on its way when that run stopped is
    /// in doubt: whether it was sent and what became of it is not known.
    pub(crate) fn restore(&mut self, key: (usize, String), k: Kept, now: Instant) {
        let doubtful = k.doubtful + u32::from(k.in_flight);
        let Some(left) = k.left.filter(|_| doubtful > 0) else {
            return;
        };
        let list = self.0.entry(key.clone()).or_default();
        list.retain(|d| d.state != k.state);
        list.push(Doubt {
            state: k.state,
            doubtful,
            in_flight: false,
            until: Some(now + left),
            overtaken: k.overtaken,
        });
        self.1.insert(key);
    }

    /// An attempt of writing `state` to `key` is handed out. `first`: the write's first
    /// attempt (a new decision owes `state`: a late landing of an older write of the same state
    /// is what the rules want now, not an undoing).
    pub(crate) fn sent(&mut self, key: &(usize, String), state: Availability, first: bool) {
        self.1.insert(key.clone());
        let list = self.0.entry(key.clone()).or_default();
        match list.iter_mut().find(|d| d.state == state) {
            Some(d) => {
                d.in_flight = true;
                if first {
                    d.overtaken = false;
                }
            }
            None => list.push(Doubt {
                state,
                doubtful: 0,
                in_flight: true,
                until: None,
                overtaken: false,
            }),
        }
    }

    /// The attempt of writing `state` to `key` was answered at `at`: how. `Some(())` when it
    /// landed over a state decided or written after the write was first sent (a retry that got
    /// through after a person's change, or found sync's late write there): the caller puts
    /// that state back.
    pub(crate) fn answered(
        &mut self,
        key: &(usize, String),
        state: Availability,
        how: Answered,
        at: Instant,
        grace: Duration,
    ) -> bool {
        if how == Answered::Landed {
            // every other write to the agent is overtaken by this one
            self.overtake(key, state);
        }
        let Some(list) = self.0.get_mut(key) else {
            return false;
        };
        let Some(i) = list.iter().position(|d| d.state == state) else {
            return false;
        };
        self.1.insert(key.clone());
        let d = &mut list[i];
        d.in_flight = false;
        let mut late = false;
        match how {
            Answered::Landed => late = d.overtaken,
            Answered::InDoubt => {
                d.doubtful += 1;
                d.until = Some(at + grace);
            }
            Answered::Moved => d.overtaken = true,
            Answered::Nothing => {}
        }
        if d.doubtful == 0 {
            list.remove(i);
        }
        if list.is_empty() {
            self.0.remove(key);
        }
        late
    }

    /// The attempts of writes to `key` on their way were abandoned at `at` (their writer
    /// stopped): in doubt.
    pub(crate) fn abandoned(&mut self, key: &(usize, String), at: Instant, grace: Duration) {
        if let Some(list) = self.0.get_mut(key) {
            self.1.insert(key.clone());
            for d in list.iter_mut().filter(|d| d.in_flight) {
                d.in_flight = false;
                d.doubtful += 1;
                d.until = Some(at + grace);
            }
        }
    }

    /// `key` holds `state` now, decided (a person's change on the desk) or written by sync:
    /// every other write to it in doubt would undo it by landing.
    pub(crate) fn overtake(&mut self, key: &(usize, String), state: Availability) {
        if let Some(list) = self.0.get_mut(key) {
            for d in list.iter_mut().filter(|d| d.state != state && !d.overtaken) {
                d.overtaken = true;
                self.1.insert(key.clone());
            }
        }
    }

    /// A read shows `key` holding `state`, another state than the one sync knew. `true` when
    /// that is a write of sync's in doubt landing late over a state decided or written after it
    /// was sent (one of its doubtful attempts, now seen landing, is no longer in doubt): the
    /// caller puts that state back. `false` otherwise; a doubtful attempt of `state` seen
    /// landing with nothing decided since is no longer in doubt either (it landed: an echo).
    pub(crate) fn landed_late(&mut self, key: &(usize, String), state: Availability) -> bool {
        self.expire(Instant::now());
        let Some(list) = self.0.get_mut(key) else {
            return false;
        };
        let Some(i) = list.iter().position(|d| d.state == state && d.doubtful > 0) else {
            return false;
        };
        self.1.insert(key.clone());
        let d = &mut list[i];
        d.doubtful -= 1;
        let late = d.overtaken;
        if d.doubtful == 0 && !d.in_flight {
            list.remove(i);
        }
        if list.is_empty() {
            self.0.remove(key);
        }
        late
    }

    /// Forget the doubtful attempts whose grace is over (they can no longer land).
    pub(crate) fn expire(&mut self, now: Instant) {
        self.0.retain(|_, list| {
            list.retain(|d| d.in_flight || d.until.is_some_and(|u| u > now));
            !list.is_empty()
        });
    }

    /// Writes in doubt now (for tests and logs).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Availability::*;

    const GRACE: Duration = Duration::from_secs(60);

    fn key() -> (usize, String) {
        (1, "a".to_string())
    }

    #[test]
    fn a_failed_write_landing_over_a_later_change_is_late_once() {
        let mut d = Doubts::default();
        d.sent(&key(), Offline, true);
        assert!(!d.answered(&key(), Offline, Answered::InDoubt, Instant::now(), GRACE));
        // a person's change on the desk, decided
        d.overtake(&key(), Busy);
        assert!(d.landed_late(&key(), Offline), "late, over their change");
        // one attempt lands once: the person setting offline again is theirs
        assert!(!d.landed_late(&key(), Offline));
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn a_failed_write_seen_landing_before_any_change_is_an_echo_and_no_longer_in_doubt() {
        let mut d = Doubts::default();
        d.sent(&key(), Offline, true);
        d.answered(&key(), Offline, Answered::InDoubt, Instant::now(), GRACE);
        assert!(!d.landed_late(&key(), Offline), "it landed: sync's own");
        d.overtake(&key(), Busy);
        assert!(!d.landed_late(&key(), Offline), "a person's, later");
    }

    #[test]
    fn refusals_and_successes_leave_nothing_in_doubt() {
        let mut d = Doubts::default();
        for how in [Answered::Nothing, Answered::Landed, Answered::Moved] {
            d.sent(&key(), Offline, true);
            assert!(!d.answered(&key(), Offline, how, Instant::now(), GRACE));
            d.overtake(&key(), Busy);
            assert!(!d.landed_late(&key(), Offline), "{how:?}");
            assert_eq!(d.len(), 0, "{how:?}");
        }
    }

    #[test]
    fn a_retry_that_lands_after_a_change_was_decided_is_late() {
        let mut d = Doubts::default();
        d.sent(&key(), Offline, true);
        d.answered(&key(), Offline, Answered::InDoubt, Instant::now(), GRACE);
        d.sent(&key(), Offline, false);
        d.overtake(&key(), Busy);
        assert!(d.answered(&key(), Offline, Answered::Landed, Instant::now(), GRACE));
        // a new decision writing offline again: its landing is wanted
        d.sent(&key(), Offline, true);
        assert!(!d.answered(&key(), Offline, Answered::Landed, Instant::now(), GRACE));
        assert!(!d.landed_late(&key(), Offline));
    }

    #[test]
    fn a_newer_write_of_sync_overtakes_an_older_one_in_doubt() {
        let mut d = Doubts::default();
        d.sent(&key(), Offline, true);
        d.answered(&key(), Offline, Answered::InDoubt, Instant::now(), GRACE);
        d.sent(&key(), Available, true);
        assert!(!d.answered(&key(), Available, Answered::Landed, Instant::now(), GRACE));
        assert!(d.landed_late(&key(), Offline));
    }

    #[test]
    fn the_doubt_ends_with_the_grace() {
        let mut d = Doubts::default();
        d.sent(&key(), Offline, true);
        let long_ago = Instant::now() - Duration::from_secs(61);
        d.answered(&key(), Offline, Answered::InDoubt, long_ago, GRACE);
        d.overtake(&key(), Busy);
        assert!(
            !d.landed_late(&key(), Offline),
            "past the grace: a person's"
        );
        assert_eq!(d.len(), 0);
    }

    /// What a run keeps of its writes in doubt, restored by the next: an attempt on its way
    /// when it stopped is in doubt, the decided change it would undo still known.
    #[test]
    fn writes_in_doubt_are_kept_and_restored() {
        let mut d = Doubts::default();
        d.sent(&key(), Offline, true);
        let now = Instant::now();
        let kept = d.take_changed(now);
        assert_eq!(kept.len(), 1);
        assert_eq!(
            kept[0].1,
            vec![Kept {
                state: Offline,
                doubtful: 0,
                in_flight: true,
                left: None,
                overtaken: false
            }]
        );
        assert!(d.take_changed(now).is_empty(), "nothing changed since");
        d.overtake(&key(), Busy);
        let kept = d.take_changed(now);
        assert!(kept[0].1[0].overtaken);
        // the process killed: the next one restores it, in doubt for what is left
        let mut next = Doubts::default();
        next.restore(
            key(),
            Kept {
                left: Some(GRACE),
                ..kept[0].1[0]
            },
            Instant::now(),
        );
        assert!(next.landed_late(&key(), Offline), "late, over their change");
        assert!(!next.landed_late(&key(), Offline), "once");
        // answered, not overtaken: its landing is an echo
        let mut next = Doubts::default();
        next.restore(
            key(),
            Kept {
                state: Offline,
                doubtful: 1,
                in_flight: false,
                left: Some(GRACE),
                overtaken: false,
            },
            Instant::now(),
        );
        assert!(!next.landed_late(&key(), Offline));
        // nothing left of its time: not restored
        let mut next = Doubts::default();
        next.restore(
            key(),
            Kept {
                state: Offline,
                doubtful: 1,
                in_flight: false,
                left: None,
                overtaken: true,
            },
            Instant::now(),
        );
        assert_eq!(next.len(), 0);
    }

    #[test]
    fn what_is_in_doubt() {
        use agentstatus_presence::{Failure, Vendor};
        let v = || Vendor::new("x");
        let http = |status| {
            PresenceError::new(
                v(),
                Failure::Http {
                    status,
                    code: None,
                    message: None,
                },
            )
        };
        let net = PresenceError::new(
            v(),
            Failure::Network {
                message: "operation timed out".into(),
            },
        );
        assert!(in_doubt(&net));
        for s in [500, 502, 504] {
            assert!(in_doubt(&http(s)), "{s}");
        }
        for s in [400, 401, 404, 409, 429, 501, 503] {
            assert!(!in_doubt(&http(s)), "{s}");
        }
        // a read that failed (before the write, or reading it back) leaves nothing to land;
        // a write's failure does, and so does one not known to come from a request
        let malformed = || {
            PresenceError::new(
                v(),
                Failure::InvalidResponse {
                    status: Some(200),
                    message: "expected value at line 1 column 1".into(),
                },
            )
        };
        assert!(!in_doubt(&net.clone().with_last_request_wrote(false)));
        assert!(!in_doubt(&malformed().with_last_request_wrote(false)));
        assert!(!in_doubt(&http(502).with_last_request_wrote(false)));
        assert!(in_doubt(&net.with_last_request_wrote(true)));
        assert!(in_doubt(&malformed().with_last_request_wrote(true)));
        assert!(in_doubt(&malformed()));
    }
}
