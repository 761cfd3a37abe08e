//! API tokens: their hashes, names and scopes (one small table).

use crate::SqliteStore;
use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::queries;
use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use tasker_model::Timestamp;
use tasker_store::{Error, NewToken, Result, TokenRecord, TokenStore};

/// Columns of the `token_*.sql` queries.
fn token(row: &Row<'_>) -> Result<TokenRecord> {
    let scopes: String = row.get(2).sql()?;
    Ok(TokenRecord {
        id: row.get(0).sql()?,
        name: row.get(1).sql()?,
        scopes: serde_json::from_str(&scopes)
            .map_err(|e| Error::Corrupt(format!("stored token scopes: {e}")))?,
        token_hash: row.get(3).sql()?,
        created_at: codec::ts_at(row, 4)?,
        revoked_at: codec::opt_ts_at(row, 5)?,
    })
}

fn tokens(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<TokenRecord>> {
    let mut stmt = conn.prepare_cached(sql).sql()?;
    let mut rows = stmt.query(params).sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        out.push(token(row)?);
    }
    Ok(out)
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn create_token(&self, new: &NewToken, now: Timestamp) -> Result<TokenRecord> {
        let scopes = serde_json::json!(new.scopes).to_string();
        let (name, hash) = (new.name.clone(), new.token_hash.clone());
        self.run(move |conn| {
            tokens(
                conn,
                queries::TOKEN_CREATE,
                params![name, scopes, hash, micros(now)],
            )?
            .pop()
            .ok_or_else(|| Error::Database("token insert returned no row".into()))
        })
        .await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        self.run(|conn| tokens(conn, queries::TOKEN_LIST, [])).await
    }

    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<TokenRecord> {
        self.run(move |conn| {
            tokens(conn, queries::TOKEN_REVOKE, params![id, micros(now)])?
                .pop()
                .ok_or(Error::NotFound {
                    what: "token",
                    id: id.to_string(),
                })
        })
        .await
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        let hash = token_hash.to_owned();
        self.run(move |conn| Ok(tokens(conn, queries::TOKEN_BY_HASH, [hash])?.pop()))
            .await
    }

    async fn any_active_token(&self) -> Result<bool> {
        self.run(|conn| {
            conn.prepare_cached(queries::TOKEN_ANY_ACTIVE)
                .sql()?
                .query_row([], |row| row.get(0))
                .sql()
        })
        .await
    }
}
