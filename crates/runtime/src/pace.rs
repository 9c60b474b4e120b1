//! The [`Pacer`]: what every attempt of a client with a declared [`RateLimit`] waits for.
//!
//! Two rules, both checked when an attempt is about to be sent:
//!
//! 1. **The pace.** [`RateLimit::paced`] attempts per `per`, evenly spaced (one every
//!    `per / paced`). The schedule may fall behind by at most [`RateLimit::catch_up`] attempts:
//!    time lost to a stall (the process not scheduled, every slot waiting on slow answers, no
//!    attempt ready) is caught up, that many attempts at once at most, instead of lost for good.
//!    Over any span of time `w`, at most `catch_up + w * paced / per` attempts are sent.
//! 2. **The window.** An attempt is sent only while fewer than `requests` (the declared limit)
//!    attempts the server could count in one window with it are known: those in flight (sent,
//!    no answer yet) and those answered less than `per` ago.
//!
//! The second rule is what makes a 429 impossible, whatever the latency, the bunching of
//! answers or the catch-up. The server counts an attempt at some moment after the client sent
//! it and before the client got its answer. Take any window of length `per` at the server,
//! `[t, t + per]`, and among the attempts it counts the one sent last, at `g`, counted at
//! `s <= t + per`. Every other attempt counted in the window was sent before `g`, and answered
//! at `r >= t >= s - per >= g - per`: when the last one was sent, each of the others was either
//! in flight or answered less than `per` earlier, so the pacer counted it, and let the last one
//! go only because it counted fewer than `requests`. The window holds at most `requests`
//! attempts — whether the server counts in sliding windows, in fixed windows on its clock
//! (Chatwoot's Rack::Attack), or in windows that start with the first request after the last
//! one ended (Engage Digital, Rocket.Chat). Two assumptions, both conservative here: the
//! server's `per` is no longer than the client's by more than a thousandth (an answered attempt
//! counts that much longer), and an attempt given up without an answer (a timeout, a dropped
//! connection) is counted by the server, if ever, within `per` of being given up (it counts for
//! two windows).
//!
//! The pace keeps the client [`MARGIN_PERCENT`](crate::MARGIN_PERCENT) under the limit, so the
//! window rule waits only when answers are slow: with answers taking `d` on average, it holds
//! the client back once `paced * (per + d) / per` reaches `requests`, that is once `d` exceeds
//! `per * (requests - paced) / paced` (31 ms for 200 a second, 1.9 s for 500 a minute).

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::RateLimit;

/// Paces one client's attempts under its declared [`RateLimit`] (see the [module](self) docs);
/// shared by the client's clones. Made by [`RateLimit::pacer`].
#[derive(Debug)]
pub struct Pacer {
    /// The declared limit: attempts the server allows in one window.
    requests: usize,
    /// How long an answered attempt still counts: `per`, and a thousandth of it for clocks that
    /// disagree on how long `per` is.
    counts_for: Duration,
    /// One attempt every `spacing`.
    spacing: Duration,
    /// How far behind its schedule the pace may be: `(catch_up - 1) * spacing`.
    tolerance: Duration,
    state: Mutex<State>,
    /// Waiters take turns, first come first served: only the first one sleeps on the schedule.
    turn: tokio::sync::Mutex<()>,
    /// An attempt ended (its answer came, or it was given up).
    ended: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// When the next attempt is due on the even schedule (`None` before the first).
    due: Option<Instant>,
    /// When each answered attempt stops counting, oldest first.
    answered: VecDeque<Instant>,
    /// The same for attempts given up without an answer.
    abandoned: VecDeque<Instant>,
    /// Attempts sent and not answered or given up yet.
    in_flight: usize,
}

/// `at + span`, or as far as an `Instant` goes (a window of centuries is a window that never
/// ends; never a panic).
fn later(at: Instant, span: Duration) -> Instant {
    at.checked_add(span)
        .or_else(|| at.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(at)
}

impl State {
    /// Drop what no longer counts at `now`.
    fn forget(&mut self, now: Instant) {
        while self.answered.front().is_some_and(|t| *t <= now) {
            self.answered.pop_front();
        }
        while self.abandoned.front().is_some_and(|t| *t <= now) {
            self.abandoned.pop_front();
        }
    }

    /// Attempts that could share a server window with one sent now.
    fn counted(&self) -> usize {
        self.in_flight + self.answered.len() + self.abandoned.len()
    }

    /// When `n` of the answered and abandoned attempts will have stopped counting; `None` when
    /// fewer than `n` are answered or abandoned (an attempt in flight must end first).
    fn room_at(&self, n: usize) -> Option<Instant> {
        if n == 0 || self.answered.len() + self.abandoned.len() < n {
            return None;
        }
        // the n-th earliest of two sorted queues
        let (mut a, mut b) = (
            self.answered.iter().peekable(),
            self.abandoned.iter().peekable(),
        );
        let mut last = None;
        for _ in 0..n {
            last = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x <= y => a.next(),
                (Some(_), Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, _) => b.next(),
            };
        }
        last.copied()
    }
}

impl Pacer {
    /// A pacer for `limit`; `None` when it allows nothing (zero requests, or a zero window).
    pub fn new(limit: &RateLimit) -> Option<Self> {
        let paced = limit.paced();
        if paced == 0 || limit.per.is_zero() {
            return None;
        }
        let spacing = limit.per.checked_div(paced)?;
        let tolerance = spacing.saturating_mul(limit.catch_up().saturating_sub(1));
        Some(Self {
            requests: usize::try_from(limit.requests).unwrap_or(usize::MAX),
            counts_for: limit.per.saturating_add(limit.per / 1000),
            spacing,
            tolerance,
            state: Mutex::new(State::default()),
            turn: tokio::sync::Mutex::new(()),
            ended: Notify::new(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wait until one more attempt may be sent; the [`Permit`] is that attempt, until it is
    /// answered ([`Permit::answered`]) or dropped (given up without an answer).
    pub async fn acquire(&self) -> Permit<'_> {
        let asked = Instant::now();
        let _turn = self.turn.lock().await;
        // what the last wait was for (`true`: the window rule), for the trace below
        let mut window = false;
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            let wait = {
                let mut s = self.state();
                let now = Instant::now();
                s.forget(now);
                // rule 1: the even schedule, allowed to be `tolerance` behind
                let paced_from = s
                    .due
                    .map(|due| due.checked_sub(self.tolerance).unwrap_or(due));
                let pace = paced_from.filter(|at| *at > now);
                // rule 2: fewer than `requests` counted
                let counted = s.counted();
                if pace.is_none() && counted < self.requests {
                    let from = s.due.map_or(now, |due| due.max(now));
                    s.due = Some(later(from, self.spacing));
                    s.in_flight += 1;
                    let waited = now.saturating_duration_since(asked);
                    if waited >= Duration::from_millis(1) {
                        tracing::trace!(
                            target: "agentstatus_runtime::pace",
                            waited_us = waited.as_micros() as u64,
                            window,
                            in_flight = s.in_flight,
                            counted = s.counted(),
                            "waited"
                        );
                    }
                    return Permit {
                        pacer: self,
                        answered: false,
                        sent: now,
                    };
                }
                let room = if counted < self.requests {
                    Some(now)
                } else {
                    s.room_at(counted + 1 - self.requests)
                };
                window = counted >= self.requests;
                match (pace, room) {
                    (Some(p), Some(r)) => Some(p.max(r)),
                    (None, Some(r)) => Some(r),
                    (p, None) => {
                        // an attempt in flight must end first; the pace too, if it says later
                        debug_assert!(counted >= self.requests);
                        let _ = p;
                        None
                    }
                }
            };
            match wait {
                // until then, or until an attempt ends (which may tell when there is room)
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, &mut ended).await;
                }
                None => ended.await,
            }
        }
    }

    fn end(&self, answered: bool, sent: Instant) {
        {
            let mut s = self.state();
            s.in_flight = s.in_flight.saturating_sub(1);
            let now = Instant::now();
            tracing::trace!(
                target: "agentstatus_runtime::pace",
                latency_us = now.saturating_duration_since(sent).as_micros() as u64,
                answered,
                "ended"
            );
            if answered {
                s.answered.push_back(later(now, self.counts_for));
            } else {
                s.abandoned
                    .push_back(later(now, self.counts_for.saturating_mul(2)));
            }
        }
        self.ended.notify_one();
    }
}

/// One attempt the [`Pacer`] let go: counted as in flight until [`Permit::answered`], or, when
/// dropped without it, as given up (counted two windows, since the server may still count it).
#[derive(Debug)]
#[must_use = "the attempt counts as in flight until the permit is answered or dropped"]
pub struct Permit<'a> {
    pacer: &'a Pacer,
    answered: bool,
    /// When the pacer let it go (the trace's latency counts from it).
    sent: Instant,
}

impl Permit<'_> {
    /// The attempt's answer came (the server counted it before answering).
    pub fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.pacer.end(self.answered, self.sent);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn limit(requests: u32, per_ms: u64) -> RateLimit {
        RateLimit {
            requests,
            per: Duration::from_millis(per_ms),
        }
    }

    impl Pacer {
        /// The pace alone, without the window rule (what the client had before): for showing
        /// that the window rule is what keeps the simulated server's windows within the limit.
        fn without_window(mut self) -> Self {
            self.requests = usize::MAX;
            self
        }
    }

    /// The most attempts counted within any closed window of length `per`.
    fn most_in_a_window(mut counted: Vec<Instant>, per: Duration) -> usize {
        counted.sort();
        let mut most = 0;
        let mut j = 0;
        for i in 0..counted.len() {
            while j < counted.len() && counted[j] - counted[i] <= per {
                j += 1;
            }
            most = most.max(j - i);
        }
        most
    }

    /// 32 workers at full speed through one pacer to a simulated server that counts each
    /// attempt at a random moment between its sending and its answer (answers from 0 to 300
    /// ms, some much later), workers that stall and then come back at once, attempts given up
    /// without an answer: the attempts the server counted, and how many were sent.
    async fn simulate(pacer: Arc<Pacer>, seed: u64, run: Duration) -> Vec<Instant> {
        let counted = Arc::new(Mutex::new(Vec::new()));
        let end = Instant::now() + run;
        let mut workers = tokio::task::JoinSet::new();
        for w in 0..32u64 {
            let pacer = pacer.clone();
            let counted = counted.clone();
            workers.spawn(async move {
                let mut rng = fastrand::Rng::with_seed(seed * 1000 + w);
                while Instant::now() < end {
                    // now and then a worker stalls (the process not scheduled, a slow step)
                    if rng.u32(0..20) == 0 {
                        tokio::time::sleep(Duration::from_millis(rng.u64(0..700))).await;
                    }
                    let permit = pacer.acquire().await;
                    // on its way: usually short, sometimes held up for long
                    let to_server = if rng.u32(0..10) == 0 {
                        rng.u64(100..900)
                    } else {
                        rng.u64(0..40)
                    };
                    tokio::time::sleep(Duration::from_millis(to_server)).await;
                    counted.lock().unwrap().push(Instant::now());
                    let back = rng.u64(0..60);
                    tokio::time::sleep(Duration::from_millis(back)).await;
                    if rng.u32(0..50) == 0 {
                        // given up without an answer (a timeout): the server did count it
                        drop(permit);
                    } else {
                        permit.answered();
                    }
                }
            });
        }
        while workers.join_next().await.is_some() {}
        counted.lock().unwrap().clone()
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_at_the_server_ever_holds_more_than_the_limit() {
        let l = limit(20, 1000);
        for seed in 0..4 {
            let pacer = Arc::new(Pacer::new(&l).unwrap());
            let counted = simulate(pacer, seed, Duration::from_secs(60)).await;
            let most = most_in_a_window(counted.clone(), l.per);
            assert!(
                most <= 20,
                "seed {seed}: {most} attempts counted in one window of 1 s"
            );
            // and the pacer is not simply slow: most of the pace is kept despite the stalls
            // and the slow answers (19 a second: at least 15 a second over the minute)
            assert!(
                counted.len() >= 60 * 15,
                "seed {seed}: only {} attempts",
                counted.len()
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_pace_alone_lets_bunched_attempts_exceed_the_window() {
        // the same simulation without the window rule: the slow attempts land with the later
        // ones and some window holds more than the limit (what 32 writes in flight did)
        let l = limit(20, 1000);
        let mut exceeded = 0;
        for seed in 0..4 {
            let pacer = Arc::new(Pacer::new(&l).unwrap().without_window());
            let counted = simulate(pacer, seed, Duration::from_secs(60)).await;
            if most_in_a_window(counted, l.per) > 20 {
                exceeded += 1;
            }
        }
        assert!(
            exceeded > 0,
            "the simulation never bunched attempts beyond the window"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_pace_is_even_and_a_stall_is_caught_up_to_its_allowance() {
        let l = limit(200, 1000);
        let catch_up = l.catch_up() as usize;
        assert_eq!(catch_up, 19, "a tenth of 194 a second");
        let pacer = Pacer::new(&l).unwrap();
        let spacing = Duration::from_secs(1) / 194;
        // from idle: `catch_up` at once, then one every spacing
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..catch_up + 10 {
            pacer.acquire().await.answered();
            at.push(Instant::now() - start);
        }
        assert!(at[..catch_up].iter().all(|t| t.is_zero()), "{at:?}");
        // the k-th after the burst is due at k spacings (the timer wakes to the millisecond)
        for (k, t) in at[catch_up - 1..].iter().enumerate() {
            let due = spacing * k as u32;
            assert!(
                *t >= due && *t < due + Duration::from_millis(1),
                "{k}: {t:?} {at:?}"
            );
        }
        // a stall of 50 ms (about 10 attempts' worth): caught up at once, the schedule resumed
        tokio::time::sleep(Duration::from_millis(50)).await;
        let resumed = Instant::now();
        let mut burst = 0;
        while {
            pacer.acquire().await.answered();
            Instant::now() == resumed
        } {
            burst += 1;
        }
        assert!(
            (9..=11).contains(&burst),
            "{burst} caught up after a 50 ms stall"
        );
        // a long stall is caught up only to the allowance
        tokio::time::sleep(Duration::from_secs(5)).await;
        let resumed = Instant::now();
        let mut burst = 0;
        while {
            pacer.acquire().await.answered();
            Instant::now() == resumed
        } {
            burst += 1;
        }
        // the window rule allows 200 answered within a second: the pace decides here
        assert_eq!(burst, catch_up, "after a 5 s stall");
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_in_flight_and_answered_within_the_window_hold_the_next_one() {
        // 3 a second declared (paced 2, no catch-up): the window counts 3 at most
        let l = limit(3, 1000);
        let pacer = Arc::new(Pacer::new(&l).unwrap());
        let start = Instant::now();
        let a = pacer.acquire().await;
        let b = pacer.acquire().await;
        let c = pacer.acquire().await;
        // three in flight: the fourth waits for one of them to end, and then a whole window
        let waiting = tokio::spawn({
            let pacer = pacer.clone();
            async move {
                pacer.acquire().await.answered();
                Instant::now()
            }
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!waiting.is_finished(), "sent while three were in flight");
        a.answered();
        let answered = Instant::now();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!waiting.is_finished(), "sent within a window of an answer");
        let sent = waiting.await.unwrap();
        assert!(sent - answered > l.per, "{:?}", sent - answered);
        assert!(sent - answered <= l.per + Duration::from_millis(10));
        // an attempt given up counts for two windows
        drop(b);
        c.answered();
        let _ = start;
    }
}
