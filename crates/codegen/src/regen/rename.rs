//! A source's `rename` table applied to its document: the named components take their new
//! names, and every reference of that document to them follows (`$ref`s, a security
//! requirement's scheme names, a discriminator's mapping), before the document is sliced and
//! merged with the other sources'.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Location, Result};
use crate::nav::{local_refs, ref_pointer};
use crate::sources::{Rename, Sources};

/// `section/name` of every component `doc` defines.
pub(super) fn component_names(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (section, entries) in doc
        .get("components")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for name in entries.as_object().into_iter().flatten().map(|(k, _)| k) {
            out.insert(format!("{section}/{name}"));
        }
    }
    out
}

/// Check every source's renames against the documents (`docs[i]` is source `i`'s, as read):
/// the component renamed exists in its source's document, and its new name is defined by
/// neither that document nor any other source's (as that one is renamed). Errors are at the
/// entry's line and column in sources.toml.
pub(super) fn check(sources: &Sources, docs: &[&Value]) -> Result<()> {
    let original: Vec<BTreeSet<String>> = docs.iter().map(|d| component_names(d)).collect();
    // what each source's document defines once its own renames are made
    let renamed: Vec<BTreeSet<String>> = sources
        .sources
        .iter()
        .zip(&original)
        .map(|(s, names)| {
            let mut names = names.clone();
            for r in &s.renames {
                if names.remove(&format!("{}/{}", r.section, r.from)) {
                    names.insert(format!("{}/{}", r.section, r.to));
                }
            }
            names
        })
        .collect();
    for (i, source) in sources.sources.iter().enumerate() {
        for r in &source.renames {
            let refuse = |message: String| {
                Err(Error::new(
                    ErrorKind::Invalid,
                    &sources.file,
                    Location::LineColumn {
                        line: r.line,
                        column: r.column,
                    },
                    format!(
                        "source `{}`: rename `{}/{}` to `{}`: {message}",
                        source.name, r.section, r.from, r.to
                    ),
                ))
            };
            let old = format!("{}/{}", r.section, r.from);
            let new = format!("{}/{}", r.section, r.to);
            if !original[i].contains(&old) {
                return refuse(format!(
                    "the source's document defines no `components/{old}`: nothing to rename"
                ));
            }
            if original[i].contains(&new) {
                return refuse(format!(
                    "the source's document already defines `components/{new}`: choose a name \
                     no source uses"
                ));
            }
            if let Some(j) = (0..renamed.len()).find(|&j| j != i && renamed[j].contains(&new)) {
                return refuse(format!(
                    "source `{}` defines `components/{new}` too: choose a name no source uses",
                    sources.sources[j].name
                ));
            }
        }
    }
    Ok(())
}

/// Apply `renames` to `doc` (checked by [`check`]: each component exists, no new name is
/// taken). The component keeps its place among its section's; every `$ref` to it or into it
/// names the new pointer; a renamed security scheme is renamed in every security requirement;
/// a renamed schema is renamed in discriminator mappings, and where a discriminator named it
/// implicitly (by its name, without a mapping entry) an entry with the old name is added, so
/// the value on the wire stays the same.
pub(super) fn apply(doc: &mut Value, renames: &[Rename]) {
    for r in renames {
        let Some(section) = doc
            .pointer_mut(&crate::error::pointer(["components", r.section.as_str()]))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if !section.contains_key(&r.from) {
            continue;
        }
        let entries = std::mem::take(section);
        *section = entries
            .into_iter()
            .map(|(k, v)| {
                if k == r.from {
                    (r.to.clone(), v)
                } else {
                    (k, v)
                }
            })
            .collect::<Map<String, Value>>();
        if r.section == "schemas" {
            discriminators(doc, r);
        }
        rewrite_refs(doc, r);
        if r.section == "securitySchemes" {
            security_requirements(doc, r);
        }
    }
}

/// `reference` with `old` (a pointer) replaced by `new` when it names `old` or something in it.
fn renamed_ref(reference: &str, old: &str, new: &str) -> Option<String> {
    let p = ref_pointer(reference)?;
    let rest = p.strip_prefix(old)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    // the fragment is percent-decoded when read: a `%` in the rest is written encoded
    Some(format!("#{new}{}", rest.replace('%', "%25")))
}

fn rewrite_refs(doc: &mut Value, r: &Rename) {
    let (old, new) = (r.from_pointer(), r.to_pointer());
    let mut refs = Vec::new();
    local_refs(doc, "", &mut refs);
    for (at, reference) in refs {
        if let Some(renamed) = renamed_ref(&reference, &old, &new)
            && let Some(slot) = doc.pointer_mut(&at)
        {
            *slot = Value::String(renamed);
        }
    }
}

/// Every security requirement object: the root's and each operation's.
fn security_requirements(doc: &mut Value, r: &Rename) {
    let rename = |requirements: &mut Value| {
        for req in requirements
            .as_array_mut()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
        {
            if req.contains_key(&r.from) {
                let entries = std::mem::take(req);
                *req = entries
                    .into_iter()
                    .map(|(k, v)| {
                        if k == r.from {
                            (r.to.clone(), v)
                        } else {
                            (k, v)
                        }
                    })
                    .collect();
            }
        }
    };
    if let Some(s) = doc.get_mut("security") {
        rename(s);
    }
    for item in doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            if crate::nav::is_method(method)
                && let Some(s) = op.get_mut("security")
            {
                rename(s);
            }
        }
    }
}

/// A discriminator's values for the renamed schema stay what they were: a mapping's entry that
/// names it (by reference or by bare name) names the new one, and a discriminator that named it
/// implicitly (a `oneOf`/`anyOf` member beside it, or the schema extending the discriminator's
/// schema through `allOf`, without a mapping entry) gets the entry `<old name>: <new ref>`.
fn discriminators(doc: &mut Value, r: &Rename) {
    let old_ref = format!("#{}", r.from_pointer());
    let new_ref = format!("#{}", r.to_pointer());
    // the discriminators (their pointers) and whether each names the schema implicitly
    let mut found: Vec<(String, bool)> = Vec::new();
    let mut walk = Vec::new();
    walk.push((String::new(), &*doc));
    while let Some((at, v)) = walk.pop() {
        match v {
            Value::Object(map) => {
                if let Some(d) = map
                    .get("discriminator")
                    .filter(|d| d.get("propertyName").is_some())
                {
                    let member = ["oneOf", "anyOf"].iter().any(|k| {
                        map.get(*k).and_then(Value::as_array).is_some_and(|ms| {
                            ms.iter().any(|m| {
                                m.get("$ref").and_then(Value::as_str) == Some(old_ref.as_str())
                            })
                        })
                    });
                    let mapped = d
                        .get("mapping")
                        .and_then(Value::as_object)
                        .is_some_and(|m| {
                            m.values()
                                .any(|v| v.as_str().is_some_and(|v| v == old_ref || v == r.from))
                        });
                    found.push((format!("{at}/discriminator"), member && !mapped));
                }
                for (k, child) in map {
                    if crate::nav::is_data_key(k) {
                        continue;
                    }
                    walk.push((format!("{at}/{}", crate::error::escape_token(k)), child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk.push((format!("{at}/{i}"), child));
                }
            }
            _ => {}
        }
    }
    // the schema extends a schema with a discriminator (`allOf: [{$ref: parent}]`)
    let schema = doc
        .pointer(&r.from_pointer())
        .or_else(|| doc.pointer(&r.to_pointer()));
    let parents: Vec<String> = schema
        .and_then(|s| s.get("allOf"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("$ref").and_then(Value::as_str).and_then(ref_pointer))
        .map(|p| format!("{p}/discriminator"))
        .collect();
    for (at, implicit) in found {
        let Some(d) = doc.pointer_mut(&at).and_then(Value::as_object_mut) else {
            continue;
        };
        let from_parent = parents.contains(&at);
        let mapping = d
            .entry("mapping")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(mapping) = mapping.as_object_mut() else {
            continue;
        };
        let mut mapped = false;
        for v in mapping.values_mut() {
            if v.as_str() == Some(old_ref.as_str()) {
                *v = Value::String(new_ref.clone());
                mapped = true;
            } else if v.as_str() == Some(r.from.as_str()) {
                *v = Value::String(r.to.clone());
                mapped = true;
            }
        }
        if (implicit || from_parent) && !mapped && !mapping.contains_key(&r.from) {
            mapping.insert(r.from.clone(), Value::String(new_ref.clone()));
        }
        if mapping.is_empty() {
            d.remove("mapping");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn rename(section: &str, from: &str, to: &str) -> Rename {
        Rename {
            section: section.into(),
            from: from.into(),
            to: to.into(),
            line: 1,
            column: 1,
        }
    }

    #[test]
    fn a_component_is_renamed_in_place_and_every_reference_follows() {
        let mut doc = json!({
            "security": [{"auth": []}],
            "paths": {"/a": {"get": {
                "security": [{"auth": ["x"]}, {"other": []}],
                "responses": {"default": {"$ref": "#/components/responses/error"}},
                "requestBody": {"content": {"application/json": {"schema":
                    {"$ref": "#/components/responses/error/content/application~1json/schema"}}}}
            }}},
            "components": {
                "schemas": {"errorx": {"type": "string"}},
                "responses": {"first": {"description": "f"}, "error": {"description": "e", "content": {"application/json": {"schema": {"type": "string"}}}}, "last": {"description": "l"}},
                "securitySchemes": {"auth": {"type": "http", "scheme": "bearer"}}
            }
        });
        apply(
            &mut doc,
            &[
                rename("responses", "error", "cn.error"),
                rename("securitySchemes", "auth", "cnAuth"),
            ],
        );
        let names: Vec<&String> = doc["components"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(names, ["first", "cn.error", "last"]);
        let op = &doc["paths"]["/a"]["get"];
        assert_eq!(
            op["responses"]["default"]["$ref"],
            "#/components/responses/cn.error"
        );
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/responses/cn.error/content/application~1json/schema"
        );
        // a name that only starts like the renamed one is another component
        assert_eq!(doc["components"]["schemas"]["errorx"]["type"], "string");
        assert_eq!(doc["security"], json!([{"cnAuth": []}]));
        assert_eq!(op["security"], json!([{"cnAuth": ["x"]}, {"other": []}]));
        assert!(doc["components"]["securitySchemes"].get("cnAuth").is_some());
        crate::slice::check_refs(&doc, Path::new("d")).unwrap();
    }

    #[test]
    fn a_discriminator_keeps_its_values_on_the_wire() {
        let mut doc = json!({"paths": {}, "components": {"schemas": {
            "Pet": {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                    "discriminator": {"propertyName": "kind"}},
            "Mapped": {"oneOf": [{"$ref": "#/components/schemas/Cat"}],
                    "discriminator": {"propertyName": "kind", "mapping": {"cat": "Cat"}}},
            "Base": {"type": "object", "discriminator": {"propertyName": "kind"}},
            "Cat": {"allOf": [{"$ref": "#/components/schemas/Base"}]},
            "Dog": {"type": "object"}
        }}});
        apply(&mut doc, &[rename("schemas", "Cat", "Feline")]);
        let s = &doc["components"]["schemas"];
        // implicitly named `Cat`: the value `Cat` still means the renamed schema
        assert_eq!(
            s["Pet"]["discriminator"]["mapping"],
            json!({"Cat": "#/components/schemas/Feline"})
        );
        assert_eq!(s["Pet"]["oneOf"][0]["$ref"], "#/components/schemas/Feline");
        // an explicit entry by name names the new one; no entry added beside it
        assert_eq!(
            s["Mapped"]["discriminator"]["mapping"],
            json!({"cat": "Feline"})
        );
        // the schema extends Base: Base's discriminator value `Cat` is kept
        assert_eq!(
            s["Base"]["discriminator"]["mapping"],
            json!({"Cat": "#/components/schemas/Feline"})
        );
        // Dog is not renamed: nothing about it added
        assert!(s.get("Dog").is_some() && s.get("Cat").is_none());
    }

    fn sources(renames: &[(&str, &str)]) -> Sources {
        let table: Vec<String> = renames
            .iter()
            .map(|(k, v)| format!("{k:?} = {v:?}"))
            .collect();
        Sources::parse(
            &format!(
                "vendor = \"v\"\n[[source]]\nname = \"a\"\nkind = \"openapi\"\nurl = \"u\"\npinned = \"a.yaml\"\noperations = []\n\
                 [[source]]\nname = \"b\"\nkind = \"openapi\"\nurl = \"u\"\npinned = \"b.yaml\"\noperations = []\n\
                 rename = {{ {} }}\n",
                table.join(", ")
            ),
            Path::new("specs/v/sources.toml"),
        )
        .unwrap()
    }

    #[test]
    fn a_rename_is_refused_where_it_is_written_when_nothing_or_something_else_has_the_name() {
        let a = json!({"paths": {}, "components": {"responses": {"error": {"description": "a"}},
            "schemas": {"taken": {}}}});
        let b = json!({"paths": {}, "components": {"responses": {"error": {"description": "b"}, "mine": {}},
            "schemas": {"S": {}}}});
        assert!(check(&sources(&[("responses/error", "b.error")]), &[&a, &b]).is_ok());
        for (rename, why) in [
            (
                ("responses/nothing", "b.error"),
                "defines no `components/responses/nothing`",
            ),
            (
                ("responses/error", "mine"),
                "already defines `components/responses/mine`",
            ),
            (
                ("schemas/S", "taken"),
                "source `a` defines `components/schemas/taken` too",
            ),
        ] {
            let s = sources(&[rename]);
            let e = check(&s, &[&a, &b]).unwrap_err();
            assert!(e.message.contains(why), "{rename:?}: {e}");
            // at the new name, on the `rename` line of sources.toml
            assert_eq!(e.file, Path::new("specs/v/sources.toml"));
            assert!(
                matches!(e.location, Location::LineColumn { line: 14, column } if column > 10),
                "{e}"
            );
            assert!(e.to_string().starts_with("specs/v/sources.toml:14:"), "{e}");
        }
    }
}
