//! Type names: every Rust type name typify and progenitor will give is worked out before
//! generation, and two schemas that would get one name are told apart, once, by renaming.
//!
//! The names, as typify 0.8 and progenitor 0.15 make them (typify-impl `src/util.rs`
//! `sanitize`/`get_type_name`, `src/lib.rs` `Name::append`, `src/structs.rs`, `src/convert.rs`;
//! progenitor-impl `src/method.rs`):
//!
//! - a component is named after its key (its `title` is ignored);
//! - an inline schema that makes a type (a struct, an enum, a union, a constrained string) is
//!   named after its `title`, else after its place: `{Parent}{Property}`, `{Parent}Item`,
//!   `{Parent}Value`, `{Parent}ExtraValue`, and for an operation `{OperationId}{Parameter}`,
//!   `{OperationId}Body`, `{OperationId}Response` (every JSON answer of an operation has that
//!   one name);
//! - every name goes through typify's `sanitize`: characters that cannot continue an identifier
//!   become word breaks, Pascal case, `X` before a first character that cannot start one, `_`
//!   after a keyword (`Self_`).
//!
//! typify keeps one type per name: an inline schema whose name is already taken silently
//! becomes the type that has it (a wrong type, or E0308 where they differ), and a component
//! converted after an inline schema of its name is emitted twice (E0428, E0119), which cost
//! Stripe's `subscription_schedule` and every operation reaching it.
//!
//! # Every name typify-impl 0.8.0 and progenitor-impl 0.15.1 derive
//!
//! Read from their sources (`~/.cargo/registry/src/*/typify-impl-0.8.0/src`,
//! `.../progenitor-impl-0.15.1/src`). `place` is typify's `Name` as handed down (a component's
//! key is `Name::Required`, which no title overrides; anything else is `Name::Suggested`, which a
//! schema's own `title` overrides: `util.rs:854` `get_type_name`); `name` is `get_type_name` of
//! it, the title when there is one. `Name::append(s)` (`lib.rs:164`) is `{place}_{s}` and ignores
//! the title. Every name is `sanitize`d to Pascal case (`util.rs:783`) when a type is made of it,
//! and `assign_type` (`lib.rs:967`) keeps the first type of a name: a later schema of that name
//! silently becomes it (a component later is emitted twice, E0428).
//!
//! | where (file:line) | name | when | here |
//! |---|---|---|---|
//! | typify `lib.rs:700` | `{key}` (Required) | a component | [`colliding_type_names`] |
//! | typify `lib.rs:812` | hint (Suggested) | progenitor's `add_type_with_name` | [`operation_schemas`] |
//! | progenitor `method.rs:317`, `:338`, `:375` | `{OperationId}-{parameter}` | a path, query, header parameter's schema | [`operation_schemas`] |
//! | progenitor `method.rs:2150` | `{OperationId}-body` | a JSON or form body | [`operation_schemas`] |
//! | progenitor `method.rs:471` | `{OperationId}-response` | every JSON answer | [`operation_schemas`], [`Root::Answer`] |
//! | progenitor `method.rs:1429`, `:1893` | `builder::{OperationId}` | one builder per operation, in module `builder` (no type of `types`) | `operation-ids` pass (unique ids) |
//! | progenitor `method.rs:2000` | `Client{Tag}Ext` | `TagStyle::Separate` only; this workspace generates `Merged` | never made |
//! | typify `convert.rs:99` | `{place}Inner` | a nullable typed schema (`type: [T, null]`) with a Required place: a nullable component that `nullable-components` leaves (string, number, array); the inner type and its children are named from it, a title overriding | [`nullable_inner`] |
//! | typify `convert.rs:1950` | `{name}Inner` | a typed enum that is no string enum (`type: object`/`array` with `enum`): the type without the values | [`typed_enum_inner`] |
//! | typify `structs.rs:61` | `{name}_{property in snake case}` | a struct's property | [`child_name`] |
//! | typify `structs.rs:99`, `:210` | `{name}_extraValue` | a struct's `additionalProperties` schema | [`inline_names`] |
//! | typify `convert.rs:1281`, `:1326`, `structs.rs:210` | `{place}Value` | a map's values (the place, not the title) | [`inline_names`] |
//! | typify `structs.rs:200` | `{place}Key`, `{name}_extraKey` | `propertyNames` | unreachable: progenitor's `to_schema.rs:232` never sets `propertyNames` (OpenAPI 3.0 has none) |
//! | typify `convert.rs:1288` | `{place}Key`, `{place}Value` | `patternProperties` | unreachable: `to_schema.rs:230` sets none |
//! | typify `convert.rs:1857` | `{name}Item` | an array's items | [`inline_names`] |
//! | typify `convert.rs:1829`, `:1838` | `{place}_item` | a fixed-length array's items (`minItems` = `maxItems` > 0, not unique) | [`inline_names`] |
//! | typify `convert.rs:1799`, `:1806`, `:1820` | `{place}_additional`, `{place}_item{i}` | a tuple (`items` a list) | unreachable: `to_schema.rs:248` makes `items` one schema (OpenAPI 3.0 has no tuples; `openapi-3-1` turns `prefixItems` into one) |
//! | typify `structs.rs:281` | `{name}Subtype{i}` | an `anyOf` whose members typify does not find mutually exclusive (`util.rs:46` `all_mutually_exclusive`): a struct of flattened optional members | [`all_mutually_exclusive`], [`inline_names`] |
//! | typify `convert.rs:2089` | the wrapper's `place` | a one-member `allOf`/`oneOf`/`anyOf` (the member in its place) | [`one_member_composition`] |
//! | typify `convert.rs:1443` (`convert_all_of`), `:545` | the merged type's names | an `allOf` of several members, or a composition beside other keywords: one merged type | [`merged_properties`] |
//! | typify `enums.rs:223` | `{place}_{variant}` | an externally tagged union's content | [`Tagging::External`] |
//! | typify `enums.rs:372`, `:421` (`internal_variant`, `struct_members`) | `{name}_{property}`, where `name` is the member's title (Suggested) or the union's | an internally tagged union's variants' properties: one prefix for every variant | [`Tagging::Internal`] |
//! | typify `enums.rs:551`, `:555` | `{place}_{content}` (Required), `{place}_{variant}` | an adjacently tagged union's content | [`Tagging::Adjacent`] |
//! | typify `enums.rs:647`, `:660` | `{name}_{variant}`, `Variant{i}` | an untagged union's members (`util.rs:598` `schema_is_named`, common prefix removed) | [`variant_names`], [`settle_places`] |
//! | typify `convert.rs:1467` | `{name}` (Required) | an empty `anyOf` (a never type) | the union's own name |
//! | typify `convert.rs:1689`, `:1755` | the `not` schema's `name` | a `not` of enumerated values: a newtype | [`makes_type`] (no children) |
//! | typify `defaults.rs:374` | `defaults::{type}_{property}` (snake case) | a function per property default, in module `defaults` | not a type name; two could meet (`A_b.c`, `A.b_c`), not predicted |
//! | typify `enums.rs:819` | `{type}{Variant}` | only the serde attributes of a struct variant's properties (their default functions) | as above |
//!
//! What typify's own code uses unqualified beside the types (`Default::default()`, `Ok`, `Err`,
//! `Some`, `None`, `String`) is [`RESERVED_TYPE_NAMES`].

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Changes, Pass, Stage};
use crate::error::escape_token;
use crate::nav;

/// The Rust type name typify gives a schema named or titled `name`: its `sanitize` in Pascal
/// case, exactly (typify-impl 0.8 `src/util.rs`).
pub(crate) fn rust_type_name(name: &str) -> String {
    use heck::ToPascalCase;
    use unicode_ident::{is_xid_continue, is_xid_start};
    let out = match name {
        "+1" => "plus1".to_string(),
        "-1" => "minus1".to_string(),
        _ => name
            .replace('\'', "")
            .replace(|c: char| !is_xid_continue(c), "-")
            .to_pascal_case(),
    };
    let out = match out.chars().next() {
        None => "X".to_string(),
        Some(c) if is_xid_start(c) => out,
        Some(_) => format!("X{out}"),
    };
    // the only keyword a Pascal-case name can be
    if out == "Self" { "Self_".into() } else { out }
}

/// Names the code generated beside the types uses without a path, in the module of the types
/// (`Default::default()` in every builder, `Ok(..)`/`Err(..)` in every conversion,
/// `Some`/`None`, `String` in typify's `TryFrom<String>` of every newtype of a string: a
/// component `String`, Ory's Go-generated `String: {$ref: NullString}`, made each of them
/// `TryFrom<types::String>`, E0599): a type named so shadows them, so the schema is renamed
/// like a collision.
pub(crate) const RESERVED_TYPE_NAMES: &[&str] = &["Default", "Ok", "Err", "Some", "None", "String"];

/// The `colliding-type-names` pass ([`colliding_type_names`]).
pub(crate) const COLLIDING_TYPE_NAMES: Pass = Pass::new(
    "colliding-type-names",
    Stage::Fix,
    "Schemas that would give one Rust type name (`user_id` and `UserId`; an inline schema titled or placed like a component or another inline schema, a union member named as typify names it, the `{Name}Subtype{i}` members of an `anyOf` typify cannot prove exclusive, an internally tagged union's `{Union}{Property}`, the `{Key}Inner` inside a nullable component, a type an `allOf` merges from its `$ref` members; a name the generated code uses unqualified) get distinct names, each rename once (E0428, E0119, or one silently decoded as the other).",
    colliding_type_names,
);

/// The keywords that make a schema a composition.
const COMPOSITIONS: &[&str] = &["oneOf", "anyOf", "allOf", "not"];

/// Who has a Rust type name.
enum Owner {
    /// The generated code's own (see [`RESERVED_TYPE_NAMES`]).
    Reserved,
    /// A component schema.
    Component,
    /// An inline schema, as it was when it took the name: an identical one may share it (typify
    /// gives both the one type).
    Inline(Value),
}

/// The Rust type names given so far, the document as it was before the pass (what an
/// `allOf`'s `$ref` members bring into the type typify merges from them), and whether the
/// schema being walked is one whose string enums the `open-response-enums` pass (later in
/// the pipeline) wraps in `OpenEnum` (an answer's, a component no request reaches): typify
/// then sees no constant there, so no tagged union ([`tagging`]); and where each name's type
/// comes from (the pointer of its schema: [`type_origins`]).
#[derive(Default)]
struct Names(
    BTreeMap<String, Owner>,
    Value,
    bool,
    BTreeMap<String, String>,
);

/// `schema` without its own title: what two inline schemas must share to share a name.
fn untitled(schema: &Map<String, Value>) -> Value {
    let mut v = schema.clone();
    v.remove("title");
    Value::Object(v)
}

impl Names {
    /// Can `schema` (inline) be named `name`: free, or taken by an identical inline schema?
    fn fits(&self, name: &str, schema: &Map<String, Value>) -> bool {
        match self.0.get(name) {
            None => true,
            Some(Owner::Inline(v)) => *v == untitled(schema),
            Some(_) => false,
        }
    }

    /// `name` is neither a component's nor the generated code's (an operation's answers all
    /// have its one place-name, see [`colliding_type_names`]).
    fn not_reserved(&self, name: &str) -> bool {
        matches!(self.0.get(name), None | Some(Owner::Inline(_)))
    }

    /// Take `name` for the inline `schema` at `at` (kept when an identical schema has it).
    fn take_inline(&mut self, name: String, schema: &Map<String, Value>, at: &str) {
        self.3.entry(name.clone()).or_insert_with(|| at.to_string());
        self.0
            .entry(name)
            .or_insert_with(|| Owner::Inline(untitled(schema)));
    }

    /// Can a schema that typify names `name` have it, with the types its `allOf`'s `$ref`
    /// members bring in (named `{name}{Property}`, see [`merged_properties`])?
    fn fits_merged(&self, name: &str, schema: &Map<String, Value>) -> bool {
        self.fits(name, schema)
            && merged_properties(&self.1, schema)
                .0
                .iter()
                .all(|(prop, s)| self.fits(&child_name(name, prop), s))
    }

    /// Take `name` for `schema`, and the names of the types its `allOf`'s `$ref` members bring
    /// in.
    fn take_merged(&mut self, name: String, schema: &Map<String, Value>, at: &str) {
        for (prop, s) in merged_properties(&self.1, schema).0 {
            self.take_inline(child_name(&name, &prop), &s, at);
        }
        self.take_inline(name, schema, at);
    }
}

/// typify's name for the type of property `prop` of the type named `parent`.
fn child_name(parent: &str, prop: &str) -> String {
    use heck::ToSnakeCase;
    rust_type_name(&format!("{parent}_{}", prop.to_snake_case()))
}

/// A property's name and schema.
type Property = (String, Map<String, Value>);

/// How many schemas [`merged_properties`] follows for one `allOf` at most (each once).
pub(crate) const MAX_MERGED: usize = 1_000;

/// The inline properties that make a type which an `allOf` of several members gets from its
/// `$ref` members: typify merges the members (references resolved) into one type, so a
/// property a referenced component declares inline becomes a type named after the merged one
/// (`{Merged}{Property}`: Vonage's inbound `{title: MMS, allOf: [$ref, $ref mmsMessageCommon]}`
/// gives `MmsMessage`, the name of the component `mmsMessage`). Titled properties keep their
/// title's name and are the component's own; a property that is a `$ref` is no new type.
/// The walk reads each schema once and at most [`MAX_MERGED`] of them; `true` beside the list
/// when it stopped there (what it did not read is not checked, and [`inline_names`] says so).
fn merged_properties(doc: &Value, schema: &Map<String, Value>) -> (Vec<Property>, bool) {
    let Some(Value::Array(members)) = schema.get("allOf") else {
        return (Vec::new(), false);
    };
    if members.len() < 2 {
        return (Vec::new(), false);
    }
    let mut out: Vec<Property> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // (schema, reached through a `$ref`)
    let mut todo: Vec<(&Value, bool)> = members.iter().rev().map(|m| (m, false)).collect();
    while let Some((member, through_ref)) = todo.pop() {
        if seen.len() >= MAX_MERGED {
            return (out, true);
        }
        let (target, at) = nav::resolve_at(doc, member, "");
        let through_ref = through_ref || !at.is_empty();
        if !at.is_empty() && !seen.insert(at) {
            continue;
        }
        let Some(map) = target.as_object() else {
            continue;
        };
        if through_ref && let Some(Value::Object(props)) = map.get("properties") {
            for (prop, p) in props {
                if let Some(p) = p.as_object()
                    && !p.contains_key("$ref")
                    && !p.contains_key("title")
                    && makes_type(p)
                    && !out.iter().any(|(q, _)| q == prop)
                {
                    out.push((prop.clone(), p.clone()));
                }
            }
        }
        if let Some(Value::Array(inner)) = map.get("allOf") {
            todo.extend(inner.iter().rev().map(|m| (m, through_ref)));
        }
    }
    (out, false)
}

/// typify's names for a union's members (typify-impl 0.8 `src/enums.rs` `untagged_enum` and
/// `src/util.rs` `schema_is_named`): each member's name (a lone `$ref`'s target, a title, a
/// lone member's name, else its type or format), unless one has none or two are the same
/// (then `Variant0`, `Variant1`, ...), without the words they all begin with. `None` when the
/// union is one typify reads as tagged (its members' types are then not named after them).
fn variant_names(members: &[Value]) -> Option<Vec<String>> {
    let fallback = || (0..members.len()).map(|i| format!("Variant{i}")).collect();
    let named: Option<Vec<String>> = members.iter().map(schema_is_named).collect();
    let Some(named) =
        named.filter(|n| n.len() == n.iter().collect::<std::collections::BTreeSet<_>>().len())
    else {
        return Some(fallback());
    };
    let prefix = named
        .iter()
        .cloned()
        .reduce(|a, b| common_prefix(&a, &b))
        .unwrap_or_default();
    let stripped: Option<Vec<String>> = named
        .iter()
        .map(|n| Some(n[prefix.len()..].to_string()).filter(|v| !v.is_empty()))
        .collect();
    Some(stripped.unwrap_or_else(fallback))
}

/// typify-impl's `get_common_prefix`: the words (kebab case) two names begin with, in Pascal
/// case.
fn common_prefix(a: &str, b: &str) -> String {
    use heck::{ToKebabCase, ToPascalCase};
    let (a, b) = (a.to_kebab_case(), b.to_kebab_case());
    a.split('-')
        .zip(b.split('-'))
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect::<Vec<&str>>()
        .join("-")
        .to_pascal_case()
}

/// typify-impl's `schema_is_named`, on the document's JSON.
fn schema_is_named(schema: &Value) -> Option<String> {
    use heck::ToPascalCase;
    let map = schema.as_object()?;
    const METADATA: &[&str] = &[
        "title",
        "description",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "example",
        "examples",
        "externalDocs",
        "nullable",
    ];
    let only = |keys: &[&str]| {
        map.keys().all(|k| {
            keys.contains(&k.as_str()) || METADATA.contains(&k.as_str()) || k.starts_with("x-")
        })
    };
    let raw = if let Some(r) = map.get("$ref").and_then(Value::as_str)
        && only(&["$ref"])
        && !map.contains_key("nullable")
    {
        r.rsplit('/').next()?.to_string()
    } else if let Some(t) = map.get("title").and_then(Value::as_str) {
        t.to_string()
    } else if COMPOSITIONS.iter().any(|k| map.contains_key(*k))
        && only(&["allOf", "oneOf", "anyOf", "not", "type"])
    {
        let lone: Vec<&Value> = COMPOSITIONS.iter().filter_map(|k| map.get(*k)).collect();
        match lone.as_slice() {
            [Value::Array(one)] if one.len() == 1 => return schema_is_named(&one[0]),
            _ => return None,
        }
    } else {
        let ty = map.get("type").and_then(Value::as_str)?;
        match map.get("format").and_then(Value::as_str) {
            Some(f) => f.to_pascal_case(),
            None => match ty {
                "boolean" => "Boolean".into(),
                "integer" => "Integer".into(),
                "number" => "Number".into(),
                "string" => "String".into(),
                "array" => "Array".into(),
                "object" => "Object".into(),
                "null" => "Null".into(),
                _ => return None,
            },
        }
    };
    Some(rust_type_name(&raw))
}

/// Does typify read this union as internally tagged (every member an inline object with one
/// required property of a constant string value, different in each)? Its members are then
/// struct variants, not types of their own.
fn internally_tagged(members: &[Value]) -> bool {
    let constants = |m: &Value| -> Option<BTreeMap<String, String>> {
        let m = m.as_object()?;
        if m.contains_key("$ref") || COMPOSITIONS.iter().any(|k| m.contains_key(*k)) {
            return None;
        }
        let required: Vec<&str> = m
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        Some(
            m.get("properties")?
                .as_object()?
                .iter()
                .filter(|(k, _)| required.contains(&k.as_str()))
                .filter_map(|(k, p)| {
                    let one = p
                        .get("enum")
                        .and_then(Value::as_array)
                        .filter(|e| e.len() == 1);
                    let v = one
                        .and_then(|e| e[0].as_str())
                        .or_else(|| p.get("const").and_then(Value::as_str))?;
                    Some((k.clone(), v.to_string()))
                })
                .collect(),
        )
    };
    let Some(all) = members.iter().map(constants).collect::<Option<Vec<_>>>() else {
        return false;
    };
    let Some(first) = all.first() else {
        return false;
    };
    first.keys().any(|k| {
        let values: Vec<&String> = all.iter().filter_map(|m| m.get(k)).collect();
        values.len() == all.len()
            && values.len()
                == values
                    .iter()
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
    })
}

/// Whether typify makes a named type of this inline schema: a struct, an enum, a union, a
/// merge of several schemas, or a string with a length or pattern (a newtype that checks it).
pub(super) fn makes_type(schema: &Map<String, Value>) -> bool {
    ["properties", "enum", "oneOf", "anyOf"]
        .iter()
        .any(|k| schema.contains_key(*k))
        || schema
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1)
        || constrained_string(schema)
}

/// A string typify checks in a newtype of its own: `maxLength`, `minLength` or `pattern`, and no
/// format it reads as another type (typify-impl `convert_string`).
fn constrained_string(schema: &Map<String, Value>) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("string")
        && ["maxLength", "minLength", "pattern"]
            .iter()
            .any(|k| schema.contains_key(*k))
        && !schema
            .get("format")
            .and_then(Value::as_str)
            .is_some_and(|f| {
                matches!(
                    f,
                    "uuid" | "date" | "date-time" | "ip" | "ipv4" | "ipv6" | "binary"
                )
            })
}

/// typify names a component after its key and an inline schema after its `title`, or else after
/// where it sits; progenitor names an operation's inline parameter, body and answer schemas after
/// the operation. Two of those that give one Rust name make the crate fail (E0428, or E0119 on
/// their impls: Sendgrid's `metadata` and `_metadata`, Intercom's inline `Quick Reply Option`
/// items beside the `quick_reply_option` component, Stripe's inline `subscription.schedule`
/// beside `subscription_schedule`, GetStream's string titled `Policy` beside `Policy`), or one
/// is silently decoded as the other. A later component is renamed (`_metadata_2`, every `$ref`
/// to it following); an inline schema's clashing title is dropped, and an inline schema whose
/// place-name clashes gets a title of its own (`TicketTypeInline`). Identical inline schemas
/// share their name, as typify shares their type.
pub(crate) fn colliding_type_names(doc: &mut Value, changes: &mut Changes) {
    predict(doc, changes);
}

/// Where each Rust type typify will make for `doc` comes from: its name and the pointer of its
/// schema (`/components/schemas/<key>` for a component, the inline schema's own pointer, an
/// operation's parameter, body or answer schema), as the pass predicts them. On a document the
/// pass has run on, nothing is renamed; a compile error in a type is the fault of the schema
/// this names, not of a component whose name the type's happens to begin with.
pub(crate) fn type_origins(doc: &Value) -> BTreeMap<String, String> {
    let mut doc = doc.clone();
    predict(&mut doc, &mut Changes::default()).3
}

/// The pass itself ([`colliding_type_names`]): the names it gave, and where each comes from.
fn predict(doc: &mut Value, changes: &mut Changes) -> Names {
    let mut names = Names::default();
    for n in RESERVED_TYPE_NAMES {
        names.0.insert(n.to_string(), Owner::Reserved);
    }
    // components first: keys whose type names collide
    let keys: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let all: std::collections::BTreeSet<&String> = keys.iter().collect();
    let mut renames: Vec<(String, String)> = Vec::new();
    for key in &keys {
        if let std::collections::btree_map::Entry::Vacant(e) = names.0.entry(rust_type_name(key)) {
            e.insert(Owner::Component);
            names.3.insert(
                rust_type_name(key),
                format!("/components/schemas/{}", escape_token(key)),
            );
            continue;
        }
        let (new_key, new_name) = (2..)
            .map(|n| format!("{key}_{n}"))
            .map(|k| {
                let n = rust_type_name(&k);
                (k, n)
            })
            .find(|(k, n)| !all.contains(k) && !names.0.contains_key(n))
            .expect("an unused name");
        names.0.insert(new_name.clone(), Owner::Component);
        names.3.insert(
            new_name,
            format!("/components/schemas/{}", escape_token(&new_key)),
        );
        renames.push((key.clone(), new_key));
    }
    for (old, new) in &renames {
        if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
            let entries: Vec<(String, Value)> = std::mem::take(schemas).into_iter().collect();
            for (k, v) in entries {
                schemas.insert(if k == *old { new.clone() } else { k }, v);
            }
        }
        let from = format!("#/components/schemas/{}", escape_token(old));
        let to = format!("#/components/schemas/{}", escape_token(new));
        rewrite_refs(doc, &from, &to);
        changes.push(format!("/components/schemas/{}", escape_token(old)), format!(
                "`{old}` would be the Rust type `{}` like another component or a name the generated code uses: renamed `{new}` (its references follow)",
                rust_type_name(old)
            ));
    }
    // the inline schemas of the components (what `allOf`s merge is read from the document
    // with its components renamed)
    names.1 = doc.clone();
    let requested = super::open_enums::request_components(doc);
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (key, schema) in schemas.iter_mut() {
            names.2 = !requested.contains(key);
            let at = format!("/components/schemas/{}", escape_token(key));
            if nullable_inner(schema) {
                // `{Key}(Option<{Key}Inner>)`: the inside is named like an inline schema
                inline_names(
                    schema,
                    Some(rust_type_name(&format!("{key}Inner"))),
                    Root::Inline,
                    &at,
                    &mut names,
                    changes,
                );
                continue;
            }
            inline_names(
                schema,
                Some(rust_type_name(key)),
                Root::Component,
                &at,
                &mut names,
                changes,
            );
        }
    }
    // the operations' inline parameter, body and answer schemas, named after the operation
    for (at, name, answer) in operation_schemas(doc) {
        if let Some(schema) = doc.pointer_mut(&at) {
            let root = if answer { Root::Answer } else { Root::Inline };
            names.2 = answer;
            inline_names(schema, Some(name), root, &at, &mut names, changes);
        }
    }
    names
}

/// The inline schemas progenitor names after an operation, `(pointer, name)` in the order it
/// meets them: each parameter's (`{OperationId}{Parameter}`), the body's (`{OperationId}Body`)
/// and each JSON answer's (`{OperationId}Response`). A parameter, body or answer shared through
/// `components` is listed once per operation.
fn operation_schemas(doc: &Value) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for (path, method, op) in nav::operations(doc) {
        let Some(id) = op.get("operationId").and_then(Value::as_str) else {
            continue;
        };
        let op_at = nav::operation_pointer(path, method);
        let item_at = format!("/paths/{}", escape_token(path));
        let params = [
            (
                doc.pointer(&format!("{item_at}/parameters")),
                item_at.clone(),
            ),
            (op.get("parameters"), op_at.clone()),
        ];
        for (list, at) in params {
            for (i, p) in list
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let (p, p_at) = nav::resolve_at(doc, p, &format!("{at}/parameters/{i}"));
                if let Some(name) = p.get("name").and_then(Value::as_str) {
                    out.push((
                        format!("{p_at}/schema"),
                        rust_type_name(&format!("{id}-{name}")),
                        false,
                    ));
                }
            }
        }
        if let Some(body) = op.get("requestBody") {
            let (body, at) = nav::resolve_at(doc, body, &format!("{op_at}/requestBody"));
            for mt in body
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|c| c.keys())
            {
                out.push((
                    format!("{at}/content/{}/schema", escape_token(mt)),
                    rust_type_name(&format!("{id}-body")),
                    false,
                ));
            }
        }
        for (code, response) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let here = format!("{op_at}/responses/{}", escape_token(code));
            let (response, at) = nav::resolve_at(doc, response, &here);
            for mt in response
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|c| c.keys())
                .filter(|mt| *mt == "application/json" || mt.starts_with("application/json;"))
            {
                out.push((
                    format!("{at}/content/{}/schema", escape_token(mt)),
                    rust_type_name(&format!("{id}-response")),
                    true,
                ));
            }
        }
    }
    out
}

pub(super) fn rewrite_refs(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && (r == from || r.starts_with(&format!("{from}/")))
            {
                *r = format!("{to}{}", &r[from.len()..]);
            }
            map.values_mut().for_each(|c| rewrite_refs(c, from, to));
        }
        Value::Array(items) => items.iter_mut().for_each(|c| rewrite_refs(c, from, to)),
        _ => {}
    }
}

/// What a schema walked by [`inline_names`] is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Root {
    /// A component: named after its key, already taken.
    Component,
    /// An operation's answer: every JSON answer of an operation has the one place-name, and
    /// progenitor asserts that the successes (and the errors) are one type, which typify makes
    /// them by that name: only a component's or the generated code's name is a clash.
    Answer,
    /// The content of a tagged union's variant (`{union}_{variant}`): typify makes a struct
    /// variant of an object there (typify-impl `src/enums.rs` `external_variant`), which is no
    /// type of its own, so its name is taken by nothing, though its properties' types are
    /// named after it; any other content is a type like an [`Root::Inline`] schema.
    Variant,
    /// Any other schema.
    Inline,
}

/// Does typify convert this schema to a struct (typify-impl `src/convert.rs` `convert_object`,
/// "the typical case"): an object (no reference, no composition, no enum, not nullable, which
/// progenitor makes an `Option`) with properties, required names or `additionalProperties:
/// false`.
fn converts_to_struct(map: &Map<String, Value>) -> bool {
    if map.contains_key("$ref")
        || map.contains_key("enum")
        || COMPOSITIONS.iter().any(|k| map.contains_key(*k))
        || map.get("nullable") == Some(&Value::Bool(true))
        || map
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "object")
    {
        return false;
    }
    let non_empty = |k: &str| match map.get(k) {
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        _ => false,
    };
    non_empty("properties")
        || non_empty("required")
        || map.get("additionalProperties") == Some(&Value::Bool(false))
}

/// The keyword of a composition of one member that typify converts as the member itself, in
/// its place (typify-impl 0.8 `src/convert.rs`: the "Subschemas" arm, which reads no other
/// keyword than metadata and `type`, then `convert_all_of`/`convert_one_of`
/// `maybe_singleton_subschema`, which converts the member with the wrapper's name, not its
/// title; a lone `anyOf` member is mutually exclusive, so a `oneOf`). A lone `oneOf` member
/// typify reads as a tagged variant (an object with one property: an external tag; a
/// constant: an internal one) stays a union. `None` for any other schema: one with a `$ref`
/// or a keyword beside the composition is merged into a type of the wrapper's own.
fn one_member_composition(map: &Map<String, Value>) -> Option<&'static str> {
    const BESIDE: &[&str] = &[
        "title",
        "description",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "example",
        "examples",
        "externalDocs",
        "nullable",
        "type",
    ];
    if map.keys().any(|k| {
        !k.starts_with("x-") && !BESIDE.contains(&k.as_str()) && !COMPOSITIONS.contains(&k.as_str())
    }) {
        return None;
    }
    let present: Vec<&str> = COMPOSITIONS
        .iter()
        .copied()
        .filter(|k| map.contains_key(*k))
        .collect();
    let [key] = present.as_slice() else {
        return None;
    };
    let Some(Value::Array(members)) = map.get(*key) else {
        return None;
    };
    let [member] = members.as_slice() else {
        return None;
    };
    if *key == "not" || !member.is_object() {
        return None;
    }
    if *key != "allOf" && (internally_tagged(members) || externally_tagged_member(member)) {
        return None;
    }
    Some(key)
}

/// Would typify read this lone union member as an externally tagged variant (typify-impl
/// `maybe_externally_tagged_enum`): a string enum, or an object of exactly one required
/// property and no others.
fn externally_tagged_member(member: &Value) -> bool {
    let Some(m) = member.as_object() else {
        return false;
    };
    if m.contains_key("enum") {
        return true;
    }
    let props = m.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = m
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    props.is_some_and(|p| p.len() == 1 && required.len() == 1 && p.contains_key(required[0]))
}

/// Walk `schema`, which typify names `name` unless it has a title (`None`: a name this pass
/// cannot tell, a union's member, which it neither takes nor gives its children).
fn inline_names(
    schema: &mut Value,
    name: Option<String>,
    root: Root,
    at: &str,
    names: &mut Names,
    changes: &mut Changes,
) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if map.contains_key("$ref") {
        return;
    }
    if merged_properties(&names.1, map).1 {
        changes.push(format!("{at}/allOf"), format!(
            "the types this `allOf` merges from its references were read up to {MAX_MERGED} schemas: the names of the rest are not checked for collisions"
        ));
    }
    // a composition of one member is no type of its own: typify converts the member in its
    // place, with the wrapper's place-name (its title is not read; the member's own title is)
    if let Some(key) = one_member_composition(map) {
        let root = match root {
            Root::Variant => Root::Inline,
            root => root,
        };
        if let Some(Value::Array(members)) = map.get_mut(key) {
            inline_names(
                &mut members[0],
                name,
                root,
                &format!("{at}/{key}/0"),
                names,
                changes,
            );
        }
        return;
    }
    // the name of the place, which typify uses for a map's values and a fixed-length array's
    // items even where a title names the schema (`Name::into_option`, `Name::append`)
    let place = name.clone();
    let mut name = name;
    let root = match root {
        Root::Variant if !converts_to_struct(map) => Root::Inline,
        root => root,
    };
    if root == Root::Variant {
        // a struct variant: its properties' types are named after its title, else its place
        if let Some(title) = map.get("title").and_then(Value::as_str) {
            name = Some(rust_type_name(title));
        }
    }
    let clash = |names: &Names, n: &str, map: &Map<String, Value>| match root {
        Root::Answer => !names.not_reserved(n),
        _ => !names.fits_merged(n, map),
    };
    if !matches!(root, Root::Component | Root::Variant) {
        // progenitor hands typify a nullable composition as `oneOf: [null, the composition]`,
        // its title outside: the composition is named after its place, never its title
        let nullable_union = map.get("nullable") == Some(&Value::Bool(true))
            && COMPOSITIONS.iter().any(|k| map.contains_key(*k));
        let title = map.get("title").and_then(Value::as_str).map(str::to_string);
        if let Some(title) = title.filter(|_| !nullable_union) {
            let titled = rust_type_name(&title);
            if makes_type(map) && clash(names, &titled, map) {
                map.remove("title");
                changes.push(format!("{at}/title"), format!(
                        "title {title:?} would name this inline schema `{titled}`, a name already given to another schema: dropped"
                    ));
            } else {
                name = Some(titled);
            }
        }
        if makes_type(map) {
            if let Some(place) = name.clone()
                && (nullable_union || !map.contains_key("title"))
                && clash(names, &place, map)
            {
                let fresh = (1..)
                    .map(|n| match n {
                        1 => format!("{place}Inline"),
                        n => format!("{place}Inline{n}"),
                    })
                    .find(|n| {
                        if nullable_union {
                            !names.0.contains_key(n)
                        } else {
                            names.fits_merged(n, map)
                        }
                    })
                    .expect("an unused name");
                if nullable_union {
                    // the composition moves into a one-member `allOf` that has the title
                    // (typify names a lone `allOf` member by its own title)
                    let mut inner = Map::new();
                    for k in COMPOSITIONS.iter().chain(&["discriminator"]) {
                        if let Some(v) = map.remove(*k) {
                            inner.insert(k.to_string(), v);
                        }
                    }
                    map.remove("title");
                    inner.insert("title".into(), Value::String(fresh.clone()));
                    map.insert("allOf".into(), Value::Array(vec![Value::Object(inner)]));
                    changes.push(at.to_string(), format!(
                            "this nullable composition would be the Rust type `{place}`, a name already given to another schema: it is the one member of an `allOf` titled `{fresh}`"
                        ));
                    if let Some(Value::Array(members)) = map.get_mut("allOf") {
                        inline_names(
                            &mut members[0],
                            None,
                            Root::Inline,
                            &format!("{at}/allOf/0"),
                            names,
                            changes,
                        );
                    }
                    return;
                }
                changes.push(at.to_string(), format!(
                        "this inline schema would be the Rust type `{place}`, a name already given to another schema: titled `{fresh}`"
                    ));
                map.insert("title".into(), Value::String(fresh.clone()));
                name = Some(fresh);
            }
            if let Some(n) = &name {
                names.take_merged(n.clone(), map, at);
            }
        }
    }
    // a component that merges `$ref` members has their inline properties' types too
    if root == Root::Component
        && let Some(n) = &name
    {
        for (prop, s) in merged_properties(&names.1, map).0 {
            names.take_inline(child_name(n, &prop), &s, at);
        }
    }
    // a typed enum that is no string enum is a newtype over its type without the values,
    // converted under `{name}Inner` ([`typed_enum_inner`]): a struct of that name, and the
    // name everything in it is named after
    let mut place = place;
    if let Some(n) = name.clone()
        && let Some(inner) = typed_enum_inner(map, &n)
    {
        let mut bare = map.clone();
        bare.remove("enum");
        let mut inner = inner;
        if converts_to_struct(&bare) && inner != n && !names.fits_merged(&inner, &bare) {
            // a title names the newtype and the struct inside it alike (typify keeps the
            // struct), so a fresh title is a free name for both
            let fresh = (1..)
                .map(|k| match k {
                    1 => format!("{n}Inline"),
                    k => format!("{n}Inline{k}"),
                })
                .find(|f| !names.0.contains_key(f))
                .expect("an unused name");
            changes.push(at.to_string(), format!(
                "this enum's values would be checked by a newtype over the Rust type `{inner}`, a name already given to another schema: titled `{fresh}` (the type and the values' type share it)"
            ));
            map.insert("title".into(), Value::String(fresh.clone()));
            inner = fresh;
        }
        if converts_to_struct(&bare) && inner != n {
            names.take_inline(inner.clone(), &bare, at);
        }
        name = Some(inner.clone());
        place = Some(inner);
    }
    // typify: `{parent}_{property in snake case}`, then sanitized
    let child = |suffix: &str| {
        name.as_ref()
            .map(|n| rust_type_name(&format!("{n}_{suffix}")))
    };
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (prop, schema) in props.iter_mut() {
            use heck::ToSnakeCase;
            let child_at = format!("{at}/properties/{}", escape_token(prop));
            let child_name = child(&prop.to_snake_case());
            inline_names(schema, child_name, Root::Inline, &child_at, names, changes);
        }
    }
    // typify-impl `convert_object`: no properties, required names or pattern properties is a
    // map, its values `{place}Value`; else a struct whose other properties are
    // `{name}_extra` maps (`{Name}ExtraValue`). `convert_array`: a fixed length
    // (`minItems` = `maxItems` > 0) names the items `{place}_item`, any other `{name}Item`.
    let empty = |k: &str| match map.get(k) {
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => true,
    };
    let is_map = empty("properties") && empty("required") && empty("patternProperties");
    let fixed = map
        .get("minItems")
        .and_then(Value::as_u64)
        .is_some_and(|n| n > 0)
        && map.get("minItems") == map.get("maxItems")
        && map.get("uniqueItems") != Some(&Value::Bool(true));
    let by_place = |suffix: &str| {
        place
            .as_ref()
            .map(|n| rust_type_name(&format!("{n}_{suffix}")))
    };
    let children = [
        (
            "items",
            if fixed {
                by_place("item")
            } else {
                child("item")
            },
        ),
        (
            "additionalProperties",
            if is_map {
                by_place("value")
            } else {
                child("extra_value")
            },
        ),
    ];
    for (key, child_name) in children {
        if let Some(v) = map.get_mut(key).filter(|v| v.is_object()) {
            inline_names(
                v,
                child_name,
                Root::Inline,
                &format!("{at}/{key}"),
                names,
                changes,
            );
        }
    }
    // typify merges `allOf` members into this type: their properties are its own (Box's
    // `SignRequestSignerInput`: `allOf: [$ref, {properties: {validation: {anyOf: ...}}}]`)
    if let Some(Value::Array(members)) = map.get_mut("allOf") {
        for (i, member) in members.iter_mut().enumerate() {
            if let Some(Value::Object(props)) = member.get_mut("properties") {
                for (prop, schema) in props.iter_mut() {
                    use heck::ToSnakeCase;
                    let child_at = format!("{at}/allOf/{i}/properties/{}", escape_token(prop));
                    let child_name = child(&prop.to_snake_case());
                    inline_names(schema, child_name, Root::Inline, &child_at, names, changes);
                }
            }
        }
    }
    // a union's members are named after the union and how typify reads it ([`tagging`]): an
    // untagged union's after what each member is (typify's `schema_is_named`, with the prefix
    // they share removed: [`variant_names`]), a member's own title first, so the titles are
    // settled before the names are worked out from them; a tagged union's after its tags
    let nullable_inline =
        map.get("nullable") == Some(&Value::Bool(true)) && root != Root::Component;
    let union_name = name.clone().filter(|_| !nullable_inline);
    // what typify names the members' types after where it does not read the union's title: a
    // nullable composition reaches it as `oneOf: [null, the composition]`, its title outside
    let members_base = if nullable_inline {
        place.clone()
    } else {
        name.clone()
    };
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(members)) = map.get_mut(key) {
            let union_at = format!("{at}/{key}");
            // an `anyOf` typify cannot prove mutually exclusive is a struct of its members
            // flattened, each `{Name}Subtype{i}` (typify-impl `src/structs.rs`
            // `flattened_union_struct`); one it can is read as a `oneOf`
            if key == "anyOf" && !all_mutually_exclusive(members, &names.1, names.2) {
                for (i, member) in members.iter_mut().enumerate() {
                    let place = members_base
                        .as_ref()
                        .map(|u| rust_type_name(&format!("{u}Subtype{i}")));
                    inline_names(
                        member,
                        place,
                        Root::Inline,
                        &format!("{union_at}/{i}"),
                        names,
                        changes,
                    );
                }
                continue;
            }
            match tagging(members, names.2) {
                Tagging::External => {
                    // `{variant: content}`: the content is named `{union}_{variant}`
                    for (i, member) in members.iter_mut().enumerate() {
                        if let Some(Value::Object(props)) = member.get_mut("properties")
                            && let Some((prop, content)) = props.iter_mut().next()
                        {
                            let place = union_name
                                .as_ref()
                                .map(|u| rust_type_name(&format!("{u}_{prop}")));
                            let content_at =
                                format!("{union_at}/{i}/properties/{}", escape_token(prop));
                            inline_names(
                                content,
                                place,
                                Root::Variant,
                                &content_at,
                                names,
                                changes,
                            );
                        }
                    }
                }
                Tagging::Adjacent { tag, content } => {
                    // `{tag: variant, content: ...}`: the content is named `{union}_{content}`
                    // for a component's union, else `{union}_{variant}`
                    for (i, member) in members.iter_mut().enumerate() {
                        let Some(Value::Object(props)) = member.get_mut("properties") else {
                            continue;
                        };
                        let variant = props
                            .get(&tag)
                            .and_then(|s| constant_string(s, false))
                            .map(str::to_string);
                        let Some(schema) = props.get_mut(&content) else {
                            continue;
                        };
                        let suffix = if root == Root::Component {
                            Some(content.clone())
                        } else {
                            variant
                        };
                        let place = union_name
                            .as_ref()
                            .zip(suffix)
                            .map(|(u, v)| rust_type_name(&format!("{u}_{v}")));
                        let content_at =
                            format!("{union_at}/{i}/properties/{}", escape_token(&content));
                        inline_names(schema, place, Root::Variant, &content_at, names, changes);
                    }
                }
                Tagging::Internal => {
                    // typify makes one enum of the members, each a struct variant (no type of
                    // its own) without the tag, whose properties' types are named after the
                    // member's title (a union with a required name: the union's) or else the
                    // union: every variant's `{union}_{property}` (typify-impl `src/enums.rs`
                    // `internal_variant`)
                    let tag = internal_tag(members, names.2);
                    for (i, member) in members.iter_mut().enumerate() {
                        let member_at = format!("{union_at}/{i}");
                        let title = member
                            .get("title")
                            .and_then(Value::as_str)
                            .filter(|_| root != Root::Component)
                            .map(rust_type_name);
                        let base = title.or_else(|| members_base.clone());
                        match (&tag, base, member.get_mut("properties")) {
                            (Some(tag), Some(base), Some(Value::Object(props))) => {
                                for (prop, schema) in props.iter_mut().filter(|(k, _)| *k != tag) {
                                    inline_names(
                                        schema,
                                        Some(child_name(&base, prop)),
                                        Root::Inline,
                                        &format!("{member_at}/properties/{}", escape_token(prop)),
                                        names,
                                        changes,
                                    );
                                }
                            }
                            _ => {
                                inline_names(member, None, Root::Inline, &member_at, names, changes)
                            }
                        }
                    }
                }
                Tagging::Untagged => {
                    for (i, member) in members.iter_mut().enumerate() {
                        settle_title(member, &format!("{union_at}/{i}"), names, changes);
                    }
                    let places = union_name
                        .as_ref()
                        .map(|u| settle_places(u, members, &union_at, names, changes))
                        .unwrap_or_default();
                    for (i, member) in members.iter_mut().enumerate() {
                        inline_names(
                            member,
                            places.get(i).cloned(),
                            Root::Inline,
                            &format!("{union_at}/{i}"),
                            names,
                            changes,
                        );
                    }
                }
            }
        }
    }
}

/// The place-names (`{union}_{variant}`) of an untagged union's members, with the titles that
/// settle them: a member without a title whose place-name is already another schema's gets a
/// title of its own (`{place}Inline`) here, before any member is named, because a title is a
/// name typify reads for the variant names ([`variant_names`]) and so can change every other
/// member's (two members named alike are `Variant0`, `Variant1` until one of them has a title).
/// The names are worked out again after each such title, until none is added.
fn settle_places(
    union: &str,
    members: &mut [Value],
    at: &str,
    names: &mut Names,
    changes: &mut Changes,
) -> Vec<String> {
    // each round titles one more member at most once: bounded by the number of members
    for _ in 0..=members.len() {
        let variants = variant_names(members).unwrap_or_default();
        let places: Vec<String> = variants
            .iter()
            .map(|v| rust_type_name(&format!("{union}_{v}")))
            .collect();
        let clash = members.iter().zip(&places).position(|(m, place)| {
            m.as_object()
                .is_some_and(|map| named_by_place(map) && !names.fits_merged(place, map))
        });
        let Some(i) = clash else {
            return places;
        };
        let place = &places[i];
        let map = members[i].as_object_mut().expect("an object");
        let fresh = (1..)
            .map(|n| match n {
                1 => format!("{place}Inline"),
                n => format!("{place}Inline{n}"),
            })
            .find(|n| {
                let mut with = map.clone();
                with.insert("title".into(), Value::String(n.clone()));
                names.fits_merged(n, &with)
            })
            .expect("an unused name");
        map.insert("title".into(), Value::String(fresh.clone()));
        changes.push(format!("{at}/{i}"), format!(
            "this union member would be the Rust type `{place}`, a name already given to another schema: titled `{fresh}` (the union's other members named again after it)"
        ));
        names.take_merged(fresh, map, &format!("{at}/{i}"));
    }
    variant_names(members)
        .unwrap_or_default()
        .iter()
        .map(|v| rust_type_name(&format!("{union}_{v}")))
        .collect()
}

/// Does typify name this union member (a type of its own) after its place: no reference, no
/// title, and not a nullable composition (named after its place whatever it holds, see
/// [`inline_names`]).
fn named_by_place(map: &Map<String, Value>) -> bool {
    if map.contains_key("$ref") || map.contains_key("title") || !makes_type(map) {
        return false;
    }
    let nullable = map.get("nullable") == Some(&Value::Bool(true));
    !(nullable && COMPOSITIONS.iter().any(|k| map.contains_key(*k)))
}

/// How typify 0.8 reads a union's members (typify-impl `src/convert.rs` `convert_one_of`, the
/// forms tried in this order; `src/enums.rs`), which decides what their types are named.
#[derive(Debug, PartialEq, Eq)]
enum Tagging {
    /// `maybe_externally_tagged_enum`: every member a string enum (simple variants) or an
    /// object of one required property (the variant, its schema the content), the variants
    /// unique. The content is named `{union}_{variant}`; the member itself is no type.
    External,
    /// `maybe_adjacently_tagged_enum`: every member an object whose properties are all
    /// required, one of them a constant string in every member (`tag`), and two properties
    /// in all (`content`, the other). The content is named `{union}_{content}` for a
    /// component's union (typify's `Name::Required`), else `{union}_{variant}`.
    Adjacent { tag: String, content: String },
    /// `maybe_internally_tagged_enum` (see [`internally_tagged`]): no member type.
    Internal,
    /// `untagged_enum`: each member named `{union}_{variant}` ([`variant_names`]).
    Untagged,
}

/// `open`: the union's string enums are wrapped in `OpenEnum` before typify reads them (see
/// [`Names`]), so none is a constant or a string enum to typify.
fn tagging(members: &[Value], open: bool) -> Tagging {
    if externally_tagged(members, open) {
        return Tagging::External;
    }
    if let Some((tag, content)) = adjacently_tagged(members, open) {
        return Tagging::Adjacent { tag, content };
    }
    if !open && internally_tagged(members) {
        return Tagging::Internal;
    }
    Tagging::Untagged
}

/// typify-impl's `constant_string_value`: a schema that is one string value (`enum` of one
/// string, typed `string` or untyped, nothing else but metadata).
fn constant_string(schema: &Value, open: bool) -> Option<&str> {
    let map = schema.as_object().filter(|_| !open)?;
    let values = map.get("enum")?.as_array().filter(|v| v.len() == 1)?;
    let metadata_or = |allowed: &[&str]| {
        map.keys().all(|k| {
            allowed.contains(&k.as_str()) || METADATA.contains(&k.as_str()) || k.starts_with("x-")
        })
    };
    match map.get("type").and_then(Value::as_str) {
        Some("string") if metadata_or(&["type", "enum"]) => values[0].as_str(),
        None if metadata_or(&["enum"]) => values[0].as_str(),
        _ => None,
    }
}

/// Schema keywords typify reads as metadata (they do not change what a schema is).
const METADATA: &[&str] = &[
    "title",
    "description",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "example",
    "examples",
    "externalDocs",
];

/// typify-impl's `get_object`: a plain object (typed `object`, or untyped with nothing but
/// object keywords), no extra properties, no property counts: its properties and required
/// names.
fn plain_object(schema: &Value) -> Option<(&Map<String, Value>, Vec<&str>)> {
    let map = schema.as_object()?;
    const OBJECT: &[&str] = &["type", "properties", "required", "additionalProperties"];
    if !map.keys().all(|k| {
        OBJECT.contains(&k.as_str()) || METADATA.contains(&k.as_str()) || k.starts_with("x-")
    }) {
        return None;
    }
    if map.get("type").is_some_and(|t| t != "object")
        || map
            .get("additionalProperties")
            .is_some_and(|a| a != &Value::Bool(false))
    {
        return None;
    }
    let props = map.get("properties")?.as_object()?;
    let mut required: Vec<&str> = map
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    required.sort_unstable();
    required.dedup();
    Some((props, required))
}

/// typify's externally tagged form (see [`Tagging::External`]).
fn externally_tagged(members: &[Value], open: bool) -> bool {
    let mut variants: Vec<&str> = Vec::new();
    for member in members {
        let map = member.as_object().filter(|_| !open);
        let strings = map.and_then(|m| {
            let untyped_or_string =
                matches!(m.get("type").and_then(Value::as_str), None | Some("string"));
            let only = m.keys().all(|k| {
                ["type", "enum"].contains(&k.as_str())
                    || METADATA.contains(&k.as_str())
                    || k.starts_with("x-")
            });
            m.get("enum")
                .and_then(Value::as_array)
                .filter(|_| untyped_or_string && only)
                .and_then(|values| values.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
        });
        if let Some(values) = strings {
            variants.extend(values);
            continue;
        }
        match plain_object(member) {
            Some((props, required)) if props.len() == 1 && required.len() == 1 => {
                let prop = props.keys().next().expect("one property");
                if required[0] != prop {
                    return false;
                }
                variants.push(prop);
            }
            _ => return false,
        }
    }
    let unique: std::collections::BTreeSet<&&str> = variants.iter().collect();
    !members.is_empty() && unique.len() == variants.len()
}

/// typify's adjacently tagged form (see [`Tagging::Adjacent`]): `(tag, content)`.
fn adjacently_tagged(members: &[Value], open: bool) -> Option<(String, String)> {
    use std::collections::BTreeSet;
    let sets = members
        .iter()
        .map(|m| {
            let (props, required) = plain_object(m)?;
            if props.len() != required.len() {
                return None;
            }
            let constants: BTreeSet<&String> = props
                .iter()
                .filter(|(_, s)| constant_string(s, open).is_some())
                .map(|(k, _)| k)
                .collect();
            Some((constants, props.keys().collect::<BTreeSet<&String>>()))
        })
        .collect::<Option<Vec<_>>>()?;
    let (tags, all) = sets
        .into_iter()
        .reduce(|(a_tags, a_all), (b_tags, b_all)| {
            (
                a_tags.intersection(&b_tags).copied().collect(),
                a_all.union(&b_all).copied().collect(),
            )
        })?;
    if tags.len() != 1 || all.len() != 2 {
        return None;
    }
    let tag = tags.into_iter().next()?;
    let content = all.into_iter().find(|k| *k != tag)?;
    Some((tag.clone(), content.clone()))
}

/// A union member's title, settled before the union's variant names are worked out from the
/// titles: one that would name a type already given to another schema (itself, or what its
/// `allOf` merges) becomes a fresh title rather than being dropped (dropping it would change
/// every member's variant name).
fn settle_title(member: &mut Value, at: &str, names: &mut Names, changes: &mut Changes) {
    let Some(map) = member.as_object_mut() else {
        return;
    };
    if map.contains_key("$ref") || !makes_type(map) {
        return;
    }
    let nullable_union = map.get("nullable") == Some(&Value::Bool(true))
        && COMPOSITIONS.iter().any(|k| map.contains_key(*k));
    let Some(title) = map.get("title").and_then(Value::as_str).map(str::to_string) else {
        return;
    };
    if nullable_union {
        return;
    }
    let titled = rust_type_name(&title);
    if names.fits_merged(&titled, map) {
        names.take_merged(titled, map, at);
        return;
    }
    let fresh = (1..)
        .map(|n| match n {
            1 => format!("{titled}Inline"),
            n => format!("{titled}Inline{n}"),
        })
        .find(|n| {
            let mut with = map.clone();
            with.insert("title".into(), Value::String(n.clone()));
            names.fits_merged(n, &with)
        })
        .expect("an unused name");
    map.insert("title".into(), Value::String(fresh.clone()));
    changes.push(format!("{at}/title"), format!(
        "title {title:?} would name this union member `{titled}`, a name already given to another schema (or what its `allOf` brings in would): titled `{fresh}`"
    ));
    names.take_merged(fresh, map, at);
}

/// How deep [`exclusive`] reads into compositions at most (typify's own check has no bound but
/// the schema's depth; a document's depth is bounded only by its size).
const MAX_EXCLUSIVE_DEPTH: usize = 32;

/// The schema as progenitor hands it to typify (progenitor-impl 0.15 `src/to_schema.rs`), as
/// far as typify's mutual-exclusion check reads it: a `$ref` alone (its siblings dropped), a
/// `nullable` type as the list `[type, "null"]`, a nullable composition as `oneOf: [null,
/// the composition]` with the metadata outside, `example` as metadata, the extensions,
/// `discriminator`, `externalDocs` and `xml` gone.
fn schemars_view(schema: &Value) -> Value {
    let Some(map) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(r) = map.get("$ref") {
        return serde_json::json!({"$ref": r});
    }
    let nullable = map.get("nullable") == Some(&Value::Bool(true));
    let mut out = Map::new();
    let mut meta = Map::new();
    for (k, v) in map {
        match k.as_str() {
            "nullable" | "discriminator" | "externalDocs" | "xml" => {}
            k if k.starts_with("x-") => {}
            // `simplify_default`: metadata at its default is no metadata
            "deprecated" | "readOnly" | "writeOnly" if v != &Value::Bool(true) => {}
            "title" | "description" | "default" | "deprecated" | "readOnly" | "writeOnly"
            | "example" => {
                meta.insert(k.to_string(), v.clone());
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if nullable && COMPOSITIONS.iter().any(|k| out.contains_key(*k)) {
        out.remove("type");
        meta.insert(
            "oneOf".into(),
            serde_json::json!([{"type": "null"}, Value::Object(out)]),
        );
        return Value::Object(meta);
    }
    if nullable && let Some(Value::String(t)) = out.get("type") {
        let t = t.clone();
        out.insert("type".into(), serde_json::json!([t, "null"]));
    }
    out.extend(meta);
    Value::Object(out)
}

/// typify's `resolve`: a member that is a `$ref` is read as the component it names.
fn resolve_view(view: Value, doc: &Value) -> Value {
    match view.get("$ref").and_then(Value::as_str) {
        Some(r) => match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
            Some(target) => schemars_view(target),
            None => view,
        },
        None => view,
    }
}

/// typify-impl 0.8 `src/util.rs` `all_mutually_exclusive`: can at most one of an `anyOf`'s
/// members match any value? Then typify reads the `anyOf` as a `oneOf` (an enum); else it
/// makes a struct of the members flattened, each optional, named `{Name}Subtype{i}`
/// (`src/structs.rs` `flattened_union_struct`). Ported on the document's JSON (after
/// [`schemars_view`]), case for case; where typify validates enum values against a schema,
/// the values' JSON types and the other schema's `enum` are compared (a value of a type the
/// schema has, not among its values, is read as matching, typify's conservative answer). `open`:
/// the string enums are wrapped in `OpenEnum` later (see [`Names`]), no constant to typify.
pub(super) fn all_mutually_exclusive(members: &[Value], doc: &Value, open: bool) -> bool {
    let views: Vec<Value> = members
        .iter()
        .map(|m| resolve_view(schemars_view(m), doc))
        .collect();
    (0..views.len()).all(|i| {
        (i + 1..views.len()).all(|j| exclusive(&views[i], &views[j], open, MAX_EXCLUSIVE_DEPTH))
    })
}

/// The keywords of typify's array and object validation, and its metadata.
const ARRAY_KEYS: &[&str] = &["items", "maxItems", "minItems", "uniqueItems"];
const OBJECT_KEYS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
];
const META_KEYS: &[&str] = &[
    "title",
    "description",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "example",
];

/// `schemas_mutually_exclusive` (typify-impl `src/util.rs`), on two [`schemars_view`]s.
fn exclusive(a: &Value, b: &Value, open: bool, depth: usize) -> bool {
    if depth == 0 {
        return false;
    }
    match (a, b) {
        (Value::Bool(false), _) | (_, Value::Bool(false)) => return true,
        (Value::Bool(true), _) | (_, Value::Bool(true)) => return false,
        _ => {}
    }
    let (Some(am), Some(bm)) = (a.as_object(), b.as_object()) else {
        return false;
    };
    // a bare composition (no metadata, nothing else): its members decide
    let bare = |m: &Map<String, Value>| {
        COMPOSITIONS.iter().any(|k| m.contains_key(*k))
            && m.keys().all(|k| COMPOSITIONS.contains(&k.as_str()))
    };
    // typify's or-pattern tries the second schema first
    for (comp, other) in [(bm, a), (am, b)] {
        if !bare(comp) {
            continue;
        }
        let keys: Vec<&str> = COMPOSITIONS
            .iter()
            .copied()
            .filter(|k| comp.contains_key(*k))
            .collect();
        let subs = |k: &str| {
            comp.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        return match keys.as_slice() {
            ["allOf"] => subs("allOf")
                .iter()
                .any(|s| exclusive(&schemars_view(s), other, open, depth - 1)),
            ["oneOf"] | ["anyOf"] => subs(keys[0])
                .iter()
                .all(|s| exclusive(&schemars_view(s), other, open, depth - 1)),
            ["not"] => comp
                .get("not")
                .is_some_and(|s| !exclusive(&schemars_view(s), other, open, depth - 1)),
            _ => false,
        };
    }
    // enumerated values without a type: exclusive when none validates against the other
    for (en, other) in [(am, bm), (bm, am)] {
        if !en.contains_key("type")
            && let Some(Value::Array(values)) = en.get("enum")
        {
            return values.iter().all(|v| !value_may_match(other, v, open));
        }
    }
    let types = |m: &Map<String, Value>| -> Option<Vec<String>> {
        match m.get("type")? {
            Value::String(t) => Some(vec![t.clone()]),
            Value::Array(ts) => Some(
                ts.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            ),
            _ => None,
        }
    };
    let (Some(at), Some(bt)) = (types(am), types(bm)) else {
        return false;
    };
    let single = |m: &Map<String, Value>| matches!(m.get("type"), Some(Value::String(_)));
    match (single(am), single(bm)) {
        (true, true) if at[0] != bt[0] => true,
        (true, true) if at[0] == "object" => {
            match (
                plain_validation(am, OBJECT_KEYS),
                plain_validation(bm, OBJECT_KEYS),
            ) {
                (true, true) => objects_exclusive(am, bm, open),
                _ => false,
            }
        }
        (true, true) if at[0] == "array" => {
            match (
                plain_validation(am, ARRAY_KEYS),
                plain_validation(bm, ARRAY_KEYS),
            ) {
                (true, true) => arrays_exclusive(am, bm, open, depth),
                _ => false,
            }
        }
        (true, true) => false,
        (false, false) => at.iter().all(|t| !bt.contains(t)),
        (true, false) => !bt.contains(&at[0]),
        (false, true) => !at.contains(&bt[0]),
    }
}

/// A schema object typify's check reads as nothing but `type` and the one validation `keys`
/// (no format, enum, composition, other validation), which must be present (not default).
fn plain_validation(m: &Map<String, Value>, keys: &[&str]) -> bool {
    let own = |k: &str| keys.contains(&k);
    m.keys()
        .all(|k| k == "type" || own(k) || META_KEYS.contains(&k.as_str()))
        && m.iter().any(|(k, v)| {
            own(k)
                && match v {
                    Value::Object(o) => !o.is_empty(),
                    Value::Array(a) => !a.is_empty(),
                    Value::Bool(b) => *b || k != "uniqueItems",
                    _ => true,
                }
        })
}

/// typify-impl `object_schemas_mutually_exclusive`.
fn objects_exclusive(a: &Map<String, Value>, b: &Map<String, Value>, open: bool) -> bool {
    let props = |m: &Map<String, Value>| -> Map<String, Value> {
        m.get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let required = |m: &Map<String, Value>| -> std::collections::BTreeSet<String> {
        m.get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let (ap, bp, ar, br) = (props(a), props(b), required(a), required(b));
    if ap.is_empty() || bp.is_empty() {
        return false;
    }
    if !ar.iter().all(|r| bp.contains_key(r)) || !br.iter().all(|r| ap.contains_key(r)) {
        return true;
    }
    let constants = |p: &Map<String, Value>, r: &std::collections::BTreeSet<String>| {
        r.iter()
            .filter_map(|name| {
                let s = schemars_view(p.get(name)?);
                typed_constant(&s, open).map(|v| (name.clone(), v))
            })
            .collect::<std::collections::BTreeSet<(String, String)>>()
    };
    let (aa, bb) = (constants(&ap, &ar), constants(&bp, &br));
    !aa.is_subset(&bb) && !bb.is_subset(&aa)
}

/// typify-impl `constant_string_value` on a [`schemars_view`]: `type: string` and one string
/// value, nothing else but metadata.
fn typed_constant(s: &Value, open: bool) -> Option<String> {
    let m = s.as_object().filter(|_| !open)?;
    let values = m.get("enum")?.as_array().filter(|v| v.len() == 1)?;
    let only = m
        .keys()
        .all(|k| k == "type" || k == "enum" || META_KEYS.contains(&k.as_str()));
    (only && m.get("type").and_then(Value::as_str) == Some("string"))
        .then(|| values[0].as_str().map(str::to_string))
        .flatten()
}

/// typify-impl `array_schemas_mutually_exclusive` (no tuples: OpenAPI 3.0 has one `items`).
fn arrays_exclusive(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    open: bool,
    depth: usize,
) -> bool {
    let n = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_u64);
    if let (Some(max), Some(min)) = (n(a, "maxItems"), n(b, "minItems"))
        && min > max
    {
        return true;
    }
    if let (Some(max), Some(min)) = (n(b, "maxItems"), n(a, "minItems"))
        && min > max
    {
        return true;
    }
    match (a.get("items"), b.get("items")) {
        (Some(x), Some(y)) => exclusive(&schemars_view(x), &schemars_view(y), open, depth - 1),
        _ => false,
    }
}

/// Could `value` validate against `schema` (a [`schemars_view`])? Only the types and the enum
/// are read; anything else is taken to match (typify's `schema_value_validate` reads more, and
/// a value it refuses makes the pair exclusive where this says not).
fn value_may_match(schema: &Map<String, Value>, value: &Value, open: bool) -> bool {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = |t: &str| t == kind || (t == "number" && kind == "integer");
    let typed = match schema.get("type") {
        Some(Value::String(t)) => fits(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(fits),
        _ => true,
    };
    let listed = match schema.get("enum").filter(|_| !open) {
        Some(Value::Array(values)) => values.contains(value),
        _ => true,
    };
    typed && listed
}

/// typify-impl `maybe_internally_tagged_enum`'s tag: the first (in order) of the required
/// properties every member (a plain object, see [`plain_object`]) has as a constant string,
/// with a different value in each. `None` when the union is not internally tagged.
fn internal_tag(members: &[Value], open: bool) -> Option<String> {
    let mut common: Option<BTreeMap<String, std::collections::BTreeSet<String>>> = None;
    for m in members {
        let (props, required) = plain_object(m)?;
        let here: BTreeMap<String, std::collections::BTreeSet<String>> = props
            .iter()
            .filter(|(k, _)| required.contains(&k.as_str()))
            .filter_map(|(k, p)| {
                let v = constant_string(p, open)?;
                Some((k.clone(), std::collections::BTreeSet::from([v.to_string()])))
            })
            .collect();
        common = Some(match common {
            None => here,
            Some(before) => before
                .into_iter()
                .filter_map(|(k, mut vs)| match here.get(&k) {
                    Some(ws) if vs.is_disjoint(ws) => {
                        vs.extend(ws.iter().cloned());
                        Some((k, vs))
                    }
                    _ => None,
                })
                .collect(),
        });
    }
    common?.keys().next().cloned()
}

/// A nullable component that reaches typify as `type: [T, null]` (a type, no composition: what
/// `nullable-components` leaves, a string, a number, an array): typify names what is inside the
/// `Option` `{Key}Inner` (typify-impl `src/convert.rs`, the `[T, null]` arm with a required
/// name), a title overriding it, and everything in it after that name.
fn nullable_inner(schema: &Value) -> bool {
    schema.as_object().is_some_and(|m| {
        m.get("nullable") == Some(&Value::Bool(true))
            && m.get("type").is_some_and(Value::is_string)
            && !m.contains_key("$ref")
            && !COMPOSITIONS.iter().any(|k| m.contains_key(*k))
    })
}

/// typify-impl `convert_typed_enum`: an enum whose type is no string (nor boolean, whose values
/// typify ignores) is a newtype over the type without the values, converted under
/// `{name}Inner` (Suggested: the schema's own title, which it keeps, overrides it): the name
/// the inner type and its children take. `None` for any other schema, and for a number, whose
/// inner type is a number, no name.
fn typed_enum_inner(map: &Map<String, Value>, name: &str) -> Option<String> {
    if !map.contains_key("enum") || COMPOSITIONS.iter().any(|k| map.contains_key(*k)) {
        return None;
    }
    match map.get("type").and_then(Value::as_str)? {
        "object" | "array" => Some(match map.get("title").and_then(Value::as_str) {
            Some(title) => rust_type_name(title),
            None => rust_type_name(&format!("{name}Inner")),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_typify_names() {
        for (key, name) in [
            ("subscription_schedule", "SubscriptionSchedule"),
            ("user.id", "UserId"),
            ("user-id", "UserId"),
            ("self", "Self_"),
            ("type", "Type"),
            ("2fa", "X2fa"),
            ("café", "Café"),
            ("日本", "日本"),
            ("$", "X"),
            ("won't", "Wont"),
            ("+1", "plus1"),
        ] {
            assert_eq!(rust_type_name(key), name, "{key}");
        }
    }

    #[test]
    fn union_members_are_named_as_typify_names_them() {
        let names = |v: Value| variant_names(v.as_array().unwrap());
        assert_eq!(
            names(json!([{"$ref": "#/components/schemas/CatInfo"}, {"$ref": "#/x/CatData"}])),
            Some(vec!["Info".to_string(), "Data".to_string()])
        );
        assert_eq!(
            names(
                json!([{"title": "SMS", "allOf": [{"$ref": "#/a"}, {"$ref": "#/b"}]},
                         {"type": "string", "format": "date-time"}, {"type": "integer"}])
            ),
            Some(vec!["Sms".into(), "DateTime".into(), "Integer".into()])
        );
        // a lone member names the member; two the same, or one without a name: numbered
        assert_eq!(
            names(json!([{"allOf": [{"$ref": "#/c/Dog"}]}, {"type": "object"}])),
            Some(vec!["Dog".into(), "Object".into()])
        );
        assert_eq!(
            names(json!([{"type": "string"}, {"type": "string", "maxLength": 3}])),
            Some(vec!["Variant0".into(), "Variant1".into()])
        );
        assert_eq!(
            names(
                json!([{"type": "string"}, {"oneOf": [{"type": "integer"}, {"type": "number"}]}])
            ),
            Some(vec!["Variant0".into(), "Variant1".into()])
        );
        // a union typify reads as internally tagged has no member types; where its tags are
        // open enums (wrapped before typify reads them) it is untagged
        let internal = json!([
            {"type": "object", "required": ["kind", "a"], "properties": {"kind": {"type": "string", "enum": ["a"]}, "a": {"type": "string"}}},
            {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string", "enum": ["b"]}, "b": {"type": "string"}, "c": {"type": "string"}}}
        ]);
        assert_eq!(
            tagging(internal.as_array().unwrap(), false),
            Tagging::Internal
        );
        assert_eq!(
            tagging(internal.as_array().unwrap(), true),
            Tagging::Untagged
        );
    }

    #[test]
    fn a_merge_past_its_bound_is_reported() {
        // a chain of components, each `allOf` the next and one more: the merge reads them all
        let mut schemas = serde_json::Map::new();
        let n = MAX_MERGED + 5;
        for i in 0..n {
            schemas.insert(
                format!("S{i}"),
                json!({"allOf": [{"$ref": format!("#/components/schemas/S{}", i + 1)}, {"$ref": "#/components/schemas/Leaf"}]}),
            );
        }
        schemas.insert(format!("S{n}"), json!({"type": "object"}));
        schemas.insert("Leaf".into(), json!({"type": "object", "properties": {"p": {"type": "object", "properties": {"x": {"type": "string"}}}}}));
        schemas.insert("Top".into(), json!({"type": "object", "properties": {"t": {"allOf": [{"$ref": "#/components/schemas/S0"}, {"$ref": "#/components/schemas/Leaf"}]}}}));
        let (_, changes) = run(json!({"components": {"schemas": schemas}}));
        let at = "/components/schemas/Top/properties/t/allOf";
        assert!(
            changes
                .iter()
                .any(|c| c.pointer == at && c.message.contains("up to 1000 schemas")),
            "{:?}",
            changes.iter().map(|c| &c.pointer).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_titled_member_whose_merged_properties_take_a_component_s_name_is_retitled() {
        let (doc, changes) = run(json!({"components": {"schemas": {
            "common": {"type": "object", "properties": {"message": {"type": "object", "properties": {"c": {"type": "string"}}}}},
            "inbound": {"oneOf": [
                {"title": "MMS", "allOf": [{"$ref": "#/components/schemas/common"}, {"$ref": "#/components/schemas/other"}]},
                {"type": "string"}
            ]},
            "mmsMessage": {"type": "object"},
            "other": {"type": "object", "properties": {"id": {"type": "string"}}}
        }}}));
        let s = &doc["components"]["schemas"];
        assert_eq!(
            s["inbound"]["oneOf"][0]["title"], "MmsInline",
            "{changes:?}"
        );
        assert!(s.get("mmsMessage").is_some());
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            changes[0].pointer,
            "/components/schemas/inbound/oneOf/0/title"
        );
    }

    /// The code the whole pipeline generates for `schemas`: typify's own names, to compare the
    /// pass's with.
    fn generated(schemas: Value) -> (String, Vec<String>) {
        generated_with(schemas, true)
    }

    /// [`generated`], the components reached from a request body (`requested`: their enums
    /// stay closed) or from nothing (read as answers: their enums are opened).
    fn generated_with(schemas: Value, requested: bool) -> (String, Vec<String>) {
        let body: Map<String, Value> = schemas
            .as_object()
            .unwrap()
            .keys()
            .map(|k| {
                (
                    k.clone(),
                    json!({"$ref": format!("#/components/schemas/{k}")}),
                )
            })
            .collect();
        let paths = if requested {
            json!({"/x": {"post": {"operationId": "post_x",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": body}}}},
                "responses": {"204": {"description": "none"}}}}})
        } else {
            json!({})
        };
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": paths,
            "components": {"schemas": schemas}
        });
        let file = std::path::Path::new("unions.json");
        let out = crate::Codegen::document(doc, file)
            .isolate(false)
            .prepare()
            .and_then(|p| p.generate())
            .unwrap_or_else(|e| panic!("{e}"));
        let changes = out
            .prepared
            .changes
            .iter()
            .filter(|c| c.pass == "colliding-type-names")
            .map(|c| c.pointer.clone())
            .collect();
        (out.code, changes)
    }

    fn defines(code: &str, name: &str) -> bool {
        code.contains(&format!("pub struct {name} {{"))
            || code.contains(&format!("pub enum {name} {{"))
    }

    #[test]
    fn tagged_unions_are_read_as_typify_reads_them() {
        let object = |props: Value| json!({"type": "object", "properties": props});
        let tagged = |tag: &str, content: Value| {
            json!({"type": "object", "required": ["kind", "data"], "properties": {
                "kind": {"type": "string", "enum": [tag]}, "data": content}})
        };
        let external = json!([
            {"type": "object", "required": ["cat"], "properties": {"cat": object(json!({"a": {"type": "string"}}))}},
            {"type": "string", "enum": ["none", "some"]}
        ]);
        assert_eq!(
            tagging(external.as_array().unwrap(), false),
            Tagging::External
        );
        let adjacent = json!([
            tagged("a", json!({"type": "string"})),
            tagged("b", json!({"type": "integer"}))
        ]);
        assert_eq!(
            tagging(adjacent.as_array().unwrap(), false),
            Tagging::Adjacent {
                tag: "kind".into(),
                content: "data".into()
            }
        );
        // two variants of one name: not externally tagged (typify tries the next form)
        let twice = json!([
            {"type": "object", "required": ["cat"], "properties": {"cat": {"type": "string"}}},
            {"type": "string", "enum": ["cat"]}
        ]);
        assert_eq!(tagging(twice.as_array().unwrap(), false), Tagging::Untagged);
        // a property that is not required: no tag form
        let loose = json!([{"type": "object", "properties": {"cat": {"type": "string"}}}]);
        assert_eq!(tagging(loose.as_array().unwrap(), false), Tagging::Untagged);
    }

    #[test]
    fn an_externally_tagged_union_s_contents_are_named_as_typify_names_them() {
        // `{dog: {...}}`: typify names the content's inline property `Pet` + `dog` + `b`
        let schemas = json!({
            "Pet": {"oneOf": [
                {"type": "object", "required": ["dog"], "properties": {"dog": {"type": "object", "properties": {
                    "b": {"type": "object", "properties": {"x": {"type": "string"}}}}}}},
                {"type": "object", "required": ["cat"], "properties": {"cat": {"type": "object", "properties": {
                    "c": {"type": "object", "properties": {"y": {"type": "integer"}}}}}}}
            ]}
        });
        let (code, changes) = generated(schemas.clone());
        assert!(
            defines(&code, "PetDogB") && defines(&code, "PetCatC"),
            "{code}"
        );
        assert!(changes.is_empty(), "{changes:?}");
        // a component of that name: the pass sees the clash typify would make (E0428)
        let mut clashing = schemas;
        clashing["PetDogB"] = json!({"type": "object", "properties": {"id": {"type": "string"}}});
        let (code, changes) = generated(clashing);
        assert_eq!(
            changes,
            ["/components/schemas/Pet/oneOf/0/properties/dog/properties/b"],
            "{code}"
        );
        assert!(
            defines(&code, "PetDogB") && defines(&code, "PetDogBInline"),
            "{code}"
        );
    }

    #[test]
    fn a_tagged_union_s_object_content_takes_no_name() {
        // typify makes a struct variant of an object content (no type named `EventCreated`),
        // so the component `EventCreated` keeps its name and nothing is renamed
        let schemas = json!({
            "Event": {"oneOf": [
                {"type": "object", "required": ["created"], "properties": {"created": {"type": "object", "properties": {
                    "id": {"type": "string"}}}}},
                {"type": "object", "required": ["deleted"], "properties": {"deleted": {"type": "object", "properties": {
                    "at": {"type": "string"}}}}}
            ]},
            "EventCreated": {"type": "object", "properties": {"n": {"type": "integer"}}}
        });
        let (code, changes) = generated(schemas.clone());
        assert!(changes.is_empty(), "{changes:?}\n{code}");
        assert!(
            defines(&code, "EventCreated") && code.contains("Created {"),
            "{code}"
        );
        assert!(!code.contains("EventCreatedInline"), "{code}");
        // its properties' types are still named after it: a component of that name is a clash
        let mut clashing = schemas;
        clashing["Event"]["oneOf"][0]["properties"]["created"]["properties"]["kind"] =
            json!({"type": "string", "enum": ["a", "b"]});
        clashing["EventCreatedKind"] =
            json!({"type": "object", "properties": {"n": {"type": "integer"}}});
        let (code, changes) = generated(clashing);
        assert_eq!(
            changes,
            ["/components/schemas/Event/oneOf/0/properties/created/properties/kind"],
            "{code}"
        );
        assert!(
            defines(&code, "EventCreatedKind") && defines(&code, "EventCreatedKindInline"),
            "{code}"
        );
        // a content that is not an object is a type of its own, named `{union}_{variant}`
        let strings = json!({
            "Event": {"oneOf": [
                {"type": "object", "required": ["created"], "properties": {"created": {"type": "string", "enum": ["x", "y"]}}},
                {"type": "object", "required": ["deleted"], "properties": {"deleted": {"type": "string", "enum": ["z"]}}}
            ]},
            "EventCreated": {"type": "object", "properties": {"n": {"type": "integer"}}}
        });
        let (code, changes) = generated(strings);
        assert_eq!(
            changes,
            ["/components/schemas/Event/oneOf/0/properties/created"],
            "{code}"
        );
        assert!(
            defines(&code, "EventCreated") && defines(&code, "EventCreatedInline"),
            "{code}"
        );
    }

    #[test]
    fn an_adjacently_tagged_union_s_contents_are_named_as_typify_names_them() {
        let content = |p: &str| json!({"type": "object", "properties": {p: {"type": "object", "properties": {"v": {"type": "string"}}}}});
        let tagged = |tag: &str, content: Value| {
            json!({"type": "object", "required": ["kind", "data"], "properties": {
                "kind": {"type": "string", "enum": [tag]}, "data": content}})
        };
        // an inline union: each content is named `{union}_{tag value}`
        let schemas = json!({
            "Event": {"type": "object", "properties": {"body": {"oneOf": [
                tagged("opened", content("x")), tagged("closed", content("y"))
            ]}}},
            "EventBodyOpenedX": {"type": "object", "properties": {"id": {"type": "integer"}}}
        });
        let (code, changes) = generated(schemas);
        assert_eq!(
            changes,
            ["/components/schemas/Event/properties/body/oneOf/0/properties/data/properties/x"],
            "{code}"
        );
        assert!(
            defines(&code, "EventBodyOpenedXInline") && defines(&code, "EventBodyClosedY"),
            "{code}"
        );
        // a component's union: every content is named `{union}_{content}`; an object content
        // is a struct variant (no type), so only its properties' types, which differ, are told
        // apart
        let other = json!({"type": "object", "properties": {"x": {"type": "object", "properties": {"w": {"type": "integer"}}}}});
        let (code, changes) = generated(json!({"Body": {"oneOf": [
            tagged("opened", content("x")), tagged("closed", other)
        ]}}));
        assert_eq!(
            changes,
            ["/components/schemas/Body/oneOf/1/properties/data/properties/x"],
            "{code}"
        );
        assert!(
            defines(&code, "BodyDataX") && defines(&code, "BodyDataXInline"),
            "{code}"
        );
        assert!(!defines(&code, "BodyData"), "{code}");
        // identical contents share the name, as typify shares the type
        let (code, changes) = generated(json!({"Body": {"oneOf": [
            tagged("opened", content("x")), tagged("closed", content("x"))
        ]}}));
        assert!(
            changes.is_empty() && defines(&code, "BodyDataX"),
            "{changes:?}"
        );
        // answers only: the tags are open enums, typify reads an untagged union and names its
        // members `Variant0`, `Variant1` (so `EventBodyVariant0Data`), and the pass with it
        let (code, changes) = generated_with(
            json!({
                "Event": {"type": "object", "properties": {"body": {"oneOf": [
                    tagged("opened", content("x")), tagged("closed", content("y"))
                ]}}},
                "EventBodyVariant0Data": {"type": "object", "properties": {"id": {"type": "integer"}}}
            }),
            false,
        );
        assert_eq!(
            changes,
            ["/components/schemas/Event/properties/body/oneOf/0/properties/data"],
            "{code}"
        );
        assert!(defines(&code, "EventBodyVariant0DataInline"), "{code}");
    }

    #[test]
    fn a_member_titled_by_the_pass_names_the_other_members_again() {
        // two objects: typify names them `Variant0` and `Variant1`; once the first has a title
        // (its place-name is a component's), the second is `Object`, its property `UObjectB`
        let schemas = json!({
            "U": {"oneOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}},
                {"type": "object", "properties": {"b": {"type": "object", "properties": {"c": {"type": "string"}}}}}
            ]},
            "UVariant0": {"type": "object", "properties": {"id": {"type": "string"}}},
            "UObjectB": {"type": "object", "properties": {"id": {"type": "integer"}}}
        });
        let (code, changes) = generated(schemas);
        assert_eq!(
            changes,
            [
                "/components/schemas/U/oneOf/0",
                "/components/schemas/U/oneOf/1/properties/b"
            ],
            "{code}"
        );
        // typify makes struct variants of the two objects (no member type), the second named
        // `Object` after the first got its title, and the type of its property `UObjectB`,
        // the component's name, so the pass retitled it
        assert!(
            code.contains("UVariant0Inline {") && code.contains("Object {"),
            "{code}"
        );
        for name in ["UVariant0", "UObjectB", "UObjectBInline"] {
            assert!(defines(&code, name), "{name}: {code}");
        }
    }

    #[test]
    fn any_of_members_are_mutually_exclusive_as_typify_finds_them() {
        let doc = json!({"components": {"schemas": {
            "Id": {"type": "string"},
            "Obj": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
        }}});
        let ex = |members: Value| all_mutually_exclusive(members.as_array().unwrap(), &doc, false);
        // two objects no required property tells apart: a struct of both (`Subtype`)
        assert!(!ex(json!([
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"b": {"type": "string"}}}
        ])));
        // a required property the other does not have
        assert!(ex(json!([
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"b": {"type": "string"}}}
        ])));
        // the same properties, a constant tag of a different value
        let tagged = |v: &str| {
            json!({"type": "object", "required": ["k"], "properties": {
            "k": {"type": "string", "enum": [v]}, "x": {"type": "string"}}})
        };
        assert!(ex(json!([tagged("a"), tagged("b")])));
        // the tag wrapped in `OpenEnum` (answers): no constant, not exclusive
        let open = json!([tagged("a"), tagged("b")]);
        assert!(!all_mutually_exclusive(
            open.as_array().unwrap(),
            &doc,
            true
        ));
        // different types (an integer is not a number to typify); a type and its nullable form
        assert!(ex(
            json!([{"type": "string"}, {"type": "object", "properties": {"a": {}}}])
        ));
        assert!(ex(json!([{"type": "integer"}, {"type": "number"}])));
        assert!(!ex(
            json!([{"type": "string", "nullable": true}, {"type": "string"}])
        ));
        assert!(ex(
            json!([{"type": "integer", "nullable": true}, {"type": "string"}])
        ));
        // a reference is read as its component; a string and a string are not exclusive
        assert!(!ex(
            json!([{"$ref": "#/components/schemas/Id"}, {"type": "string", "maxLength": 3}])
        ));
        assert!(ex(
            json!([{"$ref": "#/components/schemas/Id"}, {"$ref": "#/components/schemas/Obj"}])
        ));
        // a bare composition: an `allOf` is exclusive when any member is, a `oneOf` when all are
        assert!(ex(
            json!([{"allOf": [{"type": "string"}, {"minLength": 1}]}, {"type": "integer"}])
        ));
        assert!(!ex(
            json!([{"oneOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "integer"}])
        ));
        // with a description the composition is no longer bare: typify gives up (not exclusive)
        assert!(!ex(
            json!([{"description": "d", "allOf": [{"type": "string"}]}, {"type": "integer"}])
        ));
        // arrays: items that exclude each other, or lengths that cannot meet
        assert!(ex(
            json!([{"type": "array", "items": {"type": "string"}}, {"type": "array", "items": {"type": "integer"}}])
        ));
        assert!(ex(
            json!([{"type": "array", "maxItems": 1}, {"type": "array", "minItems": 2}])
        ));
        assert!(!ex(
            json!([{"type": "array", "items": {"type": "string"}}, {"type": "array", "items": {"type": "string"}}])
        ));
        // enumerated values without a type: exclusive when none could match the other
        assert!(ex(json!([{"enum": [1, 2]}, {"type": "string"}])));
        assert!(!ex(json!([{"enum": ["a", 2]}, {"type": "string"}])));
        // one member: exclusive (typify's degenerate case)
        assert!(ex(json!([{"type": "object", "properties": {"a": {}}}])));
    }

    #[test]
    fn typify_flattens_exactly_the_any_ofs_predicted_not_mutually_exclusive() {
        // each `anyOf` through the whole pipeline: typify's struct of `subtype_{i}` fields
        // exactly when the pass predicts its members are not mutually exclusive
        let obj = |p: &str, required: bool| {
            let mut o = json!({"type": "object", "properties": {p: {"type": "string"}}});
            if required {
                o["required"] = json!([p]);
            }
            o
        };
        let cases = [
            json!([obj("a", false), obj("b", false)]),
            json!([obj("a", true), obj("b", true)]),
            json!([obj("a", true), obj("b", false)]),
            json!([{"type": "string"}, obj("a", false)]),
            json!([{"type": "integer"}, {"type": "number"}]),
            json!([{"$ref": "#/components/schemas/Id"}, {"$ref": "#/components/schemas/Obj"}]),
            json!([{"$ref": "#/components/schemas/Obj"}, obj("b", false)]),
            json!([{"$ref": "#/components/schemas/Obj"}, obj("b", true)]),
            json!([{"type": "array", "items": {"type": "string"}}, {"type": "array", "items": {"type": "integer"}}]),
            json!([{"type": "array", "items": {"type": "string"}}, obj("a", false)]),
            json!([{"allOf": [{"$ref": "#/components/schemas/Obj"}, obj("c", false)]}, obj("b", false)]),
            json!([{"description": "d", "type": "object", "properties": {"a": {"type": "string"}}}, {"type": "boolean"}]),
            json!([obj("a", false), {"type": "object", "additionalProperties": {"type": "string"}}]),
        ];
        for members in cases {
            let schemas = json!({
                "Id": {"type": "string", "maxLength": 9},
                "Obj": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
                "U": {"anyOf": members}
            });
            let predicted =
                !all_mutually_exclusive(members.as_array().unwrap(), &schemas_doc(&schemas), false);
            let (code, _) = generated(schemas);
            assert_eq!(
                code.contains("pub subtype_0:"),
                predicted,
                "{members}\n{code}"
            );
        }
    }

    /// A document whose components are `schemas` (what `$ref`s resolve in).
    fn schemas_doc(schemas: &Value) -> Value {
        json!({"components": {"schemas": schemas}})
    }

    #[test]
    fn an_internally_tagged_union_s_tag_is_the_first_common_constant() {
        let member = |k: &str, v: &str| {
            json!({"type": "object", "required": ["kind", "type"], "properties": {
            "kind": {"type": "string", "enum": [k]}, "type": {"type": "string", "enum": [v]}, "x": {"type": "string"}}})
        };
        let members = json!([member("a", "t"), member("b", "u")]);
        assert_eq!(
            internal_tag(members.as_array().unwrap(), false),
            Some("kind".into())
        );
        // `kind` has one value twice: not a tag; `type` is
        let members = json!([member("a", "t"), member("a", "u")]);
        assert_eq!(
            internal_tag(members.as_array().unwrap(), false),
            Some("type".into())
        );
        assert_eq!(internal_tag(members.as_array().unwrap(), true), None);
        let members = json!([member("a", "t"), {"type": "string"}]);
        assert_eq!(internal_tag(members.as_array().unwrap(), false), None);
    }

    #[test]
    fn a_nullable_component_s_inside_and_an_object_enum_s_type_are_named_inner() {
        let (doc, changes) = run(json!({"components": {"schemas": {
            "Code": {"type": "string", "nullable": true, "pattern": "^[A-Z]+$"},
            "CodeInner": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "Tags": {"type": "array", "nullable": true, "items": {"type": "object", "properties": {"t": {"type": "string"}}}},
            "TagsItem": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "Point": {"type": "object", "properties": {"p": {"type": "object", "enum": [{"x": 1}],
                "properties": {"x": {"type": "integer"}}}}},
            "PointPInner": {"type": "object", "properties": {"id": {"type": "integer"}}}
        }}}));
        let s = &doc["components"]["schemas"];
        // the nullable constrained string's newtype is `CodeInner`: the title renames it
        assert_eq!(s["Code"]["title"], "CodeInnerInline", "{s:#}");
        // the nullable array's items are `TagsInnerItem`, no clash with `TagsItem`
        assert!(s["Tags"]["items"].get("title").is_none(), "{s:#}");
        // the object enum's struct is `PointPInner`, a component's name: titled apart
        assert_eq!(
            s["Point"]["properties"]["p"]["title"], "PointPInline",
            "{s:#}"
        );
        assert_eq!(changes.len(), 2, "{changes:?}");
    }

    fn run(mut doc: Value) -> (Value, Vec<super::super::Change>) {
        let changes = super::super::run_passes([&COLLIDING_TYPE_NAMES], &mut doc);
        (doc, changes)
    }

    #[test]
    fn a_one_member_composition_names_its_member_after_its_place() {
        // Jira Software: `UserBean.avatarUrls` is `allOf` of one inline object, the type
        // `UserBeanAvatarUrls`, a component's name
        let (doc, changes) = run(json!({"components": {"schemas": {
            "UserBean": {"type": "object", "properties": {
                "avatarUrls": {"description": "d", "allOf": [{"type": "object", "properties": {"32x32": {"type": "string"}}}]},
                "status": {"title": "Free", "oneOf": [{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}]},
                "kind": {"title": "UserBeanKind", "oneOf": [{"type": "object", "required": ["k"], "properties": {"k": {"type": "string"}}}]},
                "merged": {"type": "object", "properties": {"m": {"type": "string"}}, "allOf": [{"type": "object", "properties": {"n": {"type": "string"}}}]}
            }},
            "UserBeanAvatarUrls": {"type": "object"},
            "UserBeanStatus": {"type": "object"},
            "UserBeanKind": {"type": "object"},
            "UserBeanMerged": {"type": "object"}
        }}}));
        let p = &doc["components"]["schemas"]["UserBean"]["properties"];
        assert_eq!(
            p["avatarUrls"]["allOf"][0]["title"], "UserBeanAvatarUrlsInline",
            "{p:#}"
        );
        // the wrapper's title is not the member's name (typify does not read it)
        assert_eq!(
            p["status"]["oneOf"][0]["title"], "UserBeanStatusInline",
            "{p:#}"
        );
        assert_eq!(p["status"]["title"], "Free");
        let at = "/components/schemas/UserBean/properties/avatarUrls/allOf/0";
        assert!(
            changes.iter().any(|c| c.pointer == at
                && c.message.contains("`UserBeanAvatarUrls`")
                && c.message.contains("titled `UserBeanAvatarUrlsInline`")),
            "{changes:?}"
        );
        // a lone member typify reads as an externally tagged variant is a union named by the
        // wrapper's title: that title, a component's name, gives way to a fresh one
        assert!(p["kind"]["oneOf"][0].get("title").is_none(), "{p:#}");
        assert_eq!(p["kind"]["title"], "UserBeanKindInline", "{p:#}");
        // a composition beside other keywords is merged into the wrapper's own type
        assert_eq!(p["merged"]["title"], "UserBeanMergedInline", "{p:#}");
        assert!(p["merged"]["allOf"][0].get("title").is_none(), "{p:#}");
    }

    #[test]
    fn an_inline_union_placed_like_a_later_component_is_renamed_not_the_component() {
        let (doc, changes) = run(json!({"components": {"schemas": {
            "subscription": {"type": "object", "properties": {"schedule": {"anyOf": [
                {"type": "string"}, {"$ref": "#/components/schemas/subscription_schedule"}]}}},
            "subscription_schedule": {"type": "object", "properties": {"id": {"type": "string"}}}
        }}}));
        let s = &doc["components"]["schemas"];
        assert!(s.get("subscription_schedule").is_some());
        assert_eq!(
            s["subscription"]["properties"]["schedule"]["title"],
            "SubscriptionScheduleInline"
        );
        assert_eq!(changes.len(), 1, "{changes:?}");
    }

    #[test]
    fn identical_inline_schemas_share_a_name_different_ones_do_not() {
        let money =
            json!({"title": "Money", "type": "object", "properties": {"a": {"type": "integer"}}});
        let (doc, changes) = run(json!({"components": {"schemas": {
            "A": {"type": "object", "properties": {"m": money, "n": {"title": "Money", "type": "string", "pattern": "^x$"}}},
            "B": {"type": "object", "properties": {"m": money}}
        }}}));
        let s = &doc["components"]["schemas"];
        assert_eq!(s["B"]["properties"]["m"]["title"], "Money");
        // the constrained string is a newtype of its own: its title is dropped
        assert!(s["A"]["properties"]["n"].get("title").is_none(), "{doc}");
        assert_eq!(changes.len(), 1, "{changes:?}");
    }

    #[test]
    fn an_operation_s_inline_answer_is_placed_after_it() {
        let (doc, changes) = run(json!({
            "paths": {"/u": {"get": {"operationId": "get_user", "responses": {
                "200": {"description": "", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"id": {"type": "string"}}}}}},
                "400": {"description": "", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"message": {"type": "string"}}}}}}
            }}}},
            "components": {"schemas": {"GetUserResponse": {"type": "object"}}}
        }));
        let r = &doc["paths"]["/u"]["get"]["responses"];
        // the component keeps its name; both answers (different shapes) get their own
        assert_eq!(
            r["200"]["content"]["application/json"]["schema"]["title"],
            "GetUserResponseInline"
        );
        assert_eq!(
            r["400"]["content"]["application/json"]["schema"]["title"],
            "GetUserResponseInline2"
        );
        assert_eq!(changes.len(), 2, "{changes:?}");
    }
}
