//! Microsoft Graph: the presence adapter. Mapping (evidence in specs/msgraph/NOTES.md):
//!
//! | vendor state (read) | Availability | set sends |
//! |---|---|---|

use agentstatus_presence::adapter::{Adapter, unwritten};
use agentstatus_presence::{AgentPresence, Availability, ListFilter, PresenceError, Vendor};
use agentstatus_presence::registry::Entry;

agentstatus_presence::adapter! {
    /// [`Presence`](agentstatus_presence::Presence) over the Microsoft Graph client.
    pub struct MsgraphPresence(client: crate::Client);
}

/// Each operation calls the client with `agentstatus_presence::adapter::call`. When the contract
/// test passes, add `msgraph` to `default` in crates/agentstatus/Cargo.toml.
#[agentstatus_presence::async_trait]
impl Adapter for MsgraphPresence {
    const VENDOR: Vendor = Vendor::new("msgraph");
    const SUPPORTED: &'static [Availability] = &[];

    async fn get_now(&self, _: &str) -> Result<AgentPresence, PresenceError> {
        Err(unwritten(Self::VENDOR))
    }

    async fn set_now(&self, _: &str, _: Availability) -> Result<AgentPresence, PresenceError> {
        Err(unwritten(Self::VENDOR))
    }

    async fn list_now(&self, _: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        Err(unwritten(Self::VENDOR))
    }
}

/// `[msgraph]` with `base_url`; after `regen`, build the client with its generated
/// `Client::with_<scheme>` and give the credentials `Setting`s (`with_settings`).
pub fn entry() -> Entry {
    Entry::new("msgraph", "Microsoft Graph", |s| {
        let config = s.apply(crate::ClientConfig::default());
        let (base, http, inner) = agentstatus_runtime::connect(&s.base_url, vec![], &config)?;
        let client = crate::Client::new_with_client(&base, http, inner);
        Ok(Box::new(MsgraphPresence::new(client)))
    })
}
