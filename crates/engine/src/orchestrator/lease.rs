//! The leases this orchestrator holds, one per running attempt, and the rule that governs them:
//! **a lease that was not renewed in time is lost, and its attempt is told to stop.**
//!
//! Each attempt keeps a local deadline on the monotonic clock: the moment its claim (or its
//! last successful renewal) was *sent*, plus one lease. The database's expiry is computed from
//! a later moment, so the local deadline always passes first. When it passes, or when a renewal
//! comes back without the step (rescued, resolved, cancelled), the attempt's cancellation token
//! is cancelled and the executor drops the handler: nothing keeps running on a lease that
//! someone else may now hold. Entries are keyed by step *and attempt*: an old attempt can never
//! remove, renew or cancel the entry of a newer attempt of the same step in this process.

use crate::telemetry::metrics;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tasker_model::StepId;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// One running attempt's lease, as this process sees it.
#[derive(Debug)]
pub(crate) struct Lease {
    pub(crate) step_id: StepId,
    pub(crate) attempt: i32,
    /// Cancelled when the attempt must stop (lease lost, time-out, shutdown).
    pub(crate) cancel: CancellationToken,
    /// After this instant the lease may have expired in the database.
    deadline: Mutex<Instant>,
    /// The handler returned; the outcome is on its way to the store (still renewed).
    finished: AtomicBool,
    /// The lease was found lost (set once, before `cancel` fires for that reason).
    lost: AtomicBool,
    /// The handler of this attempt is no longer running (returned, or stopped and dropped).
    ended: AtomicBool,
    ended_signal: Notify,
    /// An older attempt of the same step that was still tracked here when this one was
    /// claimed: this attempt starts only once that one has ended.
    predecessor: Mutex<Option<Arc<Lease>>>,
}

impl Lease {
    pub(crate) fn deadline(&self) -> Instant {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn extend(&self, deadline: Instant) {
        let mut current = self.deadline.lock().unwrap_or_else(|e| e.into_inner());
        if deadline > *current {
            *current = deadline;
        }
    }

    /// The handler is no longer running.
    pub(crate) fn end(&self) {
        self.ended.store(true, Ordering::Release);
        self.ended_signal.notify_waiters();
    }

    async fn ended(&self) {
        loop {
            let signal = self.ended_signal.notified();
            tokio::pin!(signal);
            signal.as_mut().enable();
            if self.ended.load(Ordering::Acquire) {
                return;
            }
            signal.await;
        }
    }

    /// Waits until an older attempt of the same step in this process has stopped, so that two
    /// attempts never run at once even when the older one learnt of its lost lease late.
    pub(crate) async fn wait_for_predecessor(&self) {
        let older = self
            .predecessor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(older) = older {
            older.ended().await;
        }
    }

    pub(crate) fn mark_finished(&self) {
        self.finished.store(true, Ordering::Release);
    }

    #[cfg(test)]
    fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }

    /// Marks the lease lost and tells the attempt to stop; `true` the first time.
    pub(crate) fn lose(&self) -> bool {
        let first = !self.lost.swap(true, Ordering::AcqRel);
        self.cancel.cancel();
        first
    }

    /// Resolves when the attempt must stop: its token was cancelled, or its local deadline
    /// passed without a renewal (then the lease is marked lost first).
    pub(crate) async fn must_stop(&self) {
        loop {
            let deadline = self.deadline();
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep_until(deadline) => {
                    if self.deadline() <= Instant::now() {
                        self.lose();
                        return;
                    }
                }
            }
        }
    }
}

/// The leases of one orchestrator, by step.
#[derive(Debug, Default)]
pub(crate) struct Leases {
    by_step: Mutex<HashMap<StepId, Arc<Lease>>>,
}

impl Leases {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<StepId, Arc<Lease>>> {
        self.by_step.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts tracking an attempt claimed by a request sent at `sent`. An older attempt of
    /// the same step still tracked here lost its lease (the step was rescued and claimed
    /// again): it is told to stop.
    pub(crate) fn track(
        &self,
        step_id: StepId,
        attempt: i32,
        sent: Instant,
        lease: std::time::Duration,
    ) -> Arc<Lease> {
        let entry = Arc::new(Lease {
            step_id,
            attempt,
            cancel: CancellationToken::new(),
            deadline: Mutex::new(sent + lease),
            finished: AtomicBool::new(false),
            lost: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            ended_signal: Notify::new(),
            predecessor: Mutex::new(None),
        });
        let replaced = self.map().insert(step_id, entry.clone());
        if replaced.is_none() {
            metrics::leases_held(1.0);
        }
        if let Some(old) = replaced.filter(|old| old.attempt != attempt) {
            if old.lose() {
                tracing::warn!(
                    step_id,
                    attempt = old.attempt,
                    newer = attempt,
                    "an older attempt of a step claimed again here lost its lease; stopping it"
                );
            }
            *entry.predecessor.lock().unwrap_or_else(|e| e.into_inner()) = Some(old);
        }
        entry
    }

    /// Stops tracking an attempt; a newer attempt of the same step is left alone.
    pub(crate) fn remove(&self, step_id: StepId, attempt: i32) {
        let mut map = self.map();
        if map.get(&step_id).is_some_and(|l| l.attempt == attempt) {
            map.remove(&step_id);
            metrics::leases_held(-1.0);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }

    /// Every tracked attempt, for a renewal.
    pub(crate) fn held(&self) -> Vec<(StepId, i32)> {
        self.map()
            .values()
            .map(|l| (l.step_id, l.attempt))
            .collect()
    }

    /// Every tracked lease, to stop them all.
    pub(crate) fn all(&self) -> Vec<Arc<Lease>> {
        self.map().values().cloned().collect()
    }

    /// Applies a renewal sent at `sent` for `asked`, of which the store renewed `renewed`:
    /// renewed leases get a new deadline; the others, when their handler still runs, are lost
    /// and told to stop. Returns the leases lost this way.
    pub(crate) fn renewal(
        &self,
        asked: &[(StepId, i32)],
        renewed: &[StepId],
        sent: Instant,
        lease: std::time::Duration,
    ) -> Vec<Arc<Lease>> {
        let renewed: std::collections::HashSet<StepId> = renewed.iter().copied().collect();
        let map = self.map();
        let mut lost = Vec::new();
        for (step_id, attempt) in asked {
            let Some(entry) = map.get(step_id).filter(|l| l.attempt == *attempt) else {
                continue; // its outcome was written meanwhile
            };
            if renewed.contains(step_id) {
                entry.extend(sent + lease);
            } else if !entry.finished.load(Ordering::Acquire) && entry.lose() {
                // A finished attempt whose outcome is being written is not stopped: the write
                // is fenced by the store and tells the same story.
                lost.push(entry.clone());
            }
        }
        lost
    }
}

/// The leases of an orchestrator that is gone (stopped or aborted) no longer count as held
/// by this process.
impl Drop for Leases {
    fn drop(&mut self) {
        let left = self.map().len();
        if left > 0 {
            metrics::leases_held(-(left as f64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const LEASE: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn an_old_attempt_cannot_remove_or_keep_a_newer_one() {
        let leases = Leases::default();
        let old = leases.track(1, 1, Instant::now(), LEASE);
        let new = leases.track(1, 2, Instant::now(), LEASE);
        assert!(
            old.cancel.is_cancelled(),
            "the older attempt is told to stop"
        );
        assert!(!new.cancel.is_cancelled());
        // The newer attempt starts only once the older one has ended.
        let waiting = tokio::time::timeout(LEASE, new.wait_for_predecessor()).await;
        assert!(waiting.is_err(), "the older attempt has not ended yet");
        old.end();
        new.wait_for_predecessor().await;
        leases.remove(1, 1);
        assert_eq!(leases.held(), vec![(1, 2)]);
        leases.remove(1, 2);
        assert!(leases.held().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn an_unrenewed_lease_stops_its_attempt_at_the_local_deadline() {
        let leases = Leases::default();
        let lease = leases.track(7, 1, Instant::now(), LEASE);
        tokio::time::advance(LEASE / 2).await;
        let lost = leases.renewal(&[(7, 1)], &[7], Instant::now(), LEASE);
        assert!(lost.is_empty());
        // Renewed at LEASE/2: still held just before 1.5 LEASE, lost at 1.5 LEASE.
        let almost = LEASE - Duration::from_millis(1);
        let stopped = tokio::time::timeout(almost, lease.must_stop()).await;
        assert!(stopped.is_err(), "the renewal moved the deadline");
        assert!(!lease.is_lost());
        lease.must_stop().await;
        assert!(lease.is_lost() && lease.cancel.is_cancelled());
    }

    #[tokio::test(start_paused = true)]
    async fn a_renewal_that_misses_a_running_attempt_stops_it_but_not_a_finished_one() {
        let leases = Leases::default();
        let running = leases.track(1, 1, Instant::now(), LEASE);
        let finished = leases.track(2, 1, Instant::now(), LEASE);
        finished.mark_finished();
        let lost = leases.renewal(&[(1, 1), (2, 1)], &[], Instant::now(), LEASE);
        assert_eq!(lost.len(), 1);
        assert!(running.cancel.is_cancelled());
        assert!(!finished.cancel.is_cancelled());
    }
}
