//! How a secret setting's value (`webhookUrlToken`) is stored: as a keyed hash
//! (HMAC-SHA-256, truncated to 128 bits) that tells "changed" from "same" and nothing else.
//! The key lives in a file of its own next to the database (`history.sqlite3.key`, 0600,
//! created once), never in the database: a copy of the database alone (a backup, a file
//! attached to a bug report) cannot be used to test guesses of the token. The instance id
//! and the field are hashed with the value, so two instances sharing a token do not show
//! the same hash.
//!
//! The key file also serves as the history's writer lock: [`KeyFile::open`] holds an
//! exclusive lock on it for the writer's lifetime, so a second `watch` on the same history
//! is refused instead of interleaving its idea of the open drifts with the first one's.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value;

use crate::exit::CliError;

/// The prefix of a stored secret value; JSON text (what other values are stored as) never
/// starts with it.
pub const HASHED: &str = "hmac-sha256:";

/// Bytes of key.
const KEY_LEN: usize = 32;

/// The key file beside the database at `db`: its name plus `.key`.
pub fn key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// The hashing key, read from (or created in) its file, which stays open and locked.
pub struct KeyFile {
    key: hmac::Key,
    /// Held for the lock; closing it (or the process dying) releases the lock.
    _lock: File,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyFile(<redacted>)")
    }
}

impl KeyFile {
    /// Reads the key beside `db`, creating it (0600, written whole or not at all) if there
    /// is none, and takes the writer lock.
    pub fn open(db: &Path) -> Result<KeyFile, CliError> {
        let path = key_path(db);
        let shown = path.display().to_string();
        let io_err = |what: &str, e: io::Error| {
            CliError::failed(format!(
                "history key {}: cannot {what}: {e}",
                crate::terminal::text(&shown)
            ))
        };
        if !path.exists() {
            create(&path).map_err(|e| io_err("create it", e))?;
        }
        let mut file = File::open(&path).map_err(|e| io_err("open it", e))?;
        let locked = file.try_lock();
        match locked {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(CliError::usage(format!(
                    "history {} is in use by another `watch` (the lock on {} is held); run one watch per history file",
                    crate::terminal::text(&db.display().to_string()),
                    crate::terminal::text(&shown)
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err("lock it", e)),
        }
        let mut bytes = Vec::with_capacity(KEY_LEN + 1);
        (&mut file)
            .take(KEY_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_err("read it", e))?;
        if bytes.len() != KEY_LEN {
            return Err(CliError::usage(format!(
                "history key {} is damaged ({} bytes, expected {KEY_LEN}); remove it to start a new key (stored webhookUrlToken hashes then read as changed once)",
                crate::terminal::text(&shown),
                bytes.len().min(KEY_LEN + 1)
            )));
        }
        Ok(KeyFile {
            key: hmac::Key::new(hmac::HMAC_SHA256, &bytes),
            _lock: file,
        })
    }

    /// The stored form of the secret `value` of `field` on `instance`.
    pub fn hash(&self, instance: u64, field: &str, value: &Value) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&instance.to_be_bytes());
        ctx.update(field.as_bytes());
        ctx.update(&[0]);
        ctx.update(value.to_string().as_bytes());
        let tag = ctx.sign();
        let mut out = String::with_capacity(HASHED.len() + 32);
        out.push_str(HASHED);
        for b in &tag.as_ref()[..16] {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

/// Writes a fresh random key to `path`: a temporary file (0600) synced, then linked into
/// place only if nothing is there yet (a concurrent creator's key wins, and is then read).
fn create(path: &Path) -> io::Result<()> {
    let mut key = [0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| io::Error::other("no random bytes from the system"))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut b = tempfile::Builder::new();
    b.prefix(".greenapi-settings-key-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut tmp = b.tempfile_in(dir)?;
    tmp.write_all(&key)?;
    tmp.as_file().sync_all()?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e.error),
    }
}

/// A stored value as shown: secrets (hashed) as `<redacted>`, others as their JSON.
pub fn shown(stored: &str) -> Value {
    if stored.starts_with(HASHED) {
        Value::String(greenapi_settings::redact::REDACTED.into())
    } else {
        serde_json::from_str(stored).unwrap_or_else(|_| Value::String(stored.to_owned()))
    }
}
