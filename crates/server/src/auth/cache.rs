//! Tokens recently found, so that a client's every request does not read the token table.
//!
//! A found token is kept for [`TOKEN_TTL`]: a token revoked from any process stops working
//! within that time. Unknown tokens are never kept (a client guessing tokens cannot fill the
//! cache), and the cache is emptied when it reaches 10,000 entries.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tasker_store::TokenRecord;

/// How long a found token is trusted without reading it again.
pub const TOKEN_TTL: Duration = Duration::from_secs(1);
const MAX_TOKENS: usize = 10_000;

/// Tokens found recently, by hash, so that a busy client does not cost a database read per
/// request; a revoked token stops working within [`TOKEN_TTL`].
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (TokenRecord, Instant)>>,
}

impl TokenCache {
    /// The token with this hash if it was found less than [`TOKEN_TTL`] ago.
    pub fn get(&self, hash: &str) -> Option<TokenRecord> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (record, found) = entries.get(hash)?;
        (found.elapsed() < TOKEN_TTL).then(|| record.clone())
    }

    /// Remembers the token found for `hash`, from now.
    pub fn put(&self, hash: String, record: TokenRecord) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_TOKENS {
            entries.clear();
        }
        entries.insert(hash, (record, Instant::now()));
    }
}
