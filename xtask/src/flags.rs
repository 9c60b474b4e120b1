//! The command line: every verb's arguments, in one place. The doc comments are clap's `--help`
//! text, shown verbatim. Each verb's module has its `run` (`impl flags::Regen { fn run }` in
//! `regen.rs`, ...).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "agentstatus workspace automation")]
pub struct Cli {
    /// The specs folder (default: specs/ of the workspace the current directory is in).
    #[arg(long, global = true, value_name = "DIR")]
    pub specs: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Rebuild specs/<vendor>/openapi.yaml from the pinned copies (with --live: download them
    /// first and update the pinned copies).
    Regen(Regen),
    /// Check for drift: is openapi.yaml reproducible, have the vendors changed their documents
    /// (--live or --sources), do the overlay actions still apply? Writes nothing.
    Check(Check),
    /// The vendor changed its documents: pin the current ones, regenerate openapi.yaml, rebuild
    /// the vendor crate, rewrite its golden files, run its tests and add a changelog entry with
    /// the semver bump the semantic diff implies. Only vendors whose documents changed.
    Update(Update),
    /// Run the benchmarks (release build) and rewrite BENCHMARKS.md.
    Bench(Bench),
    /// `cargo vendor` smoke test: a scratch service depending on presence + Rocket.Chat by git
    /// (a commit of the work tree), vendored, built offline from the vendored sources only, run.
    VendoredBuild(VendoredBuild),
    /// Package every publishable crate as it leaves the repository: vendor crates carry the
    /// generated code (checked equal to what the workspace's build script generates) instead of
    /// the build script; every package is verified by building it alone. The `.crate` files are
    /// written to <target>/package-verify/package/.
    Package(Package),
    /// Scaffold a new vendor: specs/<NAME>/, crates/<NAME>/ and its registry line in the
    /// agentstatus facade. The result builds; its contract test fails until the adapter is written.
    NewVendor(NewVendor),
    /// Print (or write) a vendor's effective document: after normalisation, the overlay and the
    /// fixes, what the generator sees. For mock servers (Prism), linters, documentation tools
    /// and other generators.
    Export(Export),
    /// Every document of corpus/corpus.toml (real-world OpenAPI documents) through the whole
    /// pipeline, compiled: prints the table of operations generated, compiled and skipped (with
    /// reasons) and the time each step took. Exit 0 when every document compiles, 1 when one
    /// does not, 2 when the corpus cannot be run.
    Corpus(Corpus),
    /// Serve each vendor's exported presence slice with Prism (tools/openapi, `npm ci --prefix
    /// tools/openapi` first) and run `agentstatus get` and `list` against it: what the mock
    /// answers from the document must decode. Settings per vendor: specs/<vendor>/mock.toml.
    Mock(Mock),
    /// Any OpenAPI 3.0/3.1 document (JSON or YAML, `.gz` accepted; no overlay) through the whole
    /// pipeline into a standalone crate, compiled: prints what was generated, skipped (and why)
    /// and compiled. Exit 0 when the crate compiles, 1 when it does not, 2 when the document
    /// cannot be read.
    Try(Try),
    /// Print the codegen's passes, in the order they run, with what each does (ARCHITECTURE.md's
    /// list).
    Passes(Passes),
    /// Generate each vendor's complete API (the crates' `full` feature), compile it, and print the
    /// coverage table: operations in the upstream document, generated, compiled, skipped (with
    /// reasons).
    Coverage(Coverage),
}

#[derive(clap::Args)]
pub struct LiveArgs {
    /// Download the vendors' current documents from their URLs (in sources.toml).
    #[arg(long)]
    pub live: bool,
    /// With --live: download from MIRROR/<vendor>/<file name> instead of each source's URL.
    #[arg(long, requires = "live", value_name = "URL")]
    pub mirror: Option<String>,
    /// With --live: seconds before a download is abandoned (one retry follows).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
}

#[derive(clap::Args)]
pub struct Regen {
    /// Only this vendor (a folder name under specs/).
    #[arg(long)]
    pub vendor: Option<String>,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(clap::Args)]
pub struct Check {
    /// Only this vendor (a folder name under specs/).
    #[arg(long)]
    pub vendor: Option<String>,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Compare with the documents in DIR/<vendor>/<file name> instead of downloading.
    #[arg(long, value_name = "DIR", conflicts_with = "live")]
    pub sources: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// When to exit 1: on any drift, or only on what breaks the vendor crate's users or
    /// build (a breaking finding, a conflict between sources, an overlay action that
    /// matches nothing).
    #[arg(long, value_enum, default_value_t = FailOn::Drift)]
    pub fail_on: FailOn,
    /// Which layer `--fail-on` judges: what reaches the generated client (the effective
    /// documents: normalised, the overlay applied), or what the vendor changed in its raw
    /// documents. Both are reported either way.
    #[arg(long, value_enum, default_value_t = Layer::Client)]
    pub layer: Layer,
    /// Which findings `--fail-on` judges: the kept operations (`slice`), the rest of the
    /// `full = true` sources' complete API (`full`), or both. All are reported either way.
    #[arg(long, value_enum, default_value_t = Scope::All)]
    pub scope: Scope,
    /// Also list every change the normaliser makes (vendor, JSON pointer, what and why); in
    /// the JSON report as each vendor's `explain`.
    #[arg(long)]
    pub explain: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Layer {
    /// What reaches the generated client.
    Client,
    /// What the vendor changed in its documents.
    Raw,
}

impl From<Layer> for agentstatus_drift::Layer {
    fn from(l: Layer) -> Self {
        match l {
            Layer::Client => Self::Client,
            Layer::Raw => Self::Raw,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Scope {
    /// The kept operations only.
    Slice,
    /// The rest of the `full = true` sources' complete API only.
    Full,
    /// Both.
    All,
}

impl From<Scope> for agentstatus_drift::Scope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::Slice => Self::Slice,
            Scope::Full => Self::Full,
            Scope::All => Self::All,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// For a pull-request body or a job summary.
    Markdown,
    /// GitHub Actions annotations: one per finding, on the vendor document's line and column.
    Github,
}

impl From<Format> for agentstatus_drift::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Text => Self::Text,
            Format::Json => Self::Json,
            Format::Markdown => Self::Markdown,
            Format::Github => Self::Github,
        }
    }
}

/// When `check` exits 1.
#[derive(Clone, Copy, ValueEnum)]
pub enum FailOn {
    /// Any drift: a finding of any kind, an overlay action that no longer applies, a committed
    /// openapi.yaml regen does not reproduce.
    Drift,
    /// Only what breaks the vendor crate's users or its build: a breaking finding, a conflict
    /// between sources, an overlay action that matches nothing.
    Breaking,
}

impl From<FailOn> for agentstatus_drift::FailOn {
    fn from(f: FailOn) -> Self {
        match f {
            FailOn::Drift => Self::Drift,
            FailOn::Breaking => Self::Breaking,
        }
    }
}

#[derive(clap::Args)]
pub struct Update {
    /// Only this vendor (a folder name under specs/).
    #[arg(long)]
    pub vendor: Option<String>,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Take the current documents from DIR/<vendor>/<file name>.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "live",
        required_unless_present = "live"
    )]
    pub sources: Option<PathBuf>,
    /// Rewrite golden files and the changelog but do not run the crate's tests.
    #[arg(long)]
    pub no_test: bool,
    /// Also confirm the bump with cargo-semver-checks (installed separately: it takes
    /// ~10-20 min to build), the generated crate at git HEAD as the baseline.
    #[arg(long)]
    pub semver_checks: bool,
}

#[derive(clap::Args)]
pub struct Bench {
    /// Only the cold builds (a new service, the README's first command): rewrite their
    /// section of BENCHMARKS.md.
    #[arg(long)]
    pub cold: bool,
    /// Only codegen at scale (`try --no-compile` on documents of 6,250 to 50,000
    /// operations): rewrite its section of BENCHMARKS.md.
    #[arg(long, conflicts_with = "cold")]
    pub scale: bool,
    /// Only the two-document drift comparison: `agentstatus-drift` (release) on each
    /// consecutive pair of these versions of one document (oldest first), beside optic
    /// (`--optic`); rewrites its section of BENCHMARKS.md.
    #[arg(long, value_name = "FILE", num_args = 2.., conflicts_with_all = ["cold", "scale"])]
    pub drift: Vec<PathBuf>,
    /// The optic CLI to compare with (`--drift`): default `tools/optic/node_modules/.bin/optic`
    /// (`npm ci --prefix tools/optic`), skipped when absent.
    #[arg(long, value_name = "BIN", requires = "drift")]
    pub optic: Option<PathBuf>,
    /// Only sync (lag, requests per interval, 10,000 people converging at the rate limit,
    /// memory; about 5 minutes): rewrite its section of BENCHMARKS.md.
    #[arg(long, conflicts_with_all = ["cold", "scale", "drift"])]
    pub sync: bool,
    /// Only codegen of the corpus's small documents against their peer (pachca), per operation
    /// and per schema the operations reach, in CPU time, and Stripe's: rewrite its section of
    /// BENCHMARKS.md.
    #[arg(long, conflicts_with_all = ["cold", "scale", "drift", "sync"])]
    pub small: bool,
}

#[derive(clap::Args)]
pub struct VendoredBuild {}

#[derive(clap::Args)]
pub struct Package {
    /// Where the repository is staged (default: <target>/package-stage).
    #[arg(long, value_name = "DIR")]
    pub stage: Option<PathBuf>,
    /// Package without building each package (faster; checks the contents only).
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(clap::Args)]
pub struct NewVendor {
    /// The vendor's name: lowercase letters, digits and dashes (`acme-desk`).
    pub name: String,
    /// How people write it (default: from the name, `AcmeDesk`).
    #[arg(long)]
    pub title: Option<String>,
    /// The vendor's OpenAPI 3 document: its security schemes go into the initial
    /// `openapi.yaml`, and the registry entry's settings are the credentials of its first
    /// authenticated constructor (an API key, Basic, Bearer or OAuth 2.0 client credentials).
    #[arg(long)]
    pub spec: Option<std::path::PathBuf>,
}

#[derive(clap::Args)]
pub struct Export {
    /// The vendor (a folder name under specs/).
    pub vendor: String,
    /// The complete API (the crate's `full` feature) instead of the presence slice.
    #[arg(long)]
    pub full: bool,
    /// Write to FILE (JSON when it ends in .json, else YAML) instead of stdout (YAML).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct Corpus {
    /// Only these documents (names in corpus.toml, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub only: Option<Vec<String>>,
    /// Write the table into corpus/README.md (between the corpus markers).
    #[arg(long)]
    pub write: bool,
}

#[derive(clap::Args)]
pub struct Mock {
    /// Only this vendor.
    #[arg(long)]
    pub vendor: Option<String>,
}

#[derive(clap::Args)]
pub struct Try {
    /// The OpenAPI document.
    pub file: PathBuf,
    /// Where the crate is written (default: <target>/compile-gate/try/try-<name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Generate and write the crate, but do not compile it (exit 0 when it generates).
    #[arg(long)]
    pub no_compile: bool,
}

#[derive(clap::Args)]
pub struct Passes {
    /// Write the table into ARCHITECTURE.md (between the passes markers) instead of printing it.
    #[arg(long)]
    pub write_readme: bool,
}

#[derive(clap::Args)]
pub struct Coverage {
    #[arg(long)]
    pub vendor: Option<String>,
    /// Write the table into README.md (between the coverage markers) instead of printing it.
    #[arg(long)]
    pub write_readme: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
