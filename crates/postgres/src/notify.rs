//! Cross-process wake-ups through `LISTEN/NOTIFY`.
//!
//! Transactions that make work runnable (completions that release steps, leases given back at
//! shutdown, operator actions) send one `pg_notify` on [`CHANNEL`], delivered at commit; task
//! creation hints right after its commit instead ([`Hinter`]).
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

/// The channel every Tasker process listens on; the payload names the schema, so that stores
/// on other schemas of the same database ignore each other's hints.
pub(crate) const CHANNEL: &str = "tasker_work";

const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(10);

/// Sends a hint from inside `tx`; PostgreSQL delivers it when (and if) `tx` commits, and
/// folds identical hints of one transaction into one.
pub(crate) async fn hint(tx: &Transaction<'_>, schema: Option<&str>) -> Result<()> {
    let statement = tx.prepare_cached(sql::NOTIFY_WORK).await.db()?;
    tx.execute(&statement, &[&CHANNEL, &schema.unwrap_or("")])
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
    payload: String,
    wake: std::sync::Arc<tokio::sync::Notify>,
    sender: OnceLock<JoinHandle<()>>,
}

impl Hinter {
    pub(crate) fn new(pool: deadpool_postgres::Pool, schema: Option<&str>) -> Hinter {
        Hinter {
            pool,
            payload: schema.unwrap_or("").to_owned(),
            wake: std::sync::Arc::new(tokio::sync::Notify::new()),
            sender: OnceLock::new(),
        }
    }

    /// Work was committed: hint it soon, folded with other hints raised meanwhile.
    pub(crate) fn hint_committed(&self) {
        self.sender.get_or_init(|| {
            let (pool, payload, wake) =
                (self.pool.clone(), self.payload.clone(), self.wake.clone());
            tokio::spawn(async move {
                loop {
                    // A permit stored while a hint was being sent wakes this at once: one more
                    // hint covers every flag raised meanwhile.
                    wake.notified().await;
                    if let Err(e) = send(&pool, &payload).await {
                        tracing::debug!(error = %e, "a work hint was not sent");
                    }
                }
            })
        });
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

async fn send(pool: &deadpool_postgres::Pool, payload: &str) -> Result<()> {
    let client = pool
        .get()
        .await
        .map_err(|e| tasker_store::Error::Unavailable(e.to_string()))?;
    let statement = client.prepare_cached(sql::NOTIFY_WORK).await.db()?;
    client
        .execute(&statement, &[&CHANNEL, &payload])
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
    let statement = format!("LISTEN {CHANNEL}");
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
    tracing::debug!(channel = CHANNEL, "listening for wake-ups");
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
