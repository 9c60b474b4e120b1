//! Security requirements: the scopes of a requirement as the generator reads them.

use serde_json::Value;

use super::{Changes, Pass, Stage};
use crate::error::escape_token;
use crate::nav::{operation_pointer, operations_mut};

/// The `security-scopes` pass ([`security_scopes`]).
pub(crate) const SECURITY_SCOPES: Pass = Pass::new(
    "security-scopes",
    Stage::Normalise,
    "A security requirement's scopes that are not a list (Square's `security: [{oauth2: null}]`, which progenitor refuses without saying where) are read as a list: `null` as no scopes, one string as that scope.",
    security_scopes,
);

/// OpenAPI 3.0 §4.7.30: each scheme of a security requirement names a list of scopes (empty
/// for a scheme without scopes). Square writes `{oauth2: null}` for "no scopes"; progenitor's
/// reader (openapiv3) refuses the whole document for it ("invalid type: null, expected a
/// sequence", no place). `null` becomes `[]`, a single string `[it]`; anything else that is not a
/// list (an object, a number) has no scopes the generator could read and becomes `[]` too.
/// Each change is said with its pointer.
pub(crate) fn security_scopes(doc: &mut Value, changes: &mut Changes) {
    if let Some(list) = doc.get_mut("security") {
        fix_requirements(list, "/security", changes);
    }
    for (path, method, op) in operations_mut(doc) {
        if let Some(list) = op.get_mut("security") {
            let at = format!("{}/security", operation_pointer(&path, &method));
            fix_requirements(list, &at, changes);
        }
    }
}

fn fix_requirements(list: &mut Value, at: &str, changes: &mut Changes) {
    let Some(list) = list.as_array_mut() else {
        return;
    };
    for (i, req) in list.iter_mut().enumerate() {
        let Some(req) = req.as_object_mut() else {
            continue;
        };
        for (scheme, scopes) in req.iter_mut() {
            let (fixed, what) = match scopes {
                Value::Array(_) => continue,
                Value::Null => (Value::Array(Vec::new()), "`null`: read as no scopes"),
                Value::String(s) => (
                    Value::Array(vec![Value::String(s.clone())]),
                    "one string: read as a list of that scope",
                ),
                _ => (
                    Value::Array(Vec::new()),
                    "not a list of scopes: read as no scopes",
                ),
            };
            *scopes = fixed;
            changes.push(
                format!("{at}/{i}/{}", escape_token(scheme)),
                format!("the scopes of security scheme {scheme:?} are {what}"),
            );
        }
    }
}
