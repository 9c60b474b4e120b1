//! The durable state, in one SQLite file (WAL mode, schema version in `PRAGMA user_version`):
//!
//! | table | what |
//! |---|---|
//! | `known` | the last known state of every (desk, agent): observed, or written by sync; and the last one the vendor did not compute |
//! | `wanted` | each person's decided availability, and which desk decided it |
//! | `outbox` | writes still owed: written before sending, removed after success |
//! | `expected` | states sync wrote (or is writing) to a desk: when the desk shows them, it is an echo |
//! | `decisions` | the log of decisions: the change, the candidates, the writes owed |
//! | `lately` | the states each (desk, agent) held until lately, and when each ended (the wall clock, milliseconds): a read replica behind may still show one; restored on start (schema 2) |
//! | `doubts` | sync's writes whose outcome is unknown, per (desk, agent, state): the attempts answered in doubt, whether one is on its way (`sent_ms`: marked before it is sent), until when they may land (the wall clock, milliseconds), whether a change was decided since; restored on start (schema 3) |
//!
//! Every decision is stored in one transaction (the observation, the person's state, the outbox
//! rows, the expected echoes, the log line), a batch of decisions at a time (the engine's
//! `DECIDE_BATCH`), so a process killed at any point restarts from a state where a change was
//! either fully decided or not seen at all.

use std::path::Path;

use agentstatus_presence::Availability;
use rusqlite::{Connection, OptionalExtension, params};

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE known(
  desk TEXT NOT NULL, agent TEXT NOT NULL,
  availability TEXT NOT NULL, vendor_status TEXT NOT NULL, seen_at TEXT NOT NULL,
  settled TEXT NOT NULL,
  PRIMARY KEY(desk, agent));
CREATE TABLE wanted(
  person TEXT PRIMARY KEY, availability TEXT NOT NULL, desk TEXT NOT NULL, decided_at TEXT NOT NULL);
CREATE TABLE outbox(
  desk TEXT NOT NULL, agent TEXT NOT NULL, person TEXT NOT NULL, availability TEXT NOT NULL,
  decision INTEGER NOT NULL, queued_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT, PRIMARY KEY(desk, agent));
CREATE TABLE expected(
  desk TEXT NOT NULL, agent TEXT NOT NULL, availability TEXT NOT NULL, PRIMARY KEY(desk, agent));
CREATE TABLE decisions(
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, person TEXT NOT NULL,
  desk TEXT NOT NULL, agent TEXT NOT NULL, before TEXT, after TEXT NOT NULL,
  wanted TEXT NOT NULL, reason TEXT NOT NULL, writes INTEGER NOT NULL);
";

/// What each schema version adds to the one before it, in order: `MIGRATIONS[i]` takes a
/// database of version `i + 1` to `i + 2`. A new database gets [`SCHEMA`] and every migration.
const MIGRATIONS: &[&str] = &[
    // 2: the states each (desk, agent) held until lately (the engine's record of them, kept
    // across a restart: a replica behind may show one in the first reads after it)
    "CREATE TABLE lately(
  desk TEXT NOT NULL, agent TEXT NOT NULL, availability TEXT NOT NULL, ended_ms INTEGER NOT NULL,
  PRIMARY KEY(desk, agent, availability));
CREATE INDEX lately_age ON lately(desk, ended_ms);",
    // 3: sync's writes in doubt (the engine's record of them, kept across a restart: one
    // that lands while sync is down or after its restart is sync's, not a person's change)
    "CREATE TABLE doubts(
  desk TEXT NOT NULL, agent TEXT NOT NULL, availability TEXT NOT NULL,
  doubtful INTEGER NOT NULL, sent_ms INTEGER, until_ms INTEGER, overtaken INTEGER NOT NULL,
  PRIMARY KEY(desk, agent, availability));
CREATE INDEX doubts_until ON doubts(until_ms);",
];

/// One of sync's writes in doubt, as stored (the `doubts` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoubt {
    /// The desk written.
    pub desk: String,
    /// The agent there.
    pub agent: String,
    /// The state written.
    pub availability: Availability,
    /// Its attempts answered with an unknown outcome, not yet seen landing.
    pub doubtful: i64,
    /// When an attempt on its way was handed out (the wall clock, milliseconds): its answer
    /// had not come when this was stored (a process killed then may have sent it).
    pub sent_ms: Option<i64>,
    /// Until when the doubtful attempts may land (the wall clock, milliseconds).
    pub until_ms: Option<i64>,
    /// A change was decided, or a newer write of sync's made, on the agent since it was sent.
    pub overtaken: bool,
}

/// The database could not be opened or used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StoreError {
    /// The database file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// A row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    /// The desk to write.
    pub desk: String,
    /// The agent there.
    pub agent: String,
    /// The person.
    pub person: String,
    /// The state to write.
    pub availability: Availability,
    /// The decision that owes it.
    pub decision: i64,
    /// When it was queued (RFC 3339).
    pub queued_at: String,
    /// Failed attempts so far.
    pub attempts: i64,
}

/// A logged decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The person.
    pub person: String,
    /// The desk whose change decided.
    pub desk: String,
    /// The agent there.
    pub agent: String,
    /// Its state before (if known).
    pub before: Option<String>,
    /// Its new state.
    pub after: String,
    /// The person's availability decided.
    pub wanted: String,
    /// Why (the rule, the candidates).
    pub reason: String,
    /// How many writes it queued.
    pub writes: i64,
}

/// The open database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: String,
    /// Inside [`Store::begin`]: each [`Store::transaction`] is a savepoint of the open one.
    batch: bool,
    /// The exclusive lock on the database's lock file ([`Store::open`]), held while this is
    /// open; `None` for a copy in memory.
    _lock: Option<agentstatus_presence::lockfile::LockFile>,
}

/// The lock file beside a database: `<database>.lock`
/// ([`agentstatus_presence::lockfile::lock_path`]).
pub fn lock_path(database: &Path) -> std::path::PathBuf {
    agentstatus_presence::lockfile::lock_path(database)
}

/// Take the exclusive lock on `database`'s lock file ([`lock_path`]; the toolkit's
/// [`LockFile`](agentstatus_presence::lockfile::LockFile), which records this process in it);
/// a database another process holds is refused, naming the file and that process.
fn lock(
    database: &Path,
    name: &str,
) -> Result<agentstatus_presence::lockfile::LockFile, StoreError> {
    use agentstatus_presence::lockfile::{LockError, LockFile};
    let path = lock_path(database);
    LockFile::acquire(&path).map_err(|e| StoreError {
        path: name.to_string(),
        message: match e {
            LockError::Held { holder, .. } => format!(
                "in use by another sync ({}; lock file {}): one sync per database; stop the other one, or give this one a database of its own",
                holder.as_deref().unwrap_or("a process that has not said which"),
                path.display()
            ),
            e => format!("cannot lock it: {e}"),
        },
    })
}

pub(crate) fn parse_availability(s: &str) -> Availability {
    s.parse().unwrap_or(Availability::Offline)
}

impl Store {
    /// Open (or create) the database at `path`, for this process alone: an exclusive lock on
    /// its lock file ([`lock_path`], `<path>.lock`, which records the holding process) is taken
    /// first and held until the store is dropped; a database another sync holds is refused,
    /// naming it and that process (two syncs on one database would both send its outbox).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let lock = lock(path, &name)?;
        let conn = Connection::open(path).map_err(|e| StoreError {
            path: name.clone(),
            message: format!("cannot open the database: {e}"),
        })?;
        let store = Store {
            conn,
            path: name,
            batch: false,
            _lock: Some(lock),
        };
        store.init()?;
        Ok(store)
    }

    /// A private copy of the database at `path` in memory (for `--dry-run`: it starts from the
    /// real state, and the real file is never written). A missing file gives an empty copy.
    pub fn open_copy(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open_in_memory().map_err(|e| StoreError {
            path: name.clone(),
            message: e.to_string(),
        })?;
        let mut store = Store {
            batch: false,
            conn,
            path: format!("{name} (a copy in memory)"),
            _lock: None,
        };
        if path.exists() {
            let source = Store::open_read_only(path)?;
            let backup = rusqlite::backup::Backup::new(&source.conn, &mut store.conn)
                .map_err(|e| source.err(e))?;
            backup
                .run_to_completion(1024, std::time::Duration::ZERO, None)
                .map_err(|e| source.err(e))?;
        }
        store.init()?;
        Ok(store)
    }

    /// The database at `path`, to read beside the sync that holds it (a status page, a test
    /// counting decisions): read-only and without the lock [`Store::open`] takes (in WAL mode a
    /// reader never blocks the writer). Nothing can be written through it.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| StoreError {
                path: name.clone(),
                message: format!("cannot open the database: {e}"),
            })?;
        Ok(Store {
            conn,
            path: name,
            batch: false,
            _lock: None,
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    fn init(&self) -> Result<(), StoreError> {
        let c = &self.conn;
        // WAL: a reader never blocks the writer, and a commit is one append; NORMAL is durable
        // against a killed process (not against a power cut between checkpoints)
        let _: String = c
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        c.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| self.err(e))?;
        c.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| self.err(e))?;
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        match version {
            0 => {
                let tables: i64 = c
                    .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                    .map_err(|e| self.err(e))?;
                if tables != 0 {
                    return Err(self.err(
                        "not a sync database (it has tables but no schema version): give sync its own file",
                    ));
                }
                let all = MIGRATIONS.join("\n");
                c.execute_batch(&format!(
                    "BEGIN; {SCHEMA} {all}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(|e| self.err(e))
            }
            SCHEMA_VERSION => Ok(()),
            // an earlier schema of this program: brought up to this one, in one transaction
            v if (1..SCHEMA_VERSION).contains(&v) => {
                let steps = MIGRATIONS[(v - 1) as usize..].join(";\n");
                c.execute_batch(&format!(
                    "BEGIN IMMEDIATE; {steps}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(|e| self.err(format!("migrating from schema version {v}: {e}")))
            }
            v => Err(self.err(format!(
                "schema version {v}, this build knows {SCHEMA_VERSION}: use the agentstatus that wrote it, or a new file"
            ))),
        }
    }

    /// Run `f` in one transaction: all of it is stored, or none.
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| StoreError {
            path: path.clone(),
            message: e.to_string(),
        };
        if self.batch {
            let sp = self.conn.savepoint().map_err(err)?;
            let out = f(&Tx(&sp)).map_err(err)?;
            sp.commit().map_err(err)?;
            return Ok(out);
        }
        let tx = self.conn.transaction().map_err(err)?;
        let out = f(&Tx(&tx)).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(out)
    }

    /// Open one transaction for what follows until [`Store::commit`]: every
    /// [`Store::transaction`] in between is kept or dropped whole (a savepoint), and all of
    /// them are stored together at the commit, or none if the process dies first. The engine
    /// records a batch of writes' outcomes this way (a lost outcome only means the write is
    /// sent again, and `set` is idempotent).
    pub fn begin(&mut self) -> Result<(), StoreError> {
        if self.batch {
            return Ok(());
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        self.batch = true;
        Ok(())
    }

    /// Whether a [`Store::begin`] is open.
    pub(crate) fn in_batch(&self) -> bool {
        self.batch
    }

    /// Store what was done since [`Store::begin`] (nothing to do outside one).
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if !self.batch {
            return Ok(());
        }
        self.batch = false;
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))
    }

    /// Drop what was done since [`Store::begin`].
    pub fn rollback(&mut self) {
        if self.batch {
            self.batch = false;
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// Read with `f` (outside a transaction of ours).
    pub fn read<T>(&self, f: impl FnOnce(&Tx<'_>) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        f(&Tx(&self.conn)).map_err(|e| self.err(e))
    }
}

/// The operations on the database, inside [`Store::transaction`] or [`Store::read`].
pub struct Tx<'c>(&'c Connection);

impl Tx<'_> {
    /// The known state of (desk, agent): availability, vendor status, and the last
    /// availability the vendor did not compute.
    pub fn known(
        &self,
        desk: &str,
        agent: &str,
    ) -> rusqlite::Result<Option<(Availability, String, Availability)>> {
        self.0
            .prepare_cached(
                "SELECT availability, vendor_status, settled FROM known WHERE desk = ?1 AND agent = ?2",
            )?
            .query_row(params![desk, agent], |r| {
                Ok((
                    parse_availability(&r.get::<_, String>(0)?),
                    r.get(1)?,
                    parse_availability(&r.get::<_, String>(2)?),
                ))
            })
            .optional()
    }

    /// Every agent known on `desk`.
    pub fn known_agents(&self, desk: &str) -> rusqlite::Result<Vec<String>> {
        let mut s = self
            .0
            .prepare_cached("SELECT agent FROM known WHERE desk = ?1 ORDER BY agent")?;
        let rows = s.query_map(params![desk], |r| r.get(0))?;
        rows.collect()
    }

    /// Store the known state of (desk, agent); `computed`: the vendor computed it (the last
    /// state it did not compute is kept).
    pub fn set_known(
        &self,
        desk: &str,
        agent: &str,
        availability: Availability,
        vendor_status: &str,
        at: &str,
        computed: bool,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO known(desk, agent, availability, vendor_status, seen_at, settled) VALUES (?1, ?2, ?3, ?4, ?5, ?3)
                 ON CONFLICT(desk, agent) DO UPDATE SET availability = ?3, vendor_status = ?4, seen_at = ?5,
                 settled = CASE WHEN ?6 THEN settled ELSE ?3 END",
            )?
            .execute(params![desk, agent, availability.as_str(), vendor_status, at, computed])?;
        Ok(())
    }

    /// The states sync wrote (or is writing) to (desk, agent) and has not seen back yet, oldest
    /// first: an earlier write may still be on its way (sent, its answer or its echo not yet
    /// in) when a newer decision owes another, and its echo is sync's own all the same. Kept in
    /// the one `availability` column, comma-separated (a database of before holds one).
    pub fn expected(&self, desk: &str, agent: &str) -> rusqlite::Result<Vec<Availability>> {
        let list: Option<String> = self
            .0
            .prepare_cached("SELECT availability FROM expected WHERE desk = ?1 AND agent = ?2")?
            .query_row(params![desk, agent], |r| r.get(0))
            .optional()?;
        Ok(list
            .iter()
            .flat_map(|l| l.split(','))
            .filter(|s| !s.is_empty())
            .map(parse_availability)
            .collect())
    }

    fn set_expected(&self, desk: &str, agent: &str, list: &[Availability]) -> rusqlite::Result<()> {
        if list.is_empty() {
            return self.forget_expected(desk, agent);
        }
        let joined: Vec<&str> = list.iter().map(|a| a.as_str()).collect();
        self.0
            .prepare_cached(
                "INSERT INTO expected(desk, agent, availability) VALUES (?1, ?2, ?3)
                 ON CONFLICT(desk, agent) DO UPDATE SET availability = ?3",
            )?
            .execute(params![desk, agent, joined.join(",")])?;
        Ok(())
    }

    /// Expect `availability` to show on (desk, agent): sync is writing it (after the writes
    /// expected before, which may still show first).
    pub fn expect(
        &self,
        desk: &str,
        agent: &str,
        availability: Availability,
    ) -> rusqlite::Result<()> {
        let mut list = self.expected(desk, agent)?;
        list.retain(|a| *a != availability);
        list.push(availability);
        self.set_expected(desk, agent, &list)
    }

    /// (desk, agent) showed `availability`, a state sync wrote: it and the writes before it
    /// are no longer expected (the newer ones still are). Whether it was expected.
    pub fn echoed(
        &self,
        desk: &str,
        agent: &str,
        availability: Availability,
    ) -> rusqlite::Result<bool> {
        let list = self.expected(desk, agent)?;
        let Some(i) = list.iter().rposition(|a| *a == availability) else {
            return Ok(false);
        };
        self.set_expected(desk, agent, &list[i + 1..])?;
        Ok(true)
    }

    /// The write of `availability` to (desk, agent) was answered: the desk holds it now, so the
    /// writes before it can no longer show in a read made from now on (it and the newer ones
    /// still can). The states of those writes, no longer expected (a read already under way
    /// may still show one: the engine reads the agent again rather than take it for a change).
    pub fn landed(
        &self,
        desk: &str,
        agent: &str,
        availability: Availability,
    ) -> rusqlite::Result<Vec<Availability>> {
        let list = self.expected(desk, agent)?;
        if let Some(i) = list.iter().rposition(|a| *a == availability) {
            self.set_expected(desk, agent, &list[i..])?;
            return Ok(list[..i].to_vec());
        }
        Ok(Vec::new())
    }

    /// Expect nothing on (desk, agent).
    pub fn forget_expected(&self, desk: &str, agent: &str) -> rusqlite::Result<()> {
        self.0
            .prepare_cached("DELETE FROM expected WHERE desk = ?1 AND agent = ?2")?
            .execute(params![desk, agent])?;
        Ok(())
    }

    /// The person's decided availability and the desk that decided it.
    pub fn wanted(&self, person: &str) -> rusqlite::Result<Option<(Availability, String)>> {
        self.0
            .prepare_cached("SELECT availability, desk FROM wanted WHERE person = ?1")?
            .query_row(params![person], |r| {
                Ok((parse_availability(&r.get::<_, String>(0)?), r.get(1)?))
            })
            .optional()
    }

    /// Store the person's decided availability.
    pub fn set_wanted(
        &self,
        person: &str,
        a: Availability,
        desk: &str,
        at: &str,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO wanted(person, availability, desk, decided_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(person) DO UPDATE SET availability = ?2, desk = ?3, decided_at = ?4",
            )?
            .execute(params![person, a.as_str(), desk, at])?;
        Ok(())
    }

    /// Owe a write of `a` to (desk, agent), replacing one owed there before.
    pub fn owe(&self, o: &Owed) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO outbox(desk, agent, person, availability, decision, queued_at, attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)
                 ON CONFLICT(desk, agent) DO UPDATE SET person = ?3, availability = ?4, decision = ?5, queued_at = ?6, attempts = 0, last_error = NULL",
            )?
            .execute(params![o.desk, o.agent, o.person, o.availability.as_str(), o.decision, o.queued_at])?;
        Ok(())
    }

    /// The write owed to (desk, agent), if any.
    pub fn owed(&self, desk: &str, agent: &str) -> rusqlite::Result<Option<Availability>> {
        self.0
            .prepare_cached("SELECT availability FROM outbox WHERE desk = ?1 AND agent = ?2")?
            .query_row(params![desk, agent], |r| {
                Ok(parse_availability(&r.get::<_, String>(0)?))
            })
            .optional()
    }

    /// Remove the write owed to (desk, agent); with `only`, only if it is that state (a
    /// newer decision may have replaced it while it was sent).
    pub fn settle(
        &self,
        desk: &str,
        agent: &str,
        only: Option<Availability>,
    ) -> rusqlite::Result<bool> {
        let n = match only {
            Some(a) => self
                .0
                .prepare_cached(
                    "DELETE FROM outbox WHERE desk = ?1 AND agent = ?2 AND availability = ?3",
                )?
                .execute(params![desk, agent, a.as_str()])?,
            None => self
                .0
                .prepare_cached("DELETE FROM outbox WHERE desk = ?1 AND agent = ?2")?
                .execute(params![desk, agent])?,
        };
        Ok(n > 0)
    }

    /// Count a failed attempt of the write owed to (desk, agent).
    pub fn failed(
        &self,
        desk: &str,
        agent: &str,
        a: Availability,
        error: &str,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?4 WHERE desk = ?1 AND agent = ?2 AND availability = ?3",
            )?
            .execute(params![desk, agent, a.as_str(), error])?;
        Ok(())
    }

    /// (desk, agent) held `availability` until `ended_ms` (the wall clock, milliseconds since
    /// the epoch): a read replica behind may still show it.
    pub fn ended(
        &self,
        desk: &str,
        agent: &str,
        availability: Availability,
        ended_ms: i64,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO lately(desk, agent, availability, ended_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(desk, agent, availability) DO UPDATE SET ended_ms = ?4",
            )?
            .execute(params![desk, agent, availability.as_str(), ended_ms])?;
        Ok(())
    }

    /// (desk, agent) holds `availability` again: it is no longer one it held until lately.
    pub fn holds_again(
        &self,
        desk: &str,
        agent: &str,
        availability: Availability,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "DELETE FROM lately WHERE desk = ?1 AND agent = ?2 AND availability = ?3",
            )?
            .execute(params![desk, agent, availability.as_str()])?;
        Ok(())
    }

    /// Every state held until lately ([`Tx::ended`]): desk, agent, state, when it ended.
    pub fn lately(&self) -> rusqlite::Result<Vec<(String, String, Availability, i64)>> {
        let mut s = self.0.prepare_cached(
            "SELECT desk, agent, availability, ended_ms FROM lately ORDER BY desk, agent, ended_ms",
        )?;
        let rows = s.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                parse_availability(&r.get::<_, String>(2)?),
                r.get(3)?,
            ))
        })?;
        rows.collect()
    }

    /// Forget the states of `desk` that ended before `before_ms`; how many.
    pub fn prune_lately(&self, desk: &str, before_ms: i64) -> rusqlite::Result<usize> {
        self.0
            .prepare_cached("DELETE FROM lately WHERE desk = ?1 AND ended_ms < ?2")?
            .execute(params![desk, before_ms])
    }

    /// Replace the writes in doubt stored for (desk, agent) with `rows` (none: forgotten).
    pub fn put_doubts(
        &self,
        desk: &str,
        agent: &str,
        rows: &[StoredDoubt],
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached("DELETE FROM doubts WHERE desk = ?1 AND agent = ?2")?
            .execute(params![desk, agent])?;
        let mut ins = self.0.prepare_cached(
            "INSERT INTO doubts(desk, agent, availability, doubtful, sent_ms, until_ms, overtaken) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for r in rows {
            ins.execute(params![
                desk,
                agent,
                r.availability.as_str(),
                r.doubtful,
                r.sent_ms,
                r.until_ms,
                r.overtaken
            ])?;
        }
        Ok(())
    }

    /// Every write in doubt stored ([`Tx::put_doubts`]).
    pub fn doubts(&self) -> rusqlite::Result<Vec<StoredDoubt>> {
        let mut s = self.0.prepare_cached(
            "SELECT desk, agent, availability, doubtful, sent_ms, until_ms, overtaken FROM doubts ORDER BY desk, agent, availability",
        )?;
        let rows = s.query_map([], |r| {
            Ok(StoredDoubt {
                desk: r.get(0)?,
                agent: r.get(1)?,
                availability: parse_availability(&r.get::<_, String>(2)?),
                doubtful: r.get(3)?,
                sent_ms: r.get(4)?,
                until_ms: r.get(5)?,
                overtaken: r.get(6)?,
            })
        })?;
        rows.collect()
    }

    /// Forget the writes in doubt that can no longer land: no attempt on its way, and their
    /// grace over by `now_ms` (the wall clock, milliseconds); how many.
    pub fn prune_doubts(&self, now_ms: i64) -> rusqlite::Result<usize> {
        self.0
            .prepare_cached(
                "DELETE FROM doubts WHERE sent_ms IS NULL AND (until_ms IS NULL OR until_ms < ?1)",
            )?
            .execute(params![now_ms])
    }

    /// Every desk the database holds a row of (a known state, a write owed or expected).
    pub fn stored_desks(&self) -> rusqlite::Result<Vec<String>> {
        let mut s = self.0.prepare_cached(
            "SELECT desk FROM known UNION SELECT desk FROM outbox UNION SELECT desk FROM expected UNION SELECT desk FROM lately UNION SELECT desk FROM doubts ORDER BY 1",
        )?;
        let rows = s.query_map([], |r| r.get(0))?;
        rows.collect()
    }

    /// Forget a desk: its known states, the writes owed to it and expected back from it (the
    /// decisions that owed them stay in the log). The counts of rows removed: known, owed.
    pub fn forget_desk(&self, desk: &str) -> rusqlite::Result<(usize, usize)> {
        let known = self
            .0
            .prepare_cached("DELETE FROM known WHERE desk = ?1")?
            .execute(params![desk])?;
        let owed = self
            .0
            .prepare_cached("DELETE FROM outbox WHERE desk = ?1")?
            .execute(params![desk])?;
        self.0
            .prepare_cached("DELETE FROM expected WHERE desk = ?1")?
            .execute(params![desk])?;
        self.0
            .prepare_cached("DELETE FROM lately WHERE desk = ?1")?
            .execute(params![desk])?;
        self.0
            .prepare_cached("DELETE FROM doubts WHERE desk = ?1")?
            .execute(params![desk])?;
        Ok((known, owed))
    }

    /// How many writes are owed.
    pub fn outbox_len(&self) -> rusqlite::Result<u64> {
        self.0
            .prepare_cached("SELECT count(*) FROM outbox")?
            .query_row([], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    }

    /// Every write owed, oldest decision first.
    pub fn outbox(&self) -> rusqlite::Result<Vec<Owed>> {
        let mut s = self.0.prepare_cached(
            "SELECT desk, agent, person, availability, decision, queued_at, attempts FROM outbox ORDER BY decision, desk, agent",
        )?;
        let rows = s.query_map([], |r| {
            Ok(Owed {
                desk: r.get(0)?,
                agent: r.get(1)?,
                person: r.get(2)?,
                availability: parse_availability(&r.get::<_, String>(3)?),
                decision: r.get(4)?,
                queued_at: r.get(5)?,
                attempts: r.get(6)?,
            })
        })?;
        rows.collect()
    }

    /// Every write owed, oldest decision first, each with the known state of its (desk, agent)
    /// (one query: the engine hands the writes out with what sync last read there).
    pub fn outbox_known(&self) -> rusqlite::Result<Vec<(Owed, Option<Availability>)>> {
        let mut s = self.0.prepare_cached(
            "SELECT o.desk, o.agent, o.person, o.availability, o.decision, o.queued_at, o.attempts, k.availability
             FROM outbox o LEFT JOIN known k ON k.desk = o.desk AND k.agent = o.agent
             ORDER BY o.decision, o.desk, o.agent",
        )?;
        let rows = s.query_map([], |r| {
            Ok((
                Owed {
                    desk: r.get(0)?,
                    agent: r.get(1)?,
                    person: r.get(2)?,
                    availability: parse_availability(&r.get::<_, String>(3)?),
                    decision: r.get(4)?,
                    queued_at: r.get(5)?,
                    attempts: r.get(6)?,
                },
                r.get::<_, Option<String>>(7)?
                    .map(|a| parse_availability(&a)),
            ))
        })?;
        rows.collect()
    }

    /// Log a decision; its id.
    pub fn log(&self, d: &Decision, at: &str) -> rusqlite::Result<i64> {
        self.0
            .prepare_cached(
                "INSERT INTO decisions(at, person, desk, agent, before, after, wanted, reason, writes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![at, d.person, d.desk, d.agent, d.before, d.after, d.wanted, d.reason, d.writes])?;
        Ok(self.0.last_insert_rowid())
    }

    /// Set the number of writes of decision `id`.
    pub fn set_writes(&self, id: i64, writes: i64) -> rusqlite::Result<()> {
        self.0
            .prepare_cached("UPDATE decisions SET writes = ?2 WHERE id = ?1")?
            .execute(params![id, writes])?;
        Ok(())
    }

    /// Every decision logged, oldest first.
    pub fn decisions(&self) -> rusqlite::Result<Vec<Decision>> {
        let mut s = self.0.prepare_cached(
            "SELECT person, desk, agent, before, after, wanted, reason, writes FROM decisions ORDER BY id",
        )?;
        let rows = s.query_map([], |r| {
            Ok(Decision {
                person: r.get(0)?,
                desk: r.get(1)?,
                agent: r.get(2)?,
                before: r.get(3)?,
                after: r.get(4)?,
                wanted: r.get(5)?,
                reason: r.get(6)?,
                writes: r.get(7)?,
            })
        })?;
        rows.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_schema_and_a_foreign_file_is_refused() {
        // a scratch directory of an unpredictable name, removed when dropped
        let scratch = tempfile::Builder::new()
            .prefix("agentstatus-sync-store-")
            .tempdir()
            .unwrap();
        let dir = scratch.path();
        let path = dir.join("a.db");
        {
            let mut s = Store::open(&path).unwrap();
            s.transaction(|t| t.set_known("d", "a", Availability::Busy, "busy", "now", false))
                .unwrap();
        }
        // reopened: the state is there
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.read(|t| t.known("d", "a")).unwrap(),
            Some((Availability::Busy, "busy".to_string(), Availability::Busy))
        );
        let mode: String = s
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        // a copy sees the state and never writes the file
        let mut copy = Store::open_copy(&path).unwrap();
        copy.transaction(|t| t.set_known("d", "a", Availability::Away, "away", "later", false))
            .unwrap();
        assert_eq!(
            s.read(|t| t.known("d", "a")).unwrap().unwrap().0,
            Availability::Busy
        );
        drop(s);
        // a newer schema is refused
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA user_version = 9").unwrap();
        drop(c);
        let e = Store::open(&path).unwrap_err();
        assert!(e.to_string().contains("schema version 9"), "{e}");
        // a database of something else is refused
        let other = dir.join("other.db");
        let c = Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE mine(x)").unwrap();
        drop(c);
        let e = Store::open(&other).unwrap_err();
        assert!(e.to_string().contains("not a sync database"), "{e}");
    }

    /// A database of schema 1 (before `lately`) is brought to this schema when opened, its rows
    /// kept; the states held until lately are stored and read back.
    #[test]
    fn a_schema_1_database_is_migrated() {
        let scratch = tempfile::Builder::new()
            .prefix("agentstatus-sync-migrate-")
            .tempdir()
            .unwrap();
        let path = scratch.path().join("v1.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(&format!("BEGIN; {SCHEMA} PRAGMA user_version = 1; COMMIT;"))
            .unwrap();
        c.execute_batch("INSERT INTO known VALUES ('d', 'a', 'busy', 'busy', 'then', 'busy')")
            .unwrap();
        drop(c);
        let mut s = Store::open(&path).unwrap();
        let version: i64 = s
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(
            s.read(|t| t.known("d", "a")).unwrap().unwrap().0,
            Availability::Busy
        );
        s.transaction(|t| {
            t.ended("d", "a", Availability::Away, 1_000)?;
            t.ended("d", "a", Availability::Offline, 5_000)?;
            t.ended("d", "a", Availability::Away, 2_000)
        })
        .unwrap();
        assert_eq!(
            s.read(|t| t.lately()).unwrap(),
            vec![
                ("d".into(), "a".into(), Availability::Away, 2_000),
                ("d".into(), "a".into(), Availability::Offline, 5_000)
            ]
        );
        assert_eq!(s.transaction(|t| t.prune_lately("d", 3_000)).unwrap(), 1);
        s.transaction(|t| t.holds_again("d", "a", Availability::Offline))
            .unwrap();
        assert!(s.read(|t| t.lately()).unwrap().is_empty());
        assert_eq!(s.read(|t| t.stored_desks()).unwrap(), vec!["d".to_string()]);
    }

    /// A database of schema 2 (before `doubts`) is brought to this schema when opened, its rows
    /// kept; writes in doubt are stored, replaced per (desk, agent), pruned once they can no
    /// longer land (never one still on its way), and forgotten with their desk.
    #[test]
    fn a_schema_2_database_is_migrated() {
        let scratch = tempfile::Builder::new()
            .prefix("agentstatus-sync-migrate2-")
            .tempdir()
            .unwrap();
        let path = scratch.path().join("v2.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(&format!(
            "BEGIN; {SCHEMA} {}; PRAGMA user_version = 2; COMMIT;",
            MIGRATIONS[0]
        ))
        .unwrap();
        c.execute_batch(
            "INSERT INTO known VALUES ('d', 'a', 'busy', 'busy', 'then', 'busy');
             INSERT INTO lately VALUES ('d', 'a', 'away', 1000);",
        )
        .unwrap();
        drop(c);
        let mut s = Store::open(&path).unwrap();
        let version: i64 = s
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(
            s.read(|t| t.known("d", "a")).unwrap().unwrap().0,
            Availability::Busy
        );
        assert_eq!(s.read(|t| t.lately()).unwrap().len(), 1);
        assert!(s.read(|t| t.doubts()).unwrap().is_empty());
        let row = |a, sent_ms, until_ms| StoredDoubt {
            desk: "d".into(),
            agent: "a".into(),
            availability: a,
            doubtful: 1,
            sent_ms,
            until_ms: Some(until_ms),
            overtaken: true,
        };
        let answered = row(Availability::Offline, None, 5_000);
        let on_its_way = row(Availability::Away, Some(1_000), 2_000);
        s.transaction(|t| t.put_doubts("d", "a", &[answered.clone(), on_its_way.clone()]))
            .unwrap();
        assert_eq!(
            s.read(|t| t.doubts()).unwrap(),
            vec![on_its_way.clone(), answered.clone()]
        );
        // past both: the answered one goes, the one on its way stays
        assert_eq!(s.transaction(|t| t.prune_doubts(6_000)).unwrap(), 1);
        assert_eq!(s.read(|t| t.doubts()).unwrap(), vec![on_its_way.clone()]);
        // replaced whole for the agent
        s.transaction(|t| t.put_doubts("d", "a", std::slice::from_ref(&answered)))
            .unwrap();
        assert_eq!(s.read(|t| t.doubts()).unwrap(), vec![answered.clone()]);
        assert_eq!(s.transaction(|t| t.prune_doubts(4_000)).unwrap(), 0);
        s.transaction(|t| t.forget_desk("d")).unwrap();
        assert!(s.read(|t| t.doubts()).unwrap().is_empty());
    }

    /// Two syncs on one database would both send its outbox and both decide its changes: the
    /// second open is refused, naming the database, its lock file and the process holding it;
    /// once the first is closed, it opens. A copy (`--dry-run`) reads beside a running sync.
    #[test]
    fn a_database_open_elsewhere_is_refused_naming_its_holder() {
        let scratch = tempfile::Builder::new()
            .prefix("agentstatus-sync-lock-")
            .tempdir()
            .unwrap();
        let path = scratch.path().join("sync.db");
        let first = Store::open(&path).unwrap();
        let e = Store::open(&path).unwrap_err().to_string();
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        assert!(e.contains("in use by another sync"), "{e}");
        assert!(
            e.contains(&format!("process {}", std::process::id())),
            "{e}"
        );
        assert!(e.contains(&lock_path(&path).display().to_string()), "{e}");
        // a dry run's copy is not a second writer
        Store::open_copy(&path).unwrap();
        drop(first);
        Store::open(&path).unwrap();
    }
}
