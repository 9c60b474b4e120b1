//! The corpus of small malformed specs, one per pass (`tests/passes/<pass>.yaml`): each needs
//! its pass, the pass reports what it changed, and the result generates.

use std::path::Path;

use agentstatus_codegen::{generate, load, pipeline, prepare_document};

#[test]
fn every_pass_has_a_spec_it_fixes_and_the_result_generates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes");
    let names: Vec<&str> = pipeline().iter().map(|(_, p)| p.name).collect();
    for name in names {
        let path = dir.join(format!("{name}.yaml"));
        let doc = load::load_file(&path).unwrap_or_else(|e| panic!("{name}: no corpus spec: {e}"));
        let prepared = prepare_document(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            prepared.changes.iter().any(|c| c.pass == name),
            "{name}: the pass changed nothing in its spec: {:?}",
            prepared.changes
        );
        generate::generate(&prepared.doc, &path)
            .unwrap_or_else(|e| panic!("{name}: does not generate: {e}"));
    }
}

#[test]
fn without_the_fixes_progenitor_rejects_these() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes");
    for name in [
        "format-without-type",
        "path-parameters-declared",
        "path-parameters-required",
        "unsupported-request-bodies",
        "responses-without-schema",
        "one-response-type",
    ] {
        let path = dir.join(format!("{name}.yaml"));
        let doc = load::load_file(&path).unwrap();
        assert!(
            generate::generate(&doc, &path).is_err(),
            "{name}: generates without its pass"
        );
    }
}
