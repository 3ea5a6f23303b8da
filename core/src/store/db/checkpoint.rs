//! The checkpoint after a bulk write, and while the till is idle, off the write path: a thread
//! of the store's own copies the WAL back into the database file, so that the import returns
//! (and the writer is free for the till) as soon as its commit is durable, and a sale rarely
//! pays for the copy.
//!
//! Ordinary commits keep SQLite's own checkpoint, inside the commit that takes the WAL past
//! 1,000 pages: a checkpoint beside a writer that never stops cannot catch up with it, the
//! WAL then never starts over and every read searches a longer one (a trial with every
//! checkpoint in this thread made the durable sale 1.6x slower). A bulk write (a statement of
//! thousands of payments: 39,000 pages) turns the writer's checkpoints off for its one
//! transaction and leaves the copy of its WAL to this thread, which runs a `PASSIVE`
//! checkpoint (it waits for no reader and no writer) on a connection opened for it and closed
//! after: an idle one would keep a shop moving in from leaving WAL mode for its import. What
//! is not copied yet is in the WAL, as durable as the rest.
//!
//! A till sells with pauses. Once [`IDLE_AFTER_COMMITS`] commits have gone into the WAL and
//! nothing has been written for [`IDLE`], the thread copies them: the writer's own checkpoint
//! (every 1,000 pages, about 65 sales, 6 to 9 ms inside that sale's commit on the test
//! machine) then rarely comes, and stays the cap for a writer that never pauses. Not after
//! every commit: the first commit into a WAL that starts over syncs twice (its header, then
//! its frames).
//!
//! The thread runs at the lowest priority where a thread has its own (Linux, Android): a copy
//! can wait, a verdict cannot, and on a till's two cores the copy of an import's WAL, a sync
//! page being written and a verdict would otherwise take turns (PERFORMANCE.md, issue 15).

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// How long nothing must be written before the WAL is copied: longer than the gap between the
/// writes of one checkout (a sale and its payment), shorter than the gap between two customers.
const IDLE: Duration = Duration::from_millis(100);
/// Commits in the WAL before an idle copy is worth the double sync of the next commit.
const IDLE_AFTER_COMMITS: u32 = 16;

#[derive(Debug, Default)]
struct Pending {
    bulk: bool,
    stop: bool,
    /// Commits since the last copy, and when the last of them was made.
    commits: u32,
    last: Option<Instant>,
}

#[derive(Debug, Default)]
struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

/// The checkpointing thread of one database file; stopped (and its connection closed) when
/// dropped, after the checkpoint it may be running.
#[derive(Debug)]
pub(in crate::store) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread for the file at `path`, whose writer is open.
    pub(in crate::store) fn start(path: &Path) -> Result<Checkpointer> {
        let path = path.to_path_buf();
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("ardoise-checkpoint".into())
            .spawn(move || run(&path, &theirs))
            .map_err(|e| Error::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer { shared, thread: Some(thread) })
    }

    /// An ordinary write committed: its WAL is copied once enough have and the till pauses.
    pub(in crate::store) fn committed(&self) {
        let mut p = self.shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
        p.commits = p.commits.saturating_add(1);
        p.last = Some(Instant::now());
        if p.commits == IDLE_AFTER_COMMITS {
            self.shared.wake.notify_one();
        }
    }

    /// A bulk write committed with the writer's checkpoints off: its WAL is to be copied.
    pub(in crate::store) fn bulk_committed(&self) {
        self.shared.pending.lock().unwrap_or_else(PoisonError::into_inner).bulk = true;
        self.shared.wake.notify_one();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.pending.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // A checkpoint that failed is retried by the next; nothing to report at close.
            let _ = thread.join();
        }
    }
}

fn run(path: &Path, shared: &Shared) {
    lower_priority();
    loop {
        {
            let mut p = shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if p.stop {
                    return;
                }
                if p.bulk {
                    break;
                }
                if p.commits >= IDLE_AFTER_COMMITS {
                    let quiet = p.last.map_or(IDLE, |t| t.elapsed());
                    if quiet >= IDLE {
                        break;
                    }
                    p = shared.wake.wait_timeout(p, IDLE - quiet).unwrap_or_else(PoisonError::into_inner).0;
                } else {
                    p = shared.wake.wait(p).unwrap_or_else(PoisonError::into_inner);
                }
            }
            (p.bulk, p.commits) = (false, 0);
        }
        // Busy (another checkpoint, or a reader on an old snapshot) copies what it can; the
        // rest goes with the next one.
        if let Err(e) = checkpoint(path) {
            tracing::warn!(error = %e, "checkpoint failed; the next one copies what it left");
        }
    }
}

/// The nice value of the thread: the lowest, so that any other thread of the till goes first.
#[cfg(any(target_os = "linux", target_os = "android"))]
const NICE: i32 = 19;

#[cfg(any(target_os = "linux", target_os = "android"))]
fn lower_priority() {
    // Linux keeps a nice value per thread: this one, not the till's process, gives way.
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), NICE) {
        tracing::debug!(error = %e, "the checkpoint thread keeps the process's priority");
    }
}

/// Apple's platforms set a priority per process, not per thread: the thread keeps the till's.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn lower_priority() {}

fn checkpoint(path: &Path) -> rusqlite::Result<()> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_bulk_write_turns_the_writers_checkpoints_off_for_its_transaction_only() {
        let dir = tempfile::tempdir().unwrap();
        let writer = crate::store::db::conn::open_writer(&dir.path().join("t.db")).unwrap();
        let pages = || writer.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(pages(), 1000);
        let bulk = crate::store::db::conn::Bulk { large: true, moving_in: false };
        let cache = crate::store::db::conn::tune(&writer, bulk).unwrap();
        assert_eq!(pages(), 0);
        crate::store::db::conn::untune(&writer, bulk, cache).unwrap();
        assert_eq!(pages(), 1000);
    }

    /// A file in WAL mode with an empty table `t`, everything so far in the file itself.
    fn wal_file(dir: &Path) -> (std::path::PathBuf, Connection) {
        let path = dir.join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        (path, writer)
    }

    /// What `read` gives once `done` holds of it (the thread did its work), or after 30 s.
    fn eventually<T>(mut read: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = read();
        while !done(&seen) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            seen = read();
        }
        seen
    }

    /// The file's size once it is larger than `empty` (the thread copied the WAL into it).
    fn size_after_copy(path: &Path, empty: u64) -> u64 {
        eventually(|| std::fs::metadata(path).unwrap().len(), |size| *size != empty)
    }

    #[test]
    fn commits_are_copied_once_enough_have_been_made_and_nothing_is_written_for_a_while() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_file(dir.path());
        let size = || std::fs::metadata(&path).unwrap().len();
        let empty = size();
        let checkpoints = Checkpointer::start(&path).unwrap();
        let commit = || {
            writer.execute("INSERT INTO t VALUES (zeroblob(5000))", []).unwrap();
            checkpoints.committed();
        };
        // Fewer commits than make a copy worth it: they wait in the WAL, however long.
        for _ in 1..IDLE_AFTER_COMMITS {
            commit();
        }
        std::thread::sleep(IDLE * 3);
        assert_eq!(size(), empty, "a few commits stay in the WAL");
        // One more, then a pause: copied.
        commit();
        let copied = size_after_copy(&path, empty);
        assert!(copied >= empty + u64::from(IDLE_AFTER_COMMITS) * 4096, "{copied} bytes");
    }

    #[test]
    fn a_bulk_write_is_checkpointed_at_once_and_the_thread_keeps_no_connection() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_file(dir.path());
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let empty = size();
        let checkpoints = Checkpointer::start(&path).unwrap();
        writer.execute_batch("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO t SELECT zeroblob(5000) FROM n").unwrap();
        assert_eq!(size(), empty, "the writer does not checkpoint");
        checkpoints.bulk_committed();
        let copied = size_after_copy(&path, empty);
        assert!(copied > empty + 100 * 4096, "{copied} bytes");
        drop(checkpoints);
        // Its connection closed with it: the writer alone can leave WAL mode.
        let mode: String = writer.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "delete");
    }

    /// The nice value of each thread of this process named for the checkpoints.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn checkpoint_threads_nice() -> Vec<i32> {
        let mut nice = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            // The kernel keeps 15 bytes of a thread's name.
            let named = std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim() == "ardoise-checkpo");
            let tid = task.file_name().to_string_lossy().parse::<i32>().ok().and_then(rustix::process::Pid::from_raw);
            if let (true, Some(tid)) = (named, tid) {
                if let Ok(n) = rustix::process::getpriority_process(Some(tid)) {
                    nice.push(n);
                }
            }
        }
        nice
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn the_thread_gives_way_to_every_other_thread_of_the_till() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _writer) = wal_file(dir.path());
        let before = rustix::process::getpriority_process(None).unwrap();
        let _checkpoints = Checkpointer::start(&path).unwrap();
        let lowered = |nice: &Vec<i32>| !nice.is_empty() && nice.iter().all(|n| *n == NICE);
        let nice = eventually(checkpoint_threads_nice, lowered);
        assert!(lowered(&nice), "checkpoint threads at {nice:?}");
        // Only that thread: the till's own keep their priority.
        assert_eq!(rustix::process::getpriority_process(None).unwrap(), before);
    }
}
