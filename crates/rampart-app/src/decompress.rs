//! Bounded streaming gzip / deflate decompression of response bodies.
//!
//! The decoder writes into a [`Sink`] that keeps only what the inspection
//! depth allows and refuses to produce more than the configured output cap,
//! so a compression bomb costs at most `cap` bytes of inflating work and
//! `depth` bytes of memory (plus flate2's fixed 32 KiB window).

use std::io::{self, Write};

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

/// Which `Content-Encoding` a body uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// `gzip` / `x-gzip`.
    Gzip,
    /// `deflate`: zlib-wrapped per RFC 9110, or raw deflate as some servers
    /// send; told apart from the first two bytes.
    Deflate,
}

/// Output side of the decoder: keeps at most `room` new bytes in `out` and
/// fails once more than `cap` bytes in total were produced.
#[derive(Debug)]
struct Sink {
    out: Vec<u8>,
    room: usize,
    total: u64,
    cap: u64,
    over: bool,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.over {
            return Err(io::Error::other("decompression cap reached"));
        }
        let left = self.cap.saturating_sub(self.total);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if n == 0 && !buf.is_empty() {
            self.over = true;
            return Err(io::Error::other("decompression cap reached"));
        }
        let keep = n.min(self.room);
        self.out
            .extend_from_slice(buf.get(..keep).unwrap_or_default());
        self.room -= keep;
        self.total += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The concrete flate2 decoder in use.
#[derive(Debug)]
enum Inner {
    Gzip(GzDecoder<Sink>),
    Zlib(ZlibDecoder<Sink>),
    Raw(DeflateDecoder<Sink>),
}

/// Why decoding stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The compressed data was invalid.
    Failed,
    /// The output cap or the ratio guard was exceeded.
    Bomb,
}

/// A streaming, bounded body decoder.
#[derive(Debug)]
pub(crate) struct Decoder {
    codec: Codec,
    inner: Option<Inner>,
    /// Deflate bytes held until two are known (zlib vs raw sniffing).
    pending: Vec<u8>,
    room: usize,
    cap: u64,
    ratio: u64,
    ratio_floor: u64,
    input: u64,
    stopped: Option<Stop>,
}

impl Decoder {
    /// A decoder that keeps at most `depth` output bytes, inflates at most
    /// `cap` bytes, and stops when output exceeds `ratio` times the input
    /// once output is past `ratio_floor` bytes.
    pub(crate) fn new(codec: Codec, depth: usize, cap: u64, ratio: u64, ratio_floor: u64) -> Self {
        Decoder {
            codec,
            inner: None,
            pending: Vec::new(),
            room: depth,
            cap,
            ratio,
            ratio_floor,
            input: 0,
            stopped: None,
        }
    }

    fn sink(&self) -> Sink {
        Sink {
            out: Vec::new(),
            room: self.room,
            total: 0,
            cap: self.cap,
            over: false,
        }
    }

    /// Feeds compressed bytes; appends newly decoded bytes (within depth) to
    /// `body`. Returns why decoding stopped, the first time it stops.
    pub(crate) fn feed(&mut self, data: &[u8], body: &mut Vec<u8>) -> Option<Stop> {
        if self.stopped.is_some() || data.is_empty() {
            return None;
        }
        self.input += data.len() as u64;
        if self.inner.is_none() {
            match self.codec {
                Codec::Gzip => self.inner = Some(Inner::Gzip(GzDecoder::new(self.sink()))),
                Codec::Deflate => {
                    self.pending.extend_from_slice(data);
                    let [a, b, ..] = self.pending[..] else {
                        return None;
                    };
                    let zlib = a & 0x0f == 8 && (u16::from(a) << 8 | u16::from(b)) % 31 == 0;
                    let sink = self.sink();
                    self.inner = Some(if zlib {
                        Inner::Zlib(ZlibDecoder::new(sink))
                    } else {
                        Inner::Raw(DeflateDecoder::new(sink))
                    });
                    let pending = std::mem::take(&mut self.pending);
                    return self.write(&pending, body);
                }
            }
        }
        self.write(data, body)
    }

    fn write(&mut self, data: &[u8], body: &mut Vec<u8>) -> Option<Stop> {
        // flate2's writers hold back the output of the last write until the
        // next one; flushing makes everything decodable so far visible now,
        // so what a body shows never depends on how the stream was split.
        let res = match self.inner.as_mut()? {
            Inner::Gzip(d) => d.write_all(data).and_then(|()| d.flush()),
            Inner::Zlib(d) => d.write_all(data).and_then(|()| d.flush()),
            Inner::Raw(d) => d.write_all(data).and_then(|()| d.flush()),
        };
        self.collect(body);
        let over = self.sink_mut().is_some_and(|s| s.over);
        let total = self.sink_mut().map_or(0, |s| s.total);
        let stop = if over
            || (total > self.ratio_floor && total > self.input.saturating_mul(self.ratio))
        {
            Some(Stop::Bomb)
        } else if res.is_err() {
            Some(Stop::Failed)
        } else {
            None
        };
        if stop.is_some() {
            self.stopped = stop;
        }
        stop
    }

    fn sink_mut(&mut self) -> Option<&mut Sink> {
        Some(match self.inner.as_mut()? {
            Inner::Gzip(d) => d.get_mut(),
            Inner::Zlib(d) => d.get_mut(),
            Inner::Raw(d) => d.get_mut(),
        })
    }

    fn collect(&mut self, body: &mut Vec<u8>) {
        if let Some(s) = self.sink_mut() {
            body.append(&mut s.out);
        }
    }

    /// Flushes what the decoder still holds at the end of the body. A
    /// truncated stream is not an error: captures often end mid-body.
    pub(crate) fn finish(&mut self, body: &mut Vec<u8>) -> Option<Stop> {
        if self.stopped.is_some() {
            return None;
        }
        if self.inner.is_none() && !self.pending.is_empty() {
            // A one-byte deflate body: sniff as raw.
            self.inner = Some(Inner::Raw(DeflateDecoder::new(self.sink())));
            let pending = std::mem::take(&mut self.pending);
            if let Some(s) = self.write(&pending, body) {
                return Some(s);
            }
        }
        let _ = match self.inner.as_mut() {
            Some(Inner::Gzip(d)) => d.try_finish(),
            Some(Inner::Zlib(d)) => d.try_finish(),
            Some(Inner::Raw(d)) => d.try_finish(),
            None => Ok(()),
        };
        self.collect(body);
        if self.sink_mut().is_some_and(|s| s.over) {
            self.stopped = Some(Stop::Bomb);
            return self.stopped;
        }
        None
    }
}
