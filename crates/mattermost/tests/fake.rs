//! The fake behaves like the server's code (specs/mattermost/NOTES.md): manual vs automatic
//! status, DND with an end time restored to the previous status, who may set whose status, the
//! bulk read's rules, AppError bodies.
#![cfg(feature = "fake")]

use agentstatus_mattermost::fake::{Mattermost, User, user_id};
use serde_json::{Value, json};

struct Server {
    fake: Mattermost,
    http: reqwest::Client,
}

impl Server {
    async fn new() -> Self {
        let fake = Mattermost::start().await.unwrap();
        fake.add_user(User::new(&user_id(1), "Ada Lovelace", "admin", "online").admin());
        fake.add_user(User::new(&user_id(2), "Bob Babbage", "bob", "online"));
        fake.add_user(User::new(&user_id(3), "Cy Young", "cy", "online"));
        Self {
            fake,
            http: {
                agentstatus_runtime::ensure_tls_provider();
                reqwest::Client::new()
            },
        }
    }

    async fn put(&self, token: &str, user: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .put(format!("{}/api/v4/users/{user}/status", self.fake.url()))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn get(&self, token: &str, user: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}/api/v4/users/{user}/status", self.fake.url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn ids(&self, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v4/users/status/ids", self.fake.url()))
            .bearer_auth("bob")
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }
}

#[tokio::test]
async fn a_user_sets_their_own_status_and_only_an_admin_sets_someone_elses() {
    let s = Server::new().await;
    let bob = user_id(2);
    let cy = user_id(3);
    let (code, body) = s
        .put("bob", &bob, json!({"user_id": bob, "status": "away"}))
        .await;
    assert_eq!(
        (code, body["status"].as_str(), body["manual"].as_bool()),
        (200, Some("away"), Some(true))
    );
    // another user's status: 403, an AppError, nothing changed
    let (code, body) = s
        .put("bob", &cy, json!({"user_id": cy, "status": "dnd"}))
        .await;
    assert_eq!(code, 403);
    assert_eq!(body["id"], "api.context.permissions.app_error");
    assert_eq!(body["status_code"], 403);
    assert_eq!(s.fake.user(&cy).unwrap().status, "online");
    // an administrator may
    let (code, _) = s
        .put("admin", &cy, json!({"user_id": cy, "status": "dnd"}))
        .await;
    assert_eq!(code, 200);
    assert_eq!(s.fake.user(&cy).unwrap().status, "dnd");
    // no session: 401
    let (code, body) = s.get("nope", &cy).await;
    assert_eq!(
        (code, body["id"].as_str()),
        (401, Some("api.context.session_expired.app_error"))
    );
}

#[tokio::test]
async fn the_body_must_name_the_paths_user_and_a_settable_status() {
    let s = Server::new().await;
    let bob = user_id(2);
    for body in [
        json!({"user_id": user_id(3), "status": "away"}),
        json!({"status": "away"}),
        json!({"user_id": bob, "status": "ooo"}),
        json!({"user_id": bob, "status": "busy"}),
        json!({"user_id": bob, "status": 3}),
        json!([1]),
    ] {
        let (code, answer) = s.put("bob", &bob, body.clone()).await;
        assert_eq!(code, 400, "{body}: {answer}");
        assert_eq!(answer["status_code"], 400, "{body}");
    }
    assert_eq!(s.fake.user(&bob).unwrap().status, "online");
    assert_eq!(s.fake.state_changes(), 0);
}

#[tokio::test]
async fn a_timed_dnd_is_truncated_to_the_minute_and_ends_in_the_previous_status() {
    let s = Server::new().await;
    let bob = user_id(2);
    s.put("bob", &bob, json!({"user_id": bob, "status": "away"}))
        .await;
    let end = s.fake.now() + 600;
    let (code, body) = s
        .put(
            "bob",
            &bob,
            json!({"user_id": bob, "status": "dnd", "dnd_end_time": end}),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["dnd_end_time"], end - end % 60);
    assert_eq!(body["manual"], true);
    s.fake.advance(300);
    assert_eq!(s.get("bob", &bob).await.1["status"], "dnd");
    s.fake.advance(301);
    let (_, body) = s.get("bob", &bob).await;
    assert_eq!(body["status"], "away");
    assert_eq!(body["manual"], false);
    assert_eq!(body["dnd_end_time"], 0);
    // the end is broadcast like any change
    let events = s.fake.events(0);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "status_change");
    assert_eq!(last["data"], json!({"status": "away", "user_id": bob}));
    // a DND without an end stays
    s.put("bob", &bob, json!({"user_id": bob, "status": "dnd"}))
        .await;
    s.fake.advance(86_400);
    assert_eq!(s.get("bob", &bob).await.1["status"], "dnd");
}

#[tokio::test]
async fn activity_never_overrides_a_manual_status_and_online_clears_manual() {
    let s = Server::new().await;
    let bob = user_id(2);
    s.fake.idle(&bob);
    assert_eq!(s.fake.user(&bob).unwrap().status, "away");
    s.fake.activity(&bob);
    assert_eq!(s.fake.user(&bob).unwrap().status, "online");
    s.put("bob", &bob, json!({"user_id": bob, "status": "offline"}))
        .await;
    s.fake.activity(&bob);
    let u = s.fake.user(&bob).unwrap();
    assert_eq!((u.status.as_str(), u.manual), ("offline", true));
    let (_, body) = s
        .put("bob", &bob, json!({"user_id": bob, "status": "online"}))
        .await;
    assert_eq!(body["manual"], false);
    s.fake.idle(&bob);
    assert_eq!(s.fake.user(&bob).unwrap().status, "away");
}

#[tokio::test]
async fn the_bulk_read_refuses_empty_lists_and_malformed_ids_and_fills_unknown_ones_offline() {
    let s = Server::new().await;
    assert_eq!(s.ids(json!([])).await.0, 400);
    assert_eq!(s.ids(json!(["short"])).await.0, 400);
    assert_eq!(s.ids(json!({"ids": []})).await.0, 400);
    let unknown = "zzzzzzzzzzzzzzzzzzzzzzzzzz";
    let (code, body) = s.ids(json!([user_id(1), unknown])).await;
    assert_eq!(code, 200);
    assert_eq!(body[0]["status"], "online");
    assert_eq!(
        body[1],
        json!({"user_id": unknown, "status": "offline", "manual": false, "last_activity_at": 0, "dnd_end_time": 0})
    );
}
