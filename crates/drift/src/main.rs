//! `agentstatus-drift OLD NEW`: what changed between two versions of an OpenAPI document, for
//! a client (breaking or not), each change at its document's `line:col`. OpenAPI 3.0, 3.1 and
//! Swagger 2.0 (read as the OpenAPI 3.0 document it converts to); files, `-` for standard
//! input, `.gz` decompressed.
//!
//! With `--overlay FILE` (an OpenAPI Overlay 1.0 file, as a vendor crate's `overlay.yaml`), both
//! documents are also taken to what a generator reads (normalised, overlaid): the client layer,
//! which `--fail-on` judges unless `--layer raw`; each overlay action is judged against the new
//! document (no-match, redundant, conflicting).
//!
//! Exit status: 0 nothing that fails the comparison, 1 a change that fails it (`--fail-on`; an
//! overlay action that matches nothing with `--fail-on breaking`), 2 the documents could not be
//! compared.

use std::process::ExitCode;

use agentstatus_drift::{
    Document, FailOn, Format, Layer, Options, compare_with, render_comparison,
};
use clap::{Parser, ValueEnum};

#[derive(Parser)]
#[command(
    name = "agentstatus-drift",
    version,
    about = "What changed between two versions of an OpenAPI document, judged for a client",
    after_help = "Examples:\n  agentstatus-drift old.yaml new.yaml\n  agentstatus-drift --fail-on breaking --format github v1.json.gz v2.json.gz\n  curl -s https://example.com/openapi.json | agentstatus-drift pinned.json -\n  agentstatus-drift --ops 'GET /users/{id}' --ops 'PUT /users/{id}/status' old.yaml new.yaml\n  agentstatus-drift --overlay overlay.yaml --ops 'PUT /users/{id}/status' old.yaml new.yaml\n\nExit status: 0 nothing that fails the comparison, 1 a change that fails it, 2 could not compare."
)]
struct Args {
    /// The old document (a path, `-` for standard input; `.gz` is decompressed).
    old: String,
    /// The new document (a path, `-` for standard input; `.gz` is decompressed).
    new: String,
    /// Only this operation, `METHOD /path` (repeat for several); every operation by default.
    #[arg(long = "ops", value_name = "METHOD /PATH")]
    ops: Vec<String>,
    /// How the result is written.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// What makes the comparison exit 1: any change (`drift`), or only a breaking one.
    #[arg(long, value_enum, default_value_t = FailOnArg::Breaking)]
    fail_on: FailOnArg,
    /// An OpenAPI Overlay 1.0 file the client applies to both documents: adds the client layer
    /// (what the generated code sees) and judges each action (no-match, redundant, conflicting).
    #[arg(long, value_name = "FILE")]
    overlay: Option<String>,
    /// Which layer `--fail-on` judges: what reaches the client (with `--overlay`), or the raw
    /// documents. Both are reported either way.
    #[arg(long, value_enum, default_value_t = LayerArg::Client)]
    layer: LayerArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum LayerArg {
    /// The effective documents (normalised, the overlay applied): what the generated client sees.
    Client,
    /// The documents as published.
    Raw,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    /// A line per change, for a terminal.
    Text,
    /// The comparison as one JSON object.
    Json,
    /// For a pull-request body or a job summary.
    Markdown,
    /// GitHub Actions annotations at each change's line and column.
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOnArg {
    /// Any change.
    Drift,
    /// A change that breaks a client.
    Breaking,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let stdin = [Some(&args.old), Some(&args.new), args.overlay.as_ref()]
        .iter()
        .filter(|p| p.is_some_and(|p| p == "-"))
        .count();
    if stdin > 1 {
        eprintln!(
            "agentstatus-drift: only one of OLD, NEW and --overlay can be `-` (standard input)"
        );
        return ExitCode::from(2);
    }
    let read = |p: &str| Document::read(p);
    let (old, new) = match (read(&args.old), read(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("agentstatus-drift: {e}");
            return ExitCode::from(2);
        }
    };
    let overlay = match args.overlay.as_deref().map(read).transpose() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("agentstatus-drift: --overlay: {e}");
            return ExitCode::from(2);
        }
    };
    let fail_on = match args.fail_on {
        FailOnArg::Drift => FailOn::Drift,
        FailOnArg::Breaking => FailOn::Breaking,
    };
    let options = Options {
        operations: (!args.ops.is_empty()).then_some(args.ops),
        overlay,
        fail_on,
        layer: match args.layer {
            LayerArg::Client => Layer::Client,
            LayerArg::Raw => Layer::Raw,
        },
    };
    let comparison = compare_with(&old, &new, &options);
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Github => Format::Github,
    };
    print!("{}", render_comparison(&comparison, format));
    if let Some(e) = &comparison.error
        && !matches!(format, Format::Text)
    {
        eprintln!("agentstatus-drift: {e}");
    }
    ExitCode::from(comparison.exit_code())
}
