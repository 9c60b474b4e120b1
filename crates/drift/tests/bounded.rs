//! The semantic diff ends, and quickly, on the documents shaped to make a walk that follows
//! every path through references exponential (`crates/codegen/tests/bounded/`): a diamond of
//! 60 schemas whose properties all reference the next (2^60 paths), `allOf` 20 wide and 9 deep,
//! HubSpot's `PublicActor` inheritance cycle, a long chain. Each diff runs on its own thread
//! and must end within a deadline far above what a linear walk takes.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use agentstatus_drift::{ChangeKind, diff};
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(60);

fn shape(name: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../codegen/tests/bounded")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn diff_within_deadline(what: &str, old: Value, new: Value) -> Vec<agentstatus_drift::Finding> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let _ = tx.send(diff(&old, &new));
        })
        .unwrap();
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|e| panic!("diff of {what} did not end within {DEADLINE:?}: {e}"))
}

#[test]
fn the_diff_ends_on_every_shape_and_still_finds_the_change() {
    // a change deep in each shape (within the depth the diff reads), where many paths lead
    let cases: [(&str, &str, Value); 5] = [
        (
            // 3^10 paths lead to D10 (a, b and c[] of every level), within the diff's depth of 24
            "diamond",
            "/components/schemas/D10",
            serde_json::json!({"type": "integer"}),
        ),
        (
            "wide-20x5",
            "/components/schemas/W7",
            serde_json::json!({"type": "object", "properties": {"w": {"type": "string"}}}),
        ),
        (
            "wide-20x5",
            "/components/schemas/L0/oneOf/3/allOf/1/properties/p0_3",
            serde_json::json!({"type": "integer"}),
        ),
        (
            "hubspot-actor",
            "/components/schemas/PublicActor/properties/id",
            serde_json::json!({"type": "integer"}),
        ),
        (
            "ref-chain",
            "/components/schemas/P10",
            serde_json::json!({"type": "integer"}),
        ),
    ];
    for (name, at, changed) in cases {
        let old = shape(name);
        let same = diff_within_deadline(name, old.clone(), old.clone());
        assert!(same.is_empty(), "{name}: {same:?}");
        let mut new = old.clone();
        *new.pointer_mut(at).unwrap() = changed;
        let found = diff_within_deadline(name, old, new);
        assert!(
            found.iter().any(|f| f.change == ChangeKind::TypeChanged
                || f.change == ChangeKind::PropertyAdded
                || f.change == ChangeKind::VariantRemoved),
            "{name}: the change at {at} is found: {found:?}"
        );
    }
    // and deep nesting, inline
    let old = shape("deep-nesting");
    let mut new = old.clone();
    let mut at = String::from("/components/schemas/Deep");
    for _ in 0..40 {
        at.push_str("/properties/x");
    }
    *new.pointer_mut(&at).unwrap() = serde_json::json!({"type": "integer"});
    diff_within_deadline("deep-nesting", old, new);
}
