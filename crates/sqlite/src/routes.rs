//! Routes: which runnable steps a claim's filter admits (per handler, along the ready index),
//! and who advertised which routes.

use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::queries;
use rusqlite::{Connection, TransactionBehavior, params};
use std::sync::OnceLock;
use tasker_model::{StepId, TaskId, Timestamp};
use tasker_store::{ClaimFilter, ClaimRequest, HandlerRoute, Result};

/// Handlers per claim statement. A filter with more is claimed in several statements, whose
/// candidates are merged; this keeps the compound SELECT within SQLite's limits and the
/// number of distinct statements in the connection's cache small.
const HANDLERS_PER_STATEMENT: usize = 32;

/// The claim statement for `n` handlers (1 ..= [`HANDLERS_PER_STATEMENT`]): one branch of
/// `claim_steps.sql` per handler, joined with UNION ALL, oldest first up to the limit. Built
/// once per count; the connection caches each prepared statement by its text.
pub(crate) fn claim_text(n: usize) -> &'static str {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        (1..=HANDLERS_PER_STATEMENT)
            .map(|n| {
                let branches: Vec<String> = (0..n)
                    .map(|i| queries::CLAIM_STEPS.replace("?HANDLER", &format!("?{}", i + 4)))
                    .collect();
                format!(
                    "{}\nORDER BY ready_at, id\nLIMIT ?2",
                    branches.join("\nUNION ALL\n")
                )
            })
            .collect()
    });
    &texts[n.clamp(1, HANDLERS_PER_STATEMENT) - 1]
}

/// The queue as stored (`''`: in-process).
fn stored_queue(filter: &ClaimFilter) -> &str {
    filter.queue.as_deref().unwrap_or("")
}

/// The handlers a filter claims for, each once: its own, or every handler with a step in
/// the ready index on its queue (a skip scan).
fn handlers_of(conn: &Connection, filter: &ClaimFilter) -> Result<Vec<String>> {
    let mut handlers = match &filter.handlers {
        Some(handlers) => handlers.clone(),
        None => {
            let mut stmt = conn.prepare_cached(queries::QUEUE_HANDLERS).sql()?;
            let mut rows = stmt.query([stored_queue(filter)]).sql()?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().sql()? {
                out.push(row.get(0).sql()?);
            }
            out
        }
    };
    handlers.sort_unstable();
    handlers.dedup();
    Ok(handlers)
}

/// The runnable steps a claim takes (with their states), oldest first, up to its limit.
pub(crate) fn ready_candidates(
    conn: &Connection,
    request: &ClaimRequest,
) -> Result<Vec<(StepId, String)>> {
    let handlers = handlers_of(conn, &request.filter)?;
    let now = micros(request.now);
    let limit = i64::from(request.limit);
    let queue = stored_queue(&request.filter);
    let mut found: Vec<(i64, StepId, String)> = Vec::new();
    for chunk in handlers.chunks(HANDLERS_PER_STATEMENT) {
        let mut stmt = conn.prepare_cached(claim_text(chunk.len())).sql()?;
        let mut params: Vec<&dyn rusqlite::ToSql> = vec![&now, &limit, &queue];
        params.extend(chunk.iter().map(|h| h as &dyn rusqlite::ToSql));
        let mut rows = stmt.query(params.as_slice()).sql()?;
        while let Some(row) = rows.next().sql()? {
            found.push((row.get(2).sql()?, row.get(0).sql()?, row.get(1).sql()?));
        }
    }
    // Each statement returned its oldest; across statements, merge.
    found.sort_unstable_by_key(|(ready_at, id, _)| (*ready_at, *id));
    found.truncate(request.limit as usize);
    Ok(found
        .into_iter()
        .map(|(_, id, state)| (id, state))
        .collect())
}

/// The runnable steps of one task that the claim's filter admits, oldest first.
pub(crate) fn task_candidates(
    conn: &Connection,
    request: &ClaimRequest,
    task: TaskId,
) -> Result<Vec<(StepId, String)>> {
    let handlers = request
        .filter
        .handlers
        .as_ref()
        .map(|handlers| codec::to_text(&serde_json::json!(handlers)));
    let mut stmt = conn.prepare_cached(queries::CLAIM_TASK_STEPS).sql()?;
    let mut rows = stmt
        .query(params![
            micros(request.now),
            i64::from(request.limit),
            task,
            stored_queue(&request.filter),
            handlers
        ])
        .sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        out.push((row.get(0).sql()?, row.get(1).sql()?));
    }
    Ok(out)
}

/// Whether `filter` admits step `id` (a released step offered to a hand-off).
pub(crate) fn admits(conn: &Connection, filter: &ClaimFilter, id: StepId) -> Result<bool> {
    let (queue, handler): (String, String) = conn
        .prepare_cached(queries::STEP_ROUTE)
        .sql()?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .sql()?;
    Ok(filter.admits(codec::queue(queue).as_deref(), &handler))
}

/// The earliest `ready_at` among the steps `filter` admits: one index probe per handler.
pub(crate) fn next_ready_at(conn: &Connection, filter: &ClaimFilter) -> Result<Option<Timestamp>> {
    let queue = stored_queue(filter);
    let mut stmt = conn.prepare_cached(queries::NEXT_READY_AT).sql()?;
    let mut earliest: Option<i64> = None;
    for handler in handlers_of(conn, filter)? {
        let mut rows = stmt.query(params![queue, handler]).sql()?;
        if let Some(row) = rows.next().sql()? {
            let at: i64 = row.get(0).sql()?;
            earliest = Some(earliest.map_or(at, |e| e.min(at)));
        }
    }
    codec::opt_timestamp(earliest)
}

pub(crate) fn advertise(
    conn: &mut Connection,
    worker: &str,
    queue: Option<&str>,
    handlers: &[String],
    now: Timestamp,
    forget_before: Timestamp,
) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    {
        let mut upsert = tx.prepare_cached(queries::ADVERTISE_HANDLER).sql()?;
        for handler in handlers {
            upsert
                .execute(params![worker, queue.unwrap_or(""), handler, micros(now)])
                .sql()?;
        }
        // Rows just written are never older than `now`; only a `forget_before` after `now`
        // could remove them, which is the caller's to ask.
        tx.prepare_cached(queries::FORGET_WORKERS)
            .sql()?
            .execute([micros(forget_before)])
            .sql()?;
    }
    tx.commit().sql()
}

pub(crate) fn advertised(
    conn: &Connection,
    wanted: &[HandlerRoute],
    since: Timestamp,
) -> Result<Vec<HandlerRoute>> {
    let mut stmt = conn.prepare_cached(queries::ROUTE_ADVERTISED).sql()?;
    let mut found: Vec<HandlerRoute> = Vec::new();
    for route in wanted {
        if found.contains(route) {
            continue;
        }
        let queue = route.queue.as_deref().unwrap_or("");
        let advertised: bool = stmt
            .query_row(params![queue, route.handler, micros(since)], |row| {
                row.get(0)
            })
            .sql()?;
        if advertised {
            found.push(route.clone());
        }
    }
    Ok(found)
}
