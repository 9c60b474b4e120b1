//! `cargo xtask regen --live` records where a pinned copy it replaced came from: the `origin`
//! of that source in sources.toml (and the header of openapi.yaml) names the final URL and the
//! date, or, through a `--mirror`, the source's own URL and that it came through a mirror (the
//! mirror's address never). Sources whose pinned copy did not change keep their origin; every
//! other byte of sources.toml stays. The documents are served on 127.0.0.1 (raw HTTP). No
//! network.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

mod support;
use support::{request_path, respond, root};

/// What the server answers for a path: a document, or a redirect to another path.
#[derive(Clone)]
enum Answer {
    Doc(Vec<u8>),
    Redirect(String),
}

type Routes = Arc<Mutex<HashMap<String, Answer>>>;

/// A raw HTTP/1.1 server on 127.0.0.1 answering from `routes` (404 for anything else), and
/// the paths it was asked for.
fn serve(routes: Routes) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (routes, log) = (routes.clone(), log.clone());
            std::thread::spawn(move || {
                let path = request_path(&stream);
                log.lock().unwrap().push(path.clone());
                let answer = routes.lock().unwrap().get(&path).cloned();
                match answer {
                    Some(Answer::Doc(body)) => respond(&mut stream, "200 OK", "", &body),
                    Some(Answer::Redirect(to)) => respond(
                        &mut stream,
                        "302 Found",
                        &format!("Location: {to}\r\n"),
                        b"",
                    ),
                    None => respond(&mut stream, "404 Not Found", "", b""),
                }
            });
        }
    });
    (base, asked)
}

/// A copy of one vendor's specs folder (sources.toml, overlay, openapi.yaml, pinned copies).
fn vendor_copy(tmp: &Path, vendor: &str) {
    let from = root().join("specs").join(vendor);
    let to = tmp.join(vendor);
    std::fs::create_dir_all(to.join("upstream")).unwrap();
    for file in ["sources.toml", "overlay.yaml", "openapi.yaml"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    for entry in std::fs::read_dir(from.join("upstream")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, to.join("upstream").join(p.file_name().unwrap())).unwrap();
    }
}

fn xtask(specs: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--specs")
        .arg(specs)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Today (UTC) before and after a run: a run across midnight may record either.
fn dates(run: impl FnOnce() -> Output) -> (Output, [String; 2]) {
    let day = || chrono::Utc::now().format("%Y-%m-%d").to_string();
    let before = day();
    let out = run();
    (out, [before, day()])
}

/// The one line of `text` that starts with `prefix` equal to one of `expected`.
fn assert_line(text: &str, prefix: &str, expected: &[String]) {
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
    assert!(
        lines.iter().any(|l| expected.iter().any(|e| e == l)),
        "no line {expected:?} in:\n{text}"
    );
}

/// sources.toml without its `sha256 = ...` lines (each checked by [`assert_hashes`]).
fn without_hashes(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("sha256 = "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Every source of `dir/sources.toml` that is not hand-written records the SHA-256 of its
/// pinned copy; returns how many do.
fn assert_hashes(dir: &Path) -> usize {
    use agentstatus_codegen::sources::{SourceKind, Sources};
    use sha2::Digest as _;
    let sources = Sources::load(&dir.join("sources.toml")).unwrap();
    let mut n = 0;
    for s in &sources.sources {
        if s.kind == SourceKind::HandWritten {
            assert_eq!(s.sha256, None, "{}", s.name);
            continue;
        }
        let bytes = std::fs::read(dir.join(&s.pinned)).unwrap();
        let hash: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(s.sha256.as_deref(), Some(hash.as_str()), "{}", s.name);
        n += 1;
    }
    n
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(path).unwrap()
}

const STATUS: &str = "              \"busy\",\n              \"away\",";

#[test]
fn regen_live_records_the_final_url_or_the_sources_url_through_a_mirror() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-regen-origin-")
        .tempdir()
        .unwrap();
    let tmp = scratch.path().to_path_buf();
    vendor_copy(&tmp, "libredesk");
    let dir = tmp.join("libredesk");
    let pinned = read(dir.join("upstream/openapi.json"));
    assert!(pinned.contains(STATUS));
    let changed = pinned.replace(
        STATUS,
        "              \"busy\",\n              \"do_not_disturb\",\n              \"away\",",
    );
    let routes: Routes = Arc::default();
    let (server, asked) = serve(routes.clone());
    let url = "https://raw.githubusercontent.com/abhinavxd/docs.libredesk.io/main/api-reference/openapi.json";

    // through a mirror: the source's own URL, never the mirror's
    routes.lock().unwrap().insert(
        "/libredesk/openapi.json".into(),
        Answer::Doc(changed.clone().into_bytes()),
    );
    let regen = |extra: &[&str]| {
        let mut args = vec![
            "regen",
            "--live",
            "--vendor",
            "libredesk",
            "--timeout",
            "20",
        ];
        args.extend(extra);
        xtask(&tmp, &args)
    };
    let sources_before = read(dir.join("sources.toml"));
    let (out, days) = dates(|| regen(&["--mirror", &server]));
    ok(&out);
    let origins: Vec<String> = days
        .iter()
        .map(|d| format!("{url} (fetched {d} through a mirror)"))
        .collect();
    let sources = read(dir.join("sources.toml"));
    let spec = read(dir.join("openapi.yaml"));
    assert_line(
        &sources,
        "origin = ",
        &origins
            .iter()
            .map(|o| format!("origin = \"{o}\""))
            .collect::<Vec<_>>(),
    );
    assert_line(
        &spec,
        "# - openapi ",
        &origins
            .iter()
            .map(|o| format!("# - openapi (upstream/openapi.json): {o}"))
            .collect::<Vec<_>>(),
    );
    assert!(spec.contains("do_not_disturb"));
    // only the origin line changed
    let old_origin = sources_before
        .lines()
        .find(|l| l.starts_with("origin = "))
        .unwrap();
    let new_origin = sources
        .lines()
        .find(|l| l.starts_with("origin = "))
        .unwrap();
    // ... and the hash of what was fetched, after the `pinned` line
    assert_eq!(assert_hashes(&dir), 1);
    assert_eq!(
        without_hashes(&sources),
        sources_before.replace(old_origin, new_origin)
    );
    let pinned_line = "pinned = \"upstream/openapi.json\"\nsha256 = \"";
    assert!(sources.contains(pinned_line), "{sources}");
    for text in [&sources, &spec] {
        assert!(!text.contains("127.0.0.1"), "{text}");
    }
    assert_eq!(*asked.lock().unwrap(), ["/libredesk/openapi.json"]);
    // the copy is reproducible: the header regen writes from sources.toml is the one written
    ok(&xtask(&tmp, &["check", "--vendor", "libredesk"]));

    // the same document again: nothing changed, the origin stays
    let (out, _) = dates(|| regen(&["--mirror", &server]));
    ok(&out);
    assert_eq!(read(dir.join("sources.toml")), sources);
    assert_eq!(read(dir.join("openapi.yaml")), spec);

    // a pinned copy edited since it was fetched: regen from the pinned copies refuses it,
    // at the line of the recorded hash; restored, it builds again
    let line = 1 + sources[..sources.find("sha256 = ").unwrap()]
        .matches('\n')
        .count();
    let pinned_path = dir.join("upstream/openapi.json");
    let fetched = read(pinned_path.clone());
    std::fs::write(
        &pinned_path,
        fetched.replace("do_not_disturb", "do_not_disturX"),
    )
    .unwrap();
    let out = xtask(&tmp, &["regen", "--vendor", "libredesk"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("sources.toml:{line}:")) && err.contains("sha256"),
        "{err}"
    );
    assert_eq!(read(dir.join("openapi.yaml")), spec, "nothing written");
    // and `check` says so too
    let out = xtask(&tmp, &["check", "--vendor", "libredesk"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains(&format!("sources.toml:{line}:")), "{all}");
    std::fs::write(&pinned_path, &fetched).unwrap();
    ok(&xtask(&tmp, &["regen", "--vendor", "libredesk"]));
    assert_eq!(read(dir.join("openapi.yaml")), spec);

    // a document regen cannot use: exit 2, and sources.toml, the pinned copy and openapi.yaml
    // are left as they were
    let pinned_now = read(dir.join("upstream/openapi.json"));
    routes.lock().unwrap().insert(
        "/libredesk/openapi.json".into(),
        Answer::Doc(
            changed
                .replace("\"/api/v1/agents/me\"", "\"/api/v1/agents/gone\"")
                .into_bytes(),
        ),
    );
    let out = regen(&["--mirror", &server]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(read(dir.join("sources.toml")), sources);
    assert_eq!(read(dir.join("openapi.yaml")), spec);
    assert_eq!(read(dir.join("upstream/openapi.json")), pinned_now);

    // from the source's own URL (here on 127.0.0.1, with a user name and password), redirected
    // within its origin: the final URL, without user name or password
    let own = server.replace("http://", "http://agent007:hunter2-xyz@");
    let sources_local = sources.replace(
        &format!("url = \"{url}\""),
        &format!("url = \"{own}/docs/openapi.json\""),
    );
    assert_ne!(sources_local, sources);
    std::fs::write(dir.join("sources.toml"), &sources_local).unwrap();
    let again = changed.replace(
        "\"do_not_disturb\",",
        "\"do_not_disturb\",\n              \"in_a_meeting\",",
    );
    {
        let mut routes = routes.lock().unwrap();
        routes.insert(
            "/docs/openapi.json".into(),
            Answer::Redirect("/moved/openapi.json".into()),
        );
        routes.insert(
            "/moved/openapi.json".into(),
            Answer::Doc(again.into_bytes()),
        );
    }
    asked.lock().unwrap().clear();
    let (out, days) = dates(|| regen(&[]));
    ok(&out);
    assert_eq!(
        *asked.lock().unwrap(),
        ["/docs/openapi.json", "/moved/openapi.json"]
    );
    let origins: Vec<String> = days
        .iter()
        .map(|d| format!("{server}/moved/openapi.json (fetched {d})"))
        .collect();
    let sources = read(dir.join("sources.toml"));
    let spec = read(dir.join("openapi.yaml"));
    assert_line(
        &sources,
        "origin = ",
        &origins
            .iter()
            .map(|o| format!("origin = \"{o}\""))
            .collect::<Vec<_>>(),
    );
    assert_line(
        &spec,
        "# - openapi ",
        &origins
            .iter()
            .map(|o| format!("# - openapi (upstream/openapi.json): {o}"))
            .collect::<Vec<_>>(),
    );
    assert!(spec.contains("in_a_meeting"));
    assert_eq!(assert_hashes(&dir), 1);
    // the user name and password are in the url line the copy was given, nowhere else
    assert_eq!(sources.matches("hunter2-xyz").count(), 1, "{sources}");
    assert_eq!(sources.matches("agent007").count(), 1, "{sources}");
    for name in ["hunter2-xyz", "agent007"] {
        assert!(!spec.contains(name), "{spec}");
    }
    ok(&xtask(&tmp, &["check", "--vendor", "libredesk"]));
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn an_unchanged_source_keeps_its_origin() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-regen-kept-")
        .tempdir()
        .unwrap();
    let tmp = scratch.path().to_path_buf();
    vendor_copy(&tmp, "rocketchat");
    let dir = tmp.join("rocketchat");
    // every document as pinned, the docs page with one more line at its end
    let routes: Routes = Arc::default();
    for entry in std::fs::read_dir(dir.join("upstream")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let mut bytes = std::fs::read(&p).unwrap();
        if name == "update-agent-status.md" {
            bytes.extend_from_slice(b"\n");
        }
        routes
            .lock()
            .unwrap()
            .insert(format!("/rocketchat/{name}"), Answer::Doc(bytes));
    }
    let (server, _) = serve(routes);
    let sources_before = read(dir.join("sources.toml"));
    let spec_before = read(dir.join("openapi.yaml"));
    let (out, days) = dates(|| {
        xtask(
            &tmp,
            &[
                "regen",
                "--live",
                "--mirror",
                &server,
                "--vendor",
                "rocketchat",
                "--timeout",
                "60",
            ],
        )
    });
    ok(&out);
    let url = "https://developer.rocket.chat/apidocs/update-agent-status.md";
    let old =
        "origin = \"developer.rocket.chat Mintlify markdown export of 'Update Agent Status'\"";
    assert!(sources_before.contains(old));
    let sources = read(dir.join("sources.toml"));
    // every document fetched has its hash recorded (the hand-written ones are ours)
    assert_eq!(assert_hashes(&dir), 4);
    let sources = without_hashes(&sources);
    assert!(
        days.iter().any(|d| sources
            == sources_before.replace(
                old,
                &format!("origin = \"{url} (fetched {d} through a mirror)\"")
            )),
        "{sources}"
    );
    // the header: the changed source's line is new, the others are as they were
    let spec = read(dir.join("openapi.yaml"));
    let header = |text: &str| -> Vec<String> {
        text.lines()
            .take_while(|l| l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    let (before, after) = (header(&spec_before), header(&spec));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        if b.starts_with("# - update-agent-status ") {
            assert!(
                days.iter().any(|d| *a
                    == format!(
                        "# - update-agent-status (upstream/update-agent-status.md): {url} \
                         (fetched {d} through a mirror)"
                    )),
                "{a}"
            );
        } else {
            assert_eq!(a, b);
        }
    }
    assert_eq!(
        spec.lines().skip(after.len()).collect::<Vec<_>>(),
        spec_before.lines().skip(before.len()).collect::<Vec<_>>()
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// A source published as several files (Mattermost's fragments): `regen --live` records each
/// file's own origin (its own URL, only for the file that changed) and each file's own hash;
/// the source has none of its own.
#[test]
fn each_file_of_a_several_file_source_records_its_own_origin_and_hash() {
    use agentstatus_codegen::sources::Sources;
    use sha2::Digest as _;
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-regen-files-")
        .tempdir()
        .unwrap();
    let tmp = scratch.path().to_path_buf();
    vendor_copy(&tmp, "mattermost");
    let dir = tmp.join("mattermost");
    let before = Sources::load(&dir.join("sources.toml")).unwrap();
    let routes: Routes = Arc::default();
    for entry in std::fs::read_dir(dir.join("upstream")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let mut bytes = std::fs::read(&p).unwrap();
        if name == "status.yaml" {
            bytes.extend_from_slice(b"\n");
        }
        routes
            .lock()
            .unwrap()
            .insert(format!("/mattermost/{name}"), Answer::Doc(bytes));
    }
    let (server, asked) = serve(routes);
    let (out, days) = dates(|| {
        xtask(
            &tmp,
            &[
                "regen",
                "--live",
                "--mirror",
                &server,
                "--vendor",
                "mattermost",
                "--timeout",
                "60",
            ],
        )
    });
    ok(&out);
    assert_eq!(asked.lock().unwrap().len(), 4);
    let text = read(dir.join("sources.toml"));
    let after = Sources::load(&dir.join("sources.toml")).unwrap();
    let (b, a) = (&before.sources[0], &after.sources[0]);
    assert_eq!(a.sha256, None);
    assert_eq!(a.origin, b.origin);
    for (j, (fb, fa)) in b.files.iter().zip(&a.files).enumerate() {
        let bytes = std::fs::read(dir.join("upstream").join(&fa.path)).unwrap();
        let hash: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect();
        assert_eq!(fa.sha256.as_deref(), Some(hash.as_str()), "file {j}");
        if fa.path == Path::new("status.yaml") {
            let url = "https://raw.githubusercontent.com/mattermost/mattermost/master/api/v4/source/status.yaml";
            assert!(
                days.iter().any(|d| fa.origin.as_deref()
                    == Some(&format!("{url} (fetched {d} through a mirror)"))),
                "{:?}",
                fa.origin
            );
        } else {
            assert_eq!(fa.origin, fb.origin, "file {j}");
        }
    }
    // each file is still one line of the `files` list
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("{ path = "))
            .count(),
        4,
        "{text}"
    );
    assert!(!text.contains("127.0.0.1"), "{text}");
    std::fs::remove_dir_all(&tmp).unwrap();
}
