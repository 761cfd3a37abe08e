//! API tokens: their hashes, names and scopes (one small table).

use crate::PostgresStore;
use crate::read::query;
use crate::rows::get;
use crate::sql;
use async_trait::async_trait;
use serde_json::Value;
use tasker_model::Timestamp;
use tasker_store::{Error, NewToken, Result, TokenRecord, TokenStore};
use tokio_postgres::Row;

fn token(row: &Row) -> Result<TokenRecord> {
    let scopes: Value = get(row, "scopes")?;
    Ok(TokenRecord {
        id: get(row, "id")?,
        name: get(row, "name")?,
        scopes: serde_json::from_value(scopes)
            .map_err(|e| Error::Corrupt(format!("column scopes: {e}")))?,
        token_hash: get(row, "token_hash")?,
        created_at: get(row, "created_at")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn create_token(&self, new: &NewToken, now: Timestamp) -> Result<TokenRecord> {
        let scopes = serde_json::json!(new.scopes);
        let rows = query(
            self,
            sql::TOKEN_CREATE,
            &[&new.name, &scopes, &new.token_hash, &now],
        )
        .await?;
        let row = rows
            .first()
            .ok_or_else(|| Error::Database("token insert returned no row".into()))?;
        token(row)
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        query(self, sql::TOKEN_LIST, &[])
            .await?
            .iter()
            .map(token)
            .collect()
    }

    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<TokenRecord> {
        let rows = query(self, sql::TOKEN_REVOKE, &[&id, &now]).await?;
        rows.first().map(token).transpose()?.ok_or(Error::NotFound {
            what: "token",
            id: id.to_string(),
        })
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        let rows = query(self, sql::TOKEN_BY_HASH, &[&token_hash]).await?;
        rows.first().map(token).transpose()
    }

    async fn any_active_token(&self) -> Result<bool> {
        let rows = query(self, sql::TOKEN_ANY_ACTIVE, &[]).await?;
        let row = rows
            .first()
            .ok_or_else(|| Error::Database("token query returned no row".into()))?;
        get(row, "any_active")
    }
}
