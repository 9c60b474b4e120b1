//! `agentstatus-drift OLD NEW`: what changed between two versions of an OpenAPI document, for
//! a client (breaking or not), each change at its document's `line:col`. OpenAPI 3.0, 3.1 and
//! Swagger 2.0 (read as the OpenAPI 3.0 document it converts to); files, `-` for standard
//! input, `.gz` decompressed.
//!
//! Exit status: 0 nothing that fails the comparison, 1 a change that fails it (`--fail-on`),
//! 2 the documents could not be compared.

use std::process::ExitCode;

use agentstatus_drift::{Document, FailOn, Format, compare, render_comparison};
use clap::{Parser, ValueEnum};

#[derive(Parser)]
#[command(
    name = "agentstatus-drift",
    version,
    about = "What changed between two versions of an OpenAPI document, judged for a client",
    after_help = "Examples:\n  agentstatus-drift old.yaml new.yaml\n  agentstatus-drift --fail-on breaking --format github v1.json.gz v2.json.gz\n  curl -s https://example.com/openapi.json | agentstatus-drift pinned.json -\n  agentstatus-drift --ops 'GET /users/{id}' --ops 'PUT /users/{id}/status' old.yaml new.yaml\n\nExit status: 0 nothing that fails the comparison, 1 a change that fails it, 2 could not compare."
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
    if args.old == "-" && args.new == "-" {
        eprintln!("agentstatus-drift: only one of OLD and NEW can be `-` (standard input)");
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
    let fail_on = match args.fail_on {
        FailOnArg::Drift => FailOn::Drift,
        FailOnArg::Breaking => FailOn::Breaking,
    };
    let ops = (!args.ops.is_empty()).then_some(args.ops.as_slice());
    let comparison = compare(&old, &new, ops, fail_on);
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
