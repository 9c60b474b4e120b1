//! `cargo xtask new-vendor <name>`: scaffold a vendor slice, so that the steps of adding one
//! cannot be wrong: `specs/<name>/` (sources, an empty document, an empty overlay, notes),
//! `crates/<name>/` (manifest, lib with the generated client, adapter, fake, example, golden,
//! wire and contract tests) and the registry line in the `agentstatus` facade. The result
//! builds at once; its contract test fails until the adapter and the fake are written, and
//! `cargo xtask check` / the completeness test name what is still missing.

use std::path::{Path, PathBuf};

/// Everything that went wrong, as one line for the user.
pub type Result<T> = std::result::Result<T, String>;

/// `rocketchat` -> `RocketChat`-like type prefix (`acme-desk` -> `AcmeDesk`).
fn camel(name: &str) -> String {
    name.split(['-', '_'])
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Is `name` usable as a vendor name: a folder, a crate suffix, a cargo feature, a config
/// section?
pub fn check_name(name: &str) -> Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name.len() <= 40;
    if !ok {
        return Err(format!(
            "invalid vendor name {name:?}: use lowercase ASCII letters, digits and single dashes, starting with a letter (it becomes specs/<name>/, the crate agentstatus-<name>, a cargo feature and a config section)"
        ));
    }
    if matches!(
        name,
        "agentstatus" | "presence" | "runtime" | "codegen" | "fakes" | "cli" | "bench"
    ) {
        return Err(format!(
            "invalid vendor name {name:?}: it is a crate of the workspace"
        ));
    }
    Ok(())
}

struct Names {
    name: String,
    title: String,
    krate: String,
    ident: String,
    ty: String,
    env: String,
}

impl Names {
    fn new(name: &str, title: Option<&str>) -> Self {
        Self {
            name: name.to_string(),
            title: title.map_or_else(|| camel(name), str::to_string),
            krate: format!("agentstatus-{name}"),
            ident: format!("agentstatus_{}", name.replace('-', "_")),
            ty: camel(name),
            env: format!("{}_TOKEN", name.replace('-', "_").to_ascii_uppercase()),
        }
    }

    fn fill(&self, template: &str) -> String {
        template
            .replace("{{name}}", &self.name)
            .replace("{{title}}", &self.title)
            .replace("{{crate}}", &self.krate)
            .replace("{{ident}}", &self.ident)
            .replace("{{Type}}", &self.ty)
            .replace("{{ENV}}", &self.env)
    }
}

const SOURCES: &str = r#"# Where each kept {{title}} operation is published, one [[source]] per document, each copied
# byte for byte into upstream/; `cargo xtask regen --vendor {{name}}` writes openapi.yaml from them.
vendor = "{{name}}"

# [[source]]
# name = "openapi"                  # a short name, unique in this file
# full = true                       # this document is the vendor's complete API (feature `full`)
# kind = "openapi"                  # openapi | docs-page | hand-written
# url = "https://example.com/openapi.json"   # where the vendor publishes it (check --live)
# pinned = "upstream/openapi.json"  # the copy in this folder
# origin = "owner/repo path @ commit (date)"
# operations = ["GET /api/v1/agents", "PATCH /api/v1/agents/{id}"]
"#;

const OPENAPI: &str = r#"# Written by `cargo xtask regen --vendor {{name}}` from sources.toml; never edited by hand.
openapi: 3.0.3
info: { title: "{{title}} (no operations kept yet)", version: "0" }
paths: {}
"#;

const OVERLAY: &str = r#"# Corrections to {{title}}'s published spec, each citing its evidence in specs/{{name}}/NOTES.md;
# `cargo xtask check` reports an action that no longer matches.
overlay: 1.0.0
info: { title: "{{title}} corrections", version: 1.0.0 }
actions: []
"#;

const NOTES: &str = r#"# {{title}}: what the published document gets wrong

Evidence for every overlay action and every fake behaviour, read from the vendor's server code:
each finding names the repository, the path and the commit.

## Published documents

## Fake server behaviour
"#;

const CARGO: &str = r#"[package]
name = "{{crate}}"
description = "Typed client for the {{title}} agent presence API, generated from the vendor's OpenAPI document."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
repository.workspace = true
homepage.workspace = true
readme.workspace = true
documentation = "https://docs.rs/{{crate}}"
keywords.workspace = true
categories.workspace = true
build = "../../build.rs"

[package.metadata.agentstatus]
vendor = "{{name}}"

[package.metadata.docs.rs]
features = ["full", "presence", "fake"]

[lints.rust]
# set by the build script when it generated the client; a package compiles `generated/` instead
unexpected_cfgs = { level = "warn", check-cfg = ["cfg(agentstatus_codegen)"] }

[dependencies]
agentstatus-runtime.workspace = true
progenitor-client.workspace = true
reqwest.workspace = true
serde.workspace = true
serde_json.workspace = true
chrono.workspace = true
secrecy.workspace = true
# the generated types may need these (formats `uuid`, `pattern`)
uuid.workspace = true
regress = "0.12"
agentstatus-presence = { workspace = true, optional = true }
agentstatus-fakes = { workspace = true, optional = true }

[build-dependencies]
agentstatus-codegen.workspace = true
toml.workspace = true

[dev-dependencies]
agentstatus-presence = { workspace = true, features = ["testing"] }
expectorate.workspace = true
tokio = { workspace = true, features = ["macros", "rt-multi-thread"] }
wiremock.workspace = true

[features]
default = ["rustls-ring"]
# TLS: rustls with ring (no cmake, no system library), rustls with aws-lc-rs, the platform's
rustls-ring = ["agentstatus-runtime/rustls-ring"]
rustls-aws-lc = ["agentstatus-runtime/rustls-aws-lc"]
native-tls = ["agentstatus-runtime/native-tls"]
# the presence adapter (`presence::{{Type}}Presence`) and its registry entry
presence = ["dep:agentstatus-presence"]
# a stateful fake of the vendor's server, behaving like the real one (`fake::{{Type}}`)
fake = ["dep:agentstatus-fakes"]
# the vendor's complete API (the source marked `full = true`) instead of the slice
full = []

[[test]]
name = "contract"
required-features = ["presence", "fake"]
"#;

const LIB: &str = r#"//! Typed client for the {{title}} agent presence API, generated by progenitor from
//! `specs/{{name}}/openapi.yaml` with the corrections of `specs/{{name}}/overlay.yaml` (evidence:
//! `specs/{{name}}/NOTES.md`), its authenticated constructors from the document's security
//! schemes. This file adds only the vendor's genuine quirks. Example (`examples/{{name}}.rs`):
#![doc = concat!("```no_run\n", include_str!("../examples/{{name}}.rs"), "```")]

#[cfg(feature = "fake")]
pub mod fake;
#[cfg(feature = "presence")]
pub mod presence;

agentstatus_runtime::generated_client!();
"#;

const EXAMPLE: &str = r#"// Connect to {{title}} and read the generated client's base URL.
use {{ident}}::{Client, ClientInfo};

fn main() {
    let client = Client::new("https://{{name}}.example.com", Default::default());
    println!("{{title}} client for {}", client.baseurl());
}
"#;

const PRESENCE: &str = r#"//! {{title}}: the presence adapter. Mapping (fill in, with evidence in specs/{{name}}/NOTES.md):
//!
//! | vendor state (read) | Availability | set sends |
//! |---|---|---|

use std::time::Duration;

use agentstatus_presence::adapter::Adapter;
use agentstatus_presence::registry::{Entry, Setting};
use agentstatus_presence::{AgentPresence, Availability, Failure, ListFilter, PresenceError, Vendor};

use crate::{Client, ClientInfo};

/// [`Presence`](agentstatus_presence::Presence) over a {{title}} client.
#[derive(Debug)]
pub struct {{Type}}Presence {
    client: Client,
    deadline: Duration,
}

impl {{Type}}Presence {
    /// The adapter over `client`, each operation within the client's `RetryPolicy::deadline`.
    pub fn new(client: Client) -> Self {
        let deadline = client.inner().deadline();
        Self { client, deadline }
    }

    /// One deadline for each `get`, `set` and `list`, everything they send included.
    pub fn with_deadline(self, deadline: Duration) -> Self {
        Self { deadline, ..self }
    }

    fn not_written(&self) -> PresenceError {
        let message = format!("the {{title}} adapter is not written yet (crates/{{name}}/src/presence.rs, client at {})", self.client.baseurl());
        PresenceError::new(Self::VENDOR, Failure::InvalidInput { message })
    }
}

/// The operations, without the deadline: each reads and writes with
/// `agentstatus_presence::adapter::call(self.client.<operation>().send())`.
#[agentstatus_presence::async_trait]
impl Adapter for {{Type}}Presence {
    const VENDOR: Vendor = Vendor::new("{{name}}");
    const SUPPORTED: &'static [Availability] = &[];

    fn deadline(&self) -> Duration {
        self.deadline
    }

    async fn get_now(&self, _agent: &str) -> Result<AgentPresence, PresenceError> {
        Err(self.not_written())
    }

    async fn set_now(&self, _agent: &str, _to: Availability) -> Result<AgentPresence, PresenceError> {
        Err(self.not_written())
    }

    async fn list_now(&self, _filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        Err(self.not_written())
    }
}

/// {{title}} in the registry: `[{{name}}]` with `base_url`, and the token from `${{ENV}}`.
pub fn entry() -> Entry {
    Entry {
        name: "{{name}}",
        title: "{{title}}",
        settings: const { &[Setting::secret("token", "{{ENV}}", "the API token")] },
        connect: |s| {
            let _token = s.secret("token")?; // give it to the generated constructor of the auth scheme
            let config = s.apply(crate::ClientConfig::default());
            let (base, http, inner) = agentstatus_runtime::connect(&s.base_url, vec![], &config)?;
            Ok(Box::new({{Type}}Presence::new(Client::new_with_client(&base, http, inner))))
        },
        demo: None,
    }
}
"#;

const FAKE: &str = r#"//! A fake {{title}} server, behaving like the real one (not like its docs): see
//! specs/{{name}}/NOTES.md, "Fake server behaviour".

use agentstatus_fakes::axum::Router;
use agentstatus_fakes::{Fake, FakeServer};
pub use agentstatus_fakes::{Chaos, Fault, Faults};

/// The vendor's state, shared by the routes (`State<agentstatus_fakes::Shared<Inner>>`).
#[derive(Debug, Default)]
struct Inner {}

/// A running fake {{title}} server on 127.0.0.1 ([`FakeServer`]: `url()`, `faults()`, `state_changes()`).
#[derive(Debug)]
pub struct {{Type}}(Fake<Inner>);

impl std::ops::Deref for {{Type}} {
    type Target = FakeServer;

    fn deref(&self) -> &FakeServer {
        &self.0
    }
}

impl {{Type}} {
    /// Start the fake (no routes yet: add the vendor's, with its real answers).
    pub async fn start() -> std::io::Result<Self> {
        Fake::start(Inner::default(), Router::new()).await.map(Self)
    }
}
"#;

const CHANGELOG: &str = r#"# Changelog

All notable changes to this crate are documented in this file.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/), and this crate adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html). Entries about the vendor's API are written by `cargo xtask update` from the semantic diff of the vendor's documents.

## [Unreleased]

### Added

- The {{title}} client, its presence adapter and its fake server.
"#;

const GOLDEN: &str = r#"//! The generated code is checked in (`generated/client.rs`): a change of the generated API shows
//! in review. After an intended change: `EXPECTORATE=overwrite cargo test -p {{crate}} --test golden`.

#[test]
fn generated_client_matches_golden_file() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/client.rs"));
    expectorate::assert_contents("generated/client.rs", generated);
}
"#;

const GOLDEN_FULL: &str = r#"//! With `full`, the complete API's public surface is kept as a golden file. After an intended
//! change: `EXPECTORATE=overwrite cargo test -p {{crate}} --features full --test golden_full`.
#![cfg(feature = "full")]

#[test]
fn full_api_surface_matches_golden_file() {
    let surface = include_str!(concat!(env!("OUT_DIR"), "/surface.txt"));
    expectorate::assert_contents("tests/golden/full-surface.txt", surface);
}
"#;

const WIRE: &str = r#"//! Wire tests: one per kept operation against a local server checking method, path, query,
//! headers and body, answering like the real server (specs/{{name}}/NOTES.md).

#[tokio::test]
async fn the_client_talks_to_the_configured_base_url() {
    let server = wiremock::MockServer::start().await;
    let client = {{ident}}::Client::new(&server.uri(), Default::default());
    assert_eq!({{ident}}::ClientInfo::baseurl(&client), &server.uri());
}
"#;

const CONTRACT: &str = r#"//! The presence contract (`agentstatus_presence::testing`) against this vendor's fake.

use agentstatus_presence::testing::{Case, contract};
use {{ident}}::{Client, fake::{{Type}}, presence::{{Type}}Presence};

#[tokio::test]
async fn meets_the_presence_contract() {
    let fake = {{Type}}::start().await.unwrap();
    let adapter = |_secret: &str| Box::new({{Type}}Presence::new(Client::new(&fake.url(), Default::default())));
    let (good, bad) = (adapter("secret"), adapter("wrong-secret"));
    contract(Case::new(fake, good, bad, "agent-1", |f| f.state_changes())).await;
}
"#;

fn write_new(path: &Path, text: &str) -> Result<()> {
    if path.exists() {
        return Err(format!(
            "{}: already exists; nothing was written",
            path.display()
        ));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// Insert `line` into `text` right after the last line of the block that starts with `marker`
/// (a block ends at the first empty line or the end of `text`).
fn insert_in_block(text: &str, marker: &str, line: &str, file: &Path) -> Result<String> {
    let start = text
        .find(marker)
        .ok_or_else(|| format!("{}: marker {marker:?} not found", file.display()))?;
    let end = text[start..]
        .find("\n\n")
        .map_or(text.len(), |i| start + i + 1);
    let mut out = String::with_capacity(text.len() + line.len() + 1);
    out.push_str(&text[..end]);
    out.push_str(line);
    out.push('\n');
    out.push_str(&text[end..]);
    Ok(out)
}

/// Add `item` (a TOML string) to the one-line array `key = [...]`.
fn append_to_array(text: &str, key: &str, item: &str, file: &Path) -> Result<String> {
    let prefix = format!("{key} = [");
    let start = text
        .find(&format!("\n{prefix}"))
        .map(|i| i + 1)
        .ok_or_else(|| format!("{}: `{key} = [...]` not found", file.display()))?;
    let close = text[start..]
        .find(']')
        .map(|i| start + i)
        .ok_or_else(|| format!("{}: `{key}` is not a one-line array", file.display()))?;
    let inner = text[start + prefix.len()..close].trim();
    let sep = if inner.is_empty() { "" } else { ", " };
    Ok(format!(
        "{}{prefix}{inner}{sep}\"{item}\"{}",
        &text[..start],
        &text[close..]
    ))
}

/// The registry line: the facade's dependency, features and `vendors!` line.
fn register(root: &Path, n: &Names) -> Result<()> {
    let manifest = root.join("crates/agentstatus/Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let text = insert_in_block(
        &text,
        "# registry: one optional dependency per vendor",
        &format!(
            "{} = {{ path = \"../{}\", version = \"{}\", optional = true, default-features = false, features = [\"presence\"] }}",
            n.krate,
            n.name,
            env!("CARGO_PKG_VERSION")
        ),
        &manifest,
    )?;
    let text = insert_in_block(
        &text,
        "# registry: one feature per vendor",
        &format!("{} = [\"dep:{}\"]", n.name, n.krate),
        &manifest,
    )?;
    let text = append_to_array(&text, "default", &n.name, &manifest)?;
    let text = append_to_array(&text, "fakes", &format!("{}?/fake", n.krate), &manifest)?;
    std::fs::write(&manifest, text).map_err(|e| format!("{}: {e}", manifest.display()))?;

    let lib = root.join("crates/agentstatus/src/lib.rs");
    let text = std::fs::read_to_string(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    let line = format!(
        "    \"{}\" {} = {};",
        n.name,
        n.name.replace('-', "_"),
        n.ident
    );
    let text = insert_in_block(&text, "vendors! {\n", &line, &lib)?;
    // the block's last line is the closing brace: keep it last
    let text = text.replace(&format!("}}\n{line}\n"), &format!("{line}\n}}\n"));
    std::fs::write(&lib, text).map_err(|e| format!("{}: {e}", lib.display()))
}

/// Scaffold vendor `name` in the workspace at `root`. Returns the files written.
pub fn new_vendor(root: &Path, name: &str, title: Option<&str>) -> Result<Vec<PathBuf>> {
    check_name(name)?;
    let n = Names::new(name, title);
    let specs = root.join("specs").join(name);
    let krate = root.join("crates").join(name);
    for dir in [&specs, &krate] {
        if dir.exists() {
            return Err(format!(
                "{}: already exists; nothing was written",
                dir.display()
            ));
        }
    }
    let files: Vec<(PathBuf, &str)> = vec![
        (specs.join("sources.toml"), SOURCES),
        (specs.join("openapi.yaml"), OPENAPI),
        (specs.join("overlay.yaml"), OVERLAY),
        (specs.join("NOTES.md"), NOTES),
        (krate.join("Cargo.toml"), CARGO),
        (krate.join("src/lib.rs"), LIB),
        (krate.join("src/presence.rs"), PRESENCE),
        (krate.join("src/fake.rs"), FAKE),
        (krate.join(format!("examples/{name}.rs")), EXAMPLE),
        (krate.join("tests/golden.rs"), GOLDEN),
        (krate.join("tests/golden_full.rs"), GOLDEN_FULL),
        (krate.join("tests/wire.rs"), WIRE),
        (krate.join("tests/contract.rs"), CONTRACT),
        (krate.join("tests/golden/.gitkeep"), ""),
        (krate.join("generated/.gitkeep"), ""),
        (krate.join("CHANGELOG.md"), CHANGELOG),
    ];
    for (path, template) in &files {
        write_new(path, &n.fill(template))?;
    }
    let mut written: Vec<PathBuf> = files.into_iter().map(|(p, _)| p).collect();
    // the workspace's license files travel with the package (as in every crate of it)
    for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
        let link = krate.join(license);
        let target = Path::new("../..").join(license);
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, &link)
            .map_err(|e| format!("{}: cannot link: {e}", link.display()))?;
        #[cfg(not(unix))]
        std::fs::copy(root.join(license), &link)
            .map_err(|e| format!("{}: cannot copy: {e}", link.display()))?;
        written.push(link);
    }
    register(root, &n)?;
    written.push(root.join("crates/agentstatus/Cargo.toml"));
    written.push(root.join("crates/agentstatus/src/lib.rs"));
    Ok(written)
}

impl crate::flags::NewVendor {
    /// Scaffold the vendor in the workspace and say what was written and what comes next.
    pub fn run(self, ws: &crate::workspace::Workspace) -> crate::error::Result {
        let (root, name) = (&ws.root, &self.name);
        let files = new_vendor(root, name, self.title.as_deref())?;
        println!("scaffolded vendor {name} in {}:", root.display());
        for f in files {
            println!("  {}", f.strip_prefix(root).unwrap_or(&f).display());
        }
        println!(
            "next: specs/{name}/sources.toml and upstream/, `cargo xtask regen --vendor {name}`, specs/{name}/overlay.yaml with evidence in NOTES.md, `EXPECTORATE=overwrite cargo test -p agentstatus-{name} --test golden`, then the adapter, the fake and the wire tests until `cargo test -p agentstatus-{name} --features presence,fake` passes"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("chatwoot").is_ok());
        assert!(check_name("acme-desk2").is_ok());
        for bad in [
            "",
            "Acme",
            "1desk",
            "acme_desk",
            "acme-",
            "a--b",
            "acme desk",
            "../x",
            "cli",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(camel("acme-desk"), "AcmeDesk");
    }

    #[test]
    fn arrays_and_blocks() {
        let f = Path::new("f");
        let t = "[features]\ndefault = [\"a\"]\nfakes = []\n# registry: x\na = 1\n\nend\n";
        let t = append_to_array(t, "default", "b", f).unwrap();
        let t = append_to_array(&t, "fakes", "c?/fake", f).unwrap();
        let t = insert_in_block(&t, "# registry: x", "b = 2", f).unwrap();
        assert_eq!(
            t,
            "[features]\ndefault = [\"a\", \"b\"]\nfakes = [\"c?/fake\"]\n# registry: x\na = 1\nb = 2\n\nend\n"
        );
        assert!(append_to_array(&t, "nope", "x", f).is_err());
    }
}
