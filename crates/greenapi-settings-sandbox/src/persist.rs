//! The state file: accepted settings and restart counts per instance, written atomically
//! (temporary file in the same directory, fsync, rename) so a crash — even `kill -9` —
//! leaves either the old or the new file, never a torn one. Tokens are never written.
//!
//! Format: `{"format": "greenapi-settings-sandbox/1", "instances": [{"idInstance": …,
//! "restarts": …, "settings": {…}, "notifications": {…}}]}` (`notifications`, the queue, only
//! once something was queued; see `notifications/saved.rs`). Pending changes and scheduled drifts are stored as
//! already happened: after a restart of the sandbox the "applies within 5 minutes" delay and
//! the drift delay are over. Lost fields were never applied, so they are never stored.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use greenapi_settings::Settings;
use serde_json::{json, Value};

use crate::notifications::hub::Hub;
use crate::notifications::saved::{self, SavedQueue};
use crate::state::InstanceState;
use crate::timeline::DriftPolicy;

const FORMAT: &str = "greenapi-settings-sandbox/1";

/// What the file holds for one instance.
#[derive(Clone, Debug)]
pub(crate) struct SavedInstance {
    pub(crate) id: u64,
    pub(crate) restarts: u64,
    pub(crate) settings: Settings,
    /// The notification queue (`None`: nothing was ever queued).
    pub(crate) notifications: Option<SavedQueue>,
}

/// Every instance, ready to be written.
pub(crate) type Snapshot = Vec<SavedInstance>;

/// Takes the state to write (settings as they will be once pending changes apply and
/// scheduled drifts happen).
pub(crate) fn snapshot(
    instances: &BTreeMap<u64, InstanceState>,
    drift: &DriftPolicy,
    notifications: &Hub,
) -> Snapshot {
    instances
        .iter()
        .map(|(id, inst)| SavedInstance {
            id: *id,
            restarts: inst.restarts(),
            settings: inst.eventual_settings(drift),
            notifications: notifications.saved(*id),
        })
        .collect()
}

fn to_json(snapshot: &Snapshot) -> Value {
    let instances: Vec<Value> = snapshot
        .iter()
        .map(|s| {
            let mut entry = json!({
                "idInstance": s.id,
                "restarts": s.restarts,
                "settings": s.settings.to_json_value(),
            });
            if let Some(queue) = &s.notifications {
                entry["notifications"] = saved::to_json(queue);
            }
            entry
        })
        .collect();
    json!({ "format": FORMAT, "instances": instances })
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("state file {}: {what}", path.display()),
    )
}

fn from_json(path: &Path, value: &Value) -> io::Result<Vec<SavedInstance>> {
    if value.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(invalid(path, format!("`format` is not \"{FORMAT}\"")));
    }
    let Some(list) = value.get("instances").and_then(Value::as_array) else {
        return Err(invalid(path, "`instances` is not an array"));
    };
    list.iter()
        .enumerate()
        .map(|(i, entry)| {
            let id = entry.get("idInstance").and_then(Value::as_u64);
            let restarts = entry.get("restarts").and_then(Value::as_u64);
            let (Some(id), Some(restarts)) = (id, restarts) else {
                return Err(invalid(
                    path,
                    format!("instances[{i}]: needs integer `idInstance` and `restarts`"),
                ));
            };
            let settings = Settings::from_json_value(entry.get("settings").unwrap_or(&Value::Null))
                .map_err(|problems| {
                    let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    invalid(
                        path,
                        format!("instances[{i}].settings: {}", list.join("; ")),
                    )
                })?;
            let notifications = match entry.get("notifications") {
                None | Some(Value::Null) => None,
                Some(queue) => Some(saved::from_json(queue).map_err(|problem| {
                    invalid(path, format!("instances[{i}].notifications: {problem}"))
                })?),
            };
            Ok(SavedInstance {
                id,
                restarts,
                settings,
                notifications,
            })
        })
        .collect()
}

/// Reads the state file; `Ok(None)` when it does not exist yet.
pub(crate) fn load(path: &Path) -> io::Result<Option<Vec<SavedInstance>>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("state file {}: {e}", path.display()),
            ))
        }
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| invalid(path, e))?;
    from_json(path, &value).map(Some)
}

/// A temporary name next to `path`, unique within this process.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Writes the snapshot atomically: temp file, fsync, rename, fsync of the directory.
pub(crate) fn save(path: &Path, snapshot: &Snapshot) -> io::Result<()> {
    let mut text = serde_json::to_vec_pretty(&to_json(snapshot)).map_err(io::Error::other)?;
    text.push(b'\n');
    let tmp = temp_path(path);
    let written = write_synced(&tmp, &text).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io::Error::new(
            e.kind(),
            format!("state file {}: {e}", path.display()),
        ));
    }
    sync_dir(path);
    Ok(())
}

fn write_synced(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        // The file holds webhook settings (including webhookUrlToken): owner only.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes the rename itself durable; best effort (not every platform can open a directory).
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gas-persist-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn saved_state_loads_back_and_leaves_no_temp_files() {
        let dir = temp_dir("roundtrip");
        let path = dir.join("state.json");
        let mut settings = Settings::default();
        settings.delay_send_messages_milliseconds = 15_000;
        settings.incoming_webhook = true;
        save(
            &path,
            &vec![SavedInstance {
                id: 7,
                restarts: 3,
                settings: settings.clone(),
                notifications: None,
            }],
        )
        .unwrap();
        let loaded = load(&path).unwrap().unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!((loaded[0].id, loaded[0].restarts), (7, 3));
        assert_eq!(loaded[0].settings, settings);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.json"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_file_is_an_empty_state_and_a_broken_one_an_error_naming_it() {
        let dir = temp_dir("broken");
        let path = dir.join("state.json");
        assert!(load(&path).unwrap().is_none());
        fs::write(&path, b"{not json").unwrap();
        let err = load(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("state.json"), "{err}");
        fs::write(&path, br#"{"format":"other","instances":[]}"#).unwrap();
        assert!(load(&path).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
