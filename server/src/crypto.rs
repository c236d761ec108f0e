//! Sealing users' provider keys at rest.
//!
//! XChaCha20-Poly1305 (orion) with a random nonce per value. The owner's id
//! and the provider are the associated data, so a sealed value copied into
//! another user's row, or under another provider, fails to open. A stored
//! value reads `v1.<key id>.<base64 of nonce | ciphertext | tag>`: the key id
//! names which master key sealed it, so old values still open after a new key
//! is configured and the old one moved to `API_KEY_ENCRYPTION_KEY_PREVIOUS`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use orion::hazardous::aead::xchacha20poly1305::{Nonce, SecretKey, XChaCha20Poly1305};
use orion::hazardous::mac::poly1305::POLY1305_OUTSIZE;
use orion::hazardous::stream::xchacha20::XCHACHA_NONCESIZE;
use secrecy::{ExposeSecret, SecretBox, SecretString};

const FORMAT_VERSION: &str = "v1";
const AAD_CONTEXT: &[u8] = b"council/provider-key/v1";

/// Why a key could not be sealed or opened. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "API_KEY_ENCRYPTION_KEY must be 32 bytes encoded as base64 (`council-server gen-key` prints one)"
    )]
    BadMasterKey,
    #[error("the stored key is not in a known sealed format")]
    Malformed,
    #[error("the stored key was sealed with a master key that is not configured")]
    UnknownMasterKey,
    #[error("the stored key does not open: wrong owner, provider or master key")]
    Tampered,
    #[error("encryption failed")]
    Seal,
}

/// One 32-byte master key and its public id.
struct MasterKey {
    id: String,
    key: SecretKey,
}

impl MasterKey {
    fn from_base64(encoded: &SecretString) -> Result<Self, CryptoError> {
        let bytes = SecretBox::new(Box::new(
            STANDARD
                .decode(encoded.expose_secret().trim())
                .map_err(|_| CryptoError::BadMasterKey)?,
        ));
        let raw: &[u8] = bytes.expose_secret();
        let key =
            SecretKey::from(<[u8; 32]>::try_from(raw).map_err(|_| CryptoError::BadMasterKey)?);
        // A hash of the key under a context string: stable, and says nothing
        // usable about the key itself.
        let mut tagged = b"council key id\0".to_vec();
        tagged.extend_from_slice(raw);
        let digest = orion::hash::digest(&tagged).map_err(|_| CryptoError::BadMasterKey)?;
        let id = digest.as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self { id, key })
    }
}

/// Seals and opens provider keys with the configured master key(s).
pub struct KeySealer {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl std::fmt::Debug for KeySealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySealer")
            .field("current_key_id", &self.current.id)
            .finish_non_exhaustive()
    }
}

fn associated_data(user_id: &str, provider: &str) -> Vec<u8> {
    let mut ad = Vec::with_capacity(AAD_CONTEXT.len() + user_id.len() + provider.len() + 2);
    ad.extend_from_slice(AAD_CONTEXT);
    ad.push(0);
    ad.extend_from_slice(user_id.as_bytes());
    ad.push(0);
    ad.extend_from_slice(provider.as_bytes());
    ad
}

impl KeySealer {
    /// `current` seals; `previous` keys only open values sealed before a rotation.
    pub fn new(current: &SecretString, previous: &[SecretString]) -> Result<Self, CryptoError> {
        Ok(Self {
            current: MasterKey::from_base64(current)?,
            previous: previous
                .iter()
                .map(MasterKey::from_base64)
                .collect::<Result<_, _>>()?,
        })
    }

    /// A fresh random master key, base64-encoded.
    pub fn generate_master_key() -> Result<String, CryptoError> {
        let mut raw = [0u8; 32];
        orion::util::secure_rand_bytes(&mut raw).map_err(|_| CryptoError::Seal)?;
        Ok(STANDARD.encode(raw))
    }

    /// Seals `plaintext` for `user_id`'s key at `provider`.
    pub fn seal(
        &self,
        user_id: &str,
        provider: &str,
        plaintext: &str,
    ) -> Result<String, CryptoError> {
        let mut nonce_bytes = [0u8; XCHACHA_NONCESIZE];
        orion::util::secure_rand_bytes(&mut nonce_bytes).map_err(|_| CryptoError::Seal)?;
        let nonce = Nonce::from(nonce_bytes);
        let mut out = vec![0u8; XCHACHA_NONCESIZE + plaintext.len() + POLY1305_OUTSIZE];
        out[..XCHACHA_NONCESIZE].copy_from_slice(&nonce_bytes);
        XChaCha20Poly1305::seal(
            &self.current.key,
            &nonce,
            plaintext.as_bytes(),
            Some(&associated_data(user_id, provider)),
            &mut out[XCHACHA_NONCESIZE..],
        )
        .map_err(|_| CryptoError::Seal)?;
        Ok(format!(
            "{FORMAT_VERSION}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// Opens a value sealed by [`seal`](Self::seal) for the same user and provider.
    pub fn open(
        &self,
        user_id: &str,
        provider: &str,
        sealed: &str,
    ) -> Result<SecretString, CryptoError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(FORMAT_VERSION), Some(key_id), Some(body)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Malformed);
        };
        let master = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or(CryptoError::UnknownMasterKey)?;
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Malformed)?;
        if raw.len() < XCHACHA_NONCESIZE + POLY1305_OUTSIZE {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(XCHACHA_NONCESIZE);
        let nonce = Nonce::from(
            <[u8; XCHACHA_NONCESIZE]>::try_from(nonce).map_err(|_| CryptoError::Malformed)?,
        );
        let mut plain = vec![0u8; ciphertext.len() - POLY1305_OUTSIZE];
        XChaCha20Poly1305::open(
            &master.key,
            &nonce,
            ciphertext,
            Some(&associated_data(user_id, provider)),
            &mut plain,
        )
        .map_err(|_| CryptoError::Tampered)?;
        let text = String::from_utf8(plain).map_err(|_| CryptoError::Malformed)?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> KeySealer {
        let key = SecretString::from(KeySealer::generate_master_key().expect("random key"));
        KeySealer::new(&key, &[]).expect("valid key")
    }

    #[test]
    fn round_trip_and_no_plaintext_in_the_sealed_value() {
        let s = sealer();
        let sealed = s
            .seal("u1", "openrouter", "sk-or-v1-secret-value")
            .expect("seals");
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("secret"));
        let opened = s.open("u1", "openrouter", &sealed).expect("opens");
        assert_eq!(opened.expose_secret(), "sk-or-v1-secret-value");
        // A fresh nonce every time: the same key never seals to the same value.
        assert_ne!(
            sealed,
            s.seal("u1", "openrouter", "sk-or-v1-secret-value")
                .expect("seals")
        );
    }

    #[test]
    fn a_sealed_value_moved_to_another_row_does_not_open() {
        let s = sealer();
        let sealed = s
            .seal("u1", "openrouter", "sk-or-v1-secret-value")
            .expect("seals");
        assert_eq!(
            s.open("u2", "openrouter", &sealed).err(),
            Some(CryptoError::Tampered)
        );
        assert_eq!(
            s.open("u1", "other", &sealed).err(),
            Some(CryptoError::Tampered)
        );
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert!(s.open("u1", "openrouter", &flipped).is_err());
        assert_eq!(
            s.open("u1", "openrouter", "plain").err(),
            Some(CryptoError::Malformed)
        );
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old_key = SecretString::from(KeySealer::generate_master_key().expect("key"));
        let new_key = SecretString::from(KeySealer::generate_master_key().expect("key"));
        let old = KeySealer::new(&old_key, &[]).expect("valid");
        let sealed = old
            .seal("u1", "openrouter", "sk-or-v1-abcdef")
            .expect("seals");

        let rotated = KeySealer::new(&new_key, std::slice::from_ref(&old_key)).expect("valid");
        assert_eq!(
            rotated
                .open("u1", "openrouter", &sealed)
                .expect("opens")
                .expose_secret(),
            "sk-or-v1-abcdef"
        );
        let without_old = KeySealer::new(&new_key, &[]).expect("valid");
        assert_eq!(
            without_old.open("u1", "openrouter", &sealed).err(),
            Some(CryptoError::UnknownMasterKey)
        );
    }

    #[test]
    fn master_keys_must_be_32_bytes_of_base64() {
        for bad in ["", "not base64!", "c2hvcnQ=", &STANDARD.encode([0u8; 33])] {
            assert_eq!(
                KeySealer::new(&SecretString::from(bad.to_string()), &[]).err(),
                Some(CryptoError::BadMasterKey),
                "{bad}"
            );
        }
    }
}
