//! Task lists: every combination of filters, newest first, paged with `before_id`.

use super::fixture::{layout, new_task, secs, t0};
use crate::{NewTemplate, Store, TaskFilter};
use serde_json::json;
use std::sync::Arc;
use tasker_model::{State, TaskId, Timestamp};

struct Listed {
    id: TaskId,
    namespace: &'static str,
    name: &'static str,
    state: State,
    created_at: Timestamp,
}

fn matches(task: &Listed, filter: &TaskFilter) -> bool {
    filter.state.is_none_or(|s| s == task.state)
        && filter
            .namespace
            .as_deref()
            .is_none_or(|n| n == task.namespace)
        && filter.template.as_deref().is_none_or(|n| n == task.name)
        && filter.created_after.is_none_or(|at| task.created_at >= at)
        && filter.created_before.is_none_or(|at| task.created_at < at)
        && filter.before_id.is_none_or(|id| task.id < id)
}

async fn ids(store: &dyn Store, filter: &TaskFilter) -> Vec<TaskId> {
    store
        .list_tasks(filter)
        .await
        .unwrap_or_else(|e| panic!("list {filter:?}: {e}"))
        .into_iter()
        .map(|t| t.id)
        .collect()
}

/// Twelve tasks of four templates (two versions of shop/order, shop/refund, and an order
/// template of the same name in another namespace), ten seconds apart, every third cancelled.
async fn populate(store: &dyn Store) -> Vec<Listed> {
    let templates = [
        ("shop", "order", "1.0.0"),
        ("shop", "order", "2.0.0"),
        ("shop", "refund", "1.0.0"),
        ("ops", "order", "1.0.0"),
    ];
    let mut template_ids = Vec::new();
    for (namespace, name, version) in templates {
        let registered = store
            .register_template(
                &NewTemplate {
                    namespace: namespace.into(),
                    name: name.into(),
                    version: version.into(),
                    description: None,
                    definition: json!({"name": name, "version": version}),
                },
                t0(),
            )
            .await
            .expect("register");
        template_ids.push(registered.id);
    }
    let single = layout(&["only"], &[]);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (namespace, name, _) = templates[i % templates.len()];
        let created_at = t0() + secs(10 * i as i64);
        let id = store
            .create_tasks(
                &[new_task(template_ids[i % templates.len()], &single)],
                created_at,
            )
            .await
            .expect("create")[0]
            .id;
        let state = if i % 3 == 0 {
            store
                .cancel_task(id, created_at, None)
                .await
                .expect("cancel");
            State::Cancelled
        } else {
            State::Pending
        };
        tasks.push(Listed {
            id,
            namespace,
            name,
            state,
            created_at,
        });
    }
    tasks
}

/// Checks that list filters combine by template state and creation time.
pub async fn list_filters_combine_by_template_state_and_creation_time(store: Arc<dyn Store>) {
    let tasks = populate(&*store).await;
    let id = |i: usize| tasks[i].id;
    // Readable spot checks first: a template name spans its versions within a namespace, or
    // across namespaces when none is given.
    let order_in_shop = TaskFilter {
        namespace: Some("shop".into()),
        template: Some("order".into()),
        limit: 100,
        ..TaskFilter::default()
    };
    assert_eq!(
        ids(&*store, &order_in_shop).await,
        [id(9), id(8), id(5), id(4), id(1), id(0)]
    );
    let any_order = TaskFilter {
        namespace: None,
        ..order_in_shop.clone()
    };
    assert_eq!(ids(&*store, &any_order).await.len(), 9);
    let window = TaskFilter {
        created_after: Some(tasks[3].created_at),
        created_before: Some(tasks[9].created_at),
        limit: 100,
        ..TaskFilter::default()
    };
    assert_eq!(
        ids(&*store, &window).await,
        [id(8), id(7), id(6), id(5), id(4), id(3)],
        "created_after is inclusive, created_before exclusive"
    );

    // Then every combination against the rule.
    let mut checked = 0;
    for state in [None, Some(State::Cancelled), Some(State::Pending)] {
        for namespace in [None, Some("shop"), Some("ops"), Some("nowhere")] {
            for template in [None, Some("order"), Some("refund"), Some("missing")] {
                for created_after in [None, Some(tasks[3].created_at)] {
                    for created_before in [None, Some(tasks[9].created_at)] {
                        let filter = TaskFilter {
                            state,
                            namespace: namespace.map(str::to_owned),
                            template: template.map(str::to_owned),
                            created_after,
                            created_before,
                            before_id: None,
                            limit: 100,
                        };
                        let expected: Vec<TaskId> = tasks
                            .iter()
                            .rev()
                            .filter(|t| matches(t, &filter))
                            .map(|t| t.id)
                            .collect();
                        assert_eq!(ids(&*store, &filter).await, expected, "{filter:?}");
                        checked += usize::from(!expected.is_empty());
                    }
                }
            }
        }
    }
    assert!(
        checked > 50,
        "most combinations select something: {checked}"
    );
}

/// Checks that list pages through every filter with before id.
pub async fn list_pages_through_every_filter_with_before_id(store: Arc<dyn Store>) {
    let tasks = populate(&*store).await;
    let filters = [
        TaskFilter::default(),
        TaskFilter {
            state: Some(State::Pending),
            ..TaskFilter::default()
        },
        TaskFilter {
            namespace: Some("shop".into()),
            ..TaskFilter::default()
        },
        TaskFilter {
            template: Some("order".into()),
            state: Some(State::Pending),
            ..TaskFilter::default()
        },
        TaskFilter {
            created_after: Some(tasks[2].created_at),
            created_before: Some(tasks[11].created_at),
            ..TaskFilter::default()
        },
        TaskFilter {
            namespace: Some("shop".into()),
            template: Some("order".into()),
            created_after: Some(tasks[1].created_at),
            ..TaskFilter::default()
        },
    ];
    for base in filters {
        let expected: Vec<TaskId> = tasks
            .iter()
            .rev()
            .filter(|t| matches(t, &base))
            .map(|t| t.id)
            .collect();
        for limit in [1, 2, 5] {
            let mut paged: Vec<TaskId> = Vec::new();
            let mut before_id = None;
            loop {
                let page = ids(
                    &*store,
                    &TaskFilter {
                        before_id,
                        limit,
                        ..base.clone()
                    },
                )
                .await;
                assert!(page.len() <= limit as usize);
                paged.extend(&page);
                if page.len() < limit as usize {
                    break;
                }
                before_id = page.last().copied();
            }
            assert_eq!(paged, expected, "{base:?} in pages of {limit}");
        }
    }
}
