//! The conformance suite: every backend runs these cases through the `Store` trait.
//!
//! A backend's `tests/conformance.rs` is a factory returning a fresh, migrated, isolated store
//! (or `None` when the backend is not configured) and one line:
//! `tasker_store::conformance_tests!(factory);`. Each case is a plain `async fn(Arc<dyn Store>)`
//! so a failing one can also be called by hand. Time is a fixed origin moved by hand.

mod actor;
mod analytics;
mod bench;
mod claims;
mod failures;
pub mod fixture;
mod handoff;
mod last_error;
mod leadership;
mod leases;
mod operator;
mod properties;
mod readiness;
mod routes;
mod task_lists;
mod tasks;
mod templates;
mod tokens;
mod trace;
mod wakeups;

pub use actor::*;
pub use analytics::*;
pub use bench::*;
pub use claims::*;
pub use failures::*;
pub use handoff::*;
pub use last_error::*;
pub use leadership::*;
pub use leases::*;
pub use operator::*;
pub use properties::*;
pub use readiness::*;
pub use routes::*;
pub use task_lists::*;
pub use tasks::*;
pub use templates::*;
pub use tokens::*;
pub use trace::*;
pub use wakeups::*;

/// Expands to one `#[tokio::test]` per conformance case, each calling `$factory().await`.
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@cases $factory;
            migrations_are_idempotent,
            template_registration_is_idempotent,
            latest_template_is_the_highest_semantic_version,
            create_task_writes_steps_edges_counters_and_history,
            identity_dedupes_within_a_batch_and_across_calls,
            a_key_reused_with_another_context_rolls_the_batch_back,
            list_tasks_is_newest_first_with_filters,
            list_rows_carry_no_context,
            claim_takes_ready_steps_oldest_first,
            steps_of_a_task_claimed_together_share_its_context,
            a_claim_for_one_task_takes_only_its_steps,
            claim_respects_the_limit_and_never_claims_twice,
            parent_results_reach_the_child,
            concurrent_claimers_get_disjoint_steps,
            diamond_releases_the_join_after_both_branches,
            completion_hands_released_steps_to_its_owner,
            handoff_claims_no_more_than_its_limit,
            outcomes_are_fenced_by_owner_attempt_and_lease,
            expired_lease_outcome_is_applied_after_expiry,
            retryable_failure_is_claimed_again_after_retry_at,
            permanent_failure_blocks_the_task,
            last_attempt_failure_with_nothing_running_errors_the_task,
            a_failed_attempt_keeps_its_error_after_a_later_success,
            a_permanent_failure_records_its_error,
            the_rescuers_expired_lease_is_recorded_as_the_last_error,
            cancel_stops_pending_and_failed_steps,
            cancel_of_a_finished_task_is_invalid,
            retry_task_gives_failed_steps_more_attempts,
            retry_task_runs_a_non_retryable_step_once_more,
            a_task_retried_step_given_back_at_shutdown_runs_again,
            resolve_step_releases_children_and_unblocks_the_task,
            resolving_the_last_step_completes_the_task,
            resolving_a_blocking_step_while_a_sibling_runs_unblocks_the_task,
            a_permanent_failure_with_attempts_left_still_blocks,
            releasing_the_last_running_step_of_a_blocked_task_errors_it,
            leases_are_renewed_expired_and_released,
            released_steps_run_again_without_counting_the_attempt,
            releasing_a_step_of_a_blocked_task_leaves_it_waiting,
            database_time_is_close_to_the_system_clock,
            leadership_is_exclusive_until_its_term_ends,
            released_leadership_passes_at_once,
            wakeups_are_offered_exactly_with_the_capability,
            next_ready_at_and_outstanding_work,
            readiness_agrees_with_the_model_through_a_run,
            random_dags_run_to_a_consistent_end,
            seeded_history_is_a_sound_finished_run,
            baseline_queue_finishes_every_job_once,
            bare_dag_queue_runs_every_step_once,
            tokens_are_created_listed_and_found_by_hash,
            revoked_tokens_authenticate_nothing,
            operator_actions_record_their_actor,
            claims_carry_the_trace_context_and_times_of_their_task,
            runnable_steps_are_counted_up_to_a_cap,
            list_filters_combine_by_template_state_and_creation_time,
            list_pages_through_every_filter_with_before_id,
            finished_tasks_are_counted_per_bucket,
            finished_tasks_are_newest_first_by_template_with_a_limit,
            step_samples_time_the_last_attempt_of_each_step,
            a_backlog_of_one_handler_does_not_starve_another,
            claims_keep_to_their_queue,
            a_queue_claim_without_handlers_takes_any_handler_oldest_first,
            the_handoff_claims_only_admitted_children,
            a_claim_for_one_task_follows_the_filter,
            next_ready_at_follows_the_filter,
            advertised_routes_are_found_and_forgotten,
            routes_round_trip_on_steps_and_claims,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                match ($factory)().await {
                    Some(store) => $crate::conformance::$case(store).await,
                    None => eprintln!(
                        "SKIPPED: conformance case {} (backend not configured)",
                        stringify!($case)
                    ),
                }
            }
        )*
    };
}
