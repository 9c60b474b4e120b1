//! `cargo xtask <verb>`: the workspace's own automation, in plain Rust.
//!
//! - `regen [--vendor V] [--live]`: rebuild `specs/<vendor>/openapi.yaml` from the sources.
//! - `check [--vendor V] [--live | --sources DIR] [--format text|json|markdown|github]
//!   [--fail-on drift|breaking]`: drift check, exit code 0 no drift, 1 drift found, 2 could not
//!   check.
//! - `update [--vendor V] [--live | --sources DIR]`: pin the vendors' current documents,
//!   regenerate, rebuild, rewrite golden files, test, write the changelog entry.
//!
//! The workspace is the one the current directory is in (`--specs` names another specs folder).

// The doc comments of the arguments are clap's `--help` text, shown verbatim: `<vendor>` there is
// a placeholder, not HTML.
#![allow(rustdoc::invalid_html_tags)]

mod bench;
mod check;
mod corpus;
mod coverage;
mod export;
mod fetch;
mod gate;
mod mock;
mod new_vendor;
mod package;
mod provenance;
mod trial;
mod update;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use agentstatus_codegen::sources::Sources;
use agentstatus_codegen::{Error, ErrorKind, Location, OPENAPI_FILE, SOURCES_FILE, regen};
use clap::{Parser, Subcommand, ValueEnum};

use fetch::Current;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "agentstatus workspace automation")]
struct Cli {
    /// The specs folder (default: specs/ of the workspace the current directory is in).
    #[arg(long, global = true, value_name = "DIR")]
    specs: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// When `check` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Any drift: a finding of any kind, an overlay action that no longer applies, a committed
    /// openapi.yaml regen does not reproduce.
    Drift,
    /// Only what breaks the vendor crate's users or its build: a breaking finding, a conflict
    /// between sources, an overlay action that matches nothing.
    Breaking,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    /// For a pull-request body or a job summary.
    Markdown,
    /// GitHub Actions annotations: one per finding, on the vendor document's line and column.
    Github,
}

#[derive(clap::Args)]
struct LiveArgs {
    /// Download the vendors' current documents from their URLs (in sources.toml).
    #[arg(long)]
    live: bool,
    /// With --live: download from MIRROR/<vendor>/<file name> instead of each source's URL.
    #[arg(long, requires = "live", value_name = "URL")]
    mirror: Option<String>,
    /// With --live: seconds before a download is abandoned (one retry follows).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    timeout: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Rebuild specs/<vendor>/openapi.yaml from the pinned copies (with --live: download them
    /// first and update the pinned copies).
    Regen {
        /// Only this vendor (a folder name under specs/).
        #[arg(long)]
        vendor: Option<String>,
        #[command(flatten)]
        live: LiveArgs,
    },
    /// Check for drift: is openapi.yaml reproducible, have the vendors changed their documents
    /// (--live or --sources), do the overlay actions still apply? Writes nothing.
    Check {
        /// Only this vendor (a folder name under specs/).
        #[arg(long)]
        vendor: Option<String>,
        #[command(flatten)]
        live: LiveArgs,
        /// Compare with the documents in DIR/<vendor>/<file name> instead of downloading.
        #[arg(long, value_name = "DIR", conflicts_with = "live")]
        sources: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// When to exit 1: on any drift, or only on what breaks the vendor crate's users or
        /// build (a breaking finding, a conflict between sources, an overlay action that
        /// matches nothing).
        #[arg(long, value_enum, default_value_t = FailOn::Drift)]
        fail_on: FailOn,
        /// Also list every change the normaliser makes (vendor, JSON pointer, what and why); in
        /// the JSON report as each vendor's `explain`.
        #[arg(long)]
        explain: bool,
    },
    /// The vendor changed its documents: pin the current ones, regenerate openapi.yaml, rebuild
    /// the vendor crate, rewrite its golden files, run its tests and add a changelog entry with
    /// the semver bump the semantic diff implies. Only vendors whose documents changed.
    Update {
        /// Only this vendor (a folder name under specs/).
        #[arg(long)]
        vendor: Option<String>,
        #[command(flatten)]
        live: LiveArgs,
        /// Take the current documents from DIR/<vendor>/<file name>.
        #[arg(
            long,
            value_name = "DIR",
            conflicts_with = "live",
            required_unless_present = "live"
        )]
        sources: Option<PathBuf>,
        /// Rewrite golden files and the changelog but do not run the crate's tests.
        #[arg(long)]
        no_test: bool,
        /// Also confirm the bump with cargo-semver-checks (installed separately: it takes
        /// ~10-20 min to build), the generated crate at git HEAD as the baseline.
        #[arg(long)]
        semver_checks: bool,
    },
    /// Run the benchmarks (release build) and rewrite BENCHMARKS.md.
    Bench {
        /// Only the cold builds (a new service, the README's first command): rewrite their
        /// section of BENCHMARKS.md.
        #[arg(long)]
        cold: bool,
        /// Only codegen at scale (`try --no-compile` on documents of 6,250 to 50,000
        /// operations): rewrite its section of BENCHMARKS.md.
        #[arg(long, conflicts_with = "cold")]
        scale: bool,
    },
    /// `cargo vendor` smoke test: a scratch service depending on presence + Rocket.Chat by git
    /// (a commit of the work tree), vendored, built offline from the vendored sources only, run.
    VendoredBuild,
    /// Package every publishable crate as it leaves the repository: vendor crates carry the
    /// generated code (checked equal to what the workspace's build script generates) instead of
    /// the build script; every package is verified by building it alone. The `.crate` files are
    /// written to <target>/package-verify/package/.
    Package {
        /// Where the repository is staged (default: <target>/package-stage).
        #[arg(long, value_name = "DIR")]
        stage: Option<PathBuf>,
        /// Package without building each package (faster; checks the contents only).
        #[arg(long)]
        no_verify: bool,
    },
    /// Scaffold a new vendor: specs/<NAME>/, crates/<NAME>/ and its registry line in the
    /// agentstatus facade. The result builds; its contract test fails until the adapter is written.
    NewVendor {
        /// The vendor's name: lowercase letters, digits and dashes (`acme-desk`).
        name: String,
        /// How people write it (default: from the name, `AcmeDesk`).
        #[arg(long)]
        title: Option<String>,
    },
    /// Print (or write) a vendor's effective document: after normalisation, the overlay and the
    /// fixes, what the generator sees. For mock servers (Prism), linters, documentation tools
    /// and other generators.
    Export {
        /// The vendor (a folder name under specs/).
        vendor: String,
        /// The complete API (the crate's `full` feature) instead of the presence slice.
        #[arg(long)]
        full: bool,
        /// Write to FILE (JSON when it ends in .json, else YAML) instead of stdout (YAML).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Every document of corpus/corpus.toml (real-world OpenAPI documents) through the whole
    /// pipeline, compiled: prints the table of operations generated, compiled and skipped (with
    /// reasons) and the time each step took. Exit 0 when every document compiles, 1 when one
    /// does not, 2 when the corpus cannot be run.
    Corpus {
        /// Only these documents (names in corpus.toml, comma-separated).
        #[arg(long, value_delimiter = ',', value_name = "NAMES")]
        only: Option<Vec<String>>,
        /// Write the table into corpus/README.md (between the corpus markers).
        #[arg(long)]
        write: bool,
    },
    /// Serve each vendor's exported presence slice with Prism (tools/openapi, `npm ci --prefix
    /// tools/openapi` first) and run `agentstatus get` and `list` against it: what the mock
    /// answers from the document must decode. Settings per vendor: specs/<vendor>/mock.toml.
    Mock {
        /// Only this vendor.
        #[arg(long)]
        vendor: Option<String>,
    },
    /// Any OpenAPI 3.0/3.1 document (JSON or YAML, `.gz` accepted; no overlay) through the whole
    /// pipeline into a standalone crate, compiled: prints what was generated, skipped (and why)
    /// and compiled. Exit 0 when the crate compiles, 1 when it does not, 2 when the document
    /// cannot be read.
    Try {
        /// The OpenAPI document.
        file: PathBuf,
        /// Where the crate is written (default: <target>/compile-gate/try/try-<name>).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Generate and write the crate, but do not compile it (exit 0 when it generates).
        #[arg(long)]
        no_compile: bool,
    },
    /// Print the codegen's passes, in the order they run, with what each does (the README's list).
    Passes {
        /// Write the table into README.md (between the passes markers) instead of printing it.
        #[arg(long)]
        write_readme: bool,
    },
    /// Generate each vendor's complete API (the crates' `full` feature), compile it, and print the
    /// coverage table: operations in the upstream document, generated, compiled, skipped (with
    /// reasons).
    Coverage {
        #[arg(long)]
        vendor: Option<String>,
        /// Write the table into README.md (between the coverage markers) instead of printing it.
        #[arg(long)]
        write_readme: bool,
    },
}

/// Vendor folders under specs/, or just the one asked for.
fn vendors(specs: &Path, only: Option<&str>) -> Result<Vec<String>, Error> {
    if let Some(v) = only {
        if !specs.join(v).join(SOURCES_FILE).exists() {
            return Err(Error::new(
                ErrorKind::Io,
                specs.join(v),
                Location::File,
                "no such vendor (expected a folder with sources.toml)",
            ));
        }
        return Ok(vec![v.to_string()]);
    }
    agentstatus_codegen::vendor_folders(specs)
        .map_err(|e| Error::new(ErrorKind::Io, specs, Location::File, e.to_string()))
}

fn current(live: &LiveArgs, sources: Option<PathBuf>) -> Option<Current> {
    if live.live {
        Some(Current::Live {
            mirror: live.mirror.clone(),
            timeout: Duration::from_secs(live.timeout.max(1)),
        })
    } else {
        sources.map(Current::Dir)
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            path,
            Location::File,
            format!("cannot write: {e}"),
        )
    })
}

fn regen_cmd(specs: &Path, vendor: Option<&str>, live: &LiveArgs) -> Result<(), Error> {
    let current = current(live, None);
    for v in vendors(specs, vendor)? {
        regen_vendor(specs, &v, current.as_ref())?;
    }
    Ok(())
}

/// Rebuild one vendor's openapi.yaml; with `current`, from the current documents, which become
/// the pinned copies. A pinned copy replaced by a download gets its source's `origin` in
/// sources.toml rewritten to name where it was fetched from (see [`provenance`]), and the
/// header of openapi.yaml shows it.
pub fn regen_vendor(specs: &Path, v: &str, current: Option<&Current>) -> Result<(), Error> {
    let dir = specs.join(v);
    let sources_file = dir.join(SOURCES_FILE);
    let sources = Sources::load(&sources_file)?;
    // Everything is fetched and built in memory first: a failed download, an invalid
    // document or a sources.toml that cannot be edited leaves the pinned copies, sources.toml
    // and openapi.yaml as they were.
    let mut fetched = Vec::new();
    let out = dir.join(OPENAPI_FILE);
    let read = |s: &agentstatus_codegen::sources::Source| {
        let (bytes, origin) = match current {
            Some(current) => fetch::current(current, v, &dir, s)?,
            None => fetch::pinned(&dir, s)?,
        };
        fetched.push((
            s.clone(),
            dir.join(&s.pinned),
            bytes.clone(),
            origin.clone(),
        ));
        Ok((bytes, origin))
    };
    let doc = regen::build_document(&sources, &out, read, agentstatus_drift::positions_in_source)?;
    let date = today();
    let mut changed = Vec::new();
    let mut origins = Vec::new();
    for (source, path, bytes, from) in fetched {
        if std::fs::read(&path).ok().as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        let index = sources
            .sources
            .iter()
            .position(|s| s.name == source.name && s.pinned == source.pinned);
        let origin = current
            .and_then(|c| provenance::fetched_origin(c, v, &source, &from, &date))
            .filter(|o| source.origin.as_ref() != Some(o));
        if let (Some(index), Some(origin)) = (index, origin) {
            origins.push((source.name.clone(), index, origin));
        }
        changed.push((path, bytes));
    }
    // the origins recorded, and the header that shows them
    let (sources_text, sources) = if origins.is_empty() {
        (None, sources)
    } else {
        let text = std::fs::read_to_string(&sources_file).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                &sources_file,
                Location::File,
                format!("cannot read: {e}"),
            )
        })?;
        let edits: Vec<_> = origins.iter().map(|(_, i, o)| (*i, o.clone())).collect();
        let (text, sources) = provenance::set_origins(&text, &sources_file, &edits)?;
        (Some(text), sources)
    };
    let text = regen::header(&sources) + &regen::to_yaml(&doc)?;
    for (path, bytes) in changed {
        write(&path, &bytes)?;
        eprintln!("regen: updated pinned copy {}", path.display());
    }
    if let Some(sources_text) = sources_text {
        write(&sources_file, sources_text.as_bytes())?;
        for (name, _, origin) in &origins {
            eprintln!("regen: {v}: source `{name}` origin = {origin}");
        }
    }
    write(&out, text.as_bytes())?;
    println!("regen: wrote specs/{v}/{OPENAPI_FILE}");
    Ok(())
}

/// The workspace and its specs folder: `--specs`, else the workspace the current directory is
/// in. Says which on stderr.
fn locate_specs(specs: Option<PathBuf>) -> Result<(PathBuf, PathBuf), String> {
    let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    match specs {
        Some(specs) => {
            let specs = cwd.join(specs);
            let root = check::find_workspace(&specs)
                .or_else(|| specs.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| cwd.clone());
            Ok((root, specs))
        }
        None => match check::find_workspace(&cwd) {
            Some(root) => Ok((root.clone(), root.join("specs"))),
            None => Err(format!(
                "{} is not inside the agentstatus workspace (no Cargo.toml with [workspace] next \
                 to a specs/ folder here or above): run from the workspace or pass --specs DIR",
                cwd.display()
            )),
        },
    }
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (root, specs) = match locate_specs(cli.specs.clone()) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Regen { vendor, live } => match regen_cmd(&specs, vendor.as_deref(), &live) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::NewVendor { name, title } => {
            match new_vendor::new_vendor(&root, &name, title.as_deref()).map(|f| (root.clone(), f))
            {
                Ok((root, files)) => {
                    println!("scaffolded vendor {name} in {}:", root.display());
                    for f in files {
                        println!("  {}", f.strip_prefix(&root).unwrap_or(&f).display());
                    }
                    println!(
                        "next: specs/{name}/sources.toml and upstream/, `cargo xtask regen --vendor {name}`, specs/{name}/overlay.yaml with evidence in NOTES.md, `EXPECTORATE=overwrite cargo test -p agentstatus-{name} --test golden`, then the adapter, the fake and the wire tests until `cargo test -p agentstatus-{name} --features presence,fake` passes"
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Package { stage, no_verify } => {
            match package::package(&root, stage.as_deref(), !no_verify) {
                Ok(packaged) => {
                    for p in packaged {
                        println!("{} ({} KiB)", p.file.display(), p.bytes.div_ceil(1024));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Export { vendor, full, out } => {
            let json = out
                .as_ref()
                .is_some_and(|o| o.extension().is_some_and(|e| e == "json"));
            match export::export(&specs, &vendor, full, json).and_then(|text| match &out {
                Some(file) => write(file, text.as_bytes()),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Mock { vendor } => {
            let result = vendors(&specs, vendor.as_deref())
                .map_err(|e| e.to_string())
                .and_then(|v| mock::run(&root, &specs, &v));
            match result {
                Ok(out) => {
                    print!("{out}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Passes { write_readme } => {
            let table = coverage::pass_table();
            if !write_readme {
                print!("{table}");
                return ExitCode::SUCCESS;
            }
            let readme = root.join("ARCHITECTURE.md");
            match coverage::replace_between(
                &readme,
                coverage::PASSES_START,
                coverage::PASSES_END,
                &table,
            ) {
                Ok(()) => {
                    println!("passes: wrote {}", readme.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Corpus { only, write } => match corpus::run(&root, only.as_deref()) {
            Ok((table, all)) => {
                if write {
                    let readme = root.join("corpus/README.md");
                    if let Err(e) =
                        coverage::replace_between(&readme, corpus::START, corpus::END, &table)
                    {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                    println!("corpus: wrote {}", readme.display());
                } else {
                    print!("{table}");
                }
                ExitCode::from(if all { 0 } else { 1 })
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Try {
            file,
            out,
            no_compile,
        } => ExitCode::from(trial::try_command(&root, &file, out, !no_compile)),
        Command::VendoredBuild => match package::vendored_build(&root) {
            Ok(out) => {
                print!("{out}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Command::Bench { cold, scale } => match if cold {
            bench::cold_only(&root)
        } else if scale {
            bench::scale_only(&root)
        } else {
            bench::bench(&root)
        } {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Coverage {
            vendor,
            write_readme,
        } => {
            let result = coverage::run(&root, &specs, vendors(&specs, vendor.as_deref())).and_then(
                |table| {
                    if write_readme {
                        let readme = root.join("README.md");
                        coverage::write_readme(&readme, &table)?;
                        println!("coverage: wrote {}", readme.display());
                    } else {
                        print!("{table}");
                    }
                    Ok(())
                },
            );
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Check {
            vendor,
            live,
            sources,
            format,
            fail_on,
            explain,
        } => {
            let names = match vendors(&specs, vendor.as_deref()) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            eprintln!("check: {}", specs.display());
            let current = current(&live, sources);
            let mut vendors: Vec<_> = names
                .iter()
                .map(|v| check::check_vendor(&root, v, &specs.join(v), current.as_ref()))
                .collect();
            if explain {
                for v in &mut vendors {
                    match check::explain(&specs.join(&v.vendor)) {
                        Ok(lines) => v.explain = Some(lines),
                        Err(e) => eprintln!("{}: cannot explain: {e}", v.vendor),
                    }
                }
                // the explanation goes with the report: inside the JSON, before the text, and
                // on stderr for the formats a machine reads
                for v in &vendors {
                    for l in v.explain.iter().flatten() {
                        match format {
                            Format::Text => println!("{}: {l}", v.vendor),
                            Format::Json => {}
                            Format::Markdown | Format::Github => {
                                eprintln!("{}: {l}", v.vendor)
                            }
                        }
                    }
                }
            }
            let fail_on = match fail_on {
                FailOn::Drift => agentstatus_drift::FailOn::Drift,
                FailOn::Breaking => agentstatus_drift::FailOn::Breaking,
            };
            let report = agentstatus_drift::Report::new(&root, fail_on, vendors);
            let format = match format {
                Format::Text => agentstatus_drift::Format::Text,
                Format::Json => agentstatus_drift::Format::Json,
                Format::Markdown => agentstatus_drift::Format::Markdown,
                Format::Github => agentstatus_drift::Format::Github,
            };
            print!("{}", agentstatus_drift::render(&report, format));
            ExitCode::from(report.exit_code())
        }
        Command::Update {
            vendor,
            live,
            sources,
            no_test,
            semver_checks,
        } => {
            let names = match vendors(&specs, vendor.as_deref()) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            eprintln!("update: {}", specs.display());
            let Some(current) = current(&live, sources) else {
                eprintln!("error: update needs --live or --sources DIR");
                return ExitCode::from(2);
            };
            let opts = update::Options {
                root: &root,
                specs: &specs,
                current: &current,
                run_tests: !no_test,
                semver_checks,
                date: today(),
            };
            let mut failed = false;
            for v in &names {
                match update::update_vendor(&opts, v) {
                    Ok(Some(u)) => println!(
                        "update: {}: {} finding(s), {} bump: {} {} (changelog {})",
                        u.vendor,
                        u.findings,
                        u.bump.name(),
                        u.package,
                        u.next_version,
                        check::relative(&root, &u.changelog)
                    ),
                    Ok(None) => println!("update: {v}: nothing to update"),
                    Err(e) => {
                        eprintln!("error: {v}: {e}");
                        failed = true;
                    }
                }
            }
            if failed {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
