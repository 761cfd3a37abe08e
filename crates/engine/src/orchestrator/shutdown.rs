//! The signal that stops an orchestrator gracefully.

use std::sync::Arc;
use tokio::sync::watch;

/// Cheap to clone; any clone triggers the shutdown of the orchestrator it came from.
#[derive(Clone, Debug)]
pub struct ShutdownSignal {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for ShutdownSignal {
    fn default() -> Self {
        Self {
            sender: Arc::new(watch::channel(false).0),
        }
    }
}

impl ShutdownSignal {
    /// Stop claiming, let running handlers finish, record their outcomes, release the rest.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether the shutdown was triggered.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once the signal has been triggered (at once if it already was).
    pub async fn triggered(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we wait.
        let _ = receiver.wait_for(|&stop| stop).await;
    }
}
