//! Every description a vendor wrote on a schema or a property reaches the generated code as its
//! doc comment, for every vendor's presence slice (what docs.rs shows of the default features).

use std::path::Path;

use serde_json::Value;

/// The words of `text`, as typify writes a description into a `///` line (one line per
/// paragraph line; compared word by word so that line breaks do not matter).
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// The text of every doc comment in `code`, `///` lines and `/** */` blocks, word by word.
fn doc_comments(code: &str) -> String {
    let mut words: Vec<&str> = code
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("///"))
        .flat_map(str::split_whitespace)
        .collect();
    let mut rest = code;
    while let Some(start) = rest.find("/**") {
        let block = &rest[start + 3..];
        let end = block.find("*/").unwrap_or(block.len());
        words.extend(block[..end].split_whitespace());
        rest = &block[end..];
    }
    words.join(" ")
}

#[test]
fn every_schema_and_property_description_is_a_doc_comment() {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let vendors = agentstatus_codegen::vendor_folders(&specs).expect("specs/");
    assert!(vendors.len() >= 4, "{vendors:?}");
    let mut checked = 0;
    for vendor in vendors {
        let generated = agentstatus_codegen::Codegen::vendor(specs.join(&vendor))
            .prepare()
            .and_then(|p| p.generate())
            .unwrap_or_else(|e| panic!("{vendor}: {e}"));
        // a bare URL is written as an autolink (`<https://...>`, prose.rs): compared without
        // the angle brackets on both sides; a bracket or backtick that is no link or code
        // span is written escaped (`\[`, prose.rs), which renders as the vendor wrote it
        let doc_text = doc_comments(&generated.code)
            .replace(['<', '>'], "")
            .replace("\\[", "[")
            .replace("\\]", "]")
            .replace("\\`", "`");
        let schemas = generated.prepared.doc["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut missing = Vec::new();
        for (name, schema) in &schemas {
            let mut described: Vec<(String, &Value)> = vec![(name.clone(), schema)];
            if let Some(props) = schema["properties"].as_object() {
                described.extend(props.iter().map(|(p, s)| (format!("{name}.{p}"), s)));
            }
            for (what, s) in described {
                // a `$ref` with a description beside it: OpenAPI 3.0 ignores the sibling
                let Some(text) = s["description"]
                    .as_str()
                    .filter(|_| s.get("$ref").is_none())
                else {
                    continue;
                };
                let want = words(text).join(" ").replace(['<', '>'], "");
                if want.is_empty() {
                    continue;
                }
                checked += 1;
                if !doc_text.contains(&want) {
                    missing.push(format!("{what}: {want:?}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{vendor}: descriptions without a doc comment:\n{}",
            missing.join("\n")
        );
    }
    assert!(checked > 20, "only {checked} descriptions checked");
}
