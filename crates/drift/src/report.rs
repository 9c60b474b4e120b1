//! The drift check's report: for each vendor, whether `openapi.yaml` is reproducible from the
//! pinned copies, what changed upstream, which overlay actions no longer apply, and the exit
//! code all of it comes to. xtask fills it in; [`crate::render()`] writes it out.

use std::collections::BTreeMap;
use std::path::Path;

use agentstatus_codegen::overlay::{ActionCheck, ActionStatus};
use serde::Serialize;

use crate::diff::Finding;

/// What the check found for one vendor.
#[derive(Debug, Serialize)]
pub struct VendorReport {
    /// The vendor (its folder under `specs/`).
    pub vendor: String,
    /// Does regen from the pinned copies reproduce the committed openapi.yaml byte for byte?
    pub reproducible: bool,
    /// Semantic difference between the committed openapi.yaml and what regen produces.
    pub regenerated: Vec<Finding>,
    /// The vendor's current documents compared with the pinned copies.
    pub upstream: Option<Upstream>,
    /// Each overlay action, checked against the current (or pinned) document.
    pub overlay: Vec<OverlayAction>,
    /// Why this vendor could not be checked.
    pub error: Option<String>,
    /// With `--explain`: every change the normaliser makes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<String>>,
    /// Each source's pinned copy, relative to the workspace (where a change lands once
    /// `cargo xtask update` pins the vendor's current document).
    #[serde(skip)]
    pub pinned: BTreeMap<String, String>,
}

/// The vendor's current documents compared with the pinned copies.
#[derive(Debug, Serialize)]
pub struct Upstream {
    /// Where the current documents came from.
    pub from: String,
    /// Sources whose bytes differ from the pinned copy.
    pub changed_sources: Vec<String>,
    /// Semantic difference of the kept operations, pinned -> current, source by source, and
    /// every conflict between sources.
    pub findings: Vec<Finding>,
    /// What a maintainer should know that is no drift (no exit code counts it): a kept
    /// operation taken from a docs page or transcribed that a vendor's OpenAPI source now
    /// defines too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Finding>,
}

/// An overlay action's status, with its place in overlay.yaml.
#[derive(Debug, Serialize)]
pub struct OverlayAction {
    /// The action and whether it still applies.
    #[serde(flatten)]
    pub check: ActionCheck,
    /// overlay.yaml, relative to the workspace.
    pub file: String,
    /// 1-based line of the action in `file`.
    pub line: Option<usize>,
    /// 1-based column of the action in `file`.
    pub column: Option<usize>,
}

impl VendorReport {
    /// An empty report for `vendor`: nothing checked yet.
    pub fn new(vendor: &str) -> Self {
        VendorReport {
            vendor: vendor.to_string(),
            reproducible: false,
            regenerated: Vec::new(),
            upstream: None,
            overlay: Vec::new(),
            error: None,
            explain: None,
            pinned: BTreeMap::new(),
        }
    }

    /// Is there drift of any kind?
    pub fn drift(&self) -> bool {
        !self.reproducible
            || !self.regenerated.is_empty()
            || self
                .upstream
                .as_ref()
                .is_some_and(|u| !u.findings.is_empty())
            || self.stale().next().is_some()
    }

    /// Overlay actions that no longer apply.
    pub fn stale(&self) -> impl Iterator<Item = &OverlayAction> {
        self.overlay
            .iter()
            .filter(|a| a.check.status != ActionStatus::Applies)
    }

    /// The upstream findings (none without `--live` or `--sources`).
    pub fn upstream_findings(&self) -> &[Finding] {
        self.upstream
            .as_ref()
            .map_or(&[], |u| u.findings.as_slice())
    }

    /// Would the vendor crate break for its users, or fail to build, with this drift?
    pub fn breaking(&self) -> bool {
        self.upstream_findings()
            .iter()
            .chain(&self.regenerated)
            .any(|f| f.breaking)
            || self
                .stale()
                .any(|a| a.check.status == ActionStatus::NoMatch)
    }

    /// This vendor's counts.
    pub fn summary(&self) -> Counts {
        let upstream = self.upstream_findings();
        Counts {
            breaking: upstream.iter().filter(|f| f.breaking).count(),
            non_breaking: upstream.iter().filter(|f| !f.breaking).count(),
            overlay: self.stale().count(),
            reproducibility: if self.reproducible {
                0
            } else {
                self.regenerated.len().max(1)
            },
            error: self.error.is_some(),
        }
    }
}

/// Counts for the JSON summary.
#[derive(Debug, Default, Serialize, Clone, Copy)]
pub struct Counts {
    /// Upstream findings that break a client (or a merge: source conflicts).
    pub breaking: usize,
    /// Upstream findings that do not.
    pub non_breaking: usize,
    /// Overlay actions that no longer apply (`no-match` or `already-applied`).
    pub overlay: usize,
    /// Semantic differences between the committed openapi.yaml and regen's output (at least 1
    /// when it is not byte for byte reproducible).
    pub reproducibility: usize,
    /// The vendor could not be checked.
    pub error: bool,
}

/// When the check exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailOn {
    /// Any drift: a finding of any kind, an overlay action that no longer applies, a committed
    /// openapi.yaml regen does not reproduce.
    Drift,
    /// Only what breaks the vendor crate's users or its build: a breaking finding, a conflict
    /// between sources, an overlay action that matches nothing.
    Breaking,
}

/// The whole check: every vendor's report and what they come to.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The workspace checked.
    pub workspace: String,
    /// When the check fails.
    pub fail_on: FailOn,
    /// Some vendor drifted.
    pub drift: bool,
    /// Some vendor drifted in a way that breaks its crate's users or build.
    pub breaking: bool,
    /// Some vendor could not be checked.
    pub error: bool,
    /// The counts, in all and per vendor.
    pub summary: Summary,
    /// Each vendor's report.
    pub vendors: Vec<VendorReport>,
}

/// The counts of a [`Report`].
#[derive(Debug, Serialize)]
pub struct Summary {
    /// All vendors together.
    pub total: Counts,
    /// Each vendor's.
    pub vendors: BTreeMap<String, Counts>,
}

impl Report {
    /// The report of `vendors` checked in `workspace`.
    pub fn new(workspace: &Path, fail_on: FailOn, vendors: Vec<VendorReport>) -> Self {
        let mut total = Counts::default();
        let mut per = BTreeMap::new();
        for v in &vendors {
            let c = v.summary();
            total.breaking += c.breaking;
            total.non_breaking += c.non_breaking;
            total.overlay += c.overlay;
            total.reproducibility += c.reproducibility;
            total.error |= c.error;
            per.insert(v.vendor.clone(), c);
        }
        Report {
            workspace: workspace.display().to_string(),
            fail_on,
            drift: vendors.iter().any(VendorReport::drift),
            breaking: vendors.iter().any(VendorReport::breaking),
            error: vendors.iter().any(|v| v.error.is_some()),
            summary: Summary {
                total,
                vendors: per,
            },
            vendors,
        }
    }

    /// 0: nothing that fails the check; 1: drift that fails it (see [`FailOn`]); 2: a vendor
    /// could not be checked.
    pub fn exit_code(&self) -> u8 {
        let fail = match self.fail_on {
            FailOn::Drift => self.drift,
            FailOn::Breaking => self.breaking,
        };
        if self.error {
            2
        } else if fail {
            1
        } else {
            0
        }
    }
}
