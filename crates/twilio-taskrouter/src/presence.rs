//! Twilio TaskRouter: the presence adapter. Mapping (evidence in specs/twilio-taskrouter/NOTES.md):
//!
//! | vendor state (read) | Availability | set sends |
//! |---|---|---|

use agentstatus_presence::adapter::Adapter;
use agentstatus_presence::{AgentPresence, Availability, Failure, ListFilter, PresenceError};
use agentstatus_presence::{Vendor, registry::Entry};

agentstatus_presence::adapter! {
    /// [`Presence`](agentstatus_presence::Presence) over the Twilio TaskRouter client.
    pub struct TwilioTaskrouterPresence(client: crate::Client);
}

/// Each operation calls the client with `agentstatus_presence::adapter::call`. When the contract
/// test passes, add `twilio-taskrouter` to `default` in crates/agentstatus/Cargo.toml.
#[agentstatus_presence::async_trait]
impl Adapter for TwilioTaskrouterPresence {
    const VENDOR: Vendor = Vendor::new("twilio-taskrouter");
    const SUPPORTED: &'static [Availability] = &[];

    async fn get_now(&self, _: &str) -> Result<AgentPresence, PresenceError> {
        Err(unwritten())
    }

    async fn set_now(&self, _: &str, _: Availability) -> Result<AgentPresence, PresenceError> {
        Err(unwritten())
    }

    async fn list_now(&self, _: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        Err(unwritten())
    }
}

fn unwritten() -> PresenceError {
    let message = "the adapter is not written yet (src/presence.rs)".into();
    PresenceError::new(TwilioTaskrouterPresence::VENDOR, Failure::InvalidInput { message })
}

/// `[twilio-taskrouter]` with `base_url`. After `regen`, each security scheme of the document is a
/// generated `Client::with_<scheme>_auth`: give its credentials `Setting`s (`Setting::secret`
/// for a secret) and build the client with it instead of `new_with_client`.
pub fn entry() -> Entry {
    Entry {
        name: "twilio-taskrouter",
        title: "Twilio TaskRouter",
        settings: &[],
        connect: |s| {
            let config = s.apply(crate::ClientConfig::default());
            let (base, http, inner) = agentstatus_runtime::connect(&s.base_url, vec![], &config)?;
            let client = crate::Client::new_with_client(&base, http, inner);
            Ok(Box::new(TwilioTaskrouterPresence::new(client)))
        },
        demo: None,
    }
}
