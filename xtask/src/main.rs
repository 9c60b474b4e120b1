//! `cargo xtask <verb>`: the workspace's own automation, in plain Rust.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use agentstatus_codegen::sources::Sources;
use agentstatus_codegen::{Error, ErrorKind, Location, regen};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "agentstatus workspace automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rebuild specs/<vendor>/openapi.yaml from the vendor's sources (pinned copies).
    Regen {
        /// Only this vendor (a folder name under specs/).
        #[arg(long)]
        vendor: Option<String>,
    },
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Vendor folders under specs/, or just the one asked for.
fn vendors(specs: &Path, only: Option<&str>) -> Result<Vec<String>, Error> {
    if let Some(v) = only {
        if !specs
            .join(v)
            .join(agentstatus_codegen::SOURCES_FILE)
            .exists()
        {
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
        .filter(|e| e.path().join(agentstatus_codegen::SOURCES_FILE).exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    out.sort();
    Ok(out)
}

fn read_pinned(
    dir: &Path,
) -> impl FnMut(&agentstatus_codegen::sources::Source) -> Result<(Vec<u8>, PathBuf), Error> + '_ {
    move |source| {
        let path = dir.join(&source.pinned);
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                &path,
                Location::File,
                format!("cannot read: {e}"),
            )
        })?;
        Ok((bytes, path))
    }
}

/// The openapi.yaml text regen produces for a vendor folder, from its pinned copies.
fn render(dir: &Path) -> Result<String, Error> {
    let sources = Sources::load(&dir.join(agentstatus_codegen::SOURCES_FILE))?;
    let doc = regen::build_document(
        &sources,
        &dir.join(agentstatus_codegen::OPENAPI_FILE),
        read_pinned(dir),
    )?;
    Ok(regen::header(&sources) + &regen::to_yaml(&doc)?)
}

fn regen_cmd(vendor: Option<&str>) -> Result<(), Error> {
    let specs = workspace_root().join("specs");
    for v in vendors(&specs, vendor)? {
        let dir = specs.join(&v);
        let text = render(&dir)?;
        let out = dir.join(agentstatus_codegen::OPENAPI_FILE);
        std::fs::write(&out, text).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                &out,
                Location::File,
                format!("cannot write: {e}"),
            )
        })?;
        println!(
            "regen: wrote {}",
            out.strip_prefix(workspace_root()).unwrap_or(&out).display()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Regen { vendor } => regen_cmd(vendor.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
