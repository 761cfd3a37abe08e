//! API tokens: kept by hash, listed, revoked once.

use super::fixture::{secs, t0};
use crate::{Error, NewToken, Store};
use std::sync::Arc;

fn new_token(name: &str, scopes: &[&str], hash: &str) -> NewToken {
    NewToken {
        name: name.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        token_hash: hash.into(),
    }
}

/// Checks that tokens are created, listed and found by hash.
pub async fn tokens_are_created_listed_and_found_by_hash(store: Arc<dyn Store>) {
    assert!(store.list_tokens().await.expect("list").is_empty());
    assert!(!store.any_active_token().await.expect("any active"));

    let ci = store
        .create_token(
            &new_token("ci", &["tasks:write@shop", "admin"], "aa11"),
            t0(),
        )
        .await
        .expect("create ci");
    assert_eq!(
        (
            ci.name.as_str(),
            ci.scopes.as_slice(),
            ci.token_hash.as_str()
        ),
        (
            "ci",
            &["tasks:write@shop".to_owned(), "admin".to_owned()][..],
            "aa11"
        )
    );
    assert_eq!((ci.created_at, ci.revoked_at), (t0(), None));
    // Names need not be unique; scopes may be empty.
    let other = store
        .create_token(&new_token("ci", &[], "bb22"), t0() + secs(1))
        .await
        .expect("create other");
    assert_ne!(ci.id, other.id);
    assert!(other.scopes.is_empty());

    assert_eq!(
        store.list_tokens().await.expect("list"),
        vec![ci.clone(), other.clone()],
        "every token, by id"
    );
    assert_eq!(
        store.token_by_hash("aa11").await.expect("by hash"),
        Some(ci.clone())
    );
    assert_eq!(store.token_by_hash("cc33").await.expect("by hash"), None);
    assert!(store.any_active_token().await.expect("any active"));

    // A hash finds at most one token.
    let err = store
        .create_token(&new_token("copy", &["admin"], "aa11"), t0())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(store.list_tokens().await.expect("list").len(), 2);
}

/// Checks that revoked tokens authenticate nothing.
pub async fn revoked_tokens_authenticate_nothing(store: Arc<dyn Store>) {
    let a = store
        .create_token(&new_token("a", &["admin"], "aa"), t0())
        .await
        .expect("create a");
    let b = store
        .create_token(&new_token("b", &["tasks:read"], "bb"), t0())
        .await
        .expect("create b");

    let revoked = store
        .revoke_token(a.id, t0() + secs(5))
        .await
        .expect("revoke");
    assert_eq!(revoked.id, a.id);
    assert_eq!(revoked.revoked_at, Some(t0() + secs(5)));
    assert_eq!(store.token_by_hash("aa").await.expect("by hash"), None);
    assert!(
        store.any_active_token().await.expect("any active"),
        "b is live"
    );

    // Revoking again changes nothing: the first time stays.
    let again = store
        .revoke_token(a.id, t0() + secs(9))
        .await
        .expect("again");
    assert_eq!(again, revoked);

    store
        .revoke_token(b.id, t0() + secs(6))
        .await
        .expect("revoke b");
    assert!(!store.any_active_token().await.expect("any active"));
    let listed = store.list_tokens().await.expect("list");
    assert_eq!(
        listed.iter().map(|t| t.revoked_at).collect::<Vec<_>>(),
        [Some(t0() + secs(5)), Some(t0() + secs(6))],
        "revoked tokens are still listed"
    );

    let err = store.revoke_token(b.id + 1000, t0()).await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound { what: "token", .. }),
        "{err:?}"
    );
}
