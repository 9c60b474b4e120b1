//! A summary of a generated client's public surface — each operation method, its builder's
//! setters and what `send()` returns — small enough to keep as a golden file for the full APIs,
//! where the whole generated code would be too big to review.

use quote::ToTokens;

fn tokens(t: &impl ToTokens) -> String {
    let s = t.to_token_stream().to_string();
    // a stable, readable spelling: no spaces around path separators and angle brackets
    s.replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& '", "&'")
}

/// One line per operation: `name(setter: Type, ...) -> SendReturnType`, sorted.
pub fn surface(code: &str) -> Result<String, syn::Error> {
    let file: syn::File = syn::parse_str(code)?;
    let mut builders: std::collections::BTreeMap<String, (Vec<String>, String)> =
        Default::default();
    let mut operations: Vec<(String, String)> = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Impl(imp) if tokens(&imp.self_ty) == "Client" && imp.trait_.is_none() => {
                for it in &imp.items {
                    if let syn::ImplItem::Fn(f) = it
                        && let syn::ReturnType::Type(_, ty) = &f.sig.output
                    {
                        let ret = tokens(ty);
                        if let Some(b) = ret.strip_prefix("builder::") {
                            let name = b.split('<').next().unwrap_or(b).to_string();
                            operations.push((f.sig.ident.to_string(), name));
                        }
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "builder" => {
                for it in m.content.iter().flat_map(|(_, items)| items) {
                    let syn::Item::Impl(imp) = it else { continue };
                    let ty = tokens(&imp.self_ty);
                    let name = ty.split('<').next().unwrap_or(&ty).to_string();
                    let entry = builders.entry(name).or_default();
                    for f in imp.items.iter().filter_map(|i| match i {
                        syn::ImplItem::Fn(f) => Some(f),
                        _ => None,
                    }) {
                        let ident = f.sig.ident.to_string();
                        if ident == "send" {
                            if let syn::ReturnType::Type(_, ty) = &f.sig.output {
                                entry.1 = tokens(ty);
                            }
                        } else if ident != "new" {
                            // the setter's value type is its `where V: TryInto<T>` bound
                            let bound = f
                                .sig
                                .generics
                                .where_clause
                                .as_ref()
                                .map(tokens)
                                .unwrap_or_default();
                            let ty = bound
                                .split_once("TryInto<")
                                .and_then(|(_, t)| t.rfind('>').map(|end| t[..end].trim()))
                                .unwrap_or("?")
                                .to_string();
                            entry.0.push(format!("{ident}: {ty}"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    operations.sort();
    let mut out = String::new();
    for (op, builder) in operations {
        let (setters, ret) = builders.get(&builder).cloned().unwrap_or_default();
        out.push_str(&format!("{op}({}) -> {ret}\n", setters.join(", ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn summarises_operations_setters_and_return_types() {
        let code = r#"
            pub struct Client;
            impl Client { pub fn get_thing(&self) -> builder::GetThing<'_> { todo!() } }
            pub mod builder {
                pub struct GetThing<'a> { c: &'a super::Client }
                impl<'a> GetThing<'a> {
                    pub fn new(c: &'a super::Client) -> Self { todo!() }
                    pub fn id<V>(mut self, value: V) -> Self where V: std::convert::TryInto<::std::string::String> { todo!() }
                    pub fn ids<V>(mut self, value: V) -> Self where V: std::convert::TryInto<::std::vec::Vec<::std::string::String>> { todo!() }
                    pub async fn send(self) -> Result<ResponseValue<types::Thing>, Error<()>> { todo!() }
                }
            }
        "#;
        assert_eq!(
            super::surface(code).unwrap(),
            "get_thing(id: ::std::string::String, ids: ::std::vec::Vec<::std::string::String>) -> Result<ResponseValue<types::Thing>, Error<()>>\n"
        );
    }
}
