//! What callers pass in: template references and task creation requests.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// `namespace/name` (the latest version) or `namespace/name@version`.
///
/// ```
/// use tasker_engine::TemplateRef;
///
/// let latest: TemplateRef = "shop/order".parse()?;
/// assert_eq!(latest, TemplateRef::new("shop", "order"));
/// let pinned: TemplateRef = "shop/order@1.2.0".parse()?;
/// assert_eq!(pinned.version.as_deref(), Some("1.2.0"));
/// assert!("order".parse::<TemplateRef>().is_err());
/// # Ok::<(), tasker_engine::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TemplateRef {
    /// The template's namespace.
    pub namespace: String,
    /// The template's name.
    pub name: String,
    /// One version (`1.2.0`); `None`: the highest registered.
    pub version: Option<String>,
}

impl TemplateRef {
    /// The latest version of `namespace/name`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            version: None,
        }
    }

    /// This one version instead of the latest.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }
}

impl FromStr for TemplateRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidTemplateRef(s.to_owned());
        let (path, version) = match s.split_once('@') {
            Some((path, version)) if !version.is_empty() => (path, Some(version.to_owned())),
            Some(_) => return Err(invalid()),
            None => (s, None),
        };
        let (namespace, name) = path.split_once('/').ok_or_else(invalid)?;
        if namespace.is_empty() || name.is_empty() || name.contains('/') {
            return Err(invalid());
        }
        Ok(TemplateRef {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            version,
        })
    }
}

impl fmt::Display for TemplateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

/// A task to create ([`Engine::create_task`](crate::Engine::create_task)): a template and a
/// context, and optionally an idempotency key and a trace context.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTask {
    /// The template to create it from.
    pub template: TemplateRef,
    /// The task's input: checked against the template's input schema, defaults filled in.
    pub context: Value,
    /// Makes creation idempotent: the same key (for the same template name) returns the task
    /// it created the first time.
    pub idempotency_key: Option<String>,
    /// W3C trace context (`00-<32 hex>-<16 hex>-<2 hex>`) to store with the task: the spans of
    /// its steps continue that trace, and `command` steps see it as `TRACEPARENT`.
    pub traceparent: Option<String>,
}

impl CreateTask {
    /// A request with no idempotency key and no trace context.
    pub fn new(template: TemplateRef, context: Value) -> Self {
        Self {
            template,
            context,
            idempotency_key: None,
            traceparent: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_both_forms() {
        let r: TemplateRef = "ecommerce/order_fulfillment@1.2.0".parse().unwrap();
        assert_eq!(
            r,
            TemplateRef::new("ecommerce", "order_fulfillment").with_version("1.2.0")
        );
        assert_eq!(r.to_string(), "ecommerce/order_fulfillment@1.2.0");
        let r: TemplateRef = "examples/linear".parse().unwrap();
        assert_eq!(r.version, None);
        assert_eq!(r.to_string(), "examples/linear");
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in ["linear", "/x", "x/", "a/b@", "a/b/c", ""] {
            assert!(
                matches!(
                    bad.parse::<TemplateRef>(),
                    Err(Error::InvalidTemplateRef(_))
                ),
                "{bad:?}"
            );
        }
    }
}
