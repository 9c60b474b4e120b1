//! Custom "away" statuses by name: `set_with(state = "<name>")`, resolved through
//! `GET /presence_status` to the documented `custom_status_id`
//! (specs/engage-digital/NOTES.md#custom-away-statuses).

use agentstatus_engage_digital::Client;
use agentstatus_engage_digital::fake::{Agent, EngageDigital};
use agentstatus_engage_digital::presence::EngageDigitalPresence;
use agentstatus_presence::{Availability, ErrorKind, ListFilter, Presence, SetRequest};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PUT_E1: &str = "/status/e1";

async fn fake() -> (EngageDigital, EngageDigitalPresence) {
    let fake = EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("sup-token");
    fake.add_presence_status("cs-meeting", "Meeting");
    fake.add_presence_status("cs-lunch", "Lunch");
    fake.add_agent(Agent::new(
        "e1",
        &[("c1", "Email"), ("c2", "Chat")],
        "available",
    ));
    let client = Client::with_token(&fake.url(), "sup-token".to_string().into()).unwrap();
    (fake, EngageDigitalPresence::new(client))
}

fn lunch() -> SetRequest {
    SetRequest::new(Availability::Away).state("Lunch")
}

#[tokio::test]
async fn a_custom_status_is_set_by_name_and_read_back_by_it() {
    let (fake, p) = fake().await;
    let after = p.set_with("e1", &lunch()).await.unwrap();
    assert_eq!(after.availability, Availability::Away);
    assert_eq!(after.detail.custom_status_id.as_deref(), Some("cs-lunch"));
    assert_eq!(after.detail.state(), "Lunch");
    assert_eq!(
        fake.agent("e1").unwrap().custom_status.as_deref(),
        Some("cs-lunch")
    );
    assert_eq!(fake.state_changes(), 1);

    // reads name it (one list for a whole `list`)
    let read = p.get("e1").await.unwrap();
    assert_eq!(
        (read.detail.state(), read.detail.vendor_status.as_str()),
        ("Lunch", "away")
    );
    let all = p.list(&ListFilter::all()).await.unwrap();
    assert_eq!(all[0].detail.state(), "Lunch");

    // the same again: sent all the same (the read before it may be a replica's, behind), and
    // it changes nothing
    let puts = fake.faults().count("PUT", PUT_E1);
    p.set_with("e1", &lunch()).await.unwrap();
    assert_eq!(fake.faults().count("PUT", PUT_E1), puts + 1);
    assert_eq!(fake.state_changes(), 1);

    // another custom status replaces it; `away` is the generic away (no custom status)
    let meeting = p
        .set_with("e1", &SetRequest::new(Availability::Away).state("Meeting"))
        .await
        .unwrap();
    assert_eq!(meeting.detail.state(), "Meeting");
    let generic = p
        .set_with("e1", &SetRequest::new(Availability::Away).state("away"))
        .await
        .unwrap();
    assert_eq!(generic.detail.custom_status_id, None);
    assert_eq!(
        (generic.availability, generic.detail.state()),
        (Availability::Away, "away")
    );
    assert_eq!(fake.agent("e1").unwrap().custom_status, None);
}

#[tokio::test]
async fn names_that_do_not_fit_are_refused_before_any_change() {
    let (fake, p) = fake().await;
    // unknown: the known names listed
    let e = p
        .set_with("e1", &SetRequest::new(Availability::Away).state("Dinner"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("\"Dinner\"") && text.contains("`Lunch`") && text.contains("`Meeting`"),
        "{text}"
    );
    // matched exactly, as the list spells it
    let e = p
        .set_with("e1", &SetRequest::new(Availability::Away).state("lunch"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    // a custom status is an away status
    let e = p
        .set_with(
            "e1",
            &SetRequest::new(Availability::Available).state("Lunch"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("not available"), "{e}");
    // two statuses of one name: ambiguous, their ids named
    fake.add_presence_status("cs-lunch-2", "Lunch");
    let e = p.set_with("e1", &lunch()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(
        e.to_string().contains("`cs-lunch`") && e.to_string().contains("`cs-lunch-2`"),
        "{e}"
    );
    // no expiry
    let e = p
        .set_with(
            "e1",
            &lunch().for_duration(std::time::Duration::from_secs(60)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert_eq!(fake.faults().count("PUT", PUT_E1), 0);
    assert_eq!(fake.state_changes(), 0);
}

#[tokio::test]
async fn a_disconnected_agent_cannot_take_a_custom_status() {
    let (fake, p) = fake().await;
    let mut e1 = fake.agent("e1").unwrap();
    e1.connected = false;
    fake.add_agent(e1);
    let e = p.set_with("e1", &lunch()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(fake.faults().count("PUT", PUT_E1), 0);
}

#[tokio::test]
async fn every_page_of_custom_statuses_is_read() {
    let (fake, p) = fake().await;
    // 200 more, ordered by name before `Lunch`: `Lunch` is on the second page of 150
    for i in 0..200 {
        fake.add_presence_status(&format!("cs-{i}"), &format!("Break {i:03}"));
    }
    let after = p.set_with("e1", &lunch()).await.unwrap();
    assert_eq!(after.detail.custom_status_id.as_deref(), Some("cs-lunch"));
    assert_eq!(after.detail.state(), "Lunch");
    assert_eq!(fake.faults().count("GET", "/presence_status"), 2);
}

/// The raw requests: the list of custom statuses (150 a page), the agent, then one `PUT` with
/// `custom_status_id` alone (a channel map too would make the server ignore it), no body.
#[tokio::test]
async fn set_with_sends_only_the_custom_status_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/presence_status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 2, "offset": 0, "limit": 150,
            "records": [{"id": "cs9", "name": "Lunch"}, {"id": "cs1", "name": "Training"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let status = |custom: serde_json::Value, channel: &str| {
        json!({"agent_id": "e1", "custom_status": custom, "channels": [
            {"id": "c1", "name": "Email", "status": channel, "busyness": "ok"}]})
    };
    Mock::given(method("GET"))
        .and(path("/status/e1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(status(json!(null), "available")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/status/e1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(status(json!({"id": "cs9"}), "away")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_token(&server.uri(), "tok".to_string().into()).unwrap();
    let after = EngageDigitalPresence::new(client)
        .set_with("e1", &lunch())
        .await
        .unwrap();
    assert_eq!(
        (after.availability, after.detail.state()),
        (Availability::Away, "Lunch")
    );
    let requests = server.received_requests().await.unwrap();
    let seen: Vec<(String, String, Option<String>)> = requests
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.url.path().to_string(),
                r.url.query().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "GET".into(),
                "/presence_status".into(),
                Some("limit=150&offset=0".into())
            ),
            ("GET".into(), "/status/e1".into(), None),
            (
                "PUT".into(),
                "/status/e1".into(),
                Some("custom_status_id=cs9".into())
            ),
        ]
    );
    assert!(requests[2].body.is_empty(), "no body");
    assert_eq!(
        requests[2].headers.get("authorization").unwrap(),
        "Bearer tok"
    );
}

/// The answer to the `PUT` shows another custom status (or none): a conflict.
#[tokio::test]
async fn an_answer_without_the_custom_status_is_a_conflict() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/presence_status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 1, "offset": 0, "limit": 150, "records": [{"id": "cs9", "name": "Lunch"}]
        })))
        .mount(&server)
        .await;
    let body = json!({"agent_id": "e1", "custom_status": null, "channels": [
        {"id": "c1", "name": "Email", "status": "available", "busyness": "ok"}]});
    Mock::given(path("/status/e1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let client = Client::with_token(&server.uri(), "tok".to_string().into()).unwrap();
    let e = EngageDigitalPresence::new(client)
        .set_with("e1", &lunch())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
}

/// The generic `away` sends every channel away; a server that keeps the custom status (not
/// documented either way) is reported, not taken for the generic away.
#[tokio::test]
async fn the_generic_away_with_a_custom_status_kept_is_a_conflict() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/presence_status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 1, "offset": 0, "limit": 150, "records": [{"id": "cs9", "name": "Lunch"}]
        })))
        .mount(&server)
        .await;
    let body = json!({"agent_id": "e1", "custom_status": {"id": "cs9"}, "channels": [
        {"id": "c1", "name": "Email", "status": "away", "busyness": "ok"}]});
    Mock::given(path("/status/e1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let client = Client::with_token(&server.uri(), "tok".to_string().into()).unwrap();
    let e = EngageDigitalPresence::new(client)
        .set_with("e1", &SetRequest::new(Availability::Away).state("away"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("cs9"), "{e}");
    let puts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    assert_eq!(puts, 1, "every channel sent away once");
}

/// A watcher reports a custom status renamed at Engage Digital (the agent keeps its id, the
/// state's word changes: `Adapter::OBSERVED` has the word) once, and nothing for reads where
/// nothing changed.
#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_custom_status_is_reported_once_by_a_watcher() {
    use std::sync::Arc;
    use std::time::Duration;

    use agentstatus_presence::watch::{WatchOptions, Watcher};

    let (fake, p) = fake().await;
    p.set_with("e1", &lunch()).await.unwrap();
    let mut w = Watcher::new(
        Arc::new(p) as Arc<dyn Presence>,
        "desk",
        WatchOptions::every(Duration::from_millis(200)),
    );
    let first = tokio::spawn(async move {
        let c = tokio::time::timeout(Duration::from_secs(10), w.next()).await;
        (c, w)
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    fake.rename_presence_status("cs-lunch", "Late lunch");
    let (c, mut w) = first.await.unwrap();
    let c = c.expect("a change within 10 s").unwrap();
    let (before, after) = (c.before.unwrap(), c.after.unwrap());
    assert_eq!(
        (before.availability, before.detail.state()),
        (Availability::Away, "Lunch")
    );
    assert_eq!(
        (after.availability, after.detail.state()),
        (Availability::Away, "Late lunch")
    );
    assert_eq!(after.detail.custom_status_id.as_deref(), Some("cs-lunch"));
    // reads with nothing changed: nothing
    let quiet = tokio::time::timeout(Duration::from_millis(900), w.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");
}

/// A read whose list of custom statuses fails names the custom status from the last list read,
/// so the state's word does not flap to `away` (a watcher would report it twice).
#[tokio::test]
async fn a_failed_list_of_names_keeps_the_last_names() {
    use agentstatus_engage_digital::fake::Fault;

    let (fake, p) = fake().await;
    p.set_with("e1", &lunch()).await.unwrap();
    assert_eq!(p.get("e1").await.unwrap().detail.state(), "Lunch");
    // the agent read answers; every attempt at the custom statuses fails
    fake.faults().push(Fault::Delay(std::time::Duration::ZERO));
    for _ in 0..4 {
        fake.faults().push(Fault::Status(503));
    }
    let lists = fake.faults().count("GET", "/presence_status");
    let read = p.get("e1").await.unwrap();
    assert_eq!(fake.faults().count("GET", "/presence_status"), lists + 4);
    assert_eq!(fake.faults().pending(), 0);
    assert_eq!(
        (read.detail.state(), read.detail.custom_status_id.as_deref()),
        ("Lunch", Some("cs-lunch"))
    );
}
