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
    /// The raw layer: what the vendor changed in its documents. Semantic difference of the kept
    /// operations, pinned -> current, source by source, and every conflict between sources;
    /// each marked with whether it reaches the client (`reaches_client`).
    pub findings: Vec<Finding>,
    /// The client layer: the effective documents compared (pinned copies and current documents,
    /// each normalised, overlaid and normalised again, in the kept slice): what the generated
    /// client sees change. Usually the raw findings that reach the client; a change the overlay
    /// turns into another one is here only.
    pub client: Vec<Finding>,
    /// Each `full = true` source diffed in full (every operation, not only the kept ones): what
    /// changes for the crate's `full` feature. Its own section, judged with `--scope full|all`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub full: Vec<Finding>,
    /// The client layer of `full`: the complete API's effective documents compared (the
    /// overlay applies to the `full` client too), the kept operations left to the slice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub full_client: Vec<Finding>,
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
    /// The effective document is the same without the action (without its documentation, for
    /// a correction of more than documentation): the vendor now makes the correction.
    pub redundant: bool,
    /// Redundant but for documentation the action still adds (its `description`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub documentation_differs: bool,
    /// Vendor changes the action keeps from the client while it still changes the document:
    /// the correction and the vendor now disagree.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

impl OverlayAction {
    /// `redundant`, `no-match`, `conflicts` or `applies`: what the report says of the action.
    pub fn verdict(&self) -> &'static str {
        match self.check.status {
            ActionStatus::NoMatch => "no-match",
            _ if self.redundant => "redundant",
            _ if !self.conflicts.is_empty() => "conflicts",
            _ => "applies",
        }
    }
}

/// Which layer of findings `--fail-on` judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// What reaches the generated client (the effective documents): the default, since the
    /// crate's users see only that. A vendor change the overlay already made does not fail.
    #[default]
    Client,
    /// What the vendor changed in its raw documents, whether or not it reaches the client.
    Raw,
}

/// Which findings `--fail-on` judges: the kept operations, the `full` sources' complete API, or
/// both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The kept operations (the crate's default API) only.
    Slice,
    /// The `full = true` sources' complete API only.
    Full,
    /// Both: the default, so a change of the `full` feature's API is never silent.
    #[default]
    All,
}

impl Scope {
    fn slice(self) -> bool {
        self != Scope::Full
    }
    fn full(self) -> bool {
        self != Scope::Slice
    }
}

/// What fails the check: `--fail-on`, on which layer, in which scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Any drift, or only what breaks.
    pub fail_on: FailOn,
    /// Judge the client layer (default) or the raw documents.
    pub layer: Layer,
    /// Judge the slice, the `full` API or both (default).
    pub scope: Scope,
}

impl Policy {
    /// `fail_on` on the client layer, in both scopes.
    pub fn new(fail_on: FailOn) -> Self {
        Policy {
            fail_on,
            layer: Layer::Client,
            scope: Scope::All,
        }
    }
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

    /// The findings `policy` judges: the slice's in its layer (a conflict between sources in
    /// both), the `full` sources' when its scope has them.
    pub fn judged(&self, policy: Policy) -> Vec<&Finding> {
        let Some(u) = &self.upstream else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if policy.scope.slice() {
            match policy.layer {
                Layer::Raw => out.extend(&u.findings),
                Layer::Client => {
                    // what is not judged per layer (a conflict between sources, a security
                    // scheme the overlay applies) counts in both
                    out.extend(u.findings.iter().filter(|f| f.reaches_client.is_none()));
                    out.extend(&u.client);
                }
            }
        }
        if policy.scope.full() {
            out.extend(match policy.layer {
                Layer::Raw => &u.full,
                Layer::Client => &u.full_client,
            });
        }
        out
    }

    /// Is there drift of any kind `policy` judges? The overlay's and reproducibility's belong to
    /// the slice.
    pub fn drift(&self, policy: Policy) -> bool {
        !self.judged(policy).is_empty()
            || (policy.scope.slice()
                && (!self.reproducible
                    || !self.regenerated.is_empty()
                    || self.stale().next().is_some()))
    }

    /// Overlay actions that no longer apply as they did: matching nothing, redundant, or in
    /// conflict with a vendor change.
    pub fn stale(&self) -> impl Iterator<Item = &OverlayAction> {
        self.overlay.iter().filter(|a| a.verdict() != "applies")
    }

    /// The upstream findings (none without `--live` or `--sources`).
    pub fn upstream_findings(&self) -> &[Finding] {
        self.upstream
            .as_ref()
            .map_or(&[], |u| u.findings.as_slice())
    }

    /// Would the vendor crate break for its users, or fail to build, with this drift, judged
    /// as `policy` says?
    pub fn breaking(&self, policy: Policy) -> bool {
        self.judged(policy).iter().any(|f| f.breaking)
            || (policy.scope.slice()
                && (self.regenerated.iter().any(|f| f.breaking)
                    || self
                        .stale()
                        .any(|a| a.check.status == ActionStatus::NoMatch)))
    }

    /// This vendor's counts.
    pub fn summary(&self) -> Counts {
        let client = self.judged(Policy {
            fail_on: FailOn::Drift,
            layer: Layer::Client,
            scope: Scope::Slice,
        });
        let raw = self.upstream_findings();
        let full = self
            .upstream
            .as_ref()
            .map_or(&[][..], |u| u.full_client.as_slice());
        Counts {
            breaking: client.iter().filter(|f| f.breaking).count(),
            non_breaking: client.iter().filter(|f| !f.breaking).count(),
            raw_breaking: raw.iter().filter(|f| f.breaking).count(),
            raw_non_breaking: raw.iter().filter(|f| !f.breaking).count(),
            not_in_client: raw
                .iter()
                .filter(|f| f.reaches_client == Some(false))
                .count(),
            full_breaking: full.iter().filter(|f| f.breaking).count(),
            full_non_breaking: full.iter().filter(|f| !f.breaking).count(),
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
    /// Client-layer findings of the kept operations that break the client, and conflicts
    /// between sources (they break regen).
    pub breaking: usize,
    /// Client-layer findings of the kept operations that do not.
    pub non_breaking: usize,
    /// Raw-layer findings (what the vendor changed) that are breaking in themselves.
    pub raw_breaking: usize,
    /// Raw-layer findings that are not.
    pub raw_non_breaking: usize,
    /// Raw-layer findings that do not reach the client (the overlay or the normaliser already
    /// made the change, or override it).
    pub not_in_client: usize,
    /// Breaking client-layer findings of the rest of the `full = true` sources' complete API.
    pub full_breaking: usize,
    /// Other findings of the complete API.
    pub full_non_breaking: usize,
    /// Overlay actions that no longer apply as they did (`no-match`, redundant, conflicting).
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
    /// The layer and scope `fail_on` judges.
    pub layer: Layer,
    /// The findings `fail_on` judges: `slice`, `full` or `all`.
    pub scope: Scope,
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
    pub fn new(workspace: &Path, policy: Policy, vendors: Vec<VendorReport>) -> Self {
        let mut total = Counts::default();
        let mut per = BTreeMap::new();
        for v in &vendors {
            let c = v.summary();
            total.breaking += c.breaking;
            total.non_breaking += c.non_breaking;
            total.raw_breaking += c.raw_breaking;
            total.raw_non_breaking += c.raw_non_breaking;
            total.not_in_client += c.not_in_client;
            total.full_breaking += c.full_breaking;
            total.full_non_breaking += c.full_non_breaking;
            total.overlay += c.overlay;
            total.reproducibility += c.reproducibility;
            total.error |= c.error;
            per.insert(v.vendor.clone(), c);
        }
        Report {
            workspace: workspace.display().to_string(),
            fail_on: policy.fail_on,
            layer: policy.layer,
            scope: policy.scope,
            drift: vendors.iter().any(|v| v.drift(policy)),
            breaking: vendors.iter().any(|v| v.breaking(policy)),
            error: vendors.iter().any(|v| v.error.is_some()),
            summary: Summary {
                total,
                vendors: per,
            },
            vendors,
        }
    }

    /// The policy the report was judged with.
    pub fn policy(&self) -> Policy {
        Policy {
            fail_on: self.fail_on,
            layer: self.layer,
            scope: self.scope,
        }
    }

    /// 0: nothing that fails the check; 1: drift that fails it (see [`FailOn`], [`Layer`],
    /// [`Scope`]); 2: a vendor could not be checked.
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
