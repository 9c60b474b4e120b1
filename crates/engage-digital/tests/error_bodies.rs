//! An error answer whose body is not the declared `ErrorResponse` (a proxy's or load
//! balancer's plain-text 429, an HTML 503) is an error with its status, what the body says and
//! the server's `Retry-After`, never the decoder's complaint ("invalid type: integer 429,
//! expected struct ErrorResponse": `429 Too Many Requests` starts with a JSON number).

use std::time::Duration;

use agentstatus_engage_digital::Client;
use agentstatus_engage_digital::fake::{Agent, EngageDigital, Fault};
use agentstatus_engage_digital::presence::EngageDigitalPresence;
use agentstatus_presence::{ErrorKind, Presence};
use agentstatus_runtime::{ClientConfig, RetryPolicy};

async fn fake() -> (EngageDigital, EngageDigitalPresence) {
    let fake = EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("sup-token");
    fake.add_agent(Agent::new("e1", &[("c1", "Email")], "available"));
    // one attempt: the answer is the error, not a retry after it
    let config = ClientConfig::default().with_retry(RetryPolicy::none());
    let client = Client::with_config(&fake.url(), "sup-token".to_string().into(), &config).unwrap();
    (fake, EngageDigitalPresence::new(client))
}

#[tokio::test]
async fn a_plain_text_429_is_rate_limited_with_the_servers_wait() {
    let (fake, p) = fake().await;
    // the fault's body: `429 Too Many Requests (injected fault)`, text/plain, Retry-After: 7;
    // `GET /status` (the list a watch polls) declares its 429 as `ErrorResponse`
    fake.faults().push(Fault::RateLimited {
        retry_after_secs: 7,
    });
    let e = p.list(&Default::default()).await.unwrap_err();
    let shown = e.to_string();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{shown}");
    assert_eq!(e.status(), Some(429), "{shown}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)), "{shown}");
    assert!(shown.contains("HTTP 429"), "{shown}");
    assert!(shown.contains("rate limited"), "{shown}");
    assert!(shown.contains("wait 7 s"), "{shown}");
    assert!(shown.contains("Too Many Requests"), "{shown}");
    assert!(!shown.contains("invalid type"), "{shown}");
}

/// A declared error status with a body of another kind (a proxy's HTML 403 page where the
/// document declares `ErrorResponse`): the status decides the kind (a refusal of the
/// credentials), and the message is the page's start, not serde's "expected value".
#[tokio::test]
async fn an_html_403_is_refused_credentials_with_its_status() {
    let (fake, p) = fake().await;
    fake.faults().push(Fault::Html(403));
    let e = p.list(&Default::default()).await.unwrap_err();
    let shown = e.to_string();
    assert_eq!(e.kind(), ErrorKind::Auth, "{shown}");
    assert_eq!(e.status(), Some(403), "{shown}");
    assert!(shown.contains("HTTP 403"), "{shown}");
    assert!(!shown.contains("expected"), "{shown}");
}
