//! A generated call that could not get its OAuth 2.0 token becomes a [`PresenceError`] of the
//! token endpoint's failure, for every vendor (the runtime's hook records the typed error, the
//! presence layer maps it): a refused client is an authentication failure, an unreachable or
//! failing endpoint a transient one; the endpoint's cleaned words, never the secret.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use agentstatus_presence::adapter::{Step, call, within};
use agentstatus_presence::{ErrorKind, Failure, PresenceError, Vendor};
use agentstatus_runtime::{ClientConfig, ClientCredentials, RetryPolicy, SecretString};
use progenitor_client::{Error, ResponseValue};

const SECRET: &str = "s3cr3t-client-VALUE";
const VENDOR: Vendor = Vendor::new("oauthvendor");

/// A token endpoint on 127.0.0.1 answering every request with `status` and `body`; the URL.
fn token_endpoint(status: u16, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body_in = vec![0; length];
            let _ = reader.read_exact(&mut body_in);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/tenant/oauth2/token")
}

/// One generated-style call (`get_agent`) of a client authenticating at `token_url`, inside a
/// presence operation, as an adapter makes it.
async fn get_agent(token_url: String) -> PresenceError {
    let credentials = ClientCredentials::new("app-1", SecretString::from(SECRET), token_url);
    let config = ClientConfig::default().with_retry(RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    });
    let (base, http, inner) =
        agentstatus_runtime::connect_oauth2("http://127.0.0.1:9", vec![], credentials, &config)
            .unwrap();
    let operation = async {
        // what a generated `send()` does with the client's hooks
        let sent = async {
            let mut request = http.get(format!("{base}/agents/a1")).build().unwrap();
            agentstatus_runtime::pre_request(&mut request, "get_agent");
            agentstatus_runtime::authorize::<()>(&inner, &mut request).await?;
            // a token was had: the test expects none (the assertion below says so)
            Err::<ResponseValue<()>, _>(Error::InvalidRequest("a token was had".into()))
        };
        match call(sent).await {
            Ok(()) => Ok(()),
            Err(failed) => {
                assert!(
                    matches!(failed.error, Error::Custom(_)),
                    "{:?}",
                    failed.error
                );
                Err(failed.into_error(VENDOR, Some("a1")).await)
            }
        }
    };
    within(Duration::from_secs(10), VENDOR, Step::Get, operation)
        .await
        .unwrap_err()
}

fn no_secret(e: &PresenceError) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(SECRET), "{text}");
    }
}

#[tokio::test]
async fn a_refused_client_is_an_auth_failure_with_the_endpoints_words() {
    let url = token_endpoint(
        401,
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided: s3cr3t-client-VALUE\u001b[2J"}"#,
    );
    let e = get_agent(url).await;
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert_eq!((e.status(), e.code()), (Some(401), Some("invalid_client")));
    assert_eq!((e.operation(), e.agent()), (Some("get_agent"), Some("a1")));
    assert!(matches!(e.failure(), Failure::Token { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with("oauthvendor: get_agent: OAuth 2.0 token endpoint http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert!(!text.contains('\u{1b}'), "escaped: {text}");
    no_secret(&e);

    // a 400 refusal (RFC 6749 §5.2 lets a server answer invalid_client with 400) is one too
    let e = get_agent(token_endpoint(400, r#"{"error":"invalid_client"}"#)).await;
    assert_eq!((e.kind(), e.status()), (ErrorKind::Auth, Some(400)), "{e}");
}

#[tokio::test]
async fn an_unreachable_or_failing_token_endpoint_is_a_transient_failure() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = get_agent(format!("http://127.0.0.1:{port}/token")).await;
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert_eq!(e.status(), None);
    assert!(e.to_string().contains("could not connect"), "{e}");
    no_secret(&e);

    let e = get_agent(token_endpoint(
        503,
        r#"{"error":"temporarily_unavailable"}"#,
    ))
    .await;
    assert_eq!(
        (e.kind(), e.status()),
        (ErrorKind::Network, Some(503)),
        "{e}"
    );
    let e = get_agent(token_endpoint(502, "<html>bad gateway</html>")).await;
    assert_eq!(
        (e.kind(), e.status()),
        (ErrorKind::Network, Some(502)),
        "{e}"
    );
    let e = get_agent(token_endpoint(429, "{}")).await;
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    // an answer that is no token: the endpoint's fault, not the credentials'
    let e = get_agent(token_endpoint(200, r#"{"token_type":"Bearer"}"#)).await;
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
    assert!(e.to_string().contains("no `access_token`"), "{e}");
}
