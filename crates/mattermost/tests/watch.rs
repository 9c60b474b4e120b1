//! The `status_change` reader against the fake's websocket: a change made on the fake arrives,
//! and a change made while the connection is down arrives once it is back (the bulk read after
//! reconnecting), never twice.
#![cfg(all(feature = "watch", feature = "fake"))]

use std::time::Duration;

use agentstatus_mattermost::fake::{seeded, user_id};
use agentstatus_mattermost::watch::StatusWatch;
use agentstatus_mattermost::{Client, ClientConfig};
use agentstatus_presence::{Availability, Presence};

async fn next(w: &mut StatusWatch) -> agentstatus_mattermost::watch::StatusChange {
    tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("a change within 10 s")
        .unwrap()
}

#[tokio::test]
async fn changes_arrive_and_a_dropped_connection_loses_none() {
    let fake = seeded(
        &[
            ("Ada Lovelace", Availability::Available),
            ("Bob Babbage", Availability::Available),
        ],
        "tok",
    )
    .await
    .unwrap();
    let client = || {
        Client::with_bearer_auth(
            &fake.url(),
            "tok".to_string().into(),
            &ClientConfig::default(),
        )
        .unwrap()
    };
    let (ada, bob) = (user_id(1), user_id(2));
    let mut watch = StatusWatch::new(
        client(),
        &fake.url(),
        "tok".to_string().into(),
        vec![bob.clone()],
    )
    .unwrap();
    let presence = agentstatus_mattermost::presence::MattermostPresence::new(client());

    // connect: the first read only learns where everyone is
    watch.start().await.unwrap();
    assert_eq!(watch.known().get(&bob).map(String::as_str), Some("online"));
    presence.set(&bob, Availability::Busy).await.unwrap();
    let change = next(&mut watch).await;
    assert_eq!(
        (change.user_id.as_str(), change.status.as_str()),
        (bob.as_str(), "dnd")
    );
    assert_eq!(change.availability, Availability::Busy);

    // an unwatched user's change is not yielded; the connection drops; Bob goes away meanwhile
    presence.set(&ada, Availability::Away).await.unwrap();
    fake.drop_connections();
    tokio::time::sleep(Duration::from_millis(200)).await;
    presence.set(&bob, Availability::Away).await.unwrap();
    let change = next(&mut watch).await;
    assert_eq!(
        (change.user_id.as_str(), change.status.as_str()),
        (bob.as_str(), "away")
    );
    assert_eq!(watch.known().get(&bob).map(String::as_str), Some("away"));

    // and the watch goes on after recovering
    presence.set(&bob, Availability::Available).await.unwrap();
    let change = next(&mut watch).await;
    assert_eq!(change.status, "online");
}

#[tokio::test]
async fn a_wrong_token_is_an_error_without_the_token() {
    let fake = seeded(&[("Ada Lovelace", Availability::Available)], "tok")
        .await
        .unwrap();
    let client = Client::with_bearer_auth(
        &fake.url(),
        "wrong-secret".to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    let mut watch = StatusWatch::new(
        client,
        &fake.url(),
        "wrong-secret".to_string().into(),
        vec![user_id(1)],
    )
    .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(20), watch.next())
        .await
        .unwrap()
        .unwrap_err();
    let text = format!("{e} {watch:?}");
    assert!(text.contains("401"), "{text}");
    assert!(!text.contains("wrong-secret"), "{text}");
}

/// The adapter's `change_feed`: the websocket as a `ChangeFeed`, and a `Watcher` over it.
mod feed {
    use std::sync::Arc;

    use agentstatus_mattermost::presence::MattermostPresence;
    use agentstatus_presence::watch::{Batch, ChangeFeed, Origin, WatchOptions, Watcher};

    use super::*;

    async fn fake_and_presence() -> (agentstatus_mattermost::fake::Mattermost, MattermostPresence) {
        let fake = seeded(
            &[
                ("Ada Lovelace", Availability::Available),
                ("Bob Babbage", Availability::Available),
            ],
            "tok",
        )
        .await
        .unwrap();
        let client = Client::with_bearer_auth(
            &fake.url(),
            "tok".to_string().into(),
            &ClientConfig::default(),
        )
        .unwrap();
        let presence =
            MattermostPresence::new(client).with_websocket(&fake.url(), "tok".to_string().into());
        (fake, presence)
    }

    async fn next(feed: &mut Box<dyn ChangeFeed>) -> Batch {
        tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("a batch within 10 s")
            .unwrap()
    }

    #[tokio::test]
    async fn pushes_resync_after_every_connection_and_heartbeats_when_quiet() {
        let (fake, presence) = fake_and_presence().await;
        let bob = user_id(2);
        let mut feed = presence
            .change_feed(&WatchOptions::every(Duration::from_millis(400)))
            .expect("a feed: the adapter knows its token");
        assert_eq!(feed.origin(), Origin::Push);
        // connecting: what changed before is only in a full read
        assert_eq!(next(&mut feed).await, Batch::Resync);
        presence.set(&bob, Availability::Busy).await.unwrap();
        let b = next(&mut feed).await;
        let Batch::Changed(changed) = b else {
            panic!("a change: {b:?}")
        };
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert_eq!(changed[0].agent_id, bob);
        assert_eq!(changed[0].availability, Availability::Busy);
        // the bulk read adds what the event does not carry: the choice, as `list` shows it
        assert_eq!(changed[0].detail.vendor_status, "dnd (manual)");
        // quiet: an empty batch at the interval (the connection answered the last ping)
        let start = tokio::time::Instant::now();
        assert_eq!(next(&mut feed).await, Batch::Changed(vec![]));
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert_eq!(next(&mut feed).await, Batch::Changed(vec![]));
        // a dropped connection: reconnected, then a full read is asked for
        fake.drop_connections();
        assert_eq!(next(&mut feed).await, Batch::Resync);
        presence.set(&bob, Availability::Away).await.unwrap();
        let Batch::Changed(changed) = next(&mut feed).await else {
            panic!("a change")
        };
        assert_eq!(changed[0].availability, Availability::Away);
    }

    #[tokio::test]
    async fn a_watcher_gets_pushes_long_before_its_poll_and_keeps_names() {
        let (fake, presence) = fake_and_presence().await;
        let (ada, bob) = (user_id(1), user_id(2));
        let setter = MattermostPresence::new(
            Client::with_bearer_auth(
                &fake.url(),
                "tok".to_string().into(),
                &ClientConfig::default(),
            )
            .unwrap(),
        );
        // a poll every 60 s: anything that arrives sooner was pushed
        let mut watcher = Watcher::new(
            Arc::new(presence),
            "team",
            WatchOptions::every(Duration::from_secs(60)),
        );
        assert_eq!(watcher.origin(), Origin::Push);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let clock = watcher.success_clock();
        let task = tokio::spawn(async move {
            loop {
                let c = watcher.next().await;
                if tx.send(c).is_err() {
                    return;
                }
            }
        });
        // the baseline read, the connection and the read after it
        tokio::time::timeout(Duration::from_secs(10), async {
            while clock.get().is_none() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        setter.set(&bob, Availability::Busy).await.unwrap();
        let c = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("pushed within 5 s")
            .unwrap()
            .unwrap();
        assert_eq!(c.agent_id, bob);
        assert_eq!(c.origin, Origin::Push);
        assert_eq!(c.before.unwrap().availability, Availability::Available);
        let after = c.after.unwrap();
        assert_eq!(after.availability, Availability::Busy);
        assert_eq!(
            after.name.as_deref(),
            Some("Bob Babbage"),
            "kept from the list"
        );
        assert_eq!(after.email.as_deref(), Some("bob.babbage@example.com"));
        // a drop: the change made around it arrives once (pushed or read after reconnecting)
        fake.drop_connections();
        setter.set(&ada, Availability::Away).await.unwrap();
        let c = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("within 5 s")
            .unwrap()
            .unwrap();
        assert_eq!(c.agent_id, ada);
        assert_eq!(c.after.unwrap().availability, Availability::Away);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(rx.try_recv().is_err(), "reported once");
        task.abort();
    }
}

/// `wss://`: the same websocket behind TLS (a proxy in front of the fake with a certificate of
/// a test CA, `tests/tls/`): read with the caller's roots, refused with the platform's.
mod tls {
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    use super::*;

    fn pem(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/tls")
            .join(name)
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        agentstatus_runtime::ensure_tls_provider();
        rustls::crypto::CryptoProvider::get_default()
            .expect("the runtime installs ring")
            .clone()
    }

    /// A TLS front for `to` on a free port of 127.0.0.1.
    async fn tls_proxy(to: String) -> u16 {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(pem("cert.pem"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(pem("key.pem")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, to) = (acceptor.clone(), to.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(&to).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn wss_reads_through_tls_and_an_unknown_certificate_is_refused() {
        let fake = seeded(
            &[
                ("Ada Lovelace", Availability::Available),
                ("Bob Babbage", Availability::Available),
            ],
            "tok",
        )
        .await
        .unwrap();
        let plain = fake.url();
        let port = tls_proxy(plain.trim_start_matches("http://").to_string()).await;
        let https = format!("https://127.0.0.1:{port}");
        let client = || {
            Client::with_bearer_auth(&plain, "tok".to_string().into(), &ClientConfig::default())
                .unwrap()
        };
        let bob = user_id(2);

        // the test CA's root: the websocket is read over TLS
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(pem("ca.pem")).unwrap())
            .unwrap();
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut watch = StatusWatch::new(
            client(),
            &https,
            "tok".to_string().into(),
            vec![bob.clone()],
        )
        .unwrap()
        .with_tls(Arc::new(config));
        assert!(
            watch.url().starts_with("wss://127.0.0.1:"),
            "{}",
            watch.url()
        );
        watch.start().await.unwrap();
        let presence = agentstatus_mattermost::presence::MattermostPresence::new(client());
        presence.set(&bob, Availability::Busy).await.unwrap();
        let change = next(&mut watch).await;
        assert_eq!(
            (change.user_id.as_str(), change.status.as_str()),
            (bob.as_str(), "dnd")
        );

        // the platform's roots do not know the test CA: refused, an error (not a panic), and
        // the token is not in it
        let mut watch =
            StatusWatch::new(client(), &https, "tok-secret".to_string().into(), vec![bob]).unwrap();
        let e = tokio::time::timeout(Duration::from_secs(30), watch.start())
            .await
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(e.contains("wss://127.0.0.1:"), "{e}");
        assert!(e.to_lowercase().contains("certificate"), "{e}");
        assert!(!e.contains("tok-secret"), "{e}");
    }
}
