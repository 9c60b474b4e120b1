//! Extracting the OpenAPI document from a source: a plain spec file, or a vendor docs page
//! (Mintlify markdown export) that embeds the spec in a fence such as
//! ```` ````json POST /api/v1/livechat/agent.status ````.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Location, Result};
use crate::load;

/// One fenced OpenAPI block found in a docs page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// `json` or `yaml`.
    pub language: String,
    /// The operation the page documents, e.g. `POST /api/v1/livechat/agent.status`.
    pub operation: String,
    /// 1-based line of the first line of the fence body in the page.
    pub first_line: usize,
    /// The fence's body: the OpenAPI text.
    pub body: String,
}

/// Find the fenced OpenAPI blocks of a docs page: a fence of three or more backticks whose info
/// string is `json|yaml METHOD /path`.
pub fn find_fences(page: &str) -> Vec<Fence> {
    let mut fences = Vec::new();
    let lines: Vec<&str> = page.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let ticks = line.chars().take_while(|c| *c == '`').count();
        if ticks >= 3 {
            let info = line[ticks..].trim();
            let mut words = info.split_whitespace();
            let language = words.next().unwrap_or("").to_ascii_lowercase();
            let method = words.next().unwrap_or("");
            let path = words.next().unwrap_or("");
            let closing = "`".repeat(ticks);
            let end = lines[i + 1..]
                .iter()
                .position(|l| l.trim_end() == closing)
                .map(|p| i + 1 + p);
            if matches!(language.as_str(), "json" | "yaml" | "yml") && path.starts_with('/') {
                let end_line = end.unwrap_or(lines.len());
                fences.push(Fence {
                    language,
                    operation: format!("{} {}", method.to_ascii_uppercase(), path),
                    first_line: i + 2,
                    body: lines[i + 1..end_line].join("\n"),
                });
            }
            i = end.map_or(lines.len(), |e| e + 1);
            continue;
        }
        i += 1;
    }
    fences
}

/// Extract and parse the OpenAPI document embedded in a docs page. A syntax error is reported at
/// its line and column *in the page*, not in the fence.
pub fn from_docs_page(page: &str, origin: &Path) -> Result<Value> {
    let page = load::clean(page);
    let fences = find_fences(&page);
    let fence = match fences.as_slice() {
        [one] => one,
        [] => {
            return Err(Error::new(
                ErrorKind::Syntax,
                origin,
                Location::File,
                "no fenced OpenAPI block (```` ````json METHOD /path ````) found in the page",
            ));
        }
        [_, second, ..] => {
            return Err(Error::new(
                ErrorKind::Syntax,
                origin,
                Location::LineColumn {
                    line: second.first_line - 1,
                    column: 1,
                },
                "more than one fenced OpenAPI block in the page; expected exactly one",
            ));
        }
    };
    load::parse_str(&fence.body, origin).map_err(|mut e| {
        if let Location::LineColumn { line, column } = e.location {
            e.location = Location::LineColumn {
                line: line + fence.first_line - 1,
                column,
            };
            e.message = format!("in the fenced `{}` spec: {}", fence.operation, e.message);
        }
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# Title\n\n## OpenAPI\n\n````json POST /api/v1/x\n{\n  \"openapi\": \"3.0.0\"\n}\n````\n\ntrailer\n";

    #[test]
    fn finds_the_fence_and_its_operation() {
        let f = find_fences(PAGE);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].operation, "POST /api/v1/x");
        assert_eq!(f[0].first_line, 6);
        let v = from_docs_page(PAGE, Path::new("page.md")).unwrap();
        assert_eq!(v["openapi"], "3.0.0");
    }

    #[test]
    fn malformed_fence_names_page_line() {
        let page = PAGE.replace("\"3.0.0\"", "\"3.0.0\",,");
        let e = from_docs_page(&page, Path::new("page.md")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(
            e.location,
            Location::LineColumn {
                line: 7,
                column: 22
            }
        );
        assert!(
            e.to_string()
                .starts_with("page.md:7:22: in the fenced `POST /api/v1/x` spec"),
            "{e}"
        );
    }

    #[test]
    fn page_without_fence_is_an_error() {
        let e =
            from_docs_page("# nothing here\n```sh\ncurl x\n```\n", Path::new("p.md")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert!(e.message.contains("no fenced OpenAPI block"));
    }

    #[test]
    fn inner_shorter_fences_do_not_close_the_block() {
        let page = "````yaml put /a\nx: |\n  ```\n  code\n  ```\ny: 1\n````\n";
        let v = from_docs_page(page, Path::new("p.md")).unwrap();
        assert_eq!(v["y"], 1);
    }
}
