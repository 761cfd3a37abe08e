//! In-process wake-ups: work appeared (a task was created, retried or resolved, a completion
//! released steps or scheduled a retry), so idle claimers look again at once instead of at the
//! next poll; and the same from other processes, as hints from the store ([`hinted`]).

use std::sync::{Arc, Weak};
use tasker_model::Clock;
use tokio::sync::Notify;
use tokio::sync::futures::Notified;
use tokio::sync::watch;

#[derive(Debug, Default)]
pub(crate) struct Wakeup {
    notify: Arc<Notify>,
}

impl Wakeup {
    /// Claimers also wake when `clock` is moved by hand (a test's `ManualClock`): a retry
    /// whose time it passed runs at once rather than at the next poll, which follows real
    /// time. The clock holds only a weak reference: a dropped engine is forgotten.
    pub(crate) fn follow(&self, clock: &dyn Clock) {
        let notify: Weak<Notify> = Arc::downgrade(&self.notify);
        clock.listen(Box::new(move || match notify.upgrade() {
            Some(notify) => {
                notify.notify_waiters();
                true
            }
            None => false,
        }));
    }

    /// Wakes every claimer of this process that is waiting (or has enabled a [`Notified`]).
    pub(crate) fn notify(&self) {
        self.notify.notify_waiters();
    }

    /// Call `enable()` on the pinned future *before* looking for work, so that a notification
    /// sent while looking is not lost.
    pub(crate) fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }
}

/// Resolves when another process hinted that work appeared since the hints were last marked
/// seen (`borrow_and_update`, before looking for work); never when the store has no hints.
pub(crate) async fn hinted(hints: &mut Option<watch::Receiver<u64>>) {
    if let Some(receiver) = hints.as_mut() {
        if receiver.changed().await.is_ok() {
            return;
        }
        // The store stopped listening: rely on polling from now on.
        *hints = None;
    }
    std::future::pending::<()>().await;
}
