//! The fake behaves like the server's code (specs/zulip/NOTES.md): Basic auth and Zulip's error
//! bodies, the presence timestamps with the 55 s, 70 s and offline-threshold rules, invisible
//! mode, the user status, and the event queue (acknowledgements, heartbeat, expiry).
#![cfg(feature = "fake")]

use std::time::Duration;

use agentstatus_presence::Availability;
use agentstatus_zulip::fake::{Zulip, seeded};
use serde_json::{Value, json};

const KEY: &str = "fake-test-key";

/// A form body (`application/x-www-form-urlencoded`), as the client sends it.
fn with_form(r: reqwest::RequestBuilder, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let body = agentstatus_fakes::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    r.header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

struct Api {
    http: reqwest::Client,
    url: String,
    email: String,
    key: String,
}

impl Api {
    fn new(fake: &Zulip, user: i64) -> Self {
        let key = if user == 1 {
            KEY.to_string()
        } else {
            format!("{KEY}-{user}")
        };
        agentstatus_runtime::ensure_tls_provider();
        Self {
            http: reqwest::Client::new(),
            url: fake.url(),
            email: format!("user{user}@zulip.example"),
            key,
        }
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> (u16, Value) {
        let r = r
            .basic_auth(&self.email, Some(&self.key))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.url)))
            .await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self.http.post(format!("{}{path}", self.url));
        self.send(with_form(r, form)).await
    }

    async fn presence(&self, user: i64) -> String {
        let (status, body) = self.get(&format!("/users/{user}/presence")).await;
        assert_eq!(status, 200, "{body}");
        body["presence"]["aggregated"]["status"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

async fn fake() -> Zulip {
    seeded(
        &[
            ("Ada Lovelace", Availability::Available),
            ("Grace Hopper", Availability::Away),
            ("Katherine Johnson", Availability::Offline),
        ],
        KEY,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn auth_is_basic_with_email_and_api_key_and_errors_are_zulips() {
    let fake = fake().await;
    agentstatus_runtime::ensure_tls_provider();
    let anonymous = reqwest::get(format!("{}/users/me", fake.url()))
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["result"], "error");
    assert_eq!(body["code"], "UNAUTHORIZED");
    let mut wrong = Api::new(&fake, 1);
    wrong.key = "wrong-key".into();
    let (status, body) = wrong.get("/users/me").await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"result": "error", "msg": "Invalid API key", "code": "INVALID_API_KEY"})
        )
    );
    let (status, body) = Api::new(&fake, 1).get("/users/me").await;
    assert_eq!((status, body["user_id"].clone()), (200, json!(1)));
    let (status, body) = Api::new(&fake, 1).get("/users/77/presence").await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"result": "error", "msg": "No such user", "code": "BAD_REQUEST"})
        )
    );
}

#[tokio::test]
async fn presence_follows_the_servers_timestamps_rules() {
    let fake = fake().await;
    let ada = Api::new(&fake, 1);
    assert_eq!(ada.presence(1).await, "active");
    assert_eq!(ada.presence(2).await, "idle");
    assert_eq!(ada.presence(3).await, "offline");
    let bad = ada.post("/users/me/presence", &[("status", "busy")]).await;
    assert_eq!(bad.0, 400);
    assert_eq!(bad.1["msg"], "Invalid status: busy");

    // idle 60 s after being active: within the 70 s the legacy format still says active
    fake.advance(60);
    let (status, _) = ada
        .post(
            "/users/me/presence",
            &[("status", "idle"), ("ping_only", "true")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ada.presence(1).await, "active");
    // 20 s later: not 55 s newer, nothing moves
    fake.advance(20);
    ada.post("/users/me/presence", &[("status", "idle")]).await;
    assert_eq!(fake.user(1).unwrap().last_connected, Some(fake.now() - 20));
    // 120 s after the activity, connected: idle
    fake.advance(40);
    ada.post("/users/me/presence", &[("status", "idle")]).await;
    assert_eq!(ada.presence(1).await, "idle");
    // silence past the 200 s threshold: offline, and the realm's legacy answer keeps the word
    fake.advance(201);
    assert_eq!(ada.presence(1).await, "offline");
    let (_, realm) = ada.get("/realm/presence").await;
    assert_eq!(
        realm["presences"]["user1@zulip.example"]["aggregated"]["status"],
        "idle"
    );
    // a report only moves the caller's own presence
    let grace = Api::new(&fake, 2);
    grace
        .post("/users/me/presence", &[("status", "active")])
        .await;
    assert_eq!(ada.presence(2).await, "active");
    assert_eq!(ada.presence(1).await, "offline");
}

#[tokio::test]
async fn invisible_mode_is_the_status_away_and_reads_offline() {
    let fake = fake().await;
    let ada = Api::new(&fake, 1);
    let (status, body) = ada.post("/users/me/status", &[]).await;
    assert_eq!(
        (status, body["msg"].as_str()),
        (400, Some("Client did not pass any new values."))
    );
    let changes = fake.state_changes();
    ada.post(
        "/users/me/status",
        &[
            ("away", "true"),
            ("status_text", " Lunch "),
            ("emoji_name", "food"),
        ],
    )
    .await;
    assert_eq!(fake.state_changes(), changes + 1);
    assert_eq!(ada.presence(1).await, "offline");
    let (_, status) = ada.get("/users/1/status").await;
    assert_eq!(status["status"]["away"], true);
    assert_eq!(status["status"]["status_text"], "Lunch");
    // reports are ignored while invisible
    ada.post("/users/me/presence", &[("status", "active")])
        .await;
    assert_eq!(ada.presence(1).await, "offline");
    ada.post("/users/me/status", &[("away", "false")]).await;
    assert_eq!(ada.presence(1).await, "active");
    let (_, status) = ada.get("/users/1/status").await;
    assert_eq!(
        status["status"],
        json!({"status_text": "Lunch", "emoji_name": "food", "emoji_code": "", "reaction_type": "unicode_emoji"})
    );
}

#[tokio::test]
async fn the_event_queue_acknowledges_heartbeats_and_expires() {
    let fake = fake().await;
    fake.set_heartbeat(Duration::from_millis(200));
    let ada = Api::new(&fake, 1);
    let grace = Api::new(&fake, 2);
    let (status, reg) = ada
        .post(
            "/register",
            &[
                ("event_types", r#"["presence","user_status"]"#),
                ("fetch_event_types", "[]"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["last_event_id"], -1);
    assert_eq!(reg["zulip_feature_level"], 378);
    assert!(reg.get("presences").is_none(), "nothing fetched: {reg}");
    let queue = reg["queue_id"].as_str().unwrap().to_string();
    let events = |last: i64, block: bool| {
        format!("/events?queue_id={queue}&last_event_id={last}&dont_block={block}")
    };

    // Grace comes back online after ten minutes idle: a presence event; a status: another
    fake.advance(600);
    grace
        .post("/users/me/presence", &[("status", "active")])
        .await;
    grace
        .post("/users/me/status", &[("status_text", "Here")])
        .await;
    let (_, got) = ada.get(&events(-1, true)).await;
    let got = got["events"].as_array().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        (
            got[0]["type"].clone(),
            got[0]["user_id"].clone(),
            got[0]["id"].clone()
        ),
        (json!("presence"), json!(2), json!(0))
    );
    assert_eq!(got[0]["presence"]["website"]["status"], "active");
    assert_eq!(
        got[1],
        json!({"type": "user_status", "user_id": 2, "status_text": "Here", "id": 1})
    );
    // unacknowledged events come again; acknowledged ones are gone
    let (_, again) = ada.get(&events(0, true)).await;
    assert_eq!(again["events"].as_array().unwrap().len(), 1);
    let (_, none) = ada.get(&events(1, true)).await;
    assert_eq!(none["events"], json!([]));
    let (status, old) = ada.get(&events(0, true)).await;
    assert_eq!(
        (status, old["msg"].as_str()),
        (400, Some("An event newer than 0 has already been pruned!"))
    );

    // a blocking request ends with a heartbeat
    let (_, beat) = ada.get(&events(1, false)).await;
    assert_eq!(beat["events"], json!([{"type": "heartbeat", "id": 2}]));

    // another user's queue is not theirs; an idle queue expires
    let (status, body) = grace.get(&events(2, true)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("BAD_EVENT_QUEUE_ID"))
    );
    fake.set_queue_timeout(Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (status, body) = ada.get(&events(2, true)).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"result": "error", "msg": format!("Bad event queue ID: {queue}"), "code": "BAD_EVENT_QUEUE_ID", "queue_id": queue})
        )
    );
    assert_eq!(fake.queues(), 0);
}

#[tokio::test]
async fn register_answers_the_initial_state_and_delete_removes_the_queue() {
    let fake = fake().await;
    let ada = Api::new(&fake, 1);
    let (_, reg) = ada
        .post(
            "/register",
            &[
                ("event_types", r#"["user_status"]"#),
                (
                    "fetch_event_types",
                    r#"["presence","user_status","realm_user"]"#,
                ),
            ],
        )
        .await;
    assert_eq!(
        reg["presences"]["user2@zulip.example"]["aggregated"]["status"],
        "idle"
    );
    assert_eq!(reg["server_presence_offline_threshold_seconds"], 200);
    assert_eq!(reg["user_status"], json!({}));
    assert_eq!(reg["realm_users"].as_array().unwrap().len(), 3);
    let queue = reg["queue_id"].as_str().unwrap();
    let delete = |q: &str| {
        let r = with_form(
            ada.http.delete(format!("{}/events", ada.url)),
            &[("queue_id", q)],
        );
        ada.send(r)
    };
    assert_eq!(delete(queue).await.0, 200);
    assert_eq!(fake.queues(), 0);
    assert_eq!(delete(queue).await.1["code"], "BAD_EVENT_QUEUE_ID");
}
