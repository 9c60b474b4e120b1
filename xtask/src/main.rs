//! `cargo xtask <verb>`: the workspace's own automation, in plain Rust.
//!
//! - `regen [--vendor V] [--live]`: rebuild `specs/<vendor>/openapi.yaml` from the sources.
//! - `check [--vendor V] [--live | --sources DIR] [--format text|json]`: drift check, exit code
//!   0 no drift, 1 drift found, 2 could not check.

mod bench;
mod check;
mod coverage;
mod fetch;
mod new_vendor;

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
    /// The specs folder (default: the workspace's specs/).
    #[arg(long, global = true, hide = true)]
    specs: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
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
        /// Also list every change the normaliser makes (vendor, JSON pointer, what and why).
        #[arg(long)]
        explain: bool,
    },
    /// Run the benchmarks (release build) and rewrite BENCHMARKS.md.
    Bench,
    /// Scaffold a new vendor: specs/<NAME>/, crates/<NAME>/ and its registry line in the
    /// agentstatus facade. The result builds; its contract test fails until the adapter is written.
    NewVendor {
        /// The vendor's name: lowercase letters, digits and dashes (`acme-desk`).
        name: String,
        /// How people write it (default: from the name, `AcmeDesk`).
        #[arg(long)]
        title: Option<String>,
    },
    /// Generate each vendor's complete API (the crates' `full` feature) and print the coverage
    /// table: operations in the upstream document, generated, skipped (with reasons).
    Coverage {
        #[arg(long)]
        vendor: Option<String>,
        /// Write the table into README.md (between the coverage markers) instead of printing it.
        #[arg(long)]
        write_readme: bool,
    },
}

fn workspace_specs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .join("specs")
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
    let mut out: Vec<String> = std::fs::read_dir(specs)
        .map_err(|e| Error::new(ErrorKind::Io, specs, Location::File, e.to_string()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(SOURCES_FILE).exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    out.sort();
    Ok(out)
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
        let dir = specs.join(&v);
        let sources = Sources::load(&dir.join(SOURCES_FILE))?;
        // Everything is fetched and built in memory first: a failed download or an invalid
        // document leaves the pinned copies and openapi.yaml as they were.
        let mut fetched = Vec::new();
        let out = dir.join(OPENAPI_FILE);
        let doc = regen::build_document(&sources, &out, |s| {
            let (bytes, origin) = match &current {
                Some(current) => fetch::current(current, &v, &dir, s)?,
                None => fetch::pinned(&dir, s)?,
            };
            fetched.push((dir.join(&s.pinned), bytes.clone()));
            Ok((bytes, origin))
        })?;
        let text = regen::header(&sources) + &regen::to_yaml(&doc)?;
        for (path, bytes) in fetched {
            if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
                write(&path, &bytes)?;
                eprintln!("regen: updated pinned copy {}", path.display());
            }
        }
        write(&out, text.as_bytes())?;
        println!("regen: wrote specs/{v}/{OPENAPI_FILE}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let specs = cli.specs.clone().unwrap_or_else(workspace_specs);
    match cli.command {
        Command::Regen { vendor, live } => match regen_cmd(&specs, vendor.as_deref(), &live) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::NewVendor { name, title } => {
            let root = std::env::current_dir()
                .map_err(|e| e.to_string())
                .and_then(|cwd| new_vendor::find_root(&cwd));
            match root.and_then(|root| {
                new_vendor::new_vendor(&root, &name, title.as_deref()).map(|f| (root, f))
            }) {
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
        Command::Bench => match bench::bench(specs.parent().expect("specs/ is in the workspace")) {
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
            let result =
                coverage::run(&specs, vendors(&specs, vendor.as_deref())).and_then(|table| {
                    if write_readme {
                        let readme = specs.with_file_name("README.md");
                        coverage::write_readme(&readme, &table)?;
                        println!("coverage: wrote {}", readme.display());
                    } else {
                        print!("{table}");
                    }
                    Ok(())
                });
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
            explain,
        } => {
            let names = match vendors(&specs, vendor.as_deref()) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let current = current(&live, sources);
            let vendors: Vec<_> = names
                .iter()
                .map(|v| check::check_vendor(v, &specs.join(v), current.as_ref()))
                .collect();
            let report = check::Report {
                drift: vendors.iter().any(check::VendorReport::drift),
                error: vendors.iter().any(|v| v.error.is_some()),
                vendors,
            };
            if explain {
                for v in &names {
                    match check::explain(&specs.join(v)) {
                        Ok(lines) => lines.iter().for_each(|l| println!("{v}: {l}")),
                        Err(e) => eprintln!("{v}: cannot explain: {e}"),
                    }
                }
            }
            match format {
                Format::Text => print!("{}", check::text(&report)),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("the report serialises")
                ),
            }
            ExitCode::from(report.exit_code())
        }
    }
}
