//! The shared conformance suite, run against PostgreSQL: each case gets a migrated schema of
//! its own (`tasker_test_<pid>_<n>_<random>`; schemas of finished runs are dropped on the next).

mod common;

use std::sync::Arc;
use tasker_store::Store;

async fn factory() -> Option<Arc<dyn Store>> {
    let store = common::fresh_store("conformance").await?;
    Some(store)
}

tasker_store::conformance_tests!(factory);
