//! API tokens of `tasker serve`: the store keeps their hashes and scopes, never the tokens.

use crate::Result;
use async_trait::async_trait;
use serde::Serialize;
use tasker_model::Timestamp;

/// A token to store: its hash and what it may do.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// A label for people (`ci`, `payments-service`); need not be unique.
    pub name: String,
    /// Scopes as written (`tasks:write@ecommerce`, `admin`); the server parses them.
    pub scopes: Vec<String>,
    /// Hex SHA-256 of the token. Unique: a lookup by hash finds at most one token.
    pub token_hash: String,
}

/// A stored token (without the token itself, which only its holder has).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// The token's id, assigned by the store.
    pub id: i64,
    /// A label for people; need not be unique.
    pub name: String,
    /// Scopes as written (`tasks:write@ecommerce`, `admin`).
    pub scopes: Vec<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// Set once by [`TokenStore::revoke_token`]; a revoked token authenticates nothing.
    pub revoked_at: Option<Timestamp>,
    /// Hex SHA-256 of the token; never shown.
    #[serde(skip)]
    pub token_hash: String,
}

/// Tokens, an aggregate of its own (one small table).
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a token and returns it with its id; a hash already stored is refused (hashes are
    /// unique).
    async fn create_token(&self, token: &NewToken, now: Timestamp) -> Result<TokenRecord>;
    /// Every token, revoked ones too, by id.
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>>;
    /// Revoke a token: [`Error::NotFound`](crate::Error::NotFound) for an unknown id; revoking
    /// a revoked token changes nothing and returns it as it is.
    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<TokenRecord>;
    /// The token with this hash if it exists and is not revoked (an index lookup).
    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>>;
    /// Whether any token that is not revoked exists (`tasker serve` refuses to listen on a
    /// non-loopback address without one).
    async fn any_active_token(&self) -> Result<bool>;
}
