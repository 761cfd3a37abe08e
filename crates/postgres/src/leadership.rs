//! Leader election through lease rows in `tasker_leaders`: one holder per name, renewed by
//! its holder, taken over by anyone once its term has ended.

use crate::PostgresStore;
use crate::error::DbResult;
use crate::sql;
use tasker_model::Timestamp;
use tasker_store::Result;

pub(crate) async fn try_acquire(
    store: &PostgresStore,
    name: &str,
    owner: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<bool> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(sql::TRY_ACQUIRE_LEADERSHIP)
        .await
        .db()?;
    let changed = client
        .execute(&statement, &[&name, &owner, &now, &expires_at])
        .await
        .db()?;
    Ok(changed == 1)
}

pub(crate) async fn release(store: &PostgresStore, name: &str, owner: &str) -> Result<()> {
    let client = store.client().await?;
    let statement = client.prepare_cached(sql::RELEASE_LEADERSHIP).await.db()?;
    client.execute(&statement, &[&name, &owner]).await.db()?;
    Ok(())
}
