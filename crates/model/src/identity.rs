//! Task identity: when two creation requests name the same task.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How a template decides that two creation requests are the same task, set by its
/// `identity` field (`always_unique`, `strict` or `caller_provided`). A request that names an
/// existing task gets that task back instead of a new one.
///
/// An idempotency key, when the caller gives one, decides under every strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdentityStrategy {
    /// Every request creates a new task (unless the caller passes an idempotency key).
    #[default]
    AlwaysUnique,
    /// The same template version and the same context are the same task.
    Strict,
    /// The caller's idempotency key decides; a request without one is refused.
    CallerProvided,
}

/// The identity hash stored (uniquely) on the task, or `None` for a task that is always new.
///
/// An idempotency key is scoped to the template's namespace and name (not its version), so a
/// retried request still finds its task after a new version is registered. A strict identity
/// is scoped to the template version, since the same context may mean another thing there.
///
/// The hash is 64 lowercase hex digits (SHA-256). A strict identity compares contexts as JSON
/// values: the order of an object's keys does not matter.
///
/// ```
/// use tasker_model::IdentityStrategy;
/// use tasker_model::identity::identity_hash;
/// use serde_json::json;
///
/// let strict = |version: &str, context: &serde_json::Value| {
///     identity_hash(IdentityStrategy::Strict, "shop", "refund", version, context, None)
/// };
/// let a = strict("1.0.0", &json!({ "order": 7, "full": true }));
/// assert_eq!(a, strict("1.0.0", &json!({ "full": true, "order": 7 })));
/// assert_ne!(a, strict("2.0.0", &json!({ "order": 7, "full": true })));
/// assert_eq!(a.map(|h| h.len()), Some(64));
///
/// // Always unique: no identity, unless the caller gives a key.
/// let ctx = json!({});
/// let unique = |key| identity_hash(IdentityStrategy::AlwaysUnique, "shop", "refund", "1.0.0", &ctx, key);
/// assert_eq!(unique(None), None);
/// assert!(unique(Some("refund-7")).is_some());
/// ```
pub fn identity_hash(
    strategy: IdentityStrategy,
    namespace: &str,
    name: &str,
    version: &str,
    context: &Value,
    idempotency_key: Option<&str>,
) -> Option<String> {
    let mut hasher = Sha256::new();
    match (idempotency_key, strategy) {
        (Some(key), _) => {
            hasher.update(b"key\0");
            for part in [namespace, name, key] {
                hasher.update(part.as_bytes());
                hasher.update(b"\0");
            }
        }
        (None, IdentityStrategy::Strict) => {
            hasher.update(b"strict\0");
            for part in [namespace, name, version] {
                hasher.update(part.as_bytes());
                hasher.update(b"\0");
            }
            // serde_json's map is ordered (BTreeMap), so this rendering is canonical.
            hasher.update(context.to_string().as_bytes());
        }
        (None, _) => return None,
    }
    let digest = hasher.finalize();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_identity_ignores_key_order_and_tracks_the_version() {
        let a = identity_hash(
            IdentityStrategy::Strict,
            "ns",
            "t",
            "1.0.0",
            &json!({"a":1,"b":2}),
            None,
        );
        let b = identity_hash(
            IdentityStrategy::Strict,
            "ns",
            "t",
            "1.0.0",
            &json!({"b":2,"a":1}),
            None,
        );
        let c = identity_hash(
            IdentityStrategy::Strict,
            "ns",
            "t",
            "1.1.0",
            &json!({"a":1,"b":2}),
            None,
        );
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn keys_are_scoped_by_template_name_not_version() {
        let v1 = identity_hash(
            IdentityStrategy::CallerProvided,
            "ns",
            "t",
            "1.0.0",
            &json!({}),
            Some("k"),
        );
        let v2 = identity_hash(
            IdentityStrategy::AlwaysUnique,
            "ns",
            "t",
            "2.0.0",
            &json!({"x":1}),
            Some("k"),
        );
        let other = identity_hash(
            IdentityStrategy::CallerProvided,
            "ns",
            "u",
            "1.0.0",
            &json!({}),
            Some("k"),
        );
        assert_eq!(v1, v2);
        assert_ne!(v1, other);
    }

    #[test]
    fn always_unique_without_a_key_has_no_identity() {
        assert_eq!(
            identity_hash(
                IdentityStrategy::AlwaysUnique,
                "ns",
                "t",
                "1.0.0",
                &json!({}),
                None
            ),
            None
        );
    }
}
