//! The tests of the passes (one module per former pass table).

mod normalise_tests {

    use crate::passes::enums::*;
    use crate::passes::names::*;
    use crate::passes::parameters::*;
    use crate::passes::refs::*;
    use crate::passes::types::*;

    use crate::passes::examples::*;

    use crate::passes::Changes;
    use serde_json::{Value, json};

    #[test]
    fn patterns_that_can_backtrack_exponentially_are_found() {
        for risky in [
            "(a+)+",
            "^(a|aa)*$",
            "^(\\w+\\s?)*$",
            "(x+x+)+y",
            "((ab)*c)+",
            "(?:a*){2,}",
            "a{100000}",
            "a{2,99999999999999999999999}",
            "(a)\\1",
        ] {
            assert!(backtracking_risk(risky).is_some(), "{risky}");
        }
        assert!(backtracking_risk(&"a".repeat(MAX_PATTERN + 1)).is_some());
        for safe in [
            "^[a-z0-9]+$",
            "^WK[0-9a-fA-F]{32}$",
            "^(?:[a-z]+)$",
            "^\\d{3}-\\d{4}$",
            "^(ab)+$",
            "^[^@]+@[^@]+\\.[a-z]{2,}$",
            "^https?://",
            "^(?<year>\\d{4})-(?<month>\\d{2})$",
            "[(+*]+",
            "^a{3}(bc)?$",
        ] {
            assert_eq!(backtracking_risk(safe), None, "{safe}");
        }
    }

    #[test]
    fn boolean_required_moves_to_where_openapi_3_reads_it() {
        let mut doc = json!({
            "paths": {"/p": {"get": {"parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string", "required": true}},
                {"name": "r", "in": "query", "required": false, "schema": {"type": "string", "required": true}}
            ]}}},
            "components": {"schemas": {
                "P": {"type": "object", "required": ["a"], "properties": {
                    "a": {"type": "string", "required": true},
                    "b": {"type": "string", "required": true},
                    "c": {"type": "string", "required": false},
                    "d": {"type": "object", "properties": {"e": {"type": "integer", "required": true}}}
                }},
                "Q": {"type": "string", "required": true}
            }}
        });
        let mut changes = Changes::default();
        boolean_required(&mut doc, &mut changes);
        let params = &doc["paths"]["/p"]["get"]["parameters"];
        assert_eq!(params[0]["required"], true);
        assert!(params[0]["schema"].get("required").is_none());
        // the parameter's own word stands
        assert_eq!(params[1]["required"], false);
        assert!(params[1]["schema"].get("required").is_none());
        let p = &doc["components"]["schemas"]["P"];
        assert_eq!(p["required"], json!(["a", "b"]));
        assert!(p["properties"]["c"].get("required").is_none());
        assert_eq!(p["properties"]["d"]["required"], json!(["e"]));
        assert!(doc["components"]["schemas"]["Q"].get("required").is_none());
        let at: Vec<&str> = changes.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(changes.len(), 7, "{at:?}");
        assert!(
            at.contains(&"/components/schemas/P/properties/b/required"),
            "{at:?}"
        );
        // nothing to do the second time
        let mut again = Changes::default();
        boolean_required(&mut doc, &mut again);
        assert!(again.is_empty(), "{:?}", &*again);
    }

    #[test]
    fn deep_refs_never_multiply_the_document() {
        // a large part, and many references into it
        let big: serde_json::Map<String, Value> = (0..200)
            .map(|i| (format!("f{i}"), json!({"type": "string"})))
            .collect();
        let mut schemas = serde_json::Map::new();
        schemas.insert("Big".into(), json!({"type": "object", "properties": {"inner": {"type": "object", "properties": big}}}));
        for i in 0..50 {
            schemas.insert(
                format!("U{i}"),
                json!({"type": "object", "properties": {"a": {"$ref": "#/components/schemas/Big/properties/inner"}}}),
            );
        }
        let mut doc = json!({"components": {"schemas": schemas}});
        let before = crate::nav::node_count(&doc);
        let mut changes = Changes::default();
        deep_refs(&mut doc, &mut changes);
        assert!(crate::nav::node_count(&doc) <= 2 * before);
        assert_eq!(changes.len(), 50, "{changes:?}");
        let copied = changes
            .iter()
            .filter(|c| c.message.contains("replaced by a copy"))
            .count();
        assert!((1..50).contains(&copied), "{copied}");
        let last = &doc["components"]["schemas"]["U49"]["properties"]["a"];
        assert!(
            last.get("$ref").is_none()
                && last["description"]
                    .as_str()
                    .unwrap()
                    .starts_with("Any JSON value"),
            "{last}"
        );
    }

    #[test]
    fn a_default_answer_is_walked_like_any_answer() {
        let mut doc = json!({"paths": {"/a": {"get": {"responses": {"default": {
            "description": "error",
            "content": {"application/json": {"schema": {"type": "integer"}, "example": "x"}}
        }}}}}});
        let mut changes = Changes::default();
        contradicting_examples(&mut doc, &mut changes);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            changes[0].pointer,
            "/paths/~1a/get/responses/default/content/application~1json/example"
        );
    }

    #[test]
    fn string_booleans_but_not_in_examples() {
        let mut doc = json!({"components": {"parameters": {"A": {"required": "true", "example": {"required": "true"}}}}});
        let mut c = Changes::default();
        string_booleans(&mut doc, &mut c);
        assert_eq!(doc["components"]["parameters"]["A"]["required"], true);
        assert_eq!(
            doc["components"]["parameters"]["A"]["example"]["required"],
            "true"
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].pointer, "/components/parameters/A/required");
    }

    #[test]
    fn format_without_type_is_fixed() {
        let mut doc = json!({"a": {"schema": {"format": "object"}}, "b": {"format": "int32"}, "c": {"type": "string", "format": "x"}, "d": {"format": "weird"}});
        let mut c = Changes::default();
        format_without_type(&mut doc, &mut c);
        assert_eq!(doc["a"]["schema"], json!({"type": "object"}));
        assert_eq!(doc["b"], json!({"format": "int32", "type": "integer"}));
        assert_eq!(doc["c"], json!({"type": "string", "format": "x"}));
        assert_eq!(doc["d"], json!({"format": "weird"}));
        assert_eq!(
            c.iter().map(|c| c.pointer.as_str()).collect::<Vec<_>>(),
            ["/a/schema", "/b"]
        );
    }

    #[test]
    fn path_parameters_become_required() {
        let mut doc = json!({"paths": {"/a/{id}": {"get": {"parameters": [{"name": "id", "in": "path"}, {"name": "q", "in": "query"}]}}}});
        let mut c = Changes::default();
        path_parameters_required(&mut doc, &mut c);
        assert_eq!(
            doc["paths"]["/a/{id}"]["get"]["parameters"][0]["required"],
            true
        );
        assert!(
            doc["paths"]["/a/{id}"]["get"]["parameters"][1]
                .get("required")
                .is_none()
        );
        assert_eq!(c[0].pointer, "/paths/~1a~1{id}/get/parameters/0");
    }

    #[test]
    fn enum_values_decide_a_contradicted_type() {
        let mut doc = json!({
            "a": {"type": "integer", "enum": ["draft", "published"]},
            "b": {"type": "boolean", "enum": ["true", "=1", true]},
            "c": {"type": "integer", "enum": [1, "x", 2.5]}
        });
        let mut c = Changes::default();
        enum_value_types(&mut doc, &mut c);
        assert_eq!(
            doc["a"],
            json!({"type": "string", "enum": ["draft", "published"]})
        );
        assert_eq!(doc["b"], json!({"type": "boolean", "enum": [true]}));
        assert_eq!(doc["c"], json!({"type": "integer", "enum": [1]}));
        assert_eq!(c[0].pointer, "/a/type");
    }

    #[test]
    fn identical_paths_become_one() {
        let mut doc = json!({"paths": {
            "/c/{cuuid}/m": {"get": {"parameters": [{"name": "cuuid", "in": "path", "required": true}]}},
            "/c/{uuid}/m": {"parameters": [{"name": "uuid", "in": "path", "required": true}], "post": {}},
            "/d/{x}": {"get": {}}, "/d/{y}": {"get": {}}
        }});
        let mut c = Changes::default();
        identical_paths(&mut doc, &mut c);
        let item = &doc["paths"]["/c/{cuuid}/m"];
        assert_eq!(item["post"]["parameters"][0]["name"], "cuuid");
        assert!(doc["paths"].get("/c/{uuid}/m").is_none());
        // the same method on both: left for the author
        assert!(doc["paths"].get("/d/{y}").is_some());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].pointer, "/paths/~1c~1{uuid}~1m");
    }

    #[test]
    fn a_path_parameter_declared_again_for_the_whole_path_stands_alone() {
        // Kubernetes: `{path}` and the query parameter `path`, both for the whole path item
        let mut doc = json!({
            "components": {"parameters": {"q": {"name": "path", "in": "query"}}},
            "paths": {"/nodes/{name}/proxy/{path}": {
                "parameters": [
                    {"name": "name", "in": "path", "required": true},
                    {"name": "path", "in": "path", "required": true},
                    {"$ref": "#/components/parameters/q"},
                    {"name": "name", "in": "header"},
                    {"name": "other", "in": "query"}
                ],
                "get": {}
            },
            // a name only declared elsewhere for the whole path: the operation's own
            // declaration as a path parameter decides, nothing removed here
            "/a/{id}": {"parameters": [{"name": "id", "in": "query"}], "get": {"parameters": [{"name": "id", "in": "path", "required": true}]}}
        }});
        let mut c = Changes::default();
        path_parameters_declared(&mut doc, &mut c);
        assert_eq!(
            doc["paths"]["/nodes/{name}/proxy/{path}"]["parameters"],
            json!([
                {"name": "name", "in": "path", "required": true},
                {"name": "path", "in": "path", "required": true},
                {"name": "other", "in": "query"}
            ])
        );
        assert_eq!(
            doc["paths"]["/a/{id}"]["parameters"],
            json!([{"name": "id", "in": "query"}])
        );
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(
            c.iter()
                .all(|c| c.pointer == "/paths/~1nodes~1{name}~1proxy~1{path}/parameters"),
            "{c:?}"
        );
    }

    #[test]
    fn path_parameters_follow_the_template() {
        let mut doc = json!({"paths": {
            "/accounts/{id}": {
                "parameters": [{"name": "account_id", "in": "path", "required": true}],
                "get": {"parameters": [{"name": "id", "in": "query", "schema": {"type": "integer"}}]},
                "patch": {"parameters": [{"name": "other", "in": "path"}, {"name": "id", "in": "path"}]}
            },
            "/m/{rid}": {"get": {}}
        }});
        let mut c = Changes::default();
        path_parameters_declared(&mut doc, &mut c);
        let item = &doc["paths"]["/accounts/{id}"];
        assert_eq!(item["parameters"], json!([]));
        assert_eq!(
            item["get"]["parameters"],
            json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}])
        );
        assert_eq!(
            item["patch"]["parameters"],
            json!([{"name": "id", "in": "path"}])
        );
        assert_eq!(
            doc["paths"]["/m/{rid}"]["get"]["parameters"][0]["name"],
            "rid"
        );
        assert_eq!(c.len(), 4, "{c:?}");
    }

    #[test]
    fn operation_ids_become_identifiers_and_unique() {
        let mut doc = json!({"paths": {
            "/a": {"get": {"operationId": "post-api-v1-livechat-agent.status"}, "post": {"operationId": "post_api_v1_livechat_agent_status"}},
            "/b/{x}": {"get": {}, "put": {"operationId": "1st:op"}}
        }});
        let mut c = Changes::default();
        operation_ids(&mut doc, &mut c);
        assert_eq!(
            doc["paths"]["/a"]["get"]["operationId"],
            "post_api_v1_livechat_agent_status"
        );
        assert_eq!(
            doc["paths"]["/a"]["post"]["operationId"],
            "post_api_v1_livechat_agent_status_2"
        );
        assert_eq!(doc["paths"]["/b/{x}"]["get"]["operationId"], "get_b_x");
        assert_eq!(doc["paths"]["/b/{x}"]["put"]["operationId"], "op_1st_op");
        assert_eq!(c.len(), 4);
        // a sentence (Sentry's): an apostrophe joins its word
        let mut doc = json!({"paths": {"/a": {
            "get": {"operationId": "List a Project's Issues"},
            "put": {"operationId": "Update an Integration\u{2019}s Config"}
        }}});
        operation_ids(&mut doc, &mut Changes::default());
        assert_eq!(
            doc["paths"]["/a"]["get"]["operationId"],
            "List_a_Projects_Issues"
        );
        assert_eq!(
            doc["paths"]["/a"]["put"]["operationId"],
            "Update_an_Integrations_Config"
        );
    }

    #[test]
    fn names_from_paths_leave_out_the_prefix_every_path_shares_and_stay_unique() {
        let mut doc = json!({"paths": {
            "/api/v1/users": {"get": {}, "post": {}},
            "/api/v1/users/{id}": {"get": {}},
            "/api/v1/user-list": {"get": {}},
            // the same name once the prefix is gone, and once made an identifier
            "/api/v1/user_list": {"get": {}},
            "/api/v1/teams.info": {"get": {"operationId": "getTeamsInfo"}},
            "/api/v1/teams/info": {"get": {}}
        }});
        let mut c = Changes::default();
        operation_ids(&mut doc, &mut c);
        let id = |p: &str, m: &str| {
            doc["paths"][p][m]["operationId"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(id("/api/v1/users", "get"), "get_users");
        assert_eq!(id("/api/v1/users", "post"), "post_users");
        assert_eq!(id("/api/v1/users/{id}", "get"), "get_users_id");
        assert_eq!(id("/api/v1/user-list", "get"), "get_user_list");
        assert_eq!(id("/api/v1/user_list", "get"), "get_user_list_2");
        // an operationId that exists is kept; a derived one that would give its method
        // (`get_teams_info`) is the one renamed
        assert_eq!(id("/api/v1/teams.info", "get"), "getTeamsInfo");
        assert_eq!(id("/api/v1/teams/info", "get"), "get_teams_info_2");
        assert!(
            c.iter().any(
                |c| c.pointer == "/paths/~1api~1v1~1user_list/get/operationId"
                    && c.message.contains("earlier operation")
            ),
            "{c:?}"
        );
        // a path's last segment is never left out, nor a parameter
        let mut doc = json!({"paths": {"/v2/{org}/a": {"get": {}}, "/v2/{org}/b": {"get": {}}}});
        operation_ids(&mut doc, &mut Changes::default());
        assert_eq!(
            doc["paths"]["/v2/{org}/a"]["get"]["operationId"],
            "get_org_a"
        );
        let mut doc = json!({"paths": {"/api/v1/users": {"get": {}}}});
        operation_ids(&mut doc, &mut Changes::default());
        assert_eq!(
            doc["paths"]["/api/v1/users"]["get"]["operationId"],
            "get_users"
        );
    }

    #[test]
    fn generated_operation_ids_become_their_function_names() {
        let mut doc = json!({"paths": {
            "/v1/models": {"get": {"operationId": "list_models_v1_models_get"}},
            "/v1/models/{model_id}": {
                "get": {"operationId": "retrieve_model_v1_models__model_id__get"},
                "delete": {"operationId": "delete_model_v1_models__model_id__delete"}
            },
            // the same function routed twice: both keep their ids
            "/v1/chat/completions": {"post": {"operationId": "chat_completion_v1_chat_completions_post"}},
            "/v2/chat/completions": {"post": {"operationId": "chat_completion_v2_chat_completions_post"}},
            // a name another operation's id already gives: kept whole
            "/v1/files": {"get": {"operationId": "list_files_v1_files_get"}},
            "/v1/files/all": {"get": {"operationId": "listFiles"}},
            // not the path and method of its own operation
            "/v1/agents": {"get": {"operationId": "agents_api_v1_agents_list"}, "post": {"operationId": "create_v1_agents_get"}},
            // no name before the path
            "/x": {"get": {"operationId": "_x_get"}}
        }});
        let mut c = Changes::default();
        operation_ids(&mut doc, &mut c);
        let id = |p: &str, m: &str| {
            doc["paths"][p][m]["operationId"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(id("/v1/models", "get"), "list_models");
        assert_eq!(id("/v1/models/{model_id}", "get"), "retrieve_model");
        assert_eq!(id("/v1/models/{model_id}", "delete"), "delete_model");
        assert_eq!(
            id("/v1/chat/completions", "post"),
            "chat_completion_v1_chat_completions_post"
        );
        assert_eq!(
            id("/v2/chat/completions", "post"),
            "chat_completion_v2_chat_completions_post"
        );
        assert_eq!(id("/v1/files", "get"), "list_files_v1_files_get");
        assert_eq!(id("/v1/files/all", "get"), "listFiles");
        assert_eq!(id("/v1/agents", "get"), "agents_api_v1_agents_list");
        assert_eq!(id("/v1/agents", "post"), "create_v1_agents_get");
        assert_eq!(id("/x", "get"), "_x_get");
        assert_eq!(c.len(), 3, "{c:?}");
        assert!(
            c.iter()
                .all(|c| c.message.contains("FastAPI") && c.message.len() < 200),
            "{c:?}"
        );
    }

    #[test]
    fn operation_ids_that_give_one_method_or_builder_are_told_apart() {
        // `getUser` and `get_user` are both the method `get_user`; `a1` and `a_1` both `A1`
        let mut doc = json!({"paths": {
            "/a": {"get": {"operationId": "getUser"}, "put": {"operationId": "get_user"}},
            "/b": {"get": {"operationId": "a1"}, "put": {"operationId": "a_1"}}
        }});
        let mut c = Changes::default();
        operation_ids(&mut doc, &mut c);
        assert_eq!(doc["paths"]["/a"]["get"]["operationId"], "getUser");
        assert_eq!(doc["paths"]["/a"]["put"]["operationId"], "get_user_2");
        assert_eq!(doc["paths"]["/b"]["get"]["operationId"], "a1");
        assert_eq!(doc["paths"]["/b"]["put"]["operationId"], "a_1_2");
        assert_eq!(c.len(), 2, "{c:?}");
    }
}

mod fixes_tests {

    use crate::passes::bodies::*;
    use crate::passes::names::*;
    use crate::passes::parameters::*;
    use crate::passes::responses::*;

    use crate::passes::Changes;
    use serde_json::json;

    #[test]
    fn multipart_operation_is_skipped_and_named_json_kept_among_several() {
        let mut doc = json!({"paths": {
            "/up": {"post": {"requestBody": {"content": {"multipart/form-data": {"schema": {}}}}, "responses": {}}},
            "/two": {"put": {"requestBody": {"content": {"text/csv": {}, "application/json": {"schema": {}}}}, "responses": {}}}
        }});
        let mut c = Changes::default();
        unsupported_request_bodies(&mut doc, &mut c);
        assert!(doc["paths"]["/up"].get("post").is_none());
        assert_eq!(
            doc["paths"]["/two"]["put"]["requestBody"]["content"]
                .as_object()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].pointer, "/paths/~1up/post");
    }

    #[test]
    fn different_error_schemas_are_merged() {
        let mut doc = json!({"paths": {"/a": {"get": {"responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "string"}}}},
            "400": {"description": "bad", "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}, "errorType": {"type": "string"}}}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"}
        }}}},
        "components": {"responses": {"Unauthorized": {"description": "no", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string"}, "error": {"type": "integer"}}}}}}}}});
        let mut c = Changes::default();
        one_response_type(&mut doc, &mut c);
        let r = &doc["paths"]["/a"]["get"]["responses"];
        assert_eq!(r["400"]["content"], r["401"]["content"]);
        let props = &r["401"]["content"]["application/json"]["schema"]["properties"];
        assert_eq!(props["status"]["type"], "string");
        assert_eq!(props["error"], json!({}), "defined differently: any JSON");
        assert_eq!(r["401"]["description"], "no");
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn a_body_of_bytes_is_sent_with_its_declared_type_and_restored() {
        let mut doc = json!({"paths": {
            "/load": {"post": {"operationId": "load", "requestBody": {"content": {
                "application/x-tar": {"schema": {"type": "string", "format": "binary"}}}}}},
            "/xml": {"post": {"operationId": "xml", "requestBody": {"content": {
                "application/xml": {"schema": {"type": "string"}}}}}},
            "/both": {"post": {"operationId": "both", "requestBody": {"content": {
                "image/png": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}}}}}},
            "/object": {"post": {"operationId": "object", "requestBody": {"content": {
                "application/zip": {"schema": {"type": "object"}}}}}}
        }});
        let before = doc.clone();
        let mut c = Changes::default();
        json_media_types(&mut doc, &mut c);
        let load = &doc["paths"]["/load"]["post"];
        assert_eq!(
            load["requestBody"]["content"],
            json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}})
        );
        assert_eq!(
            load[MEDIA_TYPES],
            json!({"content-type": "application/x-tar"})
        );
        // XML, a body with a type progenitor sends, and a structure are not bytes
        for p in ["/xml", "/both", "/object"] {
            assert_eq!(doc["paths"][p], before["paths"][p], "{p}");
        }
        assert_eq!(c.len(), 1, "{c:?}");
        restore_media_types(&mut doc);
        assert_eq!(doc, before);
    }

    #[test]
    fn error_answers_are_made_one_kind() {
        // a body-less 401 and a text 404 beside a JSON 400 whose body has any schema
        let mut doc = json!({"paths": {"/a": {"delete": {"responses": {
            "204": {"description": "deleted"},
            "400": {"description": "bad", "content": {"application/json": {"schema": {}}}},
            "401": {"description": "refused"},
            "404": {"description": "missing", "content": {"text/plain": {"schema": {}}}},
            "101": {"description": "switched"}
        }}}}});
        let mut c = Changes::default();
        one_response_type(&mut doc, &mut c);
        let r = &doc["paths"]["/a"]["delete"]["responses"];
        for code in ["400", "401", "404"] {
            assert_eq!(
                r[code]["content"],
                json!({"application/json": {"schema": {}}}),
                "{code}"
            );
        }
        assert_eq!(r["401"]["description"], "refused");
        assert!(r.get("101").is_none(), "a protocol switch beside a 2xx");
        assert!(r.get("204").is_some());
        assert_eq!(c.len(), 2, "{c:?}");
    }

    #[test]
    fn a_lone_protocol_switch_stays() {
        let mut doc = json!({"paths": {"/a": {"get": {"responses": {
            "101": {"description": "switched"},
            "404": {"description": "missing"}
        }}}}});
        let before = doc.clone();
        let mut c = Changes::default();
        one_response_type(&mut doc, &mut c);
        assert_eq!(doc, before);
        assert!(c.is_empty());
    }

    #[test]
    fn bodyless_success_beside_a_body_is_dropped() {
        let mut doc = json!({"paths": {"/a": {"post": {"responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "string"}}}},
            "204": {"description": "none"}
        }}}}});
        let mut c = Changes::default();
        one_response_type(&mut doc, &mut c);
        assert!(doc["paths"]["/a"]["post"]["responses"].get("204").is_none());
    }

    #[test]
    fn schema_less_json_response_gets_any() {
        let mut doc = json!({"paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {}}}}}}}});
        let mut c = Changes::default();
        responses_without_schema(&mut doc, &mut c);
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
            json!({})
        );
    }

    #[test]
    fn colliding_parameter_names_are_all_kept_under_names_of_their_own() {
        let mut doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "to[]", "in": "query"}, {"name": "to", "in": "query"}, {"name": "from", "in": "query"}
        ]}}}});
        let mut c = Changes::default();
        colliding_parameters(&mut doc, &mut c);
        let names: Vec<&str> = doc["paths"]["/a"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        // the plainest name is kept, the other is named from its punctuation
        assert_eq!(names, ["to_list", "to", "from"]);
        assert_eq!(
            doc["paths"]["/a"]["get"][WIRE_NAMES],
            json!({"to_list": "to[]"})
        );
        assert_eq!(c[0].pointer, "/paths/~1a/get/parameters/0");
        restore_wire_names(&mut doc);
        assert_eq!(doc["paths"]["/a"]["get"]["parameters"][0]["name"], "to[]");
        assert!(doc["paths"]["/a"]["get"].get(WIRE_NAMES).is_none());
    }

    #[test]
    fn colliding_path_parameters_are_told_apart_in_the_template() {
        let mut doc = json!({"paths": {"/a/{a-b}/{a_b}": {
            "parameters": [{"name": "a_b", "in": "path", "required": true}],
            "get": {"parameters": [
                {"name": "a-b", "in": "path", "required": true}, {"name": "a.b", "in": "query"}
            ]},
            "put": {"parameters": [{"$ref": "#/components/parameters/AB"}]}
        }, "/z": {}}, "components": {"parameters": {"AB": {"name": "a-b", "in": "path", "required": true}}}});
        let mut c = Changes::default();
        colliding_parameters(&mut doc, &mut c);
        // the path keeps its place among the paths, under its new template
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        assert_eq!(paths, ["/a/{a_dash_b}/{a_b}", "/z"]);
        let item = &doc["paths"]["/a/{a_dash_b}/{a_b}"];
        let names = |list: &serde_json::Value| -> Vec<String> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect()
        };
        // every operation has both path parameters (the path item's declared on each, as the
        // query `a.b` collides with the path item's `a_b`), the query one renamed too
        assert_eq!(
            names(&item["get"]["parameters"]),
            ["a_b", "a_dash_b", "a_dot_b"]
        );
        assert_eq!(names(&item["put"]["parameters"]), ["a_b", "a_dash_b"]);
        assert!(item.get("parameters").is_none(), "{item}");
        assert_eq!(item[PATH_NAMES], json!({"a_dash_b": "a-b"}));
        // the shared component is left as it is
        assert_eq!(doc["components"]["parameters"]["AB"]["name"], "a-b");
        assert!(
            c.iter().any(
                |c| c.pointer == "/paths/~1a~1{a-b}~1{a_b}" && c.message.contains("{a_dash_b}")
            ),
            "{c:?}"
        );
        // export: the template's own names again
        restore_wire_names(&mut doc);
        let item = &doc["paths"]["/a/{a-b}/{a_b}"];
        assert_eq!(names(&item["get"]["parameters"]), ["a_b", "a-b", "a.b"]);
        assert_eq!(names(&item["put"]["parameters"]), ["a_b", "a-b"]);
        assert!(item.get(PATH_NAMES).is_none());
    }

    #[test]
    fn a_path_items_parameter_is_one_of_each_operation_unless_overridden() {
        let mut doc = json!({"paths": {"/a": {
            "parameters": [
                {"name": "id", "in": "header"}, {"name": "X-Tenant", "in": "header"},
                {"name": "q", "in": "query"}
            ],
            "get": {"parameters": [{"name": "id", "in": "query"}, {"name": "x-tenant", "in": "header"}]},
            "post": {"parameters": [{"name": "q", "in": "query", "required": true}]}
        }, "/b": {
            "parameters": [{"name": "id", "in": "header"}],
            "get": {"parameters": [{"name": "id", "in": "header", "required": true}]}
        }}});
        let mut c = Changes::default();
        colliding_parameters(&mut doc, &mut c);
        let a = &doc["paths"]["/a"];
        assert!(a.get("parameters").is_none(), "{a}");
        let get: Vec<(String, String)> = a["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().into(),
                    p["in"].as_str().unwrap().into(),
                )
            })
            .collect();
        // the header `id` and the query `id` are two parameters; `x-tenant` is `X-Tenant` (a
        // header's name in any case), overridden by the operation's
        let want = [
            ("id", "header"),
            ("q", "query"),
            ("id_2", "query"),
            ("x-tenant", "header"),
        ];
        assert_eq!(get, want.map(|(n, i)| (n.to_string(), i.to_string())));
        assert_eq!(a["get"][WIRE_NAMES], json!({"id_2": "id"}));
        // `post` overrides `q` (same name and place): its own, required
        let post = a["post"]["parameters"].as_array().unwrap();
        assert_eq!(post.len(), 3);
        assert_eq!(
            post[2],
            json!({"name": "q", "in": "query", "required": true})
        );
        // a path item whose parameters collide with nothing but their own overrides stays
        assert_eq!(
            doc["paths"]["/b"]["parameters"],
            json!([{"name": "id", "in": "header"}])
        );
        assert_eq!(c[0].pointer, "/paths/~1a/parameters");
    }

    #[test]
    fn a_parameter_declared_twice_is_one() {
        let mut doc = json!({"paths": {"/a": {
            "parameters": [{"name": "X-Id", "in": "header"}, {"name": "x-id", "in": "header"}],
            "get": {"parameters": [
                {"name": "tags", "in": "query", "explode": false}, {"name": "Tags", "in": "query"},
                {"name": "tags", "in": "query", "style": "pipeDelimited"},
                {"name": "tags", "in": "header"}
            ]}
        }}});
        let mut c = Changes::default();
        duplicate_parameters(&mut doc, &mut c);
        assert_eq!(
            doc["paths"]["/a"]["parameters"],
            json!([{"name": "X-Id", "in": "header"}])
        );
        // a query parameter's name is read as written; the first declaration stands
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"],
            json!([
                {"name": "tags", "in": "query", "explode": false}, {"name": "Tags", "in": "query"},
                {"name": "tags", "in": "header"}
            ])
        );
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].pointer, "/paths/~1a/parameters/1");
        assert_eq!(c[1].pointer, "/paths/~1a/get/parameters/2");
    }

    #[test]
    fn a_path_or_header_parameters_nullable_component_is_left_nullable() {
        let mut doc = json!({
            "paths": {"/a/{id}": {"get": {"parameters": [
                {"name": "id", "in": "path", "schema": {"$ref": "#/components/schemas/Alias"}},
                {"$ref": "#/components/parameters/H"},
                {"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/Id"}}
            ]}}},
            "components": {
                "parameters": {"H": {"name": "H", "in": "header", "schema": {"$ref": "#/components/schemas/Kind"}}},
                "schemas": {
                    "Alias": {"$ref": "#/components/schemas/Id"},
                    "Id": {"type": "string", "nullable": true, "maxLength": 9},
                    "Kind": {"type": "string", "enum": ["a"], "nullable": true}
                }
            }
        });
        let mut c = Changes::default();
        nullable_parameters(&mut doc, &mut c);
        let params = &doc["paths"]["/a/{id}"]["get"]["parameters"];
        assert_eq!(
            params[0]["schema"],
            json!({"type": "string", "maxLength": 9})
        );
        // a query parameter may be null; the components stay as they are
        assert_eq!(
            params[2]["schema"],
            json!({"$ref": "#/components/schemas/Id"})
        );
        assert_eq!(doc["components"]["schemas"]["Id"]["nullable"], true);
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(c[0].message.contains("/components/schemas/Id"), "{c:?}");
        // an enum loses `nullable` in `nullable-components`, which leaves the header's
        // reference alone and makes the others nullable
        doc["paths"]["/b"] = json!({"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Kind"}}}}}}});
        crate::passes::types::nullable_components(&mut doc, &mut c);
        assert_eq!(
            doc["components"]["parameters"]["H"]["schema"],
            json!({"$ref": "#/components/schemas/Kind"})
        );
        assert_eq!(
            doc["paths"]["/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
                ["nullable"],
            true
        );
    }

    #[test]
    fn a_colliding_header_that_is_no_header_name_is_said_and_dropped() {
        let mut doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "X-Ids", "in": "header"}, {"name": "X-Ids[]", "in": "header"},
            {"name": "x.ids", "in": "header"}
        ]}}}});
        let mut c = Changes::default();
        colliding_parameters(&mut doc, &mut c);
        let names: Vec<&str> = doc["paths"]["/a"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["X-Ids", "x_dot_ids"]);
        assert_eq!(c[0].pointer, "/paths/~1a/get/parameters/1");
        assert!(c[0].message.contains("no HTTP header name"), "{:?}", c[0]);
    }

    #[test]
    fn colliding_property_names_are_both_kept() {
        let mut doc = json!({"components": {"schemas": {"U": {"required": ["id"], "properties": {"_id": {"type": "string"}, "id": {"type": "string"}, "name": {}}}}}});
        let mut c = Changes::default();
        colliding_properties(&mut doc, &mut c);
        let u = &doc["components"]["schemas"]["U"];
        let props = u["properties"].as_object().unwrap();
        assert_eq!(props.keys().collect::<Vec<_>>(), ["_id", "id-2", "name"]);
        assert_eq!(props["id-2"][JSON_NAME], "id");
        assert_eq!(u["required"], json!(["id-2"]));
        assert_eq!(c[0].pointer, "/components/schemas/U/properties/id");
        assert_eq!(
            json_names(&doc).into_iter().collect::<Vec<_>>(),
            [("id-2".to_string(), "id".to_string())]
        );
        restore_json_keys(&mut doc);
        let u = &doc["components"]["schemas"]["U"];
        assert_eq!(
            u["properties"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["_id", "id", "name"]
        );
        assert_eq!(u["required"], json!(["id"]));
        assert!(u["properties"]["id"].get(JSON_NAME).is_none());
    }
}
