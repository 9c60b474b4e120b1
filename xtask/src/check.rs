//! `cargo xtask check`: regenerate in memory and compare, without writing.

use std::path::Path;

use agentstatus_codegen::diff::{Finding, diff};
use agentstatus_codegen::overlay::{ActionCheck, ActionStatus, OverlayFile};
use agentstatus_codegen::sources::Sources;
use agentstatus_codegen::{
    Error, OPENAPI_FILE, OVERLAY_FILE, SOURCES_FILE, load, normalise, regen,
};
use serde::Serialize;
use serde_json::Value;

use crate::fetch::{self, Current};

/// What the check found for one vendor.
#[derive(Debug, Serialize)]
pub struct VendorReport {
    pub vendor: String,
    /// Does regen from the pinned copies reproduce the committed openapi.yaml byte for byte?
    pub reproducible: bool,
    /// Semantic difference between the committed openapi.yaml and what regen produces.
    pub regenerated: Vec<Finding>,
    /// The vendor's current documents compared with the pinned copies.
    pub upstream: Option<Upstream>,
    /// Each overlay action, checked against the current (or pinned) document.
    pub overlay: Vec<ActionCheck>,
    /// Why this vendor could not be checked.
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Upstream {
    /// Where the current documents came from.
    pub from: String,
    /// Sources whose bytes differ from the pinned copy.
    pub changed_sources: Vec<String>,
    /// Semantic difference of the kept operations, pinned -> current.
    pub findings: Vec<Finding>,
}

impl VendorReport {
    pub fn drift(&self) -> bool {
        !self.reproducible
            || !self.regenerated.is_empty()
            || self
                .upstream
                .as_ref()
                .is_some_and(|u| !u.findings.is_empty())
            || self
                .overlay
                .iter()
                .any(|a| a.status != ActionStatus::Applies)
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub drift: bool,
    pub error: bool,
    pub vendors: Vec<VendorReport>,
}

impl Report {
    pub fn exit_code(&self) -> u8 {
        if self.error {
            2
        } else if self.drift {
            1
        } else {
            0
        }
    }
}

/// Normalised, as the build sees it before the overlay.
fn normalised(mut doc: Value) -> Value {
    normalise::normalise(&mut doc);
    doc
}

pub fn check_vendor(vendor: &str, dir: &Path, current: Option<&Current>) -> VendorReport {
    let mut report = VendorReport {
        vendor: vendor.to_string(),
        reproducible: false,
        regenerated: Vec::new(),
        upstream: None,
        overlay: Vec::new(),
        error: None,
    };
    if let Err(e) = run(vendor, dir, current, &mut report) {
        report.error = Some(e.to_string());
    }
    report
}

fn run(
    vendor: &str,
    dir: &Path,
    current: Option<&Current>,
    report: &mut VendorReport,
) -> Result<(), Error> {
    let sources = Sources::load(&dir.join(SOURCES_FILE))?;
    let spec_file = dir.join(OPENAPI_FILE);

    // 1. pinned copies vs the committed openapi.yaml
    let pinned_doc = regen::build_document(&sources, &spec_file, |s| fetch::pinned(dir, s))?;
    let text = regen::header(&sources) + &regen::to_yaml(&pinned_doc)?;
    let committed_bytes = load::read(&spec_file)?;
    report.reproducible = committed_bytes == text.as_bytes();
    if !report.reproducible {
        let committed = load::parse_bytes(&committed_bytes, &spec_file)?;
        report.regenerated = diff(&normalised(committed), &normalised(pinned_doc.clone()));
    }

    // 2. the vendor's current documents vs the pinned copies
    let mut checked_doc = pinned_doc.clone();
    if let Some(current) = current {
        let mut changed = Vec::new();
        let (current_doc, _removed) = regen::build_document_lenient(&sources, &spec_file, |s| {
            let (bytes, origin) = fetch::current(current, vendor, dir, s)?;
            let (pinned, _) = fetch::pinned(dir, s)?;
            if bytes != pinned {
                changed.push(s.name.clone());
            }
            Ok((bytes, origin))
        })?;
        let findings = diff(&normalised(pinned_doc), &normalised(current_doc.clone()));
        report.upstream = Some(Upstream {
            from: current.label(),
            changed_sources: changed,
            findings,
        });
        checked_doc = current_doc;
    }

    // 3. does every overlay action still apply?
    let overlay_path = dir.join(OVERLAY_FILE);
    if overlay_path.exists() {
        let overlay = OverlayFile::load(&overlay_path)?;
        let mut doc = normalised(checked_doc);
        report.overlay = overlay.check(&mut doc)?;
    }
    Ok(())
}

pub fn text(report: &Report) -> String {
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
            findings(&mut out, &v.regenerated);
        }
        if let Some(u) = &v.upstream {
            if u.changed_sources.is_empty() {
                out.push_str(&format!(
                    "{name}: upstream ({}): no source changed\n",
                    u.from
                ));
            } else {
                out.push_str(&format!(
                    "{name}: upstream ({}): changed: {}; {} finding(s) in the kept operations\n",
                    u.from,
                    u.changed_sources.join(", "),
                    u.findings.len()
                ));
                findings(&mut out, &u.findings);
            }
        }
        let stale: Vec<_> = v
            .overlay
            .iter()
            .filter(|a| a.status != ActionStatus::Applies)
            .collect();
        if stale.is_empty() {
            out.push_str(&format!(
                "{name}: overlay: all {} actions apply\n",
                v.overlay.len()
            ));
        }
        for a in stale {
            let what = match a.status {
                ActionStatus::NoMatch => {
                    "matches nothing (the document changed: review the correction)"
                }
                ActionStatus::AlreadyApplied => {
                    "is already true of the document (the vendor made the fix: remove the action)"
                }
                ActionStatus::Applies => unreachable!(),
            };
            out.push_str(&format!(
                "{name}: overlay action {} `{}` {what}\n",
                a.index, a.target
            ));
        }
    }
    let verdict = match report.exit_code() {
        0 => "no drift",
        1 => "drift found",
        _ => "could not check",
    };
    out.push_str(&format!("{verdict} (exit {})\n", report.exit_code()));
    out
}

fn findings(out: &mut String, list: &[Finding]) {
    for f in list {
        let tag = if f.breaking {
            "BREAKING    "
        } else {
            "non-breaking"
        };
        let location = if f.location.is_empty() {
            String::new()
        } else {
            format!(" {}:", f.location)
        };
        out.push_str(&format!("  {tag} {}{location} {}\n", f.operation, f.detail));
    }
}

/// Every change the normaliser (and the open-enum step) makes to a vendor's slice and full API.
pub fn explain(dir: &Path) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    for (label, prepared) in [
        ("slice", agentstatus_codegen::prepare(dir)?),
        ("full", agentstatus_codegen::prepare_full(dir)?),
    ] {
        for c in &prepared.changes {
            lines.push(format!(
                "{label}: {} at {}: {}",
                c.pass, c.pointer, c.message
            ));
        }
    }
    Ok(lines)
}
