//! Wire tests: what the client and the adapter send (method, path, the Basic header, the form
//! fields exactly, the query) to a local server answering with bodies shaped like the real
//! server's (specs/zulip/NOTES.md), and how the answers are read.

use std::collections::BTreeMap;

use agentstatus_zulip::types::{
    DeleteQueueBody, EventTypes, RegisterQueueBody, UpdatePresenceBody, UpdatePresenceBodyStatus,
    UpdateStatusBody,
};
use agentstatus_zulip::{Client, ClientConfig, Error};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const EMAIL: &str = "iago@zulip.com";
const KEY: &str = "s3cr3t-zulip-api-key";

fn client(server: &MockServer) -> Client {
    Client::with_basic_auth(
        &server.uri(),
        EMAIL,
        KEY.to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap()
}

fn ok(extra: Value) -> ResponseTemplate {
    let mut body = json!({"result": "success", "msg": ""});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn bad_request(msg: &str) -> ResponseTemplate {
    ResponseTemplate::new(400)
        .set_body_json(json!({"result": "error", "msg": msg, "code": "BAD_REQUEST"}))
}

/// The Basic header: base64 of `email:key`.
fn basic() -> String {
    use agentstatus_fakes::base64::Engine as _;
    let raw = format!("{EMAIL}:{KEY}");
    format!(
        "Basic {}",
        agentstatus_fakes::base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A request's form fields.
fn form(r: &Request) -> BTreeMap<String, String> {
    assert_eq!(
        r.headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/x-www-form-urlencoded"),
        "{} {}",
        r.method,
        r.url
    );
    agentstatus_fakes::form_urlencoded::parse(&r.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

#[tokio::test]
async fn update_presence_sends_its_form_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users/me/presence"))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let body = UpdatePresenceBody::builder()
        .status(UpdatePresenceBodyStatus::Active)
        .ping_only(true);
    client(&server)
        .update_presence()
        .body(body)
        .send()
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(
        sent[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        basic()
    );
    assert_eq!(
        form(&sent[0]),
        fields(&[
            ("status", "active"),
            ("ping_only", "true"),
            ("new_user_input", "false"),
            ("slim_presence", "false"),
        ])
    );
}

#[tokio::test]
async fn update_status_sends_away_as_json_and_reads_the_error_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users/me/status"))
        .respond_with(bad_request("Client did not pass any new values."))
        .mount(&server)
        .await;
    let body = UpdateStatusBody::builder()
        .away(Some(true))
        .status_text(Some("Lunch".to_string()));
    let e = client(&server)
        .update_status()
        .body(body)
        .send()
        .await
        .unwrap_err();
    match e {
        Error::ErrorResponse(rv) => assert_eq!(rv.status().as_u16(), 400),
        other => panic!("{other:?}"),
    }
    let sent = requests(&server).await;
    assert_eq!(
        form(&sent[0]),
        fields(&[("away", "true"), ("status_text", "Lunch")])
    );
}

#[tokio::test]
async fn register_sends_event_types_as_json_in_the_form() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/register"))
        .respond_with(ok(json!({
            "queue_id": "fb67bf8a-c031-47cc-84cf-ed80accacda8", "last_event_id": -1,
            "zulip_version": "11.0", "zulip_feature_level": 378, "zulip_merge_base": "11.0",
        })))
        .mount(&server)
        .await;
    let body = RegisterQueueBody::builder()
        .event_types(Some(EventTypes(vec![
            "presence".to_string(),
            "user_status".to_string(),
        ])))
        .fetch_event_types(vec!["presence".to_string()]);
    let answer = client(&server)
        .register_queue()
        .body(body)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        answer.queue_id.as_deref(),
        Some("fb67bf8a-c031-47cc-84cf-ed80accacda8")
    );
    assert_eq!(answer.last_event_id, Some(-1));
    assert_eq!(answer.zulip_feature_level, Some(378));
    let sent = form(&requests(&server).await[0]);
    assert_eq!(sent["event_types"], r#"["presence","user_status"]"#);
    assert_eq!(sent["fetch_event_types"], r#"["presence"]"#);
    assert_eq!(sent["slim_presence"], "false");
}

#[tokio::test]
async fn get_events_sends_the_queue_and_acknowledgement_and_reads_events_and_bad_queue() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/events"))
        .and(wiremock::matchers::query_param("queue_id", "q-1"))
        .and(wiremock::matchers::query_param("last_event_id", "4"))
        .respond_with(ok(json!({"events": [
            {"type": "presence", "user_id": 8, "email": "iago@zulip.com", "server_timestamp": 1700000000.5,
             "presence": {"website": {"client": "website", "status": "active", "timestamp": 1700000000, "pushable": false}}, "id": 5},
            {"type": "heartbeat", "id": 6},
        ]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/events"))
        .and(wiremock::matchers::query_param("queue_id", "gone"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "result": "error", "msg": "Bad event queue ID: gone", "code": "BAD_EVENT_QUEUE_ID", "queue_id": "gone",
        })))
        .mount(&server)
        .await;
    let c = client(&server);
    let answer = c
        .get_events()
        .queue_id("q-1")
        .last_event_id(4)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.events.len(), 2);
    let e = c
        .get_events()
        .queue_id("gone")
        .last_event_id(-1)
        .send()
        .await
        .unwrap_err();
    match e {
        Error::ErrorResponse(rv) => {
            assert_eq!(rv.code, "BAD_EVENT_QUEUE_ID");
            assert_eq!(rv.queue_id.as_deref(), Some("gone"));
        }
        other => panic!("{other:?}"),
    }
    let body = DeleteQueueBody::builder().queue_id("q-1".to_string());
    Mock::given(method("DELETE"))
        .and(path("/events"))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    c.delete_queue().body(body).send().await.unwrap();
    let sent = requests(&server).await;
    assert_eq!(form(sent.last().unwrap()), fields(&[("queue_id", "q-1")]));
}

#[cfg(feature = "presence")]
mod adapter {
    use super::*;
    use agentstatus_presence::{Availability, ErrorKind, Failure, ListFilter, Presence};
    use agentstatus_zulip::presence::ZulipPresence;

    fn user(id: i64, name: &str, email: &str) -> Value {
        json!({"user_id": id, "full_name": name, "email": email, "is_active": true, "is_bot": false, "role": 400})
    }

    async fn own_user(server: &MockServer, id: i64) {
        Mock::given(method("GET"))
            .and(path("/users/me"))
            .respond_with(ok(
                json!({"user_id": id, "email": EMAIL, "full_name": "Iago"}),
            ))
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn get_reads_the_user_the_status_and_the_servers_presence() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/users/8"))
            .respond_with(ok(json!({"user": user(8, "Iago", EMAIL)})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8/status"))
            .respond_with(ok(
                json!({"status": {"status_text": "In a meeting", "emoji_name": "calendar", "emoji_code": "1f4c5", "reaction_type": "unicode_emoji"}}),
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8/presence"))
            .respond_with(ok(json!({"presence": {
                "aggregated": {"status": "idle", "timestamp": 1700000000},
                "website": {"status": "idle", "timestamp": 1700000000},
            }})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/9"))
            .respond_with(ok(json!({"user": user(9, "Hamlet", "hamlet@zulip.com")})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/9/status"))
            .respond_with(ok(json!({"status": {"away": true}})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/9/presence"))
            .respond_with(bad_request("No presence data for 9"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/77"))
            .respond_with(bad_request("No such user"))
            .mount(&server)
            .await;
        let p = ZulipPresence::new(client(&server));
        let iago = p.get("8").await.unwrap();
        assert_eq!(iago.availability, Availability::Away);
        assert_eq!(iago.name.as_deref(), Some("Iago"));
        assert_eq!(
            iago.detail.vendor_status,
            "idle, status: :calendar: In a meeting"
        );
        let hamlet = p.get("9").await.unwrap();
        assert_eq!(hamlet.availability, Availability::Offline);
        assert_eq!(hamlet.detail.vendor_status, "offline invisible");
        let e = p.get("77").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        // an id that is no Zulip id is refused before anything is sent
        let before = requests(&server).await.len();
        let e = p.get("../users/me").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert_eq!(requests(&server).await.len(), before);
    }

    #[tokio::test]
    async fn set_writes_only_the_own_user_and_never_substitutes_busy() {
        let server = MockServer::start().await;
        own_user(&server, 8).await;
        let p = ZulipPresence::new(client(&server));
        let e = p.set("9", Availability::Available).await.unwrap_err();
        assert!(matches!(e.failure(), Failure::OwnAgentOnly), "{e}");
        let e = p.set("8", Availability::Busy).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        let e = p.set("8", Availability::Away).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        let sent = requests(&server).await;
        assert!(
            sent.iter().all(|r| r.method.as_str() == "GET"),
            "nothing written: {:?}",
            sent.iter().map(|r| r.url.path()).collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn set_offline_is_invisible_mode_and_available_leaves_it_then_reports_active() {
        let server = MockServer::start().await;
        own_user(&server, 8).await;
        Mock::given(method("GET"))
            .and(path("/users/8"))
            .respond_with(ok(json!({"user": user(8, "Iago", EMAIL)})))
            .mount(&server)
            .await;
        // invisible, offline; after the writes: active
        Mock::given(method("GET"))
            .and(path("/users/8/status"))
            .respond_with(ok(json!({"status": {"away": true}})))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8/status"))
            .respond_with(ok(json!({"status": {}})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8/presence"))
            .respond_with(ok(
                json!({"presence": {"aggregated": {"status": "offline", "timestamp": 1}, "website": {"status": "idle", "timestamp": 1}}}),
            ))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8/presence"))
            .respond_with(ok(
                json!({"presence": {"aggregated": {"status": "active", "timestamp": 2}, "website": {"status": "active", "timestamp": 2}}}),
            ))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/users/me/status"))
            .respond_with(ok(json!({})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/users/me/presence"))
            .respond_with(ok(json!({})))
            .mount(&server)
            .await;
        let p = ZulipPresence::new(client(&server));
        let after = p.set("8", Availability::Available).await.unwrap();
        assert_eq!(after.availability, Availability::Available);
        let writes: Vec<(String, BTreeMap<String, String>)> = requests(&server)
            .await
            .iter()
            .filter(|r| r.method.as_str() == "POST")
            .map(|r| (r.url.path().to_string(), form(r)))
            .collect();
        assert_eq!(
            writes,
            [
                ("/users/me/status".to_string(), fields(&[("away", "false")])),
                (
                    "/users/me/presence".to_string(),
                    fields(&[
                        ("status", "active"),
                        ("ping_only", "true"),
                        ("new_user_input", "false"),
                        ("slim_presence", "false"),
                    ])
                ),
            ]
        );
    }

    /// `set_many` reads the own user once to decide, and the change starts from that read
    /// (no second read before the writes), then reads back once.
    #[tokio::test]
    async fn set_many_reads_the_agent_once_before_writing() {
        let server = MockServer::start().await;
        own_user(&server, 8).await;
        Mock::given(method("GET"))
            .and(path("/users/8"))
            .respond_with(ok(json!({"user": user(8, "Iago", EMAIL)})))
            .mount(&server)
            .await;
        // active; after the write: invisible (offline)
        Mock::given(method("GET"))
            .and(path("/users/8/status"))
            .respond_with(ok(json!({"status": {}})))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8/status"))
            .respond_with(ok(json!({"status": {"away": true}})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8/presence"))
            .respond_with(ok(
                json!({"presence": {"aggregated": {"status": "active", "timestamp": 1}, "website": {"status": "active", "timestamp": 1}}}),
            ))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/users/me/status"))
            .respond_with(ok(json!({})))
            .mount(&server)
            .await;
        let p = ZulipPresence::new(client(&server));
        let results = p
            .set_many(
                vec![("8".to_string(), Availability::Offline)],
                &agentstatus_presence::BulkOptions::default(),
            )
            .await;
        let applied = results[0].outcome.as_ref().unwrap();
        assert_eq!(
            (applied.presence.availability, applied.changed),
            (Availability::Offline, Some(true))
        );
        let seen: Vec<String> = requests(&server)
            .await
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect();
        let reads = |path: &str| seen.iter().filter(|r| *r == &format!("GET {path}")).count();
        // one read to decide, one read back: not three
        assert_eq!(reads("/users/8/presence"), 2, "{seen:?}");
        assert_eq!(reads("/users/8/status"), 2, "{seen:?}");
        assert_eq!(
            seen.iter().filter(|r| r.starts_with("POST")).count(),
            1,
            "{seen:?}"
        );
    }

    #[tokio::test]
    async fn list_reads_users_and_the_register_snapshot_then_deletes_its_queue() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/users"))
            .respond_with(ok(json!({"members": [
                user(8, "Iago", EMAIL),
                user(9, "Hamlet", "hamlet@zulip.com"),
                user(10, "Cordelia", "cordelia@zulip.com"),
                {"user_id": 11, "full_name": "Notification Bot", "email": "bot@zulip.com", "is_active": true, "is_bot": true},
            ]})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/register"))
            .respond_with(ok(json!({
                "queue_id": "q-snap", "last_event_id": -1,
                "server_timestamp": 1700000300.9,
                "server_presence_offline_threshold_seconds": 200,
                "presences": {
                    "iago@zulip.com": {"aggregated": {"client": "website", "status": "active", "timestamp": 1700000290}},
                    // 201 s before the server's time: offline, though the word says idle
                    "hamlet@zulip.com": {"aggregated": {"client": "website", "status": "idle", "timestamp": 1700000099}},
                },
                "user_status": {"10": {"status_text": "Vacation", "away": true}},
            })))
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/events"))
            .respond_with(ok(json!({})))
            .expect(1)
            .mount(&server)
            .await;
        let p = ZulipPresence::new(client(&server));
        let all = p.list(&ListFilter::all()).await.unwrap();
        let got: Vec<(&str, Availability, &str)> = all
            .iter()
            .map(|a| {
                (
                    a.agent_id.as_str(),
                    a.availability,
                    a.detail.vendor_status.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("8", Availability::Available, "active"),
                ("9", Availability::Offline, "offline"),
                (
                    "10",
                    Availability::Offline,
                    "offline invisible, status: Vacation"
                ),
            ]
        );
        let sent = requests(&server).await;
        let register = sent.iter().find(|r| r.url.path() == "/register").unwrap();
        let f = form(register);
        assert_eq!(f["fetch_event_types"], r#"["presence","user_status"]"#);
        assert_eq!(f["event_types"], r#"["user_status"]"#);
        assert_eq!(f["slim_presence"], "false");
        let delete = sent.iter().find(|r| r.method.as_str() == "DELETE").unwrap();
        assert_eq!(form(delete), fields(&[("queue_id", "q-snap")]));
    }

    /// The reader behind `watch`: registers, acknowledges what it handled, reads an event the
    /// generated type refuses (a newer server's field), and registers again after
    /// `BAD_EVENT_QUEUE_ID`, asking for a full read each time.
    #[tokio::test]
    async fn the_change_feed_registers_acknowledges_and_recovers() {
        use agentstatus_presence::watch::{Batch, Origin, WatchOptions};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/register"))
            .respond_with(ok(json!({"queue_id": "q-1", "last_event_id": -1})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/events"))
            .and(wiremock::matchers::query_param("last_event_id", "-1"))
            .respond_with(ok(json!({"events": [
                {"type": "user_status", "user_id": 8, "status_text": "Lunch", "scheduled_end_time": 1700003600, "id": 0},
            ]})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/events"))
            .and(wiremock::matchers::query_param("last_event_id", "0"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "result": "error", "msg": "Bad event queue ID: q-1", "code": "BAD_EVENT_QUEUE_ID", "queue_id": "q-1",
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8"))
            .respond_with(ok(json!({"user": user(8, "Iago", EMAIL)})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8/status"))
            .respond_with(ok(json!({"status": {"status_text": "Lunch"}})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/users/8/presence"))
            .respond_with(ok(
                json!({"presence": {"aggregated": {"status": "active", "timestamp": 1}}}),
            ))
            .mount(&server)
            .await;
        let p = ZulipPresence::new(client(&server)).with_events_client(client(&server));
        let mut feed = Presence::change_feed(&p, &WatchOptions::default()).unwrap();
        assert_eq!(feed.origin(), Origin::Push);
        assert_eq!(feed.next().await.unwrap(), Batch::Resync);
        match feed.next().await.unwrap() {
            Batch::Changed(agents) => {
                assert_eq!(agents.len(), 1);
                assert_eq!(agents[0].agent_id, "8");
                assert_eq!(agents[0].detail.vendor_status, "active, status: Lunch");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            feed.next().await.unwrap(),
            Batch::Resync,
            "registered again"
        );
        let sent = requests(&server).await;
        let registers = sent.iter().filter(|r| r.url.path() == "/register").count();
        assert_eq!(registers, 2);
        let f = form(sent.iter().find(|r| r.url.path() == "/register").unwrap());
        // `restart` too: the server sends it only to queues that ask for it (accepts_event)
        assert_eq!(f["event_types"], r#"["presence","user_status","restart"]"#);
    }

    /// A server that answers every long-poll at once with events the reader does not want (or
    /// with heartbeats, or by dropping the queue) cannot make it spin: requests to the queue
    /// start `MIN_GAP` apart.
    #[tokio::test]
    async fn a_server_that_answers_at_once_forever_is_paced() {
        use agentstatus_presence::watch::{Batch, WatchOptions};
        use agentstatus_zulip::events::MIN_GAP;
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/register"))
            .respond_with(ok(json!({"queue_id": "q-1", "last_event_id": -1})))
            .mount(&server)
            .await;
        // 2,000 events naming nobody, each answer at once
        let noise: Vec<Value> = (0..2000)
            .map(|i| json!({"type": "message", "id": i}))
            .collect();
        Mock::given(method("GET"))
            .and(path("/events"))
            .respond_with(ok(json!({ "events": noise })))
            .mount(&server)
            .await;
        let p = ZulipPresence::new(client(&server)).with_events_client(client(&server));
        let mut feed = Presence::change_feed(&p, &WatchOptions::default()).unwrap();
        assert_eq!(feed.next().await.unwrap(), Batch::Resync);
        let window = MIN_GAP * 3 + MIN_GAP / 2;
        let spun = tokio::time::timeout(window, feed.next()).await;
        assert!(spun.is_err(), "nothing to report, yet {spun:?}");
        let polls = requests(&server)
            .await
            .iter()
            .filter(|r| r.url.path() == "/events")
            .count();
        // the register, then one poll a MIN_GAP: at most four in three and a half gaps
        assert!((3..=4).contains(&polls), "{polls} polls in {window:?}");
    }

    #[tokio::test]
    async fn a_wrong_key_is_an_auth_error_without_the_key() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401).set_body_json(
                json!({"result": "error", "msg": "Invalid API key", "code": "INVALID_API_KEY"}),
            ))
            .mount(&server)
            .await;
        let p = ZulipPresence::new(client(&server));
        let e = p.get("8").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
        let text = format!("{e} {e:?} {p:?}");
        assert!(!text.contains(KEY), "{text}");
    }
}
