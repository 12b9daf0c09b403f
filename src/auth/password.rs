//! Password hashing with argon2id (RustCrypto's `argon2`, default OWASP parameters).
//!
//! Hashing costs ~20 ms of CPU and 19 MiB of memory on purpose; callers on the async runtime run it
//! through `spawn_blocking` (`service::credentials`, which also bounds how many run at once).
//!
//! The 19 MiB of working memory is a `Memory` the caller keeps and reuses from hash to hash:
//! argon2's own functions allocate and free it on every call, and glibc's per-thread arenas kept
//! those blocks (measured: 100 logins at once, two hashes at a time, took a debug server from 46
//! to 880 MB of RSS). The PHC string is built and read with argon2's own types.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// argon2's working memory for the default parameters, reused from hash to hash.
pub struct Memory(Vec<Block>);

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Memory({} blocks)", self.0.len())
    }
}

impl Default for Memory {
    fn default() -> Self {
        Memory(vec![Block::default(); Params::DEFAULT.block_count()])
    }
}

impl Memory {
    /// The first `blocks` blocks, grown for a stored hash made with more memory than today's.
    fn blocks(&mut self, blocks: usize) -> &mut [Block] {
        if self.0.len() < blocks {
            self.0.resize(blocks, Block::default());
        }
        &mut self.0[..blocks]
    }
}

fn failed(e: impl std::fmt::Display) -> HashError {
    HashError(e.to_string())
}

/// Hash a password into a PHC string with a fresh random salt.
pub fn hash(password: &str) -> Result<String, HashError> {
    hash_with(password, &mut Memory::default())
}

/// `hash` in the caller's working memory.
pub fn hash_with(password: &str, memory: &mut Memory) -> Result<String, HashError> {
    let salt = super::secret::random_bytes::<16>().map_err(failed)?;
    let params = Params::DEFAULT;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::default()
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            memory.blocks(params.block_count()),
        )
        .map_err(failed)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(Salt::new(&salt).map_err(failed)?),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    verify_with(password, phc, &mut Memory::default())
}

/// `verify` in the caller's working memory. The outputs are compared in constant time
/// (`Output`'s equality).
pub fn verify_with(password: &str, phc: &str, memory: &mut Memory) -> bool {
    let Ok(stored) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm.as_str()) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&stored) else {
        return false;
    };
    let blocks = params.block_count();
    let mut out = vec![0u8; expected.len()];
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt.as_ref(),
        &mut out,
        memory.blocks(blocks),
    );
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == *expected)
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

    /// Hashes made with reused memory are argon2's own PHC strings, read back by the crate's
    /// own verifier, and the crate's hashes (other parameters too) are read back by ours.
    #[test]
    fn reused_memory_makes_the_same_hashes_as_the_crate() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let mut memory = super::Memory::default();
        let ours = super::hash_with("pw one", &mut memory).unwrap();
        assert!(
            argon2::Argon2::default()
                .verify_password(b"pw one", ours.as_str())
                .is_ok()
        );
        let theirs = argon2::Argon2::default()
            .hash_password(b"pw two")
            .unwrap()
            .to_string();
        assert_eq!(
            ours.split('$').nth(3),
            theirs.split('$').nth(3),
            "parameters"
        );
        assert!(super::verify_with("pw two", &theirs, &mut memory));
        assert!(!super::verify_with("pw one", &theirs, &mut memory));
        let bigger = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(32 * 1024, 2, 1, None).unwrap(),
        )
        .hash_password(b"pw three")
        .unwrap()
        .to_string();
        assert!(super::verify_with("pw three", &bigger, &mut memory));
        assert!(super::verify_with("pw one", &ours, &mut memory));
    }
}
