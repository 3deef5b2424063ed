//! Secrets at rest and API tokens: account credentials are sealed with XChaCha20-Poly1305 under
//! a 32-byte key; API tokens are random and only their SHA-256 is stored.
//!
//! A sealed value names the key that sealed it (an 8-byte id derived from the key), so a cipher
//! holding the current key and, during a rotation, extra keys (the previous one, or the next)
//! opens each value with the right key and seals only under the current one.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::private_file;

/// The environment variable holding the base64 encoding of the 32-byte key.
pub const SECRET_KEY_ENV: &str = "SWITCHBOARD_SECRET_KEY";
/// The environment variable holding more keys that open (never seal) credentials, base64,
/// comma-separated: the previous key during a rotation, or the next one before it is the key.
pub const EXTRA_SECRET_KEYS_ENV: &str = "SWITCHBOARD_EXTRA_SECRET_KEYS";

/// The prefix of every API token, so a leaked one is easy to recognise.
const TOKEN_PREFIX: &str = "sb_";

/// The version byte of values sealed without associated data (read, never written).
const SEALED_V1: u8 = 1;
/// The version byte of values bound to associated data, without a key id (read, never written).
const SEALED_V2: u8 = 2;
/// The version byte in front of every value sealed now: the key id, then as version 2.
const SEALED_V3: u8 = 3;
/// The length of a key id.
const KEY_ID_LEN: usize = 8;
/// The length of a nonce.
const NONCE_LEN: usize = 24;

/// Why the key could not be had, or a value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// `SWITCHBOARD_SECRET_KEY` is not the base64 of 32 bytes.
    #[error("`{SECRET_KEY_ENV}` must be the base64 encoding of 32 bytes")]
    BadEnvKey,
    /// An entry of `SWITCHBOARD_EXTRA_SECRET_KEYS` is not the base64 of 32 bytes.
    #[error(
        "entry {0} of `{EXTRA_SECRET_KEYS_ENV}` must be the base64 encoding of 32 bytes (entries are comma-separated)"
    )]
    BadExtraKey(usize),
    /// A shared database needs a key given explicitly.
    #[error(
        "a PostgreSQL database needs the key that seals credentials, the same on every instance: set `{SECRET_KEY_ENV}` (base64 of 32 bytes) or `--secret-key-file` (an existing file); `switchboard keys generate` prints a new one"
    )]
    KeyRequired,
    /// The key file exists but does not hold a key.
    #[error("key file `{}` must hold the base64 encoding of 32 bytes", .0.display())]
    BadKeyFile(PathBuf),
    /// The key file could not be read or written.
    #[error("key file `{}`: {source}", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The operating system gave no random bytes.
    #[error("no randomness available: {0}")]
    Random(String),
    /// A sealed value names a key this cipher does not hold.
    #[error(
        "stored credentials were sealed under another key (during a key rotation, give the other key in `{EXTRA_SECRET_KEYS_ENV}`)"
    )]
    UnknownKey,
    /// A sealed value does not open under this key (wrong key, or corrupted).
    #[error(
        "stored credentials cannot be decrypted with this key (was `{SECRET_KEY_ENV}` or the key file changed, or the stored account altered?)"
    )]
    Open,
}

/// The key that seals account credentials. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A fresh random key.
    pub fn generate() -> Result<SecretKey, CryptoError> {
        Ok(SecretKey(random_bytes()?))
    }

    /// Parses the base64 encoding of 32 bytes.
    pub fn from_base64(text: &str) -> Option<SecretKey> {
        let bytes = STANDARD.decode(text.trim()).ok()?;
        <[u8; 32]>::try_from(bytes.as_slice()).ok().map(SecretKey)
    }

    /// The base64 encoding of the key (to print a generated key once).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The key from `SWITCHBOARD_SECRET_KEY`, else from `key_file`, which must exist: for a
    /// database shared by several instances, where a key made up by one would not open what
    /// another sealed.
    pub fn load_required(key_file: Option<&Path>) -> Result<SecretKey, CryptoError> {
        if std::env::var_os(SECRET_KEY_ENV).is_some() {
            return SecretKey::load(None);
        }
        match key_file {
            Some(path) if path.exists() => SecretKey::load(Some(path)),
            _ => Err(CryptoError::KeyRequired),
        }
    }

    /// The keys in `SWITCHBOARD_EXTRA_SECRET_KEYS` (none when unset or empty).
    pub fn extra_from_env() -> Result<Vec<SecretKey>, CryptoError> {
        let text = std::env::var(EXTRA_SECRET_KEYS_ENV).unwrap_or_default();
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
            .map(|(index, entry)| {
                SecretKey::from_base64(entry).ok_or(CryptoError::BadExtraKey(index + 1))
            })
            .collect()
    }

    /// The key from `SWITCHBOARD_SECRET_KEY`, else from `key_file` (created with mode 0600 when
    /// absent), else — with no key file, as for an in-memory database — a fresh ephemeral key.
    pub fn load(key_file: Option<&Path>) -> Result<SecretKey, CryptoError> {
        if let Ok(text) = std::env::var(SECRET_KEY_ENV) {
            return SecretKey::from_base64(&text).ok_or(CryptoError::BadEnvKey);
        }
        let Some(path) = key_file else {
            return SecretKey::generate();
        };
        let io = |source| CryptoError::KeyFile {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                private_file::warn_when_shared(path, "the key file");
                SecretKey::from_base64(&text)
                    .ok_or_else(|| CryptoError::BadKeyFile(path.to_path_buf()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SecretKey::generate()?;
                let mut file = private_file::create_new(path).map_err(io)?;
                writeln!(file, "{}", STANDARD.encode(key.0)).map_err(io)?;
                Ok(key)
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// One key, ready to use, with its id.
#[derive(Clone)]
struct Keyed {
    id: [u8; KEY_ID_LEN],
    aead: XChaCha20Poly1305,
}

impl Keyed {
    fn new(key: &SecretKey) -> Keyed {
        let digest = Sha256::new()
            .chain_update(b"switchboard key id\0")
            .chain_update(key.0)
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Keyed {
            id,
            aead: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    /// Opens `nonce ‖ ciphertext` bound to `aad`.
    fn open(&self, rest: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if rest.len() < NONCE_LEN {
            return Err(CryptoError::Open);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        self.aead
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| CryptoError::Open)
    }
}

/// Seals account credentials under the current key; opens them under it or an extra key.
#[derive(Clone)]
pub struct Cipher {
    current: Keyed,
    extra: Vec<Keyed>,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    /// A cipher under `key`.
    pub fn new(key: &SecretKey) -> Cipher {
        Cipher::with_extra(key, &[])
    }

    /// A cipher sealing under `key` and opening under it or any of `extra` (a rotation's other
    /// key).
    pub fn with_extra(key: &SecretKey, extra: &[SecretKey]) -> Cipher {
        Cipher {
            current: Keyed::new(key),
            extra: extra.iter().map(Keyed::new).collect(),
        }
    }

    /// Encrypts `plaintext` bound to `aad` (associated data: authenticated, not stored) under
    /// the current key: version byte, key id, 24-byte random nonce, ciphertext with its tag. It
    /// opens only with the same `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce: [u8; NONCE_LEN] = random_bytes()?;
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        let sealed = self
            .current
            .aead
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| CryptoError::Random("encryption failed".to_owned()))?;
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + sealed.len());
        out.push(SEALED_V3);
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`Cipher::seal`] produced with the same `aad`, under the key it names.
    /// Values sealed before key ids existed (versions 1 and 2) are tried under every key held;
    /// those sealed before associated data existed (version 1) open without it (see
    /// [`Cipher::is_unbound`]).
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match sealed {
            [SEALED_V3, rest @ ..] if rest.len() >= KEY_ID_LEN => {
                let (id, rest) = rest.split_at(KEY_ID_LEN);
                self.keys()
                    .find(|key| key.id == id)
                    .ok_or(CryptoError::UnknownKey)?
                    .open(rest, aad)
            }
            [SEALED_V2, rest @ ..] => self.open_with_any(rest, aad),
            [SEALED_V1, rest @ ..] => self.open_with_any(rest, &[]),
            _ => Err(CryptoError::Open),
        }
    }

    /// True for a value sealed under the current key the current way: a key rotation leaves it.
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        matches!(sealed, [SEALED_V3, rest @ ..] if rest.starts_with(&self.current.id))
    }

    /// True for a value sealed before associated data existed (version 1): it opens under any
    /// associated data, so it should be sealed again.
    pub fn is_unbound(sealed: &[u8]) -> bool {
        sealed.first() == Some(&SEALED_V1)
    }

    /// The current key, then the extra ones.
    fn keys(&self) -> impl Iterator<Item = &Keyed> {
        std::iter::once(&self.current).chain(&self.extra)
    }

    fn open_with_any(&self, rest: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.keys()
            .find_map(|key| key.open(rest, aad).ok())
            .ok_or(CryptoError::Open)
    }
}

/// A new API token (`sb_` + 43 URL-safe characters): shown once, never stored.
pub(crate) fn generate_token() -> Result<String, CryptoError> {
    let bytes: [u8; 32] = random_bytes()?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of an API token: lower-case hex SHA-256.
pub(crate) fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex SHA-256 of several parts, each length-prefixed so parts cannot run together.
pub(crate) fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A value sealed the version-1 way, without associated data (for tests of old rows).
#[cfg(test)]
pub(crate) fn seal_unbound(cipher: &Cipher, plaintext: &[u8]) -> Vec<u8> {
    let nonce: [u8; 24] = random_bytes().expect("random");
    let sealed = cipher
        .current
        .aead
        .encrypt(XNonce::from_slice(&nonce), plaintext)
        .expect("encrypt");
    [&[SEALED_V1][..], &nonce, &sealed].concat()
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| CryptoError::Random(e.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_under_the_same_key_only() {
        let key = SecretKey::generate().expect("random");
        let cipher = Cipher::new(&key);
        let sealed = cipher.seal(b"{\"api_key\":\"k\"}", b"a1").expect("seal");
        assert!(!sealed.windows(7).any(|w| w == b"api_key"));
        assert_eq!(
            cipher.open(&sealed, b"a1").expect("open"),
            b"{\"api_key\":\"k\"}"
        );
        let other = Cipher::new(&SecretKey::generate().expect("random"));
        assert!(matches!(
            other.open(&sealed, b"a1"),
            Err(CryptoError::UnknownKey)
        ));
    }

    #[test]
    fn sealed_values_open_only_with_their_associated_data() {
        let cipher = Cipher::new(&SecretKey::generate().expect("random"));
        let sealed = cipher.seal(b"secret", b"account-1").expect("seal");
        assert!(!Cipher::is_unbound(&sealed));
        assert!(matches!(
            cipher.open(&sealed, b"account-2"),
            Err(CryptoError::Open)
        ));
        assert!(matches!(cipher.open(&sealed, b""), Err(CryptoError::Open)));
        assert_eq!(cipher.open(&sealed, b"account-1").expect("open"), b"secret");
    }

    #[test]
    fn values_sealed_before_associated_data_still_open() {
        let cipher = Cipher::new(&SecretKey::generate().expect("random"));
        let legacy = seal_unbound(&cipher, b"old secret");
        assert!(Cipher::is_unbound(&legacy));
        assert_eq!(cipher.open(&legacy, b"any").expect("open"), b"old secret");
        assert!(matches!(
            cipher.open(&[3, 0, 0], b""),
            Err(CryptoError::Open)
        ));
        assert!(matches!(cipher.open(&[2; 10], b""), Err(CryptoError::Open)));
    }

    #[test]
    fn a_rotation_cipher_opens_under_both_keys_and_seals_under_the_new_one() {
        let old_key = SecretKey::generate().expect("random");
        let new_key = SecretKey::generate().expect("random");
        let old = Cipher::new(&old_key);
        let rotating = Cipher::with_extra(&new_key, &[old_key]);
        let by_old = old.seal(b"old", b"a").expect("seal");
        let by_new = rotating.seal(b"new", b"a").expect("seal");
        assert_eq!(rotating.open(&by_old, b"a").expect("open"), b"old");
        assert_eq!(rotating.open(&by_new, b"a").expect("open"), b"new");
        assert!(!rotating.is_current(&by_old));
        assert!(rotating.is_current(&by_new));
        assert!(matches!(
            old.open(&by_new, b"a"),
            Err(CryptoError::UnknownKey)
        ));
        let new_only = Cipher::new(&new_key);
        assert!(matches!(
            new_only.open(&by_old, b"a"),
            Err(CryptoError::UnknownKey)
        ));
        // Values from before key ids are tried under every key held.
        let legacy = seal_unbound(&old, b"legacy");
        assert_eq!(rotating.open(&legacy, b"a").expect("open"), b"legacy");
        assert!(matches!(
            new_only.open(&legacy, b"a"),
            Err(CryptoError::Open)
        ));
        assert!(!rotating.is_current(&legacy));
    }

    #[test]
    fn a_shared_database_needs_a_key_file_that_exists() {
        if std::env::var_os(SECRET_KEY_ENV).is_some() {
            return; // the variable would be the key
        }
        let missing = std::env::temp_dir().join("switchboard-no-such-key-file");
        assert!(matches!(
            SecretKey::load_required(None),
            Err(CryptoError::KeyRequired)
        ));
        assert!(matches!(
            SecretKey::load_required(Some(&missing)),
            Err(CryptoError::KeyRequired)
        ));
        assert!(!missing.exists(), "no key is made up");
    }

    #[test]
    fn tokens_are_prefixed_and_hashed() {
        let token = generate_token().expect("random");
        assert!(token.starts_with("sb_"));
        assert_eq!(token.len(), 3 + 43);
        assert_eq!(hash_token(&token).len(), 64);
        assert_ne!(hash_token(&token), hash_token("sb_other"));
    }

    #[test]
    fn key_debug_hides_the_key() {
        let key = SecretKey::from_base64(&STANDARD.encode([7u8; 32])).expect("key");
        assert_eq!(format!("{key:?}"), "SecretKey(..)");
    }
}
