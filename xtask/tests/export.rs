//! `cargo xtask export`: every vendor's effective document (slice and complete API) is written,
//! parses, names only security schemes it defines, and carries no key the generator made up.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn export(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(workspace())
        .arg("export")
        .args(args)
        .output()
        .unwrap()
}

fn check(doc: &Value, label: &str) {
    let schemes = doc
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    let mut requirements: Vec<&Value> = doc.get("security").into_iter().collect();
    for (_, item) in doc["paths"].as_object().unwrap() {
        for (_, op) in item.as_object().unwrap() {
            requirements.extend(op.get("security"));
        }
    }
    for list in requirements {
        for req in list.as_array().unwrap() {
            for name in req.as_object().unwrap().keys() {
                assert!(
                    schemes.is_some_and(|s| s.contains_key(name)),
                    "{label}: security scheme {name:?} is applied but not defined"
                );
            }
        }
    }
    let text = doc.to_string();
    assert!(!text.contains("x-agentstatus-json-name"), "{label}");
}

#[test]
fn every_vendor_exports_a_self_consistent_document() {
    let specs = workspace().join("specs");
    let vendors = agentstatus_codegen::vendor_folders(&specs).unwrap();
    assert!(vendors.len() >= 4, "{vendors:?}");
    for v in &vendors {
        for full in [false, true] {
            let scratch = tempfile::tempdir().unwrap();
            let out_file = scratch
                .path()
                .join(format!("agentstatus-export-{v}-{full}.json"));
            let mut args = vec![v.as_str(), "--out", out_file.to_str().unwrap()];
            if full {
                args.push("--full");
            }
            let o = export(&args);
            assert!(o.status.success(), "{v} full={full}: {o:?}");
            let doc: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
            check(&doc, &format!("{v} full={full}"));
            std::fs::remove_file(&out_file).unwrap();
        }
    }
    // YAML on stdout by default
    let o = export(&["libredesk"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("openapi:"));
}

#[test]
fn an_unknown_vendor_is_refused() {
    let o = export(&["no-such-vendor"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such vendor"));
}
