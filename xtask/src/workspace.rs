//! What every verb works on: the workspace (its root and specs folder, found once), its vendors
//! and crates, the cargo that runs xtask, and the one way xtask rewrites a file it generates
//! ([`ensure_file_contents`]; a generated section between markers: [`write_section`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use agentstatus_codegen::{ErrorKind, Location, SOURCES_FILE};
use serde_json::Value;

use crate::error::{Error, Result};

/// The workspace a verb works on.
pub struct Workspace {
    /// The folder of its `Cargo.toml`.
    pub root: PathBuf,
    /// Its specs folder (`--specs`, else `specs/` of the root).
    pub specs: PathBuf,
}

impl Workspace {
    /// `--specs`, else the workspace the current directory is in.
    pub fn find(specs: Option<PathBuf>) -> Result<Self> {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::could_not_run(format!("no current directory: {e}")))?;
        match specs {
            Some(specs) => {
                let specs = cwd.join(specs);
                let root = find_workspace(&specs)
                    .or_else(|| specs.parent().map(Path::to_path_buf))
                    .unwrap_or_else(|| cwd.clone());
                Ok(Workspace { root, specs })
            }
            None => match find_workspace(&cwd) {
                Some(root) => Ok(Workspace {
                    specs: root.join("specs"),
                    root,
                }),
                None => Err(Error::could_not_run(format!(
                    "{} is not inside the agentstatus workspace (no Cargo.toml with [workspace] \
                     next to a specs/ folder here or above): run from the workspace or pass \
                     --specs DIR",
                    cwd.display()
                ))),
            },
        }
    }

    /// Vendor folders under specs/, or just the one asked for.
    pub fn vendors(&self, only: Option<&str>) -> Result<Vec<String>, agentstatus_codegen::Error> {
        let specs = &self.specs;
        if let Some(v) = only {
            if !specs.join(v).join(SOURCES_FILE).exists() {
                return Err(agentstatus_codegen::Error::new(
                    ErrorKind::Io,
                    specs.join(v),
                    Location::File,
                    "no such vendor (expected a folder with sources.toml)",
                ));
            }
            return Ok(vec![v.to_string()]);
        }
        agentstatus_codegen::vendor_folders(specs).map_err(|e| {
            agentstatus_codegen::Error::new(ErrorKind::Io, specs, Location::File, e.to_string())
        })
    }
}

/// The workspace to work on: the nearest folder, from `start` upward, that holds a `Cargo.toml`
/// with a `[workspace]` table and a `specs/` folder.
pub fn find_workspace(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        (manifest.contains("[workspace]") && dir.join("specs").is_dir()).then(|| dir.to_path_buf())
    })
}

/// `path` relative to the workspace root, if it is inside it.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Today's date (UTC), as sources.toml and the changelogs write it.
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// The cargo that runs xtask (`$CARGO`), for every cargo command xtask runs.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Run `cmd`, streaming its stderr; its stdout is returned.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", out.status));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{cmd:?}: output is not UTF-8: {e}"))
}

/// One workspace crate, as `cargo metadata` describes it.
#[derive(Debug, Clone)]
pub struct Crate {
    pub name: String,
    pub version: String,
    pub id: String,
    pub dir: PathBuf,
    /// `publish = false` crates stay in the repository (xtask, the benchmarks).
    pub publish: bool,
    /// `[package.metadata.agentstatus] vendor`: a generated vendor client.
    pub vendor: Option<String>,
    pub has_full: bool,
    /// Its features' names.
    pub features: Vec<String>,
}

impl Crate {
    /// Those of `wanted` the crate has, comma-separated (for `--features`).
    pub fn features_present(&self, wanted: &[&str]) -> String {
        wanted
            .iter()
            .filter(|f| self.features.iter().any(|g| g == *f))
            .copied()
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The workspace's target directory as cargo resolves it (`cargo metadata`'s
/// `target_directory`: `CARGO_TARGET_DIR`, else `build.target-dir` of a config file, relative
/// ones resolved as cargo does, else `<root>/target`): where the builds xtask runs put their
/// binaries, and where its verbs keep their scratch files. Asked once per run and root.
pub fn target_dir(root: &Path) -> Result<PathBuf, String> {
    static KNOWN: std::sync::Mutex<Vec<(PathBuf, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut known = KNOWN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, target)) = known.iter().find(|(r, _)| r == root) {
        return Ok(target.clone());
    }
    let (_, target) = crates(root)?;
    known.push((root.to_path_buf(), target.clone()));
    Ok(target)
}

/// The workspace's crates and its target directory.
pub fn crates(root: &Path) -> Result<(Vec<Crate>, PathBuf), String> {
    let out = run(Command::new(cargo()).current_dir(root).args([
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
        "--offline",
    ]))?;
    let meta: Value =
        serde_json::from_str(&out).map_err(|e| format!("cargo metadata: not JSON: {e}"))?;
    let target = PathBuf::from(meta["target_directory"].as_str().unwrap_or("target"));
    let crates = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| Crate {
            name: p["name"].as_str().unwrap_or_default().to_string(),
            version: p["version"].as_str().unwrap_or_default().to_string(),
            id: p["id"].as_str().unwrap_or_default().to_string(),
            dir: Path::new(p["manifest_path"].as_str().unwrap_or_default())
                .parent()
                .unwrap_or(root)
                .to_path_buf(),
            // `publish = false` is an empty list of registries
            publish: p["publish"].as_array().is_none_or(|r| !r.is_empty()),
            vendor: p["metadata"]["agentstatus"]["vendor"]
                .as_str()
                .map(str::to_string),
            has_full: p["features"].get("full").is_some(),
            features: p["features"]
                .as_object()
                .map(|f| f.keys().cloned().collect())
                .unwrap_or_default(),
        })
        .collect();
    Ok((crates, target))
}

/// Write `bytes` to `path` (a document a verb produces: openapi.yaml, an export).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), agentstatus_codegen::Error> {
    std::fs::write(path, bytes).map_err(|e| {
        agentstatus_codegen::Error::new(
            ErrorKind::Io,
            path,
            Location::File,
            format!("cannot write: {e}"),
        )
    })
}

/// Make `path` hold `contents`: every file (or section, [`write_section`]) xtask generates is
/// written here. An unchanged file is not touched. With `check`, a file that differs is a
/// finding and nothing is written.
pub fn ensure_file_contents(path: &Path, contents: &str, check: bool) -> Result {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if check {
        return Err(Error::finding(format!(
            "{}: not what xtask generates: rerun the command that writes it",
            path.display()
        )));
    }
    std::fs::write(path, contents).map_err(|e| io_error(path, e).into())
}

/// Replace the generated section of `path` (between the marker lines `start` and `end`) with
/// `body`. With `check`, as [`ensure_file_contents`].
pub fn write_section(path: &Path, start: &str, end: &str, body: &str, check: bool) -> Result {
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    let text = replace_section(&text, path, start, end, body)?;
    ensure_file_contents(path, &text, check)
}

/// `text` (the contents of `file`) with the text between the marker lines `start` and `end`
/// replaced by `body`.
pub fn replace_section(
    text: &str,
    file: &Path,
    start: &str,
    end: &str,
    body: &str,
) -> Result<String, agentstatus_codegen::Error> {
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        return Err(agentstatus_codegen::Error::new(
            ErrorKind::Invalid,
            file,
            Location::File,
            format!("no `{start}` ... `{end}` markers"),
        ));
    };
    Ok(format!("{}{start}\n{body}{}", &text[..a], &text[b..]))
}

fn io_error(file: &Path, e: std::io::Error) -> agentstatus_codegen::Error {
    agentstatus_codegen::Error::new(ErrorKind::Io, file, Location::File, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_between_their_markers() {
        let file = Path::new("README.md");
        let text = "# T\n<!-- a:start -->\nold\n<!-- a:end -->\nrest\n";
        let new = replace_section(text, file, "<!-- a:start -->", "<!-- a:end -->", "new\n");
        assert_eq!(
            new.unwrap(),
            "# T\n<!-- a:start -->\nnew\n<!-- a:end -->\nrest\n"
        );
        let e = replace_section(text, file, "<!-- b:start -->", "<!-- b:end -->", "x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "README.md: no `<!-- b:start -->` ... `<!-- b:end -->` markers"
        );
    }

    #[test]
    fn ensure_file_contents_writes_or_checks() {
        let scratch = tempfile::Builder::new()
            .prefix("xtask-ensure-")
            .tempdir()
            .unwrap();
        let dir = scratch.path().to_path_buf();
        let file = dir.join("f.md");
        std::fs::write(&file, "a\n<!-- s -->\nold\n<!-- e -->\n").unwrap();
        // the same contents: fine either way
        ensure_file_contents(&file, "a\n<!-- s -->\nold\n<!-- e -->\n", true).unwrap();
        // a stale section: a finding when checking, nothing written
        let e = write_section(&file, "<!-- s -->", "<!-- e -->", "new\n", true).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(std::fs::read_to_string(&file).unwrap().contains("old"));
        // written otherwise
        write_section(&file, "<!-- s -->", "<!-- e -->", "new\n", false).unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "a\n<!-- s -->\nnew\n<!-- e -->\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
