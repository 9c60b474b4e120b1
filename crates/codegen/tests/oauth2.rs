//! An `oauth2` scheme with a `clientCredentials` flow becomes `Client::with_<scheme>` (client id
//! and secret, the document's token URL and scopes as defaults), `Client::<scheme>_credentials`
//! and `Client::with_<scheme>_credentials`. The code generated from the runtime's test document
//! (`crates/runtime/tests/oauth2/spec.yaml`) is kept in `crates/runtime/tests/oauth2/client.rs`,
//! which the runtime's `tests/oauth2.rs` compiles and runs against a token server on 127.0.0.1.
//! After an intended change: `EXPECTORATE=overwrite cargo test -p agentstatus-codegen --test oauth2`.

use std::path::Path;

use agentstatus_codegen::{Codegen, load_file};

fn generate(path: &Path) -> String {
    let doc = load_file(path).unwrap();
    Codegen::document(doc, path)
        .isolate(false)
        .prepare()
        .unwrap()
        .generate()
        .unwrap()
        .code
}

#[test]
fn the_runtime_test_client_is_the_generators_output() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/tests/oauth2/spec.yaml");
    let code = generate(&spec);
    let flat: String = code.split_whitespace().collect();
    for shows in [
        // the constructor with the document's defaults
        "pub fn with_azure_ad(base_url: &str, client_id: &str, client_secret: ::agentstatus_runtime::SecretString, config: &::agentstatus_runtime::ClientConfig,) -> ::std::result::Result<Self, ::agentstatus_runtime::BuildError>",
        // the defaults: the flow's tokenUrl, the scopes the operations require
        "::agentstatus_runtime::ClientCredentials::new(client_id, client_secret, \"https://login.example.com/{tenant}/oauth2/v2.0/token\",).with_scopes([\"Presence.Read.All\", \"Presence.ReadWrite.All\"])",
        // overriding them
        "pub fn with_azure_ad_credentials(base_url: &str, credentials: ::agentstatus_runtime::ClientCredentials, config: &::agentstatus_runtime::ClientConfig,)",
        "::agentstatus_runtime::connect_oauth2(base_url, headers, credentials, config,)?",
    ] {
        let shows: String = shows.split_whitespace().collect();
        assert!(flat.contains(&shows), "no `{shows}` in\n{code}");
    }
    assert!(!code.contains("No auth constructor"), "{code}");
    expectorate::assert_contents("../runtime/tests/oauth2/client.rs", &code);
}

#[test]
fn other_flows_are_reported_not_generated_with_a_reason() {
    // a scratch directory of an unpredictable name, removed when dropped
    let dir = tempfile::Builder::new()
        .prefix("oauth2-flows-")
        .tempdir()
        .unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        r#"
openapi: 3.0.3
info: {title: t, version: "1"}
security: [{code: [read]}, {key: []}]
components:
  securitySchemes:
    code:
      type: oauth2
      flows:
        authorizationCode: {authorizationUrl: "https://x.example/a", tokenUrl: "https://x.example/t", scopes: {read: r}}
        implicit: {authorizationUrl: "https://x.example/a", scopes: {read: r}}
    key: {type: apiKey, in: header, name: X-Key}
paths:
  /a:
    get:
      operationId: get_a
      responses: {"200": {description: ok}}
"#,
    )
    .unwrap();
    let code = generate(&spec);
    assert!(code.contains("pub fn with_key("), "{code}");
    assert!(!code.contains("fn with_code"), "{code}");
    assert!(
        code.contains("No auth constructor: `code` (/components/securitySchemes/code): OAuth 2.0 flow `authorizationCode`, `implicit` needs a user"),
        "{code}"
    );
    dir.close().unwrap();
}
