//! Checkpoints off the write path: a thread of the store's own copies the WAL back into the
//! database file, so that no sale, import or synced page waits for it.
//!
//! SQLite's default checkpoints inside the commit that takes the WAL past 1,000 pages: about
//! one sale in 60 then paid for copying the others' pages and an `fsync` of the database file
//! (the durable sale's tail, 8 to 11 ms), and a bank statement's import paid for copying its
//! whole WAL before returning. Here the writer never checkpoints: it counts its commits, and
//! every [`BATCH`] of them (or after a bulk write) this thread, on its own connection, runs a
//! `PASSIVE` checkpoint, which waits for no reader and no writer. What a checkpoint has not
//! copied yet is in the WAL, as durable as the rest; the last connection to close copies it.
//! The thread's connection is opened for each checkpoint and closed after it: an idle one
//! would keep a shop moving in from leaving WAL mode for its import.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// Commits between two checkpoints: a sale writes about 15 pages, so about the 1,000 pages at
/// which SQLite would have checkpointed by itself.
const BATCH: u32 = 64;

#[derive(Debug, Default)]
struct Pending {
    commits: u32,
    stop: bool,
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

    /// The writer committed; `bulk`: a large write, checkpointed right away.
    pub(in crate::store) fn committed(&self, bulk: bool) {
        let mut p = self.shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
        p.commits = if bulk { BATCH } else { p.commits.saturating_add(1) };
        if p.commits >= BATCH {
            self.shared.wake.notify_one();
        }
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
    loop {
        {
            let mut p = shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
            while p.commits < BATCH && !p.stop {
                p = shared.wake.wait(p).unwrap_or_else(PoisonError::into_inner);
            }
            if p.stop {
                return;
            }
            p.commits = 0;
        }
        // Busy (another checkpoint, or a reader on an old snapshot) copies what it can; the
        // rest goes with the next one.
        if let Err(e) = checkpoint(path) {
            tracing::warn!(error = %e, "checkpoint failed; the next one copies what it left");
        }
    }
}

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
    fn the_thread_copies_the_wal_into_the_file_after_a_batch_of_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let empty = size();
        let checkpoints = Checkpointer::start(&path).unwrap();
        let insert = || writer.execute("INSERT INTO t VALUES (zeroblob(5000))", []).unwrap();
        for _ in 1..BATCH {
            insert();
            checkpoints.committed(false);
        }
        assert_eq!(size(), empty, "short of a batch, everything is still in the WAL");
        insert();
        checkpoints.committed(false);
        // The thread runs on its own: wait for its copy, not for a time.
        let copied = BATCH as u64 * 4096;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while size() < empty + copied && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(size() >= empty + copied, "the batch was copied into the file: {} bytes", size());
        drop(checkpoints);
        let rows: i64 = writer.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, i64::from(BATCH));
    }

    #[test]
    fn a_bulk_write_is_checkpointed_at_once_and_the_thread_keeps_no_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let empty = size();
        let checkpoints = Checkpointer::start(&path).unwrap();
        writer.execute_batch("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO t SELECT zeroblob(5000) FROM n").unwrap();
        checkpoints.committed(true);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while size() == empty && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(size() > empty + 100 * 4096, "{} bytes", size());
        drop(checkpoints);
        // Its connection closed with it: the writer alone can leave WAL mode.
        let mode: String = writer.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "delete");
    }
}
