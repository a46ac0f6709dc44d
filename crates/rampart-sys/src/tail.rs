//! Following a log file the way `tail -F` does, without trusting it.
//!
//! * **Rotation** (the path now names another file): what is left of the
//!   old file is read to its end, then the new one is read from its start.
//! * **Truncation and copy-truncate** (the file got shorter than what was
//!   read): reading restarts at offset 0.
//! * **Position**: [`FileTail::position`] (device, inode, offset) is saved
//!   by the caller and given back at start, so a restart neither re-reads
//!   nor skips lines; a position for another inode is ignored.
//! * **Hostile paths**: the path is opened with `O_NOFOLLOW | O_NONBLOCK`
//!   and must be a regular file: a symlink (to `/etc/shadow`, say), a FIFO,
//!   a device or a directory put in its place is refused and reported, and
//!   nothing outside the configured path is ever read.
//! * **Hostile lines**: a line longer than the cap is cut to the cap (its
//!   start still goes to the matcher) and the rest skipped up to the next
//!   newline; bytes are passed as they are (invalid UTF-8 and NUL
//!   included), the matcher works on bytes.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why a path is not followed.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// The path is not a regular file (a symlink, FIFO, device or
    /// directory): refused, never read.
    #[error("{path}: refused: {what} (only regular files are read; symlinks are not followed)")]
    Refused {
        /// The configured path.
        path: PathBuf,
        /// What it turned out to be.
        what: &'static str,
    },
    /// Reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The configured path.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// Where a file was read up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    /// Device of the file.
    pub dev: u64,
    /// Inode of the file.
    pub ino: u64,
    /// Bytes read (up to the last complete line handed out).
    pub offset: u64,
}

/// Counters of one followed file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailStats {
    /// Lines handed out.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Times the path was found to name a new file.
    pub rotations: u64,
    /// Times the file was found shorter than what was read.
    pub truncations: u64,
    /// Lines cut to the length cap.
    pub long_lines: u64,
    /// Times the path was refused (not a regular file).
    pub refused: u64,
}

/// Where to start when there is no saved position for the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// At the end: only new lines (a daemon's first start: old lines were
    /// dealt with by whatever ran before).
    End,
    /// At the beginning.
    Beginning,
}

/// Lines longer than this are cut (64 KiB by default).
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// Bytes read per system call.
const CHUNK: usize = 64 * 1024;

/// One followed path.
#[derive(Debug)]
pub struct FileTail {
    path: PathBuf,
    file: Option<File>,
    dev: u64,
    ino: u64,
    /// Offset up to which data has been read from `file`.
    read_pos: u64,
    /// Bytes of an unfinished line.
    partial: Vec<u8>,
    /// Skipping the rest of an over-long line.
    skipping: bool,
    max_line: usize,
    saved: Option<Position>,
    start: StartAt,
    stats: TailStats,
    refused_reported: bool,
    chunk: Vec<u8>,
}

fn kind_of(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

impl FileTail {
    /// Follows `path`, resuming at `saved` when it still describes the
    /// file, else at `start`. The file need not exist yet.
    pub fn new(path: &Path, saved: Option<Position>, start: StartAt) -> FileTail {
        FileTail {
            path: path.to_path_buf(),
            file: None,
            dev: 0,
            ino: 0,
            read_pos: 0,
            partial: Vec::new(),
            skipping: false,
            max_line: DEFAULT_MAX_LINE,
            saved,
            start,
            stats: TailStats::default(),
            refused_reported: false,
            chunk: vec![0; CHUNK],
        }
    }

    /// Changes the line length cap.
    pub fn set_max_line(&mut self, n: usize) {
        self.max_line = n.max(1);
    }

    /// The configured path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters so far.
    pub fn stats(&self) -> TailStats {
        self.stats
    }

    /// Where reading got to (complete lines only), for saving.
    pub fn position(&self) -> Option<Position> {
        self.file.as_ref()?;
        Some(Position {
            dev: self.dev,
            ino: self.ino,
            offset: self.read_pos.saturating_sub(self.partial.len() as u64),
        })
    }

    /// Opens the path if it is a regular file. `Ok(None)`: it does not
    /// exist (yet).
    fn open_path(&mut self) -> Result<Option<(File, std::fs::Metadata)>, TailError> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&self.path);
        let f = match f {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(self.refuse("a symbolic link"));
            }
            Err(source) => {
                return Err(TailError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let m = f.metadata().map_err(|source| TailError::Io {
            path: self.path.clone(),
            source,
        })?;
        if !m.file_type().is_file() {
            return Err(self.refuse(kind_of(&m)));
        }
        self.refused_reported = false;
        Ok(Some((f, m)))
    }

    fn refuse(&mut self, what: &'static str) -> TailError {
        self.stats.refused += 1;
        TailError::Refused {
            path: self.path.clone(),
            what,
        }
    }

    /// Whether a refusal was already reported since the path was last
    /// fine (so a daemon logs it once, not every poll).
    pub fn take_first_refusal(&mut self) -> bool {
        let first = !self.refused_reported;
        self.refused_reported = true;
        first
    }

    /// Reads what was appended since the last call and hands each complete
    /// line (without its newline) to `line`. Returns the number of lines.
    pub fn poll(&mut self, mut line: impl FnMut(&[u8])) -> Result<usize, TailError> {
        let mut n = 0;
        if self.file.is_none() {
            let Some((mut f, m)) = self.open_path()? else {
                return Ok(0);
            };
            let (dev, ino, size) = (m.dev(), m.ino(), m.len());
            let first = self.stats.rotations == 0 && self.stats.lines == 0 && self.stats.bytes == 0;
            let offset = match self.saved.take() {
                Some(p) if p.dev == dev && p.ino == ino && p.offset <= size => p.offset,
                _ if first && self.start == StartAt::End => size,
                _ => 0,
            };
            f.seek(SeekFrom::Start(offset))
                .map_err(|source| TailError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            self.file = Some(f);
            self.dev = dev;
            self.ino = ino;
            self.read_pos = offset;
            self.partial.clear();
            self.skipping = false;
        }
        // Truncated (or copy-truncated) in place?
        if let Some(f) = &self.file {
            if let Ok(m) = f.metadata() {
                if m.len() < self.read_pos {
                    self.stats.truncations += 1;
                    self.read_pos = 0;
                    self.partial.clear();
                    self.skipping = false;
                    if let Some(f) = self.file.as_mut() {
                        let _ = f.seek(SeekFrom::Start(0));
                    }
                }
            }
        }
        n += self.drain(&mut line)?;
        // Rotated: the path names another file (or a refused one). The old
        // file was read to its end above; continue with the new one.
        let moved = match std::fs::symlink_metadata(&self.path) {
            Ok(m) => m.dev() != self.dev || m.ino() != self.ino,
            Err(_) => false,
        };
        if moved {
            self.stats.rotations += 1;
            self.file = None;
            self.partial.clear();
            self.skipping = false;
            let Some((f, m)) = self.open_path()? else {
                return Ok(n);
            };
            self.dev = m.dev();
            self.ino = m.ino();
            self.read_pos = 0;
            self.file = Some(f);
            n += self.drain(&mut line)?;
        }
        Ok(n)
    }

    /// Reads to the current end of the open file.
    fn drain(&mut self, line: &mut impl FnMut(&[u8])) -> Result<usize, TailError> {
        let mut n = 0;
        let Some(mut f) = self.file.take() else {
            return Ok(0);
        };
        let res = loop {
            let got = match f.read(&mut self.chunk) {
                Ok(0) => break Ok(n),
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(n),
                Err(source) => {
                    break Err(TailError::Io {
                        path: self.path.clone(),
                        source,
                    })
                }
            };
            self.read_pos += got as u64;
            self.stats.bytes += got as u64;
            let data = std::mem::take(&mut self.chunk);
            n += self.split(data.get(..got).unwrap_or(&[]), line);
            self.chunk = data;
        };
        self.file = Some(f);
        res
    }

    /// Cuts `data` into lines, keeping an unfinished one for later.
    fn split(&mut self, mut data: &[u8], line: &mut impl FnMut(&[u8])) -> usize {
        let mut n = 0;
        while !data.is_empty() {
            match memchr_nl(data) {
                Some(i) => {
                    let (head, rest) = (
                        data.get(..i).unwrap_or(&[]),
                        data.get(i + 1..).unwrap_or(&[]),
                    );
                    if self.skipping {
                        self.skipping = false;
                    } else if self.partial.is_empty() {
                        let cut = head.get(..self.max_line).unwrap_or(head);
                        if cut.len() < head.len() {
                            self.stats.long_lines += 1;
                        }
                        line(cut);
                        n += 1;
                        self.stats.lines += 1;
                    } else {
                        let room = self.max_line.saturating_sub(self.partial.len());
                        let take = head.get(..room).unwrap_or(head);
                        if take.len() < head.len() {
                            self.stats.long_lines += 1;
                        }
                        self.partial.extend_from_slice(take);
                        line(&self.partial);
                        self.partial.clear();
                        n += 1;
                        self.stats.lines += 1;
                    }
                    data = rest;
                }
                None => {
                    if !self.skipping {
                        let room = self.max_line.saturating_sub(self.partial.len());
                        if data.len() > room {
                            // Over the cap: hand out what fits, skip the rest.
                            self.partial
                                .extend_from_slice(data.get(..room).unwrap_or(&[]));
                            self.stats.long_lines += 1;
                            line(&self.partial);
                            self.partial.clear();
                            n += 1;
                            self.stats.lines += 1;
                            self.skipping = true;
                        } else {
                            self.partial.extend_from_slice(data);
                        }
                    }
                    data = &[];
                }
            }
        }
        n
    }
}

fn memchr_nl(d: &[u8]) -> Option<usize> {
    d.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rampart-tail-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn lines(t: &mut FileTail) -> Vec<String> {
        let mut v = Vec::new();
        t.poll(|l| v.push(String::from_utf8_lossy(l).into_owned()))
            .unwrap();
        v
    }

    fn append(p: &Path, s: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap();
        f.write_all(s.as_bytes()).unwrap();
    }

    #[test]
    fn follows_appends_rotation_truncation_and_resumes() {
        let d = dir("a");
        let p = d.join("auth.log");
        append(&p, "old 1\n");
        let mut t = FileTail::new(&p, None, StartAt::End);
        assert!(lines(&mut t).is_empty());
        append(&p, "a\nb");
        assert_eq!(lines(&mut t), vec!["a"]);
        append(&p, "c\n");
        assert_eq!(lines(&mut t), vec!["bc"]);
        // Rotation: the rest of the old file, then the new one.
        append(&p, "last of old\n");
        std::fs::rename(&p, d.join("auth.log.1")).unwrap();
        append(&p, "first of new\n");
        assert_eq!(lines(&mut t), vec!["last of old", "first of new"]);
        assert_eq!(t.stats().rotations, 1);
        // Copy-truncate.
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&p)
            .unwrap();
        append(&p, "after\n");
        assert_eq!(lines(&mut t), vec!["after"]);
        assert_eq!(t.stats().truncations, 1);
        // Resume from a saved position: nothing re-read, nothing lost.
        let pos = t.position().unwrap();
        append(&p, "while down\n");
        let mut t2 = FileTail::new(&p, Some(pos), StartAt::End);
        assert_eq!(lines(&mut t2), vec!["while down"]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn refuses_symlinks_and_fifos() {
        let d = dir("b");
        let p = d.join("auth.log");
        std::os::unix::fs::symlink("/etc/hostname", &p).unwrap();
        let mut t = FileTail::new(&p, None, StartAt::Beginning);
        let e = t.poll(|_| panic!("read through a symlink")).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        std::fs::remove_file(&p).unwrap();
        let ok = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .map(|s| s.success());
        if ok.unwrap_or(false) {
            let e = t.poll(|_| panic!("read a FIFO")).unwrap_err();
            assert!(e.to_string().contains("FIFO"), "{e}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn long_lines_are_cut_and_bytes_pass_through() {
        let d = dir("c");
        let p = d.join("x.log");
        let mut t = FileTail::new(&p, None, StartAt::Beginning);
        t.set_max_line(100);
        let big = "A".repeat(1 << 20);
        append(&p, &format!("{big}\nshort \u{0} \u{fffd}\n"));
        let mut got: Vec<Vec<u8>> = Vec::new();
        t.poll(|l| got.push(l.to_vec())).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), 100);
        assert_eq!(got[1], "short \u{0} \u{fffd}".as_bytes());
        assert_eq!(t.stats().long_lines, 1);
        let _ = std::fs::remove_dir_all(&d);
    }
}
