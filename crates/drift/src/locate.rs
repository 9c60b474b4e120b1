//! Where a JSON pointer is in the text of a vendor document: line and column, so a drift finding
//! can name `omnichannel.yaml:812:9` rather than a pointer. YAML and JSON are read with the same
//! event parser (granit-parser, the one serde-saphyr uses), which gives every node's position.

use std::collections::{BTreeMap, BTreeSet};

use granit_parser::{Event, Parser};

use agentstatus_codegen::nav::escape_token;
use agentstatus_codegen::sources::SourceKind;
use agentstatus_codegen::{clean, find_fences, parse_bytes, upgrade_swagger2};

/// 1-based line and column.
pub type Position = (usize, usize);

/// The positions of `pointers` in `text` (JSON or YAML). A pointer that is not in the text gets
/// the position of its nearest ancestor that is (the document root at worst); if the text does
/// not parse, pointers get no position.
pub fn positions<'p>(
    text: &str,
    pointers: impl IntoIterator<Item = &'p str>,
) -> BTreeMap<String, Position> {
    let pointers: BTreeSet<&str> = pointers.into_iter().collect();
    // every prefix of a wanted pointer, so the nearest ancestor can be found
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for p in &pointers {
        let mut prefix = String::new();
        wanted.insert(String::new());
        for token in p.split('/').skip(1) {
            prefix.push('/');
            prefix.push_str(token);
            wanted.insert(prefix.clone());
        }
    }
    let found = walk(text, &wanted);
    let mut out = BTreeMap::new();
    for p in pointers {
        let mut probe = p.to_string();
        loop {
            if let Some(pos) = found.get(&probe) {
                out.insert(p.to_string(), *pos);
                break;
            }
            match probe.rfind('/') {
                Some(i) => probe.truncate(i),
                None => break,
            }
        }
    }
    out
}

/// As [`positions`], for the bytes of a source of kind `kind` (a docs page: the position is in
/// the page, inside its fenced spec). Its signature is codegen's `regen::Locate`, so regen's
/// errors name the `file:line:col` of what they are about when xtask passes it.
pub fn positions_in_source(
    kind: SourceKind,
    bytes: &[u8],
    pointers: &[&str],
) -> BTreeMap<String, Position> {
    let text = clean(&String::from_utf8_lossy(bytes));
    match kind {
        SourceKind::Openapi | SourceKind::HandWritten => in_document(&text, pointers),
        SourceKind::DocsPage => {
            let fences = find_fences(&text);
            let Some(fence) = fences.first() else {
                return BTreeMap::new();
            };
            in_document(&fence.body, pointers)
                .into_iter()
                .map(|(p, (line, column))| (p, (line + fence.first_line - 1, column)))
                .collect()
        }
    }
}

/// As [`positions`], for pointers into the OpenAPI 3 document `text` is read as: a Swagger 2.0
/// document's pointers are those of the document it converts to
/// ([`agentstatus_codegen::upgrade_swagger2`]), each found at
/// the place of the 2.0 node it came from.
fn in_document(text: &str, pointers: &[&str]) -> BTreeMap<String, Position> {
    // parsed again only where a `swagger` key can be (the word alone is in many 3.x documents'
    // URLs and prose)
    let may_be_swagger = ["\"swagger\"", "'swagger'", "swagger:"]
        .iter()
        .any(|k| text.contains(k));
    let upgraded = may_be_swagger
        .then(|| parse_bytes(text.as_bytes(), std::path::Path::new("")).ok())
        .flatten()
        .and_then(|mut doc| upgrade_swagger2(&mut doc, std::path::Path::new("")).ok())
        .flatten();
    let Some(up) = upgraded else {
        return positions(text, pointers.iter().copied());
    };
    let originals: Vec<(String, &str)> = pointers.iter().map(|p| (up.original(p), *p)).collect();
    let found = positions(text, originals.iter().map(|(o, _)| o.as_str()));
    originals
        .iter()
        .filter_map(|(o, p)| found.get(o).map(|pos| (p.to_string(), *pos)))
        .collect()
}

enum Frame {
    /// A mapping: the key of the entry being read, `None` while a key is expected.
    Map(Option<String>),
    /// A sequence: the index of the next item.
    Seq(usize),
}

fn walk(text: &str, wanted: &BTreeSet<String>) -> BTreeMap<String, Position> {
    let mut found = BTreeMap::new();
    let mut stack: Vec<(Frame, String)> = Vec::new();
    let mut complex_key_depth = 0usize;
    let record = |found: &mut BTreeMap<String, Position>, p: &str, line: usize, col: usize| {
        if wanted.contains(p) && !found.contains_key(p) {
            found.insert(p.to_string(), (line, col + 1));
        }
    };
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let (line, col) = (span.start.line(), span.start.col());
        let is_start = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
        let is_end = matches!(event, Event::MappingEnd | Event::SequenceEnd);
        let is_node = is_start || matches!(event, Event::Scalar(..) | Event::Alias(..));
        if complex_key_depth > 0 {
            // inside a non-scalar mapping key: nothing here has a JSON pointer
            if is_start {
                complex_key_depth += 1;
            } else if is_end {
                complex_key_depth -= 1;
                if complex_key_depth == 0
                    && let Some((Frame::Map(key), _)) = stack.last_mut()
                {
                    *key = Some("?".into());
                }
            }
            continue;
        }
        if is_end {
            stack.pop();
            finish_value(&mut stack);
            continue;
        }
        if !is_node {
            continue;
        }
        // a key, or a value at some pointer
        let here = match stack.last_mut() {
            None => String::new(),
            Some((Frame::Map(key @ None), parent)) => {
                match &event {
                    Event::Scalar(k, ..) => {
                        let p = format!("{parent}/{}", escape_token(k));
                        record(&mut found, &p, line, col);
                        *key = Some(k.to_string());
                    }
                    _ if is_start => complex_key_depth = 1,
                    _ => *key = Some("?".into()),
                }
                continue;
            }
            Some((Frame::Map(Some(k)), parent)) => format!("{parent}/{}", escape_token(k)),
            Some((Frame::Seq(i), parent)) => format!("{parent}/{i}"),
        };
        record(&mut found, &here, line, col);
        match event {
            Event::MappingStart(..) => stack.push((Frame::Map(None), here)),
            Event::SequenceStart(..) => stack.push((Frame::Seq(0), here)),
            _ => finish_value(&mut stack),
        }
    }
    found
}

/// A value was read: the enclosing mapping expects a key, the enclosing sequence its next item.
fn finish_value(stack: &mut [(Frame, String)]) {
    match stack.last_mut() {
        Some((Frame::Map(key), _)) => *key = None,
        Some((Frame::Seq(i), _)) => *i += 1,
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_keys_items_and_nearest_ancestor() {
        let text = "openapi: 3.0.0\npaths:\n  /a/b:\n    get:\n      parameters:\n        - name: q\n          in: query\n        - {name: r, in: path}\n";
        let p = positions(
            text,
            [
                "/paths/~1a~1b/get",
                "/paths/~1a~1b/get/parameters/1/in",
                "/paths/~1a~1b/get/parameters/0",
                "/paths/~1a~1b/get/nothing/here",
                "",
            ],
        );
        assert_eq!(p["/paths/~1a~1b/get"], (4, 5));
        assert_eq!(p["/paths/~1a~1b/get/parameters/0"], (6, 11));
        assert_eq!(p["/paths/~1a~1b/get/parameters/1/in"], (8, 21));
        assert_eq!(p["/paths/~1a~1b/get/nothing/here"], (4, 5));
        assert_eq!(p[""], (1, 1));
    }

    #[test]
    fn json_and_docs_page() {
        let text = "{\n  \"paths\": {\n    \"/x\": {\"get\": {}}\n  }\n}\n";
        assert_eq!(
            positions(text, ["/paths/~1x/get"])["/paths/~1x/get"],
            (3, 12)
        );
        let page = format!("# T\n\n````json GET /x\n{text}````\n");
        let p = positions_in_source(SourceKind::DocsPage, page.as_bytes(), &["/paths/~1x/get"]);
        assert_eq!(p["/paths/~1x/get"], (6, 12));
    }

    #[test]
    fn swagger_2_pointers_are_found_where_the_2_0_node_is() {
        let text = "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /agents/{id}:\n    patch:\n      parameters:\n        - name: id\n          in: path\n          type: integer\n        - name: data\n          in: body\n          schema:\n            properties:\n              availability: {type: string}\n      responses: {200: {description: ok}}\n";
        let body = "/paths/~1agents~1{id}/patch/requestBody/content/application~1json/schema/properties/availability";
        let id = "/paths/~1agents~1{id}/patch/parameters/0/schema/type";
        let p = positions_in_source(SourceKind::Openapi, text.as_bytes(), &[body, id]);
        assert_eq!(
            p[body],
            (14, 15),
            "the body parameter's property, in the 2.0 file"
        );
        assert_eq!(p[id], (9, 11), "the parameter's own `type`");
    }

    #[test]
    fn text_that_does_not_parse_gives_what_it_can() {
        let p = positions("a: [1, 2\nb: 3\n", ["/b"]);
        assert!(p.get("/b").is_none_or(|pos| pos.0 >= 1));
    }
}
