//! Multi-threaded `logs test`: the regex work of a single-line filter
//! spread over worker threads while the results stay exactly those of a
//! one-thread run.
//!
//! A line goes through three stages ([`Filter::process_line`] split up):
//! 1. the reading thread finds its date ([`Filter::locate`]; the date
//!    detector learns which template wins, so this is done in order);
//! 2. a worker runs the prefregex, failregexes and ignoreregexes on it
//!    ([`Matcher::scan`], pure: any thread, any order);
//! 3. the reading thread merges the scan into the filter's state
//!    ([`Filter::apply`]: last date, multi-line failure ids), in order.
//!
//! Lines travel in batches of a few thousand, so channel traffic is a
//! rounding error; the number of batches in flight is capped, which caps
//! memory (about `3 × workers` MiB).

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::mpsc;
use std::sync::Mutex;

use anyhow::{anyhow, Result};
use rampart_logwatch::{Filter, LineResult, Located, Matcher, Scan};

/// Bytes read per batch (a batch holds the whole lines among them).
const BATCH_BYTES: usize = 512 << 10;
/// Longest line kept whole; longer ones are cut into pieces of this size
/// (bounded memory, as in the one-thread reader).
const MAX_LINE: usize = 16 << 20;

/// Reads a file in blocks straight into batch buffers, cut after the last
/// complete line (the rest is carried to the next block): lines are never
/// copied one by one.
pub(crate) struct BlockReader<R> {
    inner: R,
    carry: Vec<u8>,
    eof: bool,
}

impl<R: Read> BlockReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        BlockReader {
            inner,
            carry: Vec::new(),
            eof: false,
        }
    }

    /// Replaces `buf` with the next whole lines; false once the input is
    /// exhausted.
    fn fill(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        buf.clear();
        buf.append(&mut self.carry);
        let mut want = BATCH_BYTES;
        loop {
            if !self.eof && buf.len() < want {
                // `read_to_end` fills spare capacity without zeroing it
                let room = (want - buf.len()) as u64;
                let n = (&mut self.inner).take(room).read_to_end(buf)?;
                if (n as u64) < room {
                    self.eof = true;
                }
            }
            match memchr::memrchr(b'\n', buf) {
                Some(p) => {
                    if let Some(rest) = buf.get(p + 1..) {
                        self.carry.extend_from_slice(rest);
                    }
                    buf.truncate(p + 1);
                    return Ok(true);
                }
                None if self.eof => return Ok(!buf.is_empty()),
                None if buf.len() >= MAX_LINE => {
                    if let Some(rest) = buf.get(MAX_LINE..) {
                        self.carry.extend_from_slice(rest);
                    }
                    buf.truncate(MAX_LINE);
                    return Ok(true);
                }
                // one line longer than the block: read more of it
                None => want = (want * 2).min(MAX_LINE),
            }
        }
    }
}

/// A run of consecutive lines with their dates and, once a worker is
/// done, their scans.
#[derive(Default)]
struct Batch {
    seq: u64,
    buf: Vec<u8>,
    /// End offset of each line in `buf`.
    ends: Vec<usize>,
    locs: Vec<Located>,
    scans: Vec<Scan>,
}

impl Batch {
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
        self.locs.clear();
        self.scans.clear();
    }

    fn line(&self, i: usize) -> &[u8] {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.buf.get(start..end).unwrap_or(&[])
    }

    fn scan_all(&mut self, m: &mut Matcher) {
        self.scans.clear();
        for i in 0..self.ends.len() {
            let scan = match self.locs.get(i) {
                Some(loc) => m.scan_line(self.line(i), loc),
                None => Scan::default(),
            };
            self.scans.push(scan);
        }
    }
}

/// Feeds every line of `lines` through `filter` with `workers` scanning
/// threads and calls `each(line, result)` in line order. The filter must
/// be single-line ([`Filter::is_single_line`]).
pub(crate) fn run<R: Read>(
    filter: &mut Filter,
    lines: &mut BlockReader<R>,
    workers: usize,
    mut each: impl FnMut(&[u8], LineResult),
) -> Result<()> {
    let workers = workers.max(1);
    let max_in_flight = workers * 2;
    let (job_tx, job_rx) = mpsc::channel::<Batch>();
    let (done_tx, done_rx) = mpsc::channel::<Batch>();
    let job_rx = Mutex::new(job_rx);
    let matchers: Vec<Matcher> = (0..workers).map(|_| filter.matcher()).collect();
    std::thread::scope(|s| -> Result<()> {
        for mut m in matchers {
            let done_tx = done_tx.clone();
            let job_rx = &job_rx;
            let worker = move || loop {
                let job = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(mut batch) = job else { return };
                batch.scan_all(&mut m);
                if done_tx.send(batch).is_err() {
                    return;
                }
            };
            std::thread::Builder::new()
                .name("logs-scan".into())
                .spawn_scoped(s, worker)
                .map_err(|e| anyhow!("starting a log matching thread: {e}"))?;
        }
        drop(done_tx);
        let result = feed(filter, lines, &job_tx, &done_rx, max_in_flight, &mut each);
        // workers end when the job channel closes
        drop(job_tx);
        result
    })
}

/// The reading thread's loop: stage one, hand-off, stage three.
fn feed<R: Read>(
    filter: &mut Filter,
    lines: &mut BlockReader<R>,
    job_tx: &mpsc::Sender<Batch>,
    done_rx: &mpsc::Receiver<Batch>,
    max_in_flight: usize,
    each: &mut impl FnMut(&[u8], LineResult),
) -> Result<()> {
    let mut free: Vec<Batch> = Vec::new();
    let mut ready: BTreeMap<u64, Batch> = BTreeMap::new();
    let (mut next_seq, mut next_apply, mut in_flight) = (0u64, 0u64, 0usize);
    let mut eof = false;
    let lost = || anyhow!("a log matching thread stopped unexpectedly");
    while !eof || in_flight > 0 {
        if !eof {
            let mut b = free.pop().unwrap_or_default();
            b.clear();
            b.seq = next_seq;
            if lines.fill(&mut b.buf)? {
                let mut start = 0;
                while start < b.buf.len() {
                    let rest = b.buf.get(start..).unwrap_or(&[]);
                    let end = memchr::memchr(b'\n', rest).map_or(b.buf.len(), |p| start + p + 1);
                    b.locs
                        .push(filter.locate(b.buf.get(start..end).unwrap_or(&[])));
                    b.ends.push(end);
                    start = end;
                }
            } else {
                eof = true;
            }
            if b.ends.is_empty() {
                free.push(b);
            } else {
                job_tx.send(b).map_err(|_| lost())?;
                next_seq += 1;
                in_flight += 1;
            }
        }
        // take finished batches; block only when the pipeline is full or
        // the input is exhausted
        loop {
            let must_wait = in_flight > 0 && (eof || in_flight >= max_in_flight);
            let got = if must_wait {
                Some(done_rx.recv().map_err(|_| lost())?)
            } else {
                done_rx.try_recv().ok()
            };
            let Some(b) = got else { break };
            in_flight -= 1;
            ready.insert(b.seq, b);
            while let Some(mut b) = ready.remove(&next_apply) {
                let scans = std::mem::take(&mut b.scans);
                for (i, scan) in scans.into_iter().enumerate() {
                    let Some(loc) = b.locs.get(i) else { continue };
                    let r = filter.apply(loc, scan);
                    each(b.line(i), r);
                }
                next_apply += 1;
                free.push(b);
            }
        }
    }
    Ok(())
}
