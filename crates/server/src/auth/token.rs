//! API tokens: `tsk_` and 32 random bytes in base64url, shown once; the store keeps their
//! SHA-256 only.

use super::scope::{ScopeError, Scopes};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tasker_engine::Engine;
use tasker_store::{NewToken, TokenRecord};

/// What every token starts with, so that a leaked one is recognisable (secret scanners).
pub const PREFIX: &str = "tsk_";
/// Random bytes per token: 256 bits.
pub const RANDOM_BYTES: usize = 32;
/// The longest token name.
pub const MAX_NAME_CHARS: usize = 100;

/// Why a token cannot be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The name is empty, longer than [`MAX_NAME_CHARS`] or holds a control character.
    #[error("a token name is 1 to {MAX_NAME_CHARS} characters without control characters")]
    InvalidName,
    /// No scope was given: the token could do nothing.
    #[error("a token needs at least one scope")]
    NoScope,
    /// A scope does not parse.
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tasker_store::Error),
}

/// A new random token.
pub fn generate() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    // ThreadRng is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The hex SHA-256 of a token: what the store keeps and looks tokens up by.
pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Whether two hashes are equal, in time that does not depend on where they differ.
pub fn hashes_match(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Creates a token with these scopes (checked first: an unknown scope creates nothing) and
/// returns it with its record. The token itself is not stored: this is the only time it is
/// seen.
pub async fn issue_token(
    engine: &Engine,
    name: &str,
    scopes: &[String],
) -> Result<(String, TokenRecord), Error> {
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(Error::InvalidName);
    }
    if scopes.is_empty() {
        return Err(Error::NoScope);
    }
    Scopes::parse(scopes)?;
    let token = generate();
    let record = engine
        .store()
        .create_token(
            &NewToken {
                name: name.to_owned(),
                scopes: scopes.to_vec(),
                token_hash: hash(&token),
            },
            engine.clock().now(),
        )
        .await?;
    Ok((token, record))
}

/// Every token, revoked ones too, by id.
pub async fn list_tokens(engine: &Engine) -> Result<Vec<TokenRecord>, Error> {
    Ok(engine.store().list_tokens().await?)
}

/// Revokes a token at once: it authenticates nothing from then on.
pub async fn revoke_token(engine: &Engine, id: i64) -> Result<TokenRecord, Error> {
    Ok(engine
        .store()
        .revoke_token(id, engine.clock().now())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX));
        // 32 bytes in unpadded base64 are 43 characters.
        assert_eq!(a.len(), PREFIX.len() + 43);
        assert!(
            a[PREFIX.len()..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hashes_match(&hash("x"), &hash("x")));
        assert!(!hashes_match(&hash("x"), &hash("y")));
        assert!(!hashes_match("ab", "abc"));
    }
}
