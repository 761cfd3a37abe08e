//! Outcomes of concurrent worker requests, written together: each request queues its outcome,
//! one writer takes everything queued (up to [`MAX_BATCH`]) and writes it with one
//! `complete_steps`, one transaction. While it writes, the next outcomes queue for the next
//! batch; a lone outcome is written at once. One writer, as in the orchestrator's completer:
//! two writers at once waited on each other's task locks. A batch the store refuses for a
//! reason other than availability is written again one outcome at a time, so that the refusal
//! reaches only the request at fault.

use crate::engine::Engine;
use crate::telemetry::metrics;
use std::collections::HashSet;
use std::sync::OnceLock;
use tasker_store::{CompletionResult, Error, StepOutcome};
use tokio::sync::{mpsc, oneshot};

/// The most outcomes written in one transaction.
pub(crate) const MAX_BATCH: usize = 256;
/// Outcomes waiting for the writer; more wait for room (backpressure on the connections).
const QUEUE: usize = 4 * MAX_BATCH;

type Reply = oneshot::Sender<Result<CompletionResult, Error>>;
type Job = (StepOutcome, Reply);

pub(crate) struct Batcher {
    engine: Engine,
    sender: OnceLock<mpsc::Sender<Job>>,
}

impl Batcher {
    pub(crate) fn new(engine: Engine) -> Batcher {
        Batcher {
            engine,
            sender: OnceLock::new(),
        }
    }

    /// Writes the outcome (fenced as every outcome is) in a transaction shared with other
    /// requests' outcomes queued at the same time.
    pub(crate) async fn write(&self, outcome: StepOutcome) -> Result<CompletionResult, Error> {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(writer(self.engine.clone(), receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((outcome, _))) = sender.send((outcome, reply)).await {
            // The writer is gone (the runtime is shutting down): write it here.
            return single(&self.engine, outcome).await;
        }
        answer
            .await
            .unwrap_or_else(|_| Err(Error::Unavailable("the outcome writer stopped".into())))
    }
}

async fn writer(engine: Engine, mut receiver: mpsc::Receiver<Job>) {
    // An outcome for a step already in the batch waits for the next one: one statement never
    // carries two outcomes of one step.
    let mut held: Vec<Job> = Vec::new();
    loop {
        let mut batch: Vec<Job> = Vec::new();
        let mut steps = HashSet::new();
        let mut later = Vec::new();
        for job in held.drain(..) {
            if steps.insert(job.0.step_id) {
                batch.push(job);
            } else {
                later.push(job);
            }
        }
        held = later;
        if batch.is_empty() {
            let Some(first) = receiver.recv().await else {
                return;
            };
            steps.insert(first.0.step_id);
            batch.push(first);
        }
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) if steps.insert(job.0.step_id) => batch.push(job),
                Ok(job) => held.push(job),
                Err(_) => break,
            }
        }
        write(&engine, batch).await;
    }
}

async fn write(engine: &Engine, batch: Vec<Job>) {
    let outcomes: Vec<StepOutcome> = batch.iter().map(|(o, _)| o.clone()).collect();
    let written = engine.store().complete_steps(&outcomes, engine.now()).await;
    metrics::completion_batch(outcomes.len());
    match written {
        Ok(results) if results.len() == batch.len() => {
            for ((_, reply), result) in batch.into_iter().zip(results) {
                // A worker that went away no longer waits for its answer.
                let _ = reply.send(Ok(result));
            }
        }
        Ok(results) => {
            let why = format!(
                "writing {} outcomes returned {} results",
                batch.len(),
                results.len()
            );
            for (_, reply) in batch {
                let _ = reply.send(Err(Error::Database(why.clone())));
            }
        }
        Err(e) if batch.len() > 1 && !e.is_transient() => {
            metrics::database_error(&e);
            tracing::warn!(error = %e, outcomes = batch.len(), "the store refuses a batch of worker outcomes; writing them one at a time");
            for (outcome, reply) in batch {
                let _ = reply.send(single(engine, outcome).await);
            }
        }
        Err(e) => {
            metrics::database_error(&e);
            for (_, reply) in batch {
                let _ = reply.send(Err(copy(&e)));
            }
        }
    }
}

async fn single(engine: &Engine, outcome: StepOutcome) -> Result<CompletionResult, Error> {
    let mut results = engine
        .store()
        .complete_steps(std::slice::from_ref(&outcome), engine.now())
        .await?;
    results
        .pop()
        .ok_or_else(|| Error::Database("writing an outcome returned no result".into()))
}

/// The same error for every request of a batch (store errors are not `Clone`).
fn copy(e: &Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m.clone()),
        Error::Conflict(m) => Error::Conflict(m.clone()),
        other => Error::Database(other.to_string()),
    }
}
