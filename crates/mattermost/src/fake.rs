//! A fake Mattermost server, behaving like the real one (specs/mattermost/NOTES.md).

use agentstatus_fakes::{Fake, axum::Router};

/// The vendor's state, shared by the routes (`State<agentstatus_fakes::Shared<Inner>>`).
#[derive(Debug, Default)]
struct Inner {}

agentstatus_fakes::fake! {
    /// A running fake Mattermost server on 127.0.0.1 (`url()`, `faults()`, `state_changes()`).
    pub struct Mattermost(Inner);
}

impl Mattermost {
    /// Start the fake (no routes yet: add the vendor's, answering as the real server does).
    pub async fn start() -> std::io::Result<Self> {
        Fake::start(Inner::default(), Router::new()).await.map(Self)
    }
}
