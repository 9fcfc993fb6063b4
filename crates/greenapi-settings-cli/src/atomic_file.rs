//! Files the CLI writes (fleet reports, exports): written whole or not at all, through a
//! temporary file that the `tempfile` crate creates next to the target with an unpredictable
//! name, `O_EXCL` (never opening what a symlink or a leftover file points to) and the target's
//! permissions from the start, then renamed over the target (which replaces a symlink there
//! rather than writing through it).

use std::io::{self, Write};
use std::path::Path;

/// The directory a file at `path` lives in.
fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A new, empty temporary file beside `path`, with permission bits `mode` (Unix; the umask
/// applies): 0o600 for a file holding secrets.
fn temp_beside(path: &Path, mode: u32) -> io::Result<tempfile::NamedTempFile> {
    let mut b = tempfile::Builder::new();
    b.prefix(".greenapi-settings-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    b.tempfile_in(dir_of(path))
}

/// Whether a file can be written at `path`: a temporary file is created beside it and
/// removed (nothing at `path` itself is opened, truncated or followed).
pub fn check_writable(path: &Path) -> io::Result<()> {
    temp_beside(path, 0o600)?.close()
}

/// Writes `path` atomically with permission bits `mode`: `fill` writes the content to a
/// temporary file, which is synced and renamed over `path`. On any error the temporary file
/// is removed and `path` is left as it was.
pub fn write(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut tmp = temp_beside(path, mode)?;
    {
        let mut out = io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        fill(&mut out)?;
        out.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("gs-atomic-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_file_is_0600_even_over_a_leftover_and_a_symlink_target_is_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let d = scratch("modes");
        let victim = d.join("victim.txt");
        std::fs::write(&victim, "keep me").unwrap();
        let out = d.join("out.toml");
        // The names an attacker could predict: all leftovers or symlinks, none used.
        std::os::unix::fs::symlink(&victim, d.join("out.toml.tmp")).unwrap();
        std::os::unix::fs::symlink(&victim, d.join("out.export.tmp")).unwrap();
        check_writable(&out).unwrap();
        write(&out, 0o600, |w| w.write_all(b"secret")).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "secret");
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        // A symlink at the target itself is replaced, not written through.
        let link = d.join("link.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write(&link, 0o644, |w| w.write_all(b"{}")).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert!(!std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".greenapi-settings-")
            })
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_failed_fill_leaves_the_target_as_it_was() {
        let d = scratch("fail");
        let out = d.join("r.json");
        std::fs::write(&out, "old").unwrap();
        let e = write(&out, 0o644, |_| Err(io::Error::other("boom"))).unwrap_err();
        assert_eq!(e.to_string(), "boom");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
    }
}
