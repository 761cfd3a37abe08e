//! Template registration and lookup.

use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::queries;
use rusqlite::{Connection, TransactionBehavior, params};
use tasker_model::Timestamp;
use tasker_store::{Error, NewTemplate, RegisteredTemplate, Result, StoredTemplate};

/// The ordering parts of a semantic version; build metadata does not order.
struct VersionParts {
    major: i64,
    minor: i64,
    patch: i64,
    pre: Option<String>,
}

fn version_parts(version: &str) -> Result<VersionParts> {
    let parsed = semver::Version::parse(version)
        .map_err(|e| Error::Database(format!("template version {version:?} is not semver: {e}")))?;
    let to_i64 = |n: u64| {
        i64::try_from(n)
            .map_err(|_| Error::Database(format!("template version {version:?} is too large")))
    };
    Ok(VersionParts {
        major: to_i64(parsed.major)?,
        minor: to_i64(parsed.minor)?,
        patch: to_i64(parsed.patch)?,
        pre: (!parsed.pre.is_empty()).then(|| parsed.pre.to_string()),
    })
}

pub(crate) fn register(
    conn: &mut Connection,
    template: &NewTemplate,
    now: Timestamp,
) -> Result<RegisteredTemplate> {
    let parts = version_parts(&template.version)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    if let Some(existing) = by_version(&tx, &template.namespace, &template.name, &template.version)?
    {
        if existing.definition != template.definition {
            return Err(Error::TemplateMismatch(format!(
                "{}/{}@{}",
                template.namespace, template.name, template.version
            )));
        }
        return Ok(RegisteredTemplate {
            id: existing.id,
            created: false,
        });
    }
    tx.prepare_cached(queries::NAMESPACE_UPSERT)
        .sql()?
        .execute(params![template.namespace, micros(now)])
        .sql()?;
    let namespace_id: i64 = tx
        .prepare_cached(queries::NAMESPACE_ID)
        .sql()?
        .query_row([&template.namespace], |row| row.get(0))
        .sql()?;
    tx.prepare_cached(queries::TEMPLATE_INSERT)
        .sql()?
        .execute(params![
            namespace_id,
            template.name,
            template.version,
            parts.major,
            parts.minor,
            parts.patch,
            parts.pre,
            template.description,
            codec::to_text(&template.definition),
            micros(now)
        ])
        .sql()?;
    let id = tx.last_insert_rowid();
    tx.commit().sql()?;
    Ok(RegisteredTemplate { id, created: true })
}

fn one(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<StoredTemplate>> {
    let mut stmt = conn.prepare_cached(sql).sql()?;
    let mut rows = stmt.query(params).sql()?;
    match rows.next().sql()? {
        Some(row) => codec::template(row).map(Some),
        None => Ok(None),
    }
}

fn by_version(
    conn: &Connection,
    namespace: &str,
    name: &str,
    version: &str,
) -> Result<Option<StoredTemplate>> {
    one(
        conn,
        queries::TEMPLATE_BY_VERSION,
        params![namespace, name, version],
    )
}

pub(crate) fn find(
    conn: &Connection,
    namespace: &str,
    name: &str,
    version: Option<&str>,
) -> Result<Option<StoredTemplate>> {
    match version {
        Some(version) => by_version(conn, namespace, name, version),
        None => one(conn, queries::TEMPLATE_LATEST, params![namespace, name]),
    }
}

pub(crate) fn by_id(conn: &Connection, id: i64) -> Result<Option<StoredTemplate>> {
    one(conn, queries::TEMPLATE_BY_ID, [id])
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<StoredTemplate>> {
    let mut stmt = conn.prepare_cached(queries::TEMPLATES_LIST).sql()?;
    let mut rows = stmt.query([]).sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        out.push(codec::template(row)?);
    }
    Ok(out)
}
