//! The drift report as text (a terminal), JSON (the report serialised as it is), markdown (a
//! pull-request body, a job summary) or GitHub workflow commands (annotations).

use agentstatus_codegen::overlay::ActionStatus;

use crate::compare::Comparison;
use crate::diff::Finding;
use crate::layers::client_only;
use crate::report::{FailOn, Layer, OverlayAction, Report, Scope, VendorReport};

/// How a [`Report`] is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For a terminal: a line per finding.
    Text,
    /// The report serialised, pretty-printed.
    Json,
    /// For a pull-request body or a job summary.
    Markdown,
    /// GitHub Actions annotations: one per finding, on the vendor document's line and column.
    Github,
}

/// The report in `format`, ending in a newline.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text(report),
        Format::Json => serde_json::to_string_pretty(report).expect("the report serialises") + "\n",
        Format::Markdown => markdown(report),
        Format::Github => github(report),
    }
}

fn verdict(report: &Report) -> &'static str {
    match report.exit_code() {
        0 if report.drift => "drift found, none that fails the check",
        0 => "no drift",
        1 => "drift found",
        _ => "could not check",
    }
}

fn stale_reason(a: &OverlayAction) -> String {
    match a.verdict() {
        "no-match" if a.redundant => "matches nothing, and the effective document is the same without it \
             (the vendor removed what it corrects: delete the action; the build fails until then)"
            .into(),
        "no-match" => "matches nothing (the document changed: review the correction)".into(),
        "redundant" if a.documentation_differs => "is redundant: the effective document is the same \
             without it but for its documentation (the vendor made the correction: remove the action, \
             or keep only its description)"
            .into(),
        "redundant" => "is redundant: the effective document is the same without it (the vendor made \
             the correction: remove the action)"
            .into(),
        "conflicts" => format!(
            "conflicts with the vendor's change, which it keeps from the client: {} (review the correction)",
            a.conflicts.join("; ")
        ),
        _ => "applies".into(),
    }
}

/// Whether a raw finding reaches the client, in words (empty where not judged).
fn client_note(f: &Finding) -> &'static str {
    match f.reaches_client {
        Some(false) if f.breaking => {
            " [raw only: does not reach the client (the overlay or the normaliser already makes or overrides it); breaking in the raw document]"
        }
        Some(false) => {
            " [raw only: does not reach the client (the overlay or the normaliser already makes or overrides it)]"
        }
        _ => "",
    }
}

fn overlay_position(a: &OverlayAction) -> String {
    match (a.line, a.column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", a.file),
        _ => a.file.clone(),
    }
}

fn tag(f: &Finding) -> &'static str {
    match (f.breaking, f.reaches_client) {
        (_, Some(false)) => "raw only    ",
        (true, _) => "BREAKING    ",
        (false, _) => "non-breaking",
    }
}

fn text(report: &Report) -> String {
    let mut out = String::new();
    for v in &report.vendors {
        let name = &v.vendor;
        if let Some(e) = &v.error {
            out.push_str(&format!("{name}: could not check: {e}\n"));
            continue;
        }
        if v.reproducible {
            out.push_str(&format!(
                "{name}: openapi.yaml is reproducible from the pinned copies\n"
            ));
        } else {
            out.push_str(&format!(
                "{name}: openapi.yaml is NOT what `cargo xtask regen` produces from the pinned copies ({} semantic differences)\n",
                v.regenerated.len()
            ));
            text_findings(&mut out, &v.regenerated);
        }
        if let Some(u) = &v.upstream {
            if u.changed_sources.is_empty() {
                out.push_str(&format!(
                    "{name}: upstream ({}): no source changed\n",
                    u.from
                ));
            } else {
                let not_in_client = u
                    .findings
                    .iter()
                    .filter(|f| f.reaches_client == Some(false))
                    .count();
                out.push_str(&format!(
                    "{name}: upstream ({}): changed: {}; {} raw finding(s) in the kept operations, \
                     {not_in_client} not reaching the client; client: {} breaking, {} non-breaking\n",
                    u.from,
                    u.changed_sources.join(", "),
                    u.findings.len(),
                    u.client.iter().filter(|f| f.breaking).count(),
                    u.client.iter().filter(|f| !f.breaking).count(),
                ));
                text_findings(&mut out, &u.findings);
                let only = client_only(&u.findings, &u.client);
                if !only.is_empty() {
                    out.push_str(&format!(
                        "{name}: in the generated client only (the overlay turns a vendor change into these):\n"
                    ));
                    text_findings(&mut out, only.iter().copied());
                }
            }
            if !u.full.is_empty() || !u.full_client.is_empty() {
                out.push_str(&format!(
                    "{name}: the rest of the `full` API (the `full = true` source's other operations): \
                     {} raw finding(s); client: {} breaking, {} non-breaking\n",
                    u.full.len(),
                    u.full_client.iter().filter(|f| f.breaking).count(),
                    u.full_client.iter().filter(|f| !f.breaking).count(),
                ));
                text_findings(&mut out, &u.full);
                text_findings(&mut out, client_only(&u.full, &u.full_client));
            }
            for n in &u.notices {
                let at = n
                    .position()
                    .map(|p| format!(" (at {p})"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{name}: notice: {} {}{at}\n",
                    n.operation, n.detail
                ));
            }
        }
        if v.stale().next().is_none() {
            out.push_str(&format!(
                "{name}: overlay: all {} actions apply\n",
                v.overlay.len()
            ));
        }
        for a in v.stale() {
            out.push_str(&format!(
                "{name}: overlay action {} `{}` {} (at {})\n",
                a.check.index,
                a.check.target,
                stale_reason(a),
                overlay_position(a)
            ));
        }
    }
    out.push_str(&format!(
        "{} (exit {})\n",
        verdict(report),
        report.exit_code()
    ));
    out
}

fn text_findings<'a>(out: &mut String, list: impl IntoIterator<Item = &'a Finding>) {
    for f in list {
        let location = if f.location.is_empty() {
            String::new()
        } else {
            format!(" {}:", f.location)
        };
        let op = if f.operation.is_empty() {
            String::new()
        } else {
            format!(" {}", f.operation)
        };
        let at = f
            .position()
            .map(|p| format!(" (at {p})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}{op}{location} {}{at}{}\n",
            tag(f),
            f.detail,
            client_note(f)
        ));
    }
}

/// Markdown: a summary table, then each vendor's findings.
fn markdown(report: &Report) -> String {
    let mut out = String::from("## Vendor API drift\n\n");
    out.push_str(&format!(
        "**{}** (exit {}, `--fail-on {}` on the {} layer, scope {})\n\n",
        verdict(report),
        report.exit_code(),
        match report.fail_on {
            FailOn::Drift => "drift",
            FailOn::Breaking => "breaking",
        },
        layer_name(report.layer),
        scope_name(report.scope),
    ));
    out.push_str("| vendor | breaking (client) | non-breaking (client) | raw changes not in the client | `full` API breaking / other | overlay | reproducibility | checked |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---|\n");
    for v in &report.vendors {
        let c = v.summary();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} / {} | {} | {} | {} |\n",
            v.vendor,
            c.breaking,
            c.non_breaking,
            c.not_in_client,
            c.full_breaking,
            c.full_non_breaking,
            c.overlay,
            c.reproducibility,
            if c.error {
                "**could not check**"
            } else {
                "yes"
            }
        ));
    }
    for v in &report.vendors {
        vendor_markdown(&mut out, v);
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn vendor_markdown(out: &mut String, v: &VendorReport) {
    out.push_str(&format!("\n### {}\n\n", v.vendor));
    if let Some(e) = &v.error {
        out.push_str(&format!("Could not check: `{}`\n", cell(e)));
        return;
    }
    let mut any = false;
    let mut table = |title: &str, list: &[&Finding]| {
        if list.is_empty() {
            return;
        }
        any = true;
        out.push_str(&format!(
            "{title}\n\n| | operation | where | change | reaches the client | vendor document |\n|---|---|---|---|---|---|\n"
        ));
        for f in list {
            out.push_str(&markdown_row(f, true));
        }
        out.push('\n');
    };
    if let Some(u) = &v.upstream {
        table(
            &format!(
                "Upstream ({}): changed {}",
                u.from,
                if u.changed_sources.is_empty() {
                    "nothing".to_string()
                } else {
                    u.changed_sources.join(", ")
                }
            ),
            &u.findings.iter().collect::<Vec<_>>(),
        );
        table(
            "In the generated client only (the overlay turns a vendor change into these)",
            &client_only(&u.findings, &u.client),
        );
        let mut full: Vec<&Finding> = u.full.iter().collect();
        full.extend(client_only(&u.full, &u.full_client));
        table(
            "The rest of the `full` API (the `full = true` source's other operations)",
            &full,
        );
    }
    if !v.reproducible {
        table(
            "`openapi.yaml` is not what `cargo xtask regen` produces from the pinned copies",
            &v.regenerated.iter().collect::<Vec<_>>(),
        );
        if v.regenerated.is_empty() {
            out.push_str("`openapi.yaml` differs from regen's output in bytes only.\n\n");
            any = true;
        }
    }
    for n in v.upstream.iter().flat_map(|u| &u.notices) {
        any = true;
        out.push_str(&format!(
            "- notice: {} {} (`{}`)\n",
            cell(&n.operation),
            cell(&n.detail),
            cell(&n.position().unwrap_or_default())
        ));
    }
    for a in v.stale() {
        any = true;
        out.push_str(&format!(
            "- overlay action {} `{}` {} (`{}`)\n",
            a.check.index,
            cell(&a.check.target),
            stale_reason(a),
            overlay_position(a)
        ));
    }
    if !any {
        out.push_str("No drift.\n");
    }
}

/// Escape workflow-command data (`%`, CR, LF) and, in properties, also `:` and `,`.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one annotation per finding (`error` if breaking, else
/// `warning`), on the vendor document and `line:col` of the change. An upstream change is
/// annotated on the pinned copy it will replace (`cargo xtask update` pins it there, at that
/// line); the message names the document it was read from.
/// One workflow command: `::level file=..,line=..,col=..,title=..::message`.
fn annotation(
    level: &str,
    file: &str,
    line: Option<usize>,
    col: Option<usize>,
    title: &str,
    msg: &str,
) -> String {
    let mut props = vec![format!("file={}", escape_property(file))];
    if let Some(l) = line {
        props.push(format!("line={l}"));
    }
    if let Some(c) = col {
        props.push(format!("col={c}"));
    }
    props.push(format!("title={}", escape_property(title)));
    format!("::{level} {}::{}\n", props.join(","), escape_data(msg))
}

/// A finding's change kind as the JSON report spells it (`property-removed`).
fn change_name(f: &Finding) -> String {
    serde_json::to_value(f.change)
        .ok()
        .and_then(|c| c.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A finding's operation and place, as one phrase.
fn what(f: &Finding) -> String {
    [f.operation.as_str(), f.location.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A markdown table row of a finding (`| | operation | where | change | document |`), with
/// `client` a column saying whether it reaches the client.
fn markdown_row(f: &Finding, client: bool) -> String {
    let reaches = if client {
        match f.reaches_client {
            Some(true) => " yes |",
            Some(false) => " **no** (raw only) |",
            None => " |",
        }
    } else {
        ""
    };
    format!(
        "| {} | {} | {} | {} |{reaches} `{}` |\n",
        if f.breaking {
            "**breaking**"
        } else {
            "non-breaking"
        },
        cell(&f.operation),
        cell(&f.location),
        cell(&f.detail),
        cell(&f.position().unwrap_or_default())
    )
}

fn layer_name(l: Layer) -> &'static str {
    match l {
        Layer::Client => "client",
        Layer::Raw => "raw",
    }
}

fn scope_name(s: Scope) -> &'static str {
    match s {
        Scope::Slice => "slice",
        Scope::Full => "full",
        Scope::All => "all",
    }
}

fn github(report: &Report) -> String {
    let mut out = String::new();
    let mut annotate = |level: &str,
                        file: &str,
                        line: Option<usize>,
                        col: Option<usize>,
                        title: &str,
                        msg: &str| {
        out.push_str(&annotation(level, file, line, col, title, msg));
    };
    for v in &report.vendors {
        if let Some(e) = &v.error {
            annotate(
                "error",
                &format!("specs/{}/sources.toml", v.vendor),
                None,
                None,
                &format!("{}: could not check", v.vendor),
                e,
            );
            continue;
        }
        let findings = v
            .upstream_findings()
            .iter()
            .chain(
                v.upstream
                    .iter()
                    .flat_map(|u| client_only(&u.findings, &u.client)),
            )
            .chain(
                v.upstream
                    .iter()
                    .flat_map(|u| u.full.iter().chain(client_only(&u.full, &u.full_client))),
            )
            .map(|f| (f, true))
            .chain(v.regenerated.iter().map(|f| (f, false)));
        for (f, upstream) in findings {
            let level = match (f.breaking, f.reaches_client) {
                (_, Some(false)) => "notice",
                (true, _) => "error",
                (false, _) => "warning",
            };
            let read_from = f.position().unwrap_or_default();
            let file = match (upstream, f.source.as_ref().and_then(|s| v.pinned.get(s))) {
                (true, Some(pinned)) => pinned.clone(),
                _ => f.file.clone().unwrap_or_default(),
            };
            let title = format!(
                "{}: {} {}",
                v.vendor,
                if f.breaking {
                    "breaking"
                } else {
                    "non-breaking"
                },
                change_name(f)
            );
            let what = what(f);
            let msg = if upstream {
                format!("{what}: {} (in {read_from}){}", f.detail, client_note(f))
            } else {
                format!(
                    "{what}: {} (openapi.yaml is not what regen produces)",
                    f.detail
                )
            };
            annotate(level, &file, f.line, f.column, &title, &msg);
        }
        for a in v.stale() {
            let level = if a.check.status == ActionStatus::NoMatch {
                "error"
            } else {
                "warning"
            };
            let stale = stale_reason(a);
            annotate(
                level,
                &a.file,
                a.line,
                a.column,
                &format!("{}: overlay action {}", v.vendor, a.check.index),
                &format!("`{}` {stale}", a.check.target),
            );
        }
    }
    let t = &report.summary.total;
    out.push_str(&format!(
        "drift check: {} breaking, {} non-breaking (client), {} raw change(s) not in the client, \
         `full` API {} breaking / {} other, {} overlay, {} reproducibility: {} (exit {})\n",
        t.breaking,
        t.non_breaking,
        t.not_in_client,
        t.full_breaking,
        t.full_non_breaking,
        t.overlay,
        t.reproducibility,
        verdict(report),
        report.exit_code()
    ));
    out
}

fn comparison_verdict(c: &Comparison) -> &'static str {
    match c.exit_code() {
        0 if c.changed() => "changes found, none that fails the comparison",
        0 => "no change",
        1 => "changes found",
        _ => "could not compare",
    }
}

/// The client layer's findings no raw finding reaches the client as (with an overlay).
fn comparison_client_only(c: &Comparison) -> Vec<&Finding> {
    c.client
        .as_deref()
        .map(|client| client_only(&c.findings, client))
        .unwrap_or_default()
}

/// A two-document [`Comparison`] in `format` (the same formats as the drift check's report),
/// ending in a newline.
pub fn render_comparison(c: &Comparison, format: Format) -> String {
    let fail_on = match c.fail_on {
        FailOn::Drift => "drift",
        FailOn::Breaking => "breaking",
    };
    let layer = if c.client.is_some() {
        format!(" on the {} layer", layer_name(c.layer))
    } else {
        String::new()
    };
    match format {
        Format::Json => serde_json::to_string_pretty(c).expect("the comparison serialises") + "\n",
        Format::Text => {
            let mut out = String::new();
            match &c.error {
                Some(e) => out.push_str(&format!("could not compare: {e}\n")),
                None => {
                    match (&c.overlay, c.not_in_client) {
                        (Some(overlay), Some(not_in_client)) => out.push_str(&format!(
                            "{} -> {} (overlay {overlay}): client: {} breaking, {} non-breaking; \
                             raw: {} finding(s), {not_in_client} not reaching the client\n",
                            c.old,
                            c.new,
                            c.breaking,
                            c.non_breaking,
                            c.findings.len()
                        )),
                        _ => out.push_str(&format!(
                            "{} -> {}: {} breaking, {} non-breaking\n",
                            c.old, c.new, c.breaking, c.non_breaking
                        )),
                    }
                    text_findings(&mut out, &c.findings);
                    let only = comparison_client_only(c);
                    if !only.is_empty() {
                        out.push_str(
                            "in the generated client only (the overlay turns a change into these):\n",
                        );
                        text_findings(&mut out, only);
                    }
                    if let Some(overlay) = &c.overlay
                        && !c.actions.is_empty()
                        && c.stale().next().is_none()
                    {
                        out.push_str(&format!(
                            "overlay {overlay}: all {} actions apply\n",
                            c.actions.len()
                        ));
                    }
                    for a in c.stale() {
                        out.push_str(&format!(
                            "overlay action {} `{}` {} (at {})\n",
                            a.check.index,
                            a.check.target,
                            stale_reason(a),
                            overlay_position(a)
                        ));
                    }
                }
            }
            out.push_str(&format!(
                "{} (exit {})\n",
                comparison_verdict(c),
                c.exit_code()
            ));
            out
        }
        Format::Markdown => {
            let mut out = format!(
                "## API changes: `{}` -> `{}`\n\n**{}** (exit {}, `--fail-on {fail_on}`{layer})\n\n",
                cell(&c.old),
                cell(&c.new),
                comparison_verdict(c),
                c.exit_code()
            );
            if let Some(e) = &c.error {
                out.push_str(&format!("Could not compare: `{}`\n", cell(e)));
                return out;
            }
            if !c.changed() {
                out.push_str("No change.\n");
                return out;
            }
            let layered = c.client.is_some();
            if !c.findings.is_empty() {
                if layered {
                    out.push_str("| | operation | where | change | reaches the client | document |\n|---|---|---|---|---|---|\n");
                } else {
                    out.push_str(
                        "| | operation | where | change | document |\n|---|---|---|---|---|\n",
                    );
                }
                for f in &c.findings {
                    out.push_str(&markdown_row(f, layered));
                }
            }
            let only = comparison_client_only(c);
            if !only.is_empty() {
                out.push_str("\nIn the generated client only (the overlay turns a change into these):\n\n| | operation | where | change | document |\n|---|---|---|---|---|\n");
                for f in only {
                    out.push_str(&markdown_row(f, false));
                }
            }
            let stale: Vec<&OverlayAction> = c.stale().collect();
            if !stale.is_empty() {
                out.push_str("\nOverlay actions:\n\n");
                for a in stale {
                    out.push_str(&format!(
                        "- action {} `{}` {} (`{}`)\n",
                        a.check.index,
                        cell(&a.check.target),
                        cell(&stale_reason(a)),
                        cell(&overlay_position(a))
                    ));
                }
            }
            out
        }
        Format::Github => {
            let mut out = String::new();
            if let Some(e) = &c.error {
                out.push_str(&format!(
                    "::error title={}::{}\n",
                    escape_property("could not compare"),
                    escape_data(e)
                ));
            }
            for f in c.findings.iter().chain(comparison_client_only(c)) {
                let level = match (f.breaking, f.reaches_client) {
                    (_, Some(false)) => "notice",
                    (true, _) => "error",
                    (false, _) => "warning",
                };
                let title = format!(
                    "{} {}",
                    if f.breaking {
                        "breaking"
                    } else {
                        "non-breaking"
                    },
                    change_name(f)
                );
                let msg = format!("{}: {}{}", what(f), f.detail, client_note(f));
                let file = f.file.as_deref().unwrap_or(&c.new);
                out.push_str(&annotation(level, file, f.line, f.column, &title, &msg));
            }
            for a in c.stale() {
                let level = if a.check.status == ActionStatus::NoMatch {
                    "error"
                } else {
                    "warning"
                };
                out.push_str(&annotation(
                    level,
                    &a.file,
                    a.line,
                    a.column,
                    &format!("overlay action {}", a.check.index),
                    &format!("`{}` {}", a.check.target, stale_reason(a)),
                ));
            }
            out.push_str(&format!(
                "api changes: {} breaking, {} non-breaking: {} (exit {})\n",
                c.breaking,
                c.non_breaking,
                comparison_verdict(c),
                c.exit_code()
            ));
            out
        }
    }
}
