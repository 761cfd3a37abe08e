//! The committed `docs/openapi.json` is what the code generates, and the document says what
//! every route can answer.
//!
//! After changing a route or a type it shows, regenerate the file with
//! `TASKER_WRITE_OPENAPI=1 cargo test -p tasker-server --test openapi`.

use serde_json::Value;
use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn the_committed_document_is_current() {
    let generated = tasker_server::openapi::json();
    let path = committed_path();
    if std::env::var_os("TASKER_WRITE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json differs from what the code generates; regenerate it with \
         `TASKER_WRITE_OPENAPI=1 cargo test -p tasker-server --test openapi` and commit it"
    );
}

fn document() -> Value {
    serde_json::from_str(&tasker_server::openapi::json()).expect("JSON")
}

#[test]
fn every_operation_documents_its_problems() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut operations = 0;
    let mut ids = std::collections::HashSet::new();
    for (route, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            operations += 1;
            let what = format!("{method} {route}");
            let id = operation["operationId"].as_str().expect("an operation id");
            assert!(
                ids.insert(id.to_owned()),
                "{what}: operationId {id} is used twice"
            );
            let responses = operation["responses"].as_object().expect("responses");
            let problem = |status: &str| {
                let content = &responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{what} does not document {status}"))["content"];
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{what} {status}"
                );
            };
            problem("500");
            if route.starts_with("/v1/") {
                for status in ["400", "401", "403", "503"] {
                    problem(status);
                }
                assert!(
                    responses["503"]["headers"].get("Retry-After").is_some(),
                    "{what}"
                );
                assert!(operation["security"].is_array(), "{what} needs a token");
            } else {
                assert!(operation.get("security").is_none(), "{what} needs no token");
            }
            if operation.get("requestBody").is_some() {
                problem("413");
                problem("415");
            }
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what} documents a success"
            );
        }
    }
    assert!(operations >= 17, "{operations} operations");

    // Links (task -> its steps, created task -> its actions) name operations that exist.
    let mut links = 0;
    for item in document["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("operations").values() {
            for response in operation["responses"]
                .as_object()
                .expect("responses")
                .values()
            {
                for link in response["links"]
                    .as_object()
                    .into_iter()
                    .flat_map(|l| l.values())
                {
                    let target = link["operationId"].as_str().expect("operationId");
                    assert!(ids.contains(target), "a link to {target}");
                    links += 1;
                }
            }
        }
    }
    assert!(links >= 7, "{links} links");
}
