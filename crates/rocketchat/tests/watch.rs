//! `watch` on Rocket.Chat: the presence delta against the fake, which answers
//! `users.presence?from=` as the server does (specs/rocketchat/NOTES.md#presence-delta).

use std::sync::Arc;
use std::time::Duration;

use agentstatus_presence::Presence;
use agentstatus_presence::watch::{Change, Origin, WatchOptions, Watcher};
use agentstatus_rocketchat::fake::{Agent, Fault, RocketChat};
use agentstatus_rocketchat::presence::RocketChatPresence;
use agentstatus_rocketchat::{Client, Credentials};

const LIST: &str = "/api/v1/livechat/users/agent";
const DELTA: &str = "/api/v1/users.presence";

async fn fake() -> RocketChat {
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "mgr-token", true);
    // a watcher polls the delta more often than a limited token may: the service's admin or
    // bot token bypasses the server's rate limiter
    fake.bypass_rate_limit("mgr");
    // the credentials' own user is an agent too: the delta leaves it out
    fake.add_agent(Agent::new("mgr", "Mary Manager", "available"));
    fake.add_agent(Agent::new("a1", "Ada Lovelace", "not-available"));
    fake.add_agent(Agent::new("a2", "Bob Babbage", "available"));
    fake
}

fn presence(fake: &RocketChat) -> RocketChatPresence {
    let client = Client::with_credentials(
        &fake.url(),
        Credentials::new("mgr", "mgr-token".to_string().into()),
    )
    .unwrap();
    RocketChatPresence::new(client).with_user_id("mgr")
}

async fn next(w: &mut Watcher) -> Change {
    tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("a change within 10 s")
        .expect("no error")
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

#[tokio::test(flavor = "multi_thread")]
async fn changes_arrive_through_the_delta_without_reading_every_agent() {
    let fake = fake().await;
    let presence: Arc<dyn Presence> = Arc::new(presence(&fake));
    let mut w = Watcher::new(
        presence,
        "desk",
        WatchOptions::every(Duration::from_millis(200)),
    );
    assert_eq!(w.origin(), Origin::Delta);

    // the change happens in Rocket.Chat's own UI while the watcher runs
    let first = tokio::spawn(async move {
        let c = next(&mut w).await;
        (c, w)
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    fake.set_status_livechat("a1", "available");
    let (c, mut w) = first.await.unwrap();
    assert_eq!(summary(&c), "a1 offline->available delta");
    let full_reads = fake.faults().count("GET", LIST);

    // the caller's own agent, which the delta leaves out, is read on its own
    fake.set_status_livechat("mgr", "not-available");
    assert_eq!(summary(&next(&mut w).await), "mgr available->offline delta");
    // a chat status and a livechat status change together: one change
    fake.set_presence("a2", "away");
    fake.set_status_livechat("a2", "not-available");
    assert_eq!(summary(&next(&mut w).await), "a2 available->offline delta");
    assert_eq!(
        fake.faults().count("GET", LIST),
        full_reads,
        "deltas only, no full read"
    );
    assert!(fake.faults().count("GET", DELTA) >= 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_answer_or_a_failed_delta_falls_back_to_a_full_read() {
    let fake = fake().await;
    let presence: Arc<dyn Presence> = Arc::new(presence(&fake));
    let mut w = Watcher::new(
        presence,
        "desk",
        WatchOptions::every(Duration::from_millis(200)),
    );
    // the baseline, then presence broadcast disabled: every delta answers `full: true`
    let handle = tokio::spawn(async move {
        let c = next(&mut w).await;
        (c, w)
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    fake.set_presence_broadcast_disabled(true);
    let reads = fake.faults().count("GET", LIST);
    fake.set_status_livechat("a2", "not-available");
    let (c, mut w) = handle.await.unwrap();
    assert_eq!(summary(&c), "a2 available->offline poll");
    assert!(fake.faults().count("GET", LIST) > reads, "a full read");

    // the delta fails (every attempt): reported, then a full read catches up
    fake.set_presence_broadcast_disabled(false);
    for _ in 0..8 {
        fake.faults().push(Fault::Status(503));
    }
    let mut errors = 0;
    fake.set_status_livechat("a1", "available");
    let c = loop {
        match tokio::time::timeout(Duration::from_secs(30), w.next())
            .await
            .expect("within 30 s")
        {
            Ok(c) => break c,
            Err(_) => errors += 1,
        }
    };
    assert!(errors >= 1, "the failure was reported");
    assert_eq!(c.agent_id, "a1");
    assert_eq!(
        c.after.as_ref().map(|p| p.availability.as_str()),
        Some("available")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_user_id_or_with_a_long_interval_it_polls() {
    let fake = fake().await;
    let client = Client::with_credentials(
        &fake.url(),
        Credentials::new("mgr", "mgr-token".to_string().into()),
    )
    .unwrap();
    let plain: Arc<dyn Presence> = Arc::new(RocketChatPresence::new(client));
    let w = Watcher::new(plain, "desk", WatchOptions::default());
    assert_eq!(w.origin(), Origin::Poll);
    let long: Arc<dyn Presence> = Arc::new(presence(&fake));
    let w = Watcher::new(long, "desk", WatchOptions::every(Duration::from_secs(600)));
    assert_eq!(w.origin(), Origin::Poll);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fake_answers_users_presence_as_the_server_does() {
    let fake = fake().await;
    let http = reqwest::Client::new();
    let get = |query: String| {
        let http = http.clone();
        let url = format!("{}{DELTA}{query}", fake.url());
        async move {
            let r = http
                .get(url)
                .header("x-user-id", "mgr")
                .header("x-auth-token", "mgr-token")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["_id"].as_str().unwrap().to_string())
            .collect()
    };
    // no `from`: every user not offline, `full`
    fake.set_presence("a2", "offline");
    let all = get(String::new()).await;
    assert_eq!(all["full"], true);
    assert_eq!(ids(&all), ["a1", "mgr"]);
    assert!(all["users"][0].get("statusLivechat").is_none(), "{all}");
    // `from` a moment ago: the users updated since, the caller left out
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let at = now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let since = get(format!("?from={at}")).await;
    assert_eq!(since["full"], false);
    assert_eq!(ids(&since), Vec::<String>::new());
    fake.set_status_livechat("a1", "available");
    fake.set_status_livechat("mgr", "not-available");
    let recent = now() - chrono::TimeDelta::milliseconds(500);
    let delta = get(format!(
        "?from={}",
        recent.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    ))
    .await;
    assert_eq!(delta["full"], false);
    assert_eq!(ids(&delta), ["a1"]);
    // older than 10 minutes, or unreadable: everything not offline
    let old = now() - chrono::TimeDelta::minutes(11);
    let old = get(format!(
        "?from={}",
        old.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    ))
    .await;
    assert_eq!(old["full"], true);
    assert_eq!(get("?from=yesterday".into()).await["full"], true);
    // `ids`: those not offline
    let some = get("?ids=a1,a2".into()).await;
    assert_eq!(
        (some["full"].clone(), ids(&some)),
        (false.into(), vec!["a1".to_string()])
    );
    // broadcast disabled: nothing
    fake.set_presence_broadcast_disabled(true);
    let none = get(String::new()).await;
    assert_eq!((none["full"].clone(), ids(&none).len()), (true.into(), 0));
}

fn now() -> chrono::DateTime<chrono::Utc> {
    std::time::SystemTime::now().into()
}

/// The user status (the state's word, `Detail::state`) is part of what is observed
/// (`Adapter::OBSERVED`): a user status changed in Rocket.Chat's UI while the livechat status
/// stays is reported once, through the delta and through a poll; a read with nothing changed
/// reports nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_user_status_change_is_reported_once_and_a_quiet_read_reports_nothing() {
    for poll_only in [false, true] {
        let fake = fake().await;
        let presence: Arc<dyn Presence> = Arc::new(presence(&fake));
        let mut w = Watcher::new(
            presence,
            "desk",
            WatchOptions::every(Duration::from_millis(200)).poll_only(poll_only),
        );
        let origin = if poll_only { "poll" } else { "delta" };
        let first = tokio::spawn(async move {
            let c = next(&mut w).await;
            (c, w)
        });
        tokio::time::sleep(Duration::from_millis(700)).await;
        fake.set_presence("a2", "busy");
        let (c, mut w) = first.await.unwrap();
        assert_eq!(summary(&c), format!("a2 available->available {origin}"));
        let (before, after) = (c.before.unwrap(), c.after.unwrap());
        assert_eq!(
            (before.detail.state(), after.detail.state()),
            ("online", "busy")
        );
        // several reads later, nothing changed: nothing reported
        let quiet = tokio::time::timeout(Duration::from_millis(900), w.next()).await;
        assert!(quiet.is_err(), "{poll_only}: {quiet:?}");
    }
}

/// The status message (`statusText`) is part of what is observed: one written in Rocket.Chat's
/// UI is reported once, through the delta and through a poll, with the message before and
/// after; the caller's own (which the delta leaves out) too; an offline (invisible) user's is
/// never shown by the server's presence reads, so it is never reported; messages there before
/// the watch are the baseline, not changes.
#[tokio::test(flavor = "multi_thread")]
async fn a_status_message_change_is_reported_once_and_an_invisible_users_never() {
    for poll_only in [false, true] {
        let fake = fake().await;
        fake.set_status_text("a2", "In a call");
        fake.set_presence("a1", "offline");
        fake.set_status_text("a1", "Invisible lunch");
        let presence: Arc<dyn Presence> = Arc::new(presence(&fake));
        let mut w = Watcher::new(
            presence,
            "desk",
            WatchOptions::every(Duration::from_millis(200)).poll_only(poll_only),
        );
        let origin = if poll_only { "poll" } else { "delta" };
        let first = tokio::spawn(async move {
            let c = next(&mut w).await;
            (c, w)
        });
        tokio::time::sleep(Duration::from_millis(700)).await;
        // an invisible user's message: not shown by the server's presence, not a change
        fake.set_status_text("a1", "Invisible tea");
        tokio::time::sleep(Duration::from_millis(500)).await;
        fake.set_status_text("a2", "  Lunch  ");
        let (c, mut w) = first.await.unwrap();
        assert_eq!(summary(&c), format!("a2 available->available {origin}"));
        let (before, after) = (c.before.clone().unwrap(), c.after.clone().unwrap());
        assert_eq!(before.detail.message.as_deref(), Some("In a call"));
        assert_eq!(
            after.detail.message.as_deref(),
            Some("Lunch"),
            "trimmed as the server does"
        );
        let line = c.to_string();
        assert!(
            line.contains("\"In a call\"") && line.contains("\"Lunch\""),
            "{line}"
        );
        // the message cleared: a change to none
        fake.set_status_text("a2", "");
        let c = next(&mut w).await;
        assert_eq!(c.after.unwrap().detail.message, None, "{poll_only}");
        // the caller's own message
        fake.set_status_text("mgr", "Supervising");
        let c = next(&mut w).await;
        assert_eq!(summary(&c), format!("mgr available->available {origin}"));
        assert_eq!(
            c.after.unwrap().detail.message.as_deref(),
            Some("Supervising")
        );
        // nothing else moved: nothing more
        let quiet = tokio::time::timeout(Duration::from_millis(900), w.next()).await;
        assert!(quiet.is_err(), "{poll_only}: {quiet:?}");
    }
}

/// `get` and `list` carry the end of a timed user status (`statusExpiresAt`, 8.6 and later) and
/// the status message as `users.presence` shows them; a watcher sees the end go when the
/// server's presence engine ends the status; a server before 8.6 has no end to show.
#[tokio::test(flavor = "multi_thread")]
async fn reads_carry_the_end_of_a_timed_status_and_the_watch_sees_it_go() {
    use agentstatus_presence::{Availability, ListFilter, SetRequest};
    let fake = fake().await;
    fake.grant_edit_other_user_info("mgr");
    fake.set_status_text("a2", "Focus time");
    let p = presence(&fake);
    let until = now() + chrono::TimeDelta::minutes(30);
    let request = SetRequest::new(Availability::Available)
        .state("busy")
        .until(until);
    let set = p.set_with("a2", &request).await.unwrap();
    let ms = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis();
    assert_eq!(set.detail.until.map(ms), Some(ms(until)));
    let got = p.get("a2").await.unwrap();
    assert_eq!(
        got.detail.until.map(ms),
        Some(ms(until)),
        "get reads the end"
    );
    assert_eq!(got.detail.message.as_deref(), Some("Focus time"));
    let listed = p.list(&ListFilter::all()).await.unwrap();
    let a2 = listed.iter().find(|a| a.agent_id == "a2").unwrap();
    assert_eq!(
        a2.detail.until.map(ms),
        Some(ms(until)),
        "list reads the end"
    );
    assert_eq!(a2.detail.message.as_deref(), Some("Focus time"));
    let a1 = listed.iter().find(|a| a.agent_id == "a1").unwrap();
    assert_eq!(
        (a1.detail.until, a1.detail.message.as_deref()),
        (None, None)
    );

    // the watch: the timed status ends on the server, back to `online`, the end gone
    let presence: Arc<dyn Presence> = Arc::new(presence(&fake));
    let mut w = Watcher::new(
        presence,
        "desk",
        WatchOptions::every(Duration::from_millis(200)),
    );
    let first = tokio::spawn(async move {
        let c = next(&mut w).await;
        (c, w)
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    fake.advance_clock(Duration::from_secs(31 * 60));
    // the fake's presence engine runs on the next request; the delta sees the user updated
    let (c, _w) = first.await.unwrap();
    let (before, after) = (c.before.unwrap(), c.after.unwrap());
    assert_eq!(
        (before.detail.state(), after.detail.state()),
        ("busy", "online")
    );
    assert_eq!(before.detail.until.map(ms), Some(ms(until)));
    assert_eq!(after.detail.until, None);

    // before 8.6: the expiry is refused (the adapter puts the status back), no end is read
    let old = self::fake().await;
    old.grant_edit_other_user_info("mgr");
    old.set_before_8_6(true);
    let p = self::presence(&old);
    assert!(p.set_with("a2", &request).await.is_err());
    assert_eq!(p.get("a2").await.unwrap().detail.until, None);
}

/// A token the server rate-limits (a `livechat-manager`'s, without `api-bypass-rate-limit`)
/// at the default 10 calls per route a minute: the delta makes two `users.presence` calls an
/// interval (the delta, the caller's own read), so a 1 s interval would be refused within
/// seconds. The server's `X-RateLimit-Limit` on the first answer makes the interval follow the
/// limit (12 s): within the next 4 s no further delta is asked, and nothing is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_token_makes_the_delta_interval_follow_the_limit() {
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "mgr-token", true);
    fake.add_agent(Agent::new("mgr", "Mary Manager", "available"));
    fake.add_agent(Agent::new("a1", "Ada Lovelace", "not-available"));
    let presence: Arc<dyn Presence> = Arc::new(presence(&fake));
    let mut w = Watcher::new(
        presence,
        "desk",
        WatchOptions::every(Duration::from_secs(1)),
    );
    assert_eq!(w.origin(), Origin::Delta);
    let watching = tokio::spawn(async move {
        loop {
            if w.next().await.is_err() {
                return;
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(4)).await;
    watching.abort();
    let deltas = fake.faults().count("GET", DELTA);
    // the first delta (which learns the server's time and the limit) and the full read's
    // `users.presence` after it; at a 1 s interval there would have been 7 or more
    assert!(deltas <= 3, "{deltas} users.presence calls in 4 s");
    assert_eq!(fake.rate_limited(), 0);
}

/// A read replica behind answers the delta from an older snapshot (the fake with stale answers
/// on: every delta computed from a snapshot 3.5 to 4 s old, which leaves out the users updated
/// since): a watch that declares that read lag (`WatchOptions::with_read_lag`, 4 s) asks from
/// that much earlier than the last answer, and the change arrives. Asked from two seconds
/// before the last answer, as before (a read lag of zero; the `Date` header's whole seconds
/// add at most one), every delta of such a replica asks from after its own snapshot: none
/// names anyone, and the change is lost.
#[tokio::test(flavor = "multi_thread")]
async fn a_delta_from_a_replica_behind_loses_no_change_within_the_read_lag() {
    let fake = fake().await;
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 3,
        probability: 1.0,
        max_age: Duration::from_secs(4),
    }));
    fake.faults()
        .set_stale_min_age(Duration::from_millis(3_500));
    let presence: Arc<dyn Presence> = Arc::new(presence(&fake));
    let mut w = Watcher::new(
        presence,
        "desk",
        WatchOptions::every(Duration::from_millis(200)).with_read_lag(Duration::from_secs(4)),
    );
    let first = tokio::spawn(async move {
        let c = next(&mut w).await;
        (c, w)
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    fake.set_status_livechat("a1", "available");
    let (c, _w) = first.await.unwrap();
    assert_eq!(summary(&c), "a1 offline->available delta");
    assert!(
        fake.faults().stale_answers() > 0,
        "the deltas were a replica's"
    );
}
