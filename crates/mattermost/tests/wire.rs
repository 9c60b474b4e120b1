//! Wire tests: each kept operation against a local HTTP server that checks method, path, the
//! bearer header and the exact body, answering with bodies shaped like the real server's
//! (specs/mattermost/NOTES.md); the adapter's requests and mapping too.

use agentstatus_mattermost::types::{self, StatusStatus, UpdateUserStatusBodyStatus};
use agentstatus_mattermost::{Client, ClientConfig, Error, OpenEnum};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "s3cr3t-mattermost-token";
const ADA: &str = "u0000000000000000000000001";
const BOB: &str = "u0000000000000000000000002";

fn client(server: &MockServer) -> Client {
    Client::with_bearer_auth(
        &server.uri(),
        TOKEN.to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap()
}

fn status(id: &str, word: &str, manual: bool, end: i64) -> Value {
    json!({"user_id": id, "status": word, "manual": manual, "last_activity_at": 1_700_000_000_000_i64, "dnd_end_time": end})
}

fn user(id: &str, first: &str, last: &str) -> Value {
    json!({"id": id, "username": first.to_lowercase(), "first_name": first, "last_name": last, "nickname": "", "roles": "system_user", "delete_at": 0})
}

fn bearer() -> wiremock::matchers::HeaderExactMatcher {
    header("authorization", format!("Bearer {TOKEN}").as_str())
}

#[tokio::test]
async fn get_user_status_sends_the_bearer_token_and_reads_dnd_end_time_and_unknown_words() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v4/users/{ADA}/status")))
        .and(bearer())
        .respond_with(ResponseTemplate::new(200).set_body_json(status(
            ADA,
            "dnd",
            true,
            1_800_000_000,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v4/users/{BOB}/status")))
        .respond_with(ResponseTemplate::new(200).set_body_json(status(BOB, "on-a-boat", false, 0)))
        .mount(&server)
        .await;
    let c = client(&server);
    let s = c
        .get_user_status()
        .user_id(ADA)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.status, Some(OpenEnum::Known(StatusStatus::Dnd)));
    assert_eq!(s.dnd_end_time, Some(1_800_000_000));
    assert_eq!(s.manual, Some(true));
    let s = c
        .get_user_status()
        .user_id(BOB)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.status, Some(OpenEnum::Unknown("on-a-boat".into())));
}

#[tokio::test]
async fn update_user_status_sends_user_id_status_and_a_64_bit_end_time() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("/api/v4/users/{ADA}/status")))
        .and(bearer())
        .and(body_json(
            json!({"user_id": ADA, "status": "dnd", "dnd_end_time": 4_102_444_800_i64}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(status(
            ADA,
            "dnd",
            true,
            4_102_444_800,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let body = types::UpdateUserStatusBody::builder()
        .user_id(ADA.to_string())
        .status(UpdateUserStatusBodyStatus::Dnd)
        .dnd_end_time(Some(4_102_444_800));
    let s = client(&server)
        .update_user_status()
        .user_id(ADA)
        .body(body)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.dnd_end_time, Some(4_102_444_800));
}

#[tokio::test]
async fn a_403_is_an_app_error_body() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("/api/v4/users/{BOB}/status")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "id": "api.context.permissions.app_error",
            "message": "You do not have the appropriate permissions.",
            "detailed_error": "", "request_id": "r1", "status_code": 403
        })))
        .mount(&server)
        .await;
    let body = types::UpdateUserStatusBody::builder()
        .user_id(BOB.to_string())
        .status(UpdateUserStatusBodyStatus::Away);
    let e = client(&server)
        .update_user_status()
        .user_id(BOB)
        .body(body)
        .send()
        .await
        .unwrap_err();
    let Error::ErrorResponse(r) = e else {
        panic!("{e}")
    };
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(r.id.as_deref(), Some("api.context.permissions.app_error"));
}

#[tokio::test]
async fn get_users_statuses_by_ids_posts_the_ids() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/status/ids"))
        .and(bearer())
        .and(body_json(json!([ADA, BOB])))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            status(ADA, "online", false, 0),
            status(BOB, "away", true, 0)
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let list = client(&server)
        .get_users_statuses_by_ids()
        .body(vec![ADA.to_string(), BOB.to_string()])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].status, Some(OpenEnum::Known(StatusStatus::Away)));
}

#[tokio::test]
async fn get_users_and_get_user() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .and(query_param("page", "1"))
        .and(query_param("per_page", "200"))
        .and(bearer())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([user(ADA, "Ada", "Lovelace")])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v4/users/{BOB}")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "id": "app.user.missing_account.const", "message": "Unable to find the user.",
            "detailed_error": "", "request_id": "r2", "status_code": 404
        })))
        .mount(&server)
        .await;
    let c = client(&server);
    let users = c
        .get_users()
        .page(1)
        .per_page(200)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(users[0].id.as_deref(), Some(ADA));
    let e = c.get_user().user_id(BOB).send().await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404));
}

#[cfg(feature = "presence")]
mod adapter {
    use super::*;
    use agentstatus_mattermost::presence::MattermostPresence;
    use agentstatus_presence::{Availability, ErrorKind, ListFilter, Presence};

    async fn known(server: &MockServer, id: &str, first: &str) {
        Mock::given(method("GET"))
            .and(path(format!("/api/v4/users/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(user(id, first, "Lovelace")))
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn get_maps_dnd_to_busy_with_its_end_in_the_vendor_words() {
        let server = MockServer::start().await;
        known(&server, ADA, "Ada").await;
        Mock::given(method("GET"))
            .and(path(format!("/api/v4/users/{ADA}/status")))
            .respond_with(ResponseTemplate::new(200).set_body_json(status(
                ADA,
                "dnd",
                true,
                1_800_000_000,
            )))
            .mount(&server)
            .await;
        let p = MattermostPresence::new(client(&server));
        let a = p.get(ADA).await.unwrap();
        assert_eq!(a.availability, Availability::Busy);
        assert_eq!(a.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(a.detail.vendor_status, "dnd (manual) until 1800000000");
    }

    #[tokio::test]
    async fn set_sends_the_status_word_and_not_what_is_already_chosen() {
        let server = MockServer::start().await;
        known(&server, ADA, "Ada").await;
        Mock::given(method("GET"))
            .and(path(format!("/api/v4/users/{ADA}/status")))
            .respond_with(ResponseTemplate::new(200).set_body_json(status(ADA, "away", false, 0)))
            .mount(&server)
            .await;
        // an automatic `away` is made a chosen one: the PUT is sent
        Mock::given(method("PUT"))
            .and(path(format!("/api/v4/users/{ADA}/status")))
            .and(body_json(json!({"user_id": ADA, "status": "away"})))
            .respond_with(ResponseTemplate::new(200).set_body_json(status(ADA, "away", true, 0)))
            .expect(1)
            .mount(&server)
            .await;
        let p = MattermostPresence::new(client(&server));
        let a = p.set(ADA, Availability::Away).await.unwrap();
        assert_eq!(a.detail.vendor_status, "away (manual)");
    }

    #[tokio::test]
    async fn an_id_that_is_not_mattermosts_is_refused_before_sending() {
        let server = MockServer::start().await;
        let p = MattermostPresence::new(client(&server));
        let e = p.get("../../admin").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn list_reads_every_page_then_the_statuses_in_bulk() {
        let server = MockServer::start().await;
        let page: Vec<Value> = (0..200)
            .map(|i| user(&format!("u{i:025}"), "User", &i.to_string()))
            .collect();
        Mock::given(method("GET"))
            .and(path("/api/v4/users"))
            .and(query_param("page", "0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(Value::Array(page)))
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v4/users"))
            .and(query_param("page", "1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([user(
                "u9999999999999999999999999",
                "Zed",
                "Last"
            )])))
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/v4/users/status/ids"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([status(
                "u9999999999999999999999999",
                "online",
                false,
                0
            )])))
            .expect(4)
            .mount(&server)
            .await;
        // list twice (all, then only the available): two pages and two bulk reads each
        let p = MattermostPresence::new(client(&server));
        let all = p.list(&ListFilter::all()).await.unwrap();
        assert_eq!(all.len(), 201);
        let available = p.list(&ListFilter::available()).await;
        let available = available.unwrap();
        assert_eq!(available.len(), 1);
        assert_eq!(available[0].agent_id, "u9999999999999999999999999");
    }
}
