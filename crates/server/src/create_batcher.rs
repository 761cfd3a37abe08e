//! Single task creations of concurrent requests, written together.
//!
//! Each `POST /v1/tasks` is one task, and one transaction per task makes the server as fast as
//! the database commits (each commit waits for its disk flush): measured, about 1,000 tasks/s
//! with 16 clients on a loaded two-core machine. Requests that arrive while earlier ones are
//! being written queue here; each writer takes what has queued (up to [`MAX_BATCH`]) and
//! creates it with one `Engine::create_tasks`, one transaction and one commit. A lone request
//! is written at once, so an idle server adds no delay. When a shared write is refused (one
//! request's bad context, a reused idempotency key), nothing of it was written, and each request
//! is created again on its own, so every request gets its own answer, as if it had been alone.
//!
//! A database that became unavailable is the exception: the connection may have been lost
//! while the `COMMIT` was on its way, after the database had made the tasks durable, so the
//! write may have happened. Writing again could then create a request's task twice (a request
//! without an `Idempotency-Key` has nothing that would find the first one). Every request of
//! that write is answered unavailable instead (503 with `Retry-After`), and its client decides:
//! a retry with an idempotency key is safe.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use tasker_engine::{CreateTask, Engine, Error};
use tasker_store::CreatedTask;
use tokio::sync::{Mutex, mpsc, oneshot};

/// The most requests written in one transaction.
pub const MAX_BATCH: usize = 64;
/// Writers at once: while one commits, the other gathers and writes what queued meanwhile.
/// Measured with 16 clients on two cores: 1 writer 2,100 tasks/s, 2 writers 3,100, 4 writers
/// 2,300 (smaller batches, more commits).
const WRITERS: usize = 2;
/// Requests waiting for a writer; more wait for room (backpressure on the connections).
const QUEUE: usize = 4 * MAX_BATCH;

type Reply = oneshot::Sender<Result<CreatedTask, Error>>;
type Queue = Arc<Mutex<mpsc::Receiver<(CreateTask, Reply)>>>;

/// Cheap to clone; the writers start with the first request (inside the server's runtime).
#[derive(Clone)]
pub struct CreateBatcher {
    engine: Engine,
    sender: Arc<OnceLock<mpsc::Sender<(CreateTask, Reply)>>>,
}

impl CreateBatcher {
    /// A batcher that creates tasks with `engine`; nothing runs until the first request.
    pub fn new(engine: Engine) -> CreateBatcher {
        CreateBatcher {
            engine,
            sender: Arc::new(OnceLock::new()),
        }
    }

    /// Creates the task, in a transaction shared with other requests queued at the same time.
    pub async fn create(&self, request: CreateTask) -> Result<CreatedTask, Error> {
        let sender = self.sender.get_or_init(|| start(&self.engine));
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((request, _))) = sender.send((request, reply)).await {
            // Writers gone (the runtime is shutting down): write it here.
            return self.engine.create_task(request).await;
        }
        match answer.await {
            Ok(result) => result,
            // A writer dropped the reply without answering only if its task was aborted.
            Err(_) => Err(Error::Orchestrator(
                "the task writer stopped before answering".into(),
            )),
        }
    }
}

fn start(engine: &Engine) -> mpsc::Sender<(CreateTask, Reply)> {
    let (sender, receiver) = mpsc::channel(QUEUE);
    let queue: Queue = Arc::new(Mutex::new(receiver));
    for _ in 0..WRITERS {
        tokio::spawn(writer(engine.clone(), queue.clone()));
    }
    sender
}

async fn writer(engine: Engine, queue: Queue) {
    loop {
        let batch = {
            let mut receiver = queue.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        write(&engine, batch).await;
    }
}

/// What a writer needs of the engine (a trait so that the tests can make the shared write fail
/// the ways a database does).
trait Creator: Sync {
    fn create_tasks(
        &self,
        requests: Vec<CreateTask>,
    ) -> impl Future<Output = Result<Vec<CreatedTask>, Error>> + Send;
    fn create_task(
        &self,
        request: CreateTask,
    ) -> impl Future<Output = Result<CreatedTask, Error>> + Send;
}

impl Creator for Engine {
    fn create_tasks(
        &self,
        requests: Vec<CreateTask>,
    ) -> impl Future<Output = Result<Vec<CreatedTask>, Error>> + Send {
        Engine::create_tasks(self, requests)
    }
    fn create_task(
        &self,
        request: CreateTask,
    ) -> impl Future<Output = Result<CreatedTask, Error>> + Send {
        Engine::create_task(self, request)
    }
}

/// The message of an error that says the database could not be reached, whose write may or may
/// not have been committed.
fn unavailable(e: &Error) -> Option<&str> {
    match e {
        Error::Store(tasker_store::Error::Unavailable(message)) => Some(message),
        _ => None,
    }
}

async fn write(engine: &impl Creator, mut batch: Vec<(CreateTask, Reply)>) {
    if batch.len() == 1 {
        let (request, reply) = batch.remove(0);
        let _ = reply.send(engine.create_task(request).await);
        return;
    }
    let requests: Vec<CreateTask> = batch.iter().map(|(r, _)| r.clone()).collect();
    match engine.create_tasks(requests).await {
        Ok(created) if created.len() == batch.len() => {
            for ((_, reply), task) in batch.into_iter().zip(created) {
                // A client that went away no longer waits for its answer.
                let _ = reply.send(Ok(task));
            }
        }
        Ok(created) => {
            // The store answers one result per request; writing again could create twice.
            let why = format!(
                "creating {} tasks returned {} results",
                batch.len(),
                created.len()
            );
            for (_, reply) in batch {
                let _ = reply.send(Err(Error::Store(tasker_store::Error::Database(
                    why.clone(),
                ))));
            }
        }
        Err(e) if unavailable(&e).is_some() => {
            // The commit may have happened: answering each request unavailable is safe, while
            // writing them again could create tasks twice (see the module's documentation).
            let message = unavailable(&e).unwrap_or_default();
            for (_, reply) in batch {
                let _ = reply.send(Err(Error::Store(tasker_store::Error::Unavailable(
                    message.to_owned(),
                ))));
            }
        }
        Err(_) => {
            // Nothing of the shared write was stored: each request on its own, so that the
            // refusal reaches only the request at fault.
            for (request, reply) in batch {
                let _ = reply.send(engine.create_task(request).await);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tasker_engine::{EngineConfig, HandlerRegistry, TemplateRef};

    const TEMPLATE: &str = "namespace: shop\nname: order\nversion: 1.0.0\ninput_schema:\n  type: object\n  required: [count]\n  properties:\n    count: { type: integer }\nsteps:\n  - name: only\n    handler: noop\n";

    async fn engine() -> Engine {
        let dir = std::env::temp_dir().join(format!(
            "tasker-batcher-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_file(&dir);
        let store = tasker::connect(&format!("sqlite://{}", dir.display()))
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        let engine = Engine::new(
            store,
            HandlerRegistry::with_builtins(),
            EngineConfig::default(),
        );
        engine
            .register_template_yaml(TEMPLATE)
            .await
            .expect("template");
        engine
    }

    fn request(context: serde_json::Value, key: Option<&str>) -> CreateTask {
        let mut request = CreateTask::new(TemplateRef::new("shop", "order"), context);
        request.idempotency_key = key.map(str::to_owned);
        request
    }

    /// A shared write that one request spoils answers every request as if it had been alone.
    #[tokio::test]
    async fn a_refused_shared_write_answers_each_request_on_its_own() {
        let engine = engine().await;
        let first = engine
            .create_task(request(json!({"count": 1}), Some("k")))
            .await
            .expect("first");
        let batch = [
            request(json!({"count": 2}), None),
            request(json!({"count": "not a number"}), None),
            request(json!({"count": 3}), Some("k")),
            request(json!({"count": 1}), Some("k")),
            request(json!({"count": 4}), None),
        ];
        let mut answers = Vec::new();
        let mut jobs = Vec::new();
        for r in batch {
            let (reply, answer) = oneshot::channel();
            jobs.push((r, reply));
            answers.push(answer);
        }
        write(&engine, jobs).await;
        let mut results = Vec::new();
        for answer in answers {
            results.push(answer.await.expect("answered"));
        }
        assert!(matches!(&results[0], Ok(c) if c.created));
        assert!(
            matches!(&results[1], Err(Error::Context { .. })),
            "{:?}",
            results[1]
        );
        assert!(
            matches!(&results[2], Err(Error::IdempotencyConflict { task, .. }) if *task == first.id),
            "{:?}",
            results[2]
        );
        assert!(matches!(&results[3], Ok(c) if !c.created && c.id == first.id));
        assert!(matches!(&results[4], Ok(c) if c.created));
        let contexts: Vec<_> = [&results[0], &results[4]]
            .into_iter()
            .map(|r| r.as_ref().expect("created").id)
            .collect();
        for (id, n) in contexts.into_iter().zip([2, 4]) {
            let task = engine.task(id).await.expect("task");
            assert_eq!(
                task.context,
                json!({"count": n}),
                "each reply names its own task"
            );
        }
    }

    /// Commits the shared write, then reports the database unavailable: a connection lost while
    /// the `COMMIT`'s answer was on its way.
    struct AnswerLost(Engine);

    impl Creator for AnswerLost {
        async fn create_tasks(&self, requests: Vec<CreateTask>) -> Result<Vec<CreatedTask>, Error> {
            self.0.create_tasks(requests).await?;
            Err(Error::Store(tasker_store::Error::Unavailable(
                "connection closed".into(),
            )))
        }
        async fn create_task(&self, request: CreateTask) -> Result<CreatedTask, Error> {
            self.0.create_task(request).await
        }
    }

    async fn task_count(engine: &Engine) -> usize {
        let filter = tasker::TaskFilter {
            limit: 100,
            ..tasker::TaskFilter::default()
        };
        engine.list_tasks(filter).await.expect("list").len()
    }

    /// A shared write whose outcome is unknown is not written again: every request of it is
    /// answered unavailable, and no task exists twice.
    #[tokio::test]
    async fn an_unavailable_database_answers_every_request_without_writing_again() {
        let engine = engine().await;
        let before = task_count(&engine).await;
        let mut answers = Vec::new();
        let mut jobs = Vec::new();
        for n in 0..3 {
            let (reply, answer) = oneshot::channel();
            jobs.push((request(json!({"count": n}), None), reply));
            answers.push(answer);
        }
        write(&AnswerLost(engine.clone()), jobs).await;
        for answer in answers {
            let result = answer.await.expect("answered");
            assert!(
                matches!(
                    &result,
                    Err(Error::Store(tasker_store::Error::Unavailable(m))) if m == "connection closed"
                ),
                "{result:?}"
            );
        }
        let after = task_count(&engine).await;
        assert_eq!(after - before, 3, "each request's task exists once");
    }

    /// Concurrent requests share writes, and each still gets its own task.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_each_get_their_own_task() {
        let engine = engine().await;
        let batcher = CreateBatcher::new(engine.clone());
        let mut calls = Vec::new();
        for n in 0..200 {
            let batcher = batcher.clone();
            calls.push(tokio::spawn(async move {
                (n, batcher.create(request(json!({"count": n}), None)).await)
            }));
        }
        let mut ids = std::collections::HashSet::new();
        for call in calls {
            let (n, result) = call.await.expect("joined");
            let created = result.expect("created");
            assert!(created.created);
            assert!(ids.insert(created.id), "task {} answered twice", created.id);
            let task = engine.task(created.id).await.expect("task");
            assert_eq!(task.context, json!({"count": n}));
        }
        assert_eq!(ids.len(), 200);
    }
}
