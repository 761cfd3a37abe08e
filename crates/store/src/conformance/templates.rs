//! Schema and template cases.

use super::fixture::{new_template, t0};
use crate::{Error, Store};
use serde_json::json;
use std::sync::Arc;

/// Checks that migrations are idempotent.
pub async fn migrations_are_idempotent(store: Arc<dyn Store>) {
    assert_eq!(
        store.pending_migrations().await.expect("pending"),
        Vec::<String>::new()
    );
    assert_eq!(
        store.migrate().await.expect("migrate again"),
        Vec::<String>::new()
    );
    assert_eq!(
        store.pending_migrations().await.expect("pending"),
        Vec::<String>::new()
    );
}

/// Checks that template registration is idempotent.
pub async fn template_registration_is_idempotent(store: Arc<dyn Store>) {
    let template = new_template("orders", "1.0.0");
    let first = store
        .register_template(&template, t0())
        .await
        .expect("register");
    assert!(first.created);
    let again = store
        .register_template(&template, t0())
        .await
        .expect("re-register");
    assert_eq!((again.id, again.created), (first.id, false));

    let mut changed = template.clone();
    changed.definition = json!({"changed": true});
    let err = store.register_template(&changed, t0()).await.unwrap_err();
    assert!(matches!(err, Error::TemplateMismatch(_)), "{err:?}");

    let stored = store
        .template_by_id(first.id)
        .await
        .expect("by id")
        .expect("exists");
    assert_eq!(stored.namespace, "conformance");
    assert_eq!(stored.name, "orders");
    assert_eq!(stored.version, "1.0.0");
    assert_eq!(stored.description.as_deref(), Some("orders 1.0.0"));
    assert_eq!(stored.definition, template.definition);
    assert_eq!(stored.created_at, t0());
    assert_eq!(
        store.template_by_id(first.id + 1000).await.expect("by id"),
        None
    );
}

/// Checks that latest template is the highest semantic version.
pub async fn latest_template_is_the_highest_semantic_version(store: Arc<dyn Store>) {
    for version in ["1.9.0", "1.10.0", "1.10.0-beta.1", "0.1.0"] {
        store
            .register_template(&new_template("orders", version), t0())
            .await
            .expect("register");
    }
    store
        .register_template(&new_template("billing", "2.0.0"), t0())
        .await
        .expect("register");
    let latest = store
        .find_template("conformance", "orders", None)
        .await
        .expect("find")
        .expect("some");
    assert_eq!(latest.version, "1.10.0");
    let exact = store
        .find_template("conformance", "orders", Some("1.9.0"))
        .await
        .expect("find")
        .expect("some");
    assert_eq!(exact.version, "1.9.0");
    assert!(
        store
            .find_template("conformance", "orders", Some("3.0.0"))
            .await
            .expect("find")
            .is_none()
    );
    assert!(
        store
            .find_template("other", "orders", None)
            .await
            .expect("find")
            .is_none()
    );

    let listed: Vec<(String, String)> = store
        .list_templates()
        .await
        .expect("list")
        .into_iter()
        .map(|t| (t.name, t.version))
        .collect();
    let expected: Vec<(String, String)> = [
        ("billing", "2.0.0"),
        ("orders", "0.1.0"),
        ("orders", "1.9.0"),
        ("orders", "1.10.0-beta.1"),
        ("orders", "1.10.0"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(listed, expected);
}
