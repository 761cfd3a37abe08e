//! Who runs what: the routes (queue, handler) that orchestrators and workers advertise, so
//! that a step nobody can run is explained rather than left waiting in silence.

use crate::PostgresStore;
use crate::error::DbResult;
use crate::read::query;
use crate::rows::get;
use crate::sql;
use std::collections::HashSet;
use tasker_model::Timestamp;
use tasker_store::{HandlerRoute, Result};

pub(crate) async fn advertise(
    store: &PostgresStore,
    worker: &str,
    queue: Option<&str>,
    handlers: &[String],
    now: Timestamp,
    forget_before: Timestamp,
) -> Result<()> {
    // An upsert may not touch a row twice in one statement.
    let mut names: Vec<&str> = handlers.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let queue = queue.unwrap_or("");
    let client = store.client().await?;
    let statement = client.prepare_cached(sql::ADVERTISE_HANDLERS).await.db()?;
    client
        .execute(&statement, &[&worker, &queue, &names, &now, &forget_before])
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn advertised(
    store: &PostgresStore,
    wanted: &[HandlerRoute],
    since: Timestamp,
) -> Result<Vec<HandlerRoute>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let queues: Vec<&str> = wanted
        .iter()
        .map(|route| route.queue.as_deref().unwrap_or(""))
        .collect();
    let handlers: Vec<&str> = wanted.iter().map(|route| route.handler.as_str()).collect();
    let rows = query(store, sql::ADVERTISED_ROUTES, &[&queues, &handlers, &since]).await?;
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for row in &rows {
        let position: i64 = get(row, "position")?;
        let route = usize::try_from(position - 1)
            .ok()
            .and_then(|index| wanted.get(index))
            .ok_or_else(|| {
                tasker_store::Error::Corrupt(format!("advertised route position {position}"))
            })?;
        if seen.insert(route) {
            found.push(route.clone());
        }
    }
    Ok(found)
}
