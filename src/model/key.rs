//! The RSA keypair of a local actor, as it is kept: what signs its federation requests and what
//! its actor document publishes (`publicKey.publicKeyPem`).

use serde::{Deserialize, Serialize};

use super::Record;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorKey {
    /// The private key, PKCS#8 DER, base64 (what ring's `RsaKeyPair::from_pkcs8` reads).
    pub private_pkcs8: String,
    /// The public key as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), the form
    /// PeerTube and Mastodon accept.
    pub public_pem: String,
    pub created_at_ms: i64,
}

// Never print the private key, even in a debug log.
impl std::fmt::Debug for ActorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorKey")
            .field("public_pem", &self.public_pem)
            .field("created_at_ms", &self.created_at_ms)
            .finish_non_exhaustive()
    }
}

impl Record for ActorKey {
    const KIND: &'static str = "actor key";
    const VERSION: u8 = 1;
}
