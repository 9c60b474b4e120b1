//! What the client and the adapter send, asserted on the raw requests a local server receives
//! (NOTES.md): the token request of the client credentials flow, the bearer token on every API
//! call, each kept operation's path and body, and how answers and errors are read.

use std::time::Duration;

use agentstatus_msgraph::presence::{MsgraphPresence, SCOPE};
use agentstatus_msgraph::{Client, ClientConfig};
use agentstatus_presence::{Availability, ErrorKind, Failure, ListFilter, Presence};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const APP: &str = "5f0e2c3a-0000-4000-8000-00000000c1d0";
const SECRET: &str = "s3cret-value";
const TOKEN: &str = "tok-abc";
const USER: &str = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3";
const TOKEN_PATH: &str = "/tenant-1/oauth2/v2.0/token";

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": TOKEN,
        })))
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> Client {
    let credentials = Client::azureaadv2_credentials(APP, SECRET.to_string().into())
        .with_token_url(format!("{}{TOKEN_PATH}", server.uri()));
    Client::with_azureaadv2_credentials(&server.uri(), credentials, &ClientConfig::default())
        .unwrap()
}

fn adapter(server: &MockServer) -> MsgraphPresence {
    MsgraphPresence::new(client(server), APP.to_string())
}

fn presence(availability: &str, activity: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#users('{USER}')/presence/$entity"),
        "id": USER,
        "availability": availability,
        "activity": activity,
        "statusMessage": null,
        "outOfOfficeSettings": {"message": null, "isOutOfOffice": false},
    }))
}

fn odata_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": "2026-01-01T00:00:00", "request-id": "r-1", "client-request-id": "c-1"}
        }
    }))
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn form(r: &Request) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = agentstatus_fakes::form_urlencoded::parse(&r.body)
        .into_owned()
        .collect();
    pairs.sort();
    pairs
}

fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn bearer(r: &Request) -> Option<String> {
    r.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[tokio::test]
async fn get_fetches_a_token_with_the_client_credentials_then_reads_the_presence() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{USER}/presence")))
        .respond_with(presence("BusyIdle", "InACall"))
        .mount(&server)
        .await;
    let p = adapter(&server).get(USER).await.unwrap();
    assert_eq!(p.agent_id, USER);
    assert_eq!(p.availability, Availability::Busy);
    assert_eq!(p.detail.vendor_status, "BusyIdle/InACall");

    let seen = requests(&server).await;
    assert_eq!(seen.len(), 2);
    // the token request: RFC 6749 §4.4, the secret in the form body (client_secret_post)
    assert_eq!(seen[0].url.path(), TOKEN_PATH);
    assert_eq!(
        seen[0].headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        form(&seen[0]),
        [
            ("client_id", APP),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", SCOPE),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert!(bearer(&seen[0]).is_none(), "no token to the token endpoint");
    // the API call carries the token, and nothing of the secret
    assert_eq!(bearer(&seen[1]).as_deref(), Some("Bearer tok-abc"));
    assert_eq!(seen[1].url.query(), None);
    assert!(!format!("{:?}", seen[1].headers).contains(SECRET));
}

#[tokio::test]
async fn the_token_is_fetched_once_for_many_calls() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{USER}/presence")))
        .respond_with(presence("Available", "Available"))
        .mount(&server)
        .await;
    let a = adapter(&server);
    let (x, y, z) = tokio::join!(a.get(USER), a.get(USER), a.get(USER));
    assert!(x.is_ok() && y.is_ok() && z.is_ok());
    a.get(USER).await.unwrap();
    let tokens = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == TOKEN_PATH)
        .count();
    assert_eq!(tokens, 1);
}

#[tokio::test]
async fn set_sends_the_apps_session_with_an_hour_and_reads_back() {
    let server = server().await;
    let action = format!("/communications/presences/{USER}/microsoft.graph.setPresence");
    Mock::given(method("POST"))
        .and(path(action.as_str()))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{USER}/presence")))
        .respond_with(presence("Busy", "InACall"))
        .mount(&server)
        .await;
    let p = adapter(&server)
        .set(USER, Availability::Busy)
        .await
        .unwrap();
    assert_eq!(p.availability, Availability::Busy);
    let seen = requests(&server).await;
    let set = seen.iter().find(|r| r.url.path() == action).unwrap();
    assert_eq!(set.method.as_str(), "POST");
    assert_eq!(
        body(set),
        json!({"sessionId": APP, "availability": "Busy", "activity": "InACall", "expirationDuration": "PT1H"})
    );
    assert_eq!(bearer(set).as_deref(), Some("Bearer tok-abc"));
    assert_eq!(set.headers.get("content-type").unwrap(), "application/json");
}

#[tokio::test]
async fn set_for_sends_its_expiry_and_refuses_one_graph_does_not_take() {
    let server = server().await;
    let action = format!("/communications/presences/{USER}/microsoft.graph.setPresence");
    Mock::given(method("POST"))
        .and(path(action.as_str()))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{USER}/presence")))
        .respond_with(presence("Away", "Away"))
        .mount(&server)
        .await;
    let a = adapter(&server);
    a.set_for(USER, Availability::Away, Duration::from_secs(4 * 3600))
        .await
        .unwrap();
    a.set_for(USER, Availability::Away, Duration::from_secs(5 * 60 + 30))
        .await
        .unwrap();
    let sent: Vec<Value> = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == action)
        .map(|r| body(r)["expirationDuration"].clone())
        .collect();
    assert_eq!(sent, [json!("PT4H"), json!("PT5M30S")]);

    let before = requests(&server).await.len();
    for (a_, d) in [
        (Availability::Away, Duration::from_secs(299)),
        (Availability::Away, Duration::from_secs(4 * 3600 + 1)),
        (Availability::Available, Duration::from_millis(400_500)),
        (Availability::Offline, Duration::from_secs(600)),
    ] {
        let e = a.set_for(USER, a_, d).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{a_} {d:?}: {e}");
    }
    assert_eq!(requests(&server).await.len(), before, "nothing sent");
}

#[tokio::test]
async fn offline_clears_the_apps_session() {
    let server = server().await;
    let action = format!("/communications/presences/{USER}/microsoft.graph.clearPresence");
    Mock::given(method("POST"))
        .and(path(action.as_str()))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{USER}/presence")))
        .respond_with(presence("Offline", "Offline"))
        .mount(&server)
        .await;
    let p = adapter(&server)
        .set(USER, Availability::Offline)
        .await
        .unwrap();
    assert_eq!(p.availability, Availability::Offline);
    let seen = requests(&server).await;
    let clear = seen.iter().find(|r| r.url.path() == action).unwrap();
    assert_eq!(body(clear), json!({"sessionId": APP}));
}

#[tokio::test]
async fn a_state_that_another_session_beats_is_a_conflict() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/communications/presences/{USER}/microsoft.graph.setPresence"
        )))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    // a Teams client in Do not disturb wins over the app's Available
    Mock::given(method("GET"))
        .and(path(format!("/users/{USER}/presence")))
        .respond_with(presence("DoNotDisturb", "Presenting"))
        .mount(&server)
        .await;
    let e = adapter(&server)
        .set(USER, Availability::Available)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(
        matches!(e.failure(), Failure::Conflict { vendor_status, found: Availability::Busy, .. } if vendor_status == "DoNotDisturb/Presenting"),
        "{e}"
    );
}

#[tokio::test]
async fn list_reads_the_configured_users_650_at_a_time() {
    let server = server().await;
    let bulk = "/communications/microsoft.graph.getPresencesByUserId";
    Mock::given(method("POST"))
        .and(path(bulk))
        .respond_with(|r: &Request| {
            let ids: Value = serde_json::from_slice(&r.body).unwrap();
            let value: Vec<Value> = ids["ids"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    let a = if i % 2 == 0 { "Available" } else { "Away" };
                    json!({"id": id, "availability": a, "activity": a})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"value": value}))
        })
        .mount(&server)
        .await;
    let users: Vec<String> = (0..651).map(|i| format!("user-{i:04}")).collect();
    let a = adapter(&server).with_users(users.clone());
    let all = a.list(&ListFilter::all()).await.unwrap();
    assert_eq!(all.len(), 651);
    assert_eq!(all[650].agent_id, "user-0650");
    let available = a.list(&ListFilter::available()).await.unwrap();
    assert!(
        available
            .iter()
            .all(|p| p.availability == Availability::Available)
    );
    assert_eq!(available.len(), 326);

    let sent: Vec<usize> = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == bulk)
        .map(|r| body(r)["ids"].as_array().unwrap().len())
        .collect();
    assert_eq!(sent, [650, 1, 650, 1]);
    // no users configured: said so, nothing sent
    let e = adapter(&server).list(&ListFilter::all()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

#[tokio::test]
async fn a_next_link_is_not_followed_but_refused() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/communications/microsoft.graph.getPresencesByUserId"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"id": USER, "availability": "Available", "activity": "Available"}],
            "@odata.nextLink": "https://elsewhere.example/next",
        })))
        .mount(&server)
        .await;
    let e = adapter(&server)
        .with_users(vec![USER.into()])
        .list(&ListFilter::all())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
}

#[tokio::test]
async fn graphs_error_body_is_read() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{USER}/presence")))
        .respond_with(odata_error(404, "ResourceNotFound", "User not found"))
        .mount(&server)
        .await;
    let e = adapter(&server).get(USER).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.code(), Some("ResourceNotFound"));
    assert_eq!(e.operation(), Some("user_get_presence"), "{e}");
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries_once() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{USER}/presence")))
        .respond_with(odata_error(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        ))
        .mount(&server)
        .await;
    let e = adapter(&server).get(USER).await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Auth, Some(401)), "{e}");
    assert_eq!(e.code(), Some("InvalidAuthenticationToken"));
    let seen = requests(&server).await;
    let paths: Vec<&str> = seen.iter().map(|r| r.url.path()).collect();
    let api = format!("/users/{USER}/presence");
    assert_eq!(paths, [TOKEN_PATH, api.as_str(), TOKEN_PATH, api.as_str()]);
}

#[tokio::test]
async fn a_refused_client_secret_is_an_auth_failure_without_the_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
            "error_codes": [7000215],
        })))
        .mount(&server)
        .await;
    let e = adapter(&server).get(USER).await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Auth, Some(401)), "{e}");
    assert_eq!(e.code(), Some("invalid_client"));
    assert_eq!(e.operation(), Some("user_get_presence"), "{e}");
    assert!(e.to_string().contains("AADSTS7000215"), "{e}");
    assert!(!e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET));
    // no API call went out without a token
    assert!(
        requests(&server)
            .await
            .iter()
            .all(|r| r.url.path() == TOKEN_PATH)
    );
}

/// The identity platform failing (503, then again): the token request is retried with the
/// client's policy, and the call then fails as the token endpoint did, a transient failure, not
/// an invalid answer; no API call goes out without a token.
#[tokio::test]
async fn a_failing_token_endpoint_is_retried_then_a_transient_failure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "error": "temporarily_unavailable",
            "error_description": "AADSTS50196: the server is busy",
        })))
        .mount(&server)
        .await;
    let credentials = Client::azureaadv2_credentials(APP, SECRET.to_string().into())
        .with_token_url(format!("{}{TOKEN_PATH}", server.uri()));
    let quick = agentstatus_msgraph::RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..Default::default()
    };
    let config = ClientConfig::default().with_retry(quick);
    let client = Client::with_azureaadv2_credentials(&server.uri(), credentials, &config).unwrap();
    let e = MsgraphPresence::new(client, APP.to_string())
        .get(USER)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.status()),
        (ErrorKind::Network, Some(503)),
        "{e}"
    );
    assert_eq!(e.code(), Some("temporarily_unavailable"));
    assert_eq!(e.operation(), Some("user_get_presence"), "{e}");
    assert!(e.to_string().contains("AADSTS50196"), "{e}");
    assert!(!e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET));
    let seen = requests(&server).await;
    assert_eq!(seen.len(), 4, "max_attempts token requests, nothing else");
    assert!(seen.iter().all(|r| r.url.path() == TOKEN_PATH));
}

/// `clientState` is the subscriber's secret (NOTES.md#client-state-is-a-secret): the overlay
/// makes it `format: password`, so the generated subscription holds it in a `SecretText`. It
/// goes to Graph as the plain string, comes back decoded, and no `Debug` of the request's
/// builder, the body or the answer shows it.
#[tokio::test]
async fn the_client_state_is_sent_and_read_but_never_shown_by_debug() {
    use agentstatus_msgraph::types::MicrosoftGraphSubscription;
    use agentstatus_runtime::SecretText;

    const CLIENT_STATE: &str = "cs-7f3a9d2e-secret";
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/subscriptions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "5ab5c0de-0000-4000-8000-000000000001",
            "changeType": "updated",
            "resource": format!("communications/presences/{USER}"),
            "notificationUrl": "https://receiver.example/notify",
            "expirationDateTime": "2026-12-07T03:00:00Z",
            "clientState": CLIENT_STATE,
        })))
        .mount(&server)
        .await;
    let builder = MicrosoftGraphSubscription::builder()
        .change_type(Some("updated".to_string()))
        .notification_url(Some("https://receiver.example/notify".to_string()))
        .resource(Some(format!("communications/presences/{USER}")))
        .client_state(Some(SecretText::from(CLIENT_STATE)));
    let sent: MicrosoftGraphSubscription = builder.clone().try_into().unwrap();
    for shown in [
        format!("{builder:?}"),
        format!("{sent:?}"),
        format!("{sent:#?}"),
    ] {
        assert!(!shown.contains(CLIENT_STATE), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }

    let created = client(&server)
        .subscriptions_subscription_create_subscription()
        .body(builder)
        .send()
        .await
        .unwrap()
        .into_inner();
    // read back as the plain value, and equal to what was sent
    assert_eq!(
        created.client_state.as_ref().map(SecretText::expose),
        Some(CLIENT_STATE)
    );
    assert_eq!(created.client_state, sent.client_state);
    let shown = format!("{created:?}");
    assert!(!shown.contains(CLIENT_STATE), "{shown}");
    assert!(
        shown.contains("5ab5c0de-0000-4000-8000-000000000001"),
        "{shown}"
    );

    // on the wire: the plain string, where Graph reads it
    let seen = requests(&server).await;
    let create = seen
        .iter()
        .find(|r| r.url.path() == "/subscriptions")
        .unwrap();
    assert_eq!(body(create)["clientState"], CLIENT_STATE);
}
