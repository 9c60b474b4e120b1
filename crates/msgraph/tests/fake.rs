#![cfg(feature = "fake")]
//! The fake behaves like Graph as NOTES.md describes it, checked over raw HTTP (no generated
//! client): the token endpoint, tokens checked on every call, sessions aggregated and expiring,
//! the preferred presence winning, the 650-id limit, Graph's error bodies.

use std::time::Duration;

use agentstatus_msgraph::fake::{self, CLIENT_ID, Msgraph, SCOPE, TENANT};
use serde_json::{Value, json};

const SECRET: &str = "fake-secret";

struct Raw {
    http: reqwest::Client,
    fake: Msgraph,
}

impl Raw {
    async fn start() -> Self {
        // reqwest is built with rustls and no default crypto provider: the runtime installs one
        agentstatus_runtime::ensure_tls_provider();
        let fake = Msgraph::start(SECRET).await.unwrap();
        for (n, name) in [(1, "Ada"), (2, "Grace")] {
            fake.add_user(&fake::user_id(n), name);
        }
        Raw {
            http: reqwest::Client::new(),
            fake,
        }
    }

    async fn token_answer(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .http
            .post(self.fake.token_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
        )
    }

    async fn token(&self) -> String {
        let (status, v) = self
            .token_answer(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("scope", SCOPE),
            ])
            .await;
        assert_eq!(status, 200, "{v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.fake.url());
        let mut r = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        };
        if !token.is_empty() {
            r = r.bearer_auth(token);
        }
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let bytes = r.bytes().await.unwrap();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, v)
    }

    async fn read(&self, token: &str, n: usize) -> (String, String) {
        let (status, v) = self
            .call(
                token,
                "GET",
                &format!("/v1.0/users/{}/presence", fake::user_id(n)),
                None,
            )
            .await;
        assert_eq!(status, 200, "{v}");
        (
            v["availability"].as_str().unwrap().to_string(),
            v["activity"].as_str().unwrap().to_string(),
        )
    }

    async fn set(
        &self,
        token: &str,
        n: usize,
        a: &str,
        act: &str,
        exp: Option<&str>,
    ) -> (u16, Value) {
        let mut body = json!({"sessionId": CLIENT_ID, "availability": a, "activity": act});
        if let Some(e) = exp {
            body["expirationDuration"] = json!(e);
        }
        self.call(
            token,
            "POST",
            &format!(
                "/communications/presences/{}/microsoft.graph.setPresence",
                fake::user_id(n)
            ),
            Some(body),
        )
        .await
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_token_endpoint_issues_expiring_tokens_and_refuses_bad_clients() {
    let raw = Raw::start().await;
    let (status, v) = raw
        .token_answer(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("scope", SCOPE),
        ])
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    let token = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(raw.read(&token, 1).await.0, "Offline");

    // wrong secret: 401 invalid_client, RFC 6749 §5.2 with the identity platform's extras
    let (status, v) = raw
        .token_answer(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
            ("scope", SCOPE),
        ])
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (401, Some("invalid_client")),
        "{v}"
    );
    assert_eq!(v["error_codes"][0], 7000215);
    // another scope, another grant, another client
    let (status, v) = raw
        .token_answer(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("scope", "Presence.ReadWrite.All"),
        ])
        .await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_scope")));
    let (status, v) = raw
        .token_answer(&[("grant_type", "password"), ("client_id", CLIENT_ID)])
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, v) = raw
        .token_answer(&[
            ("grant_type", "client_credentials"),
            ("client_id", "someone-else"),
            ("client_secret", SECRET),
            ("scope", SCOPE),
        ])
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // another tenant
    let url = raw.fake.token_url().replace(TENANT, "common");
    let r = raw
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(raw.fake.token_requests(), 6);

    // the token expires on the fake's clock: 401 InvalidAuthenticationToken, Graph's body
    raw.fake.advance(Duration::from_secs(3600));
    let (status, v) = raw
        .call(
            &token,
            "GET",
            &format!("/users/{}/presence", fake::user_id(1)),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
    assert!(v["error"]["innerError"]["request-id"].is_string(), "{v}");
    // none at all, and an unknown one
    let (status, v) = raw
        .call(
            "",
            "GET",
            &format!("/users/{}/presence", fake::user_id(1)),
            None,
        )
        .await;
    assert_eq!(
        (status, v["error"]["message"].as_str()),
        (401, Some("Access token is empty."))
    );
    let (status, _) = raw
        .call(
            "made-up",
            "GET",
            &format!("/users/{}/presence", fake::user_id(1)),
            None,
        )
        .await;
    assert_eq!(status, 401);
    // a new token works
    let token = raw.token().await;
    assert_eq!(raw.read(&token, 1).await.0, "Offline");
}

#[tokio::test]
async fn tokens_can_be_made_to_expire_after_some_calls() {
    let raw = Raw::start().await;
    raw.fake.expire_tokens_after_calls(2);
    let token = raw.token().await;
    raw.read(&token, 1).await;
    raw.read(&token, 1).await;
    let (status, v) = raw
        .call(
            &token,
            "GET",
            &format!("/users/{}/presence", fake::user_id(1)),
            None,
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
    raw.fake.expire_tokens_after_calls(u32::MAX);
    let token = raw.token().await;
    raw.read(&token, 1).await;
    raw.fake.expire_tokens();
    let (status, _) = raw
        .call(
            &token,
            "GET",
            &format!("/users/{}/presence", fake::user_id(1)),
            None,
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn sessions_aggregate_expire_and_lose_to_the_preferred_presence() {
    let raw = Raw::start().await;
    let token = raw.token().await;
    let changes = raw.fake.state_changes();

    // the application's session, 5 minutes by default
    let (status, v) = raw.set(&token, 1, "Available", "Available", None).await;
    assert_eq!((status, v), (200, Value::Null));
    assert_eq!(
        raw.read(&token, 1).await,
        ("Available".into(), "Available".into())
    );
    assert_eq!(raw.fake.state_changes(), changes + 1);
    // a renewal of the same state is no change anyone sees
    raw.set(&token, 1, "Available", "Available", Some("PT1H"))
        .await;
    assert_eq!(raw.fake.state_changes(), changes + 1);
    // another application's (or a Teams client's) Busy wins over Available ...
    raw.fake.put_session(
        &fake::user_id(1),
        "teams-desktop",
        "Busy",
        "Busy",
        Duration::from_secs(600),
    );
    assert_eq!(raw.read(&token, 1).await.0, "Busy");
    // ... and DoNotDisturb over Busy
    raw.set(&token, 1, "DoNotDisturb", "Presenting", Some("PT10M"))
        .await;
    assert_eq!(
        raw.read(&token, 1).await,
        ("DoNotDisturb".into(), "Presenting".into())
    );

    // the user's preferred presence beats every session
    let path = format!(
        "/communications/presences/{}/microsoft.graph.setUserPreferredPresence",
        fake::user_id(1)
    );
    let (status, _) = raw
        .call(
            &token,
            "POST",
            &path,
            Some(json!({"availability": "BeRightBack", "activity": "BeRightBack"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(raw.read(&token, 1).await.0, "BeRightBack");
    let path = format!(
        "/communications/presences/{}/microsoft.graph.clearUserPreferredPresence",
        fake::user_id(1)
    );
    let (status, _) = raw.call(&token, "POST", &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(raw.read(&token, 1).await.0, "DoNotDisturb");

    // sessions expire: after 11 minutes only... nothing is left
    raw.fake.advance(Duration::from_secs(11 * 60));
    let token = raw.token().await;
    assert_eq!(
        raw.read(&token, 1).await,
        ("Offline".into(), "Offline".into())
    );

    // a preferred presence without any session reads Offline (the document's description)
    let path = format!(
        "/communications/presences/{}/microsoft.graph.setUserPreferredPresence",
        fake::user_id(2)
    );
    raw.call(
        &token,
        "POST",
        &path,
        Some(json!({"availability": "Busy", "activity": "Busy"})),
    )
    .await;
    assert_eq!(raw.read(&token, 2).await.0, "Offline");
    raw.set(&token, 2, "Away", "Away", Some("PT5M")).await;
    assert_eq!(
        raw.read(&token, 2).await.0,
        "Busy",
        "the preference shows once a session exists"
    );

    // clearPresence ends the application's session
    let path = format!(
        "/communications/presences/{}/microsoft.graph.clearPresence",
        fake::user_id(2)
    );
    let (status, _) = raw
        .call(&token, "POST", &path, Some(json!({"sessionId": CLIENT_ID})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(raw.read(&token, 2).await.0, "Offline");
}

#[tokio::test]
async fn set_presence_refuses_what_graph_does_not_take() {
    let raw = Raw::start().await;
    let token = raw.token().await;
    let changes = raw.fake.state_changes();
    for exp in ["PT4M", "PT4H1M", "P1D", "soon"] {
        let (status, v) = raw
            .set(&token, 1, "Available", "Available", Some(exp))
            .await;
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("BadRequest")),
            "{exp}"
        );
    }
    let (status, _) = raw.set(&token, 1, "Offline", "OffWork", None).await;
    assert_eq!(status, 400, "Offline is not a session state");
    let (status, _) = raw
        .call(
            &token,
            "POST",
            &format!("/communications/presences/{}/microsoft.graph.setPresence", fake::user_id(1)),
            Some(json!({"sessionId": "another-app", "availability": "Available", "activity": "Available"})),
        )
        .await;
    assert_eq!(status, 400, "the session is the calling application's");
    for ok in ["PT5M", "PT4H", "PT90M"] {
        assert_eq!(
            raw.set(&token, 1, "Available", "Available", Some(ok))
                .await
                .0,
            200,
            "{ok}"
        );
    }
    assert_eq!(raw.fake.state_changes(), changes + 1);
    // an unknown user
    let (status, v) = raw
        .call(
            &token,
            "GET",
            "/users/00000000-0000-4000-8000-999999999999/presence",
            None,
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (404, Some("NotFound"))
    );
}

#[tokio::test]
async fn the_bulk_read_takes_650_ids_at_most() {
    let raw = Raw::start().await;
    let token = raw.token().await;
    raw.set(&token, 2, "Busy", "InACall", None).await;
    let ids: Vec<String> = (1..=650).map(fake::user_id).collect();
    let (status, v) = raw
        .call(
            &token,
            "POST",
            "/communications/microsoft.graph.getPresencesByUserId",
            Some(json!({"ids": ids})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let value = v["value"].as_array().unwrap();
    assert_eq!(value.len(), 2, "only the tenant's users");
    assert_eq!(value[1]["id"], fake::user_id(2));
    assert_eq!(value[1]["activity"], "InACall");
    let ids: Vec<String> = (1..=651).map(fake::user_id).collect();
    let (status, v) = raw
        .call(
            &token,
            "POST",
            "/v1.0/communications/microsoft.graph.getPresencesByUserId",
            Some(json!({"ids": ids})),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("BadRequest"))
    );
}

#[test]
fn durations_parse_as_iso_8601() {
    assert_eq!(fake::parse_duration("PT5M"), Some(Duration::from_secs(300)));
    assert_eq!(
        fake::parse_duration("PT1H30M"),
        Some(Duration::from_secs(5400))
    );
    assert_eq!(
        fake::parse_duration("PT300S"),
        Some(Duration::from_secs(300))
    );
    assert_eq!(
        fake::parse_duration("P1D"),
        Some(Duration::from_secs(86_400))
    );
    for bad in ["", "P", "PT", "5M", "PTM", "PT5X", "PT5M1H"] {
        assert_eq!(fake::parse_duration(bad), None, "{bad}");
    }
}
