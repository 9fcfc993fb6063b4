//! Reading input files with a size cap, and clipping echoed values, so that neither a huge file
//! nor a device (`/dev/zero`) is read into memory and no error line carries a megabyte of text.

use std::io::Read;
use std::path::Path;

use crate::exit::CliError;

/// Largest settings file, profile file, `--json @FILE` or desired-settings file read (1 MiB):
/// the largest real one is a few kilobytes.
pub const SMALL_FILE_CAP: u64 = 1 << 20;

/// Largest fleet file (`--instances` CSV, `--resume` report) read (64 MiB): about 500,000
/// instances in a CSV, or a report of about 150,000 instances.
pub const FLEET_FILE_CAP: u64 = 64 << 20;

/// Whether standard input (`-`) was read already in this process.
static STDIN_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Longest echo of a user-given value in a message, in characters.
pub const ECHO_MAX_CHARS: usize = 60;

/// Reads `path` as UTF-8 text of at most `cap` bytes. Never reads more than `cap + 1` bytes,
/// whatever the file is (a device, a pipe, a growing log). A leading UTF-8 byte order mark is
/// removed.
///
/// `-` is standard input (read once per run: a second file named `-` is an error, since
/// standard input has nothing more to give).
pub fn read_capped(path: &Path, cap: u64) -> Result<String, CliError> {
    let shown = path.display().to_string();
    let cannot = |e: std::io::Error| CliError::usage(format!("cannot read {shown}: {e}"));
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        if STDIN_TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(CliError::usage(
                "- (standard input) is given for two inputs; only one of them can read it",
            ));
        }
        std::io::stdin()
            .lock()
            .take(cap.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| CliError::usage(format!("cannot read standard input: {e}")))?;
    } else {
        let file = std::fs::File::open(path).map_err(cannot)?;
        if file.metadata().map_err(cannot)?.is_dir() {
            return Err(CliError::usage(format!(
                "cannot read {shown}: it is a directory"
            )));
        }
        file.take(cap.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    }
    if bytes.len() as u64 > cap {
        return Err(CliError::usage(format!(
            "{shown} is larger than {} (the limit for this kind of file); nothing was sent",
            human_size(cap)
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::usage(format!(
            "{shown} is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(strip_bom(&text).to_string())
}

/// `text` without a leading UTF-8 byte order mark.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// `value` quoted for a message, cut to [`ECHO_MAX_CHARS`] characters (`"abc…" (1234 characters)`).
/// Never use it on a secret: secrets are not echoed at all.
pub fn clip(value: &str) -> String {
    let n = value.chars().count();
    if n <= ECHO_MAX_CHARS {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(ECHO_MAX_CHARS).collect();
        format!("{:?} ({n} characters)", head + "…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("gas-cli-input-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn a_file_over_the_cap_is_refused_without_reading_it_all() {
        let p = tmp("big", &vec![b'a'; 2048]);
        let e = read_capped(&p, 1024).unwrap_err();
        assert_eq!(e.exit, crate::exit::Exit::Usage);
        assert!(
            e.message.contains("larger than 1024 bytes"),
            "{}",
            e.message
        );
        assert_eq!(read_capped(&p, 2048).unwrap().len(), 2048);
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_refused_quickly() {
        let e = read_capped(Path::new("/dev/zero"), SMALL_FILE_CAP).unwrap_err();
        assert!(e.message.contains("larger than 1 MiB"), "{}", e.message);
    }

    #[test]
    fn a_directory_and_non_utf8_are_clear_errors() {
        let e = read_capped(&std::env::temp_dir(), 10).unwrap_err();
        assert!(e.message.contains("directory"), "{}", e.message);
        let p = tmp("latin1", b"ok\xff");
        let e = read_capped(&p, 10).unwrap_err();
        assert!(e.message.contains("not UTF-8"), "{}", e.message);
    }

    #[test]
    fn the_bom_is_removed() {
        let p = tmp("bom", "\u{feff}x = 1".as_bytes());
        assert_eq!(read_capped(&p, 100).unwrap(), "x = 1");
    }

    #[test]
    fn long_values_are_clipped_in_messages() {
        assert_eq!(clip("abc"), "\"abc\"");
        let long = "é".repeat(1000);
        let c = clip(&long);
        assert!(c.chars().count() < 90, "{c}");
        assert!(c.ends_with("(1000 characters)"), "{c}");
    }
}
