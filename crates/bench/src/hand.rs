//! The baselines: hand-written structs, a hand-written reqwest client and a raw hyper client
//! doing the same requests as the generated clients.

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct AgentStatus {
    pub agent_id: Option<String>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    pub custom_status: Option<CustomStatus>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct Channel {
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub busyness: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct CustomStatus {
    pub id: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct AgentEnvelope {
    pub status: Option<String>,
    pub data: Option<Agent>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct Agent {
    pub id: Option<i64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub availability_status: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct Toggle {
    pub status: Option<String>,
    pub success: Option<bool>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct User {
    user: Option<serde_json::Value>,
}

/// A hand-written reqwest client, as a developer would write it without the generated one.
pub struct Reqwest {
    client: reqwest::Client,
    base: String,
}

impl Reqwest {
    pub fn new(base: &str) -> Self {
        Self::with_auth(base, "token", "user")
    }

    /// With `Authorization: Bearer <token>`, `X-Auth-Token: <token>` and `X-User-Id: <user>`.
    pub fn with_auth(base: &str, token: &str, user: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        headers.insert("x-auth-token", token.parse().expect("header"));
        headers.insert("x-user-id", user.parse().expect("header"));
        agentstatus_runtime::ensure_tls_provider();
        Self {
            client: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .expect("client"),
            base: base.to_string(),
        }
    }

    pub async fn call(&self, which: usize) {
        match which {
            0 => {
                let r = self
                    .client
                    .put(format!("{}/api/v1/agents/me/availability", self.base))
                    .json(&serde_json::json!({"status": "online"}))
                    .send()
                    .await
                    .expect("send");
                std::hint::black_box(r.json::<AgentEnvelope>().await.expect("decode"));
            }
            1 => {
                let r = self
                    .client
                    .get(format!("{}/status", self.base))
                    .send()
                    .await
                    .expect("send");
                std::hint::black_box(r.json::<Vec<AgentStatus>>().await.expect("decode"));
            }
            _ => {
                let r = self
                    .client
                    .post(format!("{}/api/v1/livechat/agent.status", self.base))
                    .json(&serde_json::json!({"status": "available"}))
                    .send()
                    .await
                    .expect("send");
                std::hint::black_box(r.json::<Toggle>().await.expect("decode"));
            }
        }
    }

    /// Set `n` Rocket.Chat agents available (explicit status, then read back), as the presence
    /// adapter does; returns how many succeeded.
    pub async fn scale_rocketchat(&self, base: &str, n: usize, concurrency: usize) -> usize {
        futures::stream::iter(0..n)
            .map(|i| async move {
                let id = format!("a{i}");
                let r = self
                    .client
                    .post(format!("{base}/api/v1/livechat/agent.status"))
                    .json(&serde_json::json!({"agentId": id, "status": "available"}))
                    .send()
                    .await
                    .ok()?;
                let t: Toggle = r.json().await.ok()?;
                (t.status.as_deref() == Some("available")).then_some(())?;
                let r = self
                    .client
                    .get(format!("{base}/api/v1/livechat/users/agent/{id}"))
                    .send()
                    .await
                    .ok()?;
                r.json::<User>().await.ok()?.user.map(|_| ())
            })
            .buffer_unordered(concurrency.max(1))
            .filter(|r| std::future::ready(r.is_some()))
            .count()
            .await
    }

    /// Set `n` Engage Digital agents available (read the channels, send them all), as the
    /// presence adapter does; returns how many succeeded.
    pub async fn scale_engage(&self, base: &str, n: usize, concurrency: usize) -> usize {
        futures::stream::iter(0..n)
            .map(|i| async move {
                let id = format!("e{i}");
                let r = self
                    .client
                    .get(format!("{base}/status/{id}"))
                    .send()
                    .await
                    .ok()?;
                let current: AgentStatus = r.json().await.ok()?;
                let query: Vec<(String, &str)> = current
                    .channels
                    .iter()
                    .filter_map(|c| c.id.clone())
                    .map(|c| (format!("status[{c}]"), "available"))
                    .collect();
                let r = self
                    .client
                    .put(format!("{base}/status/{id}"))
                    .query(&query)
                    .send()
                    .await
                    .ok()?;
                r.json::<AgentStatus>().await.ok().map(|_| ())
            })
            .buffer_unordered(concurrency.max(1))
            .filter(|r| std::future::ready(r.is_some()))
            .count()
            .await
    }
}

/// A raw hyper client: the transport floor.
pub struct Hyper {
    client: HyperClient<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    base: String,
}

impl Hyper {
    pub fn new(base: &str) -> Self {
        Self {
            client: HyperClient::builder(TokioExecutor::new()).build_http(),
            base: base.to_string(),
        }
    }

    async fn send(&self, method: hyper::Method, path: &str, body: &'static [u8]) -> Bytes {
        let req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", "Bearer token")
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(Full::new(Bytes::from_static(body)))
            .expect("request");
        let resp = self.client.request(req).await.expect("send");
        resp.into_body().collect().await.expect("body").to_bytes()
    }

    pub async fn call(&self, which: usize) {
        match which {
            0 => {
                let b = self
                    .send(
                        hyper::Method::PUT,
                        "/api/v1/agents/me/availability",
                        br#"{"status":"online"}"#,
                    )
                    .await;
                std::hint::black_box(serde_json::from_slice::<AgentEnvelope>(&b).expect("decode"));
            }
            1 => {
                let b = self.send(hyper::Method::GET, "/status", b"").await;
                std::hint::black_box(
                    serde_json::from_slice::<Vec<AgentStatus>>(&b).expect("decode"),
                );
            }
            _ => {
                let b = self
                    .send(
                        hyper::Method::POST,
                        "/api/v1/livechat/agent.status",
                        br#"{"status":"available"}"#,
                    )
                    .await;
                std::hint::black_box(serde_json::from_slice::<Toggle>(&b).expect("decode"));
            }
        }
    }
}
