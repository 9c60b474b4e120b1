#![cfg(all(feature = "watch", feature = "fake"))]
//! `watch` through Graph's change notifications (`GraphSubscriptions`, the adapter's
//! `change_feed`) against the fake's subscriptions, all on 127.0.0.1: the validation handshake,
//! a change arriving through the webhook, a forged `clientState`, renewal before expiry, and
//! the full reads after a `missed` lifecycle event or a dropped notification.
use std::sync::Arc;
use std::time::Duration;

use agentstatus_msgraph::fake::{self, CLIENT_ID, Msgraph};
use agentstatus_msgraph::presence::MsgraphPresence;
use agentstatus_msgraph::watch::{GraphSubscriptions, SubscriberToken, Webhook};
use agentstatus_msgraph::{Client, ClientConfig};
use agentstatus_presence::watch::{Batch, ChangeFeed, Origin, WatchOptions, Watcher};
use agentstatus_presence::{Availability, ErrorKind, Failure, Presence};
use serde_json::json;

const SECRET: &str = "watch-secret";

fn ada() -> String {
    fake::user_id(1)
}

fn adapter(fake: &Msgraph) -> MsgraphPresence {
    let credentials = Client::azureaadv2_credentials(CLIENT_ID, SECRET.to_string().into())
        .with_token_url(fake.token_url());
    let client =
        Client::with_azureaadv2_credentials(&fake.url(), credentials, &ClientConfig::default())
            .unwrap();
    MsgraphPresence::new(client, CLIENT_ID.to_string())
        .with_users(vec![fake::user_id(1), fake::user_id(2)])
}

/// The fake with two users (both Available) and a webhook on a free loopback port, subscribing
/// with a delegated token of the second user.
async fn start() -> (Msgraph, Webhook, String) {
    let fake = Msgraph::start(SECRET).await.unwrap();
    for n in 1..=2 {
        fake.add_user(&fake::user_id(n), &format!("User {n}"));
        fake.put_session(
            &fake::user_id(n),
            CLIENT_ID,
            "Available",
            "Available",
            Duration::from_secs(4 * 3600),
        );
    }
    let token = fake.delegated_token(&fake::user_id(2));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/graph/notify", listener.local_addr().unwrap());
    let webhook =
        Webhook::with_listener(listener, &url, SubscriberToken::Fixed(token.into())).unwrap();
    (fake, webhook, url)
}

/// A token of the application's own (client credentials), from the fake's token endpoint.
async fn app_token(fake: &Msgraph) -> String {
    reqwest::Client::new()
        .post(fake.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}&scope={}",
            fake::SCOPE.replace(':', "%3A").replace('/', "%2F")
        ))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within 10 s"))
}

/// Wait until the watcher has read successfully since `before` (its success clock moved): the
/// full read that follows a subscription or a resync.
async fn read_after(
    clock: &agentstatus_presence::watch::LastSuccess,
    before: Option<chrono::DateTime<chrono::Utc>>,
) {
    within("a full read", async {
        while clock.get() == before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

type Changes = tokio::sync::mpsc::UnboundedReceiver<
    Result<agentstatus_presence::watch::Change, agentstatus_presence::PresenceError>,
>;

/// Run `watcher` on its own, as `agentstatus watch` does: its changes in a channel.
fn pump(mut watcher: Watcher) -> (Changes, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move { while tx.send(watcher.next().await).is_ok() {} });
    (rx, task)
}

/// Set Ada on the fake to each of `steps` in turn until a change arrives by push, and return
/// it. The full reads the feed asks for (after subscribing, after a lifecycle event) are paced
/// by the watcher, so one may still be due when Ada changes and find the change first (origin
/// Poll; the push that follows then finds nothing new): the next step changes Ada again.
async fn until_pushed(
    setter: &MsgraphPresence,
    changes: &mut Changes,
    steps: &[Availability],
) -> agentstatus_presence::watch::Change {
    for &desired in steps {
        setter.set(&ada(), desired).await.unwrap();
        let c = within("the change", changes.recv()).await.unwrap().unwrap();
        assert_eq!(c.agent_id, ada());
        assert_eq!(c.after.as_ref().unwrap().availability, desired, "{c}");
        if c.origin == Origin::Push {
            return c;
        }
    }
    panic!("none of {steps:?} arrived by push");
}

/// Wait until the fake holds a subscription.
async fn subscribed(fake: &Msgraph) {
    within("a subscription", async {
        while fake.subscriptions().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn the_validation_handshake_is_answered_on_the_wire() {
    let (fake, webhook, url) = start().await;
    let mut feed = GraphSubscriptions::new(
        adapter(&fake),
        vec![fake::user_id(1), fake::user_id(2)],
        webhook.clone(),
    )
    .unwrap();
    // the first call subscribes (the fake validates the URL before its 201) and asks for a
    // full read
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    let validations = fake.validations();
    assert_eq!(validations.len(), 1, "{validations:?}");
    let v = &validations[0];
    assert!(v.url.starts_with(&url), "{}", v.url);
    assert!(
        v.token.contains(' '),
        "Graph's tokens have spaces: {}",
        v.token
    );
    assert_eq!(v.status, Some(200));
    assert!(v.content_type.as_deref().unwrap().starts_with("text/plain"));
    assert_eq!(v.body, v.token, "the token, URL-decoded, exactly");
    assert!(v.accepted);
    let subs = fake.subscriptions();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].ids, [fake::user_id(1), fake::user_id(2)]);
    assert_eq!(subs[0].notification_url, url);
    let state = subs[0].client_state.clone().unwrap();
    assert!(
        state.len() >= 40,
        "a random secret, not a constant: {state}"
    );
    assert_eq!(feed.subscriptions(), [subs[0].id.clone()]);

    // the receiver on the wire, asked by hand: the token back as text, whatever it holds
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{url}?validationToken=a%20b%2Bc%3C%2Fscript%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["content-type"].to_str().unwrap(),
        "text/plain; charset=utf-8"
    );
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    assert_eq!(answer.text().await.unwrap(), "a b+c</script>");
    // not JSON, no token: refused; a body over the limit: refused
    let answer = http.post(&url).body("hello").send().await.unwrap();
    assert_eq!(answer.status(), 400);
    let big = vec![b' '; agentstatus_msgraph::watch::MAX_BODY + 1];
    let answer = http.post(&url).body(big).send().await.unwrap();
    assert_eq!(answer.status(), 413);
    assert_eq!(webhook.stats().validations, 2);

    // shutdown deletes the subscription
    within("shutdown", feed.shutdown()).await.unwrap();
    assert!(fake.subscriptions().is_empty());
}

#[tokio::test]
async fn a_change_on_the_fake_arrives_through_the_webhook() {
    let (fake, webhook, _) = start().await;
    let presence = adapter(&fake).with_webhook(webhook.clone());
    let watcher = Watcher::new(
        Arc::new(presence),
        "teams",
        WatchOptions::every(Duration::from_secs(3600)),
    );
    assert_eq!(watcher.origin(), Origin::Push);
    let setter = adapter(&fake);
    let clock = watcher.success_clock();
    let (mut changes, task) = pump(watcher);
    subscribed(&fake).await;
    read_after(&clock, None).await;
    let c = until_pushed(
        &setter,
        &mut changes,
        &[Availability::Busy, Availability::Away, Availability::Busy],
    )
    .await;
    task.abort();
    let before = c.before.unwrap().availability;
    assert_ne!(before, c.after.as_ref().unwrap().availability);
    let after = c.after.unwrap();
    if after.availability == Availability::Busy {
        assert_eq!(after.detail.vendor_status, "Busy/InACall");
    }
    assert!(fake.deliveries().delivered >= 1);
    assert!(webhook.stats().received >= 1);
    assert_eq!(webhook.stats().refused, 0);
}

#[tokio::test]
async fn a_wrong_client_state_is_refused_and_counted() {
    let (fake, webhook, _) = start().await;
    let mut feed = GraphSubscriptions::new(
        adapter(&fake),
        vec![fake::user_id(1), fake::user_id(2)],
        webhook.clone(),
    )
    .unwrap();
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    let sub = fake.subscriptions().remove(0);
    // a forged notification: the subscription's id, but not its secret (and none at all)
    let forged = json!({"value": [
        {"subscriptionId": sub.id, "clientState": "guessed", "changeType": "updated",
         "resource": format!("communications/presences('{}')", ada()),
         "resourceData": {"id": ada()}},
        {"subscriptionId": sub.id, "changeType": "updated",
         "resource": format!("communications/presences('{}')", ada())},
        {"subscriptionId": sub.id, "clientState": "guessed", "lifecycleEvent": "missed"},
    ]});
    assert_eq!(fake.post_to_subscribers(&forged).await, 1, "answered 202");
    let stats = webhook.stats();
    assert_eq!(stats.refused, 3, "{stats:?}");
    assert_eq!((stats.received, stats.lifecycle), (0, 0));
    // nothing reaches the feed: no read, no resync
    let calls = fake.api_calls();
    let quiet = tokio::time::timeout(Duration::from_millis(600), feed.next()).await;
    assert!(
        quiet.is_err(),
        "a forged notification moved the feed: {quiet:?}"
    );
    assert_eq!(fake.api_calls(), calls, "no read for a forged notification");

    // the real one, with the secret, is read
    let setter = adapter(&fake);
    setter.set(&ada(), Availability::Away).await.unwrap();
    match within("the change", feed.next()).await.unwrap() {
        Batch::Changed(agents) => {
            assert_eq!(agents.len(), 1);
            assert_eq!(agents[0].agent_id, ada());
            assert_eq!(agents[0].availability, Availability::Away);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(webhook.stats().received, 1);
}

#[tokio::test]
async fn subscriptions_are_renewed_before_they_expire_and_made_anew_when_removed() {
    let (fake, webhook, _) = start().await;
    // two seconds: renewed after 1.33 s; the fake's clock expires it at 2 s otherwise
    let webhook = webhook.with_lifetime(Duration::from_secs(2)).unwrap();
    let mut feed = GraphSubscriptions::new(
        adapter(&fake),
        vec![fake::user_id(1), fake::user_id(2)],
        webhook.clone(),
    )
    .unwrap();
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    let first = fake.subscriptions().remove(0);
    assert_eq!(first.renewals, 0);
    // nothing happens for 3.5 s: the feed renews meanwhile
    let quiet = tokio::time::timeout(Duration::from_millis(3500), feed.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");
    let subs = fake.subscriptions();
    assert_eq!(subs.len(), 1, "still alive after its first lifetime");
    assert_eq!(subs[0].id, first.id);
    assert!(subs[0].renewals >= 2, "renewed: {subs:?}");

    // Graph removes it (and says so): a new one, then a full read
    assert_eq!(fake.lifecycle("subscriptionRemoved").await, 1);
    assert_eq!(within("resync", feed.next()).await.unwrap(), Batch::Resync);
    assert_eq!(
        within("resubscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    let subs = fake.subscriptions();
    assert_eq!(subs.len(), 1);
    assert_ne!(subs[0].id, first.id, "made anew");
    assert_eq!(feed.subscriptions(), [subs[0].id.clone()]);

    // more than an hour is refused before anything is sent
    let e = webhook
        .with_lifetime(Duration::from_secs(7200))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_missed_event_or_a_dropped_notification_leads_to_a_full_read() {
    let (fake, webhook, _) = start().await;
    let presence = adapter(&fake).with_webhook(webhook.clone());
    let mut watcher = Watcher::new(
        Arc::new(presence),
        "teams",
        WatchOptions::every(Duration::from_secs(3600)),
    );
    let setter = adapter(&fake);
    let fake = Arc::new(fake);
    let f = fake.clone();
    let clock = watcher.success_clock();
    let script = tokio::spawn(async move {
        subscribed(&f).await;
        read_after(&clock, None).await;
        // Graph could not deliver this one
        f.drop_notifications(1);
        setter.set(&ada(), Availability::Busy).await.unwrap();
        assert_eq!(f.deliveries().dropped, 1);
        // ... and says so
        assert_eq!(f.lifecycle("missed").await, 1);
    });
    let c = within("the change", watcher.next()).await.unwrap();
    script.await.unwrap();
    assert_eq!(c.agent_id, ada());
    assert_eq!(c.origin, Origin::Poll, "found by the full read: {c}");
    assert_eq!(c.after.unwrap().availability, Availability::Busy);
    let stats = webhook.stats();
    assert_eq!((stats.lifecycle, stats.received), (1, 0), "{stats:?}");
    assert!(
        stats.resyncs >= 2,
        "the first subscription's and the missed one's"
    );
}

#[tokio::test]
async fn the_fake_refuses_what_graph_refuses() {
    let (fake, _, url) = start().await;
    let http = reqwest::Client::new();
    let subscribe = |token: String, expires: chrono::DateTime<chrono::Utc>, ids: usize| {
        let ids: Vec<String> = (1..=ids)
            .map(|n| format!("'{}'", fake::user_id(n)))
            .collect();
        http.post(format!("{}/v1.0/subscriptions", fake.url()))
            .bearer_auth(token)
            .json(&json!({
                "changeType": "updated",
                "notificationUrl": url,
                "resource": format!("/communications/presences?$filter=id in ({})", ids.join(",")),
                "expirationDateTime": expires.to_rfc3339(),
                "clientState": "s",
            }))
            .send()
    };
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let user = fake.delegated_token(&fake::user_id(2));
    // an application's token: presence subscriptions are delegated only
    let app = app_token(&fake).await;
    let hour = chrono::TimeDelta::minutes(30);
    assert_eq!(subscribe(app, now + hour, 2).await.unwrap().status(), 403);
    // over an hour, in the past, more than 650 users: 400
    let two_hours = chrono::TimeDelta::hours(2);
    assert_eq!(
        subscribe(user.clone(), now + two_hours, 2)
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        subscribe(user.clone(), now - hour, 2)
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        subscribe(user.clone(), now + hour, 651)
            .await
            .unwrap()
            .status(),
        400
    );
    assert!(fake.subscriptions().is_empty());
    assert!(fake.validations().is_empty(), "refused before validating");
    // no receiver at the URL any more: the validation fails, no subscription
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/", dead.local_addr().unwrap());
    drop(dead);
    let answer = http
        .post(format!("{}/subscriptions", fake.url()))
        .bearer_auth(&user)
        .json(&json!({
            "changeType": "updated",
            "notificationUrl": dead_url,
            "resource": format!("communications/presences/{}", ada()),
            "expirationDateTime": (now + hour).to_rfc3339(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert!(fake.subscriptions().is_empty());
    assert_eq!(fake.validations().len(), 1);
    assert!(!fake.validations()[0].accepted);
}

#[tokio::test]
async fn the_registry_settings_choose_the_feed_and_refuse_what_cannot_work() {
    use agentstatus_presence::registry::Settings;
    let fake = Msgraph::start(SECRET).await.unwrap();
    let connect = |extra: &[(&'static str, &str)]| {
        let mut s = Settings::new(fake.url(), ClientConfig::default())
            .with_value("client_id", CLIENT_ID)
            .with_value("token_url", fake.token_url())
            .with_value("scopes", fake::SCOPE)
            .with_value(
                "users",
                format!("{},{}", fake::user_id(1), fake::user_id(2)),
            )
            .with_secret("client_secret", SECRET.to_string().into());
        for (k, v) in extra {
            s = s.with_value(k, *v);
        }
        (agentstatus_msgraph::presence::entry().connect)(&s)
    };
    let options = WatchOptions::default();
    // poll, the default: the webhook settings are not read at all
    let p = connect(&[("webhook_listen", "nonsense")]).unwrap();
    assert!(p.change_feed(&options).is_none());
    let p = connect(&[("watch", "poll"), ("webhook_url", "nonsense")]).unwrap();
    assert!(p.change_feed(&options).is_none());

    let listen = ("webhook_listen", "127.0.0.1:0");
    let token = ("subscription_token_file", "/nonexistent/token");
    let notifications = ("watch", "notifications");
    let error = |extra: &[(&'static str, &str)]| connect(extra).err().unwrap().to_string();
    let e = error(&[notifications, listen]);
    assert!(
        e.contains("missing: webhook_url, subscription_token_file"),
        "{e}"
    );
    let e = error(&[
        notifications,
        listen,
        token,
        ("webhook_url", "http://example.com/x"),
    ]);
    assert!(e.contains("https://"), "{e}");
    let e = error(&[
        notifications,
        token,
        ("webhook_listen", "localhost"),
        ("webhook_url", "https://example.com/x"),
    ]);
    assert!(e.contains("webhook_listen \"localhost\""), "{e}");
    let e = error(&[
        notifications,
        listen,
        token,
        ("webhook_url", "https://example.com/x"),
        ("users", "abc') or id ne ('x"),
    ]);
    assert!(e.contains("user object ids (GUIDs) only"), "{e}");

    // complete: the feed; its token file is read only when it subscribes, and its error names
    // the file, not a token
    let p = connect(&[
        notifications,
        listen,
        token,
        ("webhook_url", "https://example.com/x"),
    ])
    .unwrap();
    let mut feed = p.change_feed(&options).expect("the notifications feed");
    assert_eq!(feed.origin(), Origin::Push);
    let e = within("the first call", feed.next()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("/nonexistent/token"), "{e}");
    assert!(fake.subscriptions().is_empty());
}

#[tokio::test]
async fn a_session_ending_on_the_fake_clock_is_notified() {
    let (fake, webhook, _) = start().await;
    // ada's session set with no expirationDuration: 5 minutes (Learn presence-setpresence)
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/communications/presences/{}/microsoft.graph.setPresence",
            fake.url(),
            ada()
        ))
        .bearer_auth(app_token(&fake).await)
        .json(&json!({"sessionId": CLIENT_ID, "availability": "Busy", "activity": "InACall"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let mut feed = GraphSubscriptions::new(
        adapter(&fake),
        vec![fake::user_id(1), fake::user_id(2)],
        webhook.clone(),
    )
    .unwrap();
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    // 4 min 50 s: still Busy, nothing sent
    fake.advance(Duration::from_secs(290));
    let quiet = tokio::time::timeout(Duration::from_millis(400), feed.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");
    assert_eq!(fake.deliveries(), Default::default());
    // past 5 minutes: the session ended, ada reads Offline, and the subscriber hears of it
    fake.advance(Duration::from_secs(20));
    match within("the expiry", feed.next()).await.unwrap() {
        Batch::Changed(agents) => {
            assert_eq!(agents.len(), 1);
            assert_eq!(agents[0].agent_id, ada());
            assert_eq!(agents[0].availability, Availability::Offline);
            assert_eq!(agents[0].detail.vendor_status, "Offline/Offline");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.deliveries().delivered, 1);
}

/// The path `agentstatus watch --vendor msgraph` takes: the registry entry's settings, then a
/// `Watcher` over what it connects. The token file is read at each subscription call, so a
/// token refreshed in the file is what a reauthorization uses.
#[tokio::test]
async fn the_registry_entry_watches_by_notifications_with_a_token_file_kept_fresh() {
    use agentstatus_presence::registry::Settings;
    let (fake, _, _) = start().await;
    let dir = tempfile::Builder::new()
        .prefix("msgraph-watch-")
        .tempdir()
        .unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, fake.delegated_token(&fake::user_id(2)) + "\n").unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://127.0.0.1:{port}/hook");
    let settings = Settings::new(fake.url(), ClientConfig::default())
        .with_value("client_id", CLIENT_ID)
        .with_value("token_url", fake.token_url())
        .with_value("scopes", fake::SCOPE)
        .with_value(
            "users",
            format!("{},{}", fake::user_id(1), fake::user_id(2)),
        )
        .with_value("watch", "notifications")
        .with_value("webhook_listen", listen.as_str())
        .with_value("webhook_url", url.as_str())
        .with_value("subscription_token_file", token_file.to_str().unwrap())
        // in the scratch directory, not the default under $HOME
        .with_value(
            "webhook_lock_file",
            dir.path().join("graph.lock").to_str().unwrap(),
        )
        .with_secret("client_secret", SECRET.to_string().into());
    let presence = (agentstatus_msgraph::presence::entry().connect)(&settings).unwrap();
    let watcher = Watcher::new(
        Arc::from(presence),
        "teams",
        WatchOptions::every(Duration::from_secs(3600)),
    );
    assert_eq!(watcher.origin(), Origin::Push);
    let setter = adapter(&fake);
    let fake = Arc::new(fake);
    let f = fake.clone();
    let file = token_file.clone();
    let clock = watcher.success_clock();
    let (mut changes, task) = pump(watcher);
    within("the reauthorization", async {
        subscribed(&f).await;
        read_after(&clock, None).await;
        // the user's token is refreshed in the file; the old one stops working
        f.expire_tokens();
        let fresh = f.delegated_token(&fake::user_id(2));
        std::fs::write(&file, format!("{fresh}\n")).unwrap();
        // ... and Graph asks for a reauthorization: renewed with the file's token
        let before = clock.get();
        assert_eq!(f.lifecycle("reauthorizationRequired").await, 1);
        // the resync's full read
        read_after(&clock, before).await;
    })
    .await;
    // a change is pushed, with the subscription the file's token renewed
    until_pushed(
        &setter,
        &mut changes,
        &[
            Availability::Away,
            Availability::Busy,
            Availability::Away,
            Availability::Busy,
        ],
    )
    .await;
    task.abort();
    let subs = fake.subscriptions();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].renewals, 1, "renewed for the reauthorization");
    assert_eq!(subs[0].notification_url, url);
    let validation = &fake.validations()[0];
    assert!(validation.url.starts_with(&url) && validation.accepted);
    drop(dir);
}

#[tokio::test]
async fn subscriptions_a_killed_run_left_behind_are_deleted_first() {
    let (fake, webhook, url) = start().await;
    let users = vec![fake::user_id(1), fake::user_id(2)];
    let mut first = GraphSubscriptions::new(adapter(&fake), users.clone(), webhook).unwrap();
    assert_eq!(
        within("subscribe", first.next()).await.unwrap(),
        Batch::Resync
    );
    let old = fake.subscriptions().remove(0);
    // killed: nothing deleted (its receiver lives on, answering Graph's validation requests)
    std::mem::forget(first);
    // another user's subscription to the same URL is not this run's to delete
    let other = fake.delegated_token(&fake::user_id(1));
    let answer = reqwest::Client::new()
        .post(format!("{}/subscriptions", fake.url()))
        .bearer_auth(&other)
        .json(&json!({
            "changeType": "updated",
            "notificationUrl": url,
            "resource": format!("communications/presences/{}", ada()),
            "expirationDateTime": (chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
                + chrono::TimeDelta::minutes(30)).to_rfc3339(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);

    // the next run, same public URL, same user
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let token = fake.delegated_token(&fake::user_id(2));
    let webhook =
        Webhook::with_listener(listener, &url, SubscriberToken::Fixed(token.into())).unwrap();
    let mut second = GraphSubscriptions::new(adapter(&fake), users, webhook).unwrap();
    assert_eq!(
        within("subscribe", second.next()).await.unwrap(),
        Batch::Resync
    );
    let subs = fake.subscriptions();
    assert_eq!(subs.len(), 2, "{subs:?}");
    assert!(subs.iter().all(|s| s.id != old.id), "the old one is gone");
    assert!(
        subs.iter().any(|s| s.creator == fake::user_id(1)),
        "the other user's stays"
    );
    assert_eq!(second.subscriptions().len(), 1);
}

/// Run `watcher` until `stop` fires, then shut it down, as `agentstatus watch` does on SIGINT or
/// SIGTERM (its `next` cancelled by the signal): the shutdown's result.
fn watch_until(
    mut watcher: Watcher,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<Result<(), agentstatus_presence::PresenceError>> {
    tokio::spawn(async move {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = watcher.next() => {}
            }
        }
        watcher.shutdown().await
    })
}

#[tokio::test]
async fn a_watch_that_is_shut_down_leaves_no_subscription_behind() {
    let (fake, webhook, _) = start().await;
    let presence = adapter(&fake).with_webhook(webhook);
    let watcher = Watcher::new(
        Arc::new(presence),
        "teams",
        WatchOptions::every(Duration::from_secs(3600)),
    );
    assert_eq!(watcher.origin(), Origin::Push);
    let clock = watcher.success_clock();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let task = watch_until(watcher, stopped);
    subscribed(&fake).await;
    read_after(&clock, None).await;
    assert_eq!(fake.subscriptions().len(), 1);
    stop.send(()).unwrap();
    within("the shutdown", task).await.unwrap().unwrap();
    assert!(
        fake.subscriptions().is_empty(),
        "{:?}",
        fake.subscriptions()
    );
}

#[tokio::test]
async fn a_shutdown_that_cannot_delete_reports_it_and_returns() {
    let (fake, _, _) = start().await;
    // the subscriber's token from a file, which is gone by the shutdown
    let dir = tempfile::Builder::new()
        .prefix("msgraph-shutdown-")
        .tempdir()
        .unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, fake.delegated_token(&fake::user_id(2))).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/graph/notify", listener.local_addr().unwrap());
    let webhook =
        Webhook::with_listener(listener, &url, SubscriberToken::File(file.clone())).unwrap();
    let mut feed =
        GraphSubscriptions::new(adapter(&fake), vec![fake::user_id(1)], webhook).unwrap();
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    std::fs::remove_file(&file).unwrap();
    let e = within("the shutdown", feed.shutdown()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("subscription_token_file"), "{e}");
    // left to expire on Graph; a second shutdown has nothing left to try
    assert_eq!(fake.subscriptions().len(), 1);
    feed.shutdown().await.unwrap();
    drop(dir);
}

#[tokio::test(flavor = "current_thread")]
async fn a_shutdown_is_bounded_by_its_deadline() {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex("^/subscriptions$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "value": [] })))
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/subscriptions$"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
            "expirationDateTime": (chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
                + chrono::TimeDelta::minutes(30)).to_rfc3339(),
        })))
        .mount(&graph)
        .await;
    // Graph does not answer the delete
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204).set_delay(Duration::from_secs(3600)))
        .mount(&graph)
        .await;
    let credentials = Client::azureaadv2_credentials(CLIENT_ID, SECRET.to_string().into())
        .with_token_url(format!("{}/token", graph.uri()));
    let client =
        Client::with_azureaadv2_credentials(&graph.uri(), credentials, &ClientConfig::default())
            .unwrap();
    let presence = MsgraphPresence::new(client, CLIENT_ID.to_string());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let webhook = Webhook::with_listener(
        listener,
        &url,
        SubscriberToken::Fixed("user-token".to_string().into()),
    )
    .unwrap();
    let mut feed = GraphSubscriptions::new(presence, vec![ada()], webhook).unwrap();
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    // the clock stands still, and jumps to the next timer while the delete waits: the
    // deadline's, which comes before any of the client's own timeouts
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let e = feed.shutdown().await.unwrap_err();
    let waited = started.elapsed();
    let deadline = agentstatus_msgraph::watch::SHUTDOWN_DEADLINE;
    // the paused clock's timers fire to the millisecond
    assert!(
        waited >= deadline && waited < deadline + Duration::from_millis(100),
        "{waited:?}"
    );
    assert!(e.to_string().contains("deadline"), "{e}");
    assert_eq!(e.operation(), Some("subscription_delete"));
}

/// A feed subscribed on the fake whose receiver has `limits`: the receiver's address and path.
async fn receiving(
    limits: agentstatus_msgraph::watch::ReceiverLimits,
) -> (Msgraph, GraphSubscriptions, std::net::SocketAddr) {
    let fake = Msgraph::start(SECRET).await.unwrap();
    fake.add_user(&ada(), "Ada");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let token = fake.delegated_token(&fake::user_id(2));
    let webhook = Webhook::with_listener(
        listener,
        &format!("http://{addr}/graph/notify"),
        SubscriberToken::Fixed(token.into()),
    )
    .unwrap()
    .with_receiver_limits(limits)
    .unwrap();
    let mut feed = GraphSubscriptions::new(adapter(&fake), vec![ada()], webhook).unwrap();
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    (fake, feed, addr)
}

/// Everything the server sends until it closes the connection (or `limit` passes: `None`).
async fn until_closed(stream: &mut tokio::net::TcpStream, limit: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let mut got = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut got)).await {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

/// A validation request, whole, on a raw connection: the server's answer.
async fn validate(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncWriteExt as _;
    stream
        .write_all(
            b"POST /graph/notify?validationToken=hello HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    until_closed(stream, Duration::from_secs(10))
        .await
        .expect("answered")
}

#[tokio::test]
async fn a_client_that_sends_its_headers_a_byte_a_second_is_cut_off() {
    use tokio::io::AsyncWriteExt as _;
    let limits = agentstatus_msgraph::watch::ReceiverLimits::default()
        .with_header_read_timeout(Duration::from_secs(2));
    let (_fake, _feed, addr) = receiving(limits).await;
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    let request =
        b"POST /graph/notify?validationToken=slow HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n";
    let mut cut = false;
    for byte in request {
        if slow.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        // a read that ends (EOF, reset) is the server cutting the connection
        if let Some(answer) = until_closed(&mut slow, Duration::from_secs(1)).await {
            assert!(!answer.contains("200 OK"), "served: {answer}");
            cut = true;
            break;
        }
    }
    let elapsed = started.elapsed();
    assert!(cut, "the whole request went through, a byte a second");
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(5),
        "cut off after {elapsed:?}"
    );
    // the receiver still answers others
    let mut fresh = tokio::net::TcpStream::connect(addr).await.unwrap();
    let answer = validate(&mut fresh).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let limits = agentstatus_msgraph::watch::ReceiverLimits::default()
        .with_header_read_timeout(Duration::from_secs(1));
    let (_fake, _feed, addr) = receiving(limits).await;
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    let closed = until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "an idle connection is kept");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_body_that_trickles_in_is_answered_408_within_the_request_timeout() {
    use tokio::io::AsyncWriteExt as _;
    let limits = agentstatus_msgraph::watch::ReceiverLimits::default()
        .with_request_timeout(Duration::from_secs(2));
    let (fake, _feed, addr) = receiving(limits).await;
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /graph/notify HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n",
    )
    .await
    .unwrap();
    let started = tokio::time::Instant::now();
    let mut answer = None;
    for _ in 0..100 {
        if slow.write_all(b" ").await.is_err() {
            break;
        }
        if let Some(a) = until_closed(&mut slow, Duration::from_secs(1)).await {
            answer = Some(a);
            break;
        }
    }
    let elapsed = started.elapsed();
    let answer = answer.expect("the connection ends");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    // nothing was taken from it
    assert_eq!(fake.deliveries().delivered, 0);
}

#[tokio::test]
async fn connections_over_the_bound_wait_until_one_ends() {
    let limits = agentstatus_msgraph::watch::ReceiverLimits::default()
        .with_max_connections(2)
        .with_header_read_timeout(Duration::from_secs(30));
    let (_fake, _feed, addr) = receiving(limits).await;
    // two connections that hold their slots (no request yet)
    let first = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _second = tokio::net::TcpStream::connect(addr).await.unwrap();
    // a third is taken by the kernel, not served
    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    let waiting = tokio::spawn(async move {
        let answer = validate(&mut third).await;
        (answer, tokio::time::Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!waiting.is_finished(), "served beyond the bound");
    let freed = tokio::time::Instant::now();
    drop(first);
    let (answer, at) = within("the third is served", waiting).await.unwrap();
    assert!(at >= freed);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
}

#[tokio::test]
async fn notifications_still_arrive_with_the_limits() {
    let limits = agentstatus_msgraph::watch::ReceiverLimits::default()
        .with_max_connections(1)
        .with_header_read_timeout(Duration::from_secs(2))
        .with_request_timeout(Duration::from_secs(2));
    let (fake, mut feed, _) = receiving(limits).await;
    adapter(&fake)
        .set(&ada(), Availability::Busy)
        .await
        .unwrap();
    let batch = within("a notification", feed.next()).await.unwrap();
    let Batch::Changed(agents) = batch else {
        panic!("{batch:?}")
    };
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].availability, Availability::Busy);
    assert!(fake.deliveries().delivered >= 1);
}

#[test]
fn receiver_limits_of_zero_are_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/n", listener.local_addr().unwrap());
    let webhook = Webhook::with_listener(
        listener,
        &url,
        SubscriberToken::Fixed("t".to_string().into()),
    )
    .unwrap();
    let limits = agentstatus_msgraph::watch::ReceiverLimits::default();
    for bad in [
        limits.with_max_connections(0),
        limits.with_header_read_timeout(Duration::ZERO),
        limits.with_request_timeout(Duration::ZERO),
    ] {
        let e = webhook.clone().with_receiver_limits(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }
    webhook.with_receiver_limits(limits).unwrap();
}

/// The generated subscription calls decode Graph's error body as the ChangeNotifications module
/// declares it (`odata.error`, under its renamed answer): a subscription made with the
/// application's own token is refused (presence subscriptions are delegated only), and the feed
/// reports Graph's status, code and message in its operation, never the token, and leaves no
/// subscription.
#[tokio::test]
async fn a_refused_subscription_reports_graphs_code_and_message_never_the_token() {
    let (fake, _, _) = start().await;
    let app = app_token(&fake).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let webhook =
        Webhook::with_listener(listener, &url, SubscriberToken::Fixed(app.clone().into())).unwrap();
    let mut feed = GraphSubscriptions::new(adapter(&fake), vec![ada()], webhook).unwrap();
    let e = within("subscribe", feed.next()).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "{e}");
    assert_eq!(e.code(), Some("Forbidden"), "{e}");
    assert_eq!(e.operation(), Some("subscription_create"), "{e}");
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("application permissions are not supported"),
        "{shown}"
    );
    assert!(!shown.contains(&app), "the token is shown: {shown}");
    assert!(fake.subscriptions().is_empty());
    // the list before it was made with the same token, and answered (the fake lists every
    // subscription to an application's token)
    assert!(fake.validations().is_empty(), "refused before validating");
}

/// A subscription answer that is not what the document declares (a body that does not decode,
/// a success status it does not declare) is reported without quoting the body: Graph's
/// subscriptions carry the secret `clientState`.
#[tokio::test]
async fn an_undecodable_subscription_answer_is_reported_without_its_body() {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const MARKER: &str = "client-state-that-must-not-be-shown";
    for (status, body) in [
        // `id` is no string
        (201, json!({ "id": 5, "clientState": MARKER })),
        // the document declares 201
        (
            200,
            json!({ "id": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07", "clientState": MARKER }),
        ),
    ] {
        let graph = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path_regex("^/subscriptions$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "value": [] })))
            .mount(&graph)
            .await;
        Mock::given(method("POST"))
            .and(path_regex("^/subscriptions$"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&graph)
            .await;
        let credentials = Client::azureaadv2_credentials(CLIENT_ID, SECRET.to_string().into())
            .with_token_url(format!("{}/token", graph.uri()));
        let client = Client::with_azureaadv2_credentials(
            &graph.uri(),
            credentials,
            &ClientConfig::default(),
        )
        .unwrap();
        let presence = MsgraphPresence::new(client, CLIENT_ID.to_string());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let webhook = Webhook::with_listener(
            listener,
            &url,
            SubscriberToken::Fixed("user-token".to_string().into()),
        )
        .unwrap();
        let mut feed = GraphSubscriptions::new(presence, vec![ada()], webhook).unwrap();
        let e = within("subscribe", feed.next()).await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{status}: {shown}");
        assert_eq!(e.operation(), Some("subscription_create"), "{shown}");
        assert!(
            !shown.contains(MARKER),
            "{status}: the body is shown: {shown}"
        );
        assert!(feed.subscriptions().is_empty());
    }
}

/// A run of the second user's watch to `url` on its own listener, subscribed, then killed
/// (nothing deleted; its receiver lives on, answering Graph's validation requests).
async fn killed_run(fake: &Msgraph) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/graph/notify", listener.local_addr().unwrap());
    let token = fake.delegated_token(&fake::user_id(2));
    let webhook =
        Webhook::with_listener(listener, &url, SubscriberToken::Fixed(token.into())).unwrap();
    let users = vec![fake::user_id(1), fake::user_id(2)];
    let mut run = GraphSubscriptions::new(adapter(fake), users, webhook).unwrap();
    assert_eq!(
        within("subscribe", run.next()).await.unwrap(),
        Batch::Resync
    );
    // kill -9: nothing of the feed runs (its lock, had it one, released by the OS)
    run.killed();
    url
}

/// The next run to `url`, on a new listener: what its startup does.
async fn next_run(
    fake: &Msgraph,
    url: &str,
) -> (
    GraphSubscriptions,
    Result<Batch, agentstatus_presence::PresenceError>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let token = fake.delegated_token(&fake::user_id(2));
    let webhook =
        Webhook::with_listener(listener, url, SubscriberToken::Fixed(token.into())).unwrap();
    let users = vec![fake::user_id(1), fake::user_id(2)];
    let mut run = GraphSubscriptions::new(adapter(fake), users, webhook).unwrap();
    let first = within("subscribe", run.next()).await;
    (run, first)
}

/// Graph pages `GET /subscriptions`: a killed run's subscription on a later page is found
/// (the `@odata.nextLink`s followed) and deleted, another URL's is left.
#[tokio::test]
async fn a_killed_runs_subscription_on_a_later_page_is_deleted_too() {
    let (fake, _, _) = start().await;
    // first, a subscription of the same user to another URL (another watch's); then the
    // killed run's: one a page, the killed run's is on the second page
    let other = killed_run(&fake).await;
    let url = killed_run(&fake).await;
    let before = fake.subscriptions();
    assert_eq!(before.len(), 2);
    let stale = before
        .iter()
        .find(|s| s.notification_url == url)
        .unwrap()
        .id
        .clone();
    fake.page_subscriptions(1);
    let (run, first) = next_run(&fake, &url).await;
    assert_eq!(first.unwrap(), Batch::Resync);
    let subs = fake.subscriptions();
    assert!(
        subs.iter().all(|s| s.id != stale),
        "the killed run's is gone: {subs:?}"
    );
    assert!(
        subs.iter().any(|s| s.notification_url == other),
        "the other URL's stays"
    );
    assert_eq!(subs.len(), 2, "{subs:?}");
    assert_eq!(run.subscriptions().len(), 1);
}

/// An `@odata.nextLink` to another origin is refused, never followed with the user's token:
/// the other origin receives nothing.
#[tokio::test]
async fn a_next_link_to_another_origin_is_refused_and_not_followed() {
    let (fake, _, _) = start().await;
    let _other = killed_run(&fake).await;
    let url = killed_run(&fake).await;
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", elsewhere.local_addr().unwrap());
    fake.page_subscriptions(1);
    fake.next_links_to(&origin);
    let (_run, first) = next_run(&fake, &url).await;
    let e = first.unwrap_err().to_string();
    assert!(e.contains("another origin"), "{e}");
    assert!(e.contains(&origin), "{e}");
    // nothing connected there
    let accepted = tokio::time::timeout(Duration::from_millis(300), elsewhere.accept()).await;
    assert!(accepted.is_err(), "the other origin was contacted");
}

/// The fake's `@odata.nextLink`s are what Graph sends: absolute URLs under the API's base path
/// (`https://graph.microsoft.com/v1.0/subscriptions?$skiptoken=...`), not the path without
/// `/v1.0` (the fake's nested router sees the path without it). A client whose base URL is
/// Graph's own (`.../v1.0`) follows them page after page, every request under `/v1.0`, and
/// finds a killed run's subscription on the last page.
#[tokio::test]
async fn next_links_keep_the_version_path_and_a_client_following_them_reads_every_page() {
    let (fake, _, _) = start().await;
    let first = killed_run(&fake).await;
    let second = killed_run(&fake).await;
    let url = killed_run(&fake).await;
    fake.page_subscriptions(1);
    // the link itself, as a client under /v1.0 receives it
    let token = fake.delegated_token(&fake::user_id(2));
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1.0/subscriptions", fake.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = page["@odata.nextLink"].as_str().expect("a next page");
    assert_eq!(
        next,
        format!("{}/v1.0/subscriptions?$skiptoken=1", fake.url()),
        "{page}"
    );
    // a run whose client's base URL is Graph's own (`/v1.0`): its startup reads every page
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let webhook =
        Webhook::with_listener(listener, &url, SubscriberToken::Fixed(token.clone().into()))
            .unwrap();
    let credentials = Client::azureaadv2_credentials(CLIENT_ID, SECRET.to_string().into())
        .with_token_url(fake.token_url());
    let client = Client::with_azureaadv2_credentials(
        &format!("{}/v1.0", fake.url()),
        credentials,
        &ClientConfig::default(),
    )
    .unwrap();
    let presence = MsgraphPresence::new(client, CLIENT_ID.to_string())
        .with_users(vec![fake::user_id(1), fake::user_id(2)]);
    let before = fake.faults().requests().len();
    let mut run =
        GraphSubscriptions::new(presence, vec![fake::user_id(1), fake::user_id(2)], webhook)
            .unwrap();
    assert_eq!(
        within("subscribe", run.next()).await.unwrap(),
        Batch::Resync
    );
    let lists: Vec<String> = fake.faults().requests()[before..]
        .iter()
        .filter(|(m, p)| m == "GET" && p.ends_with("/subscriptions"))
        .map(|(_, p)| p.clone())
        .collect();
    assert_eq!(
        lists,
        vec!["/v1.0/subscriptions"; 3],
        "every page read under the base path"
    );
    let subs = fake.subscriptions();
    assert_eq!(
        subs.iter().filter(|s| s.notification_url == url).count(),
        1,
        "the killed run's on the last page is gone, the new one made: {subs:?}"
    );
    for other in [&first, &second] {
        assert!(subs.iter().any(|s| &s.notification_url == other));
    }
    within("shutdown", run.shutdown()).await.unwrap();
}

/// Graph judges a subscription's `expirationDateTime` by its own clock (in the future, at most
/// an hour away), and answers the expiry it granted by that clock. A server clock off ours (the
/// fake's `set_clock_skew`: its `Date` and its times) must not break subscribing or renewing:
/// the feed asks for the lifetime from now by Graph's clock (its answers' `Date`, as the
/// runtime reads `Retry-After`), and times the renewal from what Graph granted by that clock.
/// Before: an hour ahead, a 2-second subscription asked for expired an hour ago by Graph's
/// clock ("must be in the future", 400); ten minutes behind, the default 55 minutes was 65 by
/// Graph's clock ("can only be 60 minutes in the future", 400): no watch at all.
#[tokio::test]
async fn a_server_clock_off_ours_neither_refuses_nor_hurries_the_subscriptions() {
    for skew in [3600, -600] {
        let (fake, webhook, _) = start().await;
        fake.set_clock_skew(skew);
        let webhook = webhook.with_lifetime(Duration::from_secs(2)).unwrap();
        let mut feed = GraphSubscriptions::new(
            adapter(&fake),
            vec![fake::user_id(1), fake::user_id(2)],
            webhook,
        )
        .unwrap();
        assert_eq!(
            within("subscribe", feed.next()).await.unwrap(),
            Batch::Resync,
            "skew {skew}"
        );
        let first = fake.subscriptions().remove(0);
        let quiet = tokio::time::timeout(Duration::from_millis(3500), feed.next()).await;
        assert!(quiet.is_err(), "skew {skew}: {quiet:?}");
        let subs = fake.subscriptions();
        assert_eq!(subs.len(), 1, "skew {skew}: alive after its lifetime");
        assert_eq!(subs[0].id, first.id);
        // every two thirds of what is left by Graph's clock, read from a `Date` to the second
        // (a second less, to be safe: 0.5-0.9 s of a 2-second lifetime), never late
        assert!(
            (2..=10).contains(&subs[0].renewals),
            "skew {skew}: renewed before it expired, with a pause: {subs:?}"
        );
        within("shutdown", feed.shutdown()).await.unwrap();
    }
    // the default lifetime (55 minutes), the server ten minutes behind
    let (fake, webhook, _) = start().await;
    fake.set_clock_skew(-600);
    let mut feed = GraphSubscriptions::new(
        adapter(&fake),
        vec![fake::user_id(1), fake::user_id(2)],
        webhook,
    )
    .unwrap();
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    assert_eq!(fake.subscriptions().len(), 1);
    within("shutdown", feed.shutdown()).await.unwrap();
}

/// One watch per notification URL (on this host): a second feed to the same URL, with the same
/// lock file, is refused before it deletes anything (its startup deletes the subscriptions to
/// its URL that a killed run left: the running watch's, here), naming the URL, the lock file
/// and the process holding it; so is a recovery (`agentstatus watch --restore`) beside the
/// running watch. Once the first has deleted its subscriptions, the URL is free.
#[tokio::test]
async fn a_second_watch_to_one_url_is_refused_before_it_deletes_the_first_ones_subscriptions() {
    let (fake, _, _) = start().await;
    let dir = tempfile::Builder::new()
        .prefix("msgraph-watch-lock-")
        .tempdir()
        .unwrap();
    let lock = dir.path().join("state").join("graph.lock");
    let url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/graph/notify", l.local_addr().unwrap())
    };
    let feed = |listener: std::net::TcpListener| {
        let token = fake.delegated_token(&fake::user_id(2));
        let webhook = Webhook::with_listener(listener, &url, SubscriberToken::Fixed(token.into()))
            .unwrap()
            .with_lock_file(&lock);
        GraphSubscriptions::new(
            adapter(&fake),
            vec![fake::user_id(1), fake::user_id(2)],
            webhook,
        )
        .unwrap()
    };
    // the first listens where the URL points
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut first = feed(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
    assert_eq!(
        within("subscribe", first.next()).await.unwrap(),
        Batch::Resync
    );
    let live = fake.subscriptions();
    assert_eq!(live.len(), 1);
    let mut second = feed(std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let e = within("refused", second.next()).await.unwrap_err();
    // its own kind: a caller (agentstatus watch) stops rather than retry beside the first
    assert_eq!(e.kind(), ErrorKind::InUse, "{e}");
    assert!(
        matches!(e.failure(), Failure::InUse { lock_file: Some(f), .. } if *f == lock),
        "{e:?}"
    );
    let text = e.to_string();
    for said in [
        url.as_str(),
        &lock.display().to_string(),
        "in use by another watch",
        &format!("process {}", std::process::id()),
    ] {
        assert!(text.contains(said), "{said:?} in {text}");
    }
    assert_eq!(fake.subscriptions(), live, "the first's subscription stays");
    let e = within("recover refused", second.recover())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("in use by another watch"), "{e}");
    assert_eq!(fake.subscriptions(), live);
    drop(second);
    within("shutdown", first.shutdown()).await.unwrap();
    assert!(fake.subscriptions().is_empty());
    // the next watch to the URL (where it points, once the first's receiver let it go)
    let listener = within("the port free again", async {
        loop {
            match std::net::TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await;
    let mut third = feed(listener);
    assert_eq!(
        within("subscribe", third.next()).await.unwrap(),
        Batch::Resync
    );
    assert_eq!(fake.subscriptions().len(), 1);
    within("shutdown", third.shutdown()).await.unwrap();
}
