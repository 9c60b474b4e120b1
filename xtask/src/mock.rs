//! `cargo xtask mock [--vendor V]`: each vendor's exported presence slice served by Prism (a
//! mock server built from the document alone, pinned in tools/openapi), and the `agentstatus`
//! command reading agents from it: `get` and `list` must decode what Prism answers from the
//! document's examples and schemas. `specs/<vendor>/mock.toml` gives the command's settings
//! for the vendor (its config section, the secret variables, an agent id), so a new vendor adds
//! a file, not code.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::Error;
use crate::flags;
use crate::workspace::{Workspace, cargo};

impl flags::Mock {
    /// A failure, including a vendor that cannot be read, exits 1: the mock check failed.
    pub fn run(self, ws: &Workspace) -> crate::error::Result {
        let vendors = ws.vendors(self.vendor.as_deref()).map_err(Error::finding)?;
        let out = run_all(&ws.root, &ws.specs, &vendors).map_err(Error::finding)?;
        print!("{out}");
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MockFile {
    /// The agent `agentstatus get` asks for.
    agent: String,
    /// Secret variables and their (fake) values.
    #[serde(default)]
    env: toml::Table,
    /// The vendor's config section, less `base_url` (the mock's).
    #[serde(default)]
    config: toml::Table,
    /// The config key of an OAuth 2.0 token URL (Microsoft Graph's `token_url`): Prism serves
    /// the document's operations, not the identity platform, so the mock check serves tokens
    /// itself on loopback and points this key at it.
    #[serde(default)]
    token_url_key: Option<String>,
    /// The commands run against Prism (`get`, `list`); both by default. A vendor leaves one out
    /// only with its reason in the file (Microsoft Graph's `list`: the document marks the bulk
    /// read pageable, Prism invents a next link, and the adapter refuses an answer with one).
    #[serde(default)]
    commands: Option<Vec<String>>,
}

/// Prism, killed when dropped.
struct Prism(Child);

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn start_prism(root: &Path, doc: &Path, port: u16, log: &Path) -> Result<Prism, String> {
    let prism = root.join("tools/openapi/node_modules/.bin/prism");
    if !prism.exists() {
        return Err(format!(
            "{}: not installed: run `npm ci --prefix tools/openapi`",
            prism.display()
        ));
    }
    let log_file =
        std::fs::File::create(log).map_err(|e| format!("{}: cannot create: {e}", log.display()))?;
    let child = Command::new(&prism)
        .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(doc)
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", prism.display()))?;
    let prism_child = Prism(child);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if start.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "Prism did not listen on {addr} within 60 s (log: {})",
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(prism_child)
}

/// The mock check of `vendor`; returns what the command printed.
fn check_vendor(
    root: &Path,
    specs: &Path,
    vendor: &str,
    cli: &Path,
    work: &Path,
) -> Result<String, String> {
    let mock_path = specs.join(vendor).join("mock.toml");
    let text = std::fs::read_to_string(&mock_path)
        .map_err(|e| format!("{}: cannot read: {e}", mock_path.display()))?;
    let mock: MockFile =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", mock_path.display()))?;
    let doc = work.join(format!("{vendor}.yaml"));
    let yaml = crate::export::export(specs, vendor, false, false).map_err(|e| e.to_string())?;
    std::fs::write(&doc, yaml).map_err(|e| format!("{}: cannot write: {e}", doc.display()))?;
    let port = free_port()?;
    let log = work.join(format!("{vendor}-prism.log"));
    let _prism = start_prism(root, &doc, port, &log)?;

    let mut section = mock.config.clone();
    section.insert("base_url".into(), format!("http://127.0.0.1:{port}").into());
    if let Some(key) = &mock.token_url_key {
        // the fakes' loopback token endpoint (agentstatus_fakes::hostile::token_endpoint): any
        // request gets one Bearer token for an hour; one server for the process's life
        let token_url = agentstatus_fakes::hostile::token_endpoint();
        section.insert(key.clone(), token_url.into());
    }
    let mut config = toml::Table::new();
    config.insert("vendor".into(), vendor.into());
    config.insert(vendor.into(), section.into());
    let config_file = work.join(format!("{vendor}.toml"));
    std::fs::write(
        &config_file,
        toml::to_string(&config).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: cannot write: {e}", config_file.display()))?;

    let mut out = String::new();
    let commands = mock
        .commands
        .clone()
        .unwrap_or_else(|| vec!["get".into(), "list".into()]);
    let mut runs = Vec::new();
    for c in &commands {
        match c.as_str() {
            "get" => runs.push(vec!["get", mock.agent.as_str()]),
            "list" => runs.push(vec!["list"]),
            other => {
                return Err(format!(
                    "{}: commands: {other:?} is not one of \"get\", \"list\"",
                    mock_path.display()
                ));
            }
        }
    }
    if runs.is_empty() {
        return Err(format!("{}: commands: empty", mock_path.display()));
    }
    for args in runs {
        let mut cmd = Command::new(cli);
        cmd.arg("--config")
            .arg(&config_file)
            .args(&args)
            .stdin(Stdio::null());
        for (k, v) in &mock.env {
            cmd.env(k, v.as_str().unwrap_or_default());
        }
        let o = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", cli.display()))?;
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        if !o.status.success() {
            let prism_log = std::fs::File::open(&log)
                .map(|f| {
                    BufReader::new(f)
                        .lines()
                        .map_while(Result::ok)
                        .filter(|l| l.contains("error") || l.contains("warn") || l.contains("✖"))
                        .take(10)
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default();
            return Err(format!(
                "{vendor}: `agentstatus {}` against Prism exited {:?}:\n{printed}\nPrism:\n{prism_log}",
                args.join(" "),
                o.status.code()
            ));
        }
        out.push_str(&format!(
            "{vendor}: agentstatus {}\n{printed}",
            args.join(" ")
        ));
    }
    Ok(out)
}

/// Run the mock check for `vendors`.
fn run_all(root: &Path, specs: &Path, vendors: &[String]) -> Result<String, String> {
    // with crates/generate, as the workspace builds it: every registered vendor compiled in
    eprintln!("mock: cargo build -p agentstatus-cli -p agentstatus-generate ...");
    let status = Command::new(cargo())
        .current_dir(root)
        .args([
            "build",
            "--quiet",
            "-p",
            "agentstatus-cli",
            "-p",
            "agentstatus-generate",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("cargo build -p agentstatus-cli -p agentstatus-generate failed".into());
    }
    // where the build above put the command: cargo's own answer (`build.target-dir` included)
    let target = crate::workspace::target_dir(root)?;
    let cli = target.join("debug/agentstatus");
    let work = target.join("mock");
    std::fs::create_dir_all(&work)
        .map_err(|e| format!("{}: cannot create: {e}", work.display()))?;
    let mut out = String::new();
    for v in vendors {
        eprintln!(
            "mock: {v}: Prism on the exported slice, agentstatus get and list (as its mock.toml says) ..."
        );
        out.push_str(&check_vendor(root, specs, v, &cli, &work)?);
    }
    Ok(out)
}
