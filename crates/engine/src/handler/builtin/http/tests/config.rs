//! Configs the `http` handler refuses at registration, each reported at its field.

use crate::HandlerRegistry;
use serde_json::{Value, json};
use tasker_model::Template;

/// The errors registering a one-step template with this `http` config would give, as
/// `path: message` lines.
fn refusals(config: Value) -> Vec<String> {
    let yaml = format!(
        "namespace: t\nname: call\nversion: 1.0.0\nsteps:\n  - name: call\n    handler: http\n    config: {config}\n"
    );
    let template = Template::from_yaml(&yaml).expect("a valid template");
    match HandlerRegistry::with_builtins().check_template(&template) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .0
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect(),
    }
}

fn refused(config: Value) -> String {
    let mut errors = refusals(config.clone());
    assert_eq!(errors.len(), 1, "{config}: {errors:?}");
    errors.remove(0)
}

#[test]
fn good_configs_pass() {
    for config in [
        json!({"url": "http://localhost:8080/hook"}),
        json!({"url": "http://10.0.0.1/x?y=1", "method": "get", "timeout_ms": 1}),
        json!({
            "url": "http://svc/charge",
            "method": "PATCH",
            "headers": {"Authorization": "Bearer t", "X-Empty": ""},
            "timeout_ms": 604_800_000,
            "body": {"fixed": [1, 2]},
            "max_response_bytes": 1_073_741_824u64,
        }),
        json!({"url": "http://svc/", "method": "DELETE", "body": null, "headers": null}),
    ] {
        assert_eq!(refusals(config.clone()), Vec::<String>::new(), "{config}");
    }
}

#[test]
fn the_url_is_required_and_must_be_plain_http() {
    let at = "steps[0].config";
    assert_eq!(
        refused(json!({})),
        format!("{at}.url: is required (the address to call)")
    );
    assert_eq!(
        refused(json!({"url": 5})),
        format!("{at}.url: must be a string, got 5")
    );
    assert!(
        refused(json!({"url": "not a url"}))
            .starts_with(&format!("{at}.url: \"not a url\" is not a URL")),
    );
    let https = refused(json!({"url": "https://api.example.com/pay"}));
    assert!(
        https.starts_with(&format!(
            "{at}.url: https is not supported: this build has no TLS"
        )),
        "{https}"
    );
    assert_eq!(
        refused(json!({"url": "ftp://files/x"})),
        format!("{at}.url: must be an http:// address, got the scheme \"ftp\"")
    );
    assert_eq!(
        refused(json!({"url": "unix:/run/x.sock"})),
        format!("{at}.url: must be an http:// address, got the scheme \"unix\"")
    );
}

#[test]
fn the_method_is_one_of_five() {
    assert_eq!(
        refused(json!({"url": "http://x/", "method": "HEAD"})),
        "steps[0].config.method: must be one of GET, POST, PUT, PATCH, DELETE, got \"HEAD\""
    );
    assert_eq!(
        refused(json!({"url": "http://x/", "method": ["POST"]})),
        "steps[0].config.method: must be a string, got [\"POST\"]"
    );
    assert_eq!(
        refused(json!({"url": "http://x/", "method": "GET", "body": {"a": 1}})),
        "steps[0].config.body: a GET request carries no body; use POST, PUT or PATCH"
    );
}

#[test]
fn headers_are_names_to_strings_the_handler_does_not_own() {
    let at = "steps[0].config";
    assert_eq!(
        refused(json!({"url": "http://x/", "headers": ["a"]})),
        format!("{at}.headers: must be a mapping of header names to strings, got [\"a\"]")
    );
    assert_eq!(
        refused(json!({"url": "http://x/", "headers": {"X-Count": 3}})),
        format!("{at}.headers.X-Count: must be a string, got 3")
    );
    assert_eq!(
        refused(json!({"url": "http://x/", "headers": {"bad name": "v"}})),
        format!("{at}.headers: \"bad name\" is not a valid header name")
    );
    assert!(
        refused(json!({"url": "http://x/", "headers": {"X-A": "line\nbreak"}})).starts_with(
            &format!("{at}.headers.X-A: holds a character a header cannot carry")
        ),
    );
    for owned in ["Idempotency-Key", "traceparent", "Content-Length", "Host"] {
        assert_eq!(
            refused(json!({"url": "http://x/", "headers": {owned: "v"}})),
            format!(
                "{at}.headers.{owned}: is set by the handler on every request and cannot be configured"
            )
        );
    }
}

#[test]
fn limits_are_range_checked() {
    let at = "steps[0].config";
    assert_eq!(
        refused(json!({"url": "http://x/", "timeout_ms": 0})),
        format!("{at}.timeout_ms: must be at least 1, got 0")
    );
    assert_eq!(
        refused(json!({"url": "http://x/", "timeout_ms": 604_800_001})),
        format!("{at}.timeout_ms: 604800001 is more than the limit of 604800000 (seven days)")
    );
    assert_eq!(
        refused(json!({"url": "http://x/", "timeout_ms": "5s"})),
        format!("{at}.timeout_ms: must be a whole number of milliseconds, got \"5s\"")
    );
    for bad in [json!(0), json!(-1), json!(1_073_741_825u64), json!("4MiB")] {
        assert_eq!(
            refused(json!({"url": "http://x/", "max_response_bytes": bad})),
            format!("{at}.max_response_bytes: must be an integer from 1 to 1073741824, got {bad}")
        );
    }
}

#[test]
fn the_config_itself_is_required() {
    let yaml =
        "namespace: t\nname: call\nversion: 1.0.0\nsteps:\n  - name: call\n    handler: http\n";
    let template = Template::from_yaml(yaml).unwrap();
    let errors = HandlerRegistry::with_builtins()
        .check_template(&template)
        .unwrap_err();
    assert_eq!(errors.0[0].path, "steps[0].config");
    assert_eq!(errors.0[0].message, "is required");
}
