//! Two documents, any two: the `agentstatus-drift OLD NEW` comparison. Each side is read by the
//! generator's own loader (JSON or YAML, Swagger 2.0 converted to OpenAPI 3.0, another version
//! refused), normalised as the build normalises it, and diffed operation by operation; every
//! finding is placed at its document's `line:col` (a Swagger 2.0 node where the 2.0 file has it).
//!
//! With an overlay (`--overlay FILE`), the comparison has the drift check's two layers: the raw
//! documents' changes, each marked with whether it reaches the client, the effective documents'
//! (normalised, overlaid, normalised again) changes, and each overlay action judged against the
//! new document (no-match, redundant, conflicting).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use agentstatus_codegen::overlay::{ActionStatus, OverlayFile};
use agentstatus_codegen::sources::{OperationKey, slice_to};
use agentstatus_codegen::{parse_bytes, upgrade_swagger2};
use serde::Serialize;
use serde_json::Value;

use crate::diff::{Finding, Side, diff, diff_unapplied_security_schemes};
use crate::layers::{layers, normalised};
use crate::locate::positions_in_source;
use crate::report::{FailOn, Layer, OverlayAction};

/// The most a document may take, as read (a `.gz` file: once decompressed). The largest public
/// API documents are about 10 MiB (Stripe's, as JSON).
pub const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

/// One side of a comparison: its name (a path, or `-` for standard input) and its bytes.
#[derive(Debug, Clone)]
pub struct Document {
    /// How findings and errors name it.
    pub name: String,
    /// The document as published (decompressed).
    pub bytes: Vec<u8>,
}

impl Document {
    /// Read `path` (`-`: standard input); a name ending in `.gz` is decompressed. At most
    /// [`MAX_DOCUMENT_BYTES`] are read; more is an error, never a partial document.
    pub fn read(path: &str) -> Result<Self, String> {
        let raw: Box<dyn Read> = if path == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::fs::File::open(path).map_err(|e| format!("{path}: cannot read: {e}"))?)
        };
        let reader: Box<dyn Read> = if path.ends_with(".gz") {
            Box::new(flate2::read::GzDecoder::new(raw))
        } else {
            raw
        };
        let mut bytes = Vec::new();
        reader
            .take(MAX_DOCUMENT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{path}: cannot read: {e}"))?;
        if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
            return Err(format!(
                "{path}: larger than {} MiB{}",
                MAX_DOCUMENT_BYTES >> 20,
                if path.ends_with(".gz") {
                    " once decompressed"
                } else {
                    ""
                }
            ));
        }
        Ok(Document {
            name: path.to_string(),
            bytes,
        })
    }

    /// The OpenAPI 3 document it is read as (Swagger 2.0 converted), not yet normalised.
    fn parse_raw(&self) -> Result<Value, String> {
        let origin = Path::new(&self.name);
        let mut doc = parse_bytes(&self.bytes, origin).map_err(|e| e.to_string())?;
        upgrade_swagger2(&mut doc, origin).map_err(|e| e.to_string())?;
        match doc.get("openapi").and_then(Value::as_str) {
            Some(v) if v.starts_with("3.0") || v.starts_with("3.1") => {}
            Some(v) => {
                return Err(format!(
                    "{}: OpenAPI version {v:?} is not supported (OpenAPI 3.0, 3.1 and Swagger 2.0 are)",
                    self.name
                ));
            }
            None => {
                return Err(format!(
                    "{}: not an OpenAPI document (no `openapi` or `swagger` version at its root)",
                    self.name
                ));
            }
        }
        if !doc.get("paths").is_some_and(Value::is_object) {
            return Err(format!(
                "{}: not an OpenAPI document (no `paths`)",
                self.name
            ));
        }
        Ok(doc)
    }

    /// The document read as an OpenAPI Overlay 1.0 file (every action with its `description`).
    fn overlay(&self) -> Result<OverlayFile, String> {
        let origin = Path::new(&self.name);
        let value = parse_bytes(&self.bytes, origin).map_err(|e| e.to_string())?;
        OverlayFile::from_value(value, origin).map_err(|e| e.to_string())
    }
}

/// What a comparison is asked: which operations, under which overlay, and what fails it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only these operations (`METHOD /path` each); every operation when `None`.
    pub operations: Option<Vec<String>>,
    /// The overlay the generated client applies to both documents (`--overlay`): the
    /// comparison then has a client layer, and each action is judged.
    pub overlay: Option<Document>,
    /// What makes the comparison exit 1.
    pub fail_on: FailOn,
    /// Which layer `fail_on` judges (the client layer by default; the same as the raw one
    /// without an overlay).
    pub layer: Layer,
}

impl Options {
    /// Every operation, no overlay, `fail_on` on the client layer.
    pub fn new(fail_on: FailOn) -> Self {
        Options {
            operations: None,
            overlay: None,
            fail_on,
            layer: Layer::Client,
        }
    }
}

/// What changed from one document to the other, and the exit code it comes to.
#[derive(Debug, Serialize)]
pub struct Comparison {
    /// The old document's name.
    pub old: String,
    /// The new document's name.
    pub new: String,
    /// When the comparison fails.
    pub fail_on: FailOn,
    /// The layer `fail_on` judges.
    pub layer: Layer,
    /// Only these operations (`METHOD /path`), when asked for; every operation otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// The overlay applied to both documents, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlay: Option<String>,
    /// Findings that break a client: the client layer's (the raw documents' without an
    /// overlay), and those judged in both layers (an unapplied security scheme).
    pub breaking: usize,
    /// Findings that do not.
    pub non_breaking: usize,
    /// Raw findings that are breaking in themselves (with an overlay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_breaking: Option<usize>,
    /// Raw findings that are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_non_breaking: Option<usize>,
    /// Raw findings that do not reach the client (the overlay or the normaliser already makes
    /// or overrides the change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_in_client: Option<usize>,
    /// The raw layer: every change of the documents, with its document's `line:col` (and, with
    /// an overlay, `reaches_client`).
    pub findings: Vec<Finding>,
    /// The client layer, with an overlay: the effective documents' changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Vec<Finding>>,
    /// With an overlay: each action judged against the new document (`applies`, `no-match`,
    /// `redundant`, `conflicts`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<OverlayAction>,
    /// Why the documents could not be compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Comparison {
    /// 0: nothing that fails the comparison; 1: a change that fails it ([`FailOn`]); 2: the
    /// documents could not be compared.
    pub fn exit_code(&self) -> u8 {
        let judged = self.judged();
        if self.error.is_some() {
            2
        } else if match self.fail_on {
            FailOn::Drift => !judged.is_empty() || self.stale().next().is_some(),
            // an action that matches nothing fails the build of the client
            FailOn::Breaking => {
                judged.iter().any(|f| f.breaking)
                    || self
                        .stale()
                        .any(|a| a.check.status == ActionStatus::NoMatch)
            }
        } {
            1
        } else {
            0
        }
    }

    /// The findings `fail_on` judges: the raw layer's, or the client layer's (with what is
    /// judged in both: a finding not marked `reaches_client`).
    pub fn judged(&self) -> Vec<&Finding> {
        match (&self.client, self.layer) {
            (Some(client), Layer::Client) => self
                .findings
                .iter()
                .filter(|f| f.reaches_client.is_none())
                .chain(client)
                .collect(),
            _ => self.findings.iter().collect(),
        }
    }

    /// The overlay actions that no longer apply as they did.
    pub fn stale(&self) -> impl Iterator<Item = &OverlayAction> {
        self.actions.iter().filter(|a| a.verdict() != "applies")
    }

    /// Whether anything changed, in either layer, or an overlay action went stale.
    pub fn changed(&self) -> bool {
        !self.findings.is_empty()
            || self.client.as_ref().is_some_and(|c| !c.is_empty())
            || self.stale().next().is_some()
    }
}

/// Normalise a `METHOD /path` the way findings name operations (`GET /a`).
fn operation_key(op: &str) -> Result<String, String> {
    let (method, path) = op.trim().split_once(char::is_whitespace).ok_or_else(|| {
        format!("`{op}`: an operation is `METHOD /path`, e.g. `GET /users/{{id}}`")
    })?;
    let path = path.trim();
    if !path.starts_with('/') {
        return Err(format!("`{op}`: the path must start with `/`"));
    }
    Ok(format!("{} {path}", method.to_ascii_uppercase()))
}

/// Compare `old` with `new`: every operation, or only `operations` (`METHOD /path` each).
pub fn compare(
    old: &Document,
    new: &Document,
    operations: Option<&[String]>,
    fail_on: FailOn,
) -> Comparison {
    compare_with(
        old,
        new,
        &Options {
            operations: operations.map(<[String]>::to_vec),
            ..Options::new(fail_on)
        },
    )
}

/// Compare `old` with `new` as `options` say (the operations, an overlay, the policy).
pub fn compare_with(old: &Document, new: &Document, options: &Options) -> Comparison {
    let mut out = Comparison {
        old: old.name.clone(),
        new: new.name.clone(),
        fail_on: options.fail_on,
        layer: options.layer,
        operations: None,
        overlay: options.overlay.as_ref().map(|o| o.name.clone()),
        breaking: 0,
        non_breaking: 0,
        raw_breaking: None,
        raw_non_breaking: None,
        not_in_client: None,
        findings: Vec::new(),
        client: None,
        actions: Vec::new(),
        error: None,
    };
    let wanted = match options
        .operations
        .as_ref()
        .map(|ops| {
            ops.iter()
                .map(|o| operation_key(o))
                .collect::<Result<BTreeSet<_>, _>>()
        })
        .transpose()
    {
        Ok(w) => w,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    out.operations = wanted.as_ref().map(|w| w.iter().cloned().collect());
    let overlay = match options.overlay.as_ref().map(Document::overlay).transpose() {
        Ok(o) => o,
        Err(e) => {
            out.error = Some(format!("--overlay: {e}"));
            return out;
        }
    };
    let (raw_a, raw_b) = match (old.parse_raw(), new.parse_raw()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            out.error = Some(e);
            return out;
        }
    };
    if let Some(w) = &wanted {
        let known: BTreeSet<String> = agentstatus_codegen::nav::operations(&raw_a)
            .into_iter()
            .chain(agentstatus_codegen::nav::operations(&raw_b))
            .map(|(p, m, _)| format!("{} {p}", m.to_ascii_uppercase()))
            .collect();
        if let Some(missing) = w.iter().find(|o| !known.contains(*o)) {
            out.error = Some(format!(
                "--ops: `{missing}` is in neither document ({} has {} operations, {} has {})",
                old.name,
                agentstatus_codegen::nav::count_operations(&raw_a),
                new.name,
                agentstatus_codegen::nav::count_operations(&raw_b)
            ));
            return out;
        }
    }
    // changes of a security scheme no operation applies, in the whole documents (a slice
    // keeps only the schemes it applies)
    let unapplied = diff_unapplied_security_schemes(&raw_a, &raw_b);
    // the kept operations sliced out, every `$ref` they reach, as regen does: the overlay
    // applies to the slice, as a vendor crate's does
    let (raw_a, raw_b) = match &wanted {
        None => (raw_a, raw_b),
        Some(w) => {
            let keys: Vec<OperationKey> = w.iter().filter_map(|o| OperationKey::parse(o)).collect();
            let sliced = |doc: &Value, d: &Document| {
                slice_to(doc, &keys, Path::new(&d.name)).map_err(|e| e.to_string())
            };
            match (sliced(&raw_a, old), sliced(&raw_b, new)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => {
                    out.error = Some(e);
                    return out;
                }
            }
        }
    };
    let (a, b) = (normalised(raw_a.clone()), normalised(raw_b.clone()));
    let mut findings = diff(&a, &b);
    findings.extend(unapplied);
    let kept = |f: &Finding| {
        wanted
            .as_ref()
            .is_none_or(|w| f.operation.is_empty() || w.contains(&f.operation))
    };
    findings.retain(|f| kept(f));
    if let (Some(overlay), Some(overlay_doc)) = (&overlay, &options.overlay) {
        let two = match layers(&raw_a, &raw_b, Some(overlay), &mut findings) {
            Ok(two) => two,
            Err(e) => {
                out.error = Some(format!("--overlay: {e}"));
                return out;
            }
        };
        let mut client = two.client;
        client.retain(|f| kept(f));
        // whether each action still matches, in the new document as the build reads it
        let checks = match overlay.check(&mut b.clone()) {
            Ok(c) => c,
            Err(e) => {
                out.error = Some(format!("--overlay: {e}"));
                return out;
            }
        };
        let pointers: Vec<String> = checks
            .iter()
            .map(|c| format!("/actions/{}", c.index))
            .collect();
        let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
        let positions = positions_in_source(
            agentstatus_codegen::sources::SourceKind::Openapi,
            &overlay_doc.bytes,
            &pointers,
        );
        out.actions = checks
            .into_iter()
            .map(|mut check| {
                let pos = positions.get(&format!("/actions/{}", check.index));
                let effect = two.actions.iter().find(|e| e.index == check.index);
                let redundant = effect.is_some_and(|e| e.redundant);
                if check.status != ActionStatus::NoMatch {
                    check.status = if redundant {
                        ActionStatus::AlreadyApplied
                    } else {
                        ActionStatus::Applies
                    };
                }
                // conflicts with changes of the operations compared only
                let conflicts = effect
                    .map(|e| {
                        e.conflicts
                            .iter()
                            .filter(|c| {
                                wanted
                                    .as_ref()
                                    .is_none_or(|w| w.iter().any(|o| c.starts_with(o.as_str())))
                            })
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                OverlayAction {
                    check,
                    file: overlay_doc.name.clone(),
                    line: pos.map(|p| p.0),
                    column: pos.map(|p| p.1),
                    redundant,
                    documentation_differs: effect.is_some_and(|e| e.documentation_differs),
                    conflicts,
                }
            })
            .collect();
        out.client = Some(client);
    }
    for (side, doc) in [(Side::Old, old), (Side::New, new)] {
        let all = findings
            .iter_mut()
            .chain(out.client.iter_mut().flatten())
            .filter(|f| f.side == side);
        let mut list: Vec<&mut Finding> = all.collect();
        let pointers: Vec<String> = list.iter().map(|f| f.pointer.clone()).collect();
        let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
        let positions = positions_in_source(
            agentstatus_codegen::sources::SourceKind::Openapi,
            &doc.bytes,
            &pointers,
        );
        for f in list.iter_mut() {
            f.file = Some(doc.name.clone());
            if let Some(&(line, column)) = positions.get(&f.pointer) {
                f.line = Some(line);
                f.column = Some(column);
            }
        }
    }
    findings.sort();
    if let Some(client) = out.client.as_mut() {
        client.sort();
        out.raw_breaking = Some(findings.iter().filter(|f| f.breaking).count());
        out.raw_non_breaking = Some(findings.iter().filter(|f| !f.breaking).count());
        out.not_in_client = Some(
            findings
                .iter()
                .filter(|f| f.reaches_client == Some(false))
                .count(),
        );
    }
    out.findings = findings;
    let client_layer: Vec<&Finding> = match &out.client {
        Some(client) => out
            .findings
            .iter()
            .filter(|f| f.reaches_client.is_none())
            .chain(client)
            .collect(),
        None => out.findings.iter().collect(),
    };
    out.breaking = client_layer.iter().filter(|f| f.breaking).count();
    out.non_breaking = client_layer.len() - out.breaking;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, text: &str) -> Document {
        Document {
            name: name.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    const OLD: &str = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {description: ok}\n  /b:\n    get:\n      responses:\n        '200': {description: ok}\n";

    #[test]
    fn every_operation_by_default_and_only_the_asked_ones_with_ops() {
        let new = OLD.replace(
            "  /b:\n    get:\n      responses:\n        '200': {description: ok}\n",
            "",
        );
        let c = compare(
            &doc("old.yaml", OLD),
            &doc("new.yaml", &new),
            None,
            FailOn::Breaking,
        );
        assert_eq!((c.breaking, c.exit_code()), (1, 1), "{c:?}");
        let f = &c.findings[0];
        assert_eq!(f.operation, "GET /b");
        assert_eq!(f.position().as_deref(), Some("old.yaml:9:5"));
        let ops = vec!["get /a".to_string()];
        let c = compare(
            &doc("old.yaml", OLD),
            &doc("new.yaml", &new),
            Some(&ops),
            FailOn::Breaking,
        );
        assert_eq!((c.findings.len(), c.exit_code()), (0, 0), "{c:?}");
        let ops = vec!["GET /nope".to_string()];
        let c = compare(
            &doc("old.yaml", OLD),
            &doc("new.yaml", &new),
            Some(&ops),
            FailOn::Breaking,
        );
        assert_eq!(c.exit_code(), 2);
        assert!(
            c.error
                .unwrap()
                .contains("`GET /nope` is in neither document")
        );
    }

    #[test]
    fn unreadable_and_unsupported_documents_exit_2_naming_the_file() {
        for (text, says) in [
            ("swagger: '1.2'\npaths: {}\n", "Swagger version \"1.2\""),
            ("openapi: 4.0.0\npaths: {}\n", "OpenAPI version \"4.0.0\""),
            ("info: {}\n", "no `openapi` or `swagger` version"),
            ("openapi: [unclosed\n", "invalid YAML"),
        ] {
            let c = compare(
                &doc("old.yaml", OLD),
                &doc("bad.yaml", text),
                None,
                FailOn::Drift,
            );
            assert_eq!(c.exit_code(), 2, "{text}");
            let e = c.error.unwrap();
            assert!(e.contains("bad.yaml") && e.contains(says), "{text}: {e}");
        }
    }

    /// Chatwoot's Swagger 2.0 era: a body field renamed and a field made required are
    /// breaking, found in the 2.0 files at the body parameter's line; a path parameter's
    /// unchanged type is no finding.
    #[test]
    fn a_swagger_2_pair_is_read_as_openapi_3() {
        let old = r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"},
"paths": {"/accounts/{account_id}/agents/{id}": {"patch": {
  "parameters": [
    {"name": "account_id", "in": "path", "required": true, "type": "integer"},
    {"name": "id", "in": "path", "required": true, "type": "integer"},
    {"name": "data", "in": "body", "required": true, "schema": {"type": "object",
      "properties": {"role": {"type": "string"}, "availability_status": {"type": "string"}}}}
  ],
  "responses": {"200": {"description": "ok"}}}}}}
"#;
        let new = old
            .replace("\"availability_status\"", "\"availability\"")
            .replace(
                "\"type\": \"object\",",
                "\"type\": \"object\", \"required\": [\"role\"],",
            );
        let c = compare(
            &doc("old.json", old),
            &doc("new.json", &new),
            None,
            FailOn::Breaking,
        );
        assert_eq!(c.exit_code(), 1, "{c:#?}");
        let details: Vec<String> = c
            .findings
            .iter()
            .map(|f| format!("{} {} {}", f.breaking, f.location, f.detail))
            .collect();
        assert!(
            c.findings
                .iter()
                .all(|f| f.operation == "PATCH /accounts/{account_id}/agents/{id}"),
            "{details:?}"
        );
        assert!(
            details
                .iter()
                .any(|d| d.starts_with("true") && d.contains("availability_status")),
            "{details:?}"
        );
        assert!(
            details
                .iter()
                .any(|d| d.starts_with("true") && d.contains("role")),
            "{details:?}"
        );
        assert!(
            !details
                .iter()
                .any(|d| d.contains("account_id") || d.contains("auth")),
            "{details:?}"
        );
        let removed = c
            .findings
            .iter()
            .find(|f| {
                f.detail.contains("availability_status")
                    || f.location.contains("availability_status")
            })
            .unwrap();
        assert_eq!(removed.file.as_deref(), Some("old.json"));
        assert_eq!(
            removed.line,
            Some(7),
            "the 2.0 body parameter's property: {removed:?}"
        );
    }
}
