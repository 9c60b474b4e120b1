//! What a simulation did and what sync saw and wrote, for its failure report.
//!
//! Every simulation's [`Fakes`](super::Fakes) keep a [`Journal`]: the script's changes (with
//! their times), the test's other events (kills, restarts, faults queued or switched on), and,
//! through [`Recorded`] (each desk's adapter wrapped, nothing else changed), every observation
//! sync made of each agent (a list's answer where the agent's state differs from that desk's
//! previous answer, every read of one agent, every item of a change feed) and every write it
//! sent with its outcome. When a simulation fails (any panic while the fakes are alive), the
//! fakes write the report to [`Journal::path`] (under the target directory): the seed and how
//! to replay it, the events, the failing people's whole history (script, observations per desk,
//! the engine's decisions from the store's decision log, sync's writes and their outcomes, and
//! every request the fakes received for their agents with the fault it met and the status
//! answered), the faults the fakes answered, and every person's script in one line. The panic's
//! message stays a summary and names the file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use agentstatus_presence::bulk::{BulkOptions, BulkResult};
use agentstatus_presence::watch::{Batch, ChangeFeed, Origin, WatchOptions};
use agentstatus_presence::{
    AgentPresence, Availability, DetailField, ListFilter, Presence, PresenceError, SetRequest,
    Vendor,
};
use agentstatus_sync::Store;

/// One line of a person's or a desk's history: when, and what.
#[derive(Debug, Clone)]
struct Line {
    at: Instant,
    text: String,
}

#[derive(Debug, Default)]
struct Inner {
    /// The test's own events (kills, restarts, faults queued or switched on).
    events: Vec<Line>,
    /// Per person, the script's changes.
    script: HashMap<usize, Vec<Line>>,
    /// Per (desk, agent), what sync observed (changes of a list's answer, every read of the
    /// agent alone, every feed item) and wrote.
    agent: HashMap<(String, String), Vec<Line>>,
    /// Per (desk, agent), the last state a list or a feed showed (recorded where it differs).
    listed: HashMap<(String, String), String>,
    /// Per (desk, agent), the last state a change feed reported.
    fed: HashMap<(String, String), String>,
    /// Per desk, reads that failed (the whole desk's list, a feed).
    failed_reads: HashMap<String, Vec<Line>>,
    /// The people a failure names (the report gives their whole history).
    suspects: Vec<usize>,
    /// The database the engine keeps its state in.
    db: Option<PathBuf>,
    /// Set once the report is written.
    written: bool,
}

/// A simulation's record (see the module's docs).
#[derive(Debug)]
pub struct Journal {
    pub name: String,
    pub seed: u64,
    pub t0: Instant,
    inner: Mutex<Inner>,
}

/// The last panic's message and place (a report's summary), kept by a hook installed with the
/// first journal; the default hook still prints it.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// The message of the panic being handled (the failure a report is written for).
pub fn last_panic() -> Option<String> {
    LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

fn keep_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(info.to_string());
            previous(info);
        }));
    });
}

impl Journal {
    pub fn new(name: &str, seed: u64) -> Arc<Self> {
        keep_panics();
        Arc::new(Journal {
            name: name.to_string(),
            seed,
            t0: Instant::now(),
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // a report is written while panicking: a poisoned lock still holds the record
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the report of a failure is written: under the target directory, one file per
    /// simulation and seed.
    pub fn path(&self) -> PathBuf {
        Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("sync-simulations")
            .join(format!("{}-{}.txt", self.name, self.seed))
    }

    /// The words a failure's message ends with: the seed to replay and the report's file.
    pub fn on_fail(&self) -> String {
        format!(
            "({}: replay with SYNC_SIM_SEED={}; the whole history in {})",
            self.name,
            self.seed,
            self.path().display()
        )
    }

    /// The database the engine keeps its state in (its decision log is in the report).
    pub fn set_db(&self, db: &Path) {
        self.lock().db = Some(db.to_path_buf());
    }

    /// The test did something (killed the engine, queued faults, took a desk down).
    pub fn event(&self, text: impl Into<String>) {
        self.lock().events.push(Line {
            at: Instant::now(),
            text: text.into(),
        });
    }

    /// The script changed person `p` (by hand on a desk).
    pub fn script(&self, p: usize, text: impl Into<String>) {
        self.lock().script.entry(p).or_default().push(Line {
            at: Instant::now(),
            text: text.into(),
        });
    }

    /// A failure is about these people: the report gives their whole history.
    pub fn suspect(&self, people: impl IntoIterator<Item = usize>) {
        let mut inner = self.lock();
        for p in people {
            if !inner.suspects.contains(&p) {
                inner.suspects.push(p);
            }
        }
    }

    /// The people named at the start of lines like `p12 on desk 1: ...` or `p12: ...` are now
    /// the ones a failure is about (replacing those named before: the last look at who is
    /// wrong is the one a failure is about).
    pub fn suspect_named(&self, lines: &[String]) {
        let named: Vec<usize> = lines
            .iter()
            .filter_map(|w| {
                let digits: String = w
                    .strip_prefix('p')?
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                digits.parse().ok()
            })
            .collect();
        let mut inner = self.lock();
        inner.suspects.clear();
        for p in named {
            if !inner.suspects.contains(&p) {
                inner.suspects.push(p);
            }
        }
    }

    /// Whether sync sent `written` to `agent` of `desk` again after `since` (when a person set
    /// the agent back by hand, right after the write of it showed) without having learnt that
    /// the write before landed, for a reason no reader of the desk could see through: the
    /// write's answer was lost on its way (`exchanges`, the desk's fake's log: the request
    /// that landed met a fault that loses or spoils the answer, or a slow server a client may
    /// have given up on), or the engine was killed between that write and the write again
    /// (what it learnt was lost with it). A write acknowledged cleanly and still sent again is
    /// not so: that is a bug (an adapter that reported a landed write as failed).
    pub fn resent_blind(
        &self,
        desk: &str,
        agent: &str,
        written: Availability,
        since: Instant,
        exchanges: &[agentstatus_fakes::Exchange],
    ) -> bool {
        let inner = self.lock();
        let Some(lines) = inner.agent.get(&(desk.to_string(), agent.to_string())) else {
            return false;
        };
        let sends = format!("sync sends {written}");
        let Some(again) = lines.iter().find(|l| l.at > since && l.text == sends) else {
            return false;
        };
        let Some(landed) = lines
            .iter()
            .rev()
            .find(|l| l.at <= since && l.text == sends)
        else {
            return false;
        };
        let killed = inner
            .events
            .iter()
            .any(|e| e.text.contains("engine killed") && e.at >= landed.at && e.at <= again.at);
        // the write that landed: the last one the fake received for the agent before `since`
        let lost = exchanges
            .iter()
            .rev()
            .find(|x| x.at <= since && x.method != "GET" && names_agent(x, agent))
            .is_none_or(|x| x.fault.is_some() || x.status.is_none_or(|s| !(200..300).contains(&s)));
        let answered = format!("sync wrote {written}");
        let learnt = lines.iter().any(|l| {
            l.at > landed.at
                && l.at <= again.at
                && l.text.starts_with(&answered)
                && l.text.contains(": answered")
        });
        killed || (lost && !learnt)
    }

    fn agent_line(&self, desk: &str, agent: &str, text: String) {
        self.lock()
            .agent
            .entry((desk.to_string(), agent.to_string()))
            .or_default()
            .push(Line {
                at: Instant::now(),
                text,
            });
    }

    fn listed(&self, desk: &str, agents: &[AgentPresence], how: &str) {
        let at = Instant::now();
        let mut inner = self.lock();
        for a in agents {
            let key = (desk.to_string(), a.agent_id.clone());
            let state = state_of(a);
            if inner.listed.get(&key) == Some(&state) {
                continue;
            }
            inner.listed.insert(key.clone(), state.clone());
            inner.agent.entry(key).or_default().push(Line {
                at,
                text: format!("{how} shows {state}"),
            });
        }
    }

    fn fed(&self, desk: &str, agents: &[AgentPresence]) {
        let at = Instant::now();
        let mut inner = self.lock();
        for a in agents {
            let key = (desk.to_string(), a.agent_id.clone());
            let state = state_of(a);
            if inner.fed.get(&key) == Some(&state) {
                continue;
            }
            inner.fed.insert(key.clone(), state.clone());
            inner.listed.insert(key.clone(), state.clone());
            inner.agent.entry(key).or_default().push(Line {
                at,
                text: format!("the feed says {state}"),
            });
        }
    }

    fn failed_read(&self, desk: &str, text: String) {
        self.lock()
            .failed_reads
            .entry(desk.to_string())
            .or_default()
            .push(Line {
                at: Instant::now(),
                text,
            });
    }

    fn ms(&self, at: Instant) -> String {
        let d = at.saturating_duration_since(self.t0);
        format!("{:>7.3}s", d.as_secs_f64())
    }

    /// Write the report (once): `summary` first, then the history of the suspects (or, when a
    /// failure named no one, of the people sync wrote most for), the faults the fakes met, and
    /// every person's script. `agents` gives a person's agent on each desk; `exchanges` the
    /// requests each desk's fake received.
    pub fn write_report(
        &self,
        summary: &str,
        agents: &dyn Fn(usize) -> Vec<(String, String)>,
        exchanges: &[(String, Vec<agentstatus_fakes::Exchange>)],
    ) -> Option<PathBuf> {
        let mut inner = self.lock();
        if inner.written {
            return None;
        }
        inner.written = true;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "sync simulation `{}` failed, seed {}\nreplay: SYNC_SIM_SEED={} (SYNC_SIM_VERBOSE=1 for the engine's log)\n{summary}\n",
            self.name, self.seed, self.seed
        );
        let decisions = inner
            .db
            .as_ref()
            .map(|db| Store::open_read_only(db).and_then(|s| s.read(|t| t.decisions())));
        match (&inner.db, &decisions) {
            (Some(db), Some(Ok(d))) => {
                let _ = writeln!(
                    out,
                    "database: {} ({} decisions; kept after a failure)",
                    db.display(),
                    d.len()
                );
            }
            (Some(db), Some(Err(e))) => {
                let _ = writeln!(out, "database: {}: cannot read it: {e}", db.display());
            }
            _ => {}
        }
        let decisions = match decisions {
            Some(Ok(d)) => d,
            _ => Vec::new(),
        };
        let _ = writeln!(out, "\n== the test's events (times from its start)");
        for l in &inner.events {
            let _ = writeln!(out, "{} {}", self.ms(l.at), l.text);
        }
        let mut suspects = inner.suspects.clone();
        if suspects.is_empty() {
            // no one named: the people sync wrote most for, beyond their script
            let mut writes: HashMap<usize, i64> = HashMap::new();
            for p in inner.script.keys() {
                let sent: i64 = agents(*p)
                    .iter()
                    .map(|k| {
                        inner.agent.get(k).map_or(0, |l| {
                            l.iter()
                                .filter(|l| l.text.starts_with("sync wrote"))
                                .count() as i64
                        })
                    })
                    .sum();
                writes.insert(*p, sent - 2 * inner.script[p].len() as i64);
            }
            let mut ranked: Vec<(usize, i64)> = writes.into_iter().collect();
            ranked.sort_by_key(|(p, n)| (-n, *p));
            suspects = ranked.into_iter().take(3).map(|(p, _)| p).collect();
            let _ = writeln!(
                out,
                "\n(no person named by the failure: the histories of those sync wrote most for, beyond two writes per change)"
            );
        }
        for &p in suspects.iter().take(8) {
            let ids = agents(p);
            let _ = writeln!(
                out,
                "\n== p{p} ({})",
                ids.iter()
                    .map(|(d, a)| format!("{d} {a}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            // one timeline: the script, what sync saw and wrote, what the fakes received
            let mut lines: Vec<(Instant, String)> = Vec::new();
            for l in inner.script.get(&p).into_iter().flatten() {
                lines.push((l.at, format!("SCRIPT     {}", l.text)));
            }
            for (desk, agent) in &ids {
                for l in inner
                    .agent
                    .get(&(desk.clone(), agent.clone()))
                    .into_iter()
                    .flatten()
                {
                    lines.push((l.at, format!("{desk:<10} {}", l.text)));
                }
                for (d, log) in exchanges {
                    if d != desk {
                        continue;
                    }
                    // its writes, and its reads that met a fault or an error (the others are
                    // the observations above)
                    let shown = |x: &&agentstatus_fakes::Exchange| {
                        names_agent(x, agent)
                            && (x.method != "GET"
                                || x.fault.is_some()
                                || x.status.is_none_or(|s| s >= 300))
                    };
                    for x in log.iter().filter(shown) {
                        lines.push((
                            x.at,
                            format!(
                                "{desk:<10} the fake received {} {}{} -> {}{}",
                                x.method,
                                x.uri,
                                if x.body.is_empty() {
                                    String::new()
                                } else {
                                    format!(" {}", x.body)
                                },
                                x.status
                                    .map_or_else(|| "no answer".to_string(), |s| s.to_string()),
                                x.fault
                                    .as_ref()
                                    .map_or_else(String::new, |f| format!(" (fault: {f})"))
                            ),
                        ));
                    }
                }
            }
            lines.sort_by_key(|(at, _)| *at);
            for (at, text) in lines {
                let _ = writeln!(out, "{} {text}", self.ms(at));
            }
            let _ = writeln!(out, "  decisions (the store's log, in order):");
            for d in decisions.iter().filter(|d| d.person == format!("p{p}")) {
                let _ = writeln!(
                    out,
                    "    on {} ({}): {} -> {}, wanted {}, {} writes; {}",
                    d.desk,
                    d.agent,
                    d.before.as_deref().unwrap_or("?"),
                    d.after,
                    d.wanted,
                    d.writes,
                    d.reason
                );
            }
        }
        let _ = writeln!(
            out,
            "\n== faults the fakes met (every request not answered as the vendor would)"
        );
        let mut faulted: Vec<(Instant, String)> = Vec::new();
        for (desk, log) in exchanges {
            for x in log
                .iter()
                .filter(|x| x.fault.is_some() || x.status.is_none())
            {
                faulted.push((
                    x.at,
                    format!(
                        "{desk:<10} {} {} -> {} ({})",
                        x.method,
                        x.uri,
                        x.status
                            .map_or_else(|| "no answer".to_string(), |s| s.to_string()),
                        x.fault.as_deref().unwrap_or("dropped")
                    ),
                ));
            }
            let _ = writeln!(
                out,
                "{desk}: {} requests, {} met a fault",
                log.len(),
                log.iter().filter(|x| x.fault.is_some()).count()
            );
        }
        for (desk, lines) in &inner.failed_reads {
            for l in lines {
                faulted.push((l.at, format!("{desk:<10} sync's read failed: {}", l.text)));
            }
        }
        faulted.sort_by_key(|(at, _)| *at);
        for (at, text) in &faulted {
            let _ = writeln!(out, "{} {text}", self.ms(*at));
        }
        let _ = writeln!(out, "\n== every person's script");
        let mut people: Vec<&usize> = inner.script.keys().collect();
        people.sort();
        for p in people {
            let _ = writeln!(
                out,
                "p{p}: {}",
                inner.script[p]
                    .iter()
                    .map(|l| format!("{} {}", self.ms(l.at).trim(), l.text))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        drop(inner);
        let path = self.path();
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, out));
        match written {
            Ok(()) => Some(path),
            Err(e) => {
                eprintln!("cannot write the failure report {}: {e}", path.display());
                None
            }
        }
    }
}

/// Whether a request the fake received is about `agent`: its path has the agent's id as a
/// segment (`/status/e12`, `/agents/13`), or its body names it (`"agentId":"r12"`).
fn names_agent(x: &agentstatus_fakes::Exchange, agent: &str) -> bool {
    let path = x.uri.split('?').next().unwrap_or_default();
    path.split('/').any(|s| s == agent) || x.body.contains(&format!("\"{agent}\""))
}

fn state_of(a: &AgentPresence) -> String {
    format!("{} ({})", a.availability, a.detail.vendor_status)
}

fn outcome(r: &Result<AgentPresence, PresenceError>) -> String {
    match r {
        Ok(p) => format!("answered {}", state_of(p)),
        Err(e) => format!("failed: {e}"),
    }
}

/// A desk's adapter, every call forwarded and its outcome journaled (see the module's docs).
pub struct Recorded {
    pub inner: Arc<dyn Presence>,
    pub desk: String,
    pub journal: Arc<Journal>,
}

impl Recorded {
    pub fn wrap(desk: &str, inner: Arc<dyn Presence>, journal: &Arc<Journal>) -> Arc<dyn Presence> {
        Arc::new(Recorded {
            inner,
            desk: desk.to_string(),
            journal: journal.clone(),
        })
    }

    fn bulk(&self, results: &[BulkResult]) {
        for r in results {
            let what = match &r.outcome {
                Ok(a) => format!(
                    "answered {}{}",
                    state_of(&a.presence),
                    match a.changed {
                        Some(true) => ", changed",
                        Some(false) => ", already so",
                        None => "",
                    }
                ),
                Err(e) => format!("failed: {e}"),
            };
            self.journal.agent_line(
                &self.desk,
                &r.agent,
                format!("sync wrote {} (bulk): {what}", r.wanted),
            );
        }
    }
}

#[agentstatus_presence::async_trait]
impl Presence for Recorded {
    fn vendor(&self) -> Vendor {
        self.inner.vendor()
    }

    fn supported(&self) -> &'static [Availability] {
        self.inner.supported()
    }

    async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let r = self.inner.get(agent).await;
        self.journal
            .agent_line(&self.desk, agent, format!("read alone: {}", outcome(&r)));
        r
    }

    async fn set(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        self.journal
            .agent_line(&self.desk, agent, format!("sync sends {desired}"));
        let r = self.inner.set(agent, desired).await;
        self.journal.agent_line(
            &self.desk,
            agent,
            format!("sync wrote {desired}: {}", outcome(&r)),
        );
        r
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        let r = self.inner.list(filter).await;
        match &r {
            Ok(agents) => self.journal.listed(&self.desk, agents, "the list"),
            Err(e) => self.journal.failed_read(&self.desk, format!("list: {e}")),
        }
        r
    }

    async fn set_many(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        for (agent, wanted) in &updates {
            self.journal
                .agent_line(&self.desk, agent, format!("sync sends {wanted}"));
        }
        let r = self.inner.set_many(updates, options).await;
        self.bulk(&r);
        r
    }

    async fn set_many_with(
        &self,
        updates: Vec<(String, SetRequest)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        for (agent, request) in &updates {
            self.journal.agent_line(
                &self.desk,
                agent,
                format!("sync sends {}", request.availability),
            );
        }
        let r = self.inner.set_many_with(updates, options).await;
        self.bulk(&r);
        r
    }

    fn change_feed(&self, options: &WatchOptions) -> Option<Box<dyn ChangeFeed>> {
        let feed = self.inner.change_feed(options)?;
        Some(Box::new(RecordedFeed {
            inner: feed,
            desk: self.desk.clone(),
            journal: self.journal.clone(),
        }))
    }

    async fn set_with(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        self.journal.agent_line(
            &self.desk,
            agent,
            format!("sync sends {}", request.availability),
        );
        let r = self.inner.set_with(agent, request).await;
        self.journal.agent_line(
            &self.desk,
            agent,
            format!("sync wrote {}: {}", request.availability, outcome(&r)),
        );
        r
    }

    fn observed(&self) -> &'static [DetailField] {
        self.inner.observed()
    }

    fn expiring(&self) -> &'static [Availability] {
        self.inner.expiring()
    }

    fn check_supported(&self, desired: Availability) -> Result<(), PresenceError> {
        self.inner.check_supported(desired)
    }
}

/// A desk's change feed, every batch journaled.
struct RecordedFeed {
    inner: Box<dyn ChangeFeed>,
    desk: String,
    journal: Arc<Journal>,
}

#[agentstatus_presence::async_trait]
impl ChangeFeed for RecordedFeed {
    fn origin(&self) -> Origin {
        self.inner.origin()
    }

    async fn next(&mut self) -> Result<Batch, PresenceError> {
        let r = self.inner.next().await;
        match &r {
            // a feed's items are said where they differ from its item before (a state the
            // desk's list showed too, a person's setting back, included)
            Ok(Batch::Changed(agents)) => self.journal.fed(&self.desk, agents),
            Ok(_) => self
                .journal
                .failed_read(&self.desk, "the feed asks for a full read".into()),
            Err(e) => self.journal.failed_read(&self.desk, format!("feed: {e}")),
        }
        r
    }

    async fn shutdown(&mut self) -> Result<(), PresenceError> {
        self.inner.shutdown().await
    }

    async fn recover(&mut self) -> Result<Option<String>, PresenceError> {
        self.inner.recover().await
    }
}
