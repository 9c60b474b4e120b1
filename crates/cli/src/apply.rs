//! `agentstatus apply FILE`: a roster (CSV or JSON lines) applied in bulk, with a plan
//! (`--dry-run`), progress (a bar with rate and ETA on a terminal, plain lines otherwise) and a
//! summary (changed, unchanged, unsupported, failed with reasons).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use agentstatus::{
    AgentPresence, Availability, BulkOptions, BulkResult, ErrorKind, ListFilter, Presence,
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

/// The plan: each agent's availability now, and what the run would do.
async fn plan(presence: &dyn Presence, entries: &[Entry]) -> Vec<Row> {
    let listed: HashMap<String, AgentPresence> = match presence.list(&ListFilter::all()).await {
        Ok(list) => list.into_iter().map(|p| (p.agent_id.clone(), p)).collect(),
        // some vendors list only with a manager's permission: read each agent instead
        Err(_) => HashMap::new(),
    };
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
        let now = match listed.get(&e.agent) {
            Some(p) => Ok(p.clone()),
            None => presence.get(&e.agent).await,
        };
        match now {
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
                    "{bar:40} {pos}/{len} agents  {per_sec}  ETA {eta}",
                )
                .expect("a valid template"),
            );
            bar
        });
        let progress = |r: &BulkResult| {
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            match &bar {
                Some(bar) => bar.inc(1),
                None if output == Output::Table => {
                    let what = match &r.outcome {
                        Ok(a) if a.changed == Some(false) => "unchanged".to_string(),
                        Ok(a) => format!("{}", a.presence.availability),
                        Err(e) => format!("failed: {e}"),
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
