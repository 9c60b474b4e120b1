//! Many agents at once ([`Presence::set_many`](crate::Presence::set_many)): a roster change, a
//! team closed for a holiday. What limits it is the vendor's rate limit and the requests each
//! update costs, so adapters read the current states in as few requests as their API allows,
//! skip the agents already right, and send one write per agent that changes.

use std::future::Future;

use crate::adapter::Step;
use crate::{AgentPresence, Availability, PresenceError, SetRequest};

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

/// One agent's outcome in a bulk set, in the order the updates were given. Built with
/// [`BulkResult::new`] outside this crate (`#[non_exhaustive]`: a part added later is not a
/// breaking change); its fields are public to read.
///
/// ```
/// use agentstatus_presence::Availability;
/// use agentstatus_presence::bulk::{Applied, BulkResult};
/// # let presence = agentstatus_presence::AgentPresence::new("ada", None, Availability::Away, Default::default());
/// let r = BulkResult::new("ada", Availability::Away, Ok(Applied::unchanged(presence)));
/// assert_eq!((r.agent.as_str(), r.wanted), ("ada", Availability::Away));
/// ```
///
/// ```compile_fail,E0639
/// # use agentstatus_presence::{Availability, PresenceError};
/// # use agentstatus_presence::bulk::BulkResult;
/// # let error: PresenceError = todo!();
/// let r = BulkResult { agent: "ada".into(), wanted: Availability::Away, outcome: Err(error) };
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkResult {
    /// The agent id, as given.
    pub agent: String,
    /// The availability asked for.
    pub wanted: Availability,
    /// What happened: applied (or already so), or why not.
    pub outcome: Result<Applied, PresenceError>,
}

/// How a bulk set runs: [`BulkOptions::default`] or [`BulkOptions::new`], then
/// [`with_concurrency`](BulkOptions::with_concurrency) and
/// [`with_progress`](BulkOptions::with_progress) (`#[non_exhaustive]`: an option added later is
/// not a breaking change; the fields are public to read).
///
/// ```
/// use agentstatus_presence::bulk::BulkOptions;
/// let one_at_a_time = BulkOptions::default().with_concurrency(1);
/// assert_eq!(one_at_a_time.concurrency, 1);
/// ```
///
/// ```compile_fail,E0639
/// # use agentstatus_presence::bulk::BulkOptions;
/// let options = BulkOptions { concurrency: 1, progress: None };
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
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

    /// These options with at most `concurrency` writes in flight (an adapter whose writes must
    /// go one at a time: `options.with_concurrency(1)`).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Report each outcome to `progress` as it is known.
    pub fn with_progress(mut self, progress: &'a (dyn Fn(&BulkResult) + Send + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }
}

impl BulkResult {
    /// The outcome of setting `agent` to `wanted`.
    pub fn new(
        agent: impl Into<String>,
        wanted: Availability,
        outcome: Result<Applied, PresenceError>,
    ) -> Self {
        Self {
            agent: agent.into(),
            wanted,
            outcome,
        }
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
    run(updates, |wanted| *wanted, options, one).await
}

/// [`each`] for updates that are [`SetRequest`]s (an expiry, a vendor state): `one(agent,
/// request)` for every update, at most `options.concurrency` at a time, results in input order
/// (each [`BulkResult::wanted`] is its request's availability).
pub async fn each_request<F, Fut>(
    updates: Vec<(String, SetRequest)>,
    options: &BulkOptions<'_>,
    one: F,
) -> Vec<BulkResult>
where
    F: Fn(String, SetRequest) -> Fut,
    Fut: Future<Output = Result<Applied, PresenceError>>,
{
    run(updates, |request| request.availability, options, one).await
}

async fn run<T, F, Fut>(
    updates: Vec<(String, T)>,
    wanted_of: impl Fn(&T) -> Availability,
    options: &BulkOptions<'_>,
    one: F,
) -> Vec<BulkResult>
where
    F: Fn(String, T) -> Fut,
    Fut: Future<Output = Result<Applied, PresenceError>>,
{
    use futures::StreamExt;
    let one = &one;
    let wanted_of = &wanted_of;
    let read = agentstatus_runtime::observed().operation;
    // Unordered, so one slow answer never holds back the others' slots; put back in order after.
    let mut done: Vec<(usize, BulkResult)> = futures::stream::iter(updates.into_iter().enumerate())
        .map(|(i, (agent, update))| async move {
            let wanted = wanted_of(&update);
            // boxed: an agent's write (reads, retries, read-back) is a large future, and the
            // stream would hold `concurrency` of them inline (deep stacks in debug builds)
            let write = Box::pin(one(agent.clone(), update));
            let (outcome, seen) = agentstatus_runtime::observe(write).await;
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

/// Run a bulk set of [`SetRequest`]s ([`Presence::set_many_with`](crate::Presence::set_many_with)):
/// the updates without options go through `plain` (the vendor's bulk path, `set_many`), the
/// others one by one through `with_options` (`set_with`, which refuses what the vendor cannot
/// do); the plain ones first, then the others; results in input order.
pub async fn split_requests<'a, P, PFut, W, WFut>(
    updates: Vec<(String, SetRequest)>,
    options: &BulkOptions<'a>,
    plain: P,
    with_options: W,
) -> Vec<BulkResult>
where
    P: FnOnce(Vec<(String, Availability)>) -> PFut,
    PFut: Future<Output = Vec<BulkResult>>,
    W: Fn(String, SetRequest) -> WFut,
    WFut: Future<Output = Result<Applied, PresenceError>>,
{
    let (simple, optioned): (Vec<_>, Vec<_>) = updates
        .into_iter()
        .enumerate()
        .partition(|(_, (_, r))| r.until.is_none() && r.state.is_none());
    let (simple_at, simple): (Vec<usize>, Vec<(String, Availability)>) = simple
        .into_iter()
        .map(|(i, (agent, r))| (i, (agent, r.availability)))
        .unzip();
    let (optioned_at, optioned): (Vec<usize>, Vec<(String, SetRequest)>) =
        optioned.into_iter().unzip();
    let mut out: Vec<(usize, BulkResult)> = Vec::with_capacity(simple_at.len() + optioned_at.len());
    if !simple.is_empty() {
        out.extend(simple_at.into_iter().zip(plain(simple).await));
    }
    if !optioned.is_empty() {
        out.extend(
            optioned_at
                .into_iter()
                .zip(each_request(optioned, options, with_options).await),
        );
    }
    out.sort_unstable_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
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
