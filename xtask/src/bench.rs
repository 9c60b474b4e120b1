//! `cargo xtask bench`: build the benchmark binary in release, run every measurement, and
//! write BENCHMARKS.md (the table, the commands, the machine).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

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

pub fn bench(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("bench: building agentstatus-bench (release) ...");
    run(Command::new(&cargo).current_dir(root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "agentstatus-bench",
    ]))?;
    let bin = root.join("target/release/agentstatus-bench");
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

    eprintln!("bench: compile cost ...");
    let compile = compile_cost(root, &cargo)?;
    out.push_str("\n## Compile cost of the vendor crates\n\n");
    out.push_str(&compile);
    crate::coverage::replace_between(
        &root.join("README.md"),
        "<!-- compile-cost:start (cargo xtask bench) -->",
        "<!-- compile-cost:end -->",
        &format!("Machine: {}.\n\n{compile}", machine()),
    )
    .map_err(|e| e.to_string())?;

    let doc = format!(
        "# Benchmarks\n\nRerun everything with one command: `cargo xtask bench` (builds `crates/bench` in release, \
         runs each measurement, rewrites this file). Individual parts: `target/release/agentstatus-bench client | decode | \
         scale --agents N --concurrency C | codegen`.\n\nMachine: {}.\n\nNumbers from one run on a shared 2-core machine: compare \
         the ratios (measured side by side, interleaved), not the absolute rates.\n\n{out}",
        machine()
    );
    let path = root.join("BENCHMARKS.md");
    let notes = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.split_once("<!-- notes -->").map(|(_, n)| n.to_string()))
        .unwrap_or_default();
    std::fs::write(&path, format!("{doc}\n<!-- notes -->{notes}")).map_err(|e| e.to_string())?;
    println!("{doc}");
    eprintln!("bench: wrote {}", path.display());
    Ok(())
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
