//! A minimal HTTP server answering fixed bodies, on its own thread and runtime, so that it is
//! not the bottleneck of the client-overhead benchmark.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;

/// 1,000 Engage Digital agent statuses, three channels each.
pub fn engage_status_body() -> Vec<u8> {
    let busyness = ["unoccupied", "ok", "busy", "full"];
    let agents: Vec<serde_json::Value> = (0..1000)
        .map(|i| {
            serde_json::json!({
                "agent_id": format!("5f1e{i:020}"),
                "channels": (0..3).map(|c| serde_json::json!({
                    "id": format!("chan{c:020}"), "name": format!("Channel {c}"),
                    "status": if (i + c) % 3 == 0 { "away" } else { "available" },
                    "busyness": busyness[(i + c) % 4],
                })).collect::<Vec<_>>(),
                "custom_status": if i % 5 == 0 { serde_json::json!({"id": "5582b1f4776562af9b000008"}) } else { serde_json::Value::Null },
            })
        })
        .collect();
    serde_json::to_vec(&agents).expect("serialises")
}

pub fn libredesk_body() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"status": "success", "message": null, "data": {
        "id": 1, "created_at": "2025-08-28T10:00:00Z", "updated_at": "2025-08-28T10:00:00Z",
        "first_name": "John", "last_name": "Doe", "email": "john@example.com", "type": "agent",
        "availability_status": "online", "phone_number_country_code": null, "phone_number": null,
        "avatar_url": null, "enabled": true, "last_active_at": null, "last_login_at": null,
        "roles": ["Agent"], "permissions": ["conversations:read"], "custom_attributes": {},
        "teams": [{"id": 1, "name": "Support", "emoji": null}], "api_key": "key", "api_key_last_used_at": null
    }}))
    .expect("serialises")
}

pub fn rocketchat_body() -> Vec<u8> {
    br#"{"status":"available","success":true}"#.to_vec()
}

/// Start the server on 127.0.0.1 (free port) in its own thread; returns its address.
pub fn start() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            let ld = Bytes::from(libredesk_body());
            let ed = Bytes::from(engage_status_body());
            let rc = Bytes::from(rocketchat_body());
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (ld, ed, rc) = (ld.clone(), ed.clone(), rc.clone());
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let (ld, ed, rc) = (ld.clone(), ed.clone(), rc.clone());
                            async move {
                                let (parts, body) = req.into_parts();
                                let _ = body.collect().await;
                                let body = match (&parts.method, parts.uri.path()) {
                                    (&Method::PUT, "/api/v1/agents/me/availability") => ld,
                                    (&Method::GET, "/status") => ed,
                                    (&Method::POST, "/api/v1/livechat/agent.status") => rc,
                                    _ => Bytes::from_static(b"{}"),
                                };
                                Ok::<_, std::convert::Infallible>(
                                    Response::builder()
                                        .header("content-type", "application/json")
                                        .body(Full::new(body))
                                        .expect("response"),
                                )
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("server address")
}
