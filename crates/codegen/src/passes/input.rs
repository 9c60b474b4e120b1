//! Input passes: what a vendor's document may not decide (generated code it would choose), run once on the document as read.

use serde_json::Value;

use super::{Changes, Pass, Stage};
use crate::error::escape_token;

/// Is `key` an extension that changes what progenitor or typify generate (typify-impl 0.8
/// `rust_extension.rs`; progenitor-impl 0.15 `method.rs`), or one of this workspace's own
/// markers, which only the overlay and the passes may write.
pub(crate) fn is_generator_extension(key: &str) -> bool {
    key == "x-rust-type" || key.starts_with("x-dropshot-") || key.starts_with("x-agentstatus-")
}

/// The `generator-extensions` pass ([`generator_extensions`]).
pub(crate) const GENERATOR_EXTENSIONS: Pass = Pass::new(
    "generator-extensions",
    Stage::Input,
    "Extensions that make progenitor or typify choose generated code (`x-rust-type`, `x-dropshot-*`) and this workspace's own `x-agentstatus-*` markers are removed from the vendor's document, wherever they are: only the passes choose Rust types.",
    generator_extensions,
);

/// Remove every [`is_generator_extension`] key from every object of `doc` (nothing is skipped:
/// a component named `example` is as much a schema as any other). `x-agentstatus-roundtrip` at
/// the root stays: `cargo xtask try` reads it from the document, the generator never does.
pub(crate) fn generator_extensions(doc: &mut Value, changes: &mut Changes) {
    let mut stack: Vec<(String, &mut Value)> = vec![(String::new(), doc)];
    while let Some((at, v)) = stack.pop() {
        match v {
            Value::Object(map) => {
                let found: Vec<String> = map
                    .keys()
                    .filter(|k| is_generator_extension(k))
                    .filter(|k| !(at.is_empty() && k.as_str() == "x-agentstatus-roundtrip"))
                    .cloned()
                    .collect();
                for key in found {
                    map.shift_remove(&key);
                    changes.push(
                        format!("{at}/{}", escape_token(&key)),
                        format!(
                            "`{key}` removed: a vendor document does not choose generated code"
                        ),
                    );
                }
                for (k, child) in map.iter_mut() {
                    stack.push((format!("{at}/{}", escape_token(k)), child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    stack.push((format!("{at}/{i}"), child));
                }
            }
            _ => {}
        }
    }
}
