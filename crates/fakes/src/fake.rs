//! The skeleton of every vendor's fake: its state, shared by its routes and its handle
//! ([`Shared`]), served on 127.0.0.1 with fault injection in front ([`Fake::start`]). A vendor's
//! fake module has only its routes and the vendor's behaviour.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;

use crate::server::{FakeServer, Faults, serve_counting};

/// A vendor fake's state `S`, shared by its routes (axum's `State<Shared<S>>`) and its handle,
/// with the count of state changes the routes made ([`FakeServer::state_changes`]). Cloning
/// shares it.
pub struct Shared<S> {
    state: Arc<Mutex<S>>,
    changes: Arc<AtomicU64>,
}

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            changes: self.changes.clone(),
        }
    }
}

impl<S> std::fmt::Debug for Shared<S> {
    /// The count only: a vendor's state holds its fake credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("changes", &self.changes.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl<S> Shared<S> {
    /// `state`, shared, with no change counted yet.
    pub fn new(state: S) -> Self {
        Self {
            state: Arc::new(Mutex::new(state)),
            changes: Arc::default(),
        }
    }

    /// The state, locked. A lock poisoned by a panicking handler is taken over: the fake goes
    /// on answering.
    pub fn lock(&self) -> MutexGuard<'_, S> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Count one change of the state (a write that changed something).
    pub fn changed(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A running vendor fake: the server ([`FakeServer`], which it dereferences to: `url()`,
/// `faults()`, `state_changes()`) and the vendor's state `S`. A vendor's fake is a newtype
/// over it declared with [`fake!`](crate::fake!), which dereferences to the server too; the
/// vendor adds its `start` (its routes) and its own knobs (agents, tokens, quirks) over
/// [`Fake::lock`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// use agentstatus_fakes::axum::{Router, extract::State, http::StatusCode, routing::put};
/// use agentstatus_fakes::{Fake, Shared, json};
///
/// #[derive(Default)]
/// struct Desk { online: bool }
///
/// async fn go_online(State(desk): State<Shared<Desk>>) -> agentstatus_fakes::axum::response::Response {
///     let mut d = desk.lock();
///     if !d.online {
///         d.online = true;
///         desk.changed();
///     }
///     json(StatusCode::OK, agentstatus_fakes::serde_json::json!({ "online": true }))
/// }
///
/// let fake = Fake::start(Desk::default(), Router::new().route("/online", put(go_online))).await?;
/// let url = format!("{}/online", fake.url());
/// # let _ = url;
/// assert_eq!(fake.state_changes(), 0);
/// assert!(!fake.lock().online);
/// # Ok(()) }
/// ```
pub struct Fake<S> {
    server: FakeServer,
    state: Shared<S>,
}

impl<S> std::fmt::Debug for Fake<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fake")
            .field("url", &self.server.url())
            .finish_non_exhaustive()
    }
}

impl<S: Send + 'static> Fake<S> {
    /// Serve `routes` over `state` on 127.0.0.1 and a free port, with fault injection and the
    /// request log in front of them.
    pub async fn start(state: S, routes: Router<Shared<S>>) -> std::io::Result<Self> {
        let state = Shared::new(state);
        let router = routes.with_state(state.clone());
        let server =
            serve_counting(router, Arc::new(Faults::default()), state.changes.clone()).await?;
        Ok(Self { server, state })
    }
}

impl<S> Fake<S> {
    /// The vendor's state, locked (see [`Shared::lock`]).
    pub fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock()
    }

    /// The state as the routes share it.
    pub fn shared(&self) -> &Shared<S> {
        &self.state
    }
}

impl<S> Deref for Fake<S> {
    type Target = FakeServer;

    fn deref(&self) -> &FakeServer {
        &self.server
    }
}

/// Declare a vendor's fake: a newtype over [`Fake`] of the vendor's state that dereferences to
/// the [`FakeServer`] (`url()`, `faults()`, `state_changes()`), with a `Debug` that shows no
/// state (a vendor's state holds its fake credentials). The vendor adds its `start` (state and
/// routes, then `Fake::start(state, routes).await.map(Self)`) and its own knobs over
/// `self.0.lock()`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// use agentstatus_fakes::axum::{Router, extract::State, http::StatusCode, routing::get};
/// use agentstatus_fakes::{Fake, Shared, json};
///
/// #[derive(Default)]
/// struct Inner { agents: u32 }
///
/// agentstatus_fakes::fake! {
///     /// A fake Acme server.
///     pub struct Acme(Inner);
/// }
///
/// impl Acme {
///     pub async fn start() -> std::io::Result<Self> {
///         let routes = Router::new().route("/agents", get(|State(s): State<Shared<Inner>>| async move {
///             json(StatusCode::OK, s.lock().agents.into())
///         }));
///         Fake::start(Inner::default(), routes).await.map(Self)
///     }
///
///     pub fn add_agent(&self) {
///         self.0.lock().agents += 1;
///     }
/// }
///
/// let acme = Acme::start().await?;
/// acme.add_agent();
/// assert!(acme.url().starts_with("http://127.0.0.1:"), "the server's, through Deref");
/// assert_eq!(acme.state_changes(), 0);
/// assert!(format!("{acme:?}").starts_with("Acme(Fake { url: "));
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! fake {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($state:ty) $(;)?) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name($crate::Fake<$state>);

        impl ::std::ops::Deref for $name {
            type Target = $crate::FakeServer;

            fn deref(&self) -> &$crate::FakeServer {
                &self.0
            }
        }
    };
}
