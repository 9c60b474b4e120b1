//! `AGENTSTATUS_BENCH_TRACE=FILE`: the timings the sync engine, the watchers and the clients'
//! pacers log (`debug`/`trace` events of targets `agentstatus_sync::timing`,
//! `agentstatus_presence::watch`, `agentstatus_runtime::pace`, and the bench's own mark when the
//! change is made by hand) written to FILE, each line stamped with the time since the process
//! started; `AGENTSTATUS_BENCH_TRACE_FILTER` replaces that filter (`RUST_LOG` syntax). Off
//! unless set: the measured runs log nothing.

use std::io::{BufWriter, Write};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone)]
struct Shared(Arc<Mutex<BufWriter<std::fs::File>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

static FILE: OnceLock<Shared> = OnceLock::new();

const DEFAULT_FILTER: &str = "agentstatus_sync::timing=debug,agentstatus_presence::watch=debug,agentstatus_runtime::pace=trace,agentstatus_bench=info";

/// Install the subscriber when `AGENTSTATUS_BENCH_TRACE` names a file.
pub fn init() {
    let Some(path) = std::env::var_os("AGENTSTATUS_BENCH_TRACE") else {
        return;
    };
    let file = std::fs::File::create(&path).expect("AGENTSTATUS_BENCH_TRACE: cannot create");
    let shared = Shared(Arc::new(Mutex::new(BufWriter::new(file))));
    let _ = FILE.set(shared.clone());
    let filter = std::env::var("AGENTSTATUS_BENCH_TRACE_FILTER")
        .unwrap_or_else(|_| DEFAULT_FILTER.to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .with_writer(move || shared.clone())
        .try_init();
}

/// Write out what is buffered.
pub fn flush() {
    if let Some(f) = FILE.get() {
        let _ = f.clone().flush();
    }
}
