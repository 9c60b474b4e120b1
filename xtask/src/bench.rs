//! `cargo xtask bench`: build the benchmark binary in release, run every measurement, and
//! write BENCHMARKS.md (the table, the commands, the machine).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::error::Result;
use crate::flags;
use crate::workspace::{Workspace, ensure_file_contents, replace_section, write_section};

impl flags::Bench {
    pub fn run(self, ws: &Workspace) -> Result {
        if !self.drift.is_empty() {
            drift_only(&ws.root, &self.drift, self.optic.as_deref())
        } else if self.cold {
            cold_only(&ws.root)
        } else if self.sync {
            sync_only(&ws.root)
        } else if self.scale {
            scale_only(&ws.root)
        } else if self.small {
            small_only(&ws.root)
        } else {
            bench(&ws.root)
        }
    }
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The goal column of a table row (the benchmark binary's rows use the same words).
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**not met**" }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "?".into());
    let rustc = run(Command::new("rustc").arg("--version")).unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem} memory, {}", rustc.trim())
}

fn bench(root: &Path) -> Result {
    let cargo = crate::workspace::cargo();
    let bin = build_bench(root)?;
    let mut out = String::new();
    eprintln!("bench: client overhead ...");
    out.push_str("## Client overhead\n\nSequential requests against a minimal local server that answers fixed bodies (its own thread and core), median of 7 interleaved rounds. The hand-written reqwest client has the generated clients' default timeouts (30 s, connect 10 s); both decode into typed structs. Goal: generated within 5% of hand-written reqwest.\n\n");
    out.push_str(&run(Command::new(&bin).arg("client"))?);
    eprintln!("bench: decoding ...");
    out.push_str("\n## Decoding\n\nGoal: the generated types no slower than `serde_json` into hand-written structs.\n\n| what | generated | hand-written | ratio | goal |\n|---|---|---|---|---|\n");
    out.push_str(
        &run(Command::new(&bin).arg("decode"))?
            .replace("generated types ", "")
            .replace("hand-written structs ", "")
            .replace("generated / hand-written time ", ""),
    );
    eprintln!("bench: presence at scale ...");
    out.push_str("\n## Presence at scale\n\nHalf the agents on the Rocket.Chat fake, half on Engage Digital's, the fakes in a child process; the presence layer (`set_many`, read + write per agent as the adapters do) against raw reqwest making the same calls with the same concurrency; median of 3 interleaved rounds. Goals: within 10%; client memory flat in the number of agents (peak RSS of the client process, which holds every result).\n\n| work | presence | raw reqwest | ratio | memory | goal (≤ 1.10) |\n|---|---|---|---|---|---|\n");
    let mut memory = Vec::new();
    for agents in ["1000", "10000"] {
        let row =
            run(Command::new(&bin).args(["scale", "--agents", agents, "--concurrency", "32"]))?
                .replace("presence / raw ", "")
                .replace("presence ", "")
                .replace("raw reqwest ", "")
                .replace("client peak RSS ", "");
        // the memory column: "| 17 MiB |"
        memory.push(
            row.split('|')
                .nth(5)
                .and_then(|m| m.trim().strip_suffix(" MiB"))
                .and_then(|m| m.parse::<f64>().ok())
                .ok_or_else(|| format!("bench: no memory column in {row:?}"))?,
        );
        out.push_str(&row);
    }
    out.push_str(&format!(
        "\nMemory: {:.0} MiB for 1,000 agents, {:.0} MiB for 10,000 ({:+.0} MiB for 9,000 more agents and their results, about {:.1} KiB each).\n",
        memory[0],
        memory[1],
        memory[1] - memory[0],
        (memory[1] - memory[0]) * 1024.0 / 9000.0
    ));
    eprintln!("bench: bulk ...");
    out.push_str("\n## Bulk presence\n\n`Presence::set_many` on each vendor's fake, 10,000 agents of which half already have the wanted state: requests per requested update (goal: one write per changed agent plus one read per list page, at most 0.55).\n\n| vendor | agents | to change | requests | writes | requests per update | goal (≤ 0.55) |\n|---|---|---|---|---|---|---|\n");
    out.push_str(&run(Command::new(&bin).arg("bulk"))?);
    out.push_str("\nWall time of a bulk run at the rate limit the Engage Digital fake enforces, which the client's limit matches (requests evenly spaced, no retries, so a 429 would be a failed update): goal within 5% of `(requests - 1) / limit`, zero 429s.\n\n| vendor | agents | to change | limit | wall time | requests / limit | ratio | 429s | goal (≤ 1.05) |\n|---|---|---|---|---|---|---|---|---|\n");
    out.push_str(&run(Command::new(&bin).arg("bulk-paced"))?);
    eprintln!("bench: sync (lag, then 10,000 people converging 3 times: about 5 minutes) ...");
    let sync = sync_section(&bin)?;
    out.push_str(&format!("{SYNC_HEADING}{SYNC_START}\n{sync}{SYNC_END}\n"));
    eprintln!("bench: codegen and drift ...");
    out.push_str("\n## Codegen, drift check, no-op build\n\nGoals: codegen of each full spec under 2 s; `cargo xtask check` under 1 s; no-op `cargo build` under 1 s without rerunning a build script.\n\n| what | time | goal |\n|---|---|---|\n");
    out.push_str(&run(Command::new(&bin).arg("codegen"))?);
    let xtask = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut t = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        run(Command::new(&xtask).arg("check"))?;
        t.push(start.elapsed().as_secs_f64());
    }
    let t = median(t);
    out.push_str(&format!(
        "| `xtask check`, all three vendors (the built binary, median of 5) | {t:.2} s | {} |\n",
        verdict(t < 1.0)
    ));
    run(Command::new(&cargo)
        .current_dir(root)
        .args(["build", "--quiet", "--workspace"]))?;
    let mut t = Vec::new();
    let mut reruns = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let o = Command::new(&cargo)
            .current_dir(root)
            .args(["build", "--workspace", "-v"])
            .output()
            .map_err(|e| e.to_string())?;
        t.push(start.elapsed().as_secs_f64());
        reruns += String::from_utf8_lossy(&o.stderr)
            .matches("build-script-build`")
            .count();
    }
    let t = median(t);
    out.push_str(&format!(
        "| no-op `cargo build --workspace` (median of 3) | {t:.2} s, build scripts rerun: {reruns} | {} |\n",
        verdict(t < 1.0 && reruns == 0)
    ));

    eprintln!("bench: cold builds ...");
    let cold = cold_builds(root, &cargo)?;
    out.push_str(&format!(
        "\n## Cold builds\n\nGoals: a new service on presence + one vendor in at most 90 s; the README's first command in at most 2 min.\n\n{COLD_START}\n{cold}{COLD_END}\n"
    ));

    eprintln!("bench: codegen at scale ...");
    let scale = codegen_scale(root)?;
    out.push_str(&format!(
        "{SCALE_HEADING}{SCALE_START}\n{scale}{SCALE_END}\n"
    ));

    eprintln!("bench: codegen of small documents ...");
    let small = codegen_small(root)?;
    out.push_str(&format!(
        "{SMALL_HEADING}{SMALL_START}\n{small}{SMALL_END}\n"
    ));

    eprintln!("bench: compile cost ...");
    let compile = compile_cost(root, &cargo)?;
    out.push_str("\n## Compile cost of the vendor crates\n\n");
    out.push_str(&compile);
    write_section(
        &root.join("README.md"),
        "<!-- compile-cost:start (cargo xtask bench) -->",
        "<!-- compile-cost:end -->",
        &format!("Machine: {}.\n\n{compile}", machine()),
        false,
    )?;

    let doc = format!(
        "# Benchmarks\n\nRerun everything with one command: `cargo xtask bench` (builds `crates/bench` in release, \
         runs each measurement, rewrites this file). Individual parts: `target/release/agentstatus-bench client | decode | \
         scale --agents N --concurrency C | codegen | sync`.\n\nMachine: {}.\n\nNumbers from one run on a shared 2-core machine: compare \
         the ratios (measured side by side, interleaved), not the absolute rates.\n\n{out}",
        machine()
    );
    let path = root.join("BENCHMARKS.md");
    let before = std::fs::read_to_string(&path).unwrap_or_default();
    let notes = before
        .split_once("<!-- notes -->")
        .map(|(_, n)| n.to_string())
        .unwrap_or_default();
    // the drift comparison needs documents this run does not have (`--drift V1 V2 ...`): its
    // last table is kept as it was, never dropped
    let drift = kept_section(&before, DRIFT_START, DRIFT_END)
        .map(|table| format!("{DRIFT_HEADING}{table}\n"))
        .unwrap_or_default();
    ensure_file_contents(
        &path,
        &format!("{doc}{drift}\n<!-- notes -->{notes}"),
        false,
    )?;
    println!("{doc}");
    eprintln!("bench: wrote {}", path.display());
    Ok(())
}

/// The section from `start` to `end` (both markers included) in `text`, if it has one.
fn kept_section<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)?;
    let to = from + text[from..].find(end)? + end.len();
    Some(&text[from..to])
}

const SYNC_START: &str = "<!-- sync:start (cargo xtask bench) -->";
const SYNC_END: &str = "<!-- sync:end -->";
const SYNC_HEADING: &str = "\n## Sync\n\n";

/// The sync section (`agentstatus-bench sync` writes it: lag, requests per interval, 10,000
/// people converging at the rate limit, 3 runs, memory), about 5 minutes.
fn sync_section(bin: &Path) -> Result<String, String> {
    run(Command::new(bin).arg("sync"))
}

/// `cargo xtask bench --sync`: only the sync section.
fn sync_only(root: &Path) -> Result {
    let bin = build_bench(root)?;
    let table = sync_section(&bin)?;
    section_only(root, SYNC_HEADING, SYNC_START, SYNC_END, &table)
}

/// Build the benchmark binary in release; its path (in the workspace's target directory).
fn build_bench(root: &Path) -> Result<std::path::PathBuf, String> {
    let cargo = crate::workspace::cargo();
    eprintln!("bench: building agentstatus-bench (release) ...");
    run(Command::new(&cargo).current_dir(root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "agentstatus-bench",
    ]))?;
    Ok(target_dir(root)?.join("release/agentstatus-bench"))
}

/// The workspace's target directory as cargo resolves it: where the builds above put their
/// binaries, and where every section keeps its scratch files.
fn target_dir(root: &Path) -> Result<PathBuf, String> {
    crate::workspace::target_dir(root)
}

const COLD_START: &str = "<!-- cold-build:start (cargo xtask bench) -->";
const COLD_END: &str = "<!-- cold-build:end -->";

/// The units that took longest in a `cargo build --timings` report, and how many crates it built.
fn timings(target: &Path) -> Result<(Vec<(String, f64)>, usize), String> {
    let html = target.join("cargo-timings/cargo-timing.html");
    let text = std::fs::read_to_string(&html)
        .map_err(|e| format!("{}: cannot read: {e}", html.display()))?;
    let data = text
        .split_once("const UNIT_DATA = ")
        .and_then(|(_, rest)| rest.split_once(";\n"))
        .map(|(json, _)| json)
        .ok_or_else(|| format!("{}: no UNIT_DATA", html.display()))?;
    let units: Vec<serde_json::Value> =
        serde_json::from_str(data).map_err(|e| format!("{}: UNIT_DATA: {e}", html.display()))?;
    let mut crates: Vec<&str> = units.iter().filter_map(|u| u["name"].as_str()).collect();
    crates.sort_unstable();
    crates.dedup();
    let mut top: Vec<(String, f64)> = units
        .iter()
        .map(|u| {
            let target = u["target"].as_str().unwrap_or_default().trim();
            let name = u["name"].as_str().unwrap_or_default();
            let label = if target.is_empty() {
                name.to_string()
            } else {
                format!("{name} ({target})")
            };
            (label, u["duration"].as_f64().unwrap_or(0.0))
        })
        .collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    top.truncate(6);
    Ok((top, crates.len()))
}

/// Time `cmd` (a cold `cargo build --timings` into `target`) and make its table row.
fn cold_row(
    what: &str,
    goal_s: f64,
    target: &Path,
    cmd: &mut Command,
) -> Result<(String, f64), String> {
    eprintln!("bench: cold: {what} ...");
    let cpu_before = children_cpu_seconds();
    let start = Instant::now();
    run(cmd)?;
    let t = start.elapsed().as_secs_f64();
    let cpu = children_cpu_seconds() - cpu_before;
    let (top, crates) = timings(target)?;
    let top: Vec<String> = top
        .iter()
        .map(|(name, s)| format!("{name} {s:.0} s"))
        .collect();
    let row = format!(
        "| {what} | {}:{:02} ({t:.0} s) | {cpu:.0} s | {crates} | ≤ {goal_s:.0} s: {} | {} |\n",
        (t / 60.0) as u64,
        (t % 60.0) as u64,
        verdict(t <= goal_s),
        top.join(", ")
    );
    Ok((row, cpu))
}

/// CPU seconds (user + system) of this process's finished children and their waited-for
/// descendants (`cutime` + `cstime` of /proc/self/stat, in clock ticks of 1/100 s): what a build
/// cost, which other work on a shared machine changes far less than its wall time. 0 where
/// /proc is not there.
fn children_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // after the command name, which may hold spaces: field 3 (state) is index 0
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(13) + tick(14)) / 100.0
}

/// Cold builds on this machine, nothing prebuilt (every target directory empty; the registry's
/// sources already downloaded): a new service on presence + Rocket.Chat, from the packages (what
/// a registry user builds) and from git (the checked-in generated code, the build script doing
/// nothing: no generator), one after the other, and the README's first command.
pub fn cold_builds(root: &Path, cargo: &str) -> Result<String, String> {
    let dir = target_dir(root)?.join("bench-cold");
    crate::package::fresh_dir(&dir)?;
    let version = env!("CARGO_PKG_VERSION");
    let mut rows = String::new();

    // a new service built cold, depending through `source` (`[patch]`ed in as `patch`)
    let service_row = |what: &str, name: &str, source: &str, patch: &str| {
        let service = dir.join(format!("service-{name}"));
        crate::package::service_project(&service, version, source, patch)?;
        std::fs::copy(root.join("Cargo.lock"), service.join("Cargo.lock"))
            .map_err(|e| format!("Cargo.lock: {e}"))?;
        run(Command::new(cargo).current_dir(&service).arg("fetch"))?;
        let target = dir.join(format!("target-{name}"));
        cold_row(
            what,
            90.0,
            &target,
            Command::new(cargo)
                .current_dir(&service)
                .env("CARGO_TARGET_DIR", &target)
                .args(["build", "--timings"]),
        )
    };

    // the registry form: the packaged crates, unpacked, patched in for crates.io
    let packaged = crate::package::package(root, None, false)?;
    let patch = crate::package::unpacked_registry(&packaged, &dir.join("registry"))?;
    // the git form: the checked-in generated code, no generator (the `codegen` feature is off)
    let repo = dir.join("repo");
    crate::package::git_snapshot(root, &repo)?;
    // both prepared first, then built back to back, so that they run under the same conditions
    let (row, registry_cpu) = service_row(
        "service: presence + rocketchat, from the packages (registry form)",
        "registry",
        "",
        &patch,
    )?;
    rows.push_str(&row);
    let (row, git_cpu) = service_row(
        "service: presence + rocketchat, git dependency (checked-in generated code, no generator)",
        "git",
        &format!(", git = \"file://{}\"", repo.display()),
        "",
    )?;
    rows.push_str(&row);

    // the README's first command, in this checkout
    let target = dir.join("target-first-command");
    rows.push_str(
        &cold_row(
            "README's first command: `cargo run -p agentstatus-cli -- demo`",
            120.0,
            &target,
            Command::new(cargo)
                .current_dir(root)
                .env("CARGO_TARGET_DIR", &target)
                .args(["run", "--timings", "-p", "agentstatus-cli", "--", "demo"]),
        )?
        .0,
    );

    let ratio = git_cpu / registry_cpu;
    Ok(format!(
        "Nothing prebuilt: an empty target directory each, the registry's sources already \
         downloaded (`cargo fetch`), dev profile. The service is `SERVICE_MAIN` in \
         xtask/src/package.rs: an https client and one presence call. The `--timings` reports stay \
         in `bench-cold/target-*/cargo-timings/` of the target directory.\n\n\
         | cold build | time | CPU (user + system) | crates | goal | biggest units (seconds of one core) |\n|---|---|---|---|---|---|\n{rows}\n\
         From git against from the packages, built one after the other, in CPU time (which other work \
         on a shared machine changes far less than wall time): {git_cpu:.0} s / {registry_cpu:.0} s = \
         {ratio:.2} (goal ≤ 1.10: {}).\n",
        verdict(ratio <= 1.10)
    ))
}

/// Rewrite only the cold-build section of BENCHMARKS.md (`cargo xtask bench --cold`).
fn cold_only(root: &Path) -> Result {
    let cargo = crate::workspace::cargo();
    let table = cold_builds(root, &cargo)?;
    section_only(
        root,
        "\n## Cold builds\n\nGoals: a new service on presence + one vendor in at most 90 s; the README's first command in at most 2 min.\n\n",
        COLD_START,
        COLD_END,
        &table,
    )
}

/// `cargo xtask bench --scale`: only the codegen-at-scale section.
fn scale_only(root: &Path) -> Result {
    let table = codegen_scale(root)?;
    section_only(root, SCALE_HEADING, SCALE_START, SCALE_END, &table)
}

/// Rewrite one section of BENCHMARKS.md (between `start` and `end`; added before the notes,
/// under `heading`, when it is not there yet).
fn section_only(root: &Path, heading: &str, start: &str, end: &str, table: &str) -> Result {
    println!("{table}");
    let path = root.join("BENCHMARKS.md");
    let mut text =
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !text.contains(start) {
        // first run: the section goes before the notes
        let section = format!("{heading}{start}\n{end}\n\n");
        text = match text.split_once("<!-- notes -->") {
            Some((doc, notes)) => format!("{doc}{section}<!-- notes -->{notes}"),
            None => format!("{text}{section}"),
        };
    }
    let text = replace_section(&text, &path, start, end, table)?;
    ensure_file_contents(&path, &text, false)
}

const DRIFT_START: &str = "<!-- drift-pairs:start (cargo xtask bench --drift) -->";
const DRIFT_END: &str = "<!-- drift-pairs:end -->";
const DRIFT_HEADING: &str = "\n## Two documents against optic\n\n`cargo xtask bench --drift V1 V2 ... [--optic BIN]`: `agentstatus-drift OLD NEW --format json` (release build) and `optic diff OLD NEW --check` on each consecutive pair of versions of one document, each run under `/usr/bin/time` (wall time, peak memory of the process): agentstatus-drift the median of 3 runs, optic one run (between our first and second). A tool that refuses the pair (an error, no comparison) is marked so, with its first line of output; optic runs at most 300 s.\n\n";

/// How long optic may take on one pair.
const OPTIC_TIMEOUT_S: u64 = 300;

/// One run of `cmd` under `/usr/bin/time`: (exit code, wall seconds, peak KiB, stdout, stderr).
fn timed(
    cmd: &[&std::ffi::OsStr],
    dir: &Path,
) -> Result<(Option<i32>, f64, u64, String, String), String> {
    let report = dir.join("time.txt");
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(&report)
        .args(cmd)
        .output()
        .map_err(|e| format!("/usr/bin/time: {e} (apt-get install time)"))?;
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
    // a command that exits non-zero adds a line before the numbers
    let last = text.lines().last().unwrap_or_default();
    let mut fields = last.split_whitespace();
    let secs = fields.next().and_then(|f| f.parse::<f64>().ok());
    let kib = fields.next().and_then(|f| f.parse::<u64>().ok());
    let (Some(secs), Some(kib)) = (secs, kib) else {
        return Err(format!("/usr/bin/time wrote {text:?}"));
    };
    Ok((
        out.status.code(),
        secs,
        kib,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// `agentstatus-drift` and optic on consecutive pairs of `versions` (`--drift`).
fn drift_only(root: &Path, versions: &[PathBuf], optic: Option<&Path>) -> Result {
    let cargo = crate::workspace::cargo();
    eprintln!("bench: building agentstatus-drift (release) ...");
    run(Command::new(&cargo).current_dir(root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "agentstatus-drift",
    ]))?;
    let target = target_dir(root)?;
    let ours = target.join("release/agentstatus-drift");
    let optic = optic
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("tools/optic/node_modules/.bin/optic"));
    let optic = optic.exists().then_some(optic);
    let optic_version = optic
        .as_ref()
        .and_then(|o| run(Command::new(o).arg("--version")).ok())
        .map(|v| v.trim().to_string());
    let dir = target.join("bench-drift");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let timeout = OPTIC_TIMEOUT_S.to_string();
    let name = |p: &Path| {
        // `descriptions/2.8/api.intercom.io.yaml`: the version folder and the file
        let parts: Vec<String> = p
            .iter()
            .rev()
            .take(2)
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        parts.into_iter().rev().collect::<Vec<_>>().join("/")
    };
    let mut table = String::from(
        "| pair | sizes | agentstatus-drift: findings (breaking) | time | peak memory | optic: result | time | peak memory |\n|---|---:|---:|---:|---:|---|---:|---:|\n",
    );
    let mut faster = Vec::new();
    for pair in versions.windows(2) {
        let (old, new) = (&pair[0], &pair[1]);
        eprintln!("bench: drift {} -> {} ...", old.display(), new.display());
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() / 1024).unwrap_or(0);
        let (mut ours_t, mut ours_m, mut theirs_t, mut theirs_m) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut found = String::new();
        let mut optic_result = String::from("not run (no optic)");
        for round in 0..3 {
            let (code, t, m, stdout, stderr) = timed(
                &[
                    ours.as_os_str(),
                    "--format".as_ref(),
                    "json".as_ref(),
                    old.as_os_str(),
                    new.as_os_str(),
                ],
                &dir,
            )?;
            let json: serde_json::Value = serde_json::from_str(&stdout)
                .map_err(|e| format!("agentstatus-drift: not JSON ({e}): {stderr}"))?;
            if code == Some(2) {
                found = format!("could not compare: {}", json["error"]);
            } else {
                found = format!(
                    "{} ({})",
                    json["findings"].as_array().map_or(0, Vec::len),
                    json["breaking"]
                );
            }
            ours_t.push(t);
            ours_m.push(m as f64);
            // optic once per pair (it may take minutes), between our first and second run
            if let (Some(optic), 0) = (&optic, round) {
                let (code, t, m, stdout, stderr) = timed(
                    &[
                        "timeout".as_ref(),
                        timeout.as_ref(),
                        optic.as_os_str(),
                        "diff".as_ref(),
                        old.as_os_str(),
                        new.as_os_str(),
                        "--check".as_ref(),
                    ],
                    &dir,
                )?;
                let first = format!("{stdout}{stderr}")
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or_default()
                    .chars()
                    .take(80)
                    .collect::<String>();
                optic_result = match code {
                    Some(124) => format!("timed out after {OPTIC_TIMEOUT_S} s"),
                    // `--check` exits 1 when a check fails, and on an error before comparing
                    _ if stdout.contains("Checks") || stdout.contains("checks") => {
                        format!("compared (exit {})", code.unwrap_or(-1))
                    }
                    _ => format!("refused: `{}`", first.replace('|', "\\|")),
                };
                theirs_t.push(t);
                theirs_m.push(m as f64);
            }
        }
        let (t, m) = (median(ours_t), median(ours_m) / 1024.0);
        let theirs = if theirs_t.is_empty() {
            "— | —".to_string()
        } else {
            let (ot, om) = (median(theirs_t), median(theirs_m) / 1024.0);
            if optic_result.starts_with("compared") || optic_result.starts_with("timed out") {
                faster.push(ot / t);
            }
            format!("{ot:.2} s | {om:.0} MiB")
        };
        table.push_str(&format!(
            "| `{}` -> `{}` | {} KiB -> {} KiB | {found} | {t:.2} s | {m:.0} MiB | {optic_result} | {theirs} |\n",
            name(old),
            name(new),
            size(old),
            size(new),
        ));
    }
    table.push_str(&format!(
        "\nMachine: {}. optic: {}.{}\n",
        machine(),
        optic_version.as_deref().unwrap_or("not installed"),
        if faster.is_empty() {
            String::new()
        } else {
            let (min, max) = (
                faster.iter().cloned().fold(f64::INFINITY, f64::min),
                faster.iter().cloned().fold(0.0, f64::max),
            );
            let ratio = if format!("{min:.0}") == format!("{max:.0}") {
                format!("{max:.0} times")
            } else {
                format!("{min:.0} to {max:.0} times")
            };
            format!(
                " On the pairs optic compared (or ran out of time on), optic took {ratio} as long as agentstatus-drift."
            )
        }
    ));
    section_only(root, DRIFT_HEADING, DRIFT_START, DRIFT_END, &table)
}

const SCALE_START: &str = "<!-- codegen-scale:start (cargo xtask bench) -->";
const SCALE_END: &str = "<!-- codegen-scale:end -->";
const SCALE_HEADING: &str = "\n## Codegen at scale\n\n`cargo xtask try DOC --no-compile` (the xtask profile) on generated documents of N operations (`GET /p<i>`, one answer each, about 140 bytes of JSON per operation), each in a process of its own: wall time of loading, the passes and generation (progenitor, the rewrites, formatting), and the process's peak memory. Goal: linear in the document's size (time and memory per operation at 50,000 within 1.5 times those at 6,250). Compiling the result is rustc's work, not measured here.\n\n";

/// The codegen-at-scale table (see [`SCALE_HEADING`]).
fn codegen_scale(root: &Path) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("no xtask binary: {e}"))?;
    let dir = target_dir(root)?.join("bench-scale");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut table = String::from(
        "| operations | document | generated code | codegen | peak memory | per operation | goal |\n|---|---|---|---|---|---|---|\n",
    );
    let mut first: Option<(f64, f64)> = None;
    for n in [6_250usize, 12_500, 25_000, 50_000] {
        let paths: serde_json::Map<String, serde_json::Value> = (0..n)
            .map(|i| {
                (
                    format!("/p{i}"),
                    serde_json::json!({"get": {"operationId": format!("op{i}"),
                        "responses": {"200": {"description": "ok"}}}}),
                )
            })
            .collect();
        let doc = serde_json::json!({"openapi": "3.0.3",
            "info": {"title": "scale", "version": "1"}, "paths": paths});
        let file = dir.join(format!("ops{n}.json"));
        let text = serde_json::to_string(&doc).map_err(|e| e.to_string())?;
        std::fs::write(&file, &text).map_err(|e| format!("{}: {e}", file.display()))?;
        let out_dir = dir.join(format!("crate{n}"));
        eprintln!("bench: try --no-compile {} ...", file.display());
        let out = Command::new(&exe)
            .current_dir(root)
            .arg("try")
            .arg(&file)
            .arg("--no-compile")
            .arg("--out")
            .arg(&out_dir)
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("try {} failed: {stderr}", file.display()));
        }
        let seconds: f64 = stdout
            .split("(codegen ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("no codegen time in: {stdout}"))?;
        let mib: f64 = stderr
            .split("try: peak memory ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("no peak memory in: {stderr}"))?;
        let code = std::fs::metadata(out_dir.join("src/client.rs"))
            .map(|m| m.len())
            .unwrap_or(0);
        let per = (seconds * 1e6 / n as f64, mib * 1024.0 / n as f64);
        let (t0, m0) = *first.get_or_insert(per);
        table.push_str(&format!(
            "| {n} | {:.1} MB | {:.1} MB | {seconds:.1} s | {mib:.0} MiB | {:.0} µs, {:.1} KiB | {} |\n",
            text.len() as f64 / 1e6,
            code as f64 / 1e6,
            per.0,
            per.1,
            verdict(per.0 <= 1.5 * t0 && per.1 <= 1.5 * m0)
        ));
        let _ = std::fs::remove_dir_all(&out_dir);
    }
    table.push_str(&format!("\n({} on this machine.)\n", machine()));
    Ok(table)
}

const SMALL_START: &str = "<!-- codegen-small:start (cargo xtask bench --small) -->";
const SMALL_END: &str = "<!-- codegen-small:end -->";
const SMALL_HEADING: &str = "\n## Codegen of small documents\n\n`cargo xtask bench --small` (the xtask profile): what `try` does before it writes the crate (the passes and generation: progenitor, the rewrites, formatting; `Codegen::document(doc).prepare()?.generate()?`) on the corpus's small documents and their peer, pachca, in this process, repeated until it has used 3 s of CPU (at least 3 runs, at most 20; Stripe once), each document read and decompressed once before. CPU time (user + system of the process, every thread), which other work on a shared machine changes far less than wall time; wall time the fastest run. Schemas: the component schemas the operations reach (through any `$ref`), of all the document has after the passes (progenitor generates every one); generated lines: the formatted client `try` writes. Goal (#25): no document over 10 times its peer's time per operation; Stripe under 30 s (judged in CPU time: the wall time is mostly waiting for a core when the machine is shared).\n\n";

/// The corpus's small documents measured against [`SMALL_PEER`] (`bench --small`).
const SMALL_DOCUMENTS: &[&str] = &[
    "vonage-messages.yaml",
    "vonage-voice.yaml",
    "ably.yaml",
    "hubspot-conversations.json",
    "cloudmersive-image.json",
];
const SMALL_PEER: &str = "pachca.yaml.gz";
const STRIPE: &str = "stripe.json.gz";

/// CPU seconds (user + system) of this process so far, every thread's (`utime` + `stime` of
/// /proc/self/stat, in clock ticks of 1/100 s). 0 where /proc is not there.
fn own_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / 100.0
}

/// One document's codegen, measured (see [`SMALL_HEADING`]).
struct Measured {
    name: String,
    operations: usize,
    reached: usize,
    schemas: usize,
    lines: usize,
    runs: usize,
    cpu: f64,
    wall: f64,
}

fn measure_codegen(
    root: &Path,
    file: &str,
    budget: f64,
    max_runs: usize,
) -> Result<Measured, String> {
    use agentstatus_codegen::{Codegen, nav};
    let path = root.join("corpus").join(file);
    let doc = crate::trial::read_document(&path).map_err(|e| e.to_string())?;
    let operations = nav::count_operations(&doc);
    let (mut runs, mut cpu, mut wall) = (0, 0.0, f64::MAX);
    let mut counts = (0, 0, 0);
    while runs < 3 || (cpu < budget && runs < max_runs) {
        let (c0, w0) = (own_cpu_seconds(), Instant::now());
        let generated = Codegen::document(doc.clone(), &path)
            .prepare()
            .and_then(|p| p.generate())
            .map_err(|e| e.to_string())?;
        wall = wall.min(w0.elapsed().as_secs_f64());
        cpu += own_cpu_seconds() - c0;
        runs += 1;
        let after = &generated.prepared.doc;
        let reached = nav::reachable_refs(after, &after["paths"])
            .iter()
            .filter(|p| p.starts_with("/components/schemas/"))
            .count();
        let all = after
            .pointer("/components/schemas")
            .and_then(serde_json::Value::as_object)
            .map_or(0, |m| m.len());
        counts = (reached, all, generated.code.lines().count());
        if max_runs == 1 {
            break;
        }
    }
    let name = file.split('.').next().unwrap_or(file).to_string();
    Ok(Measured {
        name,
        operations,
        reached: counts.0,
        schemas: counts.1,
        lines: counts.2,
        runs,
        cpu: cpu / runs as f64,
        wall,
    })
}

/// The small-documents table (see [`SMALL_HEADING`]).
fn codegen_small(root: &Path) -> Result<String, String> {
    let peer = measure_codegen(root, SMALL_PEER, 3.0, 20)?;
    let per_op = |m: &Measured| m.cpu * 1e3 / m.operations.max(1) as f64;
    let per_schema = |m: &Measured| m.cpu * 1e3 / m.reached.max(1) as f64;
    let per_line = |m: &Measured| m.cpu * 1e6 / m.lines.max(1) as f64;
    let mut table = String::from(
        "| document | operations | schemas reached / all | generated lines | runs | CPU per run | fastest wall | per operation | per reached schema | per generated line | × peer per operation | × peer per schema | × peer per line | goal (≤ 10× per operation) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let row = |m: &Measured, goal: &str| {
        format!(
            "| {} | {} | {} / {} | {} | {} | {:.3} s | {:.3} s | {:.1} ms | {:.1} ms | {:.1} µs | {:.1} | {:.1} | {:.1} | {goal} |\n",
            m.name,
            m.operations,
            m.reached,
            m.schemas,
            m.lines,
            m.runs,
            m.cpu,
            m.wall,
            per_op(m),
            per_schema(m),
            per_line(m),
            per_op(m) / per_op(&peer),
            per_schema(m) / per_schema(&peer),
            per_line(m) / per_line(&peer),
        )
    };
    table.push_str(&row(&peer, "(the peer)"));
    for file in SMALL_DOCUMENTS {
        eprintln!("bench: codegen of {file} ...");
        let m = measure_codegen(root, file, 3.0, 20)?;
        let ratio = per_op(&m) / per_op(&peer);
        table.push_str(&row(&m, verdict(ratio <= 10.0)));
    }
    eprintln!("bench: codegen of {STRIPE} ...");
    let stripe = measure_codegen(root, STRIPE, 0.0, 1)?;
    table.push_str(&format!(
        "\nStripe ({} operations, {} of {} schemas reached, {} generated lines), one run: {:.1} s of CPU (goal: under 30 s: {}), {:.1} s wall at this load.\n",
        stripe.operations,
        stripe.reached,
        stripe.schemas,
        stripe.lines,
        stripe.cpu,
        verdict(stripe.cpu < 30.0),
        stripe.wall,
    ));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    table.push_str(&format!(
        "\n({} on this machine; load average {load} at the end; {}.)\n",
        machine(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    Ok(table)
}

/// `cargo xtask bench --small`: only the small-documents section.
fn small_only(root: &Path) -> Result {
    let table = codegen_small(root)?;
    section_only(root, SMALL_HEADING, SMALL_START, SMALL_END, &table)
}

/// Cold build (the crate and its build script; dependencies already built) of each vendor crate,
/// with and without `full`, and the no-op rebuild after it.
fn compile_cost(root: &Path, cargo: &str) -> Result<String, String> {
    let mut table = String::from(
        "`cargo clean -p <crate> && cargo build -p <crate> [--features full]` (dev profile, dependencies already built), then the same `cargo build` again (no-op).\n\n\
         | crate | slice: cold | slice: no-op | `full`: cold | `full`: no-op |\n|---|---|---|---|---|\n",
    );
    // every vendor: the folders of specs/
    let vendors = agentstatus_codegen::vendor_folders(&root.join("specs"))
        .map_err(|e| format!("specs/: {e}"))?;
    for vendor in vendors {
        let krate = format!("agentstatus-{vendor}");
        let krate = krate.as_str();
        let mut row = format!("| {krate} |");
        for features in [None, Some("full")] {
            let mut args = vec!["build", "--quiet", "-p", krate];
            if let Some(f) = features {
                args.extend(["--features", f]);
            }
            // dependencies built first (untimed), so "cold" is the crate and its build script only
            run(Command::new(cargo).current_dir(root).args(&args))?;
            run(Command::new(cargo)
                .current_dir(root)
                .args(["clean", "--quiet", "-p", krate]))?;
            let start = Instant::now();
            run(Command::new(cargo).current_dir(root).args(&args))?;
            let cold = start.elapsed().as_secs_f64();
            let start = Instant::now();
            run(Command::new(cargo).current_dir(root).args(&args))?;
            let noop = start.elapsed().as_secs_f64();
            row.push_str(&format!(" {cold:.1} s | {noop:.2} s |"));
        }
        table.push_str(&row);
        table.push('\n');
    }
    // leave the workspace built as it was
    run(Command::new(cargo)
        .current_dir(root)
        .args(["build", "--quiet", "--workspace"]))?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_run_keeps_the_drift_table_it_cannot_measure() {
        let text = format!(
            "# B\n\nold\n{DRIFT_HEADING}{DRIFT_START}\n| a | b |\n{DRIFT_END}\n\n<!-- notes -->\nn\n"
        );
        assert_eq!(
            kept_section(&text, DRIFT_START, DRIFT_END),
            Some(format!("{DRIFT_START}\n| a | b |\n{DRIFT_END}").as_str())
        );
        assert_eq!(kept_section("# B\n", DRIFT_START, DRIFT_END), None);
        // a start marker without its end is not a section
        assert_eq!(kept_section(DRIFT_START, DRIFT_START, DRIFT_END), None);
    }
}
