//! Wire tests: each kept operation against a local HTTP server that checks method, path, query,
//! headers and body, answering with bodies shaped like the real server's (specs/libredesk/NOTES.md).

use agentstatus_libredesk::{Client, Credentials, Error, types};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "agent-key";
const SECRET: &str = "s3cr3t-libredesk-value";
/// base64("agent-key:s3cr3t-libredesk-value")
const BASIC: &str = "Basic YWdlbnQta2V5OnMzY3IzdC1saWJyZWRlc2stdmFsdWU=";

fn client(server: &MockServer) -> Client {
    Client::with_credentials(&server.uri(), Credentials::basic(KEY, SECRET.into())).unwrap()
}

/// An agent as `models.User` serialises it (GET /agents/me, PUT availability): the get-user
/// query selects neither `meta` nor `custom_attributes`, so both are null.
fn agent(status: &str) -> Value {
    json!({
        "id": 7, "created_at": "2025-08-28T10:00:00Z", "updated_at": "2025-08-28T10:00:00Z",
        "first_name": "John", "last_name": "Doe", "email": "john@example.com", "type": "agent",
        "availability_status": status, "phone_number_country_code": null, "phone_number": null,
        "avatar_url": null, "enabled": true, "last_active_at": "2025-08-28T10:00:00Z",
        "last_login_at": null, "roles": ["Agent"], "permissions": ["conversations:read"],
        "country": null, "meta": null, "custom_attributes": null, "external_user_id": null,
        "teams": [{"id": 1, "name": "Support", "emoji": "\u{1F6E0}\u{FE0F}"}],
        "api_key": "agent-key", "api_key_last_used_at": null
    })
}

fn success(data: Value) -> Value {
    json!({"status": "success", "message": null, "data": data})
}

fn error(message: &str, error_type: &str) -> Value {
    json!({"status": "error", "message": message, "data": null, "error_type": error_type})
}

#[tokio::test]
async fn update_availability_puts_the_corrected_enum_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/agents/me/availability"))
        .and(header("authorization", BASIC))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"status": "away_manual", "source": "user"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(agent("away_manual"))))
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server)
        .update_availability()
        .body(
            types::AvailabilityRequest::builder()
                .status(types::AvailabilityRequestStatus::AwayManual)
                .source(Some(types::AvailabilityRequestSource::User)),
        )
        .send()
        .await
        .unwrap();
    let data = answer.into_inner().data.unwrap();
    assert_eq!(data.availability_status.as_deref(), Some("away_manual"));
    assert_eq!(data.teams[0].emoji.as_deref(), Some("\u{1F6E0}\u{FE0F}"));
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests[0].headers.get("api-version").is_none(),
        "progenitor's api-version header is removed"
    );
}

#[test]
fn request_enum_has_the_database_values_only() {
    let all: Vec<String> = [
        types::AvailabilityRequestStatus::Online,
        types::AvailabilityRequestStatus::Away,
        types::AvailabilityRequestStatus::AwayManual,
        types::AvailabilityRequestStatus::AwayAndReassigning,
        types::AvailabilityRequestStatus::Offline,
    ]
    .iter()
    .map(|s| {
        serde_json::to_value(s)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect();
    assert_eq!(
        all,
        [
            "online",
            "away",
            "away_manual",
            "away_and_reassigning",
            "offline"
        ]
    );
    // the documented-but-wrong values are not representable
    assert!(
        "available"
            .parse::<types::AvailabilityRequestStatus>()
            .is_err()
    );
    assert!("busy".parse::<types::AvailabilityRequestStatus>().is_err());
}

#[tokio::test]
async fn token_scheme_sends_key_colon_secret() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/agents/me"))
        .and(header(
            "authorization",
            format!("token {KEY}:{SECRET}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(agent("online"))))
        .expect(1)
        .mount(&server)
        .await;
    let client =
        Client::with_credentials(&server.uri(), Credentials::token(KEY, SECRET.into())).unwrap();
    let me = client
        .get_current_agent()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.data.unwrap().id, Some(7));
}

#[tokio::test]
async fn an_agent_without_roles_decodes_its_null_arrays() {
    // array_agg(...) FILTER (...) is NULL for an agent without roles (overlay: nullable)
    let mut body = agent("away_manual");
    body["roles"] = Value::Null;
    body["permissions"] = Value::Null;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/agents/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(body)))
        .mount(&server)
        .await;
    let me = client(&server)
        .get_current_agent()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .unwrap();
    assert_eq!(me.roles, None);
    assert_eq!(me.permissions, None);
    assert_eq!(me.custom_attributes, None);
    assert_eq!(me.teams.len(), 1);
    assert_eq!(me.availability_status.as_deref(), Some("away_manual"));
}

#[tokio::test]
async fn list_agents_decodes_flat_compact_agents() {
    let server = MockServer::start().await;
    let agents = json!([
        {"id": 7, "type": "agent", "first_name": "John", "last_name": "Doe", "email": "john@example.com",
         "enabled": true, "avatar_url": null, "external_user_id": null, "availability_status": "online",
         "created_at": "2025-08-30T15:44:51.110888Z", "updated_at": "2025-09-14T18:23:36.149041Z"},
        {"id": 8, "type": "agent", "first_name": "Ann", "last_name": "", "email": null,
         "enabled": true, "avatar_url": "/a.png", "availability_status": "away_and_reassigning",
         "created_at": "2025-08-30T15:44:51Z", "updated_at": "2025-08-30T15:44:51Z"}
    ]);
    Mock::given(method("GET"))
        .and(path("/api/v1/agents"))
        .and(header("authorization", BASIC))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(agents)))
        .expect(1)
        .mount(&server)
        .await;
    let list = client(&server)
        .list_agents()
        .send()
        .await
        .unwrap()
        .into_inner();
    let statuses: Vec<_> = list
        .data
        .iter()
        .map(|a| a.availability_status.as_deref())
        .collect();
    assert_eq!(statuses, [Some("online"), Some("away_and_reassigning")]);
}

#[tokio::test]
async fn error_envelopes_decode_for_400_401_403_500() {
    for (status, op, body) in [
        (400, "PUT", error("Invalid JSON", "InputException")),
        (
            401,
            "GET",
            error("Invalid API key or secret", "GeneralException"),
        ),
        (
            403,
            "GET",
            error("Permission denied", "PermissionException"),
        ),
        (500, "PUT", error("Error updating user", "GeneralException")),
    ] {
        let server = MockServer::start().await;
        let route = if op == "PUT" {
            "/api/v1/agents/me/availability"
        } else {
            "/api/v1/agents"
        };
        Mock::given(method(op))
            .and(path(route))
            .respond_with(ResponseTemplate::new(status).set_body_json(&body))
            .mount(&server)
            .await;
        let c = client(&server);
        let err = if op == "PUT" {
            c.update_availability()
                .body(
                    types::AvailabilityRequest::builder()
                        .status(types::AvailabilityRequestStatus::Online),
                )
                .send()
                .await
                .unwrap_err()
        } else {
            c.list_agents().send().await.unwrap_err()
        };
        match err {
            Error::ErrorResponse(e) => {
                assert_eq!(e.status().as_u16(), status);
                assert_eq!(e.error_type.as_deref(), body["error_type"].as_str());
                assert_eq!(e.message, body["message"].as_str().unwrap());
            }
            other => panic!("{status}: expected a typed error, got {other:?}"),
        }
    }
}

#[test]
fn secrets_never_show_in_debug() {
    let creds = Credentials::basic(KEY, SECRET.into());
    let client = Client::with_credentials("https://desk.example.com", creds.clone()).unwrap();
    let debug = format!("{client:?}");
    // the header is there, masked
    assert!(debug.contains("\"authorization\": Sensitive"), "{debug}");
    for text in [debug, format!("{creds:?}")] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains(&BASIC[6..]), "{text}");
    }
}

#[tokio::test]
async fn transport_errors_do_not_carry_the_secret() {
    // a port nothing listens on
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::with_credentials(&url, Credentials::token(KEY, SECRET.into())).unwrap();
    let err = client.get_current_agent().send().await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(SECRET), "{text}");
}

#[tokio::test]
async fn the_generated_constructors_send_the_exact_authorization_header() {
    use agentstatus_libredesk::ClientConfig;
    let config = ClientConfig::default();
    let token = format!("token {KEY}:{SECRET}");
    let basic = |base: &str| Client::with_basic_auth(base, KEY, SECRET.into(), &config);
    // the spec declares `tokenAuth` as an API key in `Authorization`: the value is sent as given
    let raw = |base: &str| Client::with_token_auth(base, token.clone().into(), &config);
    type Build<'a> = &'a dyn Fn(&str) -> Result<Client, agentstatus_libredesk::BuildError>;
    let cases: [(Build, &str); 2] = [(&basic, BASIC), (&raw, &token)];
    for (build, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/agents/me"))
            .and(header("authorization", expected))
            .respond_with(ResponseTemplate::new(200).set_body_json(success(agent("online"))))
            .expect(1)
            .mount(&server)
            .await;
        let client = build(&server.uri()).unwrap();
        let debug = format!("{client:?}");
        assert!(debug.contains("\"authorization\": Sensitive"), "{debug}");
        assert!(!debug.contains(SECRET), "{debug}");
        client.get_current_agent().send().await.unwrap();
    }
    // Basic refuses what it cannot encode (a `:` in the key), never sending raw bytes
    let e = Client::with_basic_auth("https://desk.example.com", "k:ey", SECRET.into(), &config)
        .unwrap_err();
    assert!(!e.to_string().contains(SECRET), "{e}");
}
