//! Cross-process wake-ups through `LISTEN/NOTIFY`.
//!
//! Transactions that make work runnable (task creation, completions that release steps,
//! leases given back at shutdown) send one `pg_notify` on [`CHANNEL`], delivered at commit.
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
