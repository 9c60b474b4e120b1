//! `cargo xtask regen [--vendor V] [--live]`: rebuild `specs/<vendor>/openapi.yaml` from the
//! pinned copies of the vendor's documents (with `--live`: download them first, and pin them).

use std::path::Path;

use agentstatus_codegen::sources::{self, Source, Sources};
use agentstatus_codegen::{Error, ErrorKind, Location, OPENAPI_FILE, SOURCES_FILE};

use crate::fetch::{self, Current};
use crate::provenance;
use crate::workspace::{Workspace, today, write};
use crate::{error, flags};

impl flags::Regen {
    pub fn run(self, ws: &Workspace) -> error::Result {
        let current = self.live.current(None);
        for v in ws.vendors(self.vendor.as_deref())? {
            regen_vendor(&ws.specs, &v, current.as_ref())?;
        }
        Ok(())
    }
}

/// Rebuild one vendor's openapi.yaml; with `current`, from the current documents, which become
/// the pinned copies. A pinned copy replaced by a download gets its source's `origin` in
/// sources.toml rewritten to name where it was fetched from (see [`provenance`]), and the
/// header of openapi.yaml shows it.
pub fn regen_vendor(specs: &Path, v: &str, current: Option<&Current>) -> Result<(), Error> {
    let dir = specs.join(v);
    let sources_file = dir.join(SOURCES_FILE);
    let sources = Sources::load(&sources_file)?;
    // Everything is fetched and built in memory first: a failed download, an invalid
    // document or a sources.toml that cannot be edited leaves the pinned copies, sources.toml
    // and openapi.yaml as they were.
    let mut fetched = Vec::new();
    let out = dir.join(OPENAPI_FILE);
    let read = |s: &Source| {
        let (bytes, origin) = match current {
            Some(current) => fetch::current(current, v, &dir, s)?,
            None => fetch::pinned(&dir, s)?,
        };
        fetched.push((
            s.clone(),
            dir.join(&s.pinned),
            bytes.clone(),
            origin.clone(),
        ));
        Ok((bytes, origin))
    };
    let doc =
        sources::build_document(&sources, &out, read, agentstatus_drift::positions_in_source)?;
    let date = today();
    let mut changed = Vec::new();
    let mut origins = Vec::new();
    for (source, path, bytes, from) in fetched {
        if std::fs::read(&path).ok().as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        let index = sources
            .sources
            .iter()
            .position(|s| s.name == source.name && s.pinned == source.pinned);
        let origin = current
            .and_then(|c| provenance::fetched_origin(c, v, &source, &from, &date))
            .filter(|o| source.origin.as_ref() != Some(o));
        if let (Some(index), Some(origin)) = (index, origin) {
            origins.push((source.name.clone(), index, origin));
        }
        changed.push((path, bytes));
    }
    // the origins recorded, and the header that shows them
    let (sources_text, sources) = if origins.is_empty() {
        (None, sources)
    } else {
        let text = std::fs::read_to_string(&sources_file).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                &sources_file,
                Location::File,
                format!("cannot read: {e}"),
            )
        })?;
        let edits: Vec<_> = origins.iter().map(|(_, i, o)| (*i, o.clone())).collect();
        let (text, sources) = provenance::set_origins(&text, &sources_file, &edits)?;
        (Some(text), sources)
    };
    let text = sources::header(&sources) + &sources::to_yaml(&doc)?;
    for (path, bytes) in changed {
        write(&path, &bytes)?;
        eprintln!("regen: updated pinned copy {}", path.display());
    }
    if let Some(sources_text) = sources_text {
        write(&sources_file, sources_text.as_bytes())?;
        for (name, _, origin) in &origins {
            eprintln!("regen: {v}: source `{name}` origin = {origin}");
        }
    }
    write(&out, text.as_bytes())?;
    println!("regen: wrote specs/{v}/{OPENAPI_FILE}");
    Ok(())
}
