//! The ban store: an embedded SQLite database, so bans survive a restart
//! (or a SIGKILL) and are restored into the kernel set at start.
//!
//! One table, `bans`, keyed by the prefix as text. The database runs in
//! WAL mode with `synchronous=NORMAL`: a crash may lose the last
//! transactions but never corrupts the file, and a single ban costs one
//! small append rather than an fsync. Rows are parsed back with the same
//! validation as any other address, so a row edited by hand into nonsense
//! is reported and skipped, never trusted and never a panic.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rampart_policy::Cidr;
use rusqlite::{Connection, OptionalExtension};

pub use rampart_policy::BanRecord;

/// Schema version this build reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// How long a writer waits for another connection's lock before failing
/// (the CLI and the daemon may both open the store).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the store could not do what was asked. Every variant names the
/// database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or created (missing directory,
    /// permissions, not a database).
    #[error("opening ban store {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A statement failed.
    #[error("ban store {path}: {what}: {source}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer Rampart; reading it could lose data.
    #[error("ban store {path} has schema version {found}, newer than this build's {supported}")]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// [`SCHEMA_VERSION`].
        supported: i64,
    },
}

/// A row that could not be read back as a ban; it is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptRow {
    /// The row's key as stored.
    pub cidr: String,
    /// What is wrong with it.
    pub problem: String,
}

impl std::fmt::Display for CorruptRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ban row {:?} skipped: {}", self.cidr, self.problem)
    }
}

/// Bans read from the store, and the rows that were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Valid records.
    pub records: Vec<BanRecord>,
    /// Rows that were skipped, for the log.
    pub corrupt: Vec<CorruptRow>,
}

/// The SQLite ban store. See the module documentation.
#[derive(Debug)]
pub struct BanStore {
    conn: Connection,
    path: PathBuf,
}

/// Rows per INSERT statement in [`BanStore::upsert_many`]: one statement
/// per row costs twice as much (6 parameters a row stays far below
/// SQLite's limit of 32,766).
const UPSERT_ROWS: usize = 128;

/// The upsert statement for `rows` rows.
fn upsert_sql(rows: usize) -> String {
    let mut s =
        String::from("INSERT INTO bans (cidr, until, offences, reason, origin, created) VALUES ");
    for i in 0..rows {
        if i > 0 {
            s.push(',');
        }
        s.push_str("(?,?,?,?,?,?)");
    }
    // A prefix listed twice in one statement takes its last row.
    s.push_str(
        " ON CONFLICT (cidr) DO UPDATE SET until = excluded.until, \
         offences = excluded.offences, reason = excluded.reason, origin = excluded.origin",
    );
    s
}

/// SQLite integers are signed: times past year 292 billion saturate.
fn to_sql(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl BanStore {
    /// Opens (creating if needed) the store at `path`. The parent
    /// directory must exist: the error names the path rather than creating
    /// directories in unexpected places. Refuses files of a newer schema.
    pub fn open(path: &Path) -> Result<BanStore, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // journal_mode answers with a row, so it is a query.
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .map_err(open_err)?;
        // 16 MiB of page cache: 100,000 bans fit, so a bulk upsert does
        // not thrash.
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;")
            .map_err(open_err)?;
        let store = BanStore {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sql {
            path: self.path.clone(),
            what,
            source,
        }
    }

    fn migrate(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")
            .map_err(self.sql("creating the schema_version table"))?;
        let found: Option<i64> = self
            .conn
            .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
            .optional()
            .map_err(self.sql("reading the schema version"))?
            .flatten();
        match found {
            Some(v) if v > SCHEMA_VERSION => Err(StoreError::SchemaTooNew {
                path: self.path.clone(),
                found: v,
                supported: SCHEMA_VERSION,
            }),
            Some(_) => Ok(()),
            None => self
                .conn
                .execute_batch(
                    "BEGIN;
                     CREATE TABLE IF NOT EXISTS bans (
                         cidr     TEXT PRIMARY KEY NOT NULL,
                         until    INTEGER NOT NULL,
                         offences INTEGER NOT NULL,
                         reason   TEXT NOT NULL,
                         origin   TEXT NOT NULL,
                         created  INTEGER NOT NULL
                     ) WITHOUT ROWID;
                     INSERT INTO schema_version (version) VALUES (1);
                     COMMIT;",
                )
                .map_err(self.sql("creating the schema")),
        }
    }

    /// Inserts or replaces `records` in one transaction: all or none.
    /// 100,000 records take well under a second.
    pub fn upsert_many(&mut self, records: &[BanRecord]) -> Result<(), StoreError> {
        let path = &self.path;
        let err = |what: &'static str| {
            move |source| StoreError::Sql {
                path: path.clone(),
                what,
                source,
            }
        };
        let tx = self
            .conn
            .transaction()
            .map_err(err("starting a transaction"))?;
        // Inserting in key order (SQLite compares text bytewise, as Rust
        // does) fills the B-tree left to right: 4-5 times faster than the
        // random order bans arrive in. The sort is stable, so of two
        // records for one prefix the later still wins.
        let mut rows: Vec<(String, [i64; 2], &BanRecord)> = records
            .iter()
            .map(|r| (r.cidr.to_string(), [to_sql(r.until), to_sql(r.created)], r))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        for chunk in rows.chunks(UPSERT_ROWS) {
            let mut st = tx
                .prepare_cached(&upsert_sql(chunk.len()))
                .map_err(err("preparing the upsert"))?;
            let mut args: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 6);
            for (k, [until, created], r) in chunk {
                args.extend_from_slice(&[
                    k as &dyn rusqlite::ToSql,
                    until,
                    &r.offences,
                    &r.reason,
                    &r.origin,
                    created,
                ]);
            }
            st.execute(args.as_slice()).map_err(err("upserting bans"))?;
        }
        tx.commit().map_err(err("committing bans"))
    }

    /// Deletes the ban on exactly `cidr`; true when there was one.
    pub fn delete(&mut self, cidr: &Cidr) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM bans WHERE cidr = ?1", [cidr.to_string()])
            .map_err(self.sql("deleting a ban"))?;
        Ok(n > 0)
    }

    /// Deletes the bans on `cidrs` in one transaction; returns how many
    /// existed.
    pub fn delete_many(&mut self, cidrs: &[Cidr]) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let err = move |what: &'static str| {
            let path = path.clone();
            move |source| StoreError::Sql {
                path: path.clone(),
                what,
                source,
            }
        };
        let tx = self
            .conn
            .transaction()
            .map_err(err("starting a transaction"))?;
        let mut n = 0;
        {
            let mut st = tx
                .prepare_cached("DELETE FROM bans WHERE cidr = ?1")
                .map_err(err("preparing the delete"))?;
            for c in cidrs {
                n += st.execute([c.to_string()]).map_err(err("deleting a ban"))?;
            }
        }
        tx.commit().map_err(err("committing deletions"))?;
        Ok(n)
    }

    fn load(&self, sql: &str, now: u64) -> Result<Loaded, StoreError> {
        let mut st = self
            .conn
            .prepare(sql)
            .map_err(self.sql("preparing the ban query"))?;
        let rows = st
            .query_map([to_sql(now)], |r| {
                Ok((
                    r.get::<_, rusqlite::types::Value>(0)?,
                    r.get::<_, rusqlite::types::Value>(1)?,
                    r.get::<_, rusqlite::types::Value>(2)?,
                    r.get::<_, rusqlite::types::Value>(3)?,
                    r.get::<_, rusqlite::types::Value>(4)?,
                    r.get::<_, rusqlite::types::Value>(5)?,
                ))
            })
            .map_err(self.sql("reading bans"))?;
        let mut out = Loaded::default();
        for row in rows {
            let (c, until, offences, reason, origin, created) =
                row.map_err(self.sql("reading a ban row"))?;
            match parse_row(&c, &until, &offences, reason, origin, &created) {
                Ok(r) => out.records.push(r),
                Err(problem) => out.corrupt.push(CorruptRow {
                    cidr: match c {
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    },
                    problem,
                }),
            }
        }
        Ok(out)
    }

    /// The bans still running at `now` (what to restore at start).
    pub fn load_active(&self, now: u64) -> Result<Loaded, StoreError> {
        self.load(
            "SELECT cidr, until, offences, reason, origin, created FROM bans WHERE until > ?1",
            now,
        )
    }

    /// Every stored ban, expired or not: expired ones still carry offence
    /// counts for escalation ([`rampart_policy::BanBook::restore`] uses
    /// them that way).
    pub fn load_all(&self) -> Result<Loaded, StoreError> {
        self.load(
            "SELECT cidr, until, offences, reason, origin, created FROM bans WHERE ?1 = ?1",
            0,
        )
    }

    /// Offences recorded for exactly `cidr` (0 when unknown).
    pub fn offences(&self, cidr: &Cidr) -> Result<u32, StoreError> {
        let n: Option<i64> = self
            .conn
            .query_row(
                "SELECT offences FROM bans WHERE cidr = ?1",
                [cidr.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql("reading offences"))?;
        Ok(n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0))
    }

    /// Deletes bans that ended at or before `before` and returns how many.
    /// Passing `now` forgets expired bans at once; passing `now` minus a
    /// memory window keeps their offence counts for escalation that long.
    pub fn prune(&mut self, before: u64) -> Result<usize, StoreError> {
        self.conn
            .execute("DELETE FROM bans WHERE until <= ?1", [to_sql(before)])
            .map_err(self.sql("pruning expired bans"))
    }

    /// Number of rows in the store.
    pub fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM bans", [], |r| r.get(0))
            .map_err(self.sql("counting bans"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn parse_row(
    cidr: &rusqlite::types::Value,
    until: &rusqlite::types::Value,
    offences: &rusqlite::types::Value,
    reason: rusqlite::types::Value,
    origin: rusqlite::types::Value,
    created: &rusqlite::types::Value,
) -> Result<BanRecord, String> {
    use rusqlite::types::Value as V;
    let int = |name: &str, v: &V| match v {
        V::Integer(i) => u64::try_from(*i).map_err(|_| format!("{name} is negative ({i})")),
        other => Err(format!("{name} is not an integer ({other:?})")),
    };
    let text = |name: &str, v: V| match v {
        V::Text(t) => Ok(t),
        other => Err(format!("{name} is not text ({other:?})")),
    };
    let cidr: Cidr = match cidr {
        V::Text(t) => t.parse().map_err(|e| format!("{e}"))?,
        other => return Err(format!("cidr is not text ({other:?})")),
    };
    let offences = int("offences", offences)?;
    Ok(BanRecord {
        cidr,
        until: int("until", until)?,
        offences: u32::try_from(offences).map_err(|_| format!("offences {offences} too large"))?,
        reason: text("reason", reason)?,
        origin: text("origin", origin)?,
        created: int("created", created)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn rec(c: &str, until: u64, offences: u32) -> BanRecord {
        BanRecord {
            cidr: c.parse().unwrap(),
            until,
            offences,
            reason: format!("reason for {c}"),
            origin: "rule:2001234".into(),
            created: 10,
        }
    }

    #[test]
    fn round_trip_upsert_prune() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bans.db");
        {
            let mut s = BanStore::open(&path).unwrap();
            s.upsert_many(&[
                rec("198.51.100.7", 100, 1),
                rec("2001:db8:1::/64", 200, 2),
                rec("203.0.113.0/24", 50, 3),
            ])
            .unwrap();
            // Upsert replaces until/offences/reason but keeps created.
            let mut r = rec("198.51.100.7", 300, 2);
            r.created = 99;
            s.upsert_many(&[r]).unwrap();
            assert_eq!(s.count().unwrap(), 3);
        }
        // Reopened: the data survived and the schema check passes.
        let mut s = BanStore::open(&path).unwrap();
        let mut l = s.load_active(60).unwrap();
        assert!(l.corrupt.is_empty());
        l.records.sort_by_key(|r| r.cidr);
        let mut want = vec![rec("198.51.100.7", 300, 2), rec("2001:db8:1::/64", 200, 2)];
        want.sort_by_key(|r| r.cidr);
        assert_eq!(l.records, want);
        assert_eq!(s.load_all().unwrap().records.len(), 3);
        assert_eq!(s.offences(&"203.0.113.0/24".parse().unwrap()).unwrap(), 3);
        assert_eq!(s.offences(&"203.0.113.9".parse().unwrap()).unwrap(), 0);
        assert_eq!(s.prune(60).unwrap(), 1);
        assert!(s.delete(&"198.51.100.7".parse().unwrap()).unwrap());
        assert!(!s.delete(&"198.51.100.7".parse().unwrap()).unwrap());
        assert_eq!(
            s.delete_many(&[
                "2001:db8:1::/64".parse().unwrap(),
                "10.0.0.1".parse().unwrap()
            ])
            .unwrap(),
            1
        );
        assert_eq!(s.count().unwrap(), 0);
        let mode: String = s
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn bulk_upsert_spans_statements_and_keeps_the_last_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = BanStore::open(&dir.path().join("b.db")).unwrap();
        let mut recs: Vec<BanRecord> = (0..1000u32)
            .map(|i| {
                rec(
                    &format!("10.0.{}.{}", i / 256, i % 256),
                    100 + u64::from(i),
                    1,
                )
            })
            .collect();
        recs.push(rec("10.0.0.5", 7, 9));
        s.upsert_many(&recs).unwrap();
        assert_eq!(s.count().unwrap(), 1000);
        let all = s.load_all().unwrap().records;
        let five = all
            .iter()
            .find(|r| r.cidr.to_string() == "10.0.0.5")
            .unwrap();
        assert_eq!((five.until, five.offences), (7, 9));
        assert_eq!(s.offences(&"10.0.3.231".parse().unwrap()).unwrap(), 1);
    }

    #[test]
    fn corrupt_rows_are_reported_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bans.db");
        let mut s = BanStore::open(&path).unwrap();
        s.upsert_many(&[rec("198.51.100.7", 100, 1)]).unwrap();
        for (c, until, off) in [
            ("10.0.0.1/8", "100", "1"),
            ("not an address", "100", "1"),
            ("10.0.0.2", "-5", "1"),
            ("10.0.0.3", "'soon'", "1"),
            ("10.0.0.4", "100", "99999999999"),
        ] {
            s.conn
                .execute_batch(&format!(
                    "INSERT INTO bans VALUES ('{c}', {until}, {off}, 'r', 'o', 0)"
                ))
                .unwrap();
        }
        let l = s.load_all().unwrap();
        assert_eq!(l.records, vec![rec("198.51.100.7", 100, 1)]);
        assert_eq!(l.corrupt.len(), 5, "{:?}", l.corrupt);
        let text: Vec<String> = l.corrupt.iter().map(|c| c.to_string()).collect();
        assert!(text.iter().any(|t| t.contains("host bits")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("negative")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("too large")), "{text:?}");
    }

    #[test]
    fn missing_directory_and_newer_schema_are_errors_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope").join("bans.db");
        let e = BanStore::open(&missing).unwrap_err();
        assert!(e.to_string().contains("nope/bans.db"), "{e}");
        let path = dir.path().join("bans.db");
        let s = BanStore::open(&path).unwrap();
        s.conn
            .execute_batch("INSERT INTO schema_version VALUES (99)")
            .unwrap();
        drop(s);
        let e = BanStore::open(&path).unwrap_err();
        assert!(
            matches!(e, StoreError::SchemaTooNew { found: 99, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("bans.db"), "{e}");
    }

    #[test]
    fn huge_times_saturate() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = BanStore::open(&dir.path().join("b.db")).unwrap();
        s.upsert_many(&[rec("198.51.100.7", u64::MAX, 1)]).unwrap();
        let l = s.load_active(1000).unwrap();
        assert_eq!(l.records.first().map(|r| r.until), Some(i64::MAX as u64));
    }
}
