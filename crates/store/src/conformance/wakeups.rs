//! Cross-process wake-ups: offered exactly when the capability says so.

use crate::Store;
use std::sync::Arc;

/// Checks that wakeups are offered exactly with the capability.
pub async fn wakeups_are_offered_exactly_with_the_capability(store: Arc<dyn Store>) {
    assert_eq!(
        store.wakeups().is_some(),
        store.capabilities().cross_process_notify
    );
}
