//! Every seed (`fuzz/seeds/<target>/`) and every saved crash input (`fuzz/regressions/<target>/`)
//! replayed through its fuzz target as an ordinary test, so a fixed crash stays fixed without
//! `cargo fuzz`. Runs in CI: `cargo test --manifest-path fuzz/Cargo.toml`.

use std::path::{Path, PathBuf};

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn seeds_and_regressions_replay_without_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::panic::set_hook(Box::new(|_| {})); // reported below, with the input's name
    let mut failures = Vec::new();
    for (target, run) in agentstatus_fuzz::TARGETS {
        let seeds = inputs(&root.join("seeds").join(target));
        assert!(!seeds.is_empty(), "fuzz/seeds/{target} has no seeds");
        let regressions = inputs(&root.join("regressions").join(target));
        for file in seeds.iter().chain(&regressions) {
            let data = std::fs::read(file).expect("readable input");
            if let Err(panic) = std::panic::catch_unwind(|| run(&data)) {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                failures.push(format!("{target}: {}: {message}", file.display()));
            }
        }
    }
    let _ = std::panic::take_hook();
    assert!(failures.is_empty(), "panics:\n{}", failures.join("\n"));
}
