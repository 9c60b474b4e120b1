//! One process at a time on a file: an exclusive OS lock on a lock file beside it, which records
//! the holder. The sync engine's database (`<database>.lock`) and a `watch` state file (Twilio
//! TaskRouter's `webhook_state_file`: `<file>.lock`) are each worked by one process; a second
//! one is refused, naming the lock file and the process that holds it.
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows: std's
//! [`File::try_lock`](std::fs::File::try_lock)), held while the [`LockFile`] lives: the OS
//! releases it when the process ends however it ends (`kill -9` included), so a killed holder
//! never leaves a file locked. The text in the lock file (`process <pid>, since <time>`) only
//! says who holds it; the lock, not the text, is what excludes. A lock is taken per open file,
//! so a second [`LockFile::acquire`] in the same process is refused as well.

use std::fs::File;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

/// The largest holder record read from a lock file (a line or two).
pub const MAX_HOLDER: u64 = 512;

/// The lock file beside `path`: `<path>.lock`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// An exclusive lock on a lock file, held until this is dropped (or the process ends).
#[derive(Debug)]
pub struct LockFile {
    path: PathBuf,
    _file: File,
}

/// Why [`LockFile::acquire`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another process (or another holder in this one) has the lock.
    #[error("lock file {} is held by {}", path.display(), holder.as_deref().unwrap_or("a process that has not said which"))]
    Held {
        /// The lock file.
        path: PathBuf,
        /// What the holder recorded (`process <pid>, since <time>`; control characters escaped,
        /// clipped), if anything.
        holder: Option<String>,
    },
    /// The lock file could not be made, opened or locked.
    #[error("lock file {}: {message}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

impl LockFile {
    /// Take the exclusive lock on the lock file `path` (made if missing; its directory is the
    /// caller's to make) without waiting, and record this process in it. A lock someone holds is
    /// [`LockError::Held`], with what the holder recorded.
    pub fn acquire(path: &Path) -> Result<Self, LockError> {
        let io = |what: &str, e: std::io::Error| LockError::Io {
            path: path.to_path_buf(),
            message: format!("{what} ({e})"),
        };
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            // it names a process and a time, nothing secret; but nobody else's to write
            options.mode(0o644);
        }
        let mut file = options.open(path).map_err(|e| io("cannot be opened", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = (&file).take(MAX_HOLDER).read_to_string(&mut holder);
                let holder = crate::adapter::clip(holder.trim());
                return Err(LockError::Held {
                    path: path.to_path_buf(),
                    holder: (!holder.is_empty()).then_some(holder),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("cannot be locked", e)),
        }
        // who holds it, for the next one that tries
        let started = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let record = format!("process {}, since {started}", std::process::id());
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(record.as_bytes()))
            .and_then(|()| file.flush());
        Ok(Self {
            path: path.to_path_buf(),
            _file: file,
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A held lock refuses a second holder (in this process too: the lock is per open file),
    /// naming the file and the holder's record; dropped, it can be taken again.
    #[test]
    fn a_held_lock_is_refused_naming_the_file_and_its_holder() {
        let dir = std::env::temp_dir().join(format!(
            "agentstatus-lockfile-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let path = dir.join("nested/state.json.lock");
        // the directory is the caller's
        assert!(matches!(
            LockFile::acquire(&path),
            Err(LockError::Io { .. })
        ));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let first = LockFile::acquire(&path).unwrap();
        assert_eq!(first.path(), path);
        let e = LockFile::acquire(&path).unwrap_err();
        let LockError::Held { path: held, holder } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(held, &path);
        let holder = holder.as_deref().unwrap();
        assert!(
            holder.starts_with(&format!("process {}, since ", std::process::id())),
            "{holder}"
        );
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        drop(first);
        LockFile::acquire(&path).unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn lock_path_is_beside_the_file() {
        assert_eq!(
            lock_path(Path::new("/var/lib/sync.db")),
            Path::new("/var/lib/sync.db.lock")
        );
    }
}
