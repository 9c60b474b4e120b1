//! A fake Microsoft Graph server, behaving like the real one (specs/msgraph/NOTES.md).

use agentstatus_fakes::{Fake, axum::Router, seed::Seeder};

/// The vendor's state, shared by the routes (`State<agentstatus_fakes::Shared<Inner>>`).
#[derive(Debug, Default)]
struct Inner {}

agentstatus_fakes::fake! {
    /// A running fake Microsoft Graph server on 127.0.0.1 (`url()`, `faults()`, `state_changes()`).
    pub struct Msgraph(Inner);
}

impl Msgraph {
    /// Start the fake (no routes yet: add the vendor's, answering as the real server does).
    pub async fn start() -> std::io::Result<Self> {
        Fake::start(Inner::default(), Router::new()).await.map(Self)
    }
}

/// For `agentstatus fake`: `Seeder::of::<Msgraph>()` once it implements `seed::Seeded`.
pub const SEEDER: Seeder = Seeder::unwritten();
