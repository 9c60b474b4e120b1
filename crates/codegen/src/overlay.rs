//! OpenAPI Overlay 1.0 documents: every vendor-specific correction, each action with its reason.
//! Parsing and applying are `roas-overlay`'s (RFC 9535 JSONPath via `serde_json_path`); this module
//! adds our rules (every action must say why) and locates errors in the overlay file.

use std::path::Path;

use enumset::EnumSet;
use roas_overlay::apply::{Apply, ApplyOptions};
use roas_overlay::v1_0::Overlay;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

/// The action extension that applies an action to the complete document of the `full` feature
/// only (`x-agentstatus-full-only: true`): a correction of an operation or schema the kept slice
/// does not have, which would match nothing there (and fail the build).
pub const FULL_ONLY: &str = "x-agentstatus-full-only";

/// A parsed overlay, remembering the file it came from.
#[derive(Debug, Clone)]
pub struct OverlayFile {
    /// The file it was read from.
    pub path: std::path::PathBuf,
    /// The parsed overlay.
    pub overlay: Overlay,
}

/// How many nodes each action matched, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionMatch {
    /// The action's 0-based index in the overlay.
    pub index: usize,
    /// Its JSONPath target.
    pub target: String,
    /// Its description (the reason and evidence).
    pub description: String,
    /// How many nodes it matched.
    pub matched: usize,
}

impl OverlayFile {
    /// Read and parse the overlay at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let value = crate::load::load_file(path)?;
        Self::from_value(value, path)
    }

    /// Parse an overlay already loaded from `path` (named in errors).
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
            let full_only = action.extensions.as_ref().and_then(|e| e.get(FULL_ONLY));
            if full_only.is_some_and(|v| !v.is_boolean()) {
                return Err(Error::at(
                    ErrorKind::Invalid,
                    path,
                    format!("/actions/{i}/{FULL_ONLY}"),
                    format!("`{FULL_ONLY}` is `true` or `false`"),
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

    /// Whether action `index` applies to the `full` document only ([`FULL_ONLY`]).
    pub fn is_full_only(&self, index: usize) -> bool {
        self.overlay.actions.get(index).is_some_and(|a| {
            a.extensions
                .as_ref()
                .and_then(|e| e.get(FULL_ONLY))
                .and_then(serde_json::Value::as_bool)
                == Some(true)
        })
    }

    /// The actions that apply to a document: every one for the complete API (`full`), all but
    /// the [`FULL_ONLY`] ones for the kept slice; with each kept action's index in this
    /// overlay.
    pub fn for_document(&self, full: bool) -> (OverlayFile, Vec<usize>) {
        let kept: Vec<usize> = (0..self.overlay.actions.len())
            .filter(|&i| full || !self.is_full_only(i))
            .collect();
        let mut o = self.clone();
        o.overlay.actions = kept
            .iter()
            .map(|&i| self.overlay.actions[i].clone())
            .collect();
        (o, kept)
    }

    /// [`apply`](Self::apply) the actions for the slice (`full` false: without the
    /// [`FULL_ONLY`] ones) or for the complete API; indices, in what is returned and in an
    /// error, are this overlay's.
    pub fn apply_for(&self, doc: &mut Value, full: bool) -> Result<Vec<ActionMatch>> {
        let (o, kept) = self.for_document(full);
        match o.apply(doc) {
            Ok(matched) => Ok(matched
                .into_iter()
                .map(|mut m| {
                    m.index = kept[m.index];
                    m
                })
                .collect()),
            Err(mut e) => {
                if let crate::error::Location::Pointer(p) = &e.location
                    && let Some(rest) = p.strip_prefix("/actions/")
                    && let Some((i, tail)) = rest.split_once('/')
                    && let Ok(i) = i.parse::<usize>()
                    && let Some(original) = kept.get(i)
                {
                    e.location =
                        crate::error::Location::Pointer(format!("/actions/{original}/{tail}"));
                }
                Err(e)
            }
        }
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

/// Whether an overlay action still does something to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    /// The target matches and the action changes the document.
    Applies,
    /// The target matches nothing: the vendor changed the document; review the correction.
    NoMatch,
    /// The target matches but the document already says what the action would make it say:
    /// the vendor has made the fix, the action can go.
    AlreadyApplied,
}

/// The drift check's view of one action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActionCheck {
    /// The action's 0-based index in the overlay.
    pub index: usize,
    /// Its JSONPath target.
    pub target: String,
    /// Its description.
    pub description: String,
    /// How many nodes it matches in the current document.
    pub matched: usize,
    /// Whether it still applies, and how.
    pub status: ActionStatus,
}

impl OverlayFile {
    fn single(&self, index: usize) -> Overlay {
        let mut one = self.overlay.clone();
        one.actions = vec![self.overlay.actions[index].clone()];
        one
    }

    /// The actions as corrections, in order: a `remove` followed by the `update` that puts the
    /// right value back (its target starts with the update's: Overlay 1.0 merges arrays by
    /// appending, so an enum cannot be replaced in one action) is one correction; any other
    /// action is one on its own.
    pub fn corrections(&self) -> Vec<std::ops::Range<usize>> {
        let actions = &self.overlay.actions;
        let mut out = Vec::new();
        let mut i = 0;
        while i < actions.len() {
            let pair = actions[i].remove == Some(true)
                && actions.get(i + 1).is_some_and(|next| {
                    next.update.is_some() && actions[i].target.starts_with(&next.target)
                });
            let span = if pair { 2 } else { 1 };
            out.push(i..i + span);
            i += span;
        }
        out
    }

    /// Apply the actions one by one to `doc`, saying for each whether it still applies.
    ///
    /// A correction is often written as a pair: `remove` a node, then `update` its parent to put
    /// the right value back (Overlay 1.0 merges arrays by appending, so an enum cannot be replaced
    /// in one action). Such a pair (a `remove` whose target starts with the next action's target)
    /// is judged together: it is already applied if the two leave the document as it was.
    pub fn check(&self, doc: &mut Value) -> Result<Vec<ActionCheck>> {
        let actions = &self.overlay.actions;
        let mut out: Vec<ActionCheck> = Vec::with_capacity(actions.len());
        for group in self.corrections() {
            let before = doc.clone();
            let mut matched = Vec::new();
            for j in group.clone() {
                let report = self.single(j).apply(doc, EnumSet::empty()).map_err(|e| {
                    Error::at(
                        ErrorKind::Overlay,
                        &self.path,
                        format!("/actions/{j}/target"),
                        format!("`{}`: {}", e.target, e.kind),
                    )
                })?;
                matched.push(report.actions.first().map_or(0, |a| a.matched));
            }
            let unchanged = *doc == before;
            for (k, j) in group.enumerate() {
                let status = if matched[k] == 0 {
                    ActionStatus::NoMatch
                } else if unchanged {
                    ActionStatus::AlreadyApplied
                } else {
                    ActionStatus::Applies
                };
                out.push(ActionCheck {
                    index: j,
                    target: actions[j].target.clone(),
                    description: actions[j].description.clone().unwrap_or_default(),
                    matched: matched[k],
                    status,
                });
            }
        }
        Ok(out)
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

    #[test]
    fn a_full_only_action_applies_to_the_complete_api_and_not_to_the_slice() {
        let o = overlay(json!([
            {"target": "$.paths['/a'].get", "description": "why", "update": {"summary": "a"}},
            {"target": "$.paths['/rest'].get", "description": "only in full", "x-agentstatus-full-only": true,
             "update": {"summary": "rest"}},
            {"target": "$.paths['/missing'].get", "description": "why", "update": {"summary": "m"}}
        ]))
        .unwrap();
        assert!(o.is_full_only(1) && !o.is_full_only(0) && !o.is_full_only(9));
        let slice =
            json!({"openapi": "3.0.3", "paths": {"/a": {"get": {}}, "/missing": {"get": {}}}});
        let mut full = slice.clone();
        full["paths"]["/rest"] = json!({"get": {}});
        // the slice: the full-only action is left out; indices stay the overlay's
        let mut doc = slice.clone();
        let matched = o.apply_for(&mut doc, false).unwrap();
        assert_eq!(matched.iter().map(|m| m.index).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(doc["paths"]["/a"]["get"]["summary"], "a");
        // every action on the complete API
        let mut doc = full.clone();
        let matched = o.apply_for(&mut doc, true).unwrap();
        assert_eq!(matched.len(), 3);
        assert_eq!(doc["paths"]["/rest"]["get"]["summary"], "rest");
        // without the rule, the slice would not build: the action matches nothing there
        let e = o.apply(&mut slice.clone()).unwrap_err();
        assert_eq!(
            e.location,
            crate::error::Location::Pointer("/actions/1/target".into())
        );
        // an error names the action by its index in the file, not in the slice's list
        let mut doc = json!({"openapi": "3.0.3", "paths": {"/a": {"get": {}}}});
        let e = o.apply_for(&mut doc, false).unwrap_err();
        assert_eq!(
            e.location,
            crate::error::Location::Pointer("/actions/2/target".into())
        );
        // the extension is a boolean
        let e = overlay(json!([
            {"target": "$", "description": "why", "x-agentstatus-full-only": "yes", "update": {}}
        ]))
        .unwrap_err();
        assert_eq!(
            e.location,
            crate::error::Location::Pointer("/actions/0/x-agentstatus-full-only".into())
        );
    }

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
    fn check_tells_applies_no_match_and_already_applied() {
        let o = overlay(json!([
            {"target": "$.a", "description": "fix a", "update": {"x": 1}},
            {"target": "$.gone", "description": "stale", "update": {"x": 1}},
            {"target": "$.b.enum", "description": "pair 1/2", "remove": true},
            {"target": "$.b", "description": "pair 2/2", "update": {"enum": ["p", "q"]}},
            {"target": "$.c.enum", "description": "pair 1/2", "remove": true},
            {"target": "$.c", "description": "pair 2/2", "update": {"enum": ["p", "q"]}}
        ]))
        .unwrap();
        // the vendor fixed `b` already; `c` still needs the correction
        let mut doc = json!({"a": {"x": 0}, "b": {"enum": ["p", "q"]}, "c": {"enum": ["p"]}});
        let status: Vec<_> = o
            .check(&mut doc)
            .unwrap()
            .into_iter()
            .map(|c| c.status)
            .collect();
        use ActionStatus::*;
        assert_eq!(
            status,
            [
                Applies,
                NoMatch,
                AlreadyApplied,
                AlreadyApplied,
                Applies,
                Applies
            ]
        );
        assert_eq!(doc["c"]["enum"], json!(["p", "q"]));
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
