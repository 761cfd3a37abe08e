//! API tokens: the new token (once), the list, a revocation.

use super::table::Table;
use super::{clean, time};
use serde_json::json;
use tasker::store::TokenRecord;

pub fn created(token: &str, record: &TokenRecord, json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(&json!({ "token": token, "id": record.id }));
    }
    // The token alone on stdout, so that `$(tasker token create ...)` captures just it.
    eprintln!(
        "token {} ({}) created with {}; it is shown this once:",
        record.id,
        clean(&record.name),
        clean(&record.scopes.join(", "))
    );
    outln!("{token}");
    Ok(())
}

pub fn list(tokens: &[TokenRecord], json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(&tokens);
    }
    if tokens.is_empty() {
        outln!("no tokens (see `tasker token create`)");
        return Ok(());
    }
    let mut table = Table::new(&["ID", "NAME", "SCOPES", "CREATED", "REVOKED"]);
    for token in tokens {
        table.row(vec![
            token.id.to_string(),
            token.name.clone(),
            token.scopes.join(" "),
            time::rfc3339(token.created_at),
            token
                .revoked_at
                .map_or_else(|| "-".to_owned(), time::rfc3339),
        ]);
    }
    out!("{}", table.render());
    Ok(())
}

pub fn revoked(record: &TokenRecord, json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(record);
    }
    outln!("revoked token {} ({})", record.id, clean(&record.name));
    Ok(())
}
