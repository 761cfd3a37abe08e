//! In-process wake-ups: work appeared (a task was created, retried or resolved, a completion
//! released steps or scheduled a retry), so idle claimers look again at once instead of at the
//! next poll.

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

#[derive(Debug, Default)]
pub(crate) struct Wakeup {
    notify: Notify,
}

impl Wakeup {
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
