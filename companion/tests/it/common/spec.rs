//! `companion/openapi.yaml` as the tests read it: a schema validator for its components, and
//! the check that a real response is one the spec lists for its operation, in its schema.

use serde_json::{json, Value};

pub fn spec() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

/// A validator for `#/components/schemas/<name>`, resolving refs inside the spec.
pub fn validator(spec: &Value, pointer: &str) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#{pointer}"),
        "components": spec["components"],
    });
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("schema {pointer}: {e}"))
}

pub fn check(spec: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let op = &spec["paths"][path][method];
    assert!(op.is_object(), "{method} {path} in the spec");
    let mut response = &op["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} lists status {status} (body {body})"
    );
    if let Some(r) = response.get("$ref") {
        let pointer = r.as_str().unwrap().trim_start_matches('#');
        response = spec.pointer(pointer).unwrap();
    }
    let schema_ref = response["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap()
        .trim_start_matches('#');
    let v = validator(spec, schema_ref);
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {body} does not match {schema_ref}: {errors:?}"
    );
}
