//! An error answer whose body is not the declared `ErrorResponse` (a proxy's or load
//! balancer's plain-text 429, an HTML 503) is an error with its status, what the body says and
//! the server's `Retry-After`, never the decoder's complaint ("invalid type: integer 429,
//! expected struct ErrorResponse": `429 Too Many Requests` starts with a JSON number).

use std::time::Duration;

use agentstatus_engage_digital::Client;
use agentstatus_engage_digital::fake::{Agent, EngageDigital, Fault};
use agentstatus_engage_digital::presence::EngageDigitalPresence;
use agentstatus_presence::{Availability, ErrorKind, Presence};
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
    // the fault's body: `429 Too Many Requests (injected fault)`, text/plain, Retry-After: 7
    fake.faults().push(Fault::RateLimited {
        retry_after_secs: 7,
    });
    let e = p.set("e1", Availability::Away).await.unwrap_err();
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

#[tokio::test]
async fn an_html_503_is_the_vendors_error_with_its_status() {
    let (fake, p) = fake().await;
    fake.faults().push(Fault::Html(503));
    let e = p.list(&Default::default()).await.unwrap_err();
    let shown = e.to_string();
    assert_eq!(e.kind(), ErrorKind::Vendor, "{shown}");
    assert_eq!(e.status(), Some(503), "{shown}");
    assert!(shown.contains("HTTP 503"), "{shown}");
    assert!(!shown.contains("expected"), "{shown}");
}
