//! What an operator relies on when a desk misbehaves: a writer that panics is restarted and
//! its desk recovers while the others keep going; a 429's `Retry-After` (or
//! `X-RateLimit-Reset`) sets when the desk is written again, bounded; a desk's `rate_limit`
//! setting is what its client paces at; a desk whose feed another process holds
//! (`ErrorKind::InUse`) stops sync at its start, and later marks the desk in `/health` and
//! `/metrics` once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentstatus_presence::{
    AgentPresence, Availability, Detail, Failure, ListFilter, Presence, PresenceError, Vendor,
    async_trait,
};
use agentstatus_sync::{Desk, Engine, MAX_SERVER_WAIT, Options, People, Store, SyncError};

use Availability::*;

/// What a desk's `set` does on its next calls, before it behaves.
#[derive(Clone, Copy)]
enum Trouble {
    /// Panics (a bug in an adapter, say).
    Panic,
    /// Answers 429 with this `Retry-After`.
    TooMany(Duration),
}

/// A desk in memory whose next `set` calls go wrong as `trouble` says, `left` times.
struct Desk1 {
    vendor: Vendor,
    agents: Mutex<BTreeMap<String, Availability>>,
    trouble: Trouble,
    left: AtomicUsize,
    writes: AtomicUsize,
    /// Its reads are refused: another process holds its feed's lock.
    refused: AtomicBool,
    reads: AtomicUsize,
}

impl Desk1 {
    fn new(vendor: &'static str, agents: &[&str], trouble: Trouble, times: usize) -> Arc<Self> {
        Arc::new(Self {
            vendor: Vendor::new(vendor),
            agents: Mutex::new(agents.iter().map(|a| (a.to_string(), Available)).collect()),
            trouble,
            left: AtomicUsize::new(times),
            writes: AtomicUsize::new(0),
            refused: AtomicBool::new(false),
            reads: AtomicUsize::new(0),
        })
    }

    fn human(&self, agent: &str, a: Availability) {
        self.agents.lock().unwrap().insert(agent.to_string(), a);
    }

    fn state(&self, agent: &str) -> Availability {
        self.agents.lock().unwrap()[agent]
    }

    fn presence(agent: &str, a: Availability) -> AgentPresence {
        AgentPresence::new(agent, None, a, Detail::new(a.as_str().to_string()))
    }
}

#[async_trait]
impl Presence for Desk1 {
    fn vendor(&self) -> Vendor {
        self.vendor
    }
    fn supported(&self) -> &'static [Availability] {
        &[Available, Busy, Away, Offline]
    }
    async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let a = self.agents.lock().unwrap().get(agent).copied();
        a.map(|a| Self::presence(agent, a))
            .ok_or_else(|| PresenceError::not_found(self.vendor, agent, None))
    }
    async fn set(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        let trouble = self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if trouble {
            match self.trouble {
                Trouble::Panic => panic!("test hook: {} panics in set", self.vendor),
                Trouble::TooMany(after) => {
                    return Err(PresenceError::new(
                        self.vendor,
                        Failure::Http {
                            status: 429,
                            code: None,
                            message: Some("slow down (test)".into()),
                        },
                    )
                    .with_retry_after(Some(after)));
                }
            }
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.agents
            .lock()
            .unwrap()
            .insert(agent.to_string(), desired);
        Ok(Self::presence(agent, desired))
    }
    async fn list(&self, _: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.refused.load(Ordering::SeqCst) {
            return Err(PresenceError::in_use(
                self.vendor,
                format!(
                    "state file {LOCKED}: in use by another watch (lock file {LOCKED}.lock held by process 4242 on host h)"
                ),
                Some(PathBuf::from(format!("{LOCKED}.lock"))),
            ));
        }
        let agents = self.agents.lock().unwrap();
        Ok(agents
            .iter()
            .map(|(id, a)| Self::presence(id, *a))
            .collect())
    }
}

/// The state file another watch holds in the refusals of a [`Desk1`] whose reads are refused.
const LOCKED: &str = "/var/lib/agentstatus/odd.state";

/// A database file in a scratch directory of an unpredictable name (made by `tempfile`, only
/// this user's), kept after the test: the engines the helpers return outlive any guard here.
fn db(name: &str) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix(&format!("agentstatus-sync-operable-{name}-"))
        .tempdir()
        .unwrap()
        .keep();
    dir.join("sync.db")
}

/// Three desks (`chat`, `mail`, and `odd`, whose `set` goes wrong), two people on each.
fn engine(name: &str, odd: &Arc<Desk1>, interval: Duration) -> (Engine, Arc<Desk1>, Arc<Desk1>) {
    let fine = |v| Desk1::new(v, &["1", "2"], Trouble::Panic, 0);
    let (chat, mail) = (fine("chat-vendor"), fine("mail-vendor"));
    let people = People::from_rows(
        &["chat", "mail", "odd"],
        vec![
            (
                "p1".into(),
                vec![Some("1".into()), Some("1".into()), Some("1".into())],
            ),
            (
                "p2".into(),
                vec![Some("2".into()), Some("2".into()), Some("2".into())],
            ),
        ],
    )
    .expect("people map");
    let desks = vec![
        Desk::new("chat", chat.clone(), interval),
        Desk::new("mail", mail.clone(), interval),
        Desk::new("odd", odd.clone(), interval),
    ];
    let e = Engine::new(
        desks,
        people,
        Store::open(&db(name)).unwrap(),
        Options::default(),
    )
    .unwrap();
    (e, chat, mail)
}

#[tokio::test(start_paused = true)]
async fn a_writer_that_panics_is_restarted_and_its_desk_recovers_while_the_others_go_on() {
    // `odd` panics on its next two writes
    let odd = Desk1::new("odd-vendor", &["1", "2"], Trouble::Panic, 2);
    let (mut e, chat, mail) = engine("panic", &odd, Duration::from_secs(5));
    e.once().await.unwrap();
    chat.human("1", Busy);
    let s = e.once().await.unwrap();
    assert_eq!(s.decisions, 1);
    // mail was written; odd's writer panicked, which was caught, counted and logged
    assert_eq!(mail.state("1"), Busy, "the other desks keep going");
    assert_eq!(odd.state("1"), Available);
    assert_eq!(s.desks[2].writer_panics, 1);
    assert_eq!(s.owed, 1, "the write it had in flight is still owed");
    // restarted only after its backoff (1 s): the next pass hands it nothing yet
    chat.human("2", Away);
    let s = e.once().await.unwrap();
    assert_eq!(mail.state("2"), Away, "other desks are not held up by it");
    assert_eq!(odd.writes.load(Ordering::SeqCst), 0);
    assert_eq!(s.owed, 2);
    // after the backoff the writes are handed out again: it panics once more (backoff doubles)
    tokio::time::advance(Duration::from_millis(1_100)).await;
    let s = e.once().await.unwrap();
    assert_eq!(s.desks[2].writer_panics, 2);
    tokio::time::advance(Duration::from_millis(1_100)).await;
    let s = e.once().await.unwrap();
    assert_eq!(
        odd.writes.load(Ordering::SeqCst),
        0,
        "2 s after the second panic, not 1"
    );
    assert_eq!(s.owed, 2);
    tokio::time::advance(Duration::from_secs(1)).await;
    // the hook is spent: the desk recovers, every write owed to it lands, each once
    let s = e.once().await.unwrap();
    assert_eq!((odd.state("1"), odd.state("2")), (Busy, Away));
    assert_eq!(odd.writes.load(Ordering::SeqCst), 2);
    assert_eq!(s.owed, 0);
    assert_eq!(s.desks[2].writer_panics, 2);
    assert_eq!(s.desks[1].writes_made, 2);
    assert_eq!(s.desks[1].writer_panics, 0);
}

#[tokio::test(start_paused = true)]
async fn a_429s_retry_after_sets_when_the_desk_is_written_again_not_the_interval() {
    // a 60 s interval would back off two minutes; the server asks for 3 s
    let odd = Desk1::new(
        "odd-vendor",
        &["1", "2"],
        Trouble::TooMany(Duration::from_secs(3)),
        1,
    );
    let (mut e, chat, _mail) = engine("retry-after", &odd, Duration::from_secs(60));
    e.once().await.unwrap();
    chat.human("1", Busy);
    let s = e.once().await.unwrap();
    assert_eq!(s.desks[2].writes_failed, 1);
    assert_eq!(odd.state("1"), Available);
    // the whole desk waits: a new write owed to it is not sent before the server's time
    chat.human("2", Offline);
    e.once().await.unwrap();
    assert_eq!(odd.state("2"), Available);
    tokio::time::advance(Duration::from_millis(3_100)).await;
    let s = e.once().await.unwrap();
    assert_eq!((odd.state("1"), odd.state("2")), (Busy, Offline));
    assert_eq!(s.owed, 0);
}

#[tokio::test(start_paused = true)]
async fn a_hostile_retry_after_is_capped() {
    let forever = Duration::from_secs(999_999_999);
    let odd = Desk1::new("odd-vendor", &["1", "2"], Trouble::TooMany(forever), 1);
    let (mut e, chat, _mail) = engine("hostile", &odd, Duration::from_secs(1));
    e.once().await.unwrap();
    chat.human("1", Busy);
    e.once().await.unwrap();
    assert_eq!(odd.state("1"), Available);
    tokio::time::advance(MAX_SERVER_WAIT - Duration::from_secs(1)).await;
    e.once().await.unwrap();
    assert_eq!(
        odd.state("1"),
        Available,
        "the capped wait is still waited for"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    let s = e.once().await.unwrap();
    assert_eq!(
        odd.state("1"),
        Busy,
        "written once the cap passed, not in 31 years"
    );
    assert_eq!(s.owed, 0);
}

/// A desk's `rate_limit` replaces its vendor's declared one, in the server's terms: against a
/// Rocket.Chat whose limiter counts a manager's calls (per route and method), the operator's
/// limit is kept without a 429; `"off"` is no client-side limit at all, and the server refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desks_rate_limit_is_what_its_client_paces_at_and_off_is_off() {
    use agentstatus_rocketchat::fake::{Agent, RocketChat};
    use agentstatus_runtime::ClientConfig;
    use agentstatus_sync::section::{Value, rate_limit};

    let fake = RocketChat::start().await.unwrap();
    // a livechat manager: counted by the server's limiter (no api-bypass-rate-limit)
    fake.add_user("mgr", "t", true);
    fake.set_rate_limit(4, Duration::from_secs(1));
    fake.add_agent(Agent::new("a1", "Ada", "available"));
    let connect = |limit: &str| {
        let settings =
            agentstatus_presence::registry::Settings::new(fake.url(), ClientConfig::default())
                .with_value("user_id", "mgr")
                .with_secret("token", "t".to_string().into())
                .with_rate_limit(rate_limit(&Value::Text(limit.into())).unwrap());
        (agentstatus_rocketchat::presence::entry().connect)(&settings).unwrap()
    };
    let work = |p: Box<dyn Presence>| async move {
        for n in 0..6 {
            p.get("a1").await.unwrap();
            let to = if n % 2 == 0 { Offline } else { Available };
            p.set("a1", to).await.unwrap();
        }
    };
    work(connect("4/s")).await;
    assert_eq!(fake.rate_limited(), 0, "paced under the server's limit");
    // the fresh window of the next calls
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let p = connect("off");
    for _ in 0..8 {
        let _ = p.get("a1").await;
    }
    assert!(
        fake.rate_limited() > 0,
        "no client-side limit: the server refused some"
    );
}

/// Rocket.Chat sends no `Retry-After` with its 429, only `X-RateLimit-Reset` (epoch
/// milliseconds): a desk whose token the server counts is not written again before then, and
/// every write lands once the window has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocket_chats_rate_limit_reset_holds_the_desk_until_its_window_ends() {
    use agentstatus_rocketchat::fake::{Agent, RocketChat};
    use agentstatus_runtime::{ClientConfig, RetryPolicy};

    let rc = RocketChat::start().await.unwrap();
    // a livechat manager's token: counted, 3 calls per route and method per 2 s
    rc.add_user("mgr", "t", true);
    rc.set_rate_limit(3, Duration::from_secs(2));
    let ids: Vec<String> = (0..6).map(|n| n.to_string()).collect();
    for id in &ids {
        rc.add_agent(Agent::new(
            &format!("r{id}"),
            &format!("P {id}"),
            "available",
        ));
    }
    // no client-side limit and no client retries: the 429 reaches the engine
    let chat = (agentstatus_rocketchat::presence::entry().connect)(
        &agentstatus_presence::registry::Settings::new(
            rc.url(),
            ClientConfig::default().with_retry(RetryPolicy::none()),
        )
        .with_value("user_id", "mgr")
        .with_secret("token", "t".to_string().into()),
    )
    .unwrap();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let source = Desk1::new("source-vendor", &refs, Trouble::Panic, 0);
    let people = People::from_rows(
        &["source", "chat"],
        ids.iter()
            .map(|id| {
                (
                    format!("p{id}"),
                    vec![Some(id.clone()), Some(format!("r{id}"))],
                )
            })
            .collect(),
    )
    .expect("people map");
    let desks = vec![
        Desk::new("source", source.clone(), Duration::from_secs(60)),
        Desk::new("chat", Arc::from(chat), Duration::from_secs(60)),
    ];
    let mut e = Engine::new(
        desks,
        people,
        Store::open(&db("rc-reset")).unwrap(),
        Options::default(),
    )
    .unwrap();
    e.once().await.unwrap();
    for id in &ids {
        source.human(id, Offline);
    }
    let s = e.once().await.unwrap();
    let refused = rc.rate_limited();
    assert!(refused > 0, "more writes than the window allows");
    assert!(s.owed > 0 && s.owed < ids.len() as u64, "{s}");
    // at once again: the desk is held until the window's end, nothing is sent
    let s = e.once().await.unwrap();
    assert_eq!(
        rc.rate_limited(),
        refused,
        "no call before X-RateLimit-Reset"
    );
    assert!(s.owed > 0);
    // windows pass: every write lands
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        if e.once().await.unwrap().owed == 0 {
            break;
        }
    }
    assert_eq!(e.summary().owed, 0);
    for id in &ids {
        assert_eq!(
            rc.agent(&format!("r{id}")).unwrap().status_livechat,
            "not-available"
        );
    }
}

/// A desk whose feed another process holds when sync starts (another `agentstatus watch` of
/// its state file): sync stops at once with the refusal, naming the desk, the file, its lock
/// file and the holder, rather than report "read failed" every interval beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_refused_its_feed_at_the_start_stops_sync_naming_it() {
    let odd = Desk1::new("odd-vendor", &["1", "2"], Trouble::Panic, 0);
    odd.refused.store(true, Ordering::SeqCst);
    // an interval longer than the test's bound: it stops at the first refusal
    let (mut e, _, _) = engine("in-use-start", &odd, Duration::from_secs(30));
    let stopped = tokio::time::timeout(Duration::from_secs(10), e.run(std::future::pending()))
        .await
        .expect("stops at once, not at a later interval");
    let err = stopped.expect_err("refused");
    assert!(matches!(err, SyncError::InUse { .. }), "{err:?}");
    let m = err.to_string();
    for part in [
        "desk odd",
        LOCKED,
        &format!("{LOCKED}.lock"),
        "process 4242",
    ] {
        assert!(m.contains(part), "{part:?} in {m}");
    }
    assert!(
        odd.reads.load(Ordering::SeqCst) <= 2,
        "the first read (and its watcher's retry), not one per interval"
    );
    // the one-pass mode too
    let (mut e, _, _) = engine("in-use-once", &odd, Duration::from_millis(50));
    let err = e.once().await.expect_err("refused");
    assert!(err.to_string().contains("desk odd"), "{err}");
}

/// A desk whose feed another process takes while sync runs: marked in `/health` (503,
/// `in_use`) and `/metrics` at once, counted, not stopping sync (the other desks go on); once
/// its feed answers again, healthy again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_refused_its_feed_later_is_unhealthy_with_the_reason() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let odd = Desk1::new("odd-vendor", &["1", "2"], Trouble::Panic, 0);
    let (mut e, chat, mail) = engine("in-use-later", &odd, Duration::from_millis(50));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(agentstatus_sync::metrics::serve(listener, e.stats()));
    let get = |path: &'static str| async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    };
    let stats = e.stats();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let engine = tokio::spawn(async move {
        let r = e
            .run(async {
                let _ = stop_rx.await;
            })
            .await;
        (e, r)
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(get("/health").await.starts_with("HTTP/1.1 200"));
    odd.refused.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let h = get("/health").await;
    assert!(h.starts_with("HTTP/1.1 503"), "{h}");
    let body: serde_json::Value =
        serde_json::from_str(h.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["status"], "in_use", "{body}");
    assert_eq!(body["in_use"], serde_json::json!(["odd"]));
    let reason = body["desks"][2]["in_use"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!("{LOCKED}.lock")) && reason.contains("process 4242"),
        "{body}"
    );
    assert_eq!(body["desks"][0]["in_use"], serde_json::Value::Null);
    let m = get("/metrics").await;
    assert!(
        m.contains("\nagentstatus_sync_desk_in_use{desk=\"odd\",vendor=\"odd-vendor\"} 1\n"),
        "{m}"
    );
    assert!(m.contains("\nagentstatus_sync_desk_in_use{desk=\"chat\",vendor=\"chat-vendor\"} 0\n"));
    // the others go on
    chat.human("1", Busy);
    // (a change seen within the read lag of the start is read again first: 2 s)
    let t = tokio::time::Instant::now();
    while mail.state("1") != Busy && t.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(mail.state("1"), Busy, "the other desks keep syncing");
    assert!(get("/health").await.starts_with("HTTP/1.1 503"));
    assert!(
        stats.snapshot().desks[2].read_failures >= 2,
        "still read, each interval"
    );
    // let go: healthy again
    odd.refused.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let h = get("/health").await;
    assert!(h.starts_with("HTTP/1.1 200"), "{h}");
    assert!(
        get("/metrics")
            .await
            .contains("\nagentstatus_sync_desk_in_use{desk=\"odd\",vendor=\"odd-vendor\"} 0\n")
    );
    let _ = stop_tx.send(());
    let (_e, r) = engine.await.unwrap();
    r.expect("sync ran on");
    server.abort();
}
