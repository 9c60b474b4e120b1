//! A fake Twilio TaskRouter server, behaving like the real one (specs/twilio-taskrouter/NOTES.md).

use agentstatus_fakes::{Fake, axum::Router};

/// The vendor's state, shared by the routes (`State<agentstatus_fakes::Shared<Inner>>`).
#[derive(Debug, Default)]
struct Inner {}

agentstatus_fakes::fake! {
    /// A running fake Twilio TaskRouter server on 127.0.0.1 (`url()`, `faults()`, `state_changes()`).
    pub struct TwilioTaskrouter(Inner);
}

impl TwilioTaskrouter {
    /// Start the fake (no routes yet: add the vendor's, answering as the real server does).
    pub async fn start() -> std::io::Result<Self> {
        Fake::start(Inner::default(), Router::new()).await.map(Self)
    }
}
