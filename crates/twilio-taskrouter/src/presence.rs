//! Twilio TaskRouter: a Worker's Activity, one of the workspace's own (a name and an `available`
//! flag), read through `fetch_worker` / `list_worker` and set by `update_worker` with the
//! `ActivitySid` of the activity the name table gives, guarded by `If-Match` (see
//! `specs/twilio-taskrouter/NOTES.md#activities-and-availability`).
//!
//! | vendor | vendor state (read) | Availability | set sends |
//! |---|---|---|---|
//! | Twilio TaskRouter | an activity with `available: true` (any name) | Available | `ActivitySid` of the activity named `Available` (must be `available: true`) |
//! | Twilio TaskRouter | an unavailable activity named `Unavailable` | Busy | `ActivitySid` of `Unavailable` (must be `available: false`) |
//! | Twilio TaskRouter | an unavailable activity named `Break` | Away | `ActivitySid` of `Break` |
//! | Twilio TaskRouter | `Offline`, or any other unavailable activity | Offline | `ActivitySid` of `Offline` |
//!
//! The names are a table ([`ActivityNames`], `with_activity_names`; in the command's config
//! `available_activity`, `busy_activity`, `away_activity`, `offline_activity`), matched without
//! regard to case; the activity's own name is always in the vendor status. A workspace without the
//! activity a `set` needs answers `InvalidInput`, naming it (nothing is sent). Every update sends
//! the `ETag` of the read before it as `If-Match`. A 412 says that read was behind (a read
//! replica's) or the worker changed since: the worker is read again the read lag later
//! ([`TwilioTaskrouterPresence::with_read_lag`], default two seconds, sync's default desk
//! `read_lag`) and the update decided again from that read, three reads at most, then a `Conflict`
//! naming what the worker is.
//!
//! The activity's name is the state's word ([`Detail::state`](agentstatus_presence::Detail::state)):
//! `set_with` ([`SetRequest`]) takes any activity of the workspace by name as `state` (`Lunch`,
//! `Training`, ... matched without regard to case), checked against the table first: the
//! availability the activity means (its `available` flag, then its name in the table, else
//! Offline) must be the one asked for, else `InvalidInput` and nothing is sent (`Lunch`,
//! unavailable and not in the table, is Offline; asked as Away it is refused, never moved to
//! `Break` instead). TaskRouter has no expiry: `until` is `UnsupportedOption`.
//!
//! A worker that reads as the wanted availability stays in its activity: one in an activity the
//! table does not name (`Training`, say, unavailable) reads Offline and stays in it on
//! `set(Offline)`. But that read may be a replica's, behind, so `set` (and `set_with`, for a
//! worker read in the activity named) still sends the update, to the activity the worker is
//! read in, `If-Match` the read's `ETag`: when the read was right it changes nothing; when it was
//! behind, the 412 sends the decision back to a newer read (above). Only a read without an `ETag`
//! is taken as it is. `set_many` skips the workers its one list shows right (the list has no
//! `ETag`s): a caller that knows a read may be behind sends that worker through `set`.
//!
//! `watch` polls `list`, or, with the `watch` feature and a webhook
//! ([`TwilioTaskrouterPresence::with_webhook`]; the registry's `watch = "events"`), follows the
//! workspace's event callbacks ([`crate::watch`]).

use std::collections::HashSet;
use std::num::NonZeroU64;

use agentstatus_presence::adapter::{Adapter, ErrorBody, Failed, Step, call_answer, clip, within};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::registry::{Entry, Setting};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, Failure, ListFilter, ListLimits, Presence, PresenceError,
    SetRequest, Vendor, async_trait,
};
use agentstatus_runtime::retry::resend;
use progenitor_client::{ClientInfo, ResponseValue};

use crate::{Client, types};

pub(crate) const VENDOR: Vendor = Vendor::new("twilio-taskrouter");

/// Workers per page of `list` (Twilio's maximum is 1,000; its default 50).
const PAGE_SIZE: NonZeroU64 = NonZeroU64::new(200).unwrap();

/// Activities per page (the most Twilio sends).
const ACTIVITY_PAGE_SIZE: NonZeroU64 = NonZeroU64::new(1000).unwrap();

/// Which activity means which [`Availability`]: names of the workspace's activities, matched
/// without regard to case. Reading, an activity with `available: true` is always Available; an
/// unavailable one is Busy, Away or Offline by its name here, and Offline when it is none of
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityNames {
    /// The activity `set(Available)` moves a worker to (`Available`).
    pub available: String,
    /// The activity `set(Busy)` moves a worker to (`Unavailable`).
    pub busy: String,
    /// The activity `set(Away)` moves a worker to (`Break`).
    pub away: String,
    /// The activity `set(Offline)` moves a worker to (`Offline`).
    pub offline: String,
}

impl Default for ActivityNames {
    fn default() -> Self {
        Self {
            available: "Available".into(),
            busy: "Unavailable".into(),
            away: "Break".into(),
            offline: "Offline".into(),
        }
    }
}

impl ActivityNames {
    /// The activity name for `a`.
    pub fn name(&self, a: Availability) -> &str {
        match a {
            Availability::Available => &self.available,
            Availability::Busy => &self.busy,
            Availability::Away => &self.away,
            _ => &self.offline,
        }
    }

    /// What a worker in activity `name` (whose `available` flag is `available`) is.
    pub fn availability(&self, name: &str, available: bool) -> Availability {
        if available {
            return Availability::Available;
        }
        [
            Availability::Busy,
            Availability::Away,
            Availability::Offline,
        ]
        .into_iter()
        .find(|a| self.name(*a).eq_ignore_ascii_case(name))
        .unwrap_or(Availability::Offline)
    }
}

agentstatus_presence::adapter! {
    /// [`Presence`] over a Twilio TaskRouter client, in one workspace (`new(client,
    /// workspace_sid)`). Agents are Worker SIDs (`WK` + 32 hex digits).
    pub struct TwilioTaskrouterPresence(client: Client, workspace_sid: String) {
        /// The activity name table ([`ActivityNames::default`] unless `with_activity_names`).
        names: ActivityNames = ActivityNames::default(),
        /// `list` pages within these ([`ListLimits::default`] unless `with_list_limits`).
        limits: ListLimits = ListLimits::default(),
        /// The event callbacks' webhook (`with_webhook`); `None`: `watch` polls.
        webhook: Option<crate::watch::Webhook> = None,
        /// The account events must name (`with_webhook`).
        account_sid: Option<String> = None,
        /// How far behind a read may be (a replica's): after a 412 the worker is read again
        /// this long later ([`DEFAULT_READ_LAG`] unless `with_read_lag`).
        read_lag: std::time::Duration = DEFAULT_READ_LAG,
    }
}

/// How far behind a worker read may be, unless told
/// ([`TwilioTaskrouterPresence::with_read_lag`]).
pub const DEFAULT_READ_LAG: std::time::Duration = std::time::Duration::from_secs(2);

/// Reads (each followed by an update `If-Match` its `ETag`) one `set` makes at most: an update
/// refused with 412 (the read was behind, or the worker changed since) is decided again from a
/// read the read lag later.
const ATTEMPTS: usize = 3;

/// The activity a `set` moves a worker to.
enum Goal<'a> {
    /// The activity of the name table for the availability; a worker already in an activity
    /// that means it stays in that activity.
    Mapped,
    /// This activity (`set_with`'s `state`).
    Named(&'a str),
}

impl TwilioTaskrouterPresence {
    /// How far behind the server's worker reads may be (a read replica's; default
    /// [`DEFAULT_READ_LAG`]): an update refused with 412 is decided again from a read this long
    /// after.
    pub fn with_read_lag(self, read_lag: std::time::Duration) -> Self {
        Self { read_lag, ..self }
    }

    /// The adapter with another activity name table.
    pub fn with_activity_names(self, names: ActivityNames) -> Self {
        Self { names, ..self }
    }

    /// Bounds on `list`'s paging (default [`ListLimits::default`]).
    pub fn with_list_limits(self, limits: ListLimits) -> Self {
        Self { limits, ..self }
    }

    /// `watch` through the workspace's event callbacks ([`crate::watch`], feature `watch`) with
    /// `webhook`; events must name `account_sid` when given. Without it (or without the
    /// feature) `watch` polls `list`.
    pub fn with_webhook(self, webhook: crate::watch::Webhook, account_sid: Option<String>) -> Self {
        Self {
            webhook: Some(webhook),
            account_sid,
            ..self
        }
    }

    /// A copy of this adapter without its webhook (the feed's own reader).
    #[cfg(feature = "watch")]
    pub(crate) fn duplicate(&self) -> Self {
        TwilioTaskrouterPresence::new(self.client.clone(), self.workspace_sid.clone())
            .with_deadline(self.deadline)
            .with_activity_names(self.names.clone())
            .with_list_limits(self.limits)
    }

    /// The generated client.
    #[cfg(feature = "watch")]
    pub(crate) fn twilio_client(&self) -> &Client {
        &self.client
    }

    /// The workspace SID.
    #[cfg(feature = "watch")]
    pub(crate) fn workspace(&self) -> &str {
        &self.workspace_sid
    }

    /// The activity name table.
    #[cfg(feature = "watch")]
    pub(crate) fn names(&self) -> &ActivityNames {
        &self.names
    }

    /// Every activity of the workspace.
    #[cfg(feature = "watch")]
    pub(crate) async fn all_activities(
        &self,
    ) -> Result<Vec<types::TaskrouterV1WorkspaceActivity>, PresenceError> {
        within(self.deadline, VENDOR, Step::List, self.activities()).await
    }
}

impl ErrorBody for types::TwilioError {
    fn parts(self) -> (Option<String>, Option<String>) {
        (self.code.map(|c| c.to_string()), self.message)
    }
}

fn status_of<E>(f: &Failed<E>) -> Option<u16> {
    match &f.error {
        progenitor_client::Error::ErrorResponse(rv) => Some(rv.status().as_u16()),
        progenitor_client::Error::UnexpectedResponse(r) => Some(r.status().as_u16()),
        _ => f.status,
    }
}

/// A worker as the model sees it.
fn presence(names: &ActivityNames, w: &types::TaskrouterV1WorkspaceWorker) -> AgentPresence {
    let activity = w.activity_name.clone().unwrap_or_default();
    let available = w.available.unwrap_or(false);
    AgentPresence::new(
        w.sid.clone().unwrap_or_default(),
        w.friendly_name.clone(),
        names.availability(&activity, available),
        Detail::new(activity),
    )
}

impl TwilioTaskrouterPresence {
    /// One worker and its `ETag`.
    async fn fetch(
        &self,
        agent: &str,
    ) -> Result<(types::TaskrouterV1WorkspaceWorker, Option<String>), PresenceError> {
        let request = self
            .client
            .fetch_worker()
            .workspace_sid(self.workspace_sid.as_str())
            .sid(agent);
        match call_answer(request.send()).await {
            Ok(rv) => {
                let etag = rv
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                Ok((rv.into_inner(), etag))
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    /// Every activity of the workspace (paged).
    async fn activities(&self) -> Result<Vec<types::TaskrouterV1WorkspaceActivity>, PresenceError> {
        let mut out = Vec::new();
        let mut token: Option<(String, u64)> = None;
        let mut pages = 0u32;
        loop {
            if pages >= self.limits.max_pages {
                return Err(too_many(pages, out.len(), "max_pages reached"));
            }
            let mut request = self
                .client
                .list_activity()
                .workspace_sid(self.workspace_sid.as_str())
                .page_size(ACTIVITY_PAGE_SIZE);
            if let Some((t, p)) = &token {
                request = request.page_token(t.clone()).page(*p);
            }
            let page = match call_answer(request.send()).await {
                Ok(rv) => rv.into_inner(),
                Err(f) => return Err(f.into_error(VENDOR, None).await),
            };
            pages += 1;
            let got = page.activities.len();
            out.extend(page.activities);
            token = next_page(page.meta.as_ref().and_then(|m| m.next_page_url.as_deref()));
            if token.is_none() || got == 0 || out.len() > self.limits.max_agents {
                break;
            }
        }
        Ok(out)
    }

    /// The activity `set(desired)` moves a worker to, checked against its `available` flag.
    fn target<'a>(
        &self,
        activities: &'a [types::TaskrouterV1WorkspaceActivity],
        desired: Availability,
    ) -> Result<&'a types::TaskrouterV1WorkspaceActivity, PresenceError> {
        let name = self.names.name(desired);
        let found = activities.iter().find(|a| {
            a.friendly_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        });
        let Some(activity) = found else {
            let message = format!(
                "the workspace has no activity named {:?} (the activity name table's for {desired}): create it, or configure another name",
                clip(name)
            );
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        };
        let available = activity.available.unwrap_or(false);
        if available != (desired == Availability::Available) {
            let message = format!(
                "activity {:?} has available={available}, so it cannot mean {desired}: fix the activity name table",
                clip(name)
            );
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        }
        Ok(activity)
    }

    /// `POST` the update, `If-Match` the read's `ETag`; retried on transient failures (the
    /// same `ActivitySid` and `If-Match` again cannot change anything twice).
    async fn update(
        &self,
        agent: &str,
        activity_sid: &str,
        etag: Option<&str>,
    ) -> Result<types::TaskrouterV1WorkspaceWorker, Failed<types::TwilioError>> {
        let activity: types::UpdateWorkerRequestActivitySid =
            activity_sid
                .parse()
                .map_err(|e: types::error::ConversionError| {
                    Failed::new(progenitor_client::Error::InvalidRequest(e.to_string()))
                })?;
        resend(
            self.client.inner().retry(),
            |f: &Failed<_>| &f.error,
            || async {
                let body =
                    types::UpdateWorkerRequest::builder().activity_sid(Some(activity.clone()));
                let mut request = self
                    .client
                    .update_worker()
                    .workspace_sid(self.workspace_sid.as_str())
                    .sid(agent)
                    .body(body);
                if let Some(tag) = etag {
                    request = request.if_match(tag);
                }
                call_answer(request.send())
                    .await
                    .map(ResponseValue::into_inner)
            },
        )
        .await
    }

    /// Make `agent` `desired` (in `goal`'s activity), whatever a read shows: each read is
    /// followed by an update `If-Match` its `ETag`, to the activity the read's worker should
    /// be in (the one it is in when that already means `desired`, so an update that matches
    /// changes nothing). A 412 says the read was behind (a replica's) or the worker changed
    /// since: read again the read lag later and decide again, [`ATTEMPTS`] reads at most,
    /// then the `Conflict` of the last. A read without an `ETag` cannot be checked so: the
    /// worker it shows already there is left as it is, as before.
    async fn settle(
        &self,
        agent: &str,
        desired: Availability,
        goal: Goal<'_>,
        activities: &[types::TaskrouterV1WorkspaceActivity],
    ) -> Result<AgentPresence, PresenceError> {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(self.read_lag).await;
            }
            let (current, etag) = self.fetch(agent).await?;
            let shown = presence(&self.names, &current);
            let now = current.activity_sid.as_deref().cloned();
            let sid = match goal {
                Goal::Named(sid) => sid.to_string(),
                Goal::Mapped if shown.availability == desired && now.is_some() => {
                    now.clone().unwrap_or_default()
                }
                Goal::Mapped => {
                    let target = self.target(activities, desired)?;
                    target.sid.as_deref().cloned().unwrap_or_default()
                }
            };
            let Some(etag) = etag else {
                if now.as_deref() == Some(sid.as_str()) {
                    return Ok(shown);
                }
                return self.move_to(agent, desired, &sid, None).await;
            };
            match self.update(agent, &sid, Some(&etag)).await {
                Ok(after) => {
                    let found = presence(&self.names, &after);
                    if after.activity_sid.as_deref().map(String::as_str) == Some(sid.as_str()) {
                        return Ok(found);
                    }
                    return Err(PresenceError::conflict(
                        VENDOR,
                        agent,
                        desired,
                        found.availability,
                        clip(&found.detail.vendor_status),
                    ));
                }
                Err(f) if status_of(&f) == Some(412) => continue,
                Err(f) => return Err(f.into_error(VENDOR, Some(agent)).await),
            }
        }
        // every update refused: the worker as a last read shows it
        let (w, _) = self.fetch(agent).await?;
        let found = presence(&self.names, &w);
        Err(PresenceError::conflict(
            VENDOR,
            agent,
            desired,
            found.availability,
            clip(&found.detail.vendor_status),
        )
        .with_operation("update_worker"))
    }

    /// Make `agent` (read as `current`, with `etag`) `desired`: `None` if it already is
    /// (nothing sent), else the worker after one update.
    async fn change(
        &self,
        agent: &str,
        desired: Availability,
        current: &types::TaskrouterV1WorkspaceWorker,
        etag: Option<&str>,
        activities: &[types::TaskrouterV1WorkspaceActivity],
    ) -> Result<Option<AgentPresence>, PresenceError> {
        if presence(&self.names, current).availability == desired {
            return Ok(None);
        }
        let target = self.target(activities, desired)?;
        let sid = target.sid.as_deref().cloned().unwrap_or_default();
        self.move_to(agent, desired, &sid, etag).await.map(Some)
    }

    /// The workspace's activity called `state` (without regard to case), checked to mean
    /// `desired` in the name table.
    fn named<'a>(
        &self,
        activities: &'a [types::TaskrouterV1WorkspaceActivity],
        state: &str,
        desired: Availability,
    ) -> Result<&'a types::TaskrouterV1WorkspaceActivity, PresenceError> {
        let found = activities.iter().find(|a| {
            a.friendly_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(state))
        });
        let Some(activity) = found else {
            let mut names: Vec<&str> = activities
                .iter()
                .filter_map(|a| a.friendly_name.as_deref())
                .collect();
            names.sort_unstable();
            let message = format!(
                "the workspace has no activity named {:?}; it has: {}",
                clip(state),
                clip(&names.join(", "))
            );
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        };
        let name = activity.friendly_name.as_deref().unwrap_or_default();
        let available = activity.available.unwrap_or(false);
        let means = self.names.availability(name, available);
        if means != desired {
            let message = format!(
                "activity {:?} (available={available}) means {means} in the activity name table, not {desired}",
                clip(name)
            );
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        }
        Ok(activity)
    }

    /// One update of `agent` to the activity `sid` (meaning `desired`), `If-Match` `etag`: the
    /// worker after it, or the conflict it met.
    async fn move_to(
        &self,
        agent: &str,
        desired: Availability,
        sid: &str,
        etag: Option<&str>,
    ) -> Result<AgentPresence, PresenceError> {
        let sid = sid.to_string();
        match self.update(agent, &sid, etag).await {
            Ok(after) => {
                let now = presence(&self.names, &after);
                let moved = after.activity_sid.as_deref().cloned();
                if moved.as_deref() == Some(sid.as_str()) {
                    Ok(now)
                } else {
                    Err(PresenceError::conflict(
                        VENDOR,
                        agent,
                        desired,
                        now.availability,
                        clip(&now.detail.vendor_status),
                    ))
                }
            }
            Err(f) if status_of(&f) == Some(412) => {
                // changed since the read: by someone else, or by this update itself when its
                // answer was lost and the resend carried the old ETag. Say what it is now.
                let (w, _) = self.fetch(agent).await?;
                let found = presence(&self.names, &w);
                if w.activity_sid.as_deref() == Some(&sid) {
                    return Ok(found);
                }
                Err(PresenceError::conflict(
                    VENDOR,
                    agent,
                    desired,
                    found.availability,
                    clip(&found.detail.vendor_status),
                )
                .with_operation("update_worker"))
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    /// Every worker (filtered server-side when only the available ones are wanted), in pages.
    async fn workers(
        &self,
        available_only: bool,
    ) -> Result<Vec<types::TaskrouterV1WorkspaceWorker>, PresenceError> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut token: Option<(String, u64)> = None;
        let mut pages = 0u32;
        loop {
            if pages >= self.limits.max_pages {
                return Err(too_many(pages, seen.len(), "max_pages reached"));
            }
            let mut request = self
                .client
                .list_worker()
                .workspace_sid(self.workspace_sid.as_str())
                .page_size(PAGE_SIZE);
            if available_only {
                request = request.available("true");
            }
            if let Some((t, p)) = &token {
                request = request.page_token(t.clone()).page(*p);
            }
            let page = match call_answer(request.send()).await {
                Ok(rv) => rv.into_inner(),
                Err(f) => return Err(f.into_error(VENDOR, None).await),
            };
            pages += 1;
            let before = seen.len();
            for w in page.workers {
                let sid = w.sid.clone().unwrap_or_default();
                // a server that repeats a page sends the same workers again: keep each once
                if seen.insert(sid) {
                    out.push(w);
                }
            }
            if seen.len() > self.limits.max_agents {
                return Err(too_many(pages, seen.len(), "max_agents reached"));
            }
            token = next_page(page.meta.as_ref().and_then(|m| m.next_page_url.as_deref()));
            if token.is_none() || seen.len() == before {
                break;
            }
        }
        Ok(out)
    }
}

fn too_many(pages: u32, agents: usize, limit: &'static str) -> PresenceError {
    let failure = Failure::TooManyPages {
        pages,
        agents,
        limit,
        total: None,
    };
    PresenceError::new(VENDOR, failure)
}

/// `PageToken` and `Page` of a `meta.next_page_url`: the adapter sends them to its own base URL,
/// never following the URL the answer names (NOTES.md#paging).
fn next_page(url: Option<&str>) -> Option<(String, u64)> {
    let url = reqwest::Url::parse(url?).ok()?;
    let mut token = None;
    let mut page = 0;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "PageToken" => token = Some(v.into_owned()),
            "Page" => page = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    token.map(|t| (t, page))
}

#[async_trait]
impl Adapter for TwilioTaskrouterPresence {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[
        Availability::Available,
        Availability::Busy,
        Availability::Away,
        Availability::Offline,
    ];

    /// The workspace's event callbacks (`watch::TaskrouterEvents`) when a webhook is configured
    /// ([`TwilioTaskrouterPresence::with_webhook`]) and the `watch` feature is on; else `None`
    /// (the watcher polls `list`).
    fn change_feed(
        &self,
        options: &agentstatus_presence::watch::WatchOptions,
    ) -> Option<Box<dyn agentstatus_presence::watch::ChangeFeed>> {
        let _ = options;
        #[cfg(feature = "watch")]
        {
            let webhook = self.webhook.clone()?;
            let reader = self.duplicate();
            let feed =
                crate::watch::TaskrouterEvents::new(reader, webhook, self.account_sid.clone());
            Some(Box::new(feed))
        }
        #[cfg(not(feature = "watch"))]
        {
            None
        }
    }

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let (w, _) = self.fetch(agent).await?;
        Ok(presence(&self.names, &w))
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        let activities = self.activities().await?;
        self.settle(agent, desired, Goal::Mapped, &activities).await
    }

    /// An activity by name (`state`), checked against the name table; no expiry (`until`):
    /// TaskRouter has none.
    async fn set_with_now(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        if request.until.is_some() {
            return Err(request.no_expiry(VENDOR, Self::EXPIRING));
        }
        let Some(state) = request.state.as_deref() else {
            return self.set_now(agent, request.availability).await;
        };
        let activities = self.activities().await?;
        let target = self.named(&activities, state, request.availability)?;
        let sid = target.sid.as_deref().cloned().unwrap_or_default();
        self.settle(agent, request.availability, Goal::Named(&sid), &activities)
            .await
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        Ok(self
            .workers(filter.available_only)
            .await?
            .iter()
            .map(|w| presence(&self.names, w))
            .filter(|p| filter.keep(p))
            .collect())
    }

    /// One read of the workers and one of the activities, then for each worker that changes
    /// one read of it (the list has no `ETag`s) and one update `If-Match` that read's `ETag`
    /// (sent even when that read shows the worker done: it may be behind; a 412 is decided
    /// again, as `set` does).
    async fn set_many_now(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        let read = async {
            let workers = self.workers(false).await?;
            let activities = self.activities().await?;
            Ok::<_, PresenceError>((workers, activities))
        };
        let (workers, activities) = match within(self.deadline, VENDOR, Step::List, read).await {
            Ok(both) => both,
            Err(e) => return bulk::fail_all(updates, &e),
        };
        let current: std::collections::HashMap<String, types::TaskrouterV1WorkspaceWorker> =
            workers
                .into_iter()
                .filter_map(|w| Some((w.sid.clone()?, w)))
                .collect();
        let (current, activities) = (&current, &activities);
        bulk::each(updates, options, |agent, wanted| async move {
            self.check_supported(wanted)?;
            let Some(listed) = current.get(&agent) else {
                // not in the list: read it (an unknown worker is NotFound from the server)
                let after = within(self.deadline, VENDOR, Step::Set, async {
                    let (w, etag) = self.fetch(&agent).await?;
                    self.change(&agent, wanted, &w, etag.as_deref(), activities)
                        .await
                        .map(|c| {
                            c.map_or_else(
                                || Applied::unchanged(presence(&self.names, &w)),
                                Applied::changed,
                            )
                        })
                })
                .await?;
                return Ok(after);
            };
            if presence(&self.names, listed).availability == wanted {
                return Ok(Applied::unchanged(presence(&self.names, listed)));
            }
            // the list says it changes: the read for its `ETag` (which may be a replica's,
            // behind, showing it done) decides nothing alone (`settle`)
            let write = self.settle(&agent, wanted, Goal::Mapped, activities);
            within(self.deadline, VENDOR, Step::Set, write)
                .await
                .map(Applied::changed)
        })
        .await
    }
}

const SETTINGS: &[Setting] = &[
    Setting::text(
        "account_sid",
        "the Account SID (AC...) or an API key SID (SK...): the username of HTTP Basic",
        None,
    ),
    Setting::secret(
        "auth_token",
        "TWILIO_AUTH_TOKEN",
        "the Account SID's auth token, or the API key's secret",
    ),
    Setting::text(
        "workspace_sid",
        "the TaskRouter Workspace SID (WS...)",
        None,
    ),
    Setting::text(
        "available_activity",
        "the activity `set available` moves a worker to (available: true)",
        Some("Available"),
    ),
    Setting::text(
        "busy_activity",
        "the activity `set busy` moves a worker to (available: false)",
        Some("Unavailable"),
    ),
    Setting::text(
        "away_activity",
        "the activity `set away` moves a worker to (available: false)",
        Some("Break"),
    ),
    Setting::text(
        "offline_activity",
        "the activity `set offline` moves a worker to (available: false)",
        Some("Offline"),
    ),
    Setting::choice(
        "watch",
        "how `watch` sees changes: `poll` (list every interval) or `events` (the workspace's event callbacks: webhook_listen, webhook_url)",
        &["poll", "events"],
        "poll",
    ),
    Setting::text(
        "webhook_listen",
        "with watch = \"events\": the address the event receiver listens on (ip:port, plain HTTP behind a reverse proxy)",
        Some(""),
    ),
    Setting::text(
        "webhook_url",
        "the public https:// URL set as the workspace's EventCallbackUrl, forwarded unchanged by a reverse proxy to webhook_listen",
        Some(""),
    ),
    Setting::choice(
        "webhook_replace_existing",
        "`true`: replace a callback URL the workspace already has (its events go to the feed instead while it runs; put back at the end)",
        &["false", "true"],
        "false",
    ),
    Setting::text(
        "webhook_heartbeat",
        "with watch = \"events\": seconds between the full reads that find events Twilio did not deliver",
        Some("60"),
    ),
    Setting::text(
        "webhook_state_file",
        "with watch = \"events\": the file the workspace's previous callback URL and filter are written to before the watch replaces them (put back at its end, by the next run after a kill, or by `agentstatus watch --restore`); default $XDG_STATE_HOME/agentstatus/twilio-taskrouter-<workspace_sid>.json, else ~/.local/state/agentstatus/...",
        Some(""),
    ),
];

/// The webhook of `watch = "events"` and the `webhook_*` settings: `None` with `watch = "poll"`
/// (the default), an error naming what is missing or wrong otherwise.
fn webhook_setting(
    s: &agentstatus_presence::registry::Settings,
    account_sid: &str,
    workspace: &str,
) -> Result<Option<crate::watch::Webhook>, String> {
    let watch = s.text("watch").unwrap_or("poll");
    match watch {
        "poll" => return Ok(None),
        "events" => {}
        other => {
            return Err(format!("watch = {other:?}: `poll` or `events`"));
        }
    }
    let get = |k: &str| s.text(k).unwrap_or("").trim().to_string();
    let (listen, url) = (get("webhook_listen"), get("webhook_url"));
    let missing: Vec<&str> = [("webhook_listen", &listen), ("webhook_url", &url)]
        .iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| *k)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "watch = \"events\" needs webhook_listen and webhook_url; missing: {}",
            missing.join(", ")
        ));
    }
    if !cfg!(feature = "watch") {
        return Err("watch = \"events\", but this build has no event callbacks (agentstatus-twilio-taskrouter's `watch` feature)".into());
    }
    if !account_sid.starts_with("AC") {
        return Err(format!(
            "watch = \"events\": Twilio signs event callbacks with the account's auth token, so account_sid must be the Account SID (AC...) with its auth token, not {:?}",
            clip(&account_sid.chars().take(2).collect::<String>())
        ));
    }
    let replace = match s.text("webhook_replace_existing").unwrap_or("false") {
        "false" => false,
        "true" => true,
        other => {
            return Err(format!(
                "webhook_replace_existing = {other:?}: `true` or `false`"
            ));
        }
    };
    let heartbeat = match s.text("webhook_heartbeat").unwrap_or("60").trim() {
        "" => crate::watch::DEFAULT_HEARTBEAT,
        text => match text.parse::<u64>() {
            Ok(secs) if secs > 0 => std::time::Duration::from_secs(secs),
            _ => {
                return Err(format!(
                    "webhook_heartbeat {text:?}: a whole number of seconds, at least 1"
                ));
            }
        },
    };
    let listen: std::net::SocketAddr = listen
        .parse()
        .map_err(|_| format!("webhook_listen {listen:?}: not an ip:port address"))?;
    let state_file = match get("webhook_state_file").as_str() {
        "" => crate::watch::default_state_file(workspace).ok_or_else(|| {
            "watch = \"events\": webhook_state_file has no default here (neither XDG_STATE_HOME nor HOME is set): name the file the workspace's previous callback is recorded in".to_string()
        })?,
        path => std::path::PathBuf::from(path),
    };
    let token = s.secret("auth_token")?;
    crate::watch::Webhook::new(listen, &url, token)
        .and_then(|w| w.with_heartbeat(heartbeat))
        .map(|w| Some(w.replacing_existing(replace).with_state_file(state_file)))
        .map_err(|e| e.to_string())
}

/// Twilio TaskRouter in the registry: `[twilio-taskrouter]` with `base_url`
/// (`https://taskrouter.twilio.com`), `account_sid`, `workspace_sid`, the activity names, and the
/// auth token from `$TWILIO_AUTH_TOKEN` (or `auth_token_env`), sent as HTTP Basic; for `watch`
/// by the workspace's event callbacks (feature `watch`), `watch = "events"` with
/// `webhook_listen`, `webhook_url`, and `webhook_replace_existing`, `webhook_heartbeat`,
/// `webhook_state_file` (see [`crate::watch`]).
pub fn entry() -> Entry {
    Entry::new(VENDOR.as_str(), "Twilio TaskRouter", |s| {
        let config = s.apply(crate::ClientConfig::default());
        let client = Client::with_account_sid_auth_token(
            &s.base_url,
            s.text("account_sid")?,
            s.secret("auth_token")?,
            &config,
        )?;
        let text = |k: &str, d: &str| s.text(k).map(str::to_string).unwrap_or_else(|_| d.into());
        let names = ActivityNames {
            available: text("available_activity", "Available"),
            busy: text("busy_activity", "Unavailable"),
            away: text("away_activity", "Break"),
            offline: text("offline_activity", "Offline"),
        };
        let workspace = s.text("workspace_sid")?.to_string();
        let account_sid = s.text("account_sid")?;
        let webhook = webhook_setting(s, account_sid, &workspace)?;
        let mut presence =
            TwilioTaskrouterPresence::new(client, workspace).with_activity_names(names);
        if let Some(lag) = s.read_lag() {
            presence = presence.with_read_lag(lag);
        }
        if let Some(w) = webhook {
            presence = presence.with_webhook(w, Some(account_sid.to_string()));
        }
        Ok(Box::new(presence))
    })
    .with_settings(SETTINGS)
    .with_demo(demo())
}

#[cfg(feature = "fake")]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    use agentstatus_presence::registry::Demo;
    Some(|| {
        Box::pin(async {
            use crate::fake::{self, TwilioTaskrouter};
            let fake = TwilioTaskrouter::start("demo-token")
                .await
                .map_err(|e| e.to_string())?;
            let ada = fake::worker_sid_for("ada")?;
            fake.add_worker(fake::WORKSPACE_SID, &ada, "Ada Lovelace", "Offline");
            let grace = fake::worker_sid_for("grace")?;
            fake.add_worker(fake::WORKSPACE_SID, &grace, "Grace Hopper", "Available");
            let client = Client::with_account_sid_auth_token(
                &fake.url(),
                fake::ACCOUNT_SID,
                "demo-token".to_string().into(),
                &crate::ClientConfig::default(),
            )
            .map_err(|e| e.to_string())?;
            let presence = Box::new(TwilioTaskrouterPresence::new(
                client,
                fake::WORKSPACE_SID.to_string(),
            ));
            Ok(Demo::new(fake, presence, ada, |f| f.state_changes()))
        })
    })
}

#[cfg(not(feature = "fake"))]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    None
}
