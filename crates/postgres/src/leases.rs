//! Leases: renewal by the heartbeat, discovery of expired ones by the rescuer, and release on
//! graceful shutdown.

use crate::PostgresStore;
use crate::error::DbResult;
use crate::rows::get;
use crate::sql;
use crate::transitions::History;
use serde_json::json;
use tasker_model::{State, StepId, Timestamp};
use tasker_store::{ExpiredLease, Result};

pub(crate) async fn renew(
    store: &PostgresStore,
    owner: &str,
    steps: &[(StepId, i32)],
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<Vec<StepId>> {
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let (ids, attempts) = in_id_order(steps);
    let client = store.lease_client().await?;
    let statement = client.prepare_cached(sql::RENEW_LEASES).await.db()?;
    client
        .query(&statement, &[&owner, &expires_at, &ids, &attempts, &now])
        .await
        .db()?
        .iter()
        .map(|row| get(row, "id"))
        .collect()
}

pub(crate) async fn database_time(store: &PostgresStore) -> Result<Timestamp> {
    let client = store.lease_client().await?;
    let statement = client.prepare_cached(sql::DATABASE_TIME).await.db()?;
    let row = client.query_one(&statement, &[]).await.db()?;
    get(&row, "now")
}

pub(crate) async fn expired(
    store: &PostgresStore,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<ExpiredLease>> {
    let client = store.client().await?;
    let statement = client.prepare_cached(sql::EXPIRED_LEASES).await.db()?;
    let rows = client
        .query(&statement, &[&now, &i64::from(limit)])
        .await
        .db()?;
    rows.iter()
        .map(|row| {
            Ok(ExpiredLease {
                step_id: get(row, "id")?,
                task_id: get(row, "task_id")?,
                template_id: get(row, "template_id")?,
                name: get(row, "name")?,
                owner: get(row, "lease_owner")?,
                attempt: get(row, "attempts")?,
                max_attempts: get(row, "max_attempts")?,
                retryable: get(row, "retryable")?,
                lease_expires_at: get(row, "lease_expires_at")?,
            })
        })
        .collect()
}

pub(crate) async fn release(store: &PostgresStore, owner: &str, now: Timestamp) -> Result<u64> {
    let mut client = store.lease_client().await?;
    let tx = client.transaction().await.db()?;
    let leased = tx.prepare_cached(sql::LEASED_TASKS).await.db()?;
    let task_ids = tx
        .query(&leased, &[&owner])
        .await
        .db()?
        .iter()
        .map(|row| get(row, "task_id"))
        .collect::<Result<Vec<i64>>>()?;
    if task_ids.is_empty() {
        return Ok(0);
    }
    let lock = tx.prepare_cached(sql::LOCK_TASKS).await.db()?;
    tx.query(&lock, &[&task_ids]).await.db()?;

    let mut history = History::default();
    let release = tx.prepare_cached(sql::RELEASE_LEASES).await.db()?;
    let released = tx.query(&release, &[&owner, &now]).await.db()?;
    for row in &released {
        // The attempt given back is the one after the count that remains.
        let attempt = get::<i32>(row, "attempts")? + 1;
        history.step(
            get(row, "id")?,
            State::InProgress,
            State::Pending,
            json!({ "released": true, "attempt": attempt, "worker": owner }),
            get(row, "transition_seq")?,
        );
    }
    finish_release(store, tx, history, &task_ids, !released.is_empty(), now).await?;
    Ok(released.len() as u64)
}

/// The end of a release, shared by both kinds: a blocked task that kept running only for the
/// steps just given back has failed now; the history is written; other processes are told
/// that steps are runnable again; commit.
async fn finish_release(
    store: &PostgresStore,
    tx: deadpool_postgres::Transaction<'_>,
    mut history: History,
    task_ids: &[i64],
    released_any: bool,
    now: Timestamp,
) -> Result<()> {
    let fail = tx.prepare_cached(sql::FAIL_IDLE_BLOCKED_TASKS).await.db()?;
    for row in tx.query(&fail, &[&task_ids, &now]).await.db()? {
        history.task(
            get(&row, "id")?,
            State::InProgress,
            State::Error,
            json!({}),
            get(&row, "transition_seq")?,
        );
    }
    history.write(&tx, now).await?;
    if released_any {
        crate::notify::hint(&tx, store.schema.as_deref()).await?;
    }
    tx.commit().await.db()
}

/// Gives back the given leases of `owner` without counting their attempts (see
/// `Store::release_steps`).
pub(crate) async fn release_steps(
    store: &PostgresStore,
    owner: &str,
    steps: &[(StepId, i32)],
    now: Timestamp,
    ready_at: Timestamp,
    reason: &str,
) -> Result<Vec<StepId>> {
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let (ids, attempts) = in_id_order(steps);
    let mut client = store.lease_client().await?;
    let tx = client.transaction().await.db()?;
    let tasks = tx.prepare_cached(sql::STEPS_TASKS).await.db()?;
    let mut task_ids = tx
        .query(&tasks, &[&ids])
        .await
        .db()?
        .iter()
        .map(|row| get(row, "task_id"))
        .collect::<Result<Vec<i64>>>()?;
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    task_ids.sort_unstable();
    let lock = tx.prepare_cached(sql::LOCK_TASKS).await.db()?;
    tx.query(&lock, &[&task_ids]).await.db()?;

    let mut history = History::default();
    let release = tx.prepare_cached(sql::RELEASE_STEPS).await.db()?;
    let released = tx
        .query(&release, &[&owner, &now, &ids, &attempts, &ready_at])
        .await
        .db()?;
    let mut released_ids = Vec::with_capacity(released.len());
    for row in &released {
        let id: i64 = get(row, "id")?;
        let attempt = get::<i32>(row, "attempts")? + 1;
        history.step(
            id,
            State::InProgress,
            State::Pending,
            json!({ "released": reason, "attempt": attempt, "worker": owner }),
            get(row, "transition_seq")?,
        );
        released_ids.push(id);
    }
    finish_release(store, tx, history, &task_ids, !released.is_empty(), now).await?;
    Ok(released_ids)
}

/// Steps and attempts as the two bound arrays, in id order: the order completions lock steps
/// in, so that renewals and releases never deadlock with them.
fn in_id_order(steps: &[(StepId, i32)]) -> (Vec<i64>, Vec<i32>) {
    let mut steps = steps.to_vec();
    steps.sort_unstable();
    steps.into_iter().unzip()
}
