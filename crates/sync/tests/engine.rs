//! The rules, one pass at a time (`Engine::once`), over desks kept in memory: what is decided,
//! what is written, what is an echo, what survives a restart.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentstatus_presence::{
    AgentPresence, Availability, Detail, Failure, ListFilter, Presence, PresenceError, Vendor,
    async_trait,
};
use agentstatus_sync::{DECIDE_BATCH, Desk, Engine, Options, People, Role, Stats, Store};

use Availability::*;

/// A desk in memory: agents with an availability and a vendor word; counts the changes `set`
/// made; `down` makes every call fail like a 503.
struct Memory {
    vendor: Vendor,
    supported: &'static [Availability],
    agents: Mutex<BTreeMap<String, (Availability, String)>>,
    changes: AtomicUsize,
    down: AtomicBool,
    /// Agents' e-mail addresses, for the desks that give them.
    emails: Mutex<BTreeMap<String, String>>,
    /// `set` changes the agent, then fails as if the connection dropped before the answer.
    lose_answers: AtomicBool,
    /// `list` fails like a 503 (writes still go through).
    unreadable: AtomicBool,
}

impl Memory {
    fn new(
        vendor: &'static str,
        supported: &'static [Availability],
        agents: &[(&str, Availability)],
    ) -> Arc<Self> {
        Arc::new(Self {
            vendor: Vendor::new(vendor),
            supported,
            agents: Mutex::new(
                agents
                    .iter()
                    .map(|(id, a)| (id.to_string(), (*a, a.as_str().to_string())))
                    .collect(),
            ),
            changes: AtomicUsize::new(0),
            down: AtomicBool::new(false),
            emails: Mutex::new(BTreeMap::new()),
            lose_answers: AtomicBool::new(false),
            unreadable: AtomicBool::new(false),
        })
    }

    /// A person changes the agent (not counted as a write).
    fn human(&self, id: &str, a: Availability) {
        self.human_word(id, a, a.as_str());
    }

    fn human_word(&self, id: &str, a: Availability, word: &str) {
        self.agents
            .lock()
            .unwrap()
            .insert(id.to_string(), (a, word.to_string()));
    }

    fn state(&self, id: &str) -> Availability {
        self.agents.lock().unwrap()[id].0
    }

    fn writes(&self) -> usize {
        self.changes.load(Ordering::SeqCst)
    }

    fn presence(&self, id: &str, (a, w): &(Availability, String)) -> AgentPresence {
        AgentPresence::new(id, None, *a, Detail::new(w.clone()))
            .with_email(self.emails.lock().unwrap().get(id).cloned())
    }

    fn email(&self, id: &str, email: &str) {
        self.emails
            .lock()
            .unwrap()
            .insert(id.to_string(), email.to_string());
    }

    fn check_up(&self) -> Result<(), PresenceError> {
        if self.down.load(Ordering::SeqCst) {
            Err(PresenceError::new(
                self.vendor,
                Failure::Http {
                    status: 503,
                    code: None,
                    message: Some("down (test)".into()),
                },
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Presence for Memory {
    fn vendor(&self) -> Vendor {
        self.vendor
    }
    fn supported(&self) -> &'static [Availability] {
        self.supported
    }
    async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        self.check_up()?;
        let agents = self.agents.lock().unwrap();
        let s = agents
            .get(agent)
            .ok_or_else(|| PresenceError::not_found(self.vendor, agent, None))?;
        Ok(self.presence(agent, s))
    }
    async fn set(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        self.check_up()?;
        self.check_supported(desired)?;
        let mut agents = self.agents.lock().unwrap();
        let s = agents
            .get_mut(agent)
            .ok_or_else(|| PresenceError::not_found(self.vendor, agent, None))?;
        if s.0 != desired {
            *s = (desired, desired.as_str().to_string());
            self.changes.fetch_add(1, Ordering::SeqCst);
        }
        if self.lose_answers.load(Ordering::SeqCst) {
            return Err(PresenceError::new(
                self.vendor,
                Failure::Network {
                    message: "connection closed before the answer (test)".into(),
                },
            ));
        }
        Ok(self.presence(agent, s))
    }
    async fn list(&self, _: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        self.check_up()?;
        if self.unreadable.load(Ordering::SeqCst) {
            return Err(PresenceError::new(
                self.vendor,
                Failure::Http {
                    status: 503,
                    code: None,
                    message: Some("unreadable (test)".into()),
                },
            ));
        }
        let agents = self.agents.lock().unwrap();
        Ok(agents.iter().map(|(id, s)| self.presence(id, s)).collect())
    }
}

struct Setup {
    chat: Arc<Memory>,
    mail: Arc<Memory>,
    db: Db,
    options: Options,
    people: People,
}

const ALL: &[Availability] = &[Available, Busy, Away, Offline];
const TWO: &[Availability] = &[Available, Offline];

/// A database file in a scratch directory of an unpredictable name, removed with it when the
/// last clone is dropped.
#[derive(Clone)]
struct Db {
    path: PathBuf,
    _dir: std::sync::Arc<tempfile::TempDir>,
}

impl std::ops::Deref for Db {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.path
    }
}

fn db(name: &str) -> Db {
    let dir = tempfile::Builder::new()
        .prefix(&format!("agentstatus-sync-{name}-"))
        .tempdir()
        .unwrap();
    Db {
        path: dir.path().join("sync.db"),
        _dir: std::sync::Arc::new(dir),
    }
}

/// chat (every state) and mail (available/offline, busy held as offline), people p1..p3; mail's
/// `x9` is no one.
fn setup(name: &str) -> Setup {
    let chat = Memory::new(
        "chat-vendor",
        ALL,
        &[("c1", Available), ("c2", Available), ("c3", Offline)],
    );
    let mail = Memory::new(
        "mail-vendor",
        TWO,
        &[
            ("m1", Available),
            ("m2", Available),
            ("m3", Offline),
            ("x9", Offline),
        ],
    );
    let people = People::from_rows(
        &["chat", "mail"],
        vec![
            ("p1".into(), vec![Some("c1".into()), Some("m1".into())]),
            ("p2".into(), vec![Some("c2".into()), Some("m2".into())]),
            ("p3".into(), vec![Some("c3".into()), Some("m3".into())]),
        ],
    )
    .expect("people map");
    Setup {
        chat,
        mail,
        db: db(name),
        options: Options::default(),
        people,
    }
}

impl Setup {
    fn engine(&self) -> Engine {
        let desks = vec![
            Desk::new("chat", self.chat.clone(), Duration::from_secs(1)),
            Desk::new("mail", self.mail.clone(), Duration::from_secs(1)).substitute(Busy, Offline),
        ];
        Engine::new(
            desks,
            self.people.clone(),
            Store::open(&self.db).unwrap(),
            self.options.clone(),
        )
        .unwrap()
    }
}

#[tokio::test]
async fn a_change_is_written_to_the_other_desk_once_and_its_echo_decides_nothing() {
    let s = setup("echo");
    let mut e = s.engine();
    // the first pass over a new database is the baseline: nothing decided, nothing written
    let first = e.once().await.unwrap();
    assert_eq!(first.decisions, 0);
    assert_eq!(s.mail.writes() + s.chat.writes(), 0);
    assert_eq!(first.desks[1].unmatched, 1, "mail's x9 is no one");

    s.chat.human("c1", Busy);
    let second = e.once().await.unwrap();
    assert_eq!(second.decisions, 1);
    // mail cannot hold busy: the declared substitute
    assert_eq!(s.mail.state("m1"), Offline);
    assert_eq!(s.mail.writes(), 1);
    assert_eq!(second.desks[0].changes_seen, 1);
    assert_eq!(second.desks[1].writes_made, 1);
    assert_eq!(second.owed, 0);

    // the next read shows mail's m1 offline: sync's own write, not a human change
    let third = e.once().await.unwrap();
    assert_eq!(third.decisions, 1);
    assert_eq!(s.chat.state("c1"), Busy, "no echo back to chat");
    assert_eq!(s.chat.writes(), 0);

    // a person on mail: the chat agent follows
    s.mail.human("m2", Offline);
    let fourth = e.once().await.unwrap();
    assert_eq!(fourth.decisions, 2);
    assert_eq!(s.chat.state("c2"), Offline);
    assert_eq!(s.chat.writes(), 1);
    assert_eq!(e.once().await.unwrap().decisions, 2);
    assert_eq!(s.mail.writes() + s.chat.writes(), 2);
    let log = e.store().read(|t| t.decisions()).unwrap();
    assert_eq!(log[0].person, "p1");
    assert_eq!(log[0].reason, "last human change wins");
    assert_eq!((log[0].after.as_str(), log[0].writes), ("busy", 1));
}

#[tokio::test]
async fn an_undeclared_substitute_is_reported_once_and_the_desk_keeps_its_state() {
    let s = setup("unsupported");
    let mut e = s.engine();
    e.once().await.unwrap();
    s.chat.human("c1", Away);
    s.chat.human("c2", Away);
    let sum = e.once().await.unwrap();
    assert_eq!(sum.decisions, 2);
    assert_eq!(
        sum.desks[1].unsupported, 1,
        "once per (desk, state), not per person"
    );
    assert_eq!(s.mail.writes(), 0);
    assert_eq!(s.mail.state("m1"), Available);
    s.chat.human("c1", Available);
    s.chat.human("c1", Away);
    s.chat.human("c3", Away);
    let sum = e.once().await.unwrap();
    assert_eq!(sum.desks[1].unsupported, 1);
    assert_eq!(sum.owed, 0);
}

#[tokio::test]
async fn two_desks_changed_in_one_cycle_resolve_by_precedence_then_desk_order() {
    let s = setup("precedence");
    let mut e = s.engine();
    e.once().await.unwrap();
    // p1: away on chat, offline on mail; away outranks offline
    s.chat.human("c1", Away);
    s.mail.human("m1", Offline);
    // p2: offline on both: a tie, chat comes first
    s.chat.human("c2", Offline);
    s.mail.human("m2", Offline);
    let sum = e.once().await.unwrap();
    let log = e.store().read(|t| t.decisions()).unwrap();
    assert_eq!(sum.decisions, 2, "{log:#?}");
    assert_eq!(
        log[0].reason,
        "changed on 2 desks in one cycle (away on chat, offline on mail): away wins by precedence"
    );
    assert_eq!(log[0].desk, "chat");
    assert_eq!(log[1].desk, "chat");
    assert!(
        log[1].reason.ends_with("then desk order"),
        "{}",
        log[1].reason
    );
    // mail cannot hold away and has no substitute: it keeps the person's own offline
    assert_eq!(s.mail.state("m1"), Offline);
    assert_eq!(s.mail.writes() + s.chat.writes(), 0);

    // another precedence order decides the other way
    let mut s = setup("precedence-2");
    s.options = Options::default().precedence(vec![Offline, Busy, Available, Away]);
    let mut e = s.engine();
    e.once().await.unwrap();
    s.chat.human("c1", Away);
    s.mail.human("m1", Offline);
    e.once().await.unwrap();
    assert_eq!(s.chat.state("c1"), Offline);
    assert_eq!(s.chat.writes(), 1);
}

#[tokio::test]
async fn computed_states_are_not_human_changes() {
    let chat = Memory::new("engage-digital", &[Available, Away], &[("c1", Available)]);
    let mail = Memory::new("mail-vendor", TWO, &[("m1", Available)]);
    let people = People::from_rows(
        &["chat", "mail"],
        vec![("p1".into(), vec![Some("c1".into()), Some("m1".into())])],
    )
    .expect("people map");
    let desks = vec![
        Desk::new("chat", chat.clone(), Duration::from_secs(1)),
        Desk::new("mail", mail.clone(), Duration::from_secs(1)).substitute(Busy, Offline),
    ];
    let path = db("computed");
    let mut e = Engine::new(
        desks,
        people,
        Store::open(&path).unwrap(),
        Options::default(),
    )
    .unwrap();
    e.once().await.unwrap();
    // Engage Digital's busy is computed from conversations
    chat.human_word("c1", Busy, "available (busy)");
    let sum = e.once().await.unwrap();
    assert_eq!(sum.decisions, 0);
    assert_eq!(sum.desks[0].computed, 1);
    assert_eq!(mail.state("m1"), Available);
    // and its end is no change either
    chat.human("c1", Available);
    assert_eq!(e.once().await.unwrap().decisions, 0);
    // a person's away is
    chat.human("c1", Away);
    assert_eq!(e.once().await.unwrap().decisions, 1);
}

#[tokio::test]
async fn the_outbox_and_the_states_survive_a_restart() {
    let s = setup("restart");
    {
        let mut e = s.engine();
        e.once().await.unwrap();
        s.chat.human("c1", Offline);
        s.mail.down.store(true, Ordering::SeqCst);
        let sum = e.once().await.unwrap();
        // decided, but the write failed: owed
        assert_eq!(sum.decisions, 1);
        assert_eq!(sum.owed, 1);
        assert_eq!(s.mail.writes(), 0);
        // the engine is dropped here: a crash
    }
    s.mail.down.store(false, Ordering::SeqCst);
    // meanwhile, while sync is down, a person changes chat
    s.chat.human("c2", Busy);
    let mut e = s.engine();
    let sum = e.once().await.unwrap();
    // the owed write went out, the change made while down was decided, nothing else
    assert_eq!(s.mail.state("m1"), Offline);
    assert_eq!(s.mail.state("m2"), Offline);
    assert_eq!(s.mail.writes(), 2);
    assert_eq!(
        sum.decisions, 1,
        "only the change made while down; the old one is not replayed"
    );
    assert_eq!(sum.owed, 0);
    // and again (the restarted one gone first: one sync per database): nothing
    drop(e);
    let mut e = s.engine();
    assert_eq!(e.once().await.unwrap().decisions, 0);
    assert_eq!(s.mail.writes() + s.chat.writes(), 2);
    assert_eq!(e.store().read(|t| t.decisions()).unwrap().len(), 2);
}

#[tokio::test]
async fn dry_run_writes_nothing_and_leaves_the_database_alone() {
    let s = setup("dry-run");
    s.engine().once().await.unwrap();
    s.chat.human("c1", Offline);
    let planned = Arc::new(Mutex::new(Vec::new()));
    let seen = planned.clone();
    let desks = vec![
        Desk::new("chat", s.chat.clone(), Duration::from_secs(1)).role(Role::Both),
        Desk::new("mail", s.mail.clone(), Duration::from_secs(1)),
    ];
    let mut e = Engine::new(
        desks,
        s.people.clone(),
        Store::open_copy(&s.db).unwrap(),
        Options::default().dry_run(true),
    )
    .unwrap()
    .on_dry_run(move |p| {
        seen.lock().unwrap().push(format!(
            "{} {} {} {}",
            p.desk, p.agent, p.person, p.availability
        ))
    });
    let sum = e.once().await.unwrap();
    assert_eq!(*planned.lock().unwrap(), ["mail m1 p1 offline"]);
    assert_eq!(
        (sum.desks[1].writes_made, sum.desks[1].writes_planned),
        (0, 1)
    );
    assert_eq!(s.mail.writes(), 0);
    // the real run still sees the change as new
    let mut e = s.engine();
    assert_eq!(e.once().await.unwrap().decisions, 1);
    assert_eq!(s.mail.writes(), 1);
}

#[tokio::test]
async fn a_target_only_desk_decides_nothing_and_a_source_only_desk_is_never_written() {
    let s = setup("roles");
    let desks = |s: &Setup| {
        vec![
            Desk::new("chat", s.chat.clone(), Duration::from_secs(1)).role(Role::Source),
            Desk::new("mail", s.mail.clone(), Duration::from_secs(1)).role(Role::Target),
        ]
    };
    let mut e = Engine::new(
        desks(&s),
        s.people.clone(),
        Store::open(&s.db).unwrap(),
        Options::default(),
    )
    .unwrap();
    e.once().await.unwrap();
    s.mail.human("m1", Offline);
    assert_eq!(e.once().await.unwrap().decisions, 0);
    assert_eq!(s.chat.state("c1"), Available);
    s.chat.human("c2", Offline);
    assert_eq!(e.once().await.unwrap().decisions, 1);
    assert_eq!(s.mail.state("m2"), Offline);
}

/// `/health`'s judgement, from the running engine: a quiet desk (nothing changes) stays
/// fresh, a desk whose reads fail goes stale after `stale_after` intervals, and is fresh again
/// after its next successful read.
#[tokio::test]
async fn a_desk_that_cannot_be_read_goes_stale_and_a_quiet_one_does_not() {
    let s = setup("stale");
    let desks = vec![
        Desk::new("chat", s.chat.clone(), Duration::from_millis(100)),
        Desk::new("mail", s.mail.clone(), Duration::from_millis(100)).substitute(Busy, Offline),
    ];
    let mut e = Engine::new(
        desks,
        s.people.clone(),
        Store::open(&s.db).unwrap(),
        Options::default().stale_after(3),
    )
    .unwrap();
    let stats = e.stats();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        e.run(async {
            let _ = stop_rx.await;
        })
        .await
        .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(600)).await;
    let now = stats.snapshot();
    assert!(now.healthy(), "{now:?}");
    for d in &now.desks {
        assert!(d.last_read.is_some(), "{d:?}");
        assert!(d.last_read_age_ms < 300, "{d:?}");
        assert_eq!(d.interval_ms, 100);
    }
    s.mail.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let now = stats.snapshot();
    assert!(!now.healthy());
    assert!(now.desks[1].stale, "{:?}", now.desks[1]);
    assert!(now.desks[1].last_read_age_ms > 300);
    assert!(now.desks[1].read_failures > 0);
    assert!(!now.desks[0].stale, "quiet, not stale: {:?}", now.desks[0]);
    s.mail.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let now = stats.snapshot();
    assert!(now.healthy(), "{now:?}");
    stop_tx.send(()).unwrap();
    run.await.unwrap();
}

/// `match = "email"`: agents are matched by the address their desk gives; an agent without
/// one, and two agents of a desk sharing one, are reported and never synced.
#[tokio::test]
async fn matching_by_email_syncs_the_matched_and_reports_the_rest() {
    let s = setup("email");
    for (c, m, e) in [
        ("c1", "m1", "ada@example.com"),
        ("c2", "m2", "Grace@Example.com"),
    ] {
        s.chat.email(c, e);
        s.mail.email(m, &e.to_lowercase());
    }
    // c3 has no address; m3 and x9 share one on mail
    s.mail.email("m3", "shared@example.com");
    s.mail.email("x9", "shared@example.com");
    s.chat.email("c3", "");
    let desks = vec![
        Desk::new("chat", s.chat.clone(), Duration::from_secs(1)),
        Desk::new("mail", s.mail.clone(), Duration::from_secs(1)).substitute(Busy, Offline),
    ];
    let mut e = Engine::new(
        desks,
        People::by_email(&["chat", "mail"]),
        Store::open(&s.db).unwrap(),
        Options::default(),
    )
    .unwrap();
    let first = e.once().await.unwrap();
    assert_eq!(first.decisions, 0);
    assert_eq!(first.desks[0].unmatched, 1, "c3: no address");
    assert_eq!(first.desks[1].unmatched, 2, "m3 and x9 share one");
    assert_eq!(first.desks[1].ambiguous_emails, 1);
    assert!(
        first.to_string().contains("(1 ambiguous e-mail addresses)"),
        "{first}"
    );

    // matched by address (case aside): followed
    s.chat.human("c2", Offline);
    s.mail.human("m1", Offline);
    let second = e.once().await.unwrap();
    assert_eq!(second.decisions, 2);
    assert_eq!(s.mail.state("m2"), Offline);
    assert_eq!(s.chat.state("c1"), Offline);
    let log = e.store().read(|t| t.decisions()).unwrap();
    let people: Vec<&str> = log.iter().map(|d| d.person.as_str()).collect();
    assert!(people.contains(&"grace@example.com"), "{people:?}");
    assert!(people.contains(&"ada@example.com"), "{people:?}");

    // not matched: nothing follows, nothing guessed
    s.chat.human("c3", Busy);
    s.mail.human("m3", Available);
    s.mail.human("x9", Available);
    let third = e.once().await.unwrap();
    assert_eq!(third.decisions, 2);
    assert_eq!(s.chat.writes(), 1);
    assert_eq!(s.mail.writes(), 1);
    // the metrics say it
    let m = agentstatus_sync::metrics::render(&third);
    assert!(
        m.contains("agentstatus_sync_ambiguous_emails{desk=\"mail\",vendor=\"mail-vendor\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("agentstatus_sync_unmatched_agents{desk=\"mail\",vendor=\"mail-vendor\"} 2"),
        "{m}"
    );
}

/// Many first writes to one desk in one pass go through its bulk path (`set_many`); each is
/// written once and counted, and a second pass writes nothing.
#[tokio::test]
async fn many_writes_at_once_go_through_the_bulk_path_once_each() {
    let ids: Vec<(String, String)> = (0..40)
        .map(|i| (format!("c{i}"), format!("m{i}")))
        .collect();
    let chat_agents: Vec<(&str, Availability)> =
        ids.iter().map(|(c, _)| (c.as_str(), Available)).collect();
    let mail_agents: Vec<(&str, Availability)> =
        ids.iter().map(|(_, m)| (m.as_str(), Available)).collect();
    let chat = Memory::new("chat-vendor", ALL, &chat_agents);
    let mail = Memory::new("mail-vendor", TWO, &mail_agents);
    let people = People::from_rows(
        &["chat", "mail"],
        ids.iter()
            .enumerate()
            .map(|(i, (c, m))| (format!("p{i}"), vec![Some(c.clone()), Some(m.clone())]))
            .collect(),
    )
    .expect("people map");
    let bulk_db = db("bulk");
    let mut e = Engine::new(
        vec![
            Desk::new("chat", chat.clone(), Duration::from_secs(1)),
            Desk::new("mail", mail.clone(), Duration::from_secs(1)).substitute(Busy, Offline),
        ],
        people,
        Store::open(&bulk_db).unwrap(),
        Options::default(),
    )
    .unwrap();
    e.once().await.unwrap();
    for (c, _) in &ids {
        chat.human(c, Busy);
    }
    let s = e.once().await.unwrap();
    assert_eq!(s.decisions, 40);
    assert_eq!(s.desks[1].writes_made, 40);
    assert_eq!(s.owed, 0);
    assert_eq!(mail.writes(), 40);
    assert!(ids.iter().all(|(_, m)| mail.state(m) == Offline));
    let again = e.once().await.unwrap();
    assert_eq!(again.desks[1].writes_made, 40);
    assert_eq!(
        mail.writes() + chat.writes(),
        40,
        "no echo, no second write"
    );
}

/// A desk that notes, at the first write it receives, how many decisions the engine had stored.
struct Probe {
    desk: Arc<Memory>,
    stats: std::sync::OnceLock<Stats>,
    first: Mutex<Option<u64>>,
}

#[async_trait]
impl Presence for Probe {
    fn vendor(&self) -> Vendor {
        self.desk.vendor()
    }
    fn supported(&self) -> &'static [Availability] {
        self.desk.supported()
    }
    async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        self.desk.get(agent).await
    }
    async fn set(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        if let Some(stats) = self.stats.get() {
            let mut first = self.first.lock().unwrap();
            if first.is_none() {
                *first = Some(stats.snapshot().decisions);
            }
        }
        self.desk.set(agent, desired).await
    }
    async fn list(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        self.desk.list(filter).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_start_before_every_change_is_decided() {
    let n = DECIDE_BATCH * 8;
    let ids: Vec<(String, String)> = (0..n).map(|i| (format!("c{i}"), format!("m{i}"))).collect();
    let chat_agents: Vec<(&str, Availability)> =
        ids.iter().map(|(c, _)| (c.as_str(), Available)).collect();
    let mail_agents: Vec<(&str, Availability)> =
        ids.iter().map(|(_, m)| (m.as_str(), Available)).collect();
    let chat = Memory::new("chat-vendor", ALL, &chat_agents);
    let mail = Arc::new(Probe {
        desk: Memory::new("mail-vendor", TWO, &mail_agents),
        stats: std::sync::OnceLock::new(),
        first: Mutex::new(None),
    });
    let people = People::from_rows(
        &["chat", "mail"],
        ids.iter()
            .enumerate()
            .map(|(i, (c, m))| (format!("p{i}"), vec![Some(c.clone()), Some(m.clone())]))
            .collect(),
    )
    .expect("people map");
    let pipeline_db = db("pipeline");
    let mut e = Engine::new(
        vec![
            Desk::new("chat", chat.clone(), Duration::from_secs(1)),
            Desk::new("mail", mail.clone(), Duration::from_secs(1)).substitute(Busy, Offline),
        ],
        people,
        Store::open(&pipeline_db).unwrap(),
        Options::default(),
    )
    .unwrap();
    e.once().await.unwrap();
    for (c, _) in &ids {
        chat.human(c, Busy);
    }
    let _ = mail.stats.set(e.stats());
    let s = e.once().await.unwrap();
    assert_eq!(s.decisions, n as u64);
    assert_eq!(s.desks[1].writes_made, n as u64);
    assert_eq!(s.owed, 0);
    assert_eq!(mail.desk.writes(), n);
    let first = mail.first.lock().unwrap().expect("a write was made");
    // a write is sent only once its decision is stored (the outbox is written first) ...
    assert!(
        first >= DECIDE_BATCH as u64,
        "first write after {first} decisions"
    );
    // ... and the first batch's writes reach the desk while the others are still being decided
    assert!(
        first < n as u64,
        "the first write reached the desk only after all {n} decisions"
    );
    // decided in batches, each change once: nothing left, nothing decided twice
    let again = e.once().await.unwrap();
    assert_eq!(again.decisions, n as u64);
    assert_eq!(mail.desk.writes() + chat.writes(), n);
}

/// Issue #30, restarts with another config: a desk removed from sync.toml is forgotten (what was
/// owed to it is dropped, not counted as owed for ever), and configured again it starts from a
/// new baseline: its states from before its removal are not compared with what it shows now
/// (that would decide old differences as new changes), and the writes owed to it then are
/// not sent now.
#[tokio::test]
async fn a_desk_removed_from_the_config_is_forgotten_and_added_again_starts_from_a_baseline() {
    let s = setup("desk-removed");
    {
        let mut e = s.engine();
        e.once().await.unwrap();
        s.chat.human("c1", Offline);
        s.mail.down.store(true, Ordering::SeqCst);
        let sum = e.once().await.unwrap();
        assert_eq!((sum.decisions, sum.owed), (1, 1), "decided, owed to mail");
    }
    // restarted with chat only
    let chat_only = People::from_rows(
        &["chat"],
        vec![
            ("p1".into(), vec![Some("c1".into())]),
            ("p2".into(), vec![Some("c2".into())]),
            ("p3".into(), vec![Some("c3".into())]),
        ],
    )
    .expect("people map");
    {
        let mut e = Engine::new(
            vec![Desk::new("chat", s.chat.clone(), Duration::from_secs(1))],
            chat_only,
            Store::open(&s.db).unwrap(),
            Options::default(),
        )
        .unwrap();
        let sum = e.once().await.unwrap();
        assert_eq!(
            sum.owed, 0,
            "nothing is owed to a desk that is not configured"
        );
    }
    // mail is back, its people changed it while it was not synced
    s.mail.down.store(false, Ordering::SeqCst);
    s.mail.human("m2", Offline);
    let mut e = s.engine();
    let sum = e.once().await.unwrap();
    assert_eq!(sum.decisions, 0, "mail's first read again is a baseline");
    assert_eq!(s.mail.state("m1"), Available, "the old write is not sent");
    assert_eq!(
        s.chat.state("c2"),
        Available,
        "an old difference is no change"
    );
    assert_eq!(s.mail.writes() + s.chat.writes(), 0);
    // and from there it syncs as before
    s.chat.human("c3", Available);
    let sum = e.once().await.unwrap();
    assert_eq!(sum.decisions, 1);
    assert_eq!(s.mail.state("m3"), Available);
    assert_eq!(sum.owed, 0);
}

/// Issue #30, restarts with another people map: a write owed for a person is not sent to an
/// agent who is no longer that person's (their rows were swapped between the runs).
#[tokio::test]
async fn a_write_owed_to_an_agent_moved_to_another_person_is_not_sent() {
    let s = setup("person-moved");
    {
        let mut e = s.engine();
        e.once().await.unwrap();
        s.chat.human("c1", Offline);
        s.mail.down.store(true, Ordering::SeqCst);
        let sum = e.once().await.unwrap();
        assert_eq!((sum.decisions, sum.owed), (1, 1), "p1's write owed to m1");
    }
    s.mail.down.store(false, Ordering::SeqCst);
    // m1 is p2's now, m2 p1's
    let swapped = People::from_rows(
        &["chat", "mail"],
        vec![
            ("p1".into(), vec![Some("c1".into()), Some("m2".into())]),
            ("p2".into(), vec![Some("c2".into()), Some("m1".into())]),
            ("p3".into(), vec![Some("c3".into()), Some("m3".into())]),
        ],
    )
    .expect("people map");
    let setup2 = Setup {
        chat: s.chat.clone(),
        mail: s.mail.clone(),
        db: s.db.clone(),
        options: Options::default(),
        people: swapped,
    };
    let mut e = setup2.engine();
    let sum = e.once().await.unwrap();
    assert_eq!(
        s.mail.state("m1"),
        Available,
        "p1's old write is not made to p2's agent"
    );
    assert_eq!(s.mail.writes(), 0);
    assert_eq!((sum.decisions, sum.owed), (0, 0));
    // p1's next change reaches their agent as the map says now
    s.chat.human("c1", Available);
    s.chat.human("c1", Busy);
    let sum = e.once().await.unwrap();
    assert_eq!(sum.decisions, 1);
    assert_eq!(s.mail.state("m2"), Offline, "busy held as offline on mail");
    assert_eq!(s.mail.state("m1"), Available);
}

/// Issue #30, a person flapping faster than sync's writes come back: a write that landed without
/// its answer (so still owed, its echo not yet read) is followed by a newer decision for the
/// same agent. Its echo, read after, is sync's own, not a person's change: before, the newer
/// decision forgot it (the agent's last read state was already what it wanted), the echo was
/// decided as a human change, and the person ended in the state they had left.
#[tokio::test]
async fn an_earlier_writes_echo_read_after_a_newer_decision_is_still_sync_s_own() {
    let s = setup("late-echo");
    let mut e = s.engine();
    e.once().await.unwrap();
    // p1 goes offline on chat; the write to mail lands, its answer is lost
    s.chat.human("c1", Offline);
    s.mail.lose_answers.store(true, Ordering::SeqCst);
    let sum = e.once().await.unwrap();
    assert_eq!((sum.decisions, sum.owed), (1, 1));
    assert_eq!(s.mail.state("m1"), Offline, "the write landed");
    s.mail.lose_answers.store(false, Ordering::SeqCst);
    // p1 is back on chat before mail is read again
    s.chat.human("c1", Available);
    s.mail.unreadable.store(true, Ordering::SeqCst);
    let sum = e.once().await.unwrap();
    assert_eq!(sum.decisions, 2);
    // mail is read again: what it shows is sync's own doing
    s.mail.unreadable.store(false, Ordering::SeqCst);
    let sum = e.once().await.unwrap();
    let sum2 = e.once().await.unwrap();
    assert_eq!(
        (sum.decisions, sum2.decisions),
        (2, 2),
        "mail's offline was sync's write, not a person's change"
    );
    assert_eq!(s.chat.state("c1"), Available, "p1 stays as they left it");
    assert_eq!(s.mail.state("m1"), Available);
    assert_eq!(sum2.owed, 0);
}

/// Issue #30, a desk down for several intervals: the writes owed to it fail meanwhile and wait a
/// growing multiple of its interval; once it answers a read again they go out at once, not
/// after their backoff (which grows to minutes: a long outage would keep a person wrong there
/// for as long after the desk is back).
#[tokio::test]
async fn writes_owed_to_a_desk_that_was_down_go_out_once_it_answers_again() {
    let s = setup("desk-back");
    let mut e = s.engine();
    e.once().await.unwrap();
    s.mail.down.store(true, Ordering::SeqCst);
    s.chat.human("c1", Offline);
    let sum = e.once().await.unwrap();
    assert_eq!((sum.decisions, sum.owed), (1, 1));
    assert_eq!(sum.desks[1].writes_failed, 1);
    // still down: the write waits its backoff
    let sum = e.once().await.unwrap();
    assert_eq!(
        sum.desks[1].writes_failed, 1,
        "not tried again before its backoff"
    );
    // back: the next pass reads it, and sends what failed meanwhile
    s.mail.down.store(false, Ordering::SeqCst);
    let sum = e.once().await.unwrap();
    assert_eq!(s.mail.state("m1"), Offline);
    assert_eq!((sum.owed, sum.desks[1].writes_made), (0, 1));
}

/// Issue #30: a user may run the engine inside a `LocalSet` on a multi-threaded runtime (a
/// `!Send` service around it; `LocalSet::run_until`, `spawn_local`). The thread driving the set
/// is no worker, and tokio refuses `block_in_place` there (it panicked: "can call blocking only
/// when running on the multi-threaded runtime"): the engine's database steps then run as they
/// are, in `once` and in `run`, and it syncs as anywhere else. On the runtime's workers (a
/// spawned task) they still block in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_runs_inside_a_local_set_on_a_multi_threaded_runtime() {
    let s = setup("local-set");
    let local = tokio::task::LocalSet::new();
    // `once` polled by the set's `run_until`
    let mut e = local
        .run_until(async {
            let mut e = s.engine();
            e.once().await.unwrap();
            s.chat.human("c1", Busy);
            let sum = e.once().await.unwrap();
            assert_eq!(sum.decisions, 1);
            e
        })
        .await;
    assert_eq!(s.mail.state("m1"), Offline, "written from inside the set");
    // `run` as a local task of the set
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let chat = s.chat.clone();
    let mail = s.mail.clone();
    local
        .run_until(async move {
            let run = tokio::task::spawn_local(async move {
                e.run(async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap()
            });
            chat.human("c2", Busy);
            tokio::time::timeout(Duration::from_secs(10), async {
                while mail.state("m2") != Offline {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await
            .expect("chat's change reaches mail within 10 s");
            stop_tx.send(()).unwrap();
            let sum = run.await.unwrap();
            assert!(sum.decisions >= 1, "{sum:?}");
        })
        .await;
    // and on a worker (a spawned task) the same engine's steps block in place, as before
    let mut e = s.engine();
    s.chat.human("c3", Busy);
    let sum = tokio::spawn(async move { e.once().await.unwrap() })
        .await
        .unwrap();
    assert!(sum.decisions >= 1, "{sum:?}");
    assert_eq!(s.mail.state("m3"), Offline);
}
