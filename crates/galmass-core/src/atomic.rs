//! Atomic writes: the one way every galmass writer puts a file in place.
//!
//! A file is written to a temporary beside its destination (same folder, so the rename stays on one file system;
//! named `<name>.tmp-<pid>` so concurrent processes never share one), flushed to disk with `fsync`, then renamed over
//! the destination, and the folder is synced so the rename itself survives a crash. A reader therefore sees either
//! the old file or the complete new one, never a partial write. On every error path the temporary is removed.
//! [`AtomicFileSet`] commits several files together (a snapshot's chunks, a tipsy file with its auxiliary arrays).
//!
//! This is the only I/O in galmass-core; it uses `std` alone.
//!
//! ```
//! use galmass_core::atomic::{write_atomic, write_bytes_atomic};
//! let dir = std::env::temp_dir().join(format!("galmass-atomic-doc-{}", std::process::id()));
//! let path = dir.join("hello.txt");
//! write_bytes_atomic(&path, b"hello").unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"hello");
//! // Writers that need a path (HDF5, CFITSIO) write the temporary themselves:
//! write_atomic(&path, |tmp| std::fs::write(tmp, b"again")).unwrap();
//! assert_eq!(std::fs::read_to_string(&path).unwrap(), "again");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// An atomic write failed. The destination is left as it was and the temporary file is removed.
#[derive(Debug, Error)]
pub enum AtomicWriteError {
    /// The file system refused a step of the write (creating the folder, syncing, renaming into place).
    #[error("cannot write {}: {step}: {source}", path.display())]
    Io {
        /// The destination file.
        path: PathBuf,
        /// The step that failed, in words ("creating the folder", "renaming into place").
        step: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The caller's writer failed while writing the temporary file.
    #[error("cannot write {}: {source}", path.display())]
    Writer {
        /// The destination file.
        path: PathBuf,
        /// The writer's own error.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl AtomicWriteError {
    /// The destination the write was for.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } | Self::Writer { path, .. } => path,
        }
    }

    /// The writer's own error when the caller's closure failed, downcast to its type.
    pub fn writer_error<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Self::Writer { source, .. } => source.downcast_ref::<E>(),
            Self::Io { .. } => None,
        }
    }
}

/// The temporary file an atomic write of `path` goes through: same folder, name suffixed with `.tmp-<pid>`.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// One file being written atomically. Write [`AtomicFile::temp_path`] (or [`AtomicFile::file`]), then
/// [`AtomicFile::commit`]; dropping it uncommitted removes the temporary.
#[derive(Debug)]
pub struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Starts an atomic write of `dest`, creating its folder when missing.
    pub fn new(dest: &Path) -> Result<Self, AtomicWriteError> {
        create_parent(dest)?;
        let tmp = temporary_path(dest);
        Ok(Self { dest: dest.to_owned(), tmp, committed: false })
    }

    /// The destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// The temporary file to write.
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// Creates (truncates) the temporary file for writing.
    pub fn file(&self) -> Result<File, AtomicWriteError> {
        File::create(&self.tmp).map_err(|e| io_error(&self.dest, "creating the temporary file", e))
    }

    /// Syncs the temporary to disk, renames it over the destination and syncs the folder.
    pub fn commit(self) -> Result<(), AtomicWriteError> {
        sync_file(&self.tmp, &self.dest)?;
        self.rename_synced()
    }

    /// Renames the (already synced) temporary over the destination and syncs the folder.
    fn rename_synced(mut self) -> Result<(), AtomicWriteError> {
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| io_error(&self.dest, "renaming into place", e))?;
        self.committed = true;
        sync_parent(&self.dest);
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the temporary is garbage whatever happened, and it may never have been created.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Several files committed together: each is staged as a temporary, and [`AtomicFileSet::commit`] syncs them all
/// before renaming any, so a failure while writing leaves every destination untouched. Dropping the set uncommitted
/// removes every temporary.
#[derive(Debug, Default)]
pub struct AtomicFileSet {
    files: Vec<AtomicFile>,
}

impl AtomicFileSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stages `dest` (creating its folder) and returns the temporary file to write.
    pub fn stage(&mut self, dest: &Path) -> Result<PathBuf, AtomicWriteError> {
        let file = AtomicFile::new(dest)?;
        let tmp = file.tmp.clone();
        self.files.push(file);
        Ok(tmp)
    }

    /// The destinations staged so far.
    pub fn destinations(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|f| f.dest.as_path())
    }

    /// Syncs every temporary, then renames each into place. A rename failure removes the remaining temporaries;
    /// files already renamed stay (a rename cannot be undone), and the error names the one that failed.
    pub fn commit(self) -> Result<(), AtomicWriteError> {
        for f in &self.files {
            sync_file(&f.tmp, &f.dest)?;
        }
        for f in self.files {
            f.rename_synced()?;
        }
        Ok(())
    }
}

/// Writes `dest` atomically through `write`, which receives the temporary path and must create it. Errors of
/// `write` come back as [`AtomicWriteError::Writer`] (use [`AtomicWriteError::writer_error`] to recover them).
pub fn write_atomic<E>(dest: &Path, write: impl FnOnce(&Path) -> Result<(), E>) -> Result<(), AtomicWriteError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let file = AtomicFile::new(dest)?;
    write(file.temp_path()).map_err(|e| AtomicWriteError::Writer { path: dest.to_owned(), source: Box::new(e) })?;
    file.commit()
}

/// Like [`write_atomic`], but the caller's error type passes through unchanged; `wrap` turns an
/// [`AtomicWriteError`] of the file system into it. For crates whose writers already return their own error.
pub fn write_atomic_with<E>(
    dest: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
    wrap: impl Fn(AtomicWriteError) -> E,
) -> Result<(), E> {
    let file = AtomicFile::new(dest).map_err(&wrap)?;
    write(file.temp_path())?;
    file.commit().map_err(wrap)
}

/// Writes `bytes` to `dest` atomically.
pub fn write_bytes_atomic(dest: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    let file = AtomicFile::new(dest)?;
    let mut f = file.file()?;
    f.write_all(bytes).map_err(|e| io_error(dest, "writing the temporary file", e))?;
    drop(f);
    file.commit()
}

fn io_error(path: &Path, step: &'static str, source: std::io::Error) -> AtomicWriteError {
    AtomicWriteError::Io { path: path.to_owned(), step, source }
}

fn create_parent(dest: &Path) -> Result<(), AtomicWriteError> {
    match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|e| io_error(dest, "creating the folder", e))
        }
        _ => Ok(()),
    }
}

fn sync_file(tmp: &Path, dest: &Path) -> Result<(), AtomicWriteError> {
    let f = File::options()
        .read(true)
        .write(true)
        .open(tmp)
        .map_err(|e| io_error(dest, "opening the temporary file (was it written?)", e))?;
    f.sync_all().map_err(|e| io_error(dest, "syncing to disk", e))
}

/// Syncs the folder so the rename is durable. Best effort: some file systems refuse to sync a folder.
fn sync_parent(dest: &Path) {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("galmass-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn temporary_is_beside_the_destination() {
        let tmp = temporary_path(Path::new("out/galaxy_000001.h5"));
        assert_eq!(tmp.parent(), Some(Path::new("out")));
        assert_eq!(tmp.file_name().unwrap().to_string_lossy(), format!("galaxy_000001.h5.tmp-{}", std::process::id()));
    }

    #[test]
    fn writes_replace_and_leave_no_temporary() {
        let dir = tmpdir("replace");
        let path = dir.join("a/b.bin");
        write_bytes_atomic(&path, b"one").unwrap();
        write_bytes_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(entries(&dir.join("a")), vec!["b.bin"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failing_writer_keeps_the_old_file_and_removes_the_temporary() {
        let dir = tmpdir("failing");
        let path = dir.join("keep.txt");
        write_bytes_atomic(&path, b"old").unwrap();
        let err = write_atomic(&path, |tmp| {
            std::fs::write(tmp, b"partial")?;
            Err(std::io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert_eq!(err.path(), path);
        assert!(matches!(err, AtomicWriteError::Writer { .. }));
        assert_eq!(err.writer_error::<std::io::Error>().unwrap().to_string(), "disk on fire");
        assert!(err.to_string().contains("keep.txt"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(&dir), vec!["keep.txt"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_writer_that_writes_nothing_is_an_io_error_naming_the_destination() {
        let dir = tmpdir("nothing");
        let path = dir.join("never.txt");
        let err = write_atomic(&path, |_| Ok::<(), std::io::Error>(())).unwrap_err();
        assert!(matches!(err, AtomicWriteError::Io { step, .. } if step.contains("temporary")), "{err}");
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_rename_is_an_io_error_and_removes_the_temporary() {
        let dir = tmpdir("rename");
        // A non-empty folder at the destination: rename(file, dir) fails.
        let path = dir.join("occupied");
        std::fs::create_dir_all(path.join("inside")).unwrap();
        let err = write_bytes_atomic(&path, b"x").unwrap_err();
        assert!(matches!(err, AtomicWriteError::Io { step: "renaming into place", .. }), "{err}");
        assert_eq!(entries(&dir), vec!["occupied"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_atomic_with_passes_the_callers_error_through() {
        #[derive(Debug, PartialEq)]
        enum MyError {
            Mine(u32),
            Fs(String),
        }
        let dir = tmpdir("with");
        let path = dir.join("f.txt");
        let wrap = |e: AtomicWriteError| MyError::Fs(e.to_string());
        assert_eq!(write_atomic_with(&path, |_| Err(MyError::Mine(7)), wrap), Err(MyError::Mine(7)));
        assert!(!path.exists());
        write_atomic_with(&path, |tmp| std::fs::write(tmp, "ok").map_err(|e| MyError::Fs(e.to_string())), wrap)
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "ok");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_set_commits_together_or_not_at_all() {
        let dir = tmpdir("set");
        let (a, b) = (dir.join("snap.0.hdf5"), dir.join("snap.1.hdf5"));
        {
            let mut set = AtomicFileSet::new();
            std::fs::write(set.stage(&a).unwrap(), "a").unwrap();
            std::fs::write(set.stage(&b).unwrap(), "b").unwrap();
            // Dropped without commit (a later chunk failed): nothing lands, nothing is left behind.
        }
        assert!(entries(&dir).is_empty());
        let mut set = AtomicFileSet::new();
        std::fs::write(set.stage(&a).unwrap(), "a").unwrap();
        std::fs::write(set.stage(&b).unwrap(), "b").unwrap();
        assert_eq!(set.destinations().count(), 2);
        set.commit().unwrap();
        assert_eq!(entries(&dir), vec!["snap.0.hdf5", "snap.1.hdf5"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_set_with_an_unwritten_member_renames_nothing() {
        let dir = tmpdir("set-missing");
        let mut set = AtomicFileSet::new();
        std::fs::write(set.stage(&dir.join("x")).unwrap(), "x").unwrap();
        set.stage(&dir.join("y")).unwrap();
        let err = set.commit().unwrap_err();
        assert!(err.path().ends_with("y"), "{err}");
        assert!(entries(&dir).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
