//! `agentstatus apply FILE`: a roster (CSV or JSON lines) applied in bulk, with a plan
//! (`--dry-run`), progress (a bar with rate and ETA on a terminal, plain lines otherwise) and a
//! summary (changed, unchanged, unsupported, failed with reasons).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use agentstatus::{
    AgentPresence, Availability, BulkOptions, BulkResult, ErrorKind, ListFilter, Presence,
    PresenceError,
};
use agentstatus_cli::output::{Output, sanitize, write_json, write_table};
use serde::Serialize;

use crate::roster::Entry;

/// What happened (or, in a plan, would happen) to one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Changed,
    Unchanged,
    /// Set, but the adapter cannot tell whether it changed.
    Applied,
    Unsupported,
    Failed,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Changed => "changed",
            Kind::Unchanged => "unchanged",
            Kind::Applied => "applied",
            Kind::Unsupported => "unsupported",
            Kind::Failed => "failed",
        }
    }
}

#[derive(Debug, Serialize)]
struct Row {
    agent: String,
    line: usize,
    wanted: Availability,
    /// The plan: the availability now; the run: the availability after.
    #[serde(skip_serializing_if = "Option::is_none")]
    availability: Option<Availability>,
    result: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    changed: usize,
    unchanged: usize,
    applied: usize,
    unsupported: usize,
    failed: usize,
}

impl Summary {
    fn of(rows: &[Row]) -> Self {
        let mut s = Summary::default();
        for r in rows {
            *match r.result {
                Kind::Changed => &mut s.changed,
                Kind::Unchanged => &mut s.unchanged,
                Kind::Applied => &mut s.applied,
                Kind::Unsupported => &mut s.unsupported,
                Kind::Failed => &mut s.failed,
            } += 1;
        }
        s
    }

    fn ok(&self) -> bool {
        self.failed == 0 && self.unsupported == 0
    }
}

fn row(entry: &Entry, r: BulkResult) -> Row {
    let (availability, result, reason) = match r.outcome {
        Ok(a) => (
            Some(a.presence.availability),
            match a.changed {
                Some(true) => Kind::Changed,
                Some(false) => Kind::Unchanged,
                None => Kind::Applied,
            },
            None,
        ),
        Err(e) if e.kind() == ErrorKind::Unsupported => {
            (None, Kind::Unsupported, Some(e.to_string()))
        }
        Err(e) => (None, Kind::Failed, Some(e.to_string())),
    };
    Row {
        agent: entry.agent.clone(),
        line: entry.line,
        wanted: entry.availability,
        availability,
        result,
        reason,
    }
}

/// `me`: the agent the credentials belong to, an alias no vendor's list carries.
const ME: &str = "me";

/// What the plan knows of the agents' current states, from one read for the whole roster.
enum Listed {
    /// Every agent the vendor lists, by id: an agent not in it is not found.
    Agents(HashMap<String, AgentPresence>),
    /// The list was refused for a reason that may be this caller's alone (some vendors list only
    /// for managers): each agent is read on its own.
    ReadEach,
    /// The server cannot answer (this is why): no agent is asked about.
    Down(PresenceError),
}

/// A failure that says nothing about one agent: the network or the deadline, a rate limit,
/// credentials refused (401), a server error (5xx), an answer that cannot be read (or pages
/// without end). Asking about each agent in turn would only fail the same way, once per agent.
fn about_the_server(e: &PresenceError) -> bool {
    match e.kind() {
        ErrorKind::Network | ErrorKind::RateLimited | ErrorKind::InvalidResponse => true,
        ErrorKind::Auth => e.status() == Some(401),
        ErrorKind::Vendor => e.status().is_some_and(|s| s >= 500),
        _ => false,
    }
}

impl Listed {
    /// One list request (however many agents the roster has).
    async fn read(presence: &dyn Presence) -> Self {
        match presence.list(&ListFilter::all()).await {
            Ok(list) => Listed::Agents(list.into_iter().map(|p| (p.agent_id.clone(), p)).collect()),
            Err(e) if about_the_server(&e) => Listed::Down(e),
            Err(_) => Listed::ReadEach,
        }
    }

    /// `agent`'s presence now. From the list: a lookup, no request (`me` alone is read, once:
    /// a roster names an agent once). Without one: one read, until a read fails for a reason
    /// that is not about the agent; every agent after fails with that reason, unasked.
    async fn now(
        &mut self,
        presence: &dyn Presence,
        agent: &str,
    ) -> Result<AgentPresence, PresenceError> {
        match self {
            Listed::Agents(listed) => match listed.get(agent) {
                Some(p) => Ok(p.clone()),
                None if agent == ME => presence.get(agent).await,
                None => {
                    let message = format!("not among the {} agents the server lists", listed.len());
                    let e = PresenceError::not_found(presence.vendor(), agent, Some(message));
                    Err(e.with_operation("list"))
                }
            },
            Listed::ReadEach => {
                let now = presence.get(agent).await;
                if let Err(e) = &now
                    && about_the_server(e)
                {
                    *self = Listed::Down(e.clone());
                }
                now
            }
            Listed::Down(e) => Err(e.clone()),
        }
    }
}

/// The plan: each agent's availability now, and what the run would do. One read of the list
/// serves the whole roster (as in the run, which reads it once too): an agent is looked up in
/// it, and one it does not have is not found, without a request per agent.
async fn plan(presence: &dyn Presence, entries: &[Entry]) -> Vec<Row> {
    let mut listed = Listed::read(presence).await;
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let mut row = Row {
            agent: e.agent.clone(),
            line: e.line,
            wanted: e.availability,
            availability: None,
            result: Kind::Changed,
            reason: None,
        };
        if let Err(err) = presence.check_supported(e.availability) {
            row.result = Kind::Unsupported;
            row.reason = Some(err.to_string());
            rows.push(row);
            continue;
        }
        match listed.now(presence, &e.agent).await {
            Ok(p) => {
                row.availability = Some(p.availability);
                if p.availability == e.availability {
                    row.result = Kind::Unchanged;
                }
            }
            Err(err) => {
                row.result = Kind::Failed;
                row.reason = Some(err.to_string());
            }
        }
        rows.push(row);
    }
    rows
}

fn table(rows: &[Row], dry_run: bool) -> String {
    let now = if dry_run { "NOW" } else { "AFTER" };
    let header = ["AGENT", "LINE", "WANTED", now, "RESULT", "REASON"].map(String::from);
    let body = rows
        .iter()
        .filter(|r| dry_run || !matches!(r.result, Kind::Changed | Kind::Unchanged | Kind::Applied))
        .map(|r| {
            [
                sanitize(&r.agent),
                r.line.to_string(),
                r.wanted.to_string(),
                r.availability.map_or_else(|| "-".into(), |a| a.to_string()),
                if dry_run && r.result == Kind::Changed {
                    "will change".to_string()
                } else {
                    r.result.as_str().to_string()
                },
                r.reason.as_deref().map_or_else(String::new, sanitize),
            ]
        });
    let all: Vec<[String; 6]> = std::iter::once(header).chain(body).collect();
    if all.len() == 1 {
        return String::new();
    }
    let mut out = Vec::new();
    write_table(&mut out, &all).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the cells are UTF-8")
}

/// A rate for people: whole units per second, `860/s` (one decimal below 10: `2.5/s`).
fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "0/s".to_string()
    } else if per_sec < 10.0 {
        format!("{per_sec:.1}/s")
    } else {
        format!("{per_sec:.0}/s")
    }
}

/// Plan or apply `entries`; returns whether everything could be (or was) done.
pub async fn run(
    presence: &dyn Presence,
    entries: Vec<Entry>,
    dry_run: bool,
    concurrency: usize,
    output: Output,
) -> std::io::Result<bool> {
    let rows = if dry_run {
        plan(presence, &entries).await
    } else {
        let total = entries.len();
        let done = AtomicUsize::new(0);
        let bar = (output == Output::Table && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} agents  {rate}  ETA {eta}",
                )
                .expect("a valid template")
                // a rate for people: `860/s`, not `859.8276/s`
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{}", rate(state.per_sec()));
                    },
                ),
            );
            bar
        });
        let progress = |r: &BulkResult| {
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            match &bar {
                Some(bar) => bar.inc(1),
                None if output == Output::Table => {
                    // the words of the summary: changed, unchanged, applied, unsupported, failed
                    let what = match &r.outcome {
                        Ok(a) => {
                            let kind = match a.changed {
                                Some(true) => Kind::Changed,
                                Some(false) => Kind::Unchanged,
                                None => Kind::Applied,
                            };
                            format!("{} ({})", kind.as_str(), a.presence.availability)
                        }
                        Err(e) if e.kind() == ErrorKind::Unsupported => {
                            format!("{}: {e}", Kind::Unsupported.as_str())
                        }
                        Err(e) => format!("{}: {e}", Kind::Failed.as_str()),
                    };
                    eprintln!("[{n}/{total}] {}: {}", sanitize(&r.agent), sanitize(&what));
                }
                None => {}
            }
        };
        let updates = entries
            .iter()
            .map(|e| (e.agent.clone(), e.availability))
            .collect();
        let results = presence
            .set_many(
                updates,
                &BulkOptions::new(concurrency).with_progress(&progress),
            )
            .await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        entries
            .iter()
            .zip(results)
            .map(|(e, r)| row(e, r))
            .collect()
    };
    let summary = Summary::of(&rows);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match output {
        Output::Json => {
            #[derive(Serialize)]
            struct Report<'a> {
                vendor: agentstatus::Vendor,
                dry_run: bool,
                summary: &'a Summary,
                results: &'a [Row],
            }
            write_json(
                &mut out,
                &Report {
                    vendor: presence.vendor(),
                    dry_run,
                    summary: &summary,
                    results: &rows,
                },
            )?;
            writeln!(out)?;
        }
        Output::Table => {
            out.write_all(table(&rows, dry_run).as_bytes())?;
            let verb = if dry_run { "plan: " } else { "" };
            writeln!(
                out,
                "{verb}{} {}, {} unchanged{}, {} unsupported, {} failed",
                summary.changed,
                if dry_run { "to change" } else { "changed" },
                summary.unchanged,
                if summary.applied > 0 {
                    format!(", {} applied", summary.applied)
                } else {
                    String::new()
                },
                summary.unsupported,
                summary.failed
            )?;
        }
    }
    out.flush()?;
    Ok(summary.ok())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use agentstatus::{Detail, Failure, Vendor, async_trait};

    use super::*;

    const VENDOR: Vendor = Vendor::new("counted");

    /// A vendor with three agents (`me` is `self`), counting the lists and gets asked for.
    struct Counted {
        agents: Vec<AgentPresence>,
        /// What `list` fails with, if it does.
        list_error: Option<PresenceError>,
        /// What `get` fails with for every agent but `me`, if it does.
        get_error: Option<PresenceError>,
        lists: AtomicUsize,
        gets: AtomicUsize,
    }

    impl Counted {
        fn new(list_error: Option<PresenceError>, get_error: Option<PresenceError>) -> Self {
            let agent = |id: &str, a| AgentPresence::new(id, None, a, Detail::new(a.to_string()));
            Self {
                agents: vec![
                    agent("ada", Availability::Away),
                    agent("grace", Availability::Available),
                    agent("self", Availability::Offline),
                ],
                list_error,
                get_error,
                lists: AtomicUsize::new(0),
                gets: AtomicUsize::new(0),
            }
        }

        fn counts(&self) -> (usize, usize) {
            (
                self.lists.load(Ordering::Relaxed),
                self.gets.load(Ordering::Relaxed),
            )
        }
    }

    #[async_trait]
    impl Presence for Counted {
        fn vendor(&self) -> Vendor {
            VENDOR
        }

        fn supported(&self) -> &'static [Availability] {
            &[
                Availability::Available,
                Availability::Away,
                Availability::Offline,
            ]
        }

        async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
            self.gets.fetch_add(1, Ordering::Relaxed);
            if agent == "me" {
                return Ok(self.agents[2].clone());
            }
            if let Some(e) = &self.get_error {
                return Err(e.clone());
            }
            self.agents
                .iter()
                .find(|p| p.agent_id == agent)
                .cloned()
                .ok_or_else(|| PresenceError::not_found(VENDOR, agent, None).with_operation("get"))
        }

        async fn set(&self, _: &str, _: Availability) -> Result<AgentPresence, PresenceError> {
            unreachable!("a plan sets nothing")
        }

        async fn list(&self, _: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
            self.lists.fetch_add(1, Ordering::Relaxed);
            match &self.list_error {
                Some(e) => Err(e.clone()),
                None => Ok(self.agents.clone()),
            }
        }
    }

    fn http(status: u16) -> PresenceError {
        let message = Some(format!("status {status}"));
        let failure = Failure::Http {
            status,
            code: None,
            message,
        };
        PresenceError::new(VENDOR, failure).with_operation("list")
    }

    /// `ada`, `grace`, `me` (lines 2 to 4) and `n` agents the vendor does not have (lines 5 on).
    fn roster(n: usize) -> Vec<Entry> {
        let known = [
            ("ada", Availability::Available),
            ("grace", Availability::Available),
            ("me", Availability::Available),
        ];
        known
            .into_iter()
            .map(|(a, w)| (a.to_string(), w))
            .chain((0..n).map(|i| (format!("ghost-{i}"), Availability::Away)))
            .enumerate()
            .map(|(i, (agent, availability))| Entry {
                agent,
                availability,
                line: i + 2,
            })
            .collect()
    }

    #[test]
    fn rates_are_rounded_for_people() {
        assert_eq!(rate(859.8276), "860/s");
        assert_eq!(rate(2.46), "2.5/s");
        assert_eq!(rate(0.0), "0/s");
        assert_eq!(rate(f64::NAN), "0/s");
        assert_eq!(rate(f64::INFINITY), "0/s");
    }

    #[tokio::test]
    async fn a_plan_reads_the_list_once_however_many_agents_are_unknown() {
        let presence = Counted::new(None, None);
        let rows = plan(&presence, &roster(2_000)).await;
        // one list, and one read of `me`, which no list has
        assert_eq!(presence.counts(), (1, 1));
        assert_eq!(rows.len(), 2_003);
        assert_eq!(rows[0].result, Kind::Changed);
        assert_eq!(rows[0].availability, Some(Availability::Away));
        assert_eq!(rows[1].result, Kind::Unchanged);
        assert_eq!(rows[2].result, Kind::Changed);
        assert_eq!(rows[2].availability, Some(Availability::Offline));
        for (i, row) in rows[3..].iter().enumerate() {
            let agent = format!("ghost-{i}");
            assert_eq!(row.agent, agent);
            assert_eq!(row.line, i + 5, "{row:?}");
            assert_eq!(row.result, Kind::Failed, "{row:?}");
            let reason = row.reason.as_deref().unwrap();
            assert!(reason.contains(&format!("no agent {agent:?}")), "{reason}");
        }
    }

    #[tokio::test]
    async fn a_refused_list_falls_back_to_reading_each_agent() {
        let presence = Counted::new(Some(http(403)), None);
        let rows = plan(&presence, &roster(0)).await;
        assert_eq!(rows[0].availability, Some(Availability::Away));
        assert_eq!(rows[2].availability, Some(Availability::Offline));
        assert_eq!(rows[1].result, Kind::Unchanged);
        assert_eq!(presence.counts(), (1, 3));
    }

    #[tokio::test]
    async fn a_server_that_cannot_answer_is_not_asked_once_per_agent() {
        // the list fails with a server error: nothing more is asked
        let presence = Counted::new(Some(http(500)), None);
        let rows = plan(&presence, &roster(2_000)).await;
        assert_eq!(presence.counts(), (1, 0));
        assert!(
            rows.iter()
                .all(|r| r.result == Kind::Failed
                    && r.reason.as_deref().unwrap().contains("HTTP 500"))
        );

        // the list is refused, and the first read finds the server down: the rest are not read
        let message = "connection refused".into();
        let down = PresenceError::new(VENDOR, Failure::Network { message }).with_operation("get");
        let presence = Counted::new(Some(http(403)), Some(down));
        let rows = plan(&presence, &roster(2_000)).await;
        assert_eq!(presence.counts(), (1, 1));
        assert!(rows.iter().all(|r| r.result == Kind::Failed
            && r.reason.as_deref().unwrap().contains("connection refused")));
    }
}
