//! Every file the repository's docs, comments and overlays point to exists, and every
//! `NOTES.md#anchor` names a heading of that file: evidence lives in the repository.
//!
//! Scans the tracked text files (`git ls-files`) for
//! - paths into the folders `specs`, `crates`, `xtask`, `fuzz` and a crate's `examples` (in `.rs`
//!   files only in comments), resolved from the repository root or from the file's folder and its
//!   parents (a crate's docs name `examples/<name>.rs`);
//! - relative Markdown links `[text](path)` and `[text](#anchor)`, resolved from the file's folder;
//! - `#anchor` after a Markdown file, checked against that file's headings (GitHub's anchors);
//!
//! and fails naming `file:line` for each one that does not exist. Placeholders (`specs/<vendor>/`,
//! `crates/{v}/`, `crates/*/tests`, `...`) are patterns, not files, and are skipped; so is a path
//! on a line that names another repository first (`owner/repo path @ commit`). Any mention of the
//! notes that used to live outside the repository fails too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const PREFIXES: &[&str] = &["specs/", "crates/", "xtask/", "fuzz/", "examples/"];

/// Pinned vendor documents and generated code: their text is not ours to keep consistent.
fn vendor_text(file: &str) -> bool {
    file.contains("/upstream/")
        || file.contains("/tests/golden/")
        || file.starts_with("fuzz/seeds/")
        || file.starts_with("fuzz/regressions/") && !file.ends_with(".md")
        || file.ends_with("/openapi.yaml") && file.starts_with("specs/")
        || file.ends_with(".lock")
        // the corpus manifest names paths in the documents' own repositories
        || file == "corpus/corpus.toml"
        || file.starts_with("corpus/") && !file.ends_with(".md")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn tracked(root: &Path) -> Vec<String> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .expect("git ls-files");
    assert!(out.status.success(), "git ls-files failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

/// GitHub's anchor for a heading: lowercase, spaces to `-`, punctuation dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code fences), with GitHub's `-1`, `-2`
/// suffixes for repeated headings.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut fence = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        let hashes = t.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
            let base = slug(t[hashes..].trim().trim_end_matches('#'));
            let n = seen.entry(base.clone()).or_default();
            out.insert(if *n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            });
            *n += 1;
        }
    }
    out
}

/// The part of a Rust line that is a comment (`//` outside a string literal), if any.
fn rust_comment(line: &str) -> Option<&str> {
    let mut quotes = 0;
    let bytes = line.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => quotes += 1,
            b'/' if quotes % 2 == 0 && bytes.get(i + 1) == Some(&b'/') => return Some(&line[i..]),
            _ => {}
        }
    }
    None
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./#<>{}*".contains(c)
}

/// `owner/repo`: another repository named on the line (not a folder or file of this one).
fn other_repository(token: &str, top: &BTreeSet<String>) -> bool {
    let token = token.trim_matches(|c: char| "`'\"(),[]|*".contains(c));
    let Some((owner, repo)) = token.split_once('/') else {
        return false;
    };
    let file = [".rs", ".md", ".yaml", ".yml", ".toml", ".json"];
    if PREFIXES.iter().any(|p| p[..p.len() - 1] == *owner) || file.iter().any(|e| repo.ends_with(e))
    {
        return false;
    }
    let part = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    };
    part(owner) && part(repo) && !top.contains(owner)
}

/// Paths to repository files mentioned on a line, with their byte offset.
fn mentioned_paths<'a>(line: &'a str, top: &BTreeSet<String>) -> Vec<&'a str> {
    let mut out = Vec::new();
    for prefix in PREFIXES {
        for (at, _) in line.match_indices(prefix) {
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || "_-./$:~".contains(c)) {
                continue;
            }
            if line[..at]
                .split_whitespace()
                .any(|t| other_repository(t, top))
            {
                continue;
            }
            let len = line[at..]
                .find(|c: char| !path_char(c))
                .unwrap_or(line.len() - at);
            let reference = line[at..at + len].trim_end_matches(['.', ',', ':', ';']);
            out.push(reference);
        }
    }
    out
}

/// Relative Markdown link targets `[text](target)` on a line.
fn markdown_links(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (at, _) in line.match_indices("](") {
        let rest = &line[at + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = rest[..end].split_whitespace().next().unwrap_or("");
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        out.push(target);
    }
    out
}

/// A pattern, not a file (`specs/<vendor>/`, `crates/{v}/`, `crates/*/tests`, `...`), or a folder
/// kind named by itself (`the examples/ folders`).
fn placeholder(reference: &str) -> bool {
    reference.contains(['<', '>', '{', '}', '*'])
        || reference.contains("...")
        || PREFIXES.contains(&reference)
}

struct Checker<'a> {
    root: &'a Path,
    anchors: BTreeMap<PathBuf, BTreeSet<String>>,
}

impl Checker<'_> {
    /// Why `reference` (a path with an optional `#anchor`) does not resolve from `bases`.
    fn problem(&mut self, reference: &str, bases: &[PathBuf]) -> Option<String> {
        let (path, anchor) = match reference.split_once('#') {
            Some((p, a)) => (p.trim_end_matches('/'), Some(a)),
            None => (reference.trim_end_matches('/'), None),
        };
        let found = bases
            .iter()
            .map(|b| {
                if path.is_empty() {
                    b.clone()
                } else {
                    b.join(path)
                }
            })
            .find(|p| p.exists());
        let Some(found) = found else {
            return (!ignored(self.root, path)).then(|| format!("`{reference}`: no such file"));
        };
        let anchor = anchor.filter(|a| !a.is_empty())?;
        if found.extension().is_none_or(|e| e != "md") {
            return None;
        }
        let key = found.canonicalize().unwrap_or(found.clone());
        let known = self
            .anchors
            .entry(key)
            .or_insert_with(|| anchors(&std::fs::read_to_string(&found).unwrap_or_default()));
        (!known.contains(anchor)).then(|| {
            format!(
                "`{reference}`: {} has no heading with anchor `#{anchor}`",
                found.strip_prefix(self.root).unwrap_or(&found).display()
            )
        })
    }
}

/// A path git ignores (`target/`, `fuzz/corpus/`) is a build output, not a repository file.
fn ignored(root: &Path, path: &str) -> bool {
    Command::new("git")
        .args(["check-ignore", "--no-index", "-q", path])
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn broken_references(root: &Path, files: &[String]) -> Vec<String> {
    let old_notes = concat!("VENDOR", "-NOTES");
    let outside = concat!("..", "/shared/");
    let top: BTreeSet<String> = std::fs::read_dir(root)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    let mut checker = Checker {
        root,
        anchors: BTreeMap::new(),
    };
    let mut broken = Vec::new();
    for file in files {
        let Ok(bytes) = std::fs::read(root.join(file)) else {
            continue; // deleted in the work tree
        };
        let text = String::from_utf8_lossy(&bytes);
        for (n, line) in text.lines().enumerate() {
            for bad in [old_notes, outside] {
                if line.contains(bad) {
                    broken.push(format!(
                        "{file}:{}: `{bad}` points outside the repository; cite specs/<vendor>/NOTES.md",
                        n + 1
                    ));
                }
            }
        }
        if vendor_text(file) || file.ends_with(".gitignore") || bytes.contains(&0) {
            continue;
        }
        let dir = root.join(file).parent().unwrap().to_path_buf();
        let markdown = file.ends_with(".md");
        let rust = file.ends_with(".rs");
        // a path mention may be relative to the root, the file's folder or a parent (its crate)
        let bases: Vec<PathBuf> = std::iter::once(root.to_path_buf())
            .chain(
                dir.ancestors()
                    .take_while(|d| d.starts_with(root))
                    .map(Path::to_path_buf),
            )
            .collect();
        let mut fence = false;
        for (n, line) in text.lines().enumerate() {
            if markdown && line.trim_start().starts_with("```") {
                fence = !fence;
            }
            let scanned = if rust {
                match rust_comment(line) {
                    Some(comment) => comment,
                    None => continue,
                }
            } else {
                line
            };
            let mut problems = BTreeSet::new();
            for reference in mentioned_paths(scanned, &top) {
                if !placeholder(reference) {
                    problems.extend(checker.problem(reference, &bases));
                }
            }
            if markdown && !fence {
                for target in markdown_links(line) {
                    if placeholder(target) {
                        continue;
                    }
                    let base = if target.starts_with('/') {
                        root.to_path_buf()
                    } else {
                        dir.clone()
                    };
                    let target = target.trim_start_matches('/');
                    let target = if target.starts_with('#') {
                        format!(
                            "{}{target}",
                            Path::new(file).file_name().unwrap().to_string_lossy()
                        )
                    } else {
                        target.to_string()
                    };
                    problems.extend(checker.problem(&target, &[base]));
                }
            }
            for p in problems {
                broken.push(format!("{file}:{}: {p}", n + 1));
            }
        }
    }
    broken
}

#[test]
fn every_referenced_file_and_anchor_exists() {
    let root = root();
    let files = tracked(&root);
    assert!(files.len() > 50, "git ls-files found {} files", files.len());
    let broken = broken_references(&root, &files);
    assert!(
        broken.is_empty(),
        "{} broken reference(s):\n{}",
        broken.len(),
        broken.join("\n")
    );
}

#[test]
fn the_checker_finds_what_it_should() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-references-")
        .tempdir()
        .unwrap();
    let dir = scratch.path().to_path_buf();
    std::fs::create_dir_all(dir.join("specs/acme")).unwrap();
    std::fs::create_dir_all(dir.join("crates/acme/src")).unwrap();
    std::fs::create_dir_all(dir.join("crates/acme/examples")).unwrap();
    std::fs::write(
        dir.join("specs/acme/NOTES.md"),
        "# Acme\n\n## Wrong enum (1/2)\n\n```sh\n# not a heading\n```\n## Fake server behaviour\n",
    )
    .unwrap();
    std::fs::write(dir.join("crates/acme/examples/acme.rs"), "").unwrap();
    let old = concat!("..", "/shared/VENDOR", "-NOTES.md");
    let files = [
        (
            "specs/acme/overlay.yaml",
            format!(
                "# evidence: specs/acme/NOTES.md#wrong-enum-12, specs/<vendor>/NOTES.md\n\
                 # see specs/acme/NOTES.md#not-a-heading and specs/acme/GONE.md.\n\
                 # origin: acme/acme-docs specs/acme-openapi.yaml @ 0123abcd\n\
                 # url: https://example.com/specs/nowhere.yaml, {old}\n"
            ),
        ),
        (
            "crates/acme/src/lib.rs",
            concat!(
                "//! Example (`examples/acme.rs`), fake: crates/acme/src/fake.rs\n",
                "let p = \"specs/acme/absent.yaml\"; /",
                "/ crates/{v}/x.rs, crates/acme/src/lib.rs, the examples/ folder\n",
            )
            .to_string(),
        ),
        (
            "README.md",
            "[notes](specs/acme/NOTES.md#fake-server-behaviour) [gone](specs/acme/nope.md)\n\
             [top](#readme) [missing](#nowhere) [web](https://example.com/x)\n\n# Readme\n"
                .to_string(),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let names: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
    let broken = broken_references(&dir, &names);
    std::fs::remove_dir_all(&dir).unwrap();
    let expected = [
        "specs/acme/overlay.yaml:2: `specs/acme/GONE.md`: no such file",
        "specs/acme/overlay.yaml:2: `specs/acme/NOTES.md#not-a-heading`: specs/acme/NOTES.md has no heading with anchor `#not-a-heading`",
        concat!("specs/acme/overlay.yaml:4: `VENDOR", "-NOTES`"),
        concat!("specs/acme/overlay.yaml:4: `..", "/shared/`"),
        "crates/acme/src/lib.rs:1: `crates/acme/src/fake.rs`: no such file",
        "README.md:1: `specs/acme/nope.md`: no such file",
        "README.md:2: `README.md#nowhere`: README.md has no heading with anchor `#nowhere`",
    ];
    for e in expected {
        assert!(
            broken.iter().any(|b| b.starts_with(e)),
            "expected a finding starting with {e:?}, got:\n{}",
            broken.join("\n")
        );
    }
    assert_eq!(
        broken.len(),
        expected.len(),
        "unexpected findings:\n{}",
        broken.join("\n")
    );
}
