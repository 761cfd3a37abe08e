//! Leader election: one holder per name at a time, renewals, terms that end, hand-over.

use super::fixture::{secs, t0};
use crate::Store;
use std::sync::Arc;

async fn acquire(store: &dyn Store, name: &str, owner: &str, at: i64, until: i64) -> bool {
    store
        .try_acquire_leadership(name, owner, t0() + secs(at), t0() + secs(until))
        .await
        .expect("try to acquire leadership")
}

/// Checks that leadership is exclusive until its term ends.
pub async fn leadership_is_exclusive_until_its_term_ends(store: Arc<dyn Store>) {
    let s = &*store;
    assert!(acquire(s, "rescuer", "a", 0, 10).await, "nobody held it");
    assert!(!acquire(s, "rescuer", "b", 1, 11).await, "a holds it");
    assert!(acquire(s, "rescuer", "a", 2, 12).await, "a renews");
    assert!(
        !acquire(s, "rescuer", "b", 11, 21).await,
        "a renewed until 12"
    );
    // Names are independent.
    assert!(acquire(s, "cleaner", "b", 11, 21).await, "another name");
    assert!(acquire(s, "rescuer", "b", 12, 22).await, "a's term ended");
    assert!(!acquire(s, "rescuer", "a", 13, 23).await, "b took over");
    assert!(
        !acquire(s, "cleaner", "a", 13, 23).await,
        "b holds the other name"
    );
}

/// Checks that released leadership passes at once.
pub async fn released_leadership_passes_at_once(store: Arc<dyn Store>) {
    let s = &*store;
    assert!(acquire(s, "rescuer", "a", 0, 60).await);
    // Only the holder can give it up.
    s.release_leadership("rescuer", "b")
        .await
        .expect("release by a non-holder");
    assert!(!acquire(s, "rescuer", "b", 1, 61).await, "a still holds it");
    s.release_leadership("rescuer", "a")
        .await
        .expect("release by the holder");
    assert!(acquire(s, "rescuer", "b", 1, 61).await, "free at once");
    // Releasing what one does not hold (any more) is not an error.
    s.release_leadership("rescuer", "a")
        .await
        .expect("release twice");
    assert!(!acquire(s, "rescuer", "a", 2, 62).await, "b holds it");
}
