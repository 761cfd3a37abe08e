//! Template registration and lookup.

use crate::PostgresStore;
use crate::error::DbResult;
use crate::rows::{self, get};
use crate::sql;
use tasker_model::{TemplateId, Timestamp};
use tasker_store::{Error, NewTemplate, RegisteredTemplate, Result, StoredTemplate};

pub(crate) async fn register(
    store: &PostgresStore,
    template: &NewTemplate,
    now: Timestamp,
) -> Result<RegisteredTemplate> {
    let version = semver::Version::parse(&template.version).map_err(|e| {
        Error::Database(format!(
            "invalid template version {:?}: {e}",
            template.version
        ))
    })?;
    let to_i64 = |part: u64| {
        i64::try_from(part).map_err(|_| {
            Error::Database(format!(
                "template version {} is too large",
                template.version
            ))
        })
    };
    let pre = (!version.pre.is_empty()).then(|| version.pre.as_str().to_owned());
    let client = store.client().await?;
    let namespace_id = namespace_id(&client, &template.namespace, now).await?;
    let insert = client.prepare_cached(sql::REGISTER_TEMPLATE).await.db()?;
    let inserted = client
        .query_opt(
            &insert,
            &[
                &namespace_id,
                &template.name,
                &template.version,
                &to_i64(version.major)?,
                &to_i64(version.minor)?,
                &to_i64(version.patch)?,
                &pre,
                &template.description,
                &template.definition,
                &now,
            ],
        )
        .await
        .db()?;
    if let Some(row) = inserted {
        return Ok(RegisteredTemplate {
            id: get(&row, "id")?,
            created: true,
        });
    }
    let existing = find(
        store,
        &template.namespace,
        &template.name,
        Some(&template.version),
    )
    .await?
    .ok_or_else(|| {
        Error::Conflict(format!(
            "template {}/{} {} vanished while registering",
            template.namespace, template.name, template.version
        ))
    })?;
    if existing.definition == template.definition {
        Ok(RegisteredTemplate {
            id: existing.id,
            created: false,
        })
    } else {
        Err(Error::TemplateMismatch(format!(
            "{}/{} {}",
            template.namespace, template.name, template.version
        )))
    }
}

async fn namespace_id(
    client: &deadpool_postgres::Object,
    name: &str,
    now: Timestamp,
) -> Result<i64> {
    let upsert = client.prepare_cached(sql::UPSERT_NAMESPACE).await.db()?;
    // A concurrent creator that has not committed yet is invisible to the first try's
    // snapshot; by the second try it has committed.
    for _ in 0..2 {
        if let Some(row) = client.query_opt(&upsert, &[&name, &now]).await.db()? {
            return get(&row, "id");
        }
    }
    Err(Error::Conflict(format!(
        "namespace {name} is being created concurrently"
    )))
}

pub(crate) async fn find(
    store: &PostgresStore,
    namespace: &str,
    name: &str,
    version: Option<&str>,
) -> Result<Option<StoredTemplate>> {
    let client = store.client().await?;
    let row = match version {
        Some(version) => {
            let statement = client
                .prepare_cached(sql::FIND_TEMPLATE_VERSION)
                .await
                .db()?;
            client
                .query_opt(&statement, &[&namespace, &name, &version])
                .await
                .db()?
        }
        None => {
            let statement = client
                .prepare_cached(sql::FIND_TEMPLATE_LATEST)
                .await
                .db()?;
            client
                .query_opt(&statement, &[&namespace, &name])
                .await
                .db()?
        }
    };
    row.as_ref().map(rows::template).transpose()
}

pub(crate) async fn by_id(store: &PostgresStore, id: TemplateId) -> Result<Option<StoredTemplate>> {
    let client = store.client().await?;
    let statement = client.prepare_cached(sql::TEMPLATE_BY_ID).await.db()?;
    let row = client.query_opt(&statement, &[&id]).await.db()?;
    row.as_ref().map(rows::template).transpose()
}

pub(crate) async fn list(store: &PostgresStore) -> Result<Vec<StoredTemplate>> {
    let client = store.client().await?;
    let statement = client.prepare_cached(sql::LIST_TEMPLATES).await.db()?;
    let rows = client.query(&statement, &[]).await.db()?;
    rows.iter().map(rows::template).collect()
}
