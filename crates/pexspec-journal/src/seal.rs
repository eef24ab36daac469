//! Sealing sensitive outputs: AES-256-GCM with a random 96-bit nonce per value and the
//! stack and address as associated data (a sealed value cannot be moved to another
//! address), under a 256-bit key kept in `journal.key` (`0600`), apart from the database.

use std::path::{Path, PathBuf};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::JournalError;
use crate::fsutil::{create_whole, io_error, mode};

const HEADER: &str = "pexspec-journal-key-v1\n";
const KEY_LEN: usize = 32;

/// The key that seals the journal's sensitive outputs.
pub(crate) struct SealKey {
    key: LessSafeKey,
    path: PathBuf,
    random: SystemRandom,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl SealKey {
    /// Reads the key at `path`, or creates it if it does not exist and `may_create` (a
    /// journal that already holds sealed values must not get a new key silently).
    pub(crate) fn load_or_create(path: &Path, may_create: bool) -> Result<Self, JournalError> {
        let random = SystemRandom::new();
        let bytes = match std::fs::read(path) {
            Ok(text) => {
                if let Some(m) = mode(path).map_err(io_error("read", path))?
                    && m & 0o077 != 0
                {
                    return Err(JournalError::KeyPermissions {
                        path: path.to_path_buf(),
                        mode: m,
                    });
                }
                let bad = |problem| JournalError::BadKey {
                    path: path.to_path_buf(),
                    problem,
                };
                let text = std::str::from_utf8(&text).map_err(|_| bad("it is not text"))?;
                let body = text
                    .strip_prefix(HEADER)
                    .ok_or_else(|| bad("its first line is not `pexspec-journal-key-v1`"))?;
                let key =
                    unhex(body.trim_end()).ok_or_else(|| bad("the key is not hexadecimal"))?;
                if key.len() != KEY_LEN {
                    return Err(bad("the key is not 256 bits long"));
                }
                key
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !may_create {
                    return Err(JournalError::KeyMissing {
                        path: path.to_path_buf(),
                    });
                }
                let mut key = vec![0_u8; KEY_LEN];
                random.fill(&mut key).map_err(|_| JournalError::Random)?;
                // Written whole before it appears: a process opening the journal at the
                // same moment never reads half a key.
                let text = format!("{HEADER}{}\n", hex(&key));
                if !create_whole(path, text.as_bytes()).map_err(io_error("create", path))? {
                    // Another process made it first: use theirs.
                    return Self::load_or_create(path, false);
                }
                key
            }
            Err(e) => return Err(io_error("read", path)(e)),
        };
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| JournalError::BadKey {
            path: path.to_path_buf(),
            problem: "the key is not 256 bits long",
        })?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            path: path.to_path_buf(),
            random,
        })
    }

    /// The key file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Seals `plain`: (nonce, ciphertext with its tag).
    pub(crate) fn seal(
        &self,
        aad: &[u8],
        plain: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), JournalError> {
        let mut nonce = [0_u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| JournalError::Random)?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut sealed,
            )
            .map_err(|_| JournalError::Random)?;
        Ok((nonce.to_vec(), sealed))
    }

    /// Opens what [`seal`](Self::seal) made; `None` if the key, the nonce, the associated
    /// data or the ciphertext do not match.
    pub(crate) fn open(&self, aad: &[u8], nonce: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buffer)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::fsutil::create_private;

    #[test]
    fn a_value_opens_only_with_its_key_and_its_address() {
        let dir = tempfile::tempdir().unwrap();
        let key = SealKey::load_or_create(&dir.path().join("k"), true).unwrap();
        let (nonce, sealed) = key.seal(b"t\0worker_vm[a]", b"secret bytes").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            key.open(b"t\0worker_vm[a]", &nonce, &sealed).as_deref(),
            Some(&b"secret bytes"[..])
        );
        assert_eq!(key.open(b"t\0worker_vm[b]", &nonce, &sealed), None);
        let other = SealKey::load_or_create(&dir.path().join("other"), true).unwrap();
        assert_eq!(other.open(b"t\0worker_vm[a]", &nonce, &sealed), None);
        // Read back from its file, the key opens what it sealed.
        let again = SealKey::load_or_create(&dir.path().join("k"), false).unwrap();
        assert!(again.open(b"t\0worker_vm[a]", &nonce, &sealed).is_some());
    }

    #[test]
    fn a_missing_key_is_not_recreated_when_told_not_to() {
        let dir = tempfile::tempdir().unwrap();
        let e = SealKey::load_or_create(&dir.path().join("k"), false)
            .err()
            .unwrap();
        assert!(matches!(e, JournalError::KeyMissing { .. }), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        SealKey::load_or_create(&path, true).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = SealKey::load_or_create(&path, true).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "the journal key `{0}` may be read by other users (mode 644): run `chmod 600 {0}`",
                path.display()
            )
        );
    }

    #[test]
    fn a_malformed_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let mut f = create_private(&path).unwrap();
        f.write_all(b"pexspec-journal-key-v1\nabcd\n").unwrap();
        let e = SealKey::load_or_create(&path, true).err().unwrap();
        assert!(
            e.to_string().ends_with("the key is not 256 bits long"),
            "{e}"
        );
    }
}
