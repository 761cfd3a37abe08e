//! Scopes: what a token may do (`tasks:write`), and where (`@ecommerce`, `@*`).

use std::fmt;
use std::str::FromStr;

/// What a scope allows. `admin` allows everything the others do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read templates (`templates:read`).
    TemplatesRead,
    /// Register templates (`templates:write`).
    TemplatesWrite,
    /// Read tasks, their steps and history (`tasks:read`).
    TasksRead,
    /// Create, cancel and retry tasks, resolve steps.
    TasksWrite,
    /// Read the analytics (`analytics:read`).
    AnalyticsRead,
    /// For workers in other languages: `/v1/worker/*`. Limited to a namespace `ns`, it allows
    /// the queues `ns` and `ns.*`.
    Workers,
    /// Everything, including tokens (`admin`).
    Admin,
}

impl Permission {
    /// Every permission, in the order of the scope list in errors.
    pub const ALL: [Permission; 7] = [
        Permission::TemplatesRead,
        Permission::TemplatesWrite,
        Permission::TasksRead,
        Permission::TasksWrite,
        Permission::AnalyticsRead,
        Permission::Workers,
        Permission::Admin,
    ];

    /// The scope's name as written (`tasks:write`).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::TemplatesRead => "templates:read",
            Permission::TemplatesWrite => "templates:write",
            Permission::TasksRead => "tasks:read",
            Permission::TasksWrite => "tasks:write",
            Permission::AnalyticsRead => "analytics:read",
            Permission::Workers => "workers",
            Permission::Admin => "admin",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A permission, for every namespace (`namespace: None`, written `tasks:read` or
/// `tasks:read@*`) or for one (`tasks:read@ecommerce`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// What it allows.
    pub permission: Permission,
    /// Where: one namespace, or `None` for every namespace.
    pub namespace: Option<String>,
}

/// A scope that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The permission's name is not one of [`Permission::ALL`] (the scope is given).
    #[error(
        "unknown scope {0:?}; a scope is one of templates:read, templates:write, tasks:read, tasks:write, analytics:read, workers, admin, optionally followed by @NAMESPACE or @*"
    )]
    Unknown(String),
    /// The scope ends with `@` and no namespace (the scope is given).
    #[error("scope {0:?} names no namespace after @ (use @* for every namespace)")]
    EmptyNamespace(String),
}

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(text: &str) -> Result<Scope, ScopeError> {
        let (name, namespace) = match text.split_once('@') {
            Some((_, "")) => return Err(ScopeError::EmptyNamespace(text.to_owned())),
            Some((name, "*")) => (name, None),
            Some((name, namespace)) => (name, Some(namespace.to_owned())),
            None => (text, None),
        };
        let permission = Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| ScopeError::Unknown(text.to_owned()))?;
        Ok(Scope {
            permission,
            namespace,
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{}@{namespace}", self.permission),
            None => write!(f, "{}", self.permission),
        }
    }
}

/// Where a set of scopes allows one permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// In every namespace.
    Everywhere,
    /// In these namespaces only (sorted, never empty).
    Namespaces(Vec<String>),
    /// In no namespace.
    Nowhere,
}

/// The scopes of one token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(pub Vec<Scope>);

impl Scopes {
    /// Parses every scope; the first bad one is the error.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<Scopes, ScopeError> {
        texts
            .iter()
            .map(|t| t.as_ref().parse())
            .collect::<Result<Vec<Scope>, _>>()
            .map(Scopes)
    }

    fn grants(&self, permission: Permission) -> impl Iterator<Item = &Scope> {
        self.0
            .iter()
            .filter(move |s| s.permission == permission || s.permission == Permission::Admin)
    }

    /// Where these scopes allow `permission` (`admin` counts for every permission).
    pub fn reach(&self, permission: Permission) -> Reach {
        let mut namespaces = Vec::new();
        for scope in self.grants(permission) {
            match &scope.namespace {
                None => return Reach::Everywhere,
                Some(namespace) => namespaces.push(namespace.clone()),
            }
        }
        if namespaces.is_empty() {
            return Reach::Nowhere;
        }
        namespaces.sort();
        namespaces.dedup();
        Reach::Namespaces(namespaces)
    }

    /// Whether `permission` is granted in `namespace`.
    pub fn allows(&self, permission: Permission, namespace: &str) -> bool {
        self.grants(permission)
            .any(|s| s.namespace.as_deref().is_none_or(|n| n == namespace))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(texts: &[&str]) -> Scopes {
        Scopes::parse(texts).expect("valid scopes")
    }

    #[test]
    fn parses_permissions_and_namespaces() {
        assert_eq!(
            "tasks:write@ecommerce".parse(),
            Ok(Scope {
                permission: Permission::TasksWrite,
                namespace: Some("ecommerce".into())
            })
        );
        assert_eq!(
            "admin@*".parse(),
            Ok(Scope {
                permission: Permission::Admin,
                namespace: None
            })
        );
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Scope>().map(|s| s.permission), Ok(p));
        }
        assert!(matches!(
            "tasks:delete".parse::<Scope>(),
            Err(ScopeError::Unknown(_))
        ));
        assert!(matches!(
            "tasks:read@".parse::<Scope>(),
            Err(ScopeError::EmptyNamespace(_))
        ));
        assert!(matches!("".parse::<Scope>(), Err(ScopeError::Unknown(_))));
        assert_eq!(
            "tasks:read@a".parse::<Scope>().map(|s| s.to_string()),
            Ok("tasks:read@a".to_owned())
        );
    }

    #[test]
    fn namespaces_limit_what_a_scope_allows() {
        let s = scopes(&["tasks:read@a", "tasks:read@b", "templates:read"]);
        assert!(s.allows(Permission::TasksRead, "a"));
        assert!(!s.allows(Permission::TasksRead, "c"));
        assert!(!s.allows(Permission::TasksWrite, "a"));
        assert!(s.allows(Permission::TemplatesRead, "anything"));
        assert_eq!(
            s.reach(Permission::TasksRead),
            Reach::Namespaces(vec!["a".into(), "b".into()])
        );
        assert_eq!(s.reach(Permission::TemplatesRead), Reach::Everywhere);
        assert_eq!(s.reach(Permission::AnalyticsRead), Reach::Nowhere);
    }

    #[test]
    fn admin_allows_everything_where_it_applies() {
        let s = scopes(&["admin@ops"]);
        for p in Permission::ALL {
            assert!(s.allows(p, "ops"));
            assert!(!s.allows(p, "other"));
        }
        assert!(scopes(&["admin"]).allows(Permission::AnalyticsRead, "x"));
    }
}
