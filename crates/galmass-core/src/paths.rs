//! The naming convention every galmass writer shares for atomic writes: write `<name>.tmp-<pid>` beside the
//! destination, then rename it into place. Pure path arithmetic; this crate does no I/O itself.
//!
//! ```
//! use galmass_core::paths::temporary_path;
//! let tmp = temporary_path("out/galaxy_000001.h5".as_ref());
//! assert_eq!(tmp.parent(), Some("out".as_ref()));
//! assert!(tmp.file_name().unwrap().to_string_lossy().starts_with("galaxy_000001.h5.tmp-"));
//! ```

use std::path::{Path, PathBuf};

/// The temporary file an atomic write of `path` goes through: same folder (so the rename stays on one file
/// system), name suffixed with `.tmp-<process id>` (so concurrent processes never share one).
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}
