//! `cargo xtask export <vendor> [--full] [--out FILE]`: the effective document, after
//! normalisation, the overlay and the fixes: what the generator sees, for mock servers,
//! documentation tools and other generators. Properties the generator had to give keys of their
//! own (colliding names) are under their JSON names again, so other tools read the wire format.

use std::path::Path;

use agentstatus_codegen::sources::to_yaml;
use agentstatus_codegen::{Codegen, Error, ErrorKind, Location};

use crate::flags;
use crate::workspace::{Workspace, write};

impl flags::Export {
    pub fn run(self, ws: &Workspace) -> crate::error::Result {
        let json = self
            .out
            .as_ref()
            .is_some_and(|o| o.extension().is_some_and(|e| e == "json"));
        let text = export(&ws.specs, &self.vendor, self.full, json)?;
        match &self.out {
            Some(file) => write(file, text.as_bytes())?,
            None => print!("{text}"),
        }
        Ok(())
    }
}

/// The effective document of `vendor` as YAML (JSON when `json`).
pub fn export(specs: &Path, vendor: &str, full: bool, json: bool) -> Result<String, Error> {
    let dir = specs.join(vendor);
    if !dir.join(agentstatus_codegen::SOURCES_FILE).is_file() {
        return Err(Error::new(
            ErrorKind::Io,
            &dir,
            Location::File,
            "no such vendor (expected a folder with sources.toml)",
        ));
    }
    let prepared = Codegen::vendor(&dir).full(full).prepare()?;
    let doc = prepared.exported();
    if json {
        Ok(serde_json::to_string_pretty(&doc).expect("a JSON value") + "\n")
    } else {
        to_yaml(&doc)
    }
}
