//! A graceful stop of `Engine::run` (what `agentstatus sync` does on SIGINT or SIGTERM) calls
//! every desk's watcher shutdown, which releases what the desk's change feed holds at the
//! vendor (Graph's subscriptions, Twilio's workspace callback): desks kept in memory whose
//! feeds count their shutdowns.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentstatus_presence::watch::{Batch, ChangeFeed, Origin, WatchOptions};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, ListFilter, Presence, PresenceError, Vendor, async_trait,
};
use agentstatus_sync::{Desk, Engine, Options, People, Store};

/// A desk of one agent, always available, whose push feed reports nothing and counts the
/// feeds made and their shutdowns.
struct Pushing {
    vendor: Vendor,
    agent: &'static str,
    feeds: Arc<AtomicUsize>,
    shutdowns: Arc<AtomicUsize>,
    /// Reads of every agent (the watcher's first read among them).
    lists: Arc<AtomicUsize>,
}

impl Pushing {
    fn new(vendor: &'static str, agent: &'static str) -> Arc<Self> {
        Arc::new(Self {
            vendor: Vendor::new(vendor),
            agent,
            feeds: Arc::default(),
            shutdowns: Arc::default(),
            lists: Arc::default(),
        })
    }

    fn presence(&self) -> AgentPresence {
        AgentPresence::new(
            self.agent,
            None,
            Availability::Available,
            Detail::new("available"),
        )
    }
}

/// A feed that holds something at the vendor until its shutdown.
struct Feed {
    shutdowns: Arc<AtomicUsize>,
}

#[async_trait]
impl ChangeFeed for Feed {
    fn origin(&self) -> Origin {
        Origin::Push
    }

    async fn next(&mut self) -> Result<Batch, PresenceError> {
        std::future::pending().await
    }

    async fn shutdown(&mut self) -> Result<(), PresenceError> {
        self.shutdowns.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[async_trait]
impl Presence for Pushing {
    fn vendor(&self) -> Vendor {
        self.vendor
    }
    fn supported(&self) -> &'static [Availability] {
        &[Availability::Available, Availability::Offline]
    }
    async fn get(&self, _: &str) -> Result<AgentPresence, PresenceError> {
        Ok(self.presence())
    }
    async fn set(&self, _: &str, _: Availability) -> Result<AgentPresence, PresenceError> {
        Ok(self.presence())
    }
    async fn list(&self, _: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        Ok(vec![self.presence()])
    }
    fn change_feed(&self, _: &WatchOptions) -> Option<Box<dyn ChangeFeed>> {
        self.feeds.fetch_add(1, Ordering::SeqCst);
        Some(Box::new(Feed {
            shutdowns: self.shutdowns.clone(),
        }))
    }
}

#[tokio::test]
async fn a_graceful_stop_shuts_every_desks_feed_down_once() {
    let dir = tempfile::TempDir::new().unwrap();
    let desks = [
        Pushing::new("graph-like", "a1"),
        Pushing::new("twilio-like", "b1"),
        Pushing::new("other", "c1"),
    ];
    let names = ["teams", "voice", "chat"];
    let people = People::from_rows(
        &names,
        vec![(
            "p1".into(),
            desks.iter().map(|d| Some(d.agent.to_string())).collect(),
        )],
    )
    .expect("people map");
    let engine_desks = desks
        .iter()
        .zip(names)
        .map(|(d, n)| Desk::new(n, d.clone(), Duration::from_millis(200)))
        .collect();
    let mut engine = Engine::new(
        engine_desks,
        people,
        Store::open(&dir.path().join("sync.db")).unwrap(),
        Options::default(),
    )
    .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        engine
            .run(async {
                let _ = stop_rx.await;
            })
            .await
    });
    // every desk's watcher has its feed and has read its agents
    tokio::time::timeout(Duration::from_secs(30), async {
        while desks
            .iter()
            .any(|d| d.feeds.load(Ordering::SeqCst) == 0 || d.lists.load(Ordering::SeqCst) == 0)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every desk watched within 30 s");
    for d in &desks {
        assert_eq!(d.shutdowns.load(Ordering::SeqCst), 0, "not before the stop");
    }
    stop_tx.send(()).unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the run ends after the stop")
        .unwrap()
        .unwrap();
    assert_eq!(summary.desks.len(), 3);
    for (d, name) in desks.iter().zip(names) {
        assert_eq!(
            d.shutdowns.load(Ordering::SeqCst),
            1,
            "{name}: its feed shut down once"
        );
        assert_eq!(d.feeds.load(Ordering::SeqCst), 1, "{name}: one feed");
    }
}
