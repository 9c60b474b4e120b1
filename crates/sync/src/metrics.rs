//! The optional HTTP endpoint (`listen = "127.0.0.1:9464"` in sync.toml): `GET /health` and
//! `GET /metrics` (Prometheus text format). Nothing else is served; it reads no request body
//! and answers every connection once, then closes it.
//!
//! | metric | type | what |
//! |---|---|---|
//! | `agentstatus_sync_decisions_total` | counter | decisions made (human changes decided) |
//! | `agentstatus_sync_writes_owed` | gauge | writes in the outbox |
//! | `agentstatus_sync_changes_seen_total{desk,vendor}` | counter | human changes seen on the desk |
//! | `agentstatus_sync_echoes_total{desk,vendor}` | counter | sync's own writes seen coming back |
//! | `agentstatus_sync_computed_total{desk,vendor}` | counter | states the vendor computed (not propagated) |
//! | `agentstatus_sync_writes_total{desk,vendor,outcome}` | counter | writes `made`, attempts `failed` |
//! | `agentstatus_sync_late_writes_undone_total{desk,vendor}` | counter | sync's own writes whose outcome was unknown that landed late, over a change decided after they were sent, and were undone (the change put back) |
//! | `agentstatus_sync_read_failures_total{desk,vendor}` | counter | reads of the desk that failed |
//! | `agentstatus_sync_writer_panics_total{desk,vendor}` | counter | times the desk's writer panicked (logged with the desk; restarted with backoff, its writes in flight handed out again) |
//! | `agentstatus_sync_unmatched_agents{desk,vendor}` | gauge | agents no one in the people map (by e-mail: without an address, or sharing one) |
//! | `agentstatus_sync_ambiguous_emails{desk,vendor}` | gauge | by e-mail: addresses several agents of the desk share |
//! | `agentstatus_sync_write_lag_seconds{desk,vendor,stat}` | gauge | decision to write, `last` and `max` |
//! | `agentstatus_sync_last_read_age_seconds{desk,vendor}` | gauge | time since the desk was last read successfully |
//! | `agentstatus_sync_desk_stale{desk,vendor}` | gauge | 1 when that age is over `stale_after` intervals |
//! | `agentstatus_sync_desk_in_use{desk,vendor}` | gauge | 1 while the desk's reads are refused for something another process holds (its push feed's lock: another watch of its state file or notification URL) |
//!
//! `GET /health` answers `200` with `{"status": "ok", ...}` while every desk was read
//! successfully within `stale_after` of its intervals (sync.toml, default 3), and `503` with
//! `{"status": "stale", "stale": [desks]}` when one was not: a desk whose reads fail (its
//! credentials expired, its server is down) or whose push connection is gone. A quiet desk
//! (nothing changed) is not stale: each successful read counts, and a push feed answers at each
//! interval while its connection lives. A desk whose reads are refused for something another
//! process took since sync started (its push feed's lock file: `ErrorKind::InUse`) makes it
//! `503` at once, `{"status": "in_use", "in_use": [desks]}`, each desk's `in_use` the refusal
//! (naming the file, its lock file and the holder). Each desk's `last_read` (RFC 3339),
//! `last_read_age_ms`, `interval_ms`, `stale` and `in_use` are in the answer.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::engine::{Stats, Summary};
#[cfg(test)]
use agentstatus_presence::watch::LastSuccess;

/// The metrics of `s`, in Prometheus text format.
pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in rows {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    family(
        "agentstatus_sync_decisions_total",
        "counter",
        "Human changes decided.",
        vec![(String::new(), s.decisions.to_string())],
    );
    family(
        "agentstatus_sync_writes_owed",
        "gauge",
        "Writes in the outbox.",
        vec![(String::new(), s.owed.to_string())],
    );
    let per_desk =
        |extra: &str, f: &dyn Fn(&crate::DeskStats) -> String| -> Vec<(String, String)> {
            s.desks
                .iter()
                .map(|d| {
                    (
                        format!(
                            "{{desk=\"{}\",vendor=\"{}\"{extra}}}",
                            escape(&d.desk),
                            escape(&d.vendor)
                        ),
                        f(d),
                    )
                })
                .collect()
        };
    family(
        "agentstatus_sync_changes_seen_total",
        "counter",
        "Human changes seen on the desk.",
        per_desk("", &|d| d.changes_seen.to_string()),
    );
    family(
        "agentstatus_sync_echoes_total",
        "counter",
        "Sync's own writes seen coming back (never propagated).",
        per_desk("", &|d| d.echoes.to_string()),
    );
    family(
        "agentstatus_sync_computed_total",
        "counter",
        "States the vendor computed (not propagated).",
        per_desk("", &|d| d.computed.to_string()),
    );
    let mut writes = per_desk(",outcome=\"made\"", &|d| d.writes_made.to_string());
    writes.extend(per_desk(",outcome=\"failed\"", &|d| {
        d.writes_failed.to_string()
    }));
    family(
        "agentstatus_sync_writes_total",
        "counter",
        "Writes made, and write attempts that failed.",
        writes,
    );
    family(
        "agentstatus_sync_late_writes_undone_total",
        "counter",
        "Sync's own writes whose outcome was unknown that landed late over a later change, undone.",
        per_desk("", &|d| d.late_writes_undone.to_string()),
    );
    family(
        "agentstatus_sync_read_failures_total",
        "counter",
        "Reads of the desk that failed.",
        per_desk("", &|d| d.read_failures.to_string()),
    );
    family(
        "agentstatus_sync_writer_panics_total",
        "counter",
        "Times the desk's writer panicked (restarted with backoff, its writes handed out again).",
        per_desk("", &|d| d.writer_panics.to_string()),
    );
    family(
        "agentstatus_sync_unmatched_agents",
        "gauge",
        "Agents of the desk that are no one in the people map.",
        per_desk("", &|d| d.unmatched.to_string()),
    );
    family(
        "agentstatus_sync_ambiguous_emails",
        "gauge",
        "Matching by e-mail: addresses several agents of the desk share (none of them matched).",
        per_desk("", &|d| d.ambiguous_emails.to_string()),
    );
    let secs = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let mut lag = per_desk(",stat=\"last\"", &|d| secs(d.lag_ms_last));
    lag.extend(per_desk(",stat=\"max\"", &|d| secs(d.lag_ms_max)));
    family(
        "agentstatus_sync_write_lag_seconds",
        "gauge",
        "Time from a decision to its write on the desk.",
        lag,
    );
    family(
        "agentstatus_sync_last_read_age_seconds",
        "gauge",
        "Time since the desk was last read successfully.",
        per_desk("", &|d| secs(d.last_read_age_ms)),
    );
    family(
        "agentstatus_sync_desk_stale",
        "gauge",
        "1 when the desk was not read successfully for stale_after intervals.",
        per_desk("", &|d| u8::from(d.stale).to_string()),
    );
    family(
        "agentstatus_sync_desk_in_use",
        "gauge",
        "1 while the desk's reads are refused for something another process holds (its feed's lock).",
        per_desk("", &|d| u8::from(d.in_use.is_some()).to_string()),
    );
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serve `/health` and `/metrics` on `listener` until the future is dropped.
pub async fn serve(listener: TcpListener, stats: Stats) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let stats = stats.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), answer(stream, stats)).await;
        });
    }
}

async fn answer(mut stream: TcpStream, stats: Stats) -> std::io::Result<()> {
    // the request line and headers, at most 8 KiB; no body is read
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    loop {
        let n = stream.read(&mut buf[len..]).await?;
        if n == 0 {
            break;
        }
        len += n;
        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") || len == buf.len() {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    let mut parts = head.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let path = target.split('?').next().unwrap_or_default();
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            render(&stats.snapshot()),
        ),
        ("GET", "/health") => {
            let s = stats.snapshot();
            let stale: Vec<&str> = s
                .desks
                .iter()
                .filter(|d| d.stale)
                .map(|d| d.desk.as_str())
                .collect();
            let in_use: Vec<&str> = s
                .desks
                .iter()
                .filter(|d| d.in_use.is_some())
                .map(|d| d.desk.as_str())
                .collect();
            let status = if !in_use.is_empty() {
                "in_use"
            } else if !stale.is_empty() {
                "stale"
            } else {
                "ok"
            };
            (
                if status == "ok" {
                    "200 OK"
                } else {
                    "503 Service Unavailable"
                },
                "application/json",
                serde_json::json!({
                    "status": status,
                    "stale": stale,
                    "in_use": in_use,
                    "decisions": s.decisions,
                    "writes_owed": s.owed,
                    "desks": s.desks,
                })
                .to_string(),
            )
        }
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "GET /health or /metrics\n".into(),
        ),
        _ => ("405 Method Not Allowed", "text/plain", "GET only\n".into()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn health_and_metrics_over_http_and_nothing_else() {
        let stats = Stats::default();
        stats.with(|s| {
            s.decisions = 3;
            s.desks.push(crate::DeskStats {
                desk: "chat".into(),
                vendor: "rocketchat".into(),
                writes_made: 2,
                writes_failed: 1,
                writer_panics: 2,
                late_writes_undone: 4,
                lag_ms_max: 1500,
                ..crate::DeskStats::default()
            });
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, stats));
        let get = |req: &'static str| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        let m = get("GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n").await;
        assert!(m.starts_with("HTTP/1.1 200 OK\r\n"), "{m}");
        assert!(m.contains("\nagentstatus_sync_decisions_total 3\n"), "{m}");
        assert!(m.contains("\nagentstatus_sync_writes_total{desk=\"chat\",vendor=\"rocketchat\",outcome=\"failed\"} 1\n"), "{m}");
        assert!(m.contains("\nagentstatus_sync_write_lag_seconds{desk=\"chat\",vendor=\"rocketchat\",stat=\"max\"} 1.500\n"), "{m}");
        assert!(
            m.contains(
                "\nagentstatus_sync_writer_panics_total{desk=\"chat\",vendor=\"rocketchat\"} 2\n"
            ),
            "{m}"
        );
        assert!(
            m.contains(
                "\nagentstatus_sync_late_writes_undone_total{desk=\"chat\",vendor=\"rocketchat\"} 4\n"
            ),
            "{m}"
        );
        let h = get("GET /health HTTP/1.1\r\n\r\n").await;
        assert!(h.contains("\"status\":\"ok\""), "{h}");
        assert!(
            get("POST /metrics HTTP/1.1\r\n\r\n")
                .await
                .starts_with("HTTP/1.1 405")
        );
        assert!(
            get("GET /other HTTP/1.1\r\n\r\n")
                .await
                .starts_with("HTTP/1.1 404")
        );
        // garbage, and a client that says nothing and leaves: answered or dropped, never a panic
        assert!(get("\u{0}\u{1}\r\n\r\n").await.starts_with("HTTP/1.1 405"));
        drop(TcpStream::connect(addr).await.unwrap());
        assert!(
            get("GET /health HTTP/1.1\r\n\r\n")
                .await
                .starts_with("HTTP/1.1 200")
        );
        server.abort();
    }

    #[tokio::test]
    async fn health_fails_for_a_desk_not_read_for_stale_after_intervals() {
        let stats = Stats::default();
        stats.with(|s| {
            for desk in ["chat", "mail"] {
                s.desks.push(crate::DeskStats {
                    desk: desk.into(),
                    vendor: "rocketchat".into(),
                    ..crate::DeskStats::default()
                });
            }
        });
        let (chat, mail) = (LastSuccess::new(), LastSuccess::new());
        *stats.clocks.lock().unwrap() = vec![
            (chat.clone(), Duration::from_secs(10)),
            (mail.clone(), Duration::from_secs(10)),
        ];
        stats
            .stale_after
            .store(3, std::sync::atomic::Ordering::Relaxed);
        let ago = |s: i64| {
            chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
                - chrono::TimeDelta::seconds(s)
        };
        chat.set(ago(5));
        mail.set(ago(29));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, stats.clone()));
        let get = |req: &'static str| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        let body = |r: &str| -> serde_json::Value {
            serde_json::from_str(r.split("\r\n\r\n").nth(1).unwrap()).unwrap()
        };
        // 29 s without a read at a 10 s interval: within 3 intervals
        let h = get("GET /health HTTP/1.1\r\n\r\n").await;
        assert!(h.starts_with("HTTP/1.1 200 OK"), "{h}");
        let b = body(&h);
        assert_eq!(b["status"], "ok");
        assert_eq!(b["desks"][1]["interval_ms"], 10_000);
        assert!(b["desks"][1]["last_read_age_ms"].as_u64().unwrap() >= 29_000);
        // 31 s: stale, and only that desk
        mail.set(ago(31));
        let h = get("GET /health HTTP/1.1\r\n\r\n").await;
        assert!(h.starts_with("HTTP/1.1 503 Service Unavailable"), "{h}");
        let b = body(&h);
        assert_eq!(b["status"], "stale");
        assert_eq!(b["stale"], serde_json::json!(["mail"]));
        assert_eq!(b["desks"][0]["stale"], false);
        let m = get("GET /metrics HTTP/1.1\r\n\r\n").await;
        assert!(
            m.contains("\nagentstatus_sync_desk_stale{desk=\"mail\",vendor=\"rocketchat\"} 1\n"),
            "{m}"
        );
        assert!(
            m.contains("\nagentstatus_sync_desk_stale{desk=\"chat\",vendor=\"rocketchat\"} 0\n"),
            "{m}"
        );
        // read again: healthy again
        mail.touch();
        let h = get("GET /health HTTP/1.1\r\n\r\n").await;
        assert!(h.starts_with("HTTP/1.1 200 OK"), "{h}");
        // a desk never read counts from the start
        let never = Stats::default();
        never.with(|s| s.desks.push(crate::DeskStats::default()));
        *never.clocks.lock().unwrap() = vec![(LastSuccess::new(), Duration::from_secs(1))];
        assert!(never.snapshot_after(Duration::from_secs(4)).desks[0].stale);
        assert!(!never.snapshot().desks[0].stale);
        server.abort();
    }
}
