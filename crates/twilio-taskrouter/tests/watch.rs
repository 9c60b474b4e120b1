#![cfg(all(feature = "watch", feature = "fake"))]
//! `watch` through the workspace's event callbacks (`TaskrouterEvents`, the adapter's
//! `change_feed`) against the fake, all on 127.0.0.1: a change pushed as a signed
//! `worker.activity.update`, a forged signature refused, a lost event found by the heartbeat's
//! full read, events out of order not moving a worker back, the previous callback URL put back,
//! and the registry's settings.
use std::sync::Arc;
use std::time::Duration;

use agentstatus_presence::watch::{Batch, Change, ChangeFeed, Origin, WatchOptions, Watcher};
use agentstatus_presence::{Availability, ErrorKind, Failure, PresenceError};
use agentstatus_twilio_taskrouter::fake::{self, ACCOUNT_SID, TwilioTaskrouter, WORKSPACE_SID};
use agentstatus_twilio_taskrouter::presence::TwilioTaskrouterPresence;
use agentstatus_twilio_taskrouter::watch::{TaskrouterEvents, Webhook};
use agentstatus_twilio_taskrouter::{Client, ClientConfig};
use tokio::sync::mpsc;

const TOKEN: &str = "watch-token";

fn ada() -> String {
    fake::worker_sid_for("ada").unwrap()
}

fn grace() -> String {
    fake::worker_sid_for("grace").unwrap()
}

fn adapter(fake: &TwilioTaskrouter) -> TwilioTaskrouterPresence {
    let client = Client::with_account_sid_auth_token(
        &fake.url(),
        ACCOUNT_SID,
        TOKEN.to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    TwilioTaskrouterPresence::new(client, WORKSPACE_SID.to_string())
}

/// The fake with ada and grace (Available) and a webhook on a free loopback port.
async fn start() -> (TwilioTaskrouter, Webhook, String) {
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    fake.add_worker(WORKSPACE_SID, &ada(), "Ada Lovelace", "Available");
    fake.add_worker(WORKSPACE_SID, &grace(), "Grace Hopper", "Available");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/twilio/events", listener.local_addr().unwrap());
    let webhook = Webhook::with_listener(listener, &url, TOKEN.to_string().into()).unwrap();
    (fake, webhook, url)
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within 10 s"))
}

/// The watcher in a task, its changes (and errors) on a channel.
fn pump(
    mut watcher: Watcher,
) -> (
    mpsc::UnboundedReceiver<Result<Change, PresenceError>>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            let next = watcher.next().await;
            if tx.send(next).is_err() {
                return;
            }
        }
    });
    (rx, task)
}

/// Until the workspace posts its events to `url`, then a moment for the full read that
/// follows.
async fn subscribed(fake: &TwilioTaskrouter, url: &str) {
    within("the callback URL", async {
        loop {
            if fake
                .event_callback(WORKSPACE_SID)
                .is_some_and(|(u, _)| u == url)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn summary(c: &Change) -> String {
    format!(
        "{} {}->{} {} {}",
        c.agent_id,
        c.before.as_ref().map_or("-", |p| p.availability.as_str()),
        c.after.as_ref().map_or("-", |p| p.availability.as_str()),
        c.after
            .as_ref()
            .map_or("-", |p| p.detail.vendor_status.as_str()),
        c.origin.as_str()
    )
}

async fn next_change(rx: &mut mpsc::UnboundedReceiver<Result<Change, PresenceError>>) -> Change {
    within("a change", rx.recv()).await.unwrap().unwrap()
}

/// Nothing more arrives within half a second.
async fn quiet(rx: &mut mpsc::UnboundedReceiver<Result<Change, PresenceError>>) {
    let more = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
    assert!(more.is_err(), "{more:?}");
}

fn watcher(fake: &TwilioTaskrouter, webhook: &Webhook) -> Watcher {
    let presence = adapter(fake).with_webhook(webhook.clone(), Some(ACCOUNT_SID.into()));
    Watcher::new(
        Arc::new(presence),
        "support",
        WatchOptions::every(Duration::from_secs(3600)),
    )
}

#[tokio::test]
async fn a_change_arrives_by_push_and_the_callback_is_set_as_twilio_stores_it() {
    let (fake, webhook, url) = start().await;
    let w = watcher(&fake, &webhook);
    assert_eq!(w.origin(), Origin::Push);
    let (mut changes, task) = pump(w);
    subscribed(&fake, &url).await;
    assert_eq!(
        fake.event_callback(WORKSPACE_SID),
        Some((url.clone(), Some("worker.activity.update".into())))
    );
    // someone else moves ada: the event callback says so, signed, from the fake's task
    fake.move_worker(WORKSPACE_SID, &ada(), "Break");
    let c = next_change(&mut changes).await;
    assert_eq!(summary(&c), format!("{} available->away Break push", ada()));
    assert_eq!(c.after.unwrap().name.as_deref(), Some("Ada Lovelace"));
    // a set through the API is pushed too
    fake.move_worker(WORKSPACE_SID, &grace(), "Unavailable");
    let c = next_change(&mut changes).await;
    assert_eq!(
        summary(&c),
        format!("{} available->busy Unavailable push", grace())
    );
    quiet(&mut changes).await;
    let stats = webhook.stats();
    assert_eq!((stats.received, stats.refused, stats.stale), (2, 0, 0));
    assert_eq!(stats.heartbeats, 0);
    assert_eq!(fake.deliveries().delivered, 2);
    task.abort();
}

#[tokio::test]
async fn a_forged_signature_is_refused_and_counted() {
    let (fake, webhook, url) = start().await;
    let (mut changes, task) = pump(watcher(&fake, &webhook));
    subscribed(&fake, &url).await;
    let activity = fake
        .activities(WORKSPACE_SID)
        .into_iter()
        .find(|a| a.name == "Offline")
        .unwrap();
    let p = |k: &str, v: &str| (k.to_string(), v.to_string());
    let event = vec![
        p("AccountSid", ACCOUNT_SID),
        p("WorkspaceSid", WORKSPACE_SID),
        p("EventType", "worker.activity.update"),
        p("ResourceType", "worker"),
        p("WorkerSid", &ada()),
        p("WorkerName", "Ada Lovelace"),
        p("WorkerActivitySid", &activity.sid),
        p("WorkerActivityName", "Offline"),
        p("WorkerVersion", "99"),
        p("TimestampMs", "99999999999999"),
    ];
    // signed with another token, with none at all, and the right signature on other values
    let other = agentstatus_twilio_taskrouter::signature::sign(b"not-the-token", &url, &event);
    assert_eq!(
        fake.post_event(WORKSPACE_SID, event.clone(), Some(other.as_str()))
            .await,
        Some(403)
    );
    assert_eq!(
        fake.post_event(WORKSPACE_SID, event.clone(), Some(""))
            .await,
        Some(403)
    );
    let right = agentstatus_twilio_taskrouter::signature::sign(TOKEN.as_bytes(), &url, &event);
    let mut tampered = event.clone();
    tampered[7].1 = "Available".into();
    assert_eq!(
        fake.post_event(WORKSPACE_SID, tampered, Some(right.as_str()))
            .await,
        Some(403)
    );
    quiet(&mut changes).await;
    assert_eq!(webhook.stats().refused, 3);
    assert_eq!(webhook.stats().received, 0);
    // the same event, signed as Twilio signs it, is taken
    assert_eq!(fake.post_event(WORKSPACE_SID, event, None).await, Some(204));
    let c = next_change(&mut changes).await;
    assert_eq!(
        summary(&c),
        format!("{} available->offline Offline push", ada())
    );
    task.abort();
}

#[tokio::test]
async fn a_lost_event_is_found_by_the_heartbeats_full_read() {
    let (fake, webhook, url) = start().await;
    let webhook = webhook.with_heartbeat(Duration::from_secs(1)).unwrap();
    let (mut changes, task) = pump(watcher(&fake, &webhook));
    subscribed(&fake, &url).await;
    fake.drop_events(1);
    fake.move_worker(WORKSPACE_SID, &ada(), "Offline");
    // no event came: the next heartbeat's full read has it, a poll
    let c = next_change(&mut changes).await;
    assert_eq!(
        summary(&c),
        format!("{} available->offline Offline poll", ada())
    );
    assert_eq!(fake.deliveries().dropped, 1);
    assert_eq!(fake.deliveries().delivered, 0);
    assert!(webhook.stats().heartbeats >= 1);
    // the events after it come by push again
    fake.move_worker(WORKSPACE_SID, &ada(), "Available");
    let c = next_change(&mut changes).await;
    assert_eq!(
        summary(&c),
        format!("{} offline->available Available push", ada())
    );
    task.abort();
}

#[tokio::test]
async fn events_out_of_order_do_not_move_a_worker_back() {
    let (fake, webhook, url) = start().await;
    let w = watcher(&fake, &webhook);
    let (mut changes, task) = pump(w);
    subscribed(&fake, &url).await;
    // Break, then Unavailable; Twilio delivers the newer one first
    fake.hold_events();
    fake.move_worker(WORKSPACE_SID, &ada(), "Break");
    fake.move_worker(WORKSPACE_SID, &ada(), "Unavailable");
    assert_eq!(fake.release_events(true), 2);
    let c = next_change(&mut changes).await;
    assert_eq!(
        summary(&c),
        format!("{} available->busy Unavailable push", ada())
    );
    // the older event, delivered after it, is dropped: ada stays busy
    quiet(&mut changes).await;
    within("both delivered", async {
        while fake.deliveries().delivered < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(webhook.stats().stale, 1);
    assert_eq!(webhook.stats().received, 2);
    task.abort();
}

#[tokio::test]
async fn an_existing_callback_is_refused_or_replaced_and_put_back() {
    let (fake, webhook, url) = start().await;
    let theirs = "https://reports.example.com/twilio?key=s3cret";
    fake.set_event_callback(WORKSPACE_SID, theirs, Some("task.created"));
    // not told to replace it: refused, naming the setting, not the URL's secret
    let mut feed = TaskrouterEvents::new(adapter(&fake), webhook.clone(), None);
    let e = within("refused", feed.next()).await.unwrap_err();
    // another system's while it is there: a watch stops on it rather than retry
    assert_eq!(e.kind(), ErrorKind::InUse);
    let text = e.to_string();
    assert!(text.contains("webhook_replace_existing"), "{text}");
    assert!(text.contains("https://reports.example.com"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert_eq!(
        fake.event_callback(WORKSPACE_SID),
        Some((theirs.into(), Some("task.created".into())))
    );
    drop(feed);

    // told to: replaced while the feed runs, then put back as it was
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url2 = format!("http://{}/twilio/events", listener.local_addr().unwrap());
    let webhook2 = Webhook::with_listener(listener, &url2, TOKEN.to_string().into())
        .unwrap()
        .replacing_existing(true);
    let mut feed = TaskrouterEvents::new(adapter(&fake), webhook2, Some(ACCOUNT_SID.into()));
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    assert!(feed.subscribed());
    assert_eq!(
        fake.event_callback(WORKSPACE_SID),
        Some((url2.clone(), Some("worker.activity.update".into())))
    );
    fake.move_worker(WORKSPACE_SID, &ada(), "Break");
    match within("the event", feed.next()).await.unwrap() {
        Batch::Changed(agents) => {
            assert_eq!(agents.len(), 1);
            assert_eq!(agents[0].availability, Availability::Away);
        }
        other => panic!("{other:?}"),
    }
    within("shutdown", feed.shutdown()).await.unwrap();
    assert_eq!(
        fake.event_callback(WORKSPACE_SID),
        Some((theirs.into(), Some("task.created".into())))
    );
    let _ = (webhook, url);
}

#[tokio::test]
async fn a_dropped_feed_puts_the_empty_callback_back_and_leaves_someone_elses() {
    let (fake, webhook, url) = start().await;
    let mut feed = TaskrouterEvents::new(adapter(&fake), webhook.clone(), None);
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    assert_eq!(fake.event_callback(WORKSPACE_SID).unwrap().0, url);
    // dropped (a watcher going away): put back from a task
    drop(feed);
    within("put back", async {
        while fake.event_callback(WORKSPACE_SID) != Some((String::new(), None)) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    // someone sets their own while the feed runs: theirs stays at shutdown
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url2 = format!("http://{}/twilio/events", listener.local_addr().unwrap());
    let webhook2 = Webhook::with_listener(listener, &url2, TOKEN.to_string().into()).unwrap();
    let mut feed = TaskrouterEvents::new(adapter(&fake), webhook2, None);
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    fake.set_event_callback(WORKSPACE_SID, "https://new.example.com/e", None);
    within("shutdown", feed.shutdown()).await.unwrap();
    assert_eq!(
        fake.event_callback(WORKSPACE_SID).unwrap().0,
        "https://new.example.com/e"
    );
}

#[tokio::test]
async fn the_receiver_refuses_large_bodies_and_other_methods() {
    let (fake, webhook, url) = start().await;
    let mut feed = TaskrouterEvents::new(adapter(&fake), webhook.clone(), None);
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    agentstatus_runtime::ensure_tls_provider();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let big = "a=".to_string() + &"x".repeat(agentstatus_twilio_taskrouter::watch::MAX_BODY);
    let answer = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", "AAAA")
        .body(big)
        .send()
        .await;
    // refused (413), or cut off while still sending; counted either way
    if let Ok(a) = answer {
        assert_eq!(a.status(), 413);
    }
    assert_eq!(webhook.stats().refused, 1);
    let answer = http.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 405);
    let answer = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403, "unsigned");
    assert_eq!(webhook.stats().refused, 2);
    assert_eq!(webhook.stats().received, 0);
    within("shutdown", feed.shutdown()).await.unwrap();
}

#[tokio::test]
async fn the_registry_settings_choose_the_feed_and_refuse_what_cannot_work() {
    use agentstatus_presence::registry::Settings;
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    fake.add_worker(WORKSPACE_SID, &ada(), "Ada Lovelace", "Available");
    let connect = |extra: &[(&'static str, &str)]| {
        let mut s = Settings::new(fake.url(), ClientConfig::default())
            .with_value("account_sid", ACCOUNT_SID)
            .with_value("workspace_sid", WORKSPACE_SID)
            .with_secret("auth_token", TOKEN.to_string().into());
        for (k, v) in extra {
            s = s.with_value(k, *v);
        }
        (agentstatus_twilio_taskrouter::presence::entry().connect)(&s)
    };
    let options = WatchOptions::default();
    // poll, the default: the webhook settings are not read at all
    let p = connect(&[("webhook_listen", "nonsense")]).unwrap();
    assert!(p.change_feed(&options).is_none());
    let p = connect(&[("watch", "poll"), ("webhook_url", "nonsense")]).unwrap();
    assert!(p.change_feed(&options).is_none());

    let events = ("watch", "events");
    let listen = ("webhook_listen", "127.0.0.1:0");
    let public = ("webhook_url", "https://example.com/twilio/events");
    let error = |extra: &[(&'static str, &str)]| connect(extra).err().unwrap().to_string();
    let e = error(&[events]);
    assert!(e.contains("missing: webhook_listen, webhook_url"), "{e}");
    let e = error(&[events, listen]);
    assert!(e.contains("missing: webhook_url"), "{e}");
    let e = error(&[events, listen, ("webhook_url", "http://example.com/x")]);
    assert!(e.contains("https://"), "{e}");
    let e = error(&[events, public, ("webhook_listen", "localhost")]);
    assert!(e.contains("webhook_listen \"localhost\""), "{e}");
    let e = error(&[events, listen, public, ("webhook_heartbeat", "0")]);
    assert!(e.contains("webhook_heartbeat \"0\""), "{e}");
    let e = error(&[events, listen, public, ("webhook_replace_existing", "yes")]);
    assert!(e.contains("webhook_replace_existing"), "{e}");
    let e = error(&[("watch", "push")]);
    assert!(e.contains("`poll` or `events`"), "{e}");
    let e = error(&[
        events,
        listen,
        public,
        ("account_sid", "SK00000000000000000000000000000001"),
    ]);
    assert!(e.contains("Account SID (AC...)"), "{e}");
    assert!(!e.contains(TOKEN), "{e}");
    // complete: the feed
    let p = connect(&[events, listen, public]).unwrap();
    let feed = p.change_feed(&options).expect("the event callbacks feed");
    assert_eq!(feed.origin(), Origin::Push);
}

/// The path `agentstatus watch --vendor twilio-taskrouter` takes: the registry entry's
/// settings, then a `Watcher` over what it connects; at the end the callback is put back.
#[tokio::test]
async fn the_registry_entry_watches_by_events() {
    use agentstatus_presence::registry::Settings;
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    fake.add_worker(WORKSPACE_SID, &ada(), "Ada Lovelace", "Available");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://127.0.0.1:{port}/twilio/events");
    let scratch = Scratch::new("registry");
    let state = scratch.path("twilio.json");
    let settings = Settings::new(fake.url(), ClientConfig::default())
        .with_value("account_sid", ACCOUNT_SID)
        .with_value("workspace_sid", WORKSPACE_SID)
        .with_value("watch", "events")
        .with_value("webhook_listen", listen.as_str())
        .with_value("webhook_url", url.as_str())
        .with_value("webhook_state_file", state.display().to_string())
        .with_secret("auth_token", TOKEN.to_string().into());
    let presence = (agentstatus_twilio_taskrouter::presence::entry().connect)(&settings).unwrap();
    let watcher = Watcher::new(
        Arc::from(presence),
        "support",
        WatchOptions::every(Duration::from_secs(3600)),
    );
    assert_eq!(watcher.origin(), Origin::Push);
    let (mut changes, task) = pump(watcher);
    subscribed(&fake, &url).await;
    // the setting's file holds what the workspace had (nothing) while the watch runs
    assert!(state.exists());
    fake.move_worker(WORKSPACE_SID, &ada(), "Unavailable");
    let c = next_change(&mut changes).await;
    assert_eq!(
        summary(&c),
        format!("{} available->busy Unavailable push", ada())
    );
    // the watcher (and its feed) goes away: the workspace's callback is cleared again
    task.abort();
    within("put back", async {
        while fake.event_callback(WORKSPACE_SID) != Some((String::new(), None)) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    within("the record removed", async {
        while state.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A client that sends half a request and waits (slowloris) is cut off after
/// `REQUEST_TIMEOUT`, and the receiver keeps serving others meanwhile.
#[tokio::test]
async fn a_slow_client_is_cut_off() {
    use agentstatus_twilio_taskrouter::watch::REQUEST_TIMEOUT;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (fake, webhook, url) = start().await;
    let mut feed = TaskrouterEvents::new(adapter(&fake), webhook.clone(), None);
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /twilio/events HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    // meanwhile, a signed event is taken
    fake.move_worker(WORKSPACE_SID, &ada(), "Break");
    assert!(matches!(
        within("the event", feed.next()).await.unwrap(),
        Batch::Changed(_)
    ));
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(
        REQUEST_TIMEOUT + Duration::from_secs(3),
        slow.read(&mut buf),
    )
    .await
    .expect("the half-sent request is cut off");
    // closed (EOF or reset), or answered 408 before closing
    match read {
        Ok(0) | Err(_) => {}
        Ok(n) => assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"),
            "{:?}",
            String::from_utf8_lossy(&buf[..n])
        ),
    }
    assert!(started.elapsed() >= REQUEST_TIMEOUT - Duration::from_secs(1));
    within("shutdown", feed.shutdown()).await.unwrap();
}

/// `Watcher::shutdown` (what `agentstatus watch` does on a signal) puts the callback back and
/// waits for it.
#[tokio::test]
async fn the_watchers_shutdown_puts_the_callback_back() {
    let (fake, webhook, url) = start().await;
    fake.set_event_callback(WORKSPACE_SID, "", Some("task.created"));
    let mut w = watcher(&fake, &webhook);
    let fake = Arc::new(fake);
    let f = fake.clone();
    let mover = tokio::spawn(async move {
        subscribed(&f, &url).await;
        f.move_worker(WORKSPACE_SID, &ada(), "Offline");
    });
    let c = within("the change", w.next()).await.unwrap();
    assert_eq!(
        summary(&c),
        format!("{} available->offline Offline push", ada())
    );
    mover.await.unwrap();
    within("shutdown", w.shutdown()).await.unwrap();
    // at once, not from a task: the empty URL and the previous filter
    assert_eq!(
        fake.event_callback(WORKSPACE_SID),
        Some((String::new(), Some("task.created".into())))
    );
}

/// The receiver's bounds are the toolkit's `ReceiverLimits`, Twilio's by default; zero ones
/// are refused before anything is bound.
#[test]
fn receiver_limits_default_to_twilios_and_zero_ones_are_refused() {
    use agentstatus_twilio_taskrouter::watch::{
        MAX_BODY, MAX_CONNECTIONS, REQUEST_TIMEOUT, default_limits,
    };
    let limits = default_limits();
    assert_eq!(limits.header_read_timeout, REQUEST_TIMEOUT);
    assert_eq!(limits.request_timeout, REQUEST_TIMEOUT);
    assert_eq!(limits.max_connections, MAX_CONNECTIONS);
    assert_eq!(limits.max_body, MAX_BODY);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/twilio/events", listener.local_addr().unwrap());
    let webhook = Webhook::with_listener(listener, &url, TOKEN.to_string().into()).unwrap();
    for bad in [
        limits.with_max_connections(0),
        limits.with_header_read_timeout(Duration::ZERO),
        limits.with_request_timeout(Duration::ZERO),
        limits.with_max_body(0),
    ] {
        let e = webhook.clone().with_receiver_limits(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }
    webhook
        .with_receiver_limits(limits.with_max_connections(1))
        .unwrap();
}

/// A directory of this test's own under the system's temporary directory, removed at the end.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "agentstatus-twilio-watch-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, file: &str) -> std::path::PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Another system's callback, with a credential in its query.
const THEIRS: &str = "https://reports.example.com/twilio?key=s3cret";
const THEIR_FILTER: &str = "task.created";

fn theirs() -> Option<(String, Option<String>)> {
    Some((THEIRS.into(), Some(THEIR_FILTER.into())))
}

/// A webhook that binds `port` when its feed starts (so a later run can bind it again).
fn webhook_on(port: u16, state: &std::path::Path) -> (Webhook, String) {
    let url = format!("http://127.0.0.1:{port}/twilio/events");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let webhook = Webhook::new(addr, &url, TOKEN.to_string().into())
        .unwrap()
        .replacing_existing(true)
        .with_state_file(state);
    (webhook, url)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The fake (on `rt`) with ada, the workspace posting to [`THEIRS`]; then a feed that replaces
/// it in a runtime of its own, killed as `kill -9` kills a process: its runtime (and receiver)
/// gone, its state file's lock released by the OS (`TaskrouterEvents::killed`), nothing of the
/// feed's own clean-up run. What it leaves: the fake, the port, the URL.
fn killed_run(
    rt: &tokio::runtime::Runtime,
    state: &std::path::Path,
) -> (TwilioTaskrouter, u16, String) {
    let fake = rt.block_on(async {
        let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
        fake.add_worker(WORKSPACE_SID, &ada(), "Ada Lovelace", "Available");
        fake.set_event_callback(WORKSPACE_SID, THEIRS, Some(THEIR_FILTER));
        fake
    });
    let port = free_port();
    let (webhook, url) = webhook_on(port, state);
    let killed = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut feed = TaskrouterEvents::new(adapter(&fake), webhook, None);
    killed.block_on(async {
        assert_eq!(
            within("subscribe", feed.next()).await.unwrap(),
            Batch::Resync
        );
    });
    // the callback is the feed's, and what it replaced is on disk
    assert_eq!(fake.event_callback(WORKSPACE_SID).unwrap().0, url);
    let record = agentstatus_twilio_taskrouter::watch::read_record(state, WORKSPACE_SID)
        .unwrap()
        .expect("written before the workspace changed");
    assert_eq!(record.callback_url, url);
    assert_eq!(record.previous_url, THEIRS);
    assert_eq!(record.previous_filter.as_deref(), Some(THEIR_FILTER));
    // the record's Debug shows origins, not the credential in their URL
    assert!(!format!("{record:?}").contains("s3cret"), "{record:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(state).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
    }
    // kill -9: the OS releases the state file's lock, nothing else of the feed runs
    feed.killed();
    drop(killed);
    assert_eq!(
        fake.event_callback(WORKSPACE_SID).unwrap().0,
        url,
        "left by the kill"
    );
    (fake, port, url)
}

/// `kill -9` of a feed that replaced another system's callback: the next run takes the previous
/// callback from the state file and puts it back when it stops (without the record it could
/// only clear the URL: the other system's would be lost for good).
#[test]
fn a_killed_feeds_record_lets_the_next_run_put_the_callback_back() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scratch = Scratch::new("next-run");
    let state = scratch.path("state/twilio.json");
    let (fake, port, url) = killed_run(&rt, &state);
    rt.block_on(async {
        let (webhook, _) = webhook_on(port, &state);
        let mut feed = TaskrouterEvents::new(adapter(&fake), webhook, None);
        assert_eq!(
            within("subscribe", feed.next()).await.unwrap(),
            Batch::Resync
        );
        assert_eq!(fake.event_callback(WORKSPACE_SID).unwrap().0, url);
        // the record still says what was there before the killed run, not the killed run's URL
        let record = agentstatus_twilio_taskrouter::watch::read_record(&state, WORKSPACE_SID)
            .unwrap()
            .unwrap();
        assert_eq!(record.previous_url, THEIRS);
        within("shutdown", feed.shutdown()).await.unwrap();
        assert_eq!(fake.event_callback(WORKSPACE_SID), theirs());
        assert!(!state.exists(), "the record goes once the callback is back");
    });
}

/// `restore_recorded` (`agentstatus watch --restore`, the feed's `recover`) puts back what a
/// killed run replaced without watching; a second call has nothing to do; a workspace someone
/// else changed since is left alone.
#[test]
fn restore_recorded_puts_back_what_a_killed_run_replaced() {
    use agentstatus_twilio_taskrouter::watch::restore_recorded;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scratch = Scratch::new("restore");
    let state = scratch.path("twilio.json");
    let (fake, port, _url) = killed_run(&rt, &state);
    rt.block_on(async {
        // through the adapter's feed, as the command does it
        let (webhook, _) = webhook_on(port, &state);
        let presence = adapter(&fake).with_webhook(webhook, Some(ACCOUNT_SID.into()));
        let mut feed =
            agentstatus_presence::Presence::change_feed(&presence, &WatchOptions::default())
                .expect("the event callbacks feed");
        let said = within("recover", feed.recover())
            .await
            .unwrap()
            .expect("something done");
        assert_eq!(fake.event_callback(WORKSPACE_SID), theirs());
        assert!(said.contains("https://reports.example.com"), "{said}");
        assert!(!said.contains("s3cret"), "{said}");
        assert!(!state.exists());
        // nothing recorded any more: nothing done, nothing sent that changes the workspace
        assert_eq!(
            within("again", restore_recorded(&adapter(&fake), &state))
                .await
                .unwrap(),
            None
        );
        assert_eq!(fake.event_callback(WORKSPACE_SID), theirs());
    });

    // killed again; then someone sets their own callback before the restore: theirs stays
    let scratch = Scratch::new("restore-changed");
    let state = scratch.path("twilio.json");
    let (fake, _, _) = killed_run(&rt, &state);
    rt.block_on(async {
        fake.set_event_callback(WORKSPACE_SID, "https://new.example.com/e", None);
        let said = within("restore", restore_recorded(&adapter(&fake), &state))
            .await
            .unwrap()
            .unwrap();
        assert!(said.contains("left as it is"), "{said}");
        assert_eq!(
            fake.event_callback(WORKSPACE_SID).unwrap().0,
            "https://new.example.com/e"
        );
        assert!(!state.exists());
    });
}

/// The record is written before the workspace changes: a state file that cannot be written,
/// or one that is not a record (or another workspace's), stops the feed with the file named
/// (and, for a bad one, the line and column), and the workspace keeps its callback.
#[tokio::test]
async fn a_state_file_that_cannot_be_written_or_read_changes_nothing() {
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    fake.set_event_callback(WORKSPACE_SID, THEIRS, Some(THEIR_FILTER));
    let scratch = Scratch::new("bad-state");
    let blocker = scratch.path("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let bad = |name: &str, content: Option<&str>| {
        let path = scratch.path(name);
        if let Some(c) = content {
            std::fs::write(&path, c).unwrap();
        }
        path
    };
    let cases = [
        (blocker.join("state.json"), "cannot be"),
        (bad("broken.json", Some("{\"workspace_sid\": 1")), "1:"),
        (
            bad(
                "other.json",
                Some(
                    r#"{"workspace_sid": "WS99999999999999999999999999999999", "callback_url": "x", "previous_url": "", "previous_filter": null}"#,
                ),
            ),
            "another",
        ),
    ];
    for (path, said) in cases {
        let (webhook, _) = webhook_on(free_port(), &path);
        let mut feed = TaskrouterEvents::new(adapter(&fake), webhook, None);
        let e = within("refused", feed.next()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        let text = e.to_string();
        assert!(text.contains("webhook_state_file"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        let said = if said == "another" { "not WS" } else { said };
        assert!(text.contains(said), "{text}");
        assert_eq!(fake.event_callback(WORKSPACE_SID), theirs(), "{text}");
        drop(feed);
    }
}

/// A log sink for a test's own `tracing` subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A callback refused for its signature is logged (a warning) with why: none, a wrong one, or
/// one made under a Webhooks Rule this receiver does not check; never the signature, the body
/// or the token.
#[tokio::test]
async fn a_refused_callback_is_logged_with_its_reason_and_no_secret() {
    use tracing_subscriber::util::SubscriberInitExt as _;
    let logs = Logs::default();
    let sink = logs.clone();
    let _logging = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish()
        .set_default();
    let (fake, webhook, url) = start().await;
    let mut feed = TaskrouterEvents::new(adapter(&fake), webhook.clone(), None);
    assert_eq!(
        within("subscribe", feed.next()).await.unwrap(),
        Batch::Resync
    );
    let http = reqwest::Client::new();
    let body = format!(
        "EventType=worker.activity.update&WorkspaceSid={WORKSPACE_SID}&WorkerSid=WKsecretbody"
    );
    let post = |signature: Option<&str>, rule: bool| {
        let mut r = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone());
        if let Some(s) = signature {
            r = r.header("x-twilio-signature", s);
        }
        if rule {
            r = r.header(
                "x-twilio-webhooks-signature-settings",
                "key=KS00000000000000000000000000000000,algorithm=HMAC_SHA256",
            );
        }
        r.send()
    };
    for (signature, rule) in [
        (None, false),
        (Some("c2lnbmF0dXJlLXZhbHVl"), false),
        (Some("c2lnbmF0dXJlLXZhbHVl"), true),
    ] {
        let status = within("refused", post(signature, rule))
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 403);
    }
    assert_eq!(webhook.stats().refused, 3);
    let text = logs.text();
    assert_eq!(
        text.matches("event callback refused (403)").count(),
        3,
        "{text}"
    );
    assert!(text.contains("no X-Twilio-Signature"), "{text}");
    assert!(text.contains("does not match"), "{text}");
    assert!(text.contains("Webhooks Rule"), "{text}");
    assert!(text.contains("WARN"), "{text}");
    for secret in [TOKEN, "c2lnbmF0dXJlLXZhbHVl", "WKsecretbody"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    within("shutdown", feed.shutdown()).await.unwrap();
}

/// The next run after a kill may have another `webhook_url` (the config changed): the
/// workspace still posts to the killed run's URL, which the record names, so it is taken over
/// (no `replacing_existing` needed: it is no other system's) and the callback before the killed
/// run is what goes back at the end.
#[test]
fn a_next_run_with_another_url_takes_over_the_killed_runs_and_puts_the_first_back() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scratch = Scratch::new("other-url");
    let state = scratch.path("twilio.json");
    let (fake, _, killed_url) = killed_run(&rt, &state);
    rt.block_on(async {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/twilio/v2");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let webhook = Webhook::new(addr, &url, TOKEN.to_string().into())
            .unwrap()
            .with_state_file(&state);
        let mut feed = TaskrouterEvents::new(adapter(&fake), webhook, None);
        assert_eq!(
            within("subscribe", feed.next()).await.unwrap(),
            Batch::Resync
        );
        assert_ne!(url, killed_url);
        assert_eq!(fake.event_callback(WORKSPACE_SID).unwrap().0, url);
        let record = agentstatus_twilio_taskrouter::watch::read_record(&state, WORKSPACE_SID)
            .unwrap()
            .unwrap();
        assert_eq!(
            (record.callback_url.as_str(), record.previous_url.as_str()),
            (url.as_str(), THEIRS)
        );
        within("shutdown", feed.shutdown()).await.unwrap();
        assert_eq!(fake.event_callback(WORKSPACE_SID), theirs());
        assert!(!state.exists());
    });
}

/// Two watches on one state file: the second is refused before it reads the record or touches
/// the workspace, its error naming the state file, the lock file and the process holding it
/// (it would have written its record over the first's, naming the first's URL as the callback
/// to put back), of its own kind (`ErrorKind::InUse`: a caller stops rather than retry, which
/// an `InvalidInput` did not tell it); with the first's listen address too (the same config
/// twice), refused for the lock, not for the address. `restore_recorded` (`agentstatus watch --restore`) beside the running watch is
/// refused too (it would take the running watch's callback away). Once the first has put the
/// callback back, the file is free.
#[tokio::test]
async fn a_second_watch_on_one_state_file_is_refused_naming_the_file_and_its_holder() {
    use agentstatus_twilio_taskrouter::watch::{read_record, restore_recorded};
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    fake.add_worker(WORKSPACE_SID, &ada(), "Ada Lovelace", "Available");
    fake.set_event_callback(WORKSPACE_SID, THEIRS, Some(THEIR_FILTER));
    let scratch = Scratch::new("two-watches");
    let state = scratch.path("state/twilio.json");
    let first_port = free_port();
    let (first_hook, first_url) = webhook_on(first_port, &state);
    let mut first = TaskrouterEvents::new(adapter(&fake), first_hook, None);
    assert_eq!(
        within("subscribe", first.next()).await.unwrap(),
        Batch::Resync
    );
    assert_eq!(fake.event_callback(WORKSPACE_SID).unwrap().0, first_url);
    let (second_hook, _) = webhook_on(free_port(), &state);
    let mut second = TaskrouterEvents::new(adapter(&fake), second_hook, None);
    let e = within("refused", second.next()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InUse, "{e}");
    let text = e.to_string();
    let lock = format!("{}.lock", state.display());
    assert!(
        matches!(e.failure(), Failure::InUse { lock_file: Some(f), .. } if f.display().to_string() == lock),
        "{e:?}"
    );
    // the same config started twice: its listen address is the first's
    let (same_hook, _) = webhook_on(first_port, &state);
    let mut same = TaskrouterEvents::new(adapter(&fake), same_hook, None);
    let again = within("refused", same.next()).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::InUse, "{again}");
    assert_eq!(again.to_string(), text);
    drop(same);
    for said in [
        "webhook_state_file",
        &state.display().to_string(),
        &lock,
        "in use by another watch",
        &format!("process {}", std::process::id()),
    ] {
        assert!(text.contains(said), "{said:?} in {text}");
    }
    // nothing changed: the first's callback, the first's record (what it replaced)
    assert_eq!(fake.event_callback(WORKSPACE_SID).unwrap().0, first_url);
    let record = read_record(&state, WORKSPACE_SID).unwrap().unwrap();
    assert_eq!(
        (record.callback_url.as_str(), record.previous_url.as_str()),
        (first_url.as_str(), THEIRS)
    );
    // nor does a restore beside it undo the running watch
    let e = within("restore refused", restore_recorded(&adapter(&fake), &state))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("in use by another watch"), "{e}");
    assert_eq!(fake.event_callback(WORKSPACE_SID).unwrap().0, first_url);
    drop(second);
    // the first puts back what it replaced, and frees the file
    within("shutdown", first.shutdown()).await.unwrap();
    assert_eq!(fake.event_callback(WORKSPACE_SID), theirs());
    let (third_hook, third_url) = webhook_on(free_port(), &state);
    let mut third = TaskrouterEvents::new(adapter(&fake), third_hook, None);
    assert_eq!(
        within("subscribe", third.next()).await.unwrap(),
        Batch::Resync
    );
    assert_eq!(fake.event_callback(WORKSPACE_SID).unwrap().0, third_url);
    within("shutdown", third.shutdown()).await.unwrap();
    assert_eq!(fake.event_callback(WORKSPACE_SID), theirs());
}

/// Twilio stamps its events (`TimestampMs`) by its own clock, and the feed drops an event older
/// than the full read it asked for: that read's time must be Twilio's too (its answers' `Date`,
/// as the runtime reads `Retry-After`). Before, with Twilio's clock ten minutes behind ours,
/// every event was older than every read by our clock: dropped as stale, no change pushed (a
/// heartbeat's read found them, a minute late, as polls).
#[tokio::test]
async fn a_twilio_clock_off_ours_does_not_make_every_event_stale() {
    for skew in [-600, 600] {
        let (fake, webhook, url) = start().await;
        fake.set_clock_skew(skew);
        let (mut changes, task) = pump(watcher(&fake, &webhook));
        subscribed(&fake, &url).await;
        fake.move_worker(WORKSPACE_SID, &ada(), "Break");
        let c = next_change(&mut changes).await;
        assert_eq!(
            summary(&c),
            format!("{} available->away Break push", ada()),
            "skew {skew}"
        );
        let stats = webhook.stats();
        assert_eq!((stats.received, stats.stale), (1, 0), "skew {skew}");
        task.abort();
    }
}
