//! Files only their owner may read: the database and the key file hold customers' personal data
//! and credentials.

use std::fs::File;
use std::path::Path;

/// Creates `path` with mode 0600 (owner read and write only); fails if it already exists.
pub(crate) fn create_new(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Logs a warning when users other than the owner may read the existing file at `path`
/// (`what` names it in the message: "the key file").
#[cfg(unix)]
pub(crate) fn warn_when_shared(path: &Path, what: &str) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "{what} can be read by other users; `chmod 600` it"
        );
    }
}

/// Logs a warning when users other than the owner may read the file (nothing to check here).
#[cfg(not(unix))]
pub(crate) fn warn_when_shared(_path: &Path, _what: &str) {}
