//! Many agents at once ([`Presence::set_many`](crate::Presence::set_many)): a roster change, a
//! team closed for a holiday. What limits it is the vendor's rate limit and the requests each
//! update costs, so adapters read the current states in as few requests as their API allows,
//! skip the agents already right, and send one write per agent that changes.

use std::future::Future;

use crate::adapter::Step;
use crate::{AgentPresence, Availability, PresenceError};

/// What happened to one agent of a bulk set.
#[derive(Debug)]
#[non_exhaustive]
pub struct Applied {
    /// The agent's presence after (from the write's answer, or the read that showed nothing
    /// needed changing).
    pub presence: AgentPresence,
    /// Whether a write was sent and changed the agent; `None` when the adapter cannot tell (the
    /// default implementation, which calls `set` for each agent).
    pub changed: Option<bool>,
}

impl Applied {
    /// The agent changed.
    pub fn changed(presence: AgentPresence) -> Self {
        Self {
            presence,
            changed: Some(true),
        }
    }

    /// The agent has the wanted availability; whether a write changed it is not known (the
    /// single-agent path was taken).
    pub fn unknown(presence: AgentPresence) -> Self {
        Self {
            presence,
            changed: None,
        }
    }

    /// The agent already had the wanted availability: nothing was sent.
    pub fn unchanged(presence: AgentPresence) -> Self {
        Self {
            presence,
            changed: Some(false),
        }
    }
}

/// One agent's outcome in a bulk set, in the order the updates were given.
#[derive(Debug)]
pub struct BulkResult {
    /// The agent id, as given.
    pub agent: String,
    /// The availability asked for.
    pub wanted: Availability,
    /// What happened: applied (or already so), or why not.
    pub outcome: Result<Applied, PresenceError>,
}

/// How a bulk set runs.
#[derive(Clone, Copy)]
pub struct BulkOptions<'a> {
    /// Writes in flight at most (the client's rate limit paces them). Default 8.
    pub concurrency: usize,
    /// Called once per agent as soon as its outcome is known (for a progress bar).
    pub progress: Option<&'a (dyn Fn(&BulkResult) + Send + Sync)>,
}

impl Default for BulkOptions<'_> {
    fn default() -> Self {
        Self {
            concurrency: 8,
            progress: None,
        }
    }
}

impl std::fmt::Debug for BulkOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkOptions")
            .field("concurrency", &self.concurrency)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl<'a> BulkOptions<'a> {
    /// At most `concurrency` writes in flight.
    pub fn new(concurrency: usize) -> Self {
        Self {
            concurrency,
            progress: None,
        }
    }

    /// Report each outcome to `progress` as it is known.
    pub fn with_progress(mut self, progress: &'a (dyn Fn(&BulkResult) + Send + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }
}

/// Run `one(agent, wanted)` for every update, at most `options.concurrency` at a time, reporting
/// each outcome to the progress callback as it completes; results in input order. One failure
/// never stops the rest. For adapters: do the reads first, then write through this. An agent's
/// error without an operation gets the last client operation sent for that agent, else the last
/// one sent before `each` began (the read), else `set`.
pub async fn each<F, Fut>(
    updates: Vec<(String, Availability)>,
    options: &BulkOptions<'_>,
    one: F,
) -> Vec<BulkResult>
where
    F: Fn(String, Availability) -> Fut,
    Fut: Future<Output = Result<Applied, PresenceError>>,
{
    use futures::StreamExt;
    let one = &one;
    let read = agentstatus_runtime::observed().operation;
    // Unordered, so one slow answer never holds back the others' slots; put back in order after.
    let mut done: Vec<(usize, BulkResult)> = futures::stream::iter(updates.into_iter().enumerate())
        .map(|(i, (agent, wanted))| async move {
            let (outcome, seen) = agentstatus_runtime::observe(one(agent.clone(), wanted)).await;
            let outcome = outcome
                .map_err(|e| e.or_operation(seen.operation.or(read).unwrap_or(Step::Set.as_str())));
            let result = BulkResult {
                agent,
                wanted,
                outcome,
            };
            if let Some(progress) = options.progress {
                progress(&result);
            }
            (i, result)
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Every agent `presence` lists (one `list` of all agents), by id: the one read a bulk run
/// starts from when a vendor's list carries each agent's state.
pub async fn listed_by_id<P: crate::Presence + ?Sized>(
    presence: &P,
) -> Result<std::collections::HashMap<String, AgentPresence>, PresenceError> {
    Ok(presence
        .list(&crate::ListFilter::all())
        .await?
        .into_iter()
        .map(|p| (p.agent_id.clone(), p))
        .collect())
}

/// Every update failed with the same `error` (the read before the writes failed).
pub fn fail_all(updates: Vec<(String, Availability)>, error: &PresenceError) -> Vec<BulkResult> {
    updates
        .into_iter()
        .map(|(agent, wanted)| BulkResult {
            agent,
            wanted,
            outcome: Err(error.clone()),
        })
        .collect()
}
