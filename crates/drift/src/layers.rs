//! The second layer of findings: what reaches the generated client. The raw documents are what
//! the vendor changed; the *effective* documents (normalised, the overlay applied, normalised
//! again: what the generator reads) are what the crate's users see. A raw change the overlay
//! already makes, or one it overrides, does not reach the client.
//!
//! Each overlay action is judged the same way, by comparing effective documents with and without
//! it (never by matching its text): **redundant** when the document is the same without it (the
//! vendor now makes the correction), **conflicting** when a vendor change does not reach the
//! client because the action overrides it.

use serde::Serialize;
use serde_json::Value;

use agentstatus_codegen::overlay::OverlayFile;
use agentstatus_codegen::{Error, Stage, run_stage};

use crate::diff::{ChangeKind, Finding, diff};

/// Normalised, as the build sees a document before the overlay.
pub fn normalised(mut doc: Value) -> Value {
    run_stage(Stage::Normalise, &mut doc);
    doc
}

/// The document the generator reads: normalised, `overlay` applied (leniently: an action that
/// matches nothing is the overlay check's to report), normalised again for what the overlay
/// added. Without an overlay, the normalised document.
pub fn effective(doc: Value, overlay: Option<&OverlayFile>) -> Result<Value, Error> {
    overlaid(normalised(doc), overlay)
}

/// [`effective`] of a document already [`normalised`]: the overlay, and the normaliser again.
fn overlaid(mut doc: Value, overlay: Option<&OverlayFile>) -> Result<Value, Error> {
    if let Some(o) = overlay {
        o.apply_lenient(&mut doc)?;
        run_stage(Stage::Normalise, &mut doc);
    }
    Ok(doc)
}

/// The actions judged together ([`OverlayFile::corrections`]: a `remove` and the `update` that
/// puts the right value back are one correction), as lists of indices.
pub fn action_groups(overlay: &OverlayFile) -> Vec<Vec<usize>> {
    overlay
        .corrections()
        .into_iter()
        .map(Vec::from_iter)
        .collect()
}

/// `overlay` without the actions `skip`.
fn without(overlay: &OverlayFile, skip: &[usize]) -> OverlayFile {
    let mut o = overlay.clone();
    o.overlay.actions = overlay
        .overlay
        .actions
        .iter()
        .enumerate()
        .filter(|(i, _)| !skip.contains(i))
        .map(|(_, a)| a.clone())
        .collect();
    o
}

/// The document without its documentation (`description`, `summary`, `example`, `examples`,
/// `title` of a schema are prose the generator only copies into doc comments): what a correction
/// is about.
fn without_documentation(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "description" | "summary" | "example" | "examples" | "externalDocs"
                    )
                })
                .map(|(k, v)| (k.clone(), without_documentation(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_documentation).collect()),
        other => other.clone(),
    }
}

/// How one overlay action (or remove+update pair) stands after the vendor's change, judged on
/// effective documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionEffect {
    /// The action's 0-based index in the overlay.
    pub index: usize,
    /// The effective document is the same without it (without its documentation, for an action
    /// that corrected more than documentation): the vendor now makes the correction.
    pub redundant: bool,
    /// Documentation only the action still adds where it is otherwise redundant (its
    /// `description`, say): keep that part if it is still wanted.
    pub documentation_differs: bool,
    /// Vendor changes (`operation location: detail`) the action keeps from the client while it
    /// still changes the document: the action and the vendor now disagree.
    pub conflicts: Vec<String>,
}

/// Both layers of a vendor change, and the overlay's part in it.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// The effective documents compared: what the generated client sees change.
    pub client: Vec<Finding>,
    /// Per overlay action, its standing in the new document.
    pub actions: Vec<ActionEffect>,
}

/// The same change in both layers: its operation, kind and place (the detail may be worded
/// from different schemas).
fn key(f: &Finding) -> (&str, ChangeKind, &str) {
    (&f.operation, f.change, &f.location)
}

/// The client-layer findings (`client`) no raw finding (`raw`) reaches the client as: the
/// overlay or the normaliser turned a vendor change into these.
pub fn client_only<'a>(raw: &[Finding], client: &'a [Finding]) -> Vec<&'a Finding> {
    client
        .iter()
        .filter(|c| {
            !raw.iter()
                .any(|f| f.reaches_client == Some(true) && key(f) == key(c))
        })
        .collect()
}

/// A finding in one line, for the conflicts list.
fn line(f: &Finding) -> String {
    [f.operation.as_str(), f.location.as_str(), f.detail.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compare the effective documents of `old` and `new` (raw documents) under `overlay`, and
/// mark each of `raw` (the raw documents' findings) with whether it reaches the client. Returns
/// the client layer's findings (and the two effective documents).
pub fn client_layer(
    old: &Value,
    new: &Value,
    overlay: Option<&OverlayFile>,
    raw: &mut [Finding],
) -> Result<(Vec<Finding>, Value, Value), Error> {
    let old_eff = effective(old.clone(), overlay)?;
    let new_eff = effective(new.clone(), overlay)?;
    let client = diff(&old_eff, &new_eff);
    for f in raw.iter_mut() {
        // a conflict between sources breaks regen whatever the overlay; a security scheme no
        // operation applies is compared apart from the operations (the overlay applies it)
        if matches!(
            f.change,
            ChangeKind::SourceConflict
                | ChangeKind::OperationPublished
                | ChangeKind::SecuritySchemeChanged
        ) {
            continue;
        }
        f.reaches_client = Some(client.iter().any(|c| key(c) == key(f)));
    }
    Ok((client, old_eff, new_eff))
}

/// [`client_layer`], and every overlay action judged against `new`: redundant (the effective
/// document is the same without it) or in conflict with a vendor change.
pub fn layers(
    old: &Value,
    new: &Value,
    overlay: Option<&OverlayFile>,
    raw: &mut [Finding],
) -> Result<Layers, Error> {
    let (client, old_eff, new_eff) = client_layer(old, new, overlay, raw)?;
    let mut actions = Vec::new();
    if let Some(overlay) = overlay {
        // normalised once: each action group is judged on the same two documents
        let old_n = normalised(old.clone());
        let new_n = (old != new).then(|| normalised(new.clone()));
        let masked: Vec<&Finding> = raw
            .iter()
            .filter(|f| f.reaches_client == Some(false))
            .collect();
        for group in action_groups(overlay) {
            let rest = without(overlay, &group);
            let old_without = overlaid(old_n.clone(), Some(&rest))?;
            // offline, or nothing changed: one document
            let new_without = match &new_n {
                None => old_without.clone(),
                Some(new_n) => overlaid(new_n.clone(), Some(&rest))?,
            };
            // an action that corrected more than documentation in the old document is judged
            // on what it corrects; a documentation action on everything
            let structural = without_documentation(&old_without) != without_documentation(&old_eff);
            let same = new_without == new_eff;
            let same_but_docs =
                without_documentation(&new_without) == without_documentation(&new_eff);
            let redundant = same || (structural && same_but_docs);
            // a masked vendor change that shows once the action is gone: this action keeps it
            // from the client
            let conflicts: Vec<String> = if masked.is_empty() {
                Vec::new()
            } else {
                let bare = diff(&old_without, &new_without);
                masked
                    .iter()
                    .filter(|f| bare.iter().any(|b| key(b) == key(f)))
                    .map(|f| line(f))
                    .collect()
            };
            for &index in &group {
                actions.push(ActionEffect {
                    index,
                    redundant,
                    documentation_differs: redundant && !same,
                    // a redundant action masks the change it already made: that is no conflict
                    conflicts: if redundant {
                        Vec::new()
                    } else {
                        conflicts.clone()
                    },
                });
            }
        }
    }
    Ok(Layers { client, actions })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn overlay(actions: Value) -> OverlayFile {
        OverlayFile::from_value(
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions}),
            Path::new("overlay.yaml"),
        )
        .unwrap()
    }

    /// `GET /a` answering an object with `id` (the schema given).
    fn doc(id: Value) -> Value {
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/A"}}}}}}}},
            "components": {"schemas": {"A": {"type": "object", "properties": {"id": id}}}}})
    }

    const NULLABLE: &str = "$.components.schemas.A.properties.id";

    #[test]
    fn a_vendor_change_the_overlay_already_made_does_not_reach_the_client_and_the_action_is_redundant()
     {
        let o = overlay(json!([
            {"target": NULLABLE, "description": "why", "update": {"nullable": true, "description": "ours"}}
        ]));
        let old = doc(json!({"type": "integer"}));
        let new = doc(json!({"type": "integer", "nullable": true, "description": "theirs"}));
        let mut raw = diff(&normalised(old.clone()), &normalised(new.clone()));
        assert!(!raw.is_empty(), "the raw documents differ");
        let l = layers(&old, &new, Some(&o), &mut raw).unwrap();
        assert!(l.client.is_empty(), "{:?}", l.client);
        assert!(raw.iter().all(|f| f.reaches_client == Some(false)));
        assert_eq!(
            l.actions,
            [ActionEffect {
                index: 0,
                redundant: true,
                documentation_differs: true,
                conflicts: vec![],
            }]
        );
    }

    #[test]
    fn a_vendor_change_the_overlay_overrides_is_a_conflict() {
        // the overlay corrects the type to integer; the vendor now says string
        let o = overlay(json!([
            {"target": NULLABLE, "description": "why", "update": {"type": "integer"}}
        ]));
        let old = doc(json!({"type": "number"}));
        let new = doc(json!({"type": "string"}));
        let mut raw = diff(&normalised(old.clone()), &normalised(new.clone()));
        assert_eq!(raw.len(), 1, "{raw:?}");
        let l = layers(&old, &new, Some(&o), &mut raw).unwrap();
        assert!(l.client.is_empty());
        assert_eq!(raw[0].reaches_client, Some(false));
        assert!(!l.actions[0].redundant);
        assert_eq!(l.actions[0].conflicts.len(), 1, "{:?}", l.actions);
        assert!(l.actions[0].conflicts[0].starts_with("GET /a response 200: id"));
    }

    #[test]
    fn a_change_the_overlay_does_not_touch_reaches_the_client_and_actions_still_apply() {
        let o = overlay(json!([
            {"target": NULLABLE, "description": "why", "update": {"nullable": true}}
        ]));
        let old = doc(json!({"type": "integer"}));
        let mut new = doc(json!({"type": "integer"}));
        new["components"]["schemas"]["A"]["properties"]["name"] = json!({"type": "string"});
        let mut raw = diff(&normalised(old.clone()), &normalised(new.clone()));
        let l = layers(&old, &new, Some(&o), &mut raw).unwrap();
        assert_eq!(raw.len(), 1);
        assert_eq!(raw[0].reaches_client, Some(true));
        assert_eq!(l.client.len(), 1);
        assert!(!l.actions[0].redundant && l.actions[0].conflicts.is_empty());
    }

    #[test]
    fn removals_and_documentation_actions_are_judged_on_the_effective_document() {
        let o = overlay(json!([
            // the vendor removed the property the overlay removed: redundant
            {"target": "$.components.schemas.A.properties.gone", "description": "why", "remove": true},
            // documentation only, still different: applies
            {"target": NULLABLE, "description": "why", "update": {"description": "ours"}}
        ]));
        let mut old = doc(json!({"type": "integer"}));
        old["components"]["schemas"]["A"]["properties"]["gone"] = json!({"type": "string"});
        let new = doc(json!({"type": "integer", "description": "theirs"}));
        let mut raw = diff(&normalised(old.clone()), &normalised(new.clone()));
        assert_eq!(raw.len(), 1, "property removed: {raw:?}");
        let l = layers(&old, &new, Some(&o), &mut raw).unwrap();
        assert_eq!(raw[0].reaches_client, Some(false));
        assert!(l.client.is_empty());
        assert!(l.actions[0].redundant && !l.actions[0].documentation_differs);
        assert!(!l.actions[1].redundant, "{:?}", l.actions);
    }
}
