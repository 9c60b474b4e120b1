//! Read and set support agents' availability on any helpdesk vendor, with one API.
//!
//! This facade is the presence API ([`Presence`], [`Availability`], [`set_many`], ...) plus one
//! cargo feature per vendor (every finished one on by default; [`VENDORS`] lists them all), each
//! re-exported as a module (`agentstatus::rocketchat`, ...) with its typed client and its
//! adapter in `presence`.
//! [`registry()`] lists the vendors compiled in, for programs that pick one by name at run time
//! (like `sqlx::any` picks a driver): the `agentstatus` command and its demo.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use agentstatus::registry::Settings;
//! use agentstatus::{Availability, ClientConfig};
//!
//! let entry = agentstatus::find("libredesk").expect("compiled in");
//! let settings = Settings::new("https://desk.example.com", ClientConfig::default())
//!     .with_value("api_key", "my-key")
//!     .with_value("scheme", "basic")
//!     .with_secret("secret", std::env::var("LIBREDESK_API_SECRET")?.into());
//! let presence = (entry.connect)(&settings)?;
//! presence.set("me", Availability::Away).await?;
//! # Ok(()) }
//! ```
//!
//! A whole program against a vendor's fake server (feature `fakes`; this is
//! `examples/presence.rs`, run as a test): start the fake, build the vendor's presence client,
//! set, list, and branch on an error's [`kind()`](PresenceError::kind).
#![cfg_attr(
    all(feature = "fakes", feature = "rocketchat"),
    doc = concat!("```\n", include_str!("../examples/presence.rs"), "```")
)]
#![cfg_attr(
    not(all(feature = "fakes", feature = "rocketchat")),
    doc = "(Shown and tested with the `fakes` and `rocketchat` features: `examples/presence.rs`.)"
)]
#![warn(missing_docs)]

pub use agentstatus_presence::*;
pub use agentstatus_runtime::{BuildError, ClientConfig, RateLimit, RetryPolicy, SecretString};

/// The registry: one line per vendor (`"<feature>" <module>;`, the module being the vendor's
/// dependency in Cargo.toml, named after its feature). Each vendor crate has its
/// `presence::entry()` and, with its `fake` feature, `fake::SEEDER`; this is the only code that
/// names them.
macro_rules! vendors {
    ($($feature:literal $module:ident;)*) => {
        $(
            #[cfg(feature = $feature)]
            pub use $module;
        )*

        /// Every vendor registered in this facade, in the order registered, compiled in or not
        /// (a vendor whose feature is off is not in [`registry()`]).
        pub const VENDORS: &[&str] = &[$($feature),*];

        /// The vendors compiled into this build, in the order registered.
        pub fn registry() -> Vec<registry::Entry> {
            vec![$(
                #[cfg(feature = $feature)]
                $module::presence::entry(),
            )*]
        }

        /// How to start the fake of the vendor called `name` with agents (feature `fakes`): its
        /// vendor crate's `fake::SEEDER`, for `agentstatus fake`. `None` for a vendor not
        /// compiled in.
        #[cfg(feature = "fakes")]
        pub fn seeder(name: &str) -> Option<agentstatus_fakes::seed::Seeder> {
            $(
                #[cfg(feature = $feature)]
                if name == $feature {
                    return Some($module::fake::SEEDER);
                }
            )*
            let _ = name;
            None
        }
    };
}

vendors! {
    "rocketchat" rocketchat;
    "libredesk" libredesk;
    "engage-digital" engage_digital;
    "chatwoot" chatwoot;
    "mattermost" mattermost;
    "twilio-taskrouter" twilio_taskrouter;
    "zulip" zulip;
    "msgraph" msgraph;
}

/// The registered vendor called `name`.
pub fn find(name: &str) -> Option<registry::Entry> {
    registry().into_iter().find(|e| e.name == name)
}
