//! Who is asking, and what they may do: bearer tokens and their scopes.
//!
//! A request's token is hashed and looked up by hash; the stored hash is compared again in
//! constant time. Route handlers check scopes in two steps: the [`Authorized`] extractor
//! refuses (403) a token that has the route's permission in no namespace at all, before the
//! body is read; then the handler checks the namespace the request is about
//! ([`Caller::require_in`], [`Caller::require_for_task`]).
//!
//! Existence: for a task or step of another namespace the answer is 403, for an id that does
//! not exist 404. So a token limited to one namespace can learn that an id exists elsewhere,
//! but nothing of it (the 403 does not name its namespace). Ids are sequential numbers, so
//! hiding that would protect nothing.

pub mod cache;
pub mod scope;
pub mod token;

pub use scope::{Permission, Reach, Scope, ScopeError, Scopes};
pub use token::{Error, issue_token, list_tokens, revoke_token};

use crate::problem::{Problem, ProblemKind};
use crate::state::{AppState, AuthMode};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use serde_json::{Value, json};
use std::marker::PhantomData;

/// Who sent the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The server runs with `--insecure-no-auth`: everything is allowed.
    Anyone,
    /// A valid, unrevoked API token.
    Token {
        /// The token's id in the store.
        id: i64,
        /// The token's name, for logs and actors.
        name: String,
        /// What the token may do, and where.
        scopes: Scopes,
    },
}

impl Caller {
    /// Where this caller has `permission`.
    pub fn reach(&self, permission: Permission) -> Reach {
        match self {
            Caller::Anyone => Reach::Everywhere,
            Caller::Token { scopes, .. } => scopes.reach(permission),
        }
    }

    fn allows(&self, permission: Permission, namespace: &str) -> bool {
        match self {
            Caller::Anyone => true,
            Caller::Token { scopes, .. } => scopes.allows(permission, namespace),
        }
    }

    /// 403 unless the token has `permission` in `namespace`, a namespace the client named.
    pub fn require_in(&self, permission: Permission, namespace: &str) -> Result<(), Problem> {
        if self.allows(permission, namespace) {
            return Ok(());
        }
        Err(Problem::forbidden(format!(
            "this token does not have {permission} in namespace {namespace:?}"
        )))
    }

    /// 403 unless the token has `permission` in the namespace of a task the client named by
    /// id. The answer does not name the namespace.
    pub fn require_for_task(&self, permission: Permission, namespace: &str) -> Result<(), Problem> {
        if self.allows(permission, namespace) {
            return Ok(());
        }
        Err(Problem::forbidden(format!(
            "this token does not have {permission} in the namespace of this task"
        )))
    }

    /// 403 unless the token may use `queue` as a worker: `workers` (or `admin`) for every
    /// namespace, or for a namespace `ns` when the queue is `ns` or starts with `ns.`.
    pub fn require_queue(&self, queue: &str) -> Result<(), Problem> {
        let allowed = match self {
            Caller::Anyone => true,
            Caller::Token { scopes, .. } => match scopes.reach(Permission::Workers) {
                Reach::Everywhere => true,
                Reach::Nowhere => false,
                Reach::Namespaces(namespaces) => namespaces.iter().any(|ns| {
                    queue == ns
                        || queue
                            .strip_prefix(ns.as_str())
                            .is_some_and(|rest| rest.starts_with('.'))
                }),
            },
        };
        if allowed {
            return Ok(());
        }
        Err(Problem::forbidden(format!(
            "this token does not have workers for queue {queue:?} (a token limited to namespace NS may use queue NS and queues NS.*)"
        )))
    }

    /// 403 unless the token has `permission` in every namespace (`{permission}` or
    /// `{permission}@*`).
    pub fn require_everywhere(&self, permission: Permission) -> Result<(), Problem> {
        if self.reach(permission) == Reach::Everywhere {
            return Ok(());
        }
        Err(Problem::forbidden(format!(
            "this request reads every namespace: it needs {permission} or {permission}@*"
        )))
    }

    /// Who performed an operator action, for the metadata of the transitions it writes.
    pub fn actor(&self) -> Option<Value> {
        match self {
            Caller::Anyone => None,
            Caller::Token { id, name, .. } => Some(json!({"token_id": id, "token_name": name})),
        }
    }
}

fn unauthenticated(detail: &str) -> Problem {
    Problem::new(ProblemKind::Unauthenticated, detail).with_parameter("Authorization")
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(parts: &Parts) -> Result<&str, Problem> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthenticated("this route needs a token: Authorization: Bearer TOKEN"))?;
    let text = value
        .to_str()
        .map_err(|_| unauthenticated("the Authorization header is not visible ASCII text"))?;
    let (scheme, token) = text
        .split_once(' ')
        .ok_or_else(|| unauthenticated("the Authorization header must be: Bearer TOKEN"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthenticated(
            "the Authorization header must be: Bearer TOKEN",
        ));
    }
    Ok(token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Problem> {
        if state.auth == AuthMode::Open {
            return Ok(Caller::Anyone);
        }
        let token = bearer(parts)?;
        let hash = token::hash(token);
        let record = match state.tokens.get(&hash) {
            Some(record) => record,
            None => {
                let record = state
                    .engine
                    .store()
                    .token_by_hash(&hash)
                    .await?
                    .filter(|r| r.revoked_at.is_none() && token::hashes_match(&r.token_hash, &hash))
                    .ok_or_else(|| unauthenticated("the token is unknown or revoked"))?;
                state.tokens.put(hash, record.clone());
                record
            }
        };
        // Scopes were checked when the token was made; one that no longer parses (a newer
        // binary wrote it) grants nothing rather than failing every request.
        let scopes = Scopes(
            record
                .scopes
                .iter()
                .filter_map(|s| s.parse::<Scope>().ok())
                .collect(),
        );
        Ok(Caller::Token {
            id: record.id,
            name: record.name,
            scopes,
        })
    }
}

/// The permission a route needs (in some namespace), as a type: see [`Authorized`].
pub trait Needs: Send + Sync + 'static {
    /// The permission the route needs.
    const PERMISSION: Permission;
}

/// Marker types for [`Authorized`].
pub mod needs {
    use super::{Needs, Permission};

    macro_rules! needs {
        ($($name:ident),*) => {$(
            #[doc = concat!("Needs [`Permission::", stringify!($name), "`].")]
            #[derive(Debug)]
            pub struct $name;
            impl Needs for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }

    needs!(
        TemplatesRead,
        TemplatesWrite,
        TasksRead,
        TasksWrite,
        AnalyticsRead,
        Workers
    );
}

/// A caller whose token has `N::PERMISSION` in at least one namespace; 401 without a valid
/// token, 403 without the permission anywhere. Checked before the body is read.
#[derive(Debug)]
pub struct Authorized<N: Needs> {
    /// Who sent the request.
    pub caller: Caller,
    needs: PhantomData<N>,
}

impl<N: Needs> FromRequestParts<AppState> for Authorized<N> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.reach(N::PERMISSION) == Reach::Nowhere {
            return Err(Problem::forbidden(format!(
                "this token does not have {}",
                N::PERMISSION
            )));
        }
        Ok(Authorized {
            caller,
            needs: PhantomData,
        })
    }
}
