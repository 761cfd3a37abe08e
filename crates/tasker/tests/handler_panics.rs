//! A handler's panic is one error line in the log, not the default panic report; other panics
//! still reach the hook that was there before. A test binary of its own: panic hooks and the
//! global log subscriber are per process.

use serde_json::json;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tasker::{CreateTask, OrchestratorConfig, State, TaskerBuilder};

/// Log output, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const MARKER: &str = "the flux capacitor broke";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_panic_is_one_log_line_and_other_panics_reach_the_previous_hook() {
    let log = Captured::default();
    let writer = log.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();
    // The hook the application had: it counts the panics it sees.
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::panic::set_hook(Box::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));

    let engine = TaskerBuilder::new("sqlite::memory:")
        .handler_fn("explode", |_ctx| async move {
            if true {
                panic!("{MARKER}");
            }
            Ok(json!(null))
        })
        .build()
        .await
        .unwrap();
    engine
        .register_template_yaml(
            "namespace: t\nname: boom\nversion: 1.0.0\nsteps:\n  - name: blast\n    handler: explode\n    retry: { max_attempts: 1 }\n",
        )
        .await
        .unwrap();
    let task = engine
        .create_task(CreateTask::new("t/boom".parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id;
    let running = engine.orchestrator(OrchestratorConfig::default()).spawn();
    let done = engine
        .wait_for_task(task, Some(Duration::from_secs(20)))
        .await
        .unwrap();
    running.shutdown().await.unwrap();
    assert_eq!(done.state, State::Error);

    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "the handler's panic reached the previous hook"
    );
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(MARKER)).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("ERROR"), "{text}");
    assert!(
        lines[0].contains(&format!("handler panicked: {MARKER}")),
        "{text}"
    );
    assert!(lines[0].contains("step=blast"), "{text}");
    assert!(
        lines[0].contains("handler_panics.rs"),
        "the location: {text}"
    );

    // A panic outside any handler goes to the previous hook as before.
    let outside = std::thread::spawn(|| panic!("not a handler")).join();
    assert!(outside.is_err());
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}
