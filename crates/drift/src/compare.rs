//! Two documents, any two: the `agentstatus-drift OLD NEW` comparison. Each side is read by the
//! generator's own loader (JSON or YAML, Swagger 2.0 converted to OpenAPI 3.0, another version
//! refused), normalised as the build normalises it, and diffed operation by operation; every
//! finding is placed at its document's `line:col` (a Swagger 2.0 node where the 2.0 file has it).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use agentstatus_codegen::{Stage, parse_bytes, run_stage, upgrade_swagger2};
use serde::Serialize;
use serde_json::Value;

use crate::diff::{Finding, Side, diff, diff_unapplied_security_schemes};
use crate::locate::positions_in_source;
use crate::report::FailOn;

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

    /// The OpenAPI 3 document it is read as, normalised as the build normalises it.
    fn parse(&self) -> Result<Value, String> {
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
        run_stage(Stage::Normalise, &mut doc);
        Ok(doc)
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
    /// Only these operations (`METHOD /path`), when asked for; every operation otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// Findings that break a client.
    pub breaking: usize,
    /// Findings that do not.
    pub non_breaking: usize,
    /// Every finding, with its document's `line:col`.
    pub findings: Vec<Finding>,
    /// Why the documents could not be compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Comparison {
    /// 0: nothing that fails the comparison; 1: a change that fails it ([`FailOn`]); 2: the
    /// documents could not be compared.
    pub fn exit_code(&self) -> u8 {
        if self.error.is_some() {
            2
        } else if match self.fail_on {
            FailOn::Drift => !self.findings.is_empty(),
            FailOn::Breaking => self.breaking > 0,
        } {
            1
        } else {
            0
        }
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
    let mut out = Comparison {
        old: old.name.clone(),
        new: new.name.clone(),
        fail_on,
        operations: None,
        breaking: 0,
        non_breaking: 0,
        findings: Vec::new(),
        error: None,
    };
    let wanted = match operations
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
    let (a, b) = match (old.parse(), new.parse()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            out.error = Some(e);
            return out;
        }
    };
    let mut findings = diff(&a, &b);
    findings.extend(diff_unapplied_security_schemes(&a, &b));
    if let Some(w) = &wanted {
        let known: BTreeSet<String> = agentstatus_codegen::nav::operations(&a)
            .into_iter()
            .chain(agentstatus_codegen::nav::operations(&b))
            .map(|(p, m, _)| format!("{} {p}", m.to_ascii_uppercase()))
            .collect();
        if let Some(missing) = w.iter().find(|o| !known.contains(*o)) {
            out.error = Some(format!(
                "--ops: `{missing}` is in neither document ({} has {} operations, {} has {})",
                old.name,
                agentstatus_codegen::nav::count_operations(&a),
                new.name,
                agentstatus_codegen::nav::count_operations(&b)
            ));
            return out;
        }
        findings.retain(|f| f.operation.is_empty() || w.contains(&f.operation));
    }
    for (side, doc) in [(Side::Old, old), (Side::New, new)] {
        let pointers: Vec<&str> = findings
            .iter()
            .filter(|f| f.side == side)
            .map(|f| f.pointer.as_str())
            .collect();
        let positions = positions_in_source(
            agentstatus_codegen::sources::SourceKind::Openapi,
            &doc.bytes,
            &pointers,
        );
        for f in findings.iter_mut().filter(|f| f.side == side) {
            f.file = Some(doc.name.clone());
            if let Some(&(line, column)) = positions.get(&f.pointer) {
                f.line = Some(line);
                f.column = Some(column);
            }
        }
    }
    findings.sort();
    out.breaking = findings.iter().filter(|f| f.breaking).count();
    out.non_breaking = findings.len() - out.breaking;
    out.findings = findings;
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
