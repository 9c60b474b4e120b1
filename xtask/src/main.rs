//! `cargo xtask <verb>`: the workspace's own automation, in plain Rust.
//!
//! - `regen [--vendor V] [--live]`: rebuild `specs/<vendor>/openapi.yaml` from the sources.
//! - `check [--vendor V] [--live | --sources DIR] [--format text|json|markdown|github]
//!   [--fail-on drift|breaking] [--explain]`: the drift check; writes nothing.
//! - `update [--vendor V] [--live | --sources DIR]`: pin the vendors' current documents,
//!   regenerate, rebuild, rewrite golden files, test, write the changelog entry.
//! - `bench [--cold | --scale | --drift V1 V2 ...]`: the benchmarks; rewrites BENCHMARKS.md.
//! - `vendored-build`: a git dependency, `cargo vendor`ed, built offline and run.
//! - `package [--stage DIR] [--no-verify]`: every publishable crate packaged and verified alone.
//! - `new-vendor NAME [--title T] [--spec DOC]`: scaffold a vendor slice that builds (with `--spec`,
//!   its registry entry takes the credentials of the document's own security scheme).
//! - `export VENDOR [--full] [--out FILE]`: the effective document the generator sees.
//! - `corpus [--only NAMES] [--write]`: the corpus of real-world documents through `try`'s steps.
//! - `mock [--vendor V]`: each vendor's exported slice served by Prism, read by `agentstatus`.
//! - `try FILE [--out DIR] [--no-compile]`: any OpenAPI document into a standalone crate, compiled.
//! - `passes [--write-readme]`: the codegen's passes, in order.
//! - `coverage [--vendor V] [--write-readme]`: how much of each complete API is generated.
//!
//! Exit codes: 0 done, 1 found something (drift, a crate that does not compile), 2 could not
//! run ([`error`]). The workspace is the one the current directory is in (`--specs` names
//! another specs folder). The arguments are in [`flags`]; each verb's module has its `run`.

// The doc comments of the arguments are clap's `--help` text, shown verbatim: `<vendor>` there is
// a placeholder, not HTML.
#![allow(rustdoc::invalid_html_tags)]

mod api_diff;
mod bench;
mod check;
mod corpus;
mod coverage;
mod error;
mod export;
mod fetch;
mod flags;
mod gate;
mod mock;
mod new_vendor;
mod package;
mod passes;
mod provenance;
mod regen;
mod trial;
mod update;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

use flags::{Cli, Command};
use workspace::Workspace;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = Workspace::find(cli.specs).and_then(|ws| match cli.command {
        Command::Regen(args) => args.run(&ws),
        Command::Check(args) => args.run(&ws),
        Command::Update(args) => args.run(&ws),
        Command::Bench(args) => args.run(&ws),
        Command::VendoredBuild(args) => args.run(&ws),
        Command::Package(args) => args.run(&ws),
        Command::NewVendor(args) => args.run(&ws),
        Command::Export(args) => args.run(&ws),
        Command::Corpus(args) => args.run(&ws),
        Command::Mock(args) => args.run(&ws),
        Command::Try(args) => args.run(&ws),
        Command::Passes(args) => args.run(&ws),
        Command::Coverage(args) => args.run(&ws),
    });
    error::exit(outcome)
}
