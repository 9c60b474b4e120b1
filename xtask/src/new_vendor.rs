//! `cargo xtask new-vendor <name>`: scaffold a vendor slice, so that the steps of adding one
//! cannot be wrong: `specs/<name>/` (sources, an empty document, an empty overlay, notes),
//! `crates/<name>/` (manifest, README, changelog, lib with the generated client, adapter, fake,
//! example, golden, wire and contract tests) and the registry lines in the `agentstatus` facade,
//! the registry: in `crates/agentstatus/Cargo.toml` its dependency (named after it: its
//! feature), its fake in `fakes` and its generator in `codegen` (which `crates/generate` turns
//! on in the workspace's builds); in `crates/agentstatus/src/lib.rs` its `vendors!` line. No
//! other shared file: the command, `agentstatus fake` (the fake's `SEEDER`) and
//! `crates/generate` find the vendor through the registry. The templates are short because the
//! toolkit has the rest: `agentstatus_presence::adapter!` and `Adapter` (the adapter type,
//! deadlines, errors; `adapter::unwritten` until it is written), `registry::Entry::new`,
//! `agentstatus_fakes::fake!` (the fake's server), `agentstatus_fakes::seed` (`Seeded`, and
//! `Seeder::unwritten` until it is written), `agentstatus_runtime::{generated_client,
//! golden_test}!`.
//!
//! The result builds at once; its contract test fails, and `agentstatus fake --vendor <name>`
//! refuses, until the adapter and the fake are written, and `cargo xtask check` / the
//! completeness test name what is still missing. The vendor is not a default feature of the
//! facade (the command does not ship it) until its adapter is done and a maintainer adds it to
//! `default`, the one shared line that step changes.

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
}

impl Names {
    fn new(name: &str, title: Option<&str>) -> Self {
        Self {
            name: name.to_string(),
            title: title.map_or_else(|| camel(name), str::to_string),
            krate: format!("agentstatus-{name}"),
            ident: format!("agentstatus_{}", name.replace('-', "_")),
            ty: camel(name),
        }
    }

    fn fill(&self, template: &str) -> String {
        template
            .replace("{{name}}", &self.name)
            .replace("{{title}}", &self.title)
            .replace("{{crate}}", &self.krate)
            .replace("{{ident}}", &self.ident)
            .replace("{{Type}}", &self.ty)
    }
}

const SOURCES: &str = r#"# Where each kept {{title}} operation is published: one [[source]] per document, copied byte for
# byte into upstream/ (see specs/libredesk/sources.toml); `cargo xtask regen --vendor {{name}}`
# writes openapi.yaml from them. Keys: name, full (the complete API), kind (openapi | docs-page |
# hand-written), url, pinned (the copy in upstream/), origin, operations ["GET /path", ...].
vendor = "{{name}}"
"#;

const OPENAPI: &str = r#"# Written by `cargo xtask regen --vendor {{name}}` from sources.toml; never edited by hand.
openapi: 3.0.3
info: { title: "{{title}} (no operations kept yet)", version: "0" }
paths: {}
"#;

const OVERLAY: &str = r#"# Corrections to {{title}}'s document, each citing its evidence in NOTES.md.
overlay: 1.0.0
info: { title: "{{title}} corrections", version: 1.0.0 }
actions: []
"#;

const NOTES: &str = r#"# {{title}}: what the published document gets wrong

Evidence for every overlay action and fake behaviour (repository, path, commit).

## Fake server behaviour
"#;

const CARGO: &str = r#"lints.rust.unexpected_cfgs = { level = "warn", check-cfg = ["cfg(agentstatus_codegen)"] }
[package]
name = "{{crate}}"
description = "Typed client for the {{title}} agent presence API, generated from the vendor's OpenAPI document."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
repository.workspace = true
homepage.workspace = true
keywords.workspace = true
categories.workspace = true
build = "../../build.rs"
metadata.agentstatus.vendor = "{{name}}"
metadata.docs.rs.features = ["full", "presence", "fake"]

[dependencies]
agentstatus-runtime.workspace = true
progenitor-client.workspace = true
reqwest.workspace = true
serde.workspace = true
serde_json.workspace = true
agentstatus-presence = { workspace = true, optional = true }
agentstatus-fakes = { workspace = true, optional = true }

[build-dependencies]
agentstatus-codegen = { workspace = true, optional = true }
toml = { workspace = true, optional = true }

[dev-dependencies]
agentstatus-fakes = { workspace = true, features = ["testing"] }
expectorate.workspace = true
tokio = { workspace = true, features = ["macros", "rt-multi-thread"] }
wiremock.workspace = true

[features]
default = ["rustls-ring"]
codegen = ["dep:agentstatus-codegen", "dep:toml"]
rustls-ring = ["agentstatus-runtime/rustls-ring"]
rustls-aws-lc = ["agentstatus-runtime/rustls-aws-lc"]
native-tls = ["agentstatus-runtime/native-tls"]
presence = ["dep:agentstatus-presence"]
fake = ["dep:agentstatus-fakes"]
full = ["codegen"]

[[test]]
name = "golden"
required-features = ["codegen"]
"#;

const README: &str = r#"# {{crate}}

Typed Rust client for the {{title}} agent presence API, generated with progenitor from
{{title}}'s OpenAPI document (`specs/{{name}}/`), its mistakes corrected in a reviewed overlay.
Part of [agentstatus](../../README.md). Features: `presence` (the adapter, `presence::{{Type}}Presence`),
`fake` (a fake server for tests), `full` (the complete API), and the TLS choice `rustls-ring`
(default), `rustls-aws-lc` or `native-tls`.
"#;

const LIB: &str = r#"//! Typed client for the {{title}} agent presence API, generated from `specs/{{name}}/`, and the
//! vendor's genuine quirks. Example (`examples/{{name}}.rs`):
#![doc = concat!("```no_run\n", include_str!("../examples/{{name}}.rs"), "```")]

agentstatus_runtime::generated_client!(presence, fake);
"#;

const EXAMPLE: &str = r#"use {{ident}}::{Client, ClientInfo};

fn main() {
    let client = Client::new("https://{{name}}.example.com", Default::default());
    println!("{{title}} client for {}", client.baseurl());
}
"#;

const PRESENCE: &str = r#"//! {{title}}: the presence adapter. Mapping (evidence in specs/{{name}}/NOTES.md):
//!
//! | vendor state (read) | Availability | set sends |
//! |---|---|---|

use agentstatus_presence::adapter::{Adapter, unwritten};
use agentstatus_presence::{AgentPresence, Availability, ListFilter, PresenceError, Vendor};
use agentstatus_presence::registry::Entry;

agentstatus_presence::adapter! {
    /// [`Presence`](agentstatus_presence::Presence) over the {{title}} client.
    pub struct {{Type}}Presence(client: crate::Client);
}

/// Each operation calls the client with `agentstatus_presence::adapter::call`. When the contract
/// test passes, add `{{name}}` to `default` in crates/agentstatus/Cargo.toml.
#[agentstatus_presence::async_trait]
impl Adapter for {{Type}}Presence {
    const VENDOR: Vendor = Vendor::new("{{name}}");
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

{{entry}}"#;

/// The registry entry when the document's security is not known yet (no `--spec`).
const ENTRY: &str = r#"/// `[{{name}}]` with `base_url`; after `regen`, build the client with its generated
/// `Client::with_<scheme>` and give the credentials `Setting`s (`with_settings`).
pub fn entry() -> Entry {
    Entry::new("{{name}}", "{{title}}", |s| {
        let config = s.apply(crate::ClientConfig::default());
        let (base, http, inner) = agentstatus_runtime::connect(&s.base_url, vec![], &config)?;
        let client = crate::Client::new_with_client(&base, http, inner);
        Ok(Box::new({{Type}}Presence::new(client)))
    })
}
"#;

/// The registry entry with the credentials of the document's first authenticated constructor.
const ENTRY_WITH_CREDENTIALS: &str = r#"/// The credentials `Client::{{constructor}}` takes (security scheme {{schemes}} of the document).
const SETTINGS: &[agentstatus_presence::registry::Setting] = {
    use agentstatus_presence::registry::Setting;
    &[
{{settings}}    ]
};

/// `[{{name}}]` with `base_url` and the credentials of `Client::{{constructor}}`.
pub fn entry() -> Entry {
    Entry::new("{{name}}", "{{title}}", |s| {
        let config = s.apply(crate::ClientConfig::default());
{{connect}}        Ok(Box::new({{Type}}Presence::new(client)))
    })
    .with_settings(SETTINGS)
}
"#;

/// What the scaffold takes from the vendor's document (`--spec`): its security, so the initial
/// `openapi.yaml` generates the authenticated constructors and the registry entry's settings are
/// their credentials, whatever the scheme (an API key, Basic, Bearer, OAuth 2.0 client
/// credentials).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FromSpec {
    /// `security: ...` and `components: {securitySchemes: ...}` lines for the initial document.
    pub document: String,
    /// The registry entry (the `ENTRY_WITH_CREDENTIALS` template's fields filled), or `None`
    /// when the document has no requirement that gets a constructor.
    pub entry: Option<String>,
}

/// The environment variable of a vendor's secret setting: `acme-desk`, `api_token` ->
/// `ACME_DESK_API_TOKEN`.
fn env_name(vendor: &str, key: &str) -> String {
    format!("{vendor}_{key}")
        .replace('-', "_")
        .to_ascii_uppercase()
}

/// Read the security of the document at `spec` (OpenAPI 3) for vendor `vendor`.
pub fn from_spec(spec: &Path, vendor: &str) -> Result<FromSpec> {
    use agentstatus_codegen::auth::{self, Credential};
    let doc = agentstatus_codegen::load_file(spec).map_err(|e| e.to_string())?;
    if doc.get("openapi").is_none() {
        return Err(format!(
            "{}: not an OpenAPI 3 document (no `openapi` key); give the document regen will write, or `cargo xtask export` of it",
            spec.display()
        ));
    }
    let plan = auth::plan(&doc, spec).map_err(|e| e.to_string())?;
    let schemes = doc
        .pointer("/components/securitySchemes")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    // the requirements the constructors come from, as the document's own (an empty document
    // has no operations: its root `security` is what the generator reads)
    let mut security: Vec<serde_json::Value> = Vec::new();
    for c in &plan.constructors {
        let req: serde_json::Map<String, serde_json::Value> = c
            .schemes
            .iter()
            .map(|s| {
                let scopes = match &s.credential {
                    Credential::OAuth2ClientCredentials { scopes, .. } => serde_json::json!(scopes),
                    _ => serde_json::json!([]),
                };
                (s.scheme.clone(), scopes)
            })
            .collect();
        security.push(serde_json::Value::Object(req));
    }
    let document = format!(
        "# the document's security (from {}), until regen writes the whole document
security: {}
components: {{ securitySchemes: {} }}
",
        spec.file_name().unwrap_or_default().to_string_lossy(),
        serde_json::Value::Array(security),
        schemes
    );
    let Some(c) = plan.constructors.first() else {
        return Ok(FromSpec {
            document,
            entry: None,
        });
    };
    let mut settings = String::new();
    let mut connect = String::new();
    let mut args: Vec<String> = Vec::new();
    let mut oauth = false;
    let mut setting = |line: String| {
        settings.push_str(&format!(
            "        {line},
"
        ))
    };
    for s in &c.schemes {
        let what = format!("security scheme `{}`", s.scheme);
        match &s.credential {
            Credential::ApiKeyHeader { param, header } => {
                setting(format!(
                    "Setting::secret({param:?}, {:?}, {:?})",
                    env_name(vendor, param),
                    format!("the `{header}` header ({what})")
                ));
                args.push(format!("s.secret({param:?})?"));
            }
            Credential::Basic { username, password } => {
                setting(format!(
                    "Setting::text({username:?}, {:?}, None)",
                    format!("the Basic user name ({what})")
                ));
                setting(format!(
                    "Setting::secret({password:?}, {:?}, {:?})",
                    env_name(vendor, password),
                    format!("the Basic password ({what})")
                ));
                args.push(format!("s.text({username:?})?"));
                args.push(format!("s.secret({password:?})?"));
            }
            Credential::Bearer { param } => {
                setting(format!(
                    "Setting::secret({param:?}, {:?}, {:?})",
                    env_name(vendor, param),
                    format!("the Bearer token ({what})")
                ));
                args.push(format!("s.secret({param:?})?"));
            }
            Credential::OAuth2ClientCredentials {
                client_id,
                client_secret,
                token_url,
                scopes,
            } => {
                setting(format!(
                    "Setting::text({client_id:?}, {:?}, None)",
                    format!("the OAuth 2.0 client id ({what})")
                ));
                setting(format!(
                    "Setting::secret({client_secret:?}, {:?}, {:?})",
                    env_name(vendor, client_secret),
                    format!("the OAuth 2.0 client secret ({what})")
                ));
                setting(format!(
                    "Setting::text(\"token_url\", {:?}, Some({token_url:?}))",
                    "the OAuth 2.0 token URL (the document's by default; fill in any `{variable}` in it)"
                ));
                setting(format!(
                    "Setting::text(\"scopes\", {:?}, Some({:?}))",
                    "the OAuth 2.0 scopes asked for, space-separated",
                    scopes.join(" ")
                ));
                let helper = format!(
                    "{}_credentials",
                    auth::snake_case(&s.scheme).unwrap_or_default()
                );
                connect.push_str(&format!(
                    "        let credentials = crate::Client::{helper}(s.text({client_id:?})?, s.secret({client_secret:?})?)\n            .with_token_url(s.text(\"token_url\")?)\n            .with_scopes(s.text(\"scopes\")?.split_whitespace());\n"
                ));
                oauth = true;
            }
        }
    }
    let constructor = if oauth {
        args.insert(0, "credentials".into());
        format!("{}_credentials", c.name)
    } else {
        c.name.clone()
    };
    connect.push_str(&format!(
        "        let client = crate::Client::{constructor}(&s.base_url, {}, &config)?;\n",
        args.join(", ")
    ));
    let schemes: Vec<String> = c
        .schemes
        .iter()
        .map(|s| format!("`{}`", s.scheme))
        .collect();
    let entry = ENTRY_WITH_CREDENTIALS
        .replace("{{constructor}}", &constructor)
        .replace("{{schemes}}", &schemes.join(" + "))
        .replace("{{settings}}", &settings)
        .replace("{{connect}}", &connect);
    Ok(FromSpec {
        document,
        entry: Some(entry),
    })
}

const FAKE: &str = r#"//! A fake {{title}} server, behaving like the real one (specs/{{name}}/NOTES.md).

use agentstatus_fakes::{Fake, axum::Router, seed::Seeder};

/// The vendor's state, shared by the routes (`State<agentstatus_fakes::Shared<Inner>>`).
#[derive(Debug, Default)]
struct Inner {}

agentstatus_fakes::fake! {
    /// A running fake {{title}} server on 127.0.0.1 (`url()`, `faults()`, `state_changes()`).
    pub struct {{Type}}(Inner);
}

impl {{Type}} {
    /// Start the fake (no routes yet: add the vendor's, answering as the real server does).
    pub async fn start() -> std::io::Result<Self> {
        Fake::start(Inner::default(), Router::new()).await.map(Self)
    }
}

/// For `agentstatus fake`: `Seeder::of::<{{Type}}>()` once it implements `seed::Seeded`.
pub const SEEDER: Seeder = Seeder::unwritten();
"#;

/// `tests/golden.rs` (the slice, feature `codegen`) and `tests/golden_full.rs` (the surface of
/// the complete API, feature `full`): `{{test}}`, `{{feature}}` and `{{what}}` are theirs.
const GOLDEN: &str = r#"//! After an intended change: `EXPECTORATE=overwrite cargo test -p {{crate}} --features {{feature}} --test {{test}}`.
agentstatus_runtime::golden_test!({{what}});
"#;

const WIRE: &str = r#"//! One test per kept operation: a local server checks what the client sends (NOTES.md).
use {{ident}}::{Client, ClientInfo};

#[tokio::test]
async fn the_client_talks_to_the_configured_base_url() {
    let server = wiremock::MockServer::start().await;
    let client = Client::new(&server.uri(), Default::default());
    assert_eq!(client.baseurl(), server.uri());
}
"#;

const CONTRACT: &str = r#"#![cfg(all(feature = "presence", feature = "fake"))]
//! The presence contract against the fake, started and connected as `agentstatus fake` does.
use {{ident}}::{fake::SEEDER, presence::entry};

#[tokio::test]
async fn meets_the_presence_contract() {
    agentstatus_fakes::seed::contract(entry(), SEEDER).await;
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

/// The registry lines, in the facade (the only shared files a vendor touches): its dependency
/// named after it (the optional dependency is its cargo feature), its fake in `fakes`, its
/// generator in `codegen`, and its `vendors!` line. Not in `default`: the command ships a vendor
/// once its adapter is written.
fn register(root: &Path, n: &Names) -> Result<()> {
    let manifest = root.join("crates/agentstatus/Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let text = insert_in_block(
        &text,
        "# registry: one optional dependency per vendor",
        &format!(
            "{} = {{ package = \"{}\", path = \"../{}\", version = \"{}\", optional = true, default-features = false, features = [\"presence\"] }}",
            n.name,
            n.krate,
            n.name,
            env!("CARGO_PKG_VERSION")
        ),
        &manifest,
    )?;
    let text = append_to_array(&text, "fakes", &format!("{}?/fake", n.name), &manifest)?;
    // the workspace's own builds generate the client from specs/ (crates/generate turns it on)
    let text = append_to_array(&text, "codegen", &format!("{}/codegen", n.name), &manifest)?;
    std::fs::write(&manifest, text).map_err(|e| format!("{}: {e}", manifest.display()))?;

    let lib = root.join("crates/agentstatus/src/lib.rs");
    let text = std::fs::read_to_string(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    let line = format!("    \"{}\" {};", n.name, n.name.replace('-', "_"));
    let text = insert_in_block(&text, "vendors! {\n", &line, &lib)?;
    // the block's last line is the closing brace: keep it last
    let text = text.replace(&format!("}}\n{line}\n"), &format!("{line}\n}}\n"));
    std::fs::write(&lib, text).map_err(|e| format!("{}: {e}", lib.display()))
}

/// Scaffold vendor `name` in the workspace at `root`. Returns the files written.
pub fn new_vendor(
    root: &Path,
    name: &str,
    title: Option<&str>,
    spec: Option<&Path>,
) -> Result<Vec<PathBuf>> {
    check_name(name)?;
    let n = Names::new(name, title);
    let from_spec = match spec {
        Some(spec) => from_spec(spec, name)?,
        None => FromSpec::default(),
    };
    let presence = PRESENCE.replace("{{entry}}", from_spec.entry.as_deref().unwrap_or(ENTRY));
    let openapi = format!("{OPENAPI}{}", from_spec.document);
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
    let golden = |test: &str, feature: &str, what: &str| {
        GOLDEN
            .replace("{{test}}", test)
            .replace("{{feature}}", feature)
            .replace("{{what}}", what)
    };
    let (golden, golden_full) = (
        golden("golden", "codegen", "client"),
        golden("golden_full", "full", "full_surface"),
    );
    let files: Vec<(PathBuf, &str)> = vec![
        (specs.join("sources.toml"), SOURCES),
        (specs.join("openapi.yaml"), &openapi),
        (specs.join("overlay.yaml"), OVERLAY),
        (specs.join("NOTES.md"), NOTES),
        (krate.join("Cargo.toml"), CARGO),
        (krate.join("README.md"), README),
        (krate.join("src/lib.rs"), LIB),
        (krate.join("src/presence.rs"), &presence),
        (krate.join("src/fake.rs"), FAKE),
        (krate.join(format!("examples/{name}.rs")), EXAMPLE),
        (krate.join("tests/golden.rs"), &golden),
        (krate.join("tests/golden_full.rs"), &golden_full),
        (krate.join("tests/wire.rs"), WIRE),
        (krate.join("tests/contract.rs"), CONTRACT),
        (krate.join("tests/golden/.gitkeep"), ""),
        (krate.join("generated/.gitkeep"), ""),
    ];
    for (path, template) in &files {
        write_new(path, &n.fill(template))?;
    }
    let mut written: Vec<PathBuf> = files.into_iter().map(|(p, _)| p).collect();
    // the changelog as `cargo xtask update` writes it
    let changelog = krate.join("CHANGELOG.md");
    let added = format!(
        "The {} client, its presence adapter and its fake server.",
        n.title
    );
    crate::update::write_changelog(&changelog, &[("Added", vec![added])])
        .map_err(|e| e.to_string())?;
    written.push(changelog);
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
    if from_spec.entry.is_some() {
        // the entry written from the document has lines of any length: formatted as `cargo fmt`
        // would (the scaffold compiles either way; a missing rustfmt only leaves it unformatted)
        let presence = krate.join("src/presence.rs");
        match std::process::Command::new("rustfmt")
            .args(["--edition", "2024"])
            .arg(&presence)
            .status()
        {
            Ok(s) if s.success() => {}
            other => eprintln!(
                "note: {} is not formatted (rustfmt: {other:?}); run `cargo fmt`",
                presence.display()
            ),
        }
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
        let files = new_vendor(root, name, self.title.as_deref(), self.spec.as_deref())?;
        println!("scaffolded vendor {name} in {}:", root.display());
        for f in files {
            println!("  {}", f.strip_prefix(root).unwrap_or(&f).display());
        }
        println!(
            "next: specs/{name}/sources.toml and upstream/, `cargo xtask regen --vendor {name}`, specs/{name}/overlay.yaml with evidence in NOTES.md, `EXPECTORATE=overwrite cargo test -p agentstatus-{name} --features codegen --test golden` (the first build of the new crate takes minutes), then the credentials' settings (from the generated `Client::with_<scheme>`), the adapter, the fake and the wire tests until `cargo test -p agentstatus-{name} --features presence,fake` passes, and the fake's `Seeded` (its `SEEDER`, for `agentstatus fake`), and specs/{name}/mock.toml (the settings and an agent for `cargo xtask mock`, which CI runs against Prism); then add `{name}` to `default` in crates/agentstatus/Cargo.toml (the only shared file it touches) and a row to crates/README.md and the README"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--spec`: the document (written to a temporary file), what the scaffold takes from it,
    /// and the constructors the initial `openapi.yaml` generates (the same as the document's).
    fn scaffold_from(spec: &str) -> (FromSpec, Vec<String>) {
        let scratch = tempfile::Builder::new()
            .prefix("new-vendor-spec-")
            .tempdir()
            .unwrap();
        let dir = scratch.path().to_path_buf();
        let path = dir.join("openapi.yaml");
        std::fs::write(&path, spec).unwrap();
        let got = from_spec(&path, "acme-desk").unwrap();
        let initial = Names::new("acme-desk", None).fill(&format!("{OPENAPI}{}", got.document));
        std::fs::write(&path, &initial).unwrap();
        let doc = agentstatus_codegen::load_file(&path).unwrap();
        let plan = agentstatus_codegen::auth::plan(&doc, &path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        (got, plan.constructors.into_iter().map(|c| c.name).collect())
    }

    const OPS: &str = "paths:\n  /a:\n    get:\n      responses: {\"200\": {description: ok}}\n";

    #[test]
    fn the_entry_takes_the_credentials_of_the_documents_own_scheme() {
        // an API key pair in headers: two secrets, no bearer token
        let (got, ctors) = scaffold_from(&format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\nsecurity: [{{authToken: [], userId: []}}]\ncomponents:\n  securitySchemes:\n    authToken: {{type: apiKey, in: header, name: X-Auth-Token}}\n    userId: {{type: apiKey, in: header, name: X-User-Id}}\n{OPS}"
        ));
        assert_eq!(ctors, ["with_auth_token_and_user_id"]);
        let entry = got.entry.unwrap();
        assert!(entry.contains(r#"Setting::secret("auth_token", "ACME_DESK_AUTH_TOKEN", "the `X-Auth-Token` header (security scheme `authToken`)")"#), "{entry}");
        assert!(entry.contains(r#"crate::Client::with_auth_token_and_user_id(&s.base_url, s.secret("auth_token")?, s.secret("user_id")?, &config)?"#), "{entry}");
        assert!(!entry.to_lowercase().contains("bearer"), "{entry}");

        // HTTP Basic: a user name and a password
        let (got, ctors) = scaffold_from(&format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\nsecurity: [{{basicAuth: []}}]\ncomponents:\n  securitySchemes:\n    basicAuth: {{type: http, scheme: basic}}\n{OPS}"
        ));
        assert_eq!(ctors, ["with_basic_auth"]);
        let entry = got.entry.unwrap();
        assert!(entry.contains(r#"Setting::text("username""#), "{entry}");
        assert!(
            entry.contains(r#"Setting::secret("password", "ACME_DESK_PASSWORD""#),
            "{entry}"
        );
        assert!(entry.contains(r#"crate::Client::with_basic_auth(&s.base_url, s.text("username")?, s.secret("password")?, &config)?"#), "{entry}");

        // OAuth 2.0 client credentials: id, secret, token URL and scopes with the document's defaults
        let (got, ctors) = scaffold_from(&format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\nsecurity: [{{azureAd: [Presence.Read.All]}}]\ncomponents:\n  securitySchemes:\n    azureAd: {{type: oauth2, flows: {{clientCredentials: {{tokenUrl: 'https://login.example.com/{{tenant}}/token', scopes: {{Presence.Read.All: r}}}}}}}}\n{OPS}"
        ));
        assert_eq!(ctors, ["with_azure_ad"]);
        let entry = got.entry.unwrap();
        for shows in [
            r#"Setting::text("client_id""#,
            r#"Setting::secret("client_secret", "ACME_DESK_CLIENT_SECRET""#,
            r#"Some("https://login.example.com/{tenant}/token")"#,
            r#"Some("Presence.Read.All")"#,
            r#"crate::Client::azure_ad_credentials(s.text("client_id")?, s.secret("client_secret")?)"#,
            r#"crate::Client::with_azure_ad_credentials(&s.base_url, credentials, &config)?"#,
        ] {
            assert!(entry.contains(shows), "no {shows} in\n{entry}");
        }
    }

    #[test]
    fn a_document_without_a_usable_scheme_keeps_the_plain_entry() {
        let (got, ctors) = scaffold_from(&format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\nsecurity: [{{k: []}}]\ncomponents:\n  securitySchemes:\n    k: {{type: apiKey, in: query, name: key}}\n{OPS}"
        ));
        assert!(ctors.is_empty());
        assert_eq!(got.entry, None);
        let scratch = tempfile::Builder::new()
            .prefix("new-vendor-swagger-")
            .tempdir()
            .unwrap();
        let dir = scratch.path().to_path_buf();
        let path = dir.join("swagger.yaml");
        std::fs::write(
            &path,
            "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n",
        )
        .unwrap();
        let e = from_spec(&path, "acme-desk").unwrap_err();
        assert!(e.contains("not an OpenAPI 3 document"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
