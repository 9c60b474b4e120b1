//! Wire tests: each kept operation against a local HTTP server that checks method, path, query,
//! headers and the exact body, answering with bodies shaped like the real server's
//! (specs/twilio-taskrouter/NOTES.md). The adapter's requests are asserted too: a form-encoded
//! `ActivitySid` with `If-Match`, pages fetched from the configured base URL only.

use agentstatus_presence::{Availability, ErrorKind, Failure, ListFilter, Presence};
use agentstatus_twilio_taskrouter::presence::{ActivityNames, TwilioTaskrouterPresence};
use agentstatus_twilio_taskrouter::{Client, ClientConfig};
use serde_json::{Value, json};
use wiremock::matchers::{body_string, header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "s3cr3t-twilio-auth-token";
const WS: &str = "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const WK: &str = "WKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const WA_AVAILABLE: &str = "WA00000000000000000000000000000001";
const WA_OFFLINE: &str = "WA00000000000000000000000000000002";
const WA_BREAK: &str = "WA00000000000000000000000000000003";

/// `Authorization: Basic base64(ACCOUNT:TOKEN)`.
fn basic() -> String {
    use base64::Engine as _;
    let pair = format!("{ACCOUNT}:{TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn client(server: &MockServer) -> Client {
    Client::with_account_sid_auth_token(
        &server.uri(),
        ACCOUNT,
        TOKEN.to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap()
}

fn adapter(server: &MockServer) -> TwilioTaskrouterPresence {
    TwilioTaskrouterPresence::new(client(server), WS.to_string())
}

fn worker(sid: &str, activity_sid: &str, activity: &str, available: bool) -> Value {
    json!({
        "account_sid": ACCOUNT, "activity_name": activity, "activity_sid": activity_sid,
        "attributes": "{}", "available": available, "date_created": "2017-05-30T23:32:39Z",
        "date_status_changed": "2017-05-30T23:32:39Z", "date_updated": "2017-05-30T23:32:39Z",
        "friendly_name": "Ada", "sid": sid, "workspace_sid": WS,
        "url": format!("https://taskrouter.twilio.com/v1/Workspaces/{WS}/Workers/{sid}"),
        "links": {}
    })
}

fn activity(sid: &str, name: &str, available: bool) -> Value {
    json!({
        "account_sid": ACCOUNT, "available": available, "date_created": "2017-05-30T23:32:39Z",
        "date_updated": "2017-05-30T23:32:39Z", "friendly_name": name, "sid": sid,
        "workspace_sid": WS, "url": "https://taskrouter.twilio.com/v1/x", "links": {}
    })
}

fn meta(key: &str, next: Option<&str>) -> Value {
    json!({
        "first_page_url": "https://taskrouter.twilio.com/v1/first", "key": key,
        "next_page_url": next, "page": 0, "page_size": 50, "previous_page_url": null,
        "url": "https://taskrouter.twilio.com/v1/this"
    })
}

fn twilio_error(status: u16, code: u32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code, "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status
    }))
}

async fn mount_activities(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Activities")))
        .and(header("authorization", basic().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "activities": [
                activity(WA_AVAILABLE, "Available", true),
                activity(WA_OFFLINE, "Offline", false),
                activity(WA_BREAK, "Break", false),
            ],
            "meta": meta("activities", None)
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn fetch_worker_sends_basic_auth_and_keeps_the_etag() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/{WK}")))
        .and(header("authorization", basic().as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"7\"")
                .set_body_json(worker(WK, WA_BREAK, "Break", false)),
        )
        .expect(2) // the client's call, then the adapter's
        .mount(&server)
        .await;
    let rv = client(&server)
        .fetch_worker()
        .workspace_sid(WS)
        .sid(WK)
        .send()
        .await
        .unwrap();
    assert_eq!(rv.headers().get("etag").unwrap(), "\"7\"");
    let w = rv.into_inner();
    assert_eq!(w.activity_name.as_deref(), Some("Break"));
    assert_eq!(w.available, Some(false));
    // the adapter: the activity's name is the vendor status, mapped through the name table
    let p = adapter(&server).get(WK).await.unwrap();
    assert_eq!(p.availability, Availability::Away);
    assert_eq!(p.detail.vendor_status, "Break");
}

#[tokio::test]
async fn an_id_that_is_not_a_sid_is_sent_as_one_segment_and_the_server_decides() {
    // as Twilio's SDKs do (NOTES.md#sids-in-paths): no pattern check before sending
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/bob%2F..%3Fx")))
        .respond_with(twilio_error(
            404,
            20404,
            "The requested resource /v1/Workspaces/WS/Workers/bob was not found",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = adapter(&server).get("bob/..?x").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.agent(), Some("bob/..?x"));
}

#[tokio::test]
async fn set_posts_the_activity_form_encoded_with_if_match() {
    let server = MockServer::start().await;
    mount_activities(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/{WK}")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"3\"")
                .set_body_json(worker(WK, WA_OFFLINE, "Offline", false)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/{WK}")))
        .and(header("authorization", basic().as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(header("if-match", "\"3\""))
        .and(body_string(format!("ActivitySid={WA_AVAILABLE}")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"4\"")
                .set_body_json(worker(WK, WA_AVAILABLE, "Available", true)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let p = adapter(&server)
        .set(WK, Availability::Available)
        .await
        .unwrap();
    assert_eq!(p.availability, Availability::Available);
    assert_eq!(p.detail.vendor_status, "Available");
}

/// A 412 (the read was behind, or the worker changed since) is decided again from a read the
/// read lag later, three reads and updates at most; every update refused, the answer is a
/// `Conflict` naming what the worker is now (never dropped).
#[tokio::test]
async fn a_stale_if_match_is_decided_again_then_a_conflict_naming_what_the_worker_is_now() {
    let server = MockServer::start().await;
    mount_activities(&server).await;
    // the read before the update, then the read after the 412
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/{WK}")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"3\"")
                .set_body_json(worker(WK, WA_OFFLINE, "Offline", false)),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/{WK}")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"4\"")
                .set_body_json(worker(WK, WA_BREAK, "Break", false)),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/{WK}")))
        .and(header_exists("if-match"))
        .respond_with(twilio_error(412, 20412, "Precondition Failed"))
        .expect(3)
        .mount(&server)
        .await;
    let e = adapter(&server)
        .with_read_lag(std::time::Duration::from_millis(10))
        .set(WK, Availability::Available)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    match e.failure() {
        Failure::Conflict {
            wanted,
            found,
            vendor_status,
        } => {
            assert_eq!(*wanted, Availability::Available);
            assert_eq!(*found, Availability::Away);
            assert_eq!(vendor_status, "Break");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.operation(), Some("update_worker"));
}

#[tokio::test]
async fn a_missing_activity_is_named_and_nothing_is_sent() {
    let server = MockServer::start().await;
    mount_activities(&server).await; // no `Unavailable`
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/{WK}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(worker(WK, WA_OFFLINE, "Offline", false)),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let e = adapter(&server)
        .set(WK, Availability::Busy)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("\"Unavailable\""), "{e}");
}

#[tokio::test]
async fn the_activity_name_table_is_configurable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Activities")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "activities": [
                activity(WA_AVAILABLE, "Ready", true),
                activity(WA_OFFLINE, "Gone home", false),
                activity(WA_BREAK, "Lunch", false),
            ],
            "meta": meta("activities", None)
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/{WK}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(worker(
            WK,
            WA_OFFLINE,
            "Gone home",
            false,
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string(format!("ActivitySid={WA_BREAK}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(worker(WK, WA_BREAK, "Lunch", false)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let names = ActivityNames {
        available: "Ready".into(),
        busy: "Meeting".into(),
        away: "lunch".into(),
        offline: "Gone home".into(),
    };
    let a = adapter(&server).with_activity_names(names);
    assert_eq!(a.get(WK).await.unwrap().availability, Availability::Offline);
    let after = a.set(WK, Availability::Away).await.unwrap();
    assert_eq!(
        after.availability,
        Availability::Away,
        "matched without case"
    );
    assert_eq!(after.detail.vendor_status, "Lunch");
}

#[tokio::test]
async fn list_pages_with_the_token_against_the_configured_base_url_only() {
    let server = MockServer::start().await;
    // page 1 names the next page on the real host; the adapter must send its token here
    let next = format!(
        "https://taskrouter.twilio.com/v1/Workspaces/{WS}/Workers?Available=true&PageSize=200&Page=1&PageToken=PAtoken1"
    );
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers")))
        .and(query_param("PageToken", "PAtoken1"))
        .and(query_param("Page", "1"))
        .and(query_param("PageSize", "200"))
        .and(query_param("Available", "true"))
        .and(header("authorization", basic().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "workers": [worker("WKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", WA_AVAILABLE, "Available", true)],
            "meta": meta("workers", None)
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers")))
        .and(query_param("PageSize", "200"))
        .and(query_param("Available", "true"))
        .and(|r: &Request| !r.url.query().unwrap_or_default().contains("PageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "workers": [worker(WK, WA_AVAILABLE, "Available", true)],
            "meta": meta("workers", Some(&next))
        })))
        .expect(1)
        .mount(&server)
        .await;
    let list = adapter(&server)
        .list(&ListFilter::available())
        .await
        .unwrap();
    let ids: Vec<&str> = list.iter().map(|p| p.agent_id.as_str()).collect();
    assert_eq!(ids, [WK, "WKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]);
}

#[tokio::test]
async fn twilio_error_bodies_are_read() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{WS}/Workers/{WK}")))
        .respond_with(twilio_error(
            404,
            20404,
            "The requested resource /v1/Workspaces/WS/Workers/WK was not found",
        ))
        .mount(&server)
        .await;
    let e = adapter(&server).get(WK).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.code(), Some("20404"));
    assert_eq!(e.operation(), Some("fetch_worker"));
    assert!(e.to_string().contains("was not found"), "{e}");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(twilio_error(401, 20003, "Authenticate"))
        .mount(&server)
        .await;
    let e = adapter(&server).get(WK).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert_eq!(e.code(), Some("20003"));
    assert!(!e.to_string().contains(TOKEN), "{e}");
    assert!(!format!("{e:?}").contains(TOKEN), "{e:?}");
    assert!(!format!("{:?}", client(&server)).contains(TOKEN));
}
