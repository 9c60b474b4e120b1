//! The engine's writer at full speed against a fake that enforces its server's window, with the
//! requests held up on their way (random delays at the fake, so that they land bunched) and the
//! sync process stalled now and then (its runtime blocked, then catching up): not one 429, and
//! every write lands. The fakes run on a runtime of their own, which the stalls do not block.

use std::sync::Arc;
use std::time::Duration;

use agentstatus_chatwoot::fake::{Agent as CwAgent, Chatwoot};
use agentstatus_engage_digital::fake::{Agent as EdAgent, EngageDigital};
use agentstatus_fakes::Fault;
use agentstatus_presence::registry::Settings;
use agentstatus_presence::{Availability, Presence};
use agentstatus_runtime::{ClientConfig, RateLimit};
use agentstatus_sync::{Desk, Engine, Options, People, Role, Store};

const PEOPLE: usize = 160;
/// Engage Digital's declared limit, scaled to a second (the fake enforces exactly this, the
/// client is given exactly this): paced at 38 a second, 3 caught up at once after a stall.
const ED_LIMIT: u32 = 40;

#[test]
fn a_writer_at_full_speed_with_stalls_and_bunched_requests_gets_no_429() {
    // the fakes' runtime: two threads of its own
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (cw, ed) = servers.block_on(async {
        let cw = Chatwoot::start(1).await.unwrap();
        cw.add_agent(CwAgent::new(100_000, "Admin", "cw-token", "online").administrator());
        let ed = EngageDigital::start().await.unwrap();
        ed.add_supervisor_token("ed-token");
        ed.set_rate_limit(ED_LIMIT, Duration::from_secs(1));
        for p in 0..PEOPLE {
            cw.add_agent(CwAgent::new(
                p as i64 + 1,
                &format!("Person {p}"),
                &format!("t{p}"),
                "online",
            ));
            ed.add_agent(EdAgent::new(
                &format!("e{p}"),
                &[("mail", "Mail")],
                "available",
            ));
        }
        (cw, ed)
    });
    // sync's runtime: one thread, which the stalls block entirely
    let sync = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // a scratch directory of an unpredictable name, removed when dropped
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-sync-pacing-")
        .tempdir()
        .unwrap();
    let summary = sync.block_on(async {
        let chatwoot = (agentstatus_chatwoot::presence::entry().connect)(
            &Settings::new(cw.url(), ClientConfig::default())
                .with_value("account_id", "1")
                .with_secret("token", "cw-token".to_string().into()),
        )
        .unwrap();
        let ed_client = agentstatus_engage_digital::Client::with_config(
            &ed.url(),
            "ed-token".to_string().into(),
            &ClientConfig::default().with_rate_limit(Some(RateLimit {
                requests: ED_LIMIT,
                per: Duration::from_secs(1),
            })),
        )
        .unwrap();
        let engage: Box<dyn Presence> =
            Box::new(agentstatus_engage_digital::presence::EngageDigitalPresence::new(ed_client));
        let second = Duration::from_secs(1);
        let desks = vec![
            Desk::new("chat", Arc::from(chatwoot), second).role(Role::Source),
            Desk::new("mail", Arc::from(engage), second)
                .role(Role::Target)
                .substitute(Availability::Busy, Availability::Away),
        ];
        let people = People::from_rows(
            &["chat", "mail"],
            (0..PEOPLE)
                .map(|p| {
                    (
                        format!("p{p}"),
                        vec![Some((p + 1).to_string()), Some(format!("e{p}"))],
                    )
                })
                .collect(),
        )
        .expect("people map");
        let mut engine = Engine::new(
            desks,
            people,
            Store::open(&dir.path().join("sync.db")).unwrap(),
            // the writer at full speed: far more writes in flight than the pace needs
            Options::default().write_concurrency(32),
        )
        .unwrap();
        engine.once().await.unwrap();
        for p in 0..PEOPLE {
            let mut a = cw.agent(p as i64 + 1).unwrap();
            a.availability = "busy".into();
            cw.add_agent(a);
        }
        // held up on their way: 0 to 600 ms (a tenth of them), else 0 to 30 ms, before the fake
        // counts them; they land bunched with the requests sent after them
        let mut rng = fastrand::Rng::with_seed(30);
        for _ in 0..PEOPLE + 20 {
            let ms = if rng.u32(0..10) == 0 {
                rng.u64(0..600)
            } else {
                rng.u64(0..30)
            };
            ed.faults().push(Fault::Delay(Duration::from_millis(ms)));
        }
        // the sync process stalled: its only thread blocked for 50 to 400 ms every 100 to 500 ms
        let stalls = tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(31);
            loop {
                tokio::time::sleep(Duration::from_millis(rng.u64(100..500))).await;
                std::thread::sleep(Duration::from_millis(rng.u64(50..400)));
            }
        });
        let s = engine.once().await.unwrap();
        stalls.abort();
        s
    });
    assert_eq!(summary.decisions, PEOPLE as u64, "{summary}");
    assert_eq!(summary.desks[1].writes_made, PEOPLE as u64, "{summary}");
    assert_eq!(summary.owed, 0, "{summary}");
    assert_eq!(ed.state_changes(), PEOPLE as u64);
    assert_eq!(
        ed.rate_limited(),
        0,
        "Engage Digital answered 429 ({} requests)",
        ed.faults().requests().len()
    );
    assert_eq!(cw.rate_limited(), 0, "Chatwoot answered 429");
    drop(sync);
    drop((cw, ed));
    drop(servers);
    drop(dir);
}
