//! A worker's routes (its queue, and its handlers or `*`), advertised when it claims, at most
//! once per lease period per worker name and queue, so that a busy worker costs no write per
//! claim (the claim that is due writes it before it claims); heartbeats renew the advertisement of a worker that is busy with long steps.

use super::Workers;
use crate::orchestrator::advertise::{forget_before, interval};
use crate::telemetry::metrics;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tasker_store::ANY_HANDLER;
use tokio::time::Instant;

/// Names remembered at most; beyond it, those not seen for a while are forgotten.
const MAX_REMEMBERED: usize = 10_000;

#[derive(Default)]
pub(crate) struct Advertised {
    by_worker: Mutex<HashMap<(String, String), Entry>>,
}

struct Entry {
    handlers: Vec<String>,
    at: Instant,
    every: Duration,
}

impl Workers {
    /// Advertises `worker`'s routes on `queue` unless it did within its lease period with the
    /// same handlers. A failure is logged, not returned: only explanations depend on it.
    pub(crate) async fn advertise(
        &self,
        worker: &str,
        queue: &str,
        handlers: Option<&[String]>,
        lease: Duration,
    ) {
        let handlers: Vec<String> = match handlers {
            Some(list) => list.to_vec(),
            None => vec![ANY_HANDLER.to_owned()],
        };
        let every = interval(lease);
        {
            let mut map = self
                .inner
                .advertised
                .by_worker
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let key = (worker.to_owned(), queue.to_owned());
            if let Some(entry) = map.get(&key)
                && entry.handlers == handlers
                && entry.at.elapsed() < entry.every
            {
                return;
            }
            if map.len() >= MAX_REMEMBERED {
                map.retain(|_, e| e.at.elapsed() < e.every);
            }
            map.insert(
                key,
                Entry {
                    handlers: handlers.clone(),
                    at: Instant::now(),
                    every,
                },
            );
        }
        self.write(worker, queue, handlers).await;
    }

    /// Renews what `worker` advertised, when due (a heartbeat: the worker is alive).
    pub(crate) async fn readvertise(&self, worker: &str) {
        let due: Vec<(String, Vec<String>)> = {
            let mut map = self
                .inner
                .advertised
                .by_worker
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            map.iter_mut()
                .filter(|((name, _), e)| name == worker && e.at.elapsed() >= e.every)
                .map(|((_, queue), e)| {
                    e.at = Instant::now();
                    (queue.clone(), e.handlers.clone())
                })
                .collect()
        };
        for (queue, handlers) in due {
            self.write(worker, &queue, handlers).await;
        }
    }

    async fn write(&self, worker: &str, queue: &str, handlers: Vec<String>) {
        let engine = self.engine();
        let advertised_as = format!("{}{worker}", super::token::OWNER_PREFIX);
        let now = engine.now();
        if let Err(e) = engine
            .store()
            .advertise_handlers(
                &advertised_as,
                Some(queue),
                &handlers,
                now,
                forget_before(now),
            )
            .await
        {
            // The next claim past the period tries again.
            metrics::database_error(&e);
            tracing::debug!(error = %e, worker = %advertised_as, %queue, "cannot advertise a worker's handlers");
        }
    }
}
