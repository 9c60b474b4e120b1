//! The generated client's Rust API, as a changelog speaks of it: each method (with its
//! builder's setters and what `send()` returns), each type of `types`, each field of a struct
//! and each variant of an enum. Two versions of the generated code compared give the lines
//! `cargo xtask update` writes: what a user of the crate sees change, not what the vendor's
//! document says.

use std::collections::BTreeMap;

use quote::ToTokens;

/// One item of the API: what it is (`method`, `struct`, `enum`, `type`, `field`, `variant`)
/// and its Rust spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    kind: &'static str,
    signature: String,
}

/// The Rust API of one generated client: item path -> item.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Api {
    items: BTreeMap<String, Item>,
}

fn tokens(t: &impl ToTokens) -> String {
    let s = t.to_token_stream().to_string();
    s.replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}

fn is_pub(v: &syn::Visibility) -> bool {
    matches!(v, syn::Visibility::Public(_))
}

impl Api {
    /// The API of `code` (a generated client: `impl Client`, `mod types`, `mod builder`).
    pub fn of(code: &str) -> Result<Api, String> {
        let mut api = Api::default();
        // methods: the surface's one line per operation (setters and `send()`'s answer)
        let surface = agentstatus_codegen::surface(code).map_err(|e| e.to_string())?;
        for line in surface.lines() {
            let name = line.split('(').next().unwrap_or(line).to_string();
            api.items.insert(
                format!("Client::{name}"),
                Item {
                    kind: "method",
                    signature: line.to_string(),
                },
            );
        }
        let file: syn::File = syn::parse_str(code).map_err(|e| e.to_string())?;
        for item in &file.items {
            if let syn::Item::Mod(m) = item
                && m.ident == "types"
                && let Some((_, items)) = &m.content
            {
                for it in items {
                    api.add_type(it);
                }
            }
        }
        Ok(api)
    }

    fn insert(&mut self, path: String, kind: &'static str, signature: String) {
        self.items.insert(path, Item { kind, signature });
    }

    fn add_type(&mut self, it: &syn::Item) {
        match it {
            syn::Item::Struct(s) if is_pub(&s.vis) => {
                let name = format!("types::{}", s.ident);
                self.insert(name.clone(), "struct", format!("struct {}", s.ident));
                for (i, f) in s.fields.iter().enumerate() {
                    if !is_pub(&f.vis) {
                        continue;
                    }
                    let field = f
                        .ident
                        .as_ref()
                        .map_or_else(|| i.to_string(), ToString::to_string);
                    self.insert(
                        format!("{name}.{field}"),
                        "field",
                        format!("{field}: {}", tokens(&f.ty)),
                    );
                }
            }
            syn::Item::Enum(e) if is_pub(&e.vis) => {
                let name = format!("types::{}", e.ident);
                self.insert(name.clone(), "enum", format!("enum {}", e.ident));
                for v in &e.variants {
                    let fields = match &v.fields {
                        syn::Fields::Unit => String::new(),
                        other => tokens(other),
                    };
                    self.insert(
                        format!("{name}::{}", v.ident),
                        "variant",
                        format!("{}{fields}", v.ident),
                    );
                }
            }
            syn::Item::Type(t) if is_pub(&t.vis) => {
                self.insert(
                    format!("types::{}", t.ident),
                    "type",
                    format!("type {} = {}", t.ident, tokens(&t.ty)),
                );
            }
            _ => {}
        }
    }
}

/// A change of the Rust API, for a changelog section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiChange {
    /// `Added`, `Removed` or `Changed`.
    pub section: &'static str,
    /// The line: what, where, from what to what.
    pub line: String,
}

/// What changed from `old` to `new`. An item inside a type that was itself added or removed is
/// not listed again (the type's line says it).
pub fn changes(old: &Api, new: &Api) -> Vec<ApiChange> {
    let mut out = Vec::new();
    let owner_is = |api: &Api, path: &str| -> bool {
        // `types::A.f` and `types::A::V` belong to `types::A`
        let owner = path.rsplit_once('.').map(|(o, _)| o).or_else(|| {
            path.strip_prefix("types::")
                .and_then(|rest| rest.split_once("::"))
                .map(|(t, _)| &path[..7 + t.len()])
        });
        owner.is_some_and(|o| api.items.contains_key(o))
    };
    for (path, item) in &old.items {
        match new.items.get(path) {
            None => {
                if (item.kind == "field" || item.kind == "variant") && !owner_is(new, path) {
                    continue;
                }
                out.push(ApiChange {
                    section: "Removed",
                    line: format!("{} `{path}`", item.kind),
                });
            }
            Some(now) if now.signature != item.signature => out.push(ApiChange {
                section: "Changed",
                line: format!(
                    "{} `{path}`: `{}` -> `{}`",
                    item.kind, item.signature, now.signature
                ),
            }),
            Some(_) => {}
        }
    }
    for (path, item) in &new.items {
        if old.items.contains_key(path) {
            continue;
        }
        if (item.kind == "field" || item.kind == "variant") && !owner_is(old, path) {
            continue;
        }
        out.push(ApiChange {
            section: "Added",
            line: format!("{} `{path}`: `{}`", item.kind, item.signature),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"
        pub mod types {
            pub struct Agent { pub id: i64, pub availability_status: Option<String>, secret: u8 }
            pub enum Status { Online, Busy, Other(String) }
            pub struct Gone { pub x: i64 }
        }
        pub struct Client;
        impl Client {
            pub fn list_agents(&self) -> builder::ListAgents<'_> { todo!() }
        }
        pub mod builder {
            pub struct ListAgents<'a> { client: &'a super::Client }
            impl<'a> ListAgents<'a> {
                pub async fn send(self) -> Result<ResponseValue<Vec<types::Agent>>, Error<()>> { todo!() }
            }
        }
    "#;

    #[test]
    fn fields_variants_types_and_methods() {
        let new = OLD
            .replace(
                "pub availability_status: Option<String>,",
                "pub availability: Option<String>, pub role: String,",
            )
            .replace("Busy,", "Busy, Away,")
            .replace(
                "pub struct Gone { pub x: i64 }",
                "pub struct New { pub y: i64 }",
            )
            .replace("pub id: i64", "pub id: String");
        let changes = changes(&Api::of(OLD).unwrap(), &Api::of(&new).unwrap());
        let lines: Vec<String> = changes
            .iter()
            .map(|c| format!("{}: {}", c.section, c.line))
            .collect();
        for want in [
            "Removed: field `types::Agent.availability_status`",
            "Added: field `types::Agent.availability`: `availability: Option<String>`",
            "Added: field `types::Agent.role`: `role: String`",
            "Added: variant `types::Status::Away`: `Away`",
            "Changed: field `types::Agent.id`: `id: i64` -> `id: String`",
            "Removed: struct `types::Gone`",
            "Added: struct `types::New`: `struct New`",
        ] {
            assert!(lines.contains(&want.to_string()), "{want}\n{lines:#?}");
        }
        // the fields of a type added or removed are in its line, and private fields never
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("Gone.x") || l.contains("New.y") || l.contains("secret")),
            "{lines:#?}"
        );
        assert_eq!(lines.len(), 7, "{lines:#?}");
    }

    #[test]
    fn the_same_code_has_no_change_and_methods_are_items() {
        let api = Api::of(OLD).unwrap();
        assert!(changes(&api, &api).is_empty());
        assert!(api.items.contains_key("Client::list_agents"), "{api:?}");
        let renamed = OLD.replace("list_agents", "list_all_agents");
        let lines = changes(&api, &Api::of(&renamed).unwrap());
        assert!(
            lines
                .iter()
                .any(|c| c.section == "Removed" && c.line == "method `Client::list_agents`"),
            "{lines:?}"
        );
    }
}
