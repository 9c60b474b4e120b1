//! `cargo xtask regen [--vendor V] [--live]`: rebuild `specs/<vendor>/openapi.yaml` from the
//! pinned copies of the vendor's documents (with `--live`: download them first, and pin them).

use std::path::Path;

use agentstatus_codegen::sources::{self, Source, SourceKind, Sources};
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
    let sources_text = std::fs::read_to_string(&sources_file).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            &sources_file,
            Location::File,
            format!("cannot read: {e}"),
        )
    })?;
    if current.is_none() {
        // the pinned copies are what was fetched: their recorded hashes say so
        let read: Vec<(Source, Vec<u8>)> = fetched
            .iter()
            .map(|(s, _, bytes, _)| (s.clone(), bytes.clone()))
            .collect();
        provenance::verify_pinned(&sources_text, &sources_file, &sources, &read, &dir)?;
    }
    let mut changed = Vec::new();
    let mut edits = Vec::new();
    for (source, path, bytes, from) in fetched {
        let unchanged = std::fs::read(&path).ok().as_deref() == Some(bytes.as_slice());
        // a source, or one file of a source published as several: each records its own
        let Some((index, file)) = sources.position_of(&source) else {
            continue;
        };
        if current.is_some() && source.kind != SourceKind::HandWritten {
            let hash = provenance::sha256(&bytes);
            if source.sha256.as_ref() != Some(&hash) {
                edits.push(provenance::Edit {
                    source: index,
                    file,
                    field: provenance::Field::Sha256,
                    value: hash,
                });
            }
        }
        if unchanged {
            continue;
        }
        let origin = current
            .and_then(|c| provenance::fetched_origin(c, v, &source, &from, &date))
            .filter(|o| source.origin.as_ref() != Some(o));
        if let Some(origin) = origin {
            edits.push(provenance::Edit {
                source: index,
                file,
                field: provenance::Field::Origin,
                value: origin,
            });
        }
        changed.push((path, bytes));
    }
    // the origins and hashes recorded, and the header that shows them
    let (sources_text, sources) = if edits.is_empty() {
        (None, sources)
    } else {
        let (text, sources) = provenance::set_fields(&sources_text, &sources_file, &edits)?;
        (Some(text), sources)
    };
    let text = sources::header(&sources) + &sources::to_yaml(&doc)?;
    for (path, bytes) in changed {
        write(&path, &bytes)?;
        eprintln!("regen: updated pinned copy {}", path.display());
    }
    if let Some(sources_text) = sources_text {
        write(&sources_file, sources_text.as_bytes())?;
        for e in &edits {
            let source = &sources.sources[e.source];
            let name = match e.file {
                Some(j) => format!("{}/{}", source.name, source.files[j].path.display()),
                None => source.name.clone(),
            };
            let key = match e.field {
                provenance::Field::Origin => "origin",
                provenance::Field::Sha256 => "sha256",
            };
            eprintln!("regen: {v}: source `{name}` {key} = {}", e.value);
        }
    }
    write(&out, text.as_bytes())?;
    println!("regen: wrote specs/{v}/{OPENAPI_FILE}");
    Ok(())
}
