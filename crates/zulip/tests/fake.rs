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

/// A request with this `Authorization` header (none: `None`): the status, the
/// `WWW-Authenticate` header and the body.
async fn with_authorization(fake: &Zulip, value: Option<&str>) -> (u16, Option<String>, Value) {
    agentstatus_runtime::ensure_tls_provider();
    let mut r = reqwest::Client::new().get(format!("{}/users/me", fake.url()));
    if let Some(value) = value {
        r = r.header("authorization", value);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (status, challenge, r.json().await.unwrap())
}

fn basic(credentials: &str) -> String {
    use agentstatus_fakes::base64::Engine as _;
    let encoded = agentstatus_fakes::base64::engine::general_purpose::STANDARD.encode(credentials);
    format!("Basic {encoded}")
}

/// The 401 of `authenticated_rest_api_view`: `UnauthorizedError(msg)`.
fn unauthorized(msg: &str) -> (u16, Option<String>, Value) {
    (
        401,
        Some("Basic realm=\"zulip\"".into()),
        json!({"result": "error", "msg": msg, "code": "UNAUTHORIZED"}),
    )
}

#[tokio::test]
async fn auth_is_basic_with_email_and_api_key_and_errors_are_zulips() {
    let fake = fake().await;
    assert_eq!(
        with_authorization(&fake, None).await,
        unauthorized("Not logged in: API authentication or user session required")
    );
    // a key of the server's format (32 letters and digits) that is no one's
    let unknown = "abcdefghijABCDEFGHIJ0123456789ab";
    assert_eq!(
        with_authorization(
            &fake,
            Some(&basic(&format!("user1@zulip.example:{unknown}")))
        )
        .await,
        unauthorized("Invalid API key")
    );
    // has_api_key_format is checked first
    assert_eq!(
        with_authorization(&fake, Some(&basic("user1@zulip.example:wrong-key"))).await,
        unauthorized("Malformed API key")
    );
    // the right key under another user's e-mail
    assert_eq!(
        with_authorization(&fake, Some(&basic(&format!("user2@zulip.example:{KEY}")))).await,
        unauthorized("Invalid API key")
    );
    // get_basic_credentials: not two words, not base64, not exactly one colon
    for header in [
        "Basic".to_string(),
        "Basic !!!".to_string(),
        basic(&format!("user1@zulip.example:{KEY}:x")),
    ] {
        assert_eq!(
            with_authorization(&fake, Some(&header)).await,
            unauthorized("Invalid authorization header for basic auth"),
            "{header}"
        );
    }
    // another scheme is a plain JsonableError (400), not an UnauthorizedError
    let (status, challenge, body) = with_authorization(&fake, Some("Bearer abc")).await;
    assert_eq!((status, challenge), (400, None));
    assert_eq!(
        body,
        json!({"result": "error", "msg": "This endpoint requires HTTP basic authentication.",
               "code": "BAD_REQUEST"})
    );
    // whitespace around the e-mail and key is forgiven (validate_api_key strips them)
    let (status, _, body) = with_authorization(
        &fake,
        Some(&basic(&format!(" user1@zulip.example : {KEY} "))),
    )
    .await;
    assert_eq!((status, body["user_id"].clone()), (200, json!(1)));
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
async fn deactivated_users_and_realms_are_refused_as_the_server_does() {
    let fake = fake().await;
    let mut grace = fake.user(2).unwrap();
    grace.is_active = false;
    fake.add_user(grace);
    let credentials = |user: i64| {
        let key = if user == 1 {
            KEY.to_string()
        } else {
            format!("{KEY}-{user}")
        };
        basic(&format!("user{user}@zulip.example:{key}"))
    };
    assert_eq!(
        with_authorization(&fake, Some(&credentials(2))).await,
        unauthorized("Account is deactivated")
    );
    // a wrong key says nothing about the account
    assert_eq!(
        with_authorization(&fake, Some(&basic("user2@zulip.example:nope"))).await,
        unauthorized("Malformed API key")
    );
    let (status, _, _) = with_authorization(&fake, Some(&credentials(1))).await;
    assert_eq!(status, 200);
    // the realm is checked before the user
    fake.deactivate_realm();
    for user in [1, 2] {
        assert_eq!(
            with_authorization(&fake, Some(&credentials(user))).await,
            unauthorized("This organization has been deactivated"),
            "user {user}"
        );
    }
}

#[tokio::test]
async fn presence_events_stop_above_the_servers_user_limit_unless_forced() {
    use agentstatus_zulip::fake::{USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS, User};
    let fake = fake().await;
    let presence_events = |fake: &Zulip, user: i64| {
        fake.events_sent()
            .iter()
            .filter(|(kind, u)| kind == "presence" && *u == user)
            .count()
    };
    // exactly the limit (3 seeded users and the others): Katherine coming online is pushed
    for id in 4..=USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS as i64 {
        fake.add_user(User::new(id, &format!("Agent {id}"), &format!("key-{id}")));
    }
    let queue = Api::new(&fake, 1)
        .post("/register", &[("event_types", r#"["presence"]"#)])
        .await
        .1["queue_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!queue.is_empty());
    fake.ping(3, true);
    assert_eq!(presence_events(&fake, 3), 1);
    // one more active user: coming online is not pushed any more
    let limit = USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS as i64;
    fake.add_user(User::new(limit + 1, "One Too Many", "key-many"));
    fake.seed_presence(2, "offline");
    fake.ping(2, true);
    assert_eq!(presence_events(&fake, 2), 0);
    assert_eq!(
        fake.shown(2),
        Some(("active", false)),
        "the presence itself moved"
    );
    // a deactivated user does not count (active_user_ids)
    let mut many = fake.user(limit + 1).unwrap();
    many.is_active = false;
    fake.add_user(many);
    fake.advance(300);
    fake.ping(2, true);
    assert_eq!(presence_events(&fake, 2), 1);
    // above the limit again, invisible mode is still pushed (force_send_update)
    fake.add_user(User::new(limit + 2, "Another One", "key-another"));
    let (status, _) = Api::new(&fake, 1)
        .post("/users/me/status", &[("away", "true")])
        .await;
    assert_eq!(status, 200);
    assert_eq!(presence_events(&fake, 1), 1);
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
