//! Cross-process wake-ups through `LISTEN/NOTIFY`.
//!
//! Transactions that make work runnable (completions that release steps, leases given back at
//! shutdown, operator actions) send one `pg_notify` on the store's [`channel`], delivered at
//! commit; task creation hints right after its commit instead ([`Hinter`]).
//! Each process that runs an orchestrator keeps one dedicated connection, outside the pool,
//! that listens and bumps a `watch` counter;
//! idle claimers wait on it beside their poll timer. The counter coalesces bursts (a claimer
//! sees the latest value, not every notification), and a lost connection only means hints are
//! missed until it is back: it reconnects with backoff, and hints once when it does, since
//! something may have happened meanwhile.

use crate::error::DbResult;
use crate::sql;
use deadpool_postgres::Transaction;
use futures::StreamExt;
use std::sync::OnceLock;
use std::time::Duration;
use tasker_store::Result;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Config, NoTls};

/// The channel of the server's default schema; a store on a schema of its own uses
/// `tasker_work_<schema>` (see [`channel`]).
const CHANNEL: &str = "tasker_work";

/// PostgreSQL's longest identifier, in bytes: `pg_notify` refuses longer channel names and
/// `LISTEN` cuts them to this length.
const MAX_CHANNEL_LEN: usize = 63;

/// The channel a store on `schema` hints and listens on: one per schema, so that applications
/// on other schemas of the same database are not woken by each other's work (a notification
/// reaches every listener of its channel). Schema names are plain lower-case identifiers
/// (`check_schema_name`), so the channel needs no quoting. A long name is cut to PostgreSQL's
/// limit, so two schemas sharing their first 51 characters share a channel; the payload still
/// names the schema, and listeners skip hints of other schemas.
pub(crate) fn channel(schema: Option<&str>) -> String {
    match schema {
        None => CHANNEL.to_owned(),
        Some(schema) => {
            let mut name = format!("{CHANNEL}_{schema}");
            name.truncate(MAX_CHANNEL_LEN);
            name
        }
    }
}

const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(10);

/// Sends a hint from inside `tx`; PostgreSQL delivers it when (and if) `tx` commits, and
/// folds identical hints of one transaction into one.
pub(crate) async fn hint(tx: &Transaction<'_>, schema: Option<&str>) -> Result<()> {
    let statement = tx.prepare_cached(sql::NOTIFY_WORK).await.db()?;
    tx.execute(&statement, &[&channel(schema), &schema.unwrap_or("")])
        .await
        .db()?;
    Ok(())
}

/// Hints sent after a commit, outside the transaction that made the work: task creation.
///
/// A `NOTIFY` inside a transaction takes PostgreSQL's notification lock at commit and holds it
/// until the commit is durable, so every transaction that hints commits one at a time, each
/// waiting for its own disk flush. Many clients creating one task each then run at the speed
/// of one: measured with 16 concurrent single creates, 890 tasks/s hinting in the transaction,
/// 1,860 without. Here a creator only raises a flag; one task per store sends `pg_notify` on
/// its own, and flags raised while it does so fold into the next one. Listeners still learn
/// of the work only after it is committed; a hint lost to an error is only a missed hint.
pub(crate) struct Hinter {
    pool: deadpool_postgres::Pool,
    channel: String,
    payload: String,
    wake: std::sync::Arc<tokio::sync::Notify>,
    sender: OnceLock<JoinHandle<()>>,
    /// Hints raised so far, and (from the sender) how many of them a sent hint covered: a
    /// short-lived process waits for the second to reach the first before it exits.
    raised: std::sync::Arc<std::sync::atomic::AtomicU64>,
    covered: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl Hinter {
    pub(crate) fn new(pool: deadpool_postgres::Pool, schema: Option<&str>) -> Hinter {
        Hinter {
            pool,
            channel: channel(schema),
            payload: schema.unwrap_or("").to_owned(),
            wake: std::sync::Arc::new(tokio::sync::Notify::new()),
            sender: OnceLock::new(),
            raised: Default::default(),
            covered: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// Waits (up to `limit`) until every hint raised so far was sent or failed.
    pub(crate) async fn flush(&self, limit: std::time::Duration) {
        let raised = self.raised.load(std::sync::atomic::Ordering::Acquire);
        let mut covered = self.covered.subscribe();
        let _ = tokio::time::timeout(limit, covered.wait_for(|&sent| sent >= raised)).await;
    }

    /// Work was committed: hint it soon, folded with other hints raised meanwhile.
    pub(crate) fn hint_committed(&self) {
        self.sender.get_or_init(|| {
            let (pool, channel, payload, wake) = (
                self.pool.clone(),
                self.channel.clone(),
                self.payload.clone(),
                self.wake.clone(),
            );
            let (raised, covered) = (self.raised.clone(), self.covered.clone());
            tokio::spawn(async move {
                loop {
                    // A permit stored while a hint was being sent wakes this at once: one more
                    // hint covers every flag raised meanwhile.
                    wake.notified().await;
                    let upto = raised.load(std::sync::atomic::Ordering::Acquire);
                    if let Err(e) = send(&pool, &channel, &payload).await {
                        tracing::debug!(error = %e, "a work hint was not sent");
                    }
                    covered.send_replace(upto);
                }
            })
        });
        self.raised
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.wake.notify_one();
    }
}

impl Drop for Hinter {
    fn drop(&mut self) {
        if let Some(task) = self.sender.get() {
            task.abort();
        }
    }
}

async fn send(pool: &deadpool_postgres::Pool, channel: &str, payload: &str) -> Result<()> {
    let client = pool
        .get()
        .await
        .map_err(|e| tasker_store::Error::Unavailable(e.to_string()))?;
    let statement = client.prepare_cached(sql::NOTIFY_WORK).await.db()?;
    client
        .execute(&statement, &[&channel, &payload])
        .await
        .db()?;
    Ok(())
}

/// The listening side of one store: started on first use, stopped with the store.
pub(crate) struct Notifier {
    config: Config,
    schema: String,
    listener: OnceLock<Listener>,
}

struct Listener {
    wakeups: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Notifier {
    pub(crate) fn new(config: Config, schema: Option<&str>) -> Notifier {
        Notifier {
            config,
            schema: schema.unwrap_or("").to_owned(),
            listener: OnceLock::new(),
        }
    }

    /// The wake-up counter, starting the listener on first call; `None` outside a tokio
    /// runtime (nothing could drive the connection).
    pub(crate) fn wakeups(&self) -> Option<watch::Receiver<u64>> {
        if let Some(listener) = self.listener.get() {
            return Some(listener.wakeups.clone());
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let listener = self.listener.get_or_init(|| {
            let (sender, wakeups) = watch::channel(0);
            let task = runtime.spawn(listen(self.config.clone(), self.schema.clone(), sender));
            Listener { wakeups, task }
        });
        Some(listener.wakeups.clone())
    }
}

/// Listens until every receiver is gone, reconnecting with backoff whenever the connection
/// fails or is lost.
async fn listen(config: Config, schema: String, sender: watch::Sender<u64>) {
    let mut retry = FIRST_RETRY;
    loop {
        let outcome = listen_once(&config, &schema, &sender, &mut retry).await;
        if sender.is_closed() {
            return;
        }
        match outcome {
            Ok(()) => {
                tracing::warn!(retry_in = ?retry, "the wake-up connection closed; reconnecting")
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?retry, "the wake-up connection failed; claimers poll until it is back")
            }
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(MAX_RETRY);
    }
}

async fn listen_once(
    config: &Config,
    schema: &str,
    sender: &watch::Sender<u64>,
    retry: &mut Duration,
) -> std::result::Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    // The connection must be polled for LISTEN to complete, so both run at once until it has.
    let channel = channel((!schema.is_empty()).then_some(schema));
    let statement = format!("LISTEN {channel}");
    let listen = client.batch_execute(&statement);
    tokio::pin!(listen);
    loop {
        tokio::select! {
            done = &mut listen => {
                done?;
                break;
            }
            message = messages.next() => match message {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
        }
    }
    tracing::debug!(%channel, "listening for wake-ups");
    *retry = FIRST_RETRY;
    // Hints sent while nobody listened are lost: look once now.
    bump(sender);
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(Ok(AsyncMessage::Notification(n))) if n.payload() == schema => bump(sender),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            _ = sender.closed() => return Ok(()),
        }
    }
}

fn bump(sender: &watch::Sender<u64>) {
    sender.send_modify(|n| *n = n.wrapping_add(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_schema_has_a_channel_of_its_own() {
        assert_eq!(channel(None), "tasker_work");
        assert_eq!(channel(Some("billing")), "tasker_work_billing");
        assert_ne!(channel(Some("billing")), channel(Some("shipping")));
        let longest = "s".repeat(63);
        assert_eq!(channel(Some(&longest)).len(), MAX_CHANNEL_LEN);
        assert!(channel(Some(&longest)).starts_with("tasker_work_sss"));
    }
}
