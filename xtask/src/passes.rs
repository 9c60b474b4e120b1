//! `cargo xtask passes [--write-readme]`: the codegen's passes, in the order they run, with what
//! each does, as a Markdown table (from `agentstatus_codegen::pipeline()`); `--write-readme`
//! puts it between the passes markers of ARCHITECTURE.md.

use crate::flags;
use crate::workspace::{Workspace, write_section};

/// The markers of the pass table.
const START: &str = "<!-- passes:start (cargo xtask passes --write-readme) -->";
const END: &str = "<!-- passes:end -->";

impl flags::Passes {
    pub fn run(self, ws: &Workspace) -> crate::error::Result {
        let table = table();
        if !self.write_readme {
            print!("{table}");
            return Ok(());
        }
        let file = ws.root.join("ARCHITECTURE.md");
        write_section(&file, START, END, &table, false)?;
        println!("passes: wrote {}", file.display());
        Ok(())
    }
}

/// The pipeline's passes as a Markdown table, from the codegen's list.
fn table() -> String {
    let mut out = String::from("| pass | stage | what it does |\n|---|---|---|\n");
    for pass in agentstatus_codegen::pipeline() {
        let stage = match pass.stage() {
            agentstatus_codegen::Stage::Input => "input",
            agentstatus_codegen::Stage::Normalise => "normalise",
            agentstatus_codegen::Stage::Fix => "fix",
            agentstatus_codegen::Stage::Generated => "generated",
        };
        // a pass that marks the document for the generator says where its marks are undone (a
        // generated-code pass marks nothing: its rewrite is all it does)
        let generated = pass.stage() == agentstatus_codegen::Stage::Generated;
        let undone = match (
            pass.rewrites_tokens() && !generated,
            pass.restores_on_export(),
        ) {
            (true, true) => " Undone after generation (in the generated code) and on export.",
            (true, false) => " Undone after generation (in the generated code).",
            (false, true) => " Undone on export.",
            (false, false) => "",
        };
        out.push_str(&format!(
            "| `{}` | {stage} | {}{undone} |\n",
            pass.name(),
            pass.docs().replace('|', "\\|")
        ));
    }
    out
}
