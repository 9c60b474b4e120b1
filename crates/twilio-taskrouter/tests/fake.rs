//! The fake behaves like the real server where the adapter depends on it (NOTES.md, "Fake server
//! behaviour"): the ETag changes with every update, a stale If-Match is 412 and changes nothing,
//! lists page with an opaque token and absolute next-page URLs on Twilio's host, errors carry
//! Twilio's body.

use agentstatus_presence::{Availability, ErrorKind, Failure, ListFilter, ListLimits, Presence};
use agentstatus_twilio_taskrouter::fake::{self, ACCOUNT_SID, TwilioTaskrouter, WORKSPACE_SID};
use agentstatus_twilio_taskrouter::presence::TwilioTaskrouterPresence;
use agentstatus_twilio_taskrouter::{Client, ClientConfig};
use serde_json::Value;

const TOKEN: &str = "fake-token";

fn client(fake: &TwilioTaskrouter) -> Client {
    Client::with_account_sid_auth_token(
        &fake.url(),
        ACCOUNT_SID,
        TOKEN.to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap()
}

fn http() -> reqwest::Client {
    // the TLS provider the runtime chooses (a plain reqwest client has none with rustls-ring)
    agentstatus_runtime::ensure_tls_provider();
    reqwest::Client::new()
}

fn worker_url(fake: &TwilioTaskrouter, sid: &str) -> String {
    format!("{}/v1/Workspaces/{WORKSPACE_SID}/Workers/{sid}", fake.url())
}

async fn etag(fake: &TwilioTaskrouter, sid: &str) -> String {
    let r = http()
        .get(worker_url(fake, sid))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["etag"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_etag_changes_on_update_and_a_stale_if_match_is_412() {
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    let ada = fake::worker_sid_for("ada").unwrap();
    fake.add_worker(WORKSPACE_SID, &ada, "Ada", "Offline");
    let available = fake
        .activities(WORKSPACE_SID)
        .into_iter()
        .find(|a| a.name == "Available")
        .unwrap();
    let before = etag(&fake, &ada).await;
    let update = |tag: &str| {
        http()
            .post(worker_url(&fake, &ada))
            .basic_auth(ACCOUNT_SID, Some(TOKEN))
            .header("if-match", tag)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("ActivitySid={}", available.sid))
            .send()
    };
    let r = update(&before).await.unwrap();
    assert_eq!(r.status(), 200);
    let after = r.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(after, before);
    assert_eq!(fake.state_changes(), 1);

    // the old tag is stale now: 412, Twilio's body, nothing changes
    fake.move_worker(WORKSPACE_SID, &ada, "Break");
    let r = update(&after).await.unwrap();
    assert_eq!(r.status(), 412);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 20412);
    assert_eq!(body["status"], 412);
    assert_eq!(
        fake.activity_of(WORKSPACE_SID, &ada).as_deref(),
        Some("Break")
    );
    assert_eq!(fake.state_changes(), 1);
}

#[tokio::test]
async fn updates_must_be_form_encoded_and_name_an_activity_of_the_workspace() {
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    let ada = fake::worker_sid_for("ada").unwrap();
    fake.add_worker(WORKSPACE_SID, &ada, "Ada", "Offline");
    let other = fake.add_workspace();
    let foreign = fake.activities(&other)[1].sid.clone();
    let r = http()
        .post(worker_url(&fake, &ada))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .header("content-type", "application/json")
        .body(serde_json::json!({"ActivitySid": foreign}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http()
        .post(worker_url(&fake, &ada))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("ActivitySid={foreign}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "an activity of another workspace");
    assert_eq!(fake.state_changes(), 0);
}

#[tokio::test]
async fn bad_credentials_and_unknown_resources_answer_twilio_errors() {
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    let r = http()
        .get(format!(
            "{}/v1/Workspaces/{WORKSPACE_SID}/Workers",
            fake.url()
        ))
        .basic_auth(ACCOUNT_SID, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 20003);
    let r = http()
        .get(worker_url(&fake, "WK0000000000000000000000000000dead"))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 20404);
    // an API key is accepted as the Basic username
    fake.add_api_key("SK00000000000000000000000000000001", "key-secret");
    let r = http()
        .get(format!(
            "{}/v1/Workspaces/{WORKSPACE_SID}/Activities",
            fake.url()
        ))
        .basic_auth("SK00000000000000000000000000000001", Some("key-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["activities"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn lists_page_and_the_adapter_reads_every_page_from_its_own_base_url() {
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    for i in 0..450u32 {
        let sid = format!("WK{i:032x}");
        let activity = if i % 3 == 0 { "Available" } else { "Offline" };
        fake.add_worker(WORKSPACE_SID, &sid, &format!("Worker {i}"), activity);
    }
    // the raw page: absolute next_page_url on Twilio's host, whatever the fake's address
    let r = http()
        .get(format!(
            "{}/v1/Workspaces/{WORKSPACE_SID}/Workers?PageSize=100",
            fake.url()
        ))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["workers"].as_array().unwrap().len(), 100);
    let next = body["meta"]["next_page_url"].as_str().unwrap();
    assert!(
        next.starts_with("https://taskrouter.twilio.com/v1/Workspaces/"),
        "{next}"
    );
    assert!(next.contains("PageToken=PA"), "{next}");

    let presence = TwilioTaskrouterPresence::new(client(&fake), WORKSPACE_SID.to_string());
    let all = presence.list(&ListFilter::all()).await.unwrap();
    assert_eq!(all.len(), 450);
    let available = presence.list(&ListFilter::available()).await.unwrap();
    assert_eq!(available.len(), 150);
    assert!(
        available
            .iter()
            .all(|p| p.availability == Availability::Available)
    );
    // 450 workers at 200 a page: three pages
    let limited = TwilioTaskrouterPresence::new(client(&fake), WORKSPACE_SID.to_string())
        .with_list_limits(ListLimits::new(2, 100_000));
    let e = limited.list(&ListFilter::all()).await.unwrap_err();
    assert!(matches!(e.failure(), Failure::TooManyPages { .. }), "{e}");
}

#[tokio::test]
async fn each_set_moves_the_worker_once_and_an_unknown_worker_is_not_found() {
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    let ada = fake::worker_sid_for("ada").unwrap();
    fake.add_worker(WORKSPACE_SID, &ada, "Ada", "Offline");
    let presence = TwilioTaskrouterPresence::new(client(&fake), WORKSPACE_SID.to_string());
    // Busy maps to `Unavailable`, Away to `Break`: each set moves the worker once
    for (a, activity) in [
        (Availability::Busy, "Unavailable"),
        (Availability::Away, "Break"),
        (Availability::Available, "Available"),
    ] {
        let after = presence.set(&ada, a).await.unwrap();
        assert_eq!(after.availability, a);
        assert_eq!(
            fake.activity_of(WORKSPACE_SID, &ada).as_deref(),
            Some(activity)
        );
    }
    assert_eq!(fake.state_changes(), 3);
    let e = presence
        .set("WK0000000000000000000000000000dead", Availability::Away)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn an_update_whose_answer_was_lost_is_resent_and_not_applied_twice() {
    use agentstatus_twilio_taskrouter::fake::Fault;
    use std::time::Duration;
    let fake = TwilioTaskrouter::start(TOKEN).await.unwrap();
    let ada = fake::worker_sid_for("ada").unwrap();
    fake.add_worker(WORKSPACE_SID, &ada, "Ada", "Offline");
    let presence = TwilioTaskrouterPresence::new(client(&fake), WORKSPACE_SID.to_string());
    // the read and the activities pass; the update is applied, then its answer is lost
    fake.faults().push(Fault::Delay(Duration::ZERO));
    fake.faults().push(Fault::Delay(Duration::ZERO));
    fake.faults().push(Fault::DropAfterHandling);
    let after = presence.set(&ada, Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.state_changes(), 1, "applied once");
    // the resend carried the old ETag: 412, then the read showed this update's own result
    assert_eq!(
        fake.activity_of(WORKSPACE_SID, &ada).as_deref(),
        Some("Available")
    );
}

#[tokio::test]
async fn the_seeder_holds_each_availability_in_its_activity_under_the_rosters_ids() {
    use agentstatus_fakes::seed::Secrets;
    use agentstatus_twilio_taskrouter::fake::SEEDER;
    let secrets = || Secrets::from([("auth_token", TOKEN.to_string())]);
    let seed = |id: &str, a| SEEDER.seed(id, &format!("Agent {id}"), a).unwrap();
    let seeds = vec![
        seed("ada", Availability::Offline),
        seed("grace", Availability::Available),
        seed("kat", Availability::Away),
    ];
    let running = SEEDER.start(seeds, secrets()).await.unwrap();
    assert_eq!(
        running.settings,
        [
            ("account_sid", serde_json::json!(ACCOUNT_SID)),
            ("workspace_sid", serde_json::json!(WORKSPACE_SID))
        ]
    );
    let client = Client::with_account_sid_auth_token(
        &running.server.url(),
        ACCOUNT_SID,
        TOKEN.to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    let presence = TwilioTaskrouterPresence::new(client, WORKSPACE_SID.to_string());
    let got = presence.get("grace").await.unwrap();
    assert_eq!(got.availability, Availability::Available);
    let kat = presence.get("kat").await.unwrap();
    assert_eq!(kat.availability, Availability::Away);
    assert_eq!(kat.detail.vendor_status, "Break");
    assert_eq!(
        fake::worker_sid_for("grace").unwrap(),
        "WK67726163650000000000000000000000",
        "`grace` in hex, for tests that want real-looking SIDs"
    );
}
