//! Password hashing with argon2id (RustCrypto's `argon2`, default OWASP parameters).
//!
//! Hashing costs ~20 ms of CPU and 19 MiB of memory on purpose; callers on the async runtime run it
//! through `spawn_blocking`.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hash a password into a PHC string with a fresh random salt.
pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = super::secret::random_bytes::<16>().map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_then_verify() {
        let h = super::hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &h));
        assert!(!super::verify("wrong horse", &h));
        assert!(!super::verify("correct horse", "not a hash"));
        assert_ne!(h, super::hash("correct horse").unwrap(), "salts differ");
    }
}
