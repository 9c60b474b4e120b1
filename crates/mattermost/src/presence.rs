//! Mattermost: the presence adapter. Mapping (evidence in specs/mattermost/NOTES.md):
//!
//! | vendor state (read) | Availability | set sends |
//! |---|---|---|

use agentstatus_presence::adapter::Adapter;
use agentstatus_presence::{AgentPresence, Availability, Failure, ListFilter, PresenceError};
use agentstatus_presence::{Vendor, registry::Entry};

agentstatus_presence::adapter! {
    /// [`Presence`](agentstatus_presence::Presence) over the Mattermost client.
    pub struct MattermostPresence(client: crate::Client);
}

/// Each operation calls the client with `agentstatus_presence::adapter::call`. When the contract
/// test passes, add `mattermost` to `default` in crates/agentstatus/Cargo.toml.
#[agentstatus_presence::async_trait]
impl Adapter for MattermostPresence {
    const VENDOR: Vendor = Vendor::new("mattermost");
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
    PresenceError::new(MattermostPresence::VENDOR, Failure::InvalidInput { message })
}

/// `[mattermost]` with `base_url`. After `regen`, each security scheme of the document is a
/// generated `Client::with_<scheme>_auth`: give its credentials `Setting`s (`Setting::secret`
/// for a secret) and build the client with it instead of `new_with_client`.
pub fn entry() -> Entry {
    Entry {
        name: "mattermost",
        title: "Mattermost",
        settings: &[],
        connect: |s| {
            let config = s.apply(crate::ClientConfig::default());
            let (base, http, inner) = agentstatus_runtime::connect(&s.base_url, vec![], &config)?;
            let client = crate::Client::new_with_client(&base, http, inner);
            Ok(Box::new(MattermostPresence::new(client)))
        },
        demo: None,
    }
}
