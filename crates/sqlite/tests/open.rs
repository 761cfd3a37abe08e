//! Opening databases, migrations and what the backend says about itself.

use tasker_sqlite::SqliteStore;
use tasker_store::Store;

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "tasker-sqlite-open-{}-{name}.db",
        std::process::id()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absolute_url_creates_the_file_and_does_not_migrate() {
    let path = temp("url");
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::open_temporary(&url).expect("open");
    assert!(path.exists(), "the file is created on open");
    assert_eq!(
        store.pending_migrations().await.expect("pending"),
        vec![
            "V1__initial".to_string(),
            "V2__leaders".to_string(),
            "V3__derived_current_transition".to_string(),
            "V4__service".to_string(),
            "V5__routes".to_string(),
            "V6__last_error".to_string(),
        ]
    );
    assert_eq!(
        store.migrate().await.expect("migrate"),
        vec![
            "V1__initial".to_string(),
            "V2__leaders".to_string(),
            "V3__derived_current_transition".to_string(),
            "V4__service".to_string(),
            "V5__routes".to_string(),
            "V6__last_error".to_string(),
        ]
    );
    assert!(
        store
            .pending_migrations()
            .await
            .expect("pending")
            .is_empty()
    );
    drop(store);
    assert!(
        !path.exists(),
        "a temporary database is removed with its store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_file_stays_migrated_when_opened_again() {
    let path = temp("reopen");
    let plain = path.to_string_lossy().into_owned();
    SqliteStore::open(&plain)
        .expect("open")
        .migrate()
        .await
        .expect("migrate");
    let again = SqliteStore::open_temporary(&plain).expect("reopen");
    assert!(
        again
            .pending_migrations()
            .await
            .expect("pending")
            .is_empty()
    );
    assert!(again.migrate().await.expect("migrate").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_reports_version_and_settings() {
    let path = temp("describe");
    let store = SqliteStore::open_temporary(&path.to_string_lossy()).expect("open");
    let info = store.describe().await.expect("describe");
    assert_eq!(info.backend, "sqlite");
    assert!(
        info.server_version.starts_with("3."),
        "{}",
        info.server_version
    );
    let setting = |name: &str| {
        info.settings
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(setting("journal_mode").as_deref(), Some("wal"));
    assert_eq!(setting("synchronous").as_deref(), Some("normal"));
    assert_eq!(setting("busy_timeout_ms").as_deref(), Some("5000"));
    assert_eq!(setting("foreign_keys").as_deref(), Some("1"));
    let caps = store.capabilities();
    assert!(!caps.skip_locked && !caps.multi_process && !caps.cross_process_notify);
    assert_eq!(store.backend_name(), "sqlite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_databases_work_for_tests() {
    let store = SqliteStore::open("sqlite::memory:").expect("open");
    store.migrate().await.expect("migrate");
    assert!(store.list_templates().await.expect("list").is_empty());
}

#[test]
fn a_missing_directory_is_reported_with_the_path() {
    let err = SqliteStore::open("sqlite:///nonexistent-tasker-dir/sub/t.db").unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, tasker_store::Error::Unavailable(_)),
        "{err:?}"
    );
    assert!(
        message.contains("/nonexistent-tasker-dir/sub/t.db"),
        "{message}"
    );
}
