//! The RSA keys of federation: each local actor's keypair (made once, kept in redb) and the one
//! place where a private key signs or a published key is checked.
//!
//! Only ring touches a private key: its RSA signing is constant-time, where the `rsa` crate's is
//! not (RUSTSEC-2023-0071). `rsa` is used for what ring cannot do: generate a keypair, and read
//! the public-key PEM forms peers publish (SubjectPublicKeyInfo, or PKCS#1 from some older
//! software) into the PKCS#1 form ring verifies with.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use redb::ReadableTable;
use ring::signature::{self, RsaKeyPair};
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};

use super::{Core, Result, ServiceError};
use crate::model::account::ActorRef;
use crate::model::key::ActorKey;
use crate::model::now_ms;
use crate::store::{Tx, codec, tables};

/// The size of the keys Vireo makes: what PeerTube and Mastodon make, and what they accept.
const KEY_BITS: usize = 2048;

/// The longest public-key PEM accepted from a peer (PeerTube's bound too); an 8192-bit key's
/// PEM is about 1 400 characters.
pub const MAX_PUBLIC_PEM: usize = 5000;

/// Why a key or a signature could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the public key is not an RSA key in PEM form")]
    UnreadablePublicKey,
    #[error("the public key is longer than {MAX_PUBLIC_PEM} characters")]
    PublicKeyTooLong,
    #[error("the stored private key cannot be read")]
    UnreadablePrivateKey,
}

/// The keypair of a local actor, made and stored the first time it is asked for. Making a key
/// takes a few hundred milliseconds: call this from a blocking thread.
pub fn actor_key(core: &Core, owner: ActorRef) -> Result<ActorKey> {
    let slot = super::actors::slot(owner);
    if let Some(key) = stored_key(&core.store.read()?, &slot)? {
        return Ok(key);
    }
    // Made outside the write transaction (it is slow), then kept only if no other request
    // stored one meanwhile: an actor's key never changes once a peer may have seen it.
    let fresh = generate_key()?;
    core.store.write(|tx| {
        if let Some(existing) = stored_key(tx, &slot)? {
            return Ok(existing);
        }
        tx.open_table(tables::ACTOR_KEYS)?
            .insert(slot.as_str(), codec::encode(&fresh).as_slice())?;
        Ok(fresh)
    })
}

fn stored_key(tx: &impl Tx, slot: &str) -> Result<Option<ActorKey>> {
    let table = tx.table(tables::ACTOR_KEYS)?;
    let value = table.get(slot)?;
    Ok(match value {
        Some(v) => Some(codec::decode(v.value())?),
        None => None,
    })
}

/// A new RSA keypair (also what the benches sign as a remote actor with).
pub fn generate_key() -> Result<ActorKey> {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
        .map_err(|e| ServiceError::internal("making an RSA key", e))?;
    let pkcs8 = private
        .to_pkcs8_der()
        .map_err(|e| ServiceError::internal("encoding an RSA key", e))?;
    let public_pem = rsa::RsaPublicKey::from(&private)
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| ServiceError::internal("encoding an RSA public key", e))?;
    Ok(ActorKey {
        private_pkcs8: STANDARD.encode(pkcs8.as_bytes()),
        public_pem,
        created_at_ms: now_ms(),
    })
}

/// Sign `message` with RSASSA-PKCS1-v1_5 over SHA-256 (`rsa-sha256`).
pub fn sign(key: &ActorKey, message: &[u8]) -> Result<Vec<u8>> {
    let der = STANDARD
        .decode(&key.private_pkcs8)
        .map_err(|_| ServiceError::internal("reading a key", KeyError::UnreadablePrivateKey))?;
    let pair = RsaKeyPair::from_pkcs8(&der)
        .map_err(|_| ServiceError::internal("reading a key", KeyError::UnreadablePrivateKey))?;
    let mut out = vec![0; pair.public().modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        message,
        &mut out,
    )
    .map_err(|_| ServiceError::internal("signing", KeyError::UnreadablePrivateKey))?;
    Ok(out)
}

/// A peer's public key, read from the PEM its actor publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// PKCS#1 `RSAPublicKey` DER, what ring verifies with.
    pkcs1: Vec<u8>,
}

impl PublicKey {
    /// Read an SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEM. The base64 may
    /// be wrapped at any width or not at all: the RustCrypto PEM reader wants exactly 64
    /// columns, which not every fediverse server writes, so the armour is taken off here.
    pub fn from_pem(pem: &str) -> std::result::Result<Self, KeyError> {
        if pem.len() > MAX_PUBLIC_PEM {
            return Err(KeyError::PublicKeyTooLong);
        }
        let (label, der) = pem_contents(pem).ok_or(KeyError::UnreadablePublicKey)?;
        let key = match label {
            "PUBLIC KEY" => rsa::RsaPublicKey::from_public_key_der(&der),
            "RSA PUBLIC KEY" => {
                rsa::RsaPublicKey::from_pkcs1_der(&der).map_err(rsa::pkcs8::spki::Error::from)
            }
            _ => return Err(KeyError::UnreadablePublicKey),
        }
        .map_err(|_| KeyError::UnreadablePublicKey)?;
        let pkcs1 = key
            .to_pkcs1_der()
            .map_err(|_| KeyError::UnreadablePublicKey)?;
        Ok(PublicKey {
            pkcs1: pkcs1.as_bytes().to_vec(),
        })
    }

    /// Whether `signature` is this key's `rsa-sha256` signature of `message`. Keys shorter than
    /// 2048 bits are refused, as ring does.
    pub fn verifies(&self, message: &[u8], signature_bytes: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.pkcs1)
            .verify(message, signature_bytes)
            .is_ok()
    }
}

/// The label and the decoded bytes of a PEM block, whatever its line width.
fn pem_contents(pem: &str) -> Option<(&str, Vec<u8>)> {
    let rest = pem.trim().strip_prefix("-----BEGIN ")?;
    let (label, rest) = rest.split_once("-----")?;
    let (body, end) = rest.split_once("-----END ")?;
    if end.trim_end().strip_suffix("-----")? != label {
        return None;
    }
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    Some((label, STANDARD.decode(b64).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_signs_what_its_public_pem_verifies() -> Result<()> {
        let key = generate_key()?;
        assert!(key.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let signature = sign(&key, b"(request-target): post /inbox")?;
        let public =
            PublicKey::from_pem(&key.public_pem).map_err(|e| ServiceError::internal("pem", e))?;
        assert!(public.verifies(b"(request-target): post /inbox", &signature));
        assert!(!public.verifies(b"(request-target): post /inbox2", &signature));
        let mut altered = signature.clone();
        altered[10] ^= 1;
        assert!(!public.verifies(b"(request-target): post /inbox", &altered));
        Ok(())
    }

    #[test]
    fn public_keys_in_pkcs1_form_are_read_and_junk_is_refused() -> Result<()> {
        let key = generate_key()?;
        let public = rsa::RsaPublicKey::from_public_key_pem(&key.public_pem)
            .map_err(|e| ServiceError::internal("pem", e))?;
        let pkcs1_pem = public
            .to_pkcs1_pem(LineEnding::CRLF)
            .map_err(|e| ServiceError::internal("pem", e))?;
        assert!(pkcs1_pem.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
        assert_eq!(
            PublicKey::from_pem(&pkcs1_pem).ok(),
            PublicKey::from_pem(&key.public_pem).ok()
        );
        assert!(
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
        assert!(matches!(
            PublicKey::from_pem(&"A".repeat(MAX_PUBLIC_PEM + 1)),
            Err(KeyError::PublicKeyTooLong)
        ));
        Ok(())
    }
}
