//! OpenAPI Overlay 1.0 documents: every vendor-specific correction, each action with its reason.
//! Parsing and applying are `roas-overlay`'s (RFC 9535 JSONPath via `serde_json_path`); this module
//! adds our rules (every action must say why) and locates errors in the overlay file.

use std::path::Path;

use enumset::EnumSet;
use roas_overlay::apply::{Apply, ApplyOptions};
use roas_overlay::v1_0::Overlay;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

/// A parsed overlay, remembering the file it came from.
#[derive(Debug, Clone)]
pub struct OverlayFile {
    pub path: std::path::PathBuf,
    pub overlay: Overlay,
}

/// How many nodes each action matched, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionMatch {
    pub index: usize,
    pub target: String,
    pub description: String,
    pub matched: usize,
}

impl OverlayFile {
    pub fn load(path: &Path) -> Result<Self> {
        let value = crate::load::load_file(path)?;
        Self::from_value(value, path)
    }

    pub fn from_value(value: Value, path: &Path) -> Result<Self> {
        let overlay: Overlay = serde_path_to_error::deserialize(&value).map_err(|e| {
            Error::at(
                ErrorKind::Invalid,
                path,
                json_pointer(e.path()),
                format!("not an OpenAPI Overlay 1.0 document: {}", e.inner()),
            )
        })?;
        for (i, action) in overlay.actions.iter().enumerate() {
            if action
                .description
                .as_deref()
                .is_none_or(|d| d.trim().is_empty())
            {
                return Err(Error::at(
                    ErrorKind::Invalid,
                    path,
                    format!("/actions/{i}"),
                    "every overlay action needs a `description` giving the reason and its evidence",
                ));
            }
            if action.update.is_none() && action.remove != Some(true) {
                return Err(Error::at(
                    ErrorKind::Invalid,
                    path,
                    format!("/actions/{i}"),
                    "action has neither `update` nor `remove: true`",
                ));
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            overlay,
        })
    }

    /// Apply every action to `doc`. An action whose target matches nothing is an error: a
    /// correction that no longer applies must be looked at, not silently skipped.
    pub fn apply(&self, doc: &mut Value) -> Result<Vec<ActionMatch>> {
        self.apply_with(doc, ApplyOptions::ErrorOnZeroMatch.into())
    }

    /// Apply, reporting zero-match actions instead of failing on them (used by the drift check).
    pub fn apply_lenient(&self, doc: &mut Value) -> Result<Vec<ActionMatch>> {
        self.apply_with(doc, EnumSet::empty())
    }

    fn apply_with(
        &self,
        doc: &mut Value,
        options: EnumSet<ApplyOptions>,
    ) -> Result<Vec<ActionMatch>> {
        let report = self.overlay.apply(doc, options).map_err(|e| {
            Error::at(
                ErrorKind::Overlay,
                &self.path,
                format!("/actions/{}/target", e.action_index),
                format!("`{}`: {}", e.target, e.kind),
            )
        })?;
        Ok(report
            .actions
            .iter()
            .map(|a| ActionMatch {
                index: a.index,
                target: a.target.clone(),
                description: self.overlay.actions[a.index]
                    .description
                    .clone()
                    .unwrap_or_default(),
                matched: a.matched,
            })
            .collect())
    }
}

/// Convert a serde_path_to_error path into a JSON pointer.
pub(crate) fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|seg| match seg {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", crate::error::escape_token(key))),
            Segment::Enum { variant } => Some(format!("/{}", crate::error::escape_token(variant))),
            Segment::Unknown => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(actions: Value) -> Result<OverlayFile> {
        OverlayFile::from_value(
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions}),
            Path::new("overlay.yaml"),
        )
    }

    #[test]
    fn update_and_remove() {
        let o = overlay(json!([
            {"target": "$.paths['/a'].get", "description": "why", "update": {"operationId": "a"}},
            {"target": "$.paths['/a'].get.parameters[?@.name == 'x']", "description": "why", "remove": true}
        ]))
        .unwrap();
        let mut doc =
            json!({"paths": {"/a": {"get": {"parameters": [{"name": "x"}, {"name": "y"}]}}}});
        let report = o.apply(&mut doc).unwrap();
        assert_eq!(doc["paths"]["/a"]["get"]["operationId"], "a");
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"],
            json!([{"name": "y"}])
        );
        assert_eq!(report.iter().map(|r| r.matched).collect::<Vec<_>>(), [1, 1]);
    }

    #[test]
    fn zero_match_is_an_error_naming_the_action() {
        let o = overlay(json!([
            {"target": "$.info", "description": "ok", "update": {"x": 1}},
            {"target": "$.paths['/gone'].get", "description": "why", "update": {"x": 1}}
        ]))
        .unwrap();
        let mut doc = json!({"info": {}, "paths": {}});
        let e = o.apply(&mut doc).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Overlay);
        assert_eq!(e.pointer(), Some("/actions/1/target"));
        assert!(
            e.to_string().contains("overlay.yaml: at /actions/1/target"),
            "{e}"
        );
        // lenient apply reports it instead
        let mut doc = json!({"info": {}, "paths": {}});
        let report = o.apply_lenient(&mut doc).unwrap();
        assert_eq!(report[1].matched, 0);
    }

    #[test]
    fn action_without_reason_is_rejected() {
        let e = overlay(json!([{"target": "$.info", "update": {}}])).unwrap_err();
        assert_eq!(e.pointer(), Some("/actions/0"));
    }

    #[test]
    fn malformed_overlay_is_located() {
        let e = overlay(json!([{"target": 5, "description": "d", "update": {}}])).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.pointer(), Some("/actions/0/target"));
    }
}
