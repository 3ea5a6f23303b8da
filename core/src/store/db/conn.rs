//! Connections: the one writer and the readers beside it (WAL lets them read while it writes),
//! opened with the till's pragmas, and the database file checked before anything is trusted.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// Idle readers kept open: a checkout, a search and a report may run at once; more are opened
/// on demand and closed after use.
const IDLE_READERS: usize = 4;

/// A lock whose holder panicked: SQLite rolled the unfinished transaction back, so the
/// connection behind it is consistent and usable.
pub(in crate::store) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Ardoise's mark in the SQLite header ("ARDS"), written by every migration: a database some
/// other program wrote is told apart without guessing from its tables.
pub const APPLICATION_ID: i64 = 0x4152_4453;

/// SQLite's own header: every database file starts with it.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Refuses an existing file that is not an Ardoise database (empty, not SQLite, or SQLite some
/// other program wrote), only reading it: a 0-byte file would otherwise become a new empty
/// shop, and a foreign one would get Ardoise's tables added to it. A missing file passes (the
/// caller decides whether to create it); so does one that cannot be read, for SQLite to report.
pub(in crate::store) fn vet(path: &Path) -> Result<()> {
    let refuse = |reason: &str| Err(Error::NotArdoise { path: path.display().to_string(), reason: reason.into() });
    let Ok(meta) = std::fs::metadata(path) else { return Ok(()) };
    if !meta.is_file() {
        return Ok(());
    }
    if meta.len() == 0 {
        // After a power cut the sales may all be in the WAL, the main file not yet written:
        // SQLite reads them from there.
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
            return Ok(());
        }
        return refuse("the file is empty (0 bytes)");
    }
    let mut header = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
    match read {
        Ok(()) if &header == SQLITE_MAGIC => {}
        Ok(()) => return refuse("not a SQLite database"),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return refuse("not a SQLite database"),
        Err(_) => return Ok(()),
    }
    let conn = open_read_only(path)?;
    let foreign = |e| Error::Open { path: path.display().to_string(), source: e };
    let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(foreign)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(foreign)?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(foreign)?;
    let ours: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('device', 'entries')",
            [],
            |r| r.get(0),
        )
        .map_err(foreign)?;
    if app != 0 && app != APPLICATION_ID {
        return refuse(&format!("SQLite written by another program (application id {app:#x})"));
    }
    // Files written before the application id was set carry a schema version and the ledger.
    if app == 0 && (version == 0 && objects > 0 || version > 0 && ours < 2) {
        return refuse("SQLite without Ardoise's tables");
    }
    Ok(())
}

/// A connection that can only read, for looking at a file without changing it. Without a
/// `-wal` beside the file no till has it open, so it is opened immutable: a plain read-only
/// connection to a WAL database would leave `-wal` and `-shm` files behind it. With one, the
/// WAL may hold committed writes, which only a normal read sees.
pub(in crate::store) fn open_read_only(path: &Path) -> Result<Connection> {
    let open_err = |source| Error::Open { path: path.display().to_string(), source };
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let conn = if Path::new(&wal).exists() {
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    } else {
        let escaped = path.to_string_lossy().replace('%', "%25").replace('?', "%3f").replace('#', "%23");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        Connection::open_with_flags(format!("file:{escaped}?mode=ro&immutable=1"), flags)
    }
    .map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Opens the writer of the file at `path`, creating the file if needed. A file that cannot be
/// opened or read is reported, and left exactly as it was: it may hold money not yet synced.
pub(in crate::store) fn open_writer(path: &Path) -> Result<Connection> {
    let open_err = |source| Error::Open { path: path.display().to_string(), source };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    // Reading the header now turns "file is not a database" into an open error.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).map_err(open_err)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
    configure(&conn)?;
    // FULL: a sale the till confirmed survives a power cut, not only a crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Statement and savepoint sub-journals in memory instead of a temporary file: applying a
    // page of synced events writes every touched page there, through write calls. They are
    // rollback data only, never needed after a crash (the WAL covers that).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// A throwaway database, for tests and the demo's dry runs: the writer is the only connection.
pub(in crate::store) fn open_memory() -> Result<Connection> {
    let conn = Connection::open_in_memory()?;
    configure(&conn)?;
    Ok(conn)
}

/// A connection that only reads, beside the writer of an existing file.
fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|source| Error::Open { path: path.display().to_string(), source })?;
    configure(&conn)?;
    // Read-write flags, so it can take part in WAL (update the shared-memory index), but no
    // statement through it may write.
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", true)?;
    // 16 MB of page cache (the default is 2 MB): a write touches the customer's pages in a few
    // indexes, and keeping the upper B-tree levels cached spares re-reads.
    conn.pragma_update(None, "cache_size", -16_000)?;
    // Reads of a large file through memory mapping instead of one pread per page: the
    // checkout's tail was page misses. Writes still go through the WAL, so durability is
    // unchanged; address space, not memory, is what this reserves.
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// The readers of a file: taken for one read and given back, so that a checkout never waits
/// for the writer (a reminder run, an import, a page of synced events) nor for another read.
#[derive(Debug)]
pub(in crate::store) struct Readers {
    /// `None` for a database in memory, which only its writer can reach.
    path: Option<PathBuf>,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(in crate::store) fn new(path: Option<&Path>) -> Readers {
        Readers { path: path.map(Path::to_path_buf), idle: Mutex::new(Vec::new()) }
    }

    /// Runs `f` on an idle reader (opened if none is), or on the writer for a database in
    /// memory. A reader sees what was committed when its read began.
    pub(in crate::store) fn read<T>(
        &self,
        writer: &Mutex<Connection>,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let Some(path) = &self.path else { return f(&lock(writer)) };
        let taken = lock(&self.idle).pop();
        let conn = match taken {
            Some(c) => c,
            None => open_reader(path)?,
        };
        let out = f(&conn);
        let mut idle = lock(&self.idle);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        out
    }
}

/// What a bulk write sets up on the writer for its one transaction.
#[derive(Clone, Copy, Debug)]
pub(in crate::store) struct Bulk {
    /// A large file: SQLite would spill pages mid-transaction and read them back; a page cache
    /// of up to 1 GB (allocated only as pages are used) keeps that from dominating.
    pub(in crate::store) large: bool,
    /// More rows than the store holds (a shop moving in): foreign keys are not checked row by
    /// row (every row names a customer the write just looked up or created), and a rollback
    /// journal replaces the WAL, so pages added past the file's end are written once instead of
    /// into the WAL and again by the checkpoint. Atomic all the same.
    pub(in crate::store) moving_in: bool,
}

const BIG_CACHE_KIB: i64 = 1024 * 1024;
/// What every connection maps of the file (see [`configure`]).
const MMAP_BYTES: i64 = 256 * 1024 * 1024;
/// What a large bulk write maps: the whole file of any shop, as far as SQLite was built to
/// (it caps the setting). Each page it reads is then read where the file is mapped, instead
/// of into a page of its cache allocated and copied into for the one write.
const BIG_MMAP_BYTES: i64 = 1 << 40;
/// SQLite's default: the writer checkpoints inside the commit that takes the WAL past this.
const AUTOCHECKPOINT_PAGES: i64 = 1000;

/// Sets the writer up for `bulk` (outside any transaction: SQLite only switches these there);
/// returns the page cache size to restore.
pub(in crate::store) fn tune(conn: &Connection, bulk: Bulk) -> Result<i64> {
    let before: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    if bulk.large {
        conn.pragma_update(None, "cache_size", -BIG_CACHE_KIB)?;
        conn.pragma_update(None, "mmap_size", BIG_MMAP_BYTES)?;
        // Its WAL is copied into the file by the store's checkpoint thread, after the commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    }
    if bulk.moving_in {
        conn.pragma_update(None, "foreign_keys", false)?;
        // If another connection holds the file, SQLite keeps the WAL, which only costs time.
        let _ = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0));
    }
    Ok(before)
}

/// Puts the writer back as it was before [`tune`], whatever the write did.
pub(in crate::store) fn untune(conn: &Connection, bulk: Bulk, cache_before: i64) -> Result<()> {
    // Failing to shrink it back only costs memory until the store is reopened.
    let _ = conn.pragma_update(None, "cache_size", cache_before);
    if bulk.large {
        let _ = conn.pragma_update(None, "mmap_size", MMAP_BYTES);
        // Failing to turn them back on only leaves checkpoints to the thread and to closing.
        let _ = conn.pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES);
    }
    if bulk.moving_in {
        let checks = conn.pragma_update(None, "foreign_keys", true);
        // Opening the store sets the WAL again should this fail.
        let wal = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0));
        checks?;
        wal?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `.cargo/config.toml` builds the SQLite the store links: without these options a large
    /// shop is only partly mapped, and a verdict read beside a write waits on mutexes that
    /// every connection of the process shares (one page cache for all, memory statistics).
    #[test]
    fn the_linked_sqlite_is_built_with_the_workspaces_options() {
        let conn = super::open_memory().unwrap();
        let used = |option: &str| -> bool {
            conn.query_row("SELECT sqlite_compileoption_used(?1)", [option], |r| r.get(0)).unwrap()
        };
        for option in ["MAX_MMAP_SIZE=1099511627776", "DEFAULT_MEMSTATUS=0", "DISABLE_PAGECACHE_OVERFLOW_STATS"] {
            assert!(used(option), "the linked SQLite was built without {option}");
        }
        assert!(!used("ENABLE_MEMORY_MANAGEMENT"), "the linked SQLite shares one page cache between connections");
    }
}
