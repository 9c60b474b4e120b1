//! Every pass and every walker over a document ends, and quickly, on the shapes that make a
//! walk following every path through references exponential (the documents in
//! `tests/bounded/`): HubSpot Conversations' `PublicActor: oneOf [7 x allOf [PublicActor, ...]]`,
//! 20 alternatives over 5 levels each inheriting the next, a diamond of 60 schemas whose two
//! properties both reference the next (2^60 paths), a long chain of references, and inline
//! nesting 40 deep, and references into operations that recurse through properties. Each walk runs on a thread of its own and must end within [`DEADLINE`], far
//! more than a linear walk takes even unoptimised, far less than an exponential one.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// How long any one walk may take before it is called a hang.
const DEADLINE: Duration = Duration::from_secs(60);

fn shapes() -> Vec<(&'static str, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bounded");
    [
        "hubspot-actor",
        "wide-20x5",
        "diamond",
        "ref-chain",
        "deep-nesting",
        "path-refs",
        "branching-ladder",
    ]
    .into_iter()
    .map(|name| {
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
        (name, serde_json::from_str(&text).unwrap())
    })
    .collect()
}

/// Run `f` on its own thread (with the generator's stack); fail when it has not ended within
/// [`DEADLINE`].
fn ends<T: Send + 'static>(what: String, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    match rx.recv_timeout(DEADLINE) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} did not end within {DEADLINE:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

#[test]
fn every_pass_ends_on_every_shape() {
    for (name, doc) in shapes() {
        for pass in crate::passes::PIPELINE.iter().copied() {
            let doc = doc.clone();
            ends(format!("pass `{}` on {name}", pass.name()), move || {
                let mut doc = doc;
                crate::passes::run_passes([pass], &mut doc);
            });
        }
        // and all of them in order, as the build runs them
        let d = doc.clone();
        let prepared = ends(format!("the whole pipeline on {name}"), move || {
            crate::Codegen::document(d, format!("{name}.json"))
                .prepare()
                .map(|p| p.doc)
        });
        let prepared = prepared.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(prepared.get("paths").is_some(), "{name}");
    }
}

/// A check that runs out of its bounds says so, with the pass's name and the pointer of what it
/// could not check, and keeps the value (an example kept is never wrongly dropped).
#[test]
fn a_check_out_of_budget_is_reported_with_its_pass_and_pointer() {
    let (_, doc) = shapes()
        .into_iter()
        .find(|(n, _)| *n == "branching-ladder")
        .unwrap();
    let changes = ends(
        "contradicting-examples on branching-ladder".into(),
        move || {
            let mut doc = doc;
            let changes = crate::passes::run_passes(
                [&crate::passes::examples::CONTRADICTING_EXAMPLES],
                &mut doc,
            );
            (doc, changes)
        },
    );
    let (doc, changes) = changes;
    let at = "/paths/~1ladder/post/requestBody/content/application~1json/example";
    let change = changes
        .iter()
        .find(|c| c.pointer == at)
        .unwrap_or_else(|| panic!("nothing said of {at}: {changes:?}"));
    assert_eq!(change.pass, "contradicting-examples");
    assert!(
        change.message.contains("work budget (10000 schema visits)")
            && change.message.contains("kept"),
        "{}",
        change.message
    );
    assert_eq!(doc.pointer(at), Some(&serde_json::json!(5)));
    // and directly: the verdict names the bound, a shallow mismatch is still found
    let schema = serde_json::json!({"$ref": "#/components/schemas/S0"});
    let five = serde_json::json!(5);
    assert!(
        crate::conformance::nonconformance(&doc, &schema, &five, 0)
            .is_err_and(|e| e.contains("work budget"))
    );
    let string = serde_json::json!({"type": "string"});
    assert_eq!(
        crate::conformance::nonconformance(&doc, &string, &five, 0),
        Ok(Some("integer where the schema says string".into()))
    );
    let deep = (0..80).fold(serde_json::json!("x"), |v, _| serde_json::json!([v]));
    let nested = (0..80).fold(
        string.clone(),
        |s, _| serde_json::json!({"type": "array", "items": s}),
    );
    assert!(
        crate::conformance::nonconformance(&doc, &nested, &deep, 0)
            .is_err_and(|e| e.contains("depth bound"))
    );
}

#[test]
fn the_walkers_end_on_every_shape() {
    for (name, doc) in shapes() {
        let d = doc.clone();
        ends(format!("check_ref_graph on {name}"), move || {
            crate::nav::check_ref_graph(&d).map_err(|p| p.message)
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let d = doc.clone();
        let reached = ends(format!("reachable_refs on {name}"), move || {
            crate::nav::reachable_refs(&d, &d["paths"]).len()
        });
        assert!(reached > 0, "{name}");
        let d = doc.clone();
        ends(format!("check_refs on {name}"), move || {
            crate::slice::check_refs(&d, Path::new("x.json")).map_err(|e| e.to_string())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let d = doc.clone();
        let sliced = ends(format!("slice on {name}"), move || {
            let ops: Vec<crate::sources::OperationKey> = crate::nav::operations(&d)
                .into_iter()
                .map(|(p, m, _)| crate::sources::OperationKey {
                    method: m.to_ascii_uppercase(),
                    path: p.to_string(),
                })
                .collect();
            crate::slice::slice(&d, &ops, Path::new("x.json"), None).map_err(|e| e.to_string())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let schemas = |d: &Value| {
            d.pointer("/components/schemas")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len())
        };
        assert_eq!(
            schemas(&sliced),
            schemas(&doc),
            "{name}: the slice keeps every schema the operations reach"
        );
        // every example against its schema, through every reference
        let d = doc.clone();
        ends(format!("conformance on {name}"), move || {
            let mut n = 0;
            crate::nav::walk(&d, "", &mut |map, _| {
                if let (Some(s), Some(e)) = (map.get("schema"), map.get("example")) {
                    let _ = crate::conformance::nonconformance(&d, s, e, 0);
                    let _ = crate::conformance::nonconformance_lenient(&d, s, e);
                    n += 1;
                }
            });
            n
        });
        // the same document written as Swagger 2.0, converted
        let d = doc.clone();
        ends(format!("the Swagger 2.0 conversion of {name}"), move || {
            let mut two = swagger2_of(&d);
            crate::swagger2::upgrade(&mut two, Path::new("x.json")).map(|_| two)
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// `doc` (OpenAPI 3.0) as a Swagger 2.0 document: definitions, body and query parameters.
fn swagger2_of(doc: &Value) -> Value {
    let text = serde_json::to_string(&doc["components"]["schemas"])
        .unwrap()
        .replace("#/components/schemas/", "#/definitions/");
    let definitions: Value = serde_json::from_str(&text).unwrap();
    let mut paths = serde_json::Map::new();
    for (path, method, op) in crate::nav::operations(doc) {
        let schema =
            serde_json::to_string(&op["requestBody"]["content"]["application/json"]["schema"])
                .unwrap()
                .replace("#/components/schemas/", "#/definitions/");
        let schema: Value = serde_json::from_str(&schema).unwrap();
        paths.insert(
            path.to_string(),
            serde_json::json!({ method: {
                "operationId": op["operationId"],
                "parameters": [{"name": "body", "in": "body", "schema": schema}],
                "responses": {"200": {"description": "ok", "schema": schema}}
            }}),
        );
    }
    serde_json::json!({
        "swagger": "2.0", "info": doc["info"], "paths": paths, "definitions": definitions
    })
}
