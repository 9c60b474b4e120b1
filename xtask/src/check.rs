//! `cargo xtask check`: regenerate in memory and compare, without writing.

use std::path::Path;

use agentstatus_codegen::overlay::{ActionStatus, OverlayFile};
use agentstatus_codegen::sources::{self, SourceKind, SourceSlice, Sources};
use agentstatus_codegen::{
    Codegen, Error, Location, OPENAPI_FILE, OVERLAY_FILE, SOURCES_FILE, parse_bytes, read,
};
use agentstatus_drift::{
    ChangeKind, Finding, OverlayAction, Policy, Report, Side, Upstream, VendorReport, client_layer,
    diff, diff_unapplied_security_schemes, layers, normalised, positions_in_source, render,
};
use serde_json::Value;

use crate::error::{self, Error as Outcome};
use crate::fetch::{self, Current};
use crate::flags::{self, Format};
use crate::workspace::{Workspace, relative};

impl flags::Check {
    /// Check every vendor (or the one asked for) and print the report; its exit code is the
    /// verb's.
    pub fn run(self, ws: &Workspace) -> error::Result {
        let names = ws.vendors(self.vendor.as_deref())?;
        eprintln!("check: {}", ws.specs.display());
        let current = self.live.current(self.sources);
        let mut vendors: Vec<_> = names
            .iter()
            .map(|v| check_vendor(&ws.root, v, &ws.specs.join(v), current.as_ref()))
            .collect();
        if self.explain {
            for v in &mut vendors {
                match explain(&ws.specs.join(&v.vendor)) {
                    Ok(lines) => v.explain = Some(lines),
                    Err(e) => eprintln!("{}: cannot explain: {e}", v.vendor),
                }
            }
            // the explanation goes with the report: inside the JSON, before the text, and
            // on stderr for the formats a machine reads
            for v in &vendors {
                for l in v.explain.iter().flatten() {
                    match self.format {
                        Format::Text => println!("{}: {l}", v.vendor),
                        Format::Json => {}
                        Format::Markdown | Format::Github => eprintln!("{}: {l}", v.vendor),
                    }
                }
            }
        }
        let policy = Policy {
            fail_on: self.fail_on.into(),
            layer: self.layer.into(),
            scope: self.scope.into(),
        };
        let report = Report::new(&ws.root, policy, vendors);
        print!("{}", render(&report, self.format.into()));
        Outcome::from_code(report.exit_code())
    }
}

pub fn check_vendor(
    root: &Path,
    vendor: &str,
    dir: &Path,
    current: Option<&Current>,
) -> VendorReport {
    let mut report = VendorReport::new(vendor);
    if let Err(e) = run(root, vendor, dir, current, &mut report) {
        report.error = Some(e.to_string());
    }
    report
}

/// Kept operations taken from a docs-page snapshot or a transcription that one of the vendor's
/// OpenAPI sources now defines (Rocket.Chat's `POST livechat/agent.status`, in `omnichannel.yaml`
/// since 8235720): once it says all ours does, the published definition should replace ours. A
/// notice per operation, at the operation in the OpenAPI source.
fn newly_published(root: &Path, now: &[SourceSlice]) -> Vec<Finding> {
    let mut out = Vec::new();
    let documents: Vec<(&SourceSlice, Value)> = now
        .iter()
        .filter(|t| t.source.kind == SourceKind::Openapi)
        .filter_map(|t| {
            sources::extract(&t.source, &t.bytes, &t.origin)
                .ok()
                .map(|doc| (t, doc))
        })
        .collect();
    for s in now.iter().filter(|s| s.source.kind != SourceKind::Openapi) {
        for op in &s.source.operations {
            let Some(key) = sources::OperationKey::parse(op) else {
                continue;
            };
            let route = agentstatus_codegen::nav::route_key(&key.path, &key.method);
            for (t, doc) in &documents {
                let Some((path, method, _)) = agentstatus_codegen::nav::operations(doc)
                    .into_iter()
                    .find(|(p, m, _)| agentstatus_codegen::nav::route_key(p, m) == route)
                else {
                    continue;
                };
                let pointer = agentstatus_codegen::nav::operation_pointer(path, method);
                let mut f = vec![Finding::new(
                    &key.to_string(),
                    ChangeKind::OperationPublished,
                    "",
                    format!(
                        "is kept from source `{}` ({}) and is now also defined by the vendor's OpenAPI \
                         source `{}`: compare the two, and once the published one says all ours does, \
                         move the operation to that source's `operations` in sources.toml and `cargo xtask regen`",
                        s.source.name,
                        match s.source.kind {
                            SourceKind::DocsPage => "a docs-page snapshot",
                            _ => "our transcription",
                        },
                        t.source.name
                    ),
                    false,
                    (&pointer, Side::New),
                )];
                place_in_slices(root, &mut f, t, t);
                out.extend(f);
            }
        }
    }
    out
}

/// Give each finding its source, vendor document and line:col: a removal in the old document,
/// anything else in the new one.
fn place(
    root: &Path,
    findings: &mut [Finding],
    source: Option<&str>,
    old: (&Path, SourceKind, &[u8]),
    new: (&Path, SourceKind, &[u8]),
) {
    for (side, (file, kind, bytes)) in [(Side::Old, old), (Side::New, new)] {
        let pointers: Vec<&str> = findings
            .iter()
            .filter(|f| f.side == side)
            .map(|f| f.pointer.as_str())
            .collect();
        if pointers.is_empty() {
            continue;
        }
        let positions = positions_in_source(kind, bytes, &pointers);
        for f in findings.iter_mut().filter(|f| f.side == side) {
            f.source = source.map(str::to_string);
            f.file = Some(relative(root, file));
            if let Some(&(line, column)) = positions.get(&f.pointer) {
                f.line = Some(line);
                f.column = Some(column);
            }
        }
    }
}

fn place_in_slices(root: &Path, findings: &mut [Finding], old: &SourceSlice, new: &SourceSlice) {
    // (a source with a `rename` table: its pointers are found at the names its file has)
    let renamed = !old.source.renames.is_empty() || !new.source.renames.is_empty();
    if old.parts.is_empty() && new.parts.is_empty() && !renamed {
        return place(
            root,
            findings,
            Some(&new.source.name),
            (&old.origin, old.source.kind, &old.bytes),
            (&new.origin, new.source.kind, &new.bytes),
        );
    }
    // a source published as several files: the finding is in one of them, at its own line
    // (and its source is that file's, `<source>/<path>`, whose pinned copy `run` records);
    // a renamed component at its name in the vendor's file
    for f in findings.iter_mut() {
        let s = if f.side == Side::Old { old } else { new };
        let (file, location) = s.place(&f.pointer, positions_in_source);
        f.source = Some(match s.parts.iter().position(|p| p.origin == file) {
            Some(i) => s.source.part(i).name,
            None => s.source.name.clone(),
        });
        f.file = Some(relative(root, &file));
        if let Location::LineColumn { line, column } = location {
            f.line = Some(line);
            f.column = Some(column);
        }
    }
}

/// Read every source's current document and compare it with the pinned copy, source by
/// source. Returns the current slices too (for the overlay check and for `update`).
pub fn upstream(
    root: &Path,
    vendor: &str,
    dir: &Path,
    sources: &Sources,
    pinned: &[SourceSlice],
    current: &Current,
    overlay: Option<&OverlayFile>,
) -> Result<(Upstream, Vec<SourceSlice>), Error> {
    let mut missing = Vec::new();
    let now = sources::read_slices(
        sources,
        |s| fetch::current(current, vendor, dir, s),
        Some(&mut missing),
        positions_in_source,
    )?;
    let mut changed = Vec::new();
    let mut findings = Vec::new();
    let mut full = Vec::new();
    let mut full_client = Vec::new();
    for (p, c) in pinned.iter().zip(&now) {
        if p.bytes == c.bytes {
            continue;
        }
        changed.push(c.source.name.clone());
        let mut f = diff(&normalised(p.slice.clone()), &normalised(c.slice.clone()));
        f.extend(diff_unapplied_security_schemes(&p.security, &c.security));
        place_in_slices(root, &mut f, p, c);
        findings.extend(f);
        if c.source.full {
            let (raw, client) = full_api(root, p, c, overlay)?;
            full.extend(raw);
            full_client.extend(client);
        }
    }
    let notices = newly_published(root, &now);
    // a shared component the sources now define differently: one finding per conflict, named
    // at the source that changed, beside every other finding
    let (_, conflicts) = sources::merge_lenient(&now);
    for c in conflicts {
        let find = |name: &str| now.iter().find(|s| s.source.name == name);
        let (Some(later), Some(earlier)) = (find(&c.source), find(&c.earlier)) else {
            continue;
        };
        let (at, other) =
            if changed.contains(&earlier.source.name) && !changed.contains(&later.source.name) {
                (earlier, later)
            } else {
                (later, earlier)
            };
        let component = c.pointer.trim_start_matches('/').to_string();
        let mut f = vec![Finding::new(
            "",
            ChangeKind::SourceConflict,
            &format!("component {}", component.trim_start_matches("components/")),
            format!(
                "source `{}` now defines `{component}` differently from source `{}` ({}): \
                 regen cannot merge them until a maintainer decides which is right",
                at.source.name,
                other.source.name,
                relative_describe(root, other, &c.pointer)
            ),
            true,
            (&c.pointer, Side::New),
        )];
        place_in_slices(root, &mut f, at, at);
        findings.extend(f);
    }
    findings.sort();
    // a download that was redirected (within its origin) names where it really came from
    let mut from = current.label();
    for s in &now {
        if let Some(url) = fetch::live_url(current, vendor, &s.source)
            && Path::new(&url) != s.origin
        {
            from.push_str(&format!(
                "; {} redirected to {}",
                s.source.name,
                s.origin.display()
            ));
        }
    }
    Ok((
        Upstream {
            from,
            changed_sources: changed,
            findings,
            // judged by the caller, on the merged documents with the overlay
            client: Vec::new(),
            full,
            full_client,
            notices,
        },
        now,
    ))
}

/// A `full = true` source diffed in full: every operation of its document but the kept ones
/// (the slice's section judges those), in both layers: the raw documents (each finding marked
/// with whether it reaches the client) and the effective ones (overlaid, as the `full`
/// feature's client is generated).
fn full_api(
    root: &Path,
    old_slice: &SourceSlice,
    new: &SourceSlice,
    overlay: Option<&OverlayFile>,
) -> Result<(Vec<Finding>, Vec<Finding>), Error> {
    // the whole document as regen reads it (its `rename` table applied, as the overlay expects)
    let whole = |s: &SourceSlice| s.document();
    let kept: Vec<String> = new
        .source
        .operations
        .iter()
        .filter_map(|o| sources::OperationKey::parse(o))
        .map(|k| k.to_string())
        .collect();
    let (old, new_doc) = (whole(old_slice)?, whole(new)?);
    let rest = |f: Vec<Finding>| -> Vec<Finding> {
        f.into_iter()
            .filter(|f| !kept.contains(&f.operation))
            .collect()
    };
    let mut raw = rest(diff(&normalised(old.clone()), &normalised(new_doc.clone())));
    let mut client = rest(client_layer(&old, &new_doc, overlay, &mut raw)?.0);
    // a client finding at the raw change's place in the vendor document
    for c in &mut client {
        if let Some(r) = raw.iter().find(|r| {
            (r.operation.as_str(), r.change, r.location.as_str())
                == (c.operation.as_str(), c.change, c.location.as_str())
        }) {
            (c.pointer, c.side) = (r.pointer.clone(), r.side);
        }
    }
    place_in_slices(root, &mut raw, old_slice, new);
    place_in_slices(root, &mut client, old_slice, new);
    Ok((raw, client))
}

fn relative_describe(root: &Path, s: &SourceSlice, pointer: &str) -> String {
    match s.place(pointer, positions_in_source) {
        (file, Location::LineColumn { line, column }) => {
            format!("{}:{line}:{column}", relative(root, &file))
        }
        (file, _) => relative(root, &file),
    }
}

fn run(
    root: &Path,
    vendor: &str,
    dir: &Path,
    current: Option<&Current>,
    report: &mut VendorReport,
) -> Result<(), Error> {
    let sources = Sources::load(&dir.join(SOURCES_FILE))?;
    for s in &sources.sources {
        report
            .pinned
            .insert(s.name.clone(), relative(root, &dir.join(&s.pinned)));
        // each file of a source published as several is pinned on its own
        for i in 0..s.files.len() {
            let part = s.part(i);
            report
                .pinned
                .insert(part.name, relative(root, &dir.join(&part.pinned)));
        }
    }
    let spec_file = dir.join(OPENAPI_FILE);

    // 1. pinned copies vs the committed openapi.yaml
    // (each pinned copy against the sha256 recorded when it was fetched: a copy edited since
    // is an error at that line of sources.toml)
    let mut read_copies = Vec::new();
    let pinned = sources::read_slices(
        &sources,
        |s| {
            let (bytes, path) = fetch::pinned(dir, s)?;
            read_copies.push((s.clone(), bytes.clone()));
            Ok((bytes, path))
        },
        None,
        positions_in_source,
    )?;
    let sources_file = dir.join(SOURCES_FILE);
    let sources_text = String::from_utf8_lossy(&read(&sources_file)?).into_owned();
    crate::provenance::verify_pinned(&sources_text, &sources_file, &sources, &read_copies, dir)?;
    let pinned_doc = sources::merge_slices(&pinned, positions_in_source)?;
    let text = sources::header(&sources) + &sources::to_yaml(&pinned_doc)?;
    let committed_bytes = read(&spec_file)?;
    report.reproducible = committed_bytes == text.as_bytes();
    if !report.reproducible {
        let committed = parse_bytes(&committed_bytes, &spec_file)?;
        let mut f = diff(&normalised(committed), &normalised(pinned_doc.clone()));
        place(
            root,
            &mut f,
            None,
            (&spec_file, SourceKind::Openapi, &committed_bytes),
            (&spec_file, SourceKind::Openapi, text.as_bytes()),
        );
        report.regenerated = f;
    }

    // 2. the vendor's current documents vs the pinned copies: the raw layer
    let overlay_path = dir.join(OVERLAY_FILE);
    let overlay = if overlay_path.exists() {
        Some(OverlayFile::load(&overlay_path)?)
    } else {
        None
    };
    let mut checked_doc = pinned_doc.clone();
    let mut raw = Vec::new();
    if let Some(current) = current {
        let (up, now) = upstream(
            root,
            vendor,
            dir,
            &sources,
            &pinned,
            current,
            overlay.as_ref(),
        )?;
        report.upstream = Some(up);
        checked_doc = sources::merge_lenient(&now).0;
    }
    // ... and the client layer: the effective documents (normalised, overlaid), old and new;
    // each overlay action judged by comparing them with and without it
    let up = report.upstream.as_mut();
    let raw = up.map_or(&mut raw, |u| &mut u.findings);
    // (the slice takes every action but the `full`-only ones, each known by its index in the
    // file)
    let slice_overlay = overlay.as_ref().map(|o| o.for_document(false));
    let mut two = layers(
        &pinned_doc,
        &checked_doc,
        slice_overlay.as_ref().map(|(o, _)| o),
        raw,
    )?;
    if let Some((_, kept)) = &slice_overlay {
        for e in &mut two.actions {
            e.index = kept[e.index];
        }
    }
    if let Some(u) = report.upstream.as_mut() {
        u.client = two.client;
    }

    // 3. does every overlay action (of the slice) still apply?
    if let Some((overlay, kept)) = slice_overlay {
        let mut doc = normalised(checked_doc);
        let mut checks = overlay.check(&mut doc)?;
        for c in &mut checks {
            c.index = kept[c.index];
        }
        let text = read(&overlay_path)?;
        let pointers: Vec<String> = checks
            .iter()
            .map(|a| format!("/actions/{}", a.index))
            .collect();
        let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
        let positions = positions_in_source(SourceKind::Openapi, &text, &pointers);
        report.overlay = checks
            .into_iter()
            .map(|mut check| {
                let pos = positions.get(&format!("/actions/{}", check.index));
                let effect = two.actions.iter().find(|e| e.index == check.index);
                let redundant = effect.is_some_and(|e| e.redundant);
                // whether the action still applies is judged on the effective documents, not
                // by applying its text: `already-applied` is a redundant action
                if check.status != ActionStatus::NoMatch {
                    check.status = if redundant {
                        ActionStatus::AlreadyApplied
                    } else {
                        ActionStatus::Applies
                    };
                }
                OverlayAction {
                    check,
                    file: relative(root, &overlay_path),
                    line: pos.map(|p| p.0),
                    column: pos.map(|p| p.1),
                    redundant,
                    documentation_differs: effect.is_some_and(|e| e.documentation_differs),
                    conflicts: effect.map(|e| e.conflicts.clone()).unwrap_or_default(),
                }
            })
            .collect();
    }
    Ok(())
}

/// Every change the normaliser (and the open-enum step) makes to a vendor's slice and full API.
pub fn explain(dir: &Path) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    for (label, prepared) in [
        ("slice", Codegen::vendor(dir).prepare()?),
        ("full", Codegen::vendor(dir).full(true).prepare()?),
    ] {
        for c in &prepared.changes {
            lines.push(format!(
                "{label}: {} at {}: {}",
                c.pass,
                agentstatus_codegen::reason::visible(&c.pointer),
                c.message
            ));
        }
    }
    Ok(lines)
}
