//! The daemon's EVE file: one writer thread fed by a bounded channel, with
//! size-based rotation (`eve.json` → `eve.json.1` → … `eve.json.N`).
//!
//! Workers never wait for the disk: when the channel is full the record is
//! counted as lost instead, so a slow disk cannot stall inline traffic.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

/// Records queued for the writer before new ones are dropped.
const CHANNEL_CAPACITY: usize = 65_536;

/// A cheap, cloneable handle for sending EVE records.
#[derive(Clone)]
pub struct EveSender {
    tx: Option<SyncSender<String>>,
    lost: Arc<AtomicU64>,
}

impl EveSender {
    /// A sender that discards everything (no EVE file configured).
    pub fn disabled() -> EveSender {
        EveSender {
            tx: None,
            lost: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues one record (a JSON object serialised on one line).
    pub fn send(&self, record: &serde_json::Value) {
        let Some(tx) = &self.tx else {
            return;
        };
        match tx.try_send(record.to_string()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records dropped because the writer fell behind.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

/// Opens `path` for appending and starts the writer thread.
pub fn start(
    path: &Path,
    max_bytes: u64,
    keep: u32,
) -> Result<(EveSender, std::thread::JoinHandle<()>)> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = open_append(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let (tx, rx) = sync_channel(CHANNEL_CAPACITY);
    let mut w = Writer {
        path: path.to_path_buf(),
        out: BufWriter::new(file),
        size,
        max_bytes,
        keep,
    };
    let handle = std::thread::Builder::new()
        .name("eve-writer".into())
        .spawn(move || w.run(rx))
        .context("starting the EVE writer thread")?;
    Ok((
        EveSender {
            tx: Some(tx),
            lost: Arc::new(AtomicU64::new(0)),
        },
        handle,
    ))
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

struct Writer {
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
    max_bytes: u64,
    keep: u32,
}

impl Writer {
    fn run(&mut self, rx: Receiver<String>) {
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    self.write_logged(&line);
                    while let Ok(l) = rx.try_recv() {
                        self.write_logged(&l);
                    }
                    // Flush once the burst is written, so tail -f sees it.
                    let _ = self.out.flush();
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.out.flush();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.out.flush();
                    return;
                }
            }
        }
    }

    fn write_logged(&mut self, line: &str) {
        if let Err(e) = self.write(line) {
            tracing::error!("writing {}: {e:#}", self.path.display());
        }
    }

    fn write(&mut self, line: &str) -> Result<()> {
        if self.size > 0 && self.size + line.len() as u64 + 1 > self.max_bytes {
            self.rotate()?;
        }
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.size += line.len() as u64 + 1;
        Ok(())
    }

    /// eve.json.(N-1) → eve.json.N, …, eve.json → eve.json.1, then a new
    /// eve.json.
    fn rotate(&mut self) -> Result<()> {
        self.out.flush()?;
        let name = |i: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{i}"));
            PathBuf::from(p)
        };
        if self.keep == 0 {
            let _ = std::fs::remove_file(&self.path);
        } else {
            for i in (1..self.keep).rev() {
                let _ = std::fs::rename(name(i), name(i + 1));
            }
            std::fs::rename(&self.path, name(1))
                .with_context(|| format!("rotating {}", self.path.display()))?;
        }
        self.out = BufWriter::new(open_append(&self.path)?);
        self.size = 0;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_n() {
        let dir = std::env::temp_dir().join(format!("rampart-eve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("eve.json");
        let (tx, h) = start(&path, 4096, 2).unwrap();
        for i in 0..200 {
            tx.send(&serde_json::json!({"event_type": "test", "i": i, "pad": "x".repeat(60)}));
        }
        drop(tx);
        h.join().unwrap();
        let files: Vec<_> = ["eve.json", "eve.json.1", "eve.json.2", "eve.json.3"]
            .iter()
            .map(|n| dir.join(n))
            .collect();
        assert!(files[0].exists() && files[1].exists() && files[2].exists());
        assert!(!files[3].exists());
        for f in &files[..3] {
            let n = std::fs::metadata(f).unwrap().len();
            assert!(n <= 4096, "{} is {n} bytes", f.display());
        }
        // The newest record is in the live file.
        let live = std::fs::read_to_string(&files[0]).unwrap();
        assert!(live.contains("\"i\":199"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
