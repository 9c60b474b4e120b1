//! `cargo xtask update`: the vendor changed its documents. One command pins the current
//! documents, regenerates `openapi.yaml`, rebuilds the affected vendor crate, rewrites its golden
//! files, runs its tests and writes its changelog entry (with the semver bump the semantic diff
//! implies).

use std::path::{Path, PathBuf};
use std::process::Command;

use agentstatus_codegen::overlay::ActionStatus;
use agentstatus_codegen::sources::Sources;
use agentstatus_codegen::{Error, ErrorKind, Location, SOURCES_FILE};
use agentstatus_drift::{ChangeKind, FailOn, Finding, Policy, Side, VendorReport, client_only};

use crate::check;
use crate::error::{self, Error as Outcome, Exit};
use crate::fetch::Current;
use crate::flags;
use crate::workspace::{Workspace, cargo, relative, today};

impl flags::Update {
    /// Update every vendor (or the one asked for) whose documents changed; a vendor that fails
    /// is reported and the others are still updated.
    pub fn run(self, ws: &Workspace) -> error::Result {
        let names = ws.vendors(self.vendor.as_deref())?;
        eprintln!("update: {}", ws.specs.display());
        let Some(current) = self.live.current(self.sources) else {
            return Err(Outcome::could_not_run(
                "update needs --live or --sources DIR",
            ));
        };
        let opts = Options {
            root: &ws.root,
            specs: &ws.specs,
            current: &current,
            run_tests: !self.no_test,
            semver_checks: self.semver_checks,
            date: today(),
        };
        let mut failed = false;
        for v in &names {
            match update_vendor(&opts, v) {
                Ok(Some(u)) => println!(
                    "update: {}: {} finding(s), {} bump: {} {} (changelog {})",
                    u.vendor,
                    u.findings,
                    u.bump.name(),
                    u.package,
                    u.next_version,
                    relative(&ws.root, &u.changelog)
                ),
                Ok(None) => println!("update: {v}: nothing to update"),
                Err(e) => {
                    error::print(format!("{v}: {e}"));
                    failed = true;
                }
            }
        }
        if failed {
            Err(Outcome::reported(Exit::CouldNotRun))
        } else {
            Ok(())
        }
    }
}

/// The release a set of findings calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    Patch,
    Minor,
    Major,
}

impl Bump {
    /// A breaking finding is a major release; an addition (operation, parameter, property, enum
    /// value, status, media type, alternative) a minor one; anything else (documentation, a
    /// loosened request constraint...) a patch.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Bump {
        let findings: Vec<&Finding> = findings.into_iter().collect();
        if findings.iter().any(|f| f.breaking) {
            Bump::Major
        } else if findings.iter().any(|f| section(f) == "Added") {
            Bump::Minor
        } else {
            Bump::Patch
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }

    /// The next version, by Cargo's rules: below 1.0 a breaking change bumps the minor
    /// number and anything else the patch number.
    pub fn next(self, version: &str) -> String {
        let mut parts = version
            .split(['.', '-', '+'])
            .take(3)
            .map(|p| p.parse::<u64>().unwrap_or(0));
        let (major, minor, patch) = (
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        );
        match (self, major) {
            (Bump::Major, 0) => format!("0.{}.0", minor + 1),
            (_, 0) => format!("0.{minor}.{}", patch + 1),
            (Bump::Major, m) => format!("{}.0.0", m + 1),
            (Bump::Minor, m) => format!("{m}.{}.0", minor + 1),
            (Bump::Patch, m) => format!("{m}.{minor}.{}", patch + 1),
        }
    }
}

/// A vendor crate of the workspace (from `cargo metadata`).
pub type VendorCrate = crate::workspace::Crate;

fn fail(file: &Path, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Invalid, file, Location::File, message)
}

/// The crate whose `[package.metadata.agentstatus] vendor` is `vendor`.
pub fn vendor_crate(root: &Path, vendor: &str) -> Result<VendorCrate, Error> {
    let (crates, _) = crate::workspace::crates(root).map_err(|e| fail(root, e))?;
    crates
        .into_iter()
        .find(|c| c.vendor.as_deref() == Some(vendor))
        .ok_or_else(|| {
            fail(
                &root.join("Cargo.toml"),
                format!(
                    "no workspace crate has `[package.metadata.agentstatus] vendor = \"{vendor}\"`"
                ),
            )
        })
}

/// Run a cargo step for the vendor crate, streaming its output to stderr.
fn step(root: &Path, what: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), Error> {
    eprintln!("update: {what}: cargo {}", args.join(" "));
    let mut cmd = Command::new(cargo());
    cmd.args(args).current_dir(root);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd
        .status()
        .map_err(|e| fail(root, format!("cannot run cargo: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(fail(
            root,
            format!("{what} failed (cargo {}): {status}", args.join(" ")),
        ))
    }
}

/// What `update` did for one vendor.
#[derive(Debug)]
pub struct Updated {
    pub vendor: String,
    pub package: String,
    pub bump: Bump,
    pub next_version: String,
    pub changelog: PathBuf,
    pub findings: usize,
}

pub struct Options<'a> {
    pub root: &'a Path,
    pub specs: &'a Path,
    pub current: &'a Current,
    pub run_tests: bool,
    /// Confirm the bump with cargo-semver-checks (the crate at git HEAD as the baseline).
    pub semver_checks: bool,
    pub date: String,
}

/// Update one vendor. `Ok(None)`: none of its sources changed.
pub fn update_vendor(opts: &Options<'_>, vendor: &str) -> Result<Option<Updated>, Error> {
    let dir = opts.specs.join(vendor);
    if let Current::Dir(root) = opts.current
        && !root.join(vendor).is_dir()
    {
        eprintln!(
            "update: {vendor}: no {} folder: not updated",
            root.join(vendor).display()
        );
        return Ok(None);
    }
    let report = check::check_vendor(opts.root, vendor, &dir, Some(opts.current));
    if let Some(e) = &report.error {
        return Err(fail(&dir, e.clone()));
    }
    let upstream = report.upstream.as_ref().expect("checked against current");
    if upstream.changed_sources.is_empty() {
        eprintln!("update: {vendor}: no source changed");
        return Ok(None);
    }
    refuse_what_regen_cannot_build(&report)?;
    let krate = vendor_crate(opts.root, vendor)?;
    // the generated Rust API before and after, for the changelog: what the crate's users see
    let api_before = RustApi::of(&dir, krate.has_full);

    // pin, regenerate
    crate::regen::regen_vendor(opts.specs, vendor, Some(opts.current))?;
    let api_after = RustApi::of(&dir, krate.has_full);
    let sources = Sources::load(&dir.join(SOURCES_FILE))?;
    let full_changed = sources
        .sources
        .iter()
        .any(|s| s.full && upstream.changed_sources.contains(&s.name));

    // rebuild, rewrite golden files, test: this crate only
    let p = krate.name.as_str();
    step(
        opts.root,
        "rebuild",
        &["build", "-p", p, "--features", "codegen"],
        &[],
    )?;
    let overwrite = [("EXPECTORATE", "overwrite")];
    step(
        opts.root,
        "rewrite golden files",
        // the golden test needs the generator (`codegen`), which `full` implies
        &["test", "-p", p, "--features", "codegen", "--test", "golden"],
        &overwrite,
    )?;
    if krate.has_full && full_changed && krate.dir.join("tests/golden_full.rs").exists() {
        step(
            opts.root,
            "rewrite the full API's golden files",
            &[
                "test",
                "-p",
                p,
                "--features",
                "full",
                "--test",
                "golden_full",
            ],
            &overwrite,
        )?;
    }

    // the changelog is written before the tests run, so a failing test leaves the whole
    // update (pinned copies, spec, golden files, changelog) in the tree for review
    // the client layer (what the crate's users see) and the `full` API decide the release
    let mut bump = Bump::of(report.judged(Policy::new(FailOn::Drift)));
    let mut note = None;
    if opts.semver_checks {
        // the spec-level verdict and the Rust API's: said either way, the stricter taken
        note = Some(match semver_checks(opts.root, &krate, bump)? {
            Some(needed) if needed > bump => {
                let n = format!(
                    "cargo-semver-checks ({SEMVER_CHECKS}) disagrees: the generated Rust API \
                     needs a {} release where the vendor's API change alone calls for a {}; \
                     the stricter is taken",
                    needed.name(),
                    bump.name()
                );
                bump = needed;
                n
            }
            _ => format!(
                "cargo-semver-checks ({SEMVER_CHECKS}) agrees: the generated Rust API fits a {} \
                 release",
                bump.name()
            ),
        });
        eprintln!("update: {vendor}: {}", note.as_deref().unwrap_or_default());
    }
    let next_version = bump.next(&krate.version);
    let changelog = krate.dir.join("CHANGELOG.md");
    let mut entry = changelog_entry(&report, bump, &krate.version, &next_version, &opts.date);
    add_rust_api_changes(&mut entry, &api_before, &api_after);
    if let (Some(note), Some((_, changed))) =
        (note, entry.iter_mut().find(|(s, _)| *s == "Changed"))
    {
        changed.insert(1, format!("{note}."));
    }
    write_changelog(&changelog, &entry)?;
    eprintln!(
        "update: {vendor}: wrote {} ({} bump, {} -> {next_version})",
        relative(opts.root, &changelog),
        bump.name(),
        krate.version
    );
    if opts.run_tests {
        // the crate's own tests, not doctests: the doc comments of a just-downloaded
        // document's generated code are never compiled. With the adapter and the fake, so the
        // wire, contract and fake tests run and the adapter is compiled against the new client.
        let features = krate.features_present(&["presence", "fake"]);
        let mut args = vec!["test", "-p", p, "--tests"];
        if !features.is_empty() {
            args.extend(["--features", features.as_str()]);
        }
        step(opts.root, "test", &args, &[])?;
        // ... and with every feature: the complete API's client (`full`: its own generated
        // client, so the slice's golden test does not apply) under the adapter and the fake,
        // and its golden test
        if krate.has_full && krate.dir.join("tests/golden_full.rs").exists() {
            let every = krate.features_present(&["presence", "fake", "full"]);
            step(
                opts.root,
                "test with the complete API",
                &[
                    "test",
                    "-p",
                    p,
                    "--features",
                    &every,
                    "--test",
                    "golden_full",
                ],
                &[],
            )?;
        }
    }
    Ok(Some(Updated {
        vendor: vendor.to_string(),
        package: krate.name,
        bump,
        next_version,
        changelog,
        findings: upstream.findings.len(),
    }))
}

/// The vendor crate's generated Rust API (slice, and `full` when the crate has it), generated
/// in memory from `specs/<vendor>/`. A side that cannot be generated is `None`: its changes are
/// then not listed (the build step reports why).
struct RustApi {
    slice: Option<crate::api_diff::Api>,
    full: Option<crate::api_diff::Api>,
}

impl RustApi {
    fn of(spec_dir: &Path, has_full: bool) -> Self {
        let api = |code: Result<String, agentstatus_codegen::Error>, what: &str| match code
            .map_err(|e| e.to_string())
            .and_then(|c| crate::api_diff::Api::of(&c))
        {
            Ok(api) => Some(api),
            Err(e) => {
                eprintln!("update: the {what} Rust API of {}: {e}", spec_dir.display());
                None
            }
        };
        RustApi {
            slice: api(
                agentstatus_codegen::Codegen::vendor(spec_dir)
                    .prepare()
                    .and_then(|p| p.generate())
                    .map(|g| g.code),
                "presence slice's",
            ),
            full: has_full
                .then(|| {
                    api(
                        agentstatus_codegen::Codegen::vendor(spec_dir)
                            .full(true)
                            .prepare()
                            .and_then(|p| p.generate())
                            .map(|g| g.code),
                        "complete (`full`)",
                    )
                })
                .flatten(),
        }
    }
}

/// The generated Rust API's changes, slice and `full` apart, under the entry's sections.
fn add_rust_api_changes(
    entry: &mut Vec<(&'static str, Vec<String>)>,
    before: &RustApi,
    after: &RustApi,
) {
    let mut counts = Vec::new();
    for (what, old, new) in [
        ("Rust API", &before.slice, &after.slice),
        ("Rust API with `full`", &before.full, &after.full),
    ] {
        let (Some(old), Some(new)) = (old, new) else {
            continue;
        };
        let changes = crate::api_diff::changes(old, new);
        counts.push(format!("{what}: {} change(s)", changes.len()));
        for c in changes {
            let line = format!("{what}: {}", c.line);
            match entry.iter_mut().find(|(s, _)| *s == c.section) {
                Some((_, lines)) => lines.push(line),
                None => entry.push((c.section, vec![line])),
            }
        }
    }
    if let Some((_, changed)) = entry.iter_mut().find(|(s, _)| *s == "Changed")
        && !counts.is_empty()
    {
        changed.insert(1, format!("{}.", counts.join("; ")));
    }
    entry.sort_by_key(|(s, _)| SECTIONS.iter().position(|x| x == s));
}

/// The cargo-semver-checks pinned for this check (`cargo install --locked`).
pub const SEMVER_CHECKS: &str = "cargo-semver-checks@0.51.0";

/// Ask cargo-semver-checks whether the generated crate's public API, compared with the crate
/// at git HEAD (before the update), fits the release the semantic diff calls for. Below 1.0 a
/// breaking release is Cargo's "minor" and anything else its "patch". Returns the release the
/// Rust API needs when it is more than `bump` (a field added to a generated struct is
/// harmless on the wire but breaks code that builds the struct literally).
fn semver_checks(root: &Path, krate: &VendorCrate, bump: Bump) -> Result<Option<Bump>, Error> {
    let installed = Command::new(cargo())
        .args(["semver-checks", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let version = Command::new(cargo())
        .args(["semver-checks", "--version"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let pinned = SEMVER_CHECKS.rsplit('@').next().unwrap_or_default();
    if installed && !version.ends_with(pinned) {
        return Err(fail(
            root,
            format!(
                "--semver-checks: `{version}` is installed, this check is pinned to {SEMVER_CHECKS} \
                 (its lints decide the verdict): cargo install --locked {SEMVER_CHECKS}"
            ),
        ));
    }
    if !installed {
        return Err(fail(
            root,
            format!(
                "--semver-checks: cargo-semver-checks is not installed \
                 (cargo install --locked {SEMVER_CHECKS})"
            ),
        ));
    }
    let zero = krate.version.starts_with("0.");
    let release = match (bump, zero) {
        (Bump::Major, true) => "minor",
        (_, true) => "patch",
        (b, false) => b.name(),
    };
    let args = [
        "semver-checks",
        "check-release",
        "-p",
        &krate.name,
        "--baseline-rev",
        "HEAD",
        "--release-type",
        release,
    ];
    eprintln!(
        "update: confirm the bump with cargo-semver-checks: cargo {}",
        args.join(" ")
    );
    let out = Command::new(cargo())
        .args(args)
        .current_dir(root)
        .output()
        .map_err(|e| fail(root, format!("cannot run cargo semver-checks: {e}")))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{text}");
    semver_verdict(out.status.success(), &text, zero).ok_or_else(|| {
        fail(
            root,
            format!(
                "cargo semver-checks failed without a verdict ({})",
                out.status
            ),
        )
    })
}

/// The release cargo-semver-checks asks for, from its summary line ("semver requires new major
/// version: 1 major and 0 minor checks failed"): `Some(None)` when the checked release is
/// enough, `None` when it failed without a verdict.
fn semver_verdict(success: bool, output: &str, below_1_0: bool) -> Option<Option<Bump>> {
    if success {
        return Some(None);
    }
    // below 1.0 a new minor version is the major one
    if output.contains("requires new major version")
        || (below_1_0 && output.contains("requires new minor version"))
    {
        Some(Some(Bump::Major))
    } else if output.contains("requires new minor version") {
        Some(Some(Bump::Minor))
    } else {
        None
    }
}

/// An overlay action that matches nothing fails the build, and a conflict between sources fails
/// regen: say so, and where, before anything is written.
fn refuse_what_regen_cannot_build(report: &VendorReport) -> Result<(), Error> {
    let mut problems = Vec::new();
    for a in report.stale() {
        if a.check.status == ActionStatus::NoMatch {
            problems.push(format!(
                "{}:{}:{}: overlay action {} `{}` matches nothing in the new document: fix or remove it",
                a.file,
                a.line.unwrap_or(1),
                a.column.unwrap_or(1),
                a.check.index,
                a.check.target
            ));
        }
    }
    for f in report.upstream_findings() {
        if f.change == ChangeKind::SourceConflict {
            problems.push(format!(
                "{}: {}",
                f.position().unwrap_or_default(),
                f.detail
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(fail(
        Path::new(&format!("specs/{}", report.vendor)),
        "nothing was written; regen or the build would fail:",
    )
    .with_details(problems))
}

/// Keep a Changelog section a finding goes under.
fn section(f: &Finding) -> &'static str {
    match f.change {
        ChangeKind::AuthChanged | ChangeKind::SecuritySchemeChanged => "Security",
        ChangeKind::OperationAdded
        | ChangeKind::ParameterAdded
        | ChangeKind::PropertyAdded
        | ChangeKind::EnumValueAdded
        | ChangeKind::ResponseStatusAdded
        | ChangeKind::MediaTypeAdded
        | ChangeKind::VariantAdded => "Added",
        ChangeKind::OperationRemoved
        | ChangeKind::ParameterRemoved
        | ChangeKind::PropertyRemoved
        | ChangeKind::EnumValueRemoved
        | ChangeKind::ResponseStatusRemoved
        | ChangeKind::MediaTypeRemoved
        | ChangeKind::VariantRemoved => "Removed",
        _ => "Changed",
    }
}

const SECTIONS: &[&str] = &["Added", "Changed", "Removed", "Security"];

/// The entry for one update: `(section, lines)`.
pub fn changelog_entry(
    report: &VendorReport,
    bump: Bump,
    version: &str,
    next: &str,
    date: &str,
) -> Vec<(&'static str, Vec<String>)> {
    let upstream = report.upstream.as_ref().expect("an update has upstream");
    let mut out: Vec<(&'static str, Vec<String>)> =
        SECTIONS.iter().map(|s| (*s, Vec::new())).collect();
    let counts = report.summary();
    out[1].1.push(format!(
        "Vendor documents updated on {date} (`cargo xtask update`, {}; changed: {}): \
         {} breaking, {} non-breaking change(s){}; semver: **{}** ({version} -> {next}).",
        upstream.from,
        upstream.changed_sources.join(", "),
        counts.breaking,
        counts.non_breaking,
        [
            (counts.not_in_client > 0).then(|| format!(
                "; {} change(s) of the vendor's document that do not reach the generated client",
                counts.not_in_client
            )),
            (counts.full_breaking + counts.full_non_breaking > 0).then(|| format!(
                "; the rest of the `full` API: {} breaking, {} non-breaking",
                counts.full_breaking, counts.full_non_breaking
            )),
        ]
        .into_iter()
        .flatten()
        .collect::<String>(),
        bump.name()
    ));
    // what the vendor changed (raw; marked where it does not reach the client), what the
    // client sees only, and the rest of the `full` API
    let raw = upstream.findings.iter().map(|f| (f, ""));
    let only = client_only(&upstream.findings, &upstream.client)
        .into_iter()
        .map(|f| (f, "generated client: "));
    let full = upstream
        .full
        .iter()
        .chain(client_only(&upstream.full, &upstream.full_client))
        .map(|f| (f, "`full` API: "));
    for (f, prefix) in raw.chain(only).chain(full) {
        let what = [f.operation.as_str(), f.location.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(" ");
        // the current document is the pinned copy now: cite it there
        let at = match (f.side, f.source.as_ref().and_then(|s| report.pinned.get(s))) {
            (Side::New, Some(pinned)) => match (f.line, f.column) {
                (Some(l), Some(c)) => format!(" ({pinned}:{l}:{c})"),
                _ => format!(" ({pinned})"),
            },
            (Side::Old, _) => f
                .position()
                .map(|p| format!(" (was at {p})"))
                .unwrap_or_default(),
            (Side::New, None) => f.position().map(|p| format!(" ({p})")).unwrap_or_default(),
        };
        let (mark, note) = match (f.breaking, f.reaches_client) {
            (_, Some(false)) => (
                "",
                " — in the vendor's document only: the overlay or the normaliser already made or overrides it, the generated client does not change",
            ),
            (true, _) => ("**Breaking:** ", ""),
            (false, _) => ("", ""),
        };
        let i = SECTIONS.iter().position(|s| *s == section(f)).unwrap_or(1);
        out[i]
            .1
            .push(format!("{mark}{prefix}{what}: {}{at}{note}", f.detail));
    }
    out.retain(|(_, lines)| !lines.is_empty());
    out
}

const HEADER: &str = "# Changelog\n\nAll notable changes to this crate are documented in this file.\n\n\
The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/), and this crate \
adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html). Entries about the vendor's \
API are written by `cargo xtask update` from the semantic diff of the vendor's documents.\n\n";

/// Add `entry` to the `[Unreleased]` section of `path` (created if need be), appending each
/// line to the end of its `### Section`.
pub fn write_changelog(path: &Path, entry: &[(&str, Vec<String>)]) -> Result<(), Error> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| HEADER.to_string());
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let unreleased = match lines.iter().position(|l| l.starts_with("## [Unreleased]")) {
        Some(i) => i,
        None => {
            // before the first release heading, or at the end
            let at = lines
                .iter()
                .position(|l| l.starts_with("## "))
                .unwrap_or(lines.len());
            lines.splice(at..at, ["## [Unreleased]".to_string(), String::new()]);
            at
        }
    };
    for (section, items) in entry {
        let end = lines[unreleased + 1..]
            .iter()
            .position(|l| l.starts_with("## "))
            .map_or(lines.len(), |p| unreleased + 1 + p);
        let heading = format!("### {section}");
        let bullets: Vec<String> = items.iter().map(|i| format!("- {i}")).collect();
        match lines[unreleased..end].iter().position(|l| *l == heading) {
            Some(h) => {
                let h = unreleased + h;
                // the end of this section's list
                let mut at = h + 1;
                while at < end && !lines[at].starts_with("### ") && !lines[at].starts_with("## ") {
                    at += 1;
                }
                while at > h + 1 && lines[at - 1].trim().is_empty() {
                    at -= 1;
                }
                lines.splice(at..at, bullets);
            }
            None => {
                let mut block = vec![heading, String::new()];
                block.extend(bullets);
                block.push(String::new());
                let mut at = end;
                while at > unreleased + 1 && lines[at - 1].trim().is_empty() {
                    at -= 1;
                }
                block.insert(0, String::new());
                lines.splice(at..at, block);
            }
        }
    }
    let mut out = lines.join("\n");
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    let out = format!("{}\n", out.trim_end());
    std::fs::write(path, out).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            path,
            Location::File,
            format!("cannot write: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_versions_follow_cargo_rules() {
        assert_eq!(Bump::Major.next("0.1.0"), "0.2.0");
        assert_eq!(Bump::Minor.next("0.1.0"), "0.1.1");
        assert_eq!(Bump::Patch.next("0.1.3"), "0.1.4");
        assert_eq!(Bump::Major.next("1.2.3"), "2.0.0");
        assert_eq!(Bump::Minor.next("1.2.3"), "1.3.0");
        assert_eq!(Bump::Patch.next("1.2.3"), "1.2.4");
    }

    #[test]
    fn semver_checks_verdicts() {
        // cargo-semver-checks 0.51.0 on a field added to a generated response struct
        let out = "--- failure constructible_struct_adds_field: struct exhaustively constructible \
                   through public API adds field ---\n\
                   Summary semver requires new major version: 1 major and 0 minor checks failed\n";
        assert_eq!(semver_verdict(false, out, true), Some(Some(Bump::Major)));
        let minor = "Summary semver requires new minor version: 0 major and 1 minor checks failed";
        assert_eq!(semver_verdict(false, minor, true), Some(Some(Bump::Major)));
        assert_eq!(semver_verdict(false, minor, false), Some(Some(Bump::Minor)));
        let ok = "Summary no semver update required";
        assert_eq!(semver_verdict(true, ok, true), Some(None));
        assert_eq!(semver_verdict(false, "error: rustdoc failed", true), None);
    }

    #[test]
    fn changelog_entries_go_under_unreleased_sections() {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("CHANGELOG.md");
        write_changelog(&path, &[("Added", vec!["a".into()])]).unwrap();
        write_changelog(
            &path,
            &[("Added", vec!["b".into()]), ("Removed", vec!["c".into()])],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(text.starts_with("# Changelog\n"), "{text}");
        assert!(
            text.ends_with("## [Unreleased]\n\n### Added\n\n- a\n- b\n\n### Removed\n\n- c\n"),
            "{text}"
        );
    }
}
