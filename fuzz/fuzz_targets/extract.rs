//! The docs-page extractor: any page text gives a document or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|page: &str| {
    let _ = agentstatus_codegen::extract::find_fences(page);
    let _ = agentstatus_codegen::extract::from_docs_page(page, std::path::Path::new("page.md"));
});
