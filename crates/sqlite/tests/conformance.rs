//! The shared conformance suite, each case on a fresh temporary SQLite file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tasker_sqlite::SqliteStore;
use tasker_store::Store;

async fn factory() -> Option<Arc<dyn Store>> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "tasker-sqlite-conformance-{}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let store = SqliteStore::open_temporary(&path.to_string_lossy()).expect("open sqlite");
    store.migrate().await.expect("migrate");
    Some(Arc::new(store))
}

tasker_store::conformance_tests!(factory);
