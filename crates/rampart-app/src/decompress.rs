//! Bounded streaming decompression of response bodies, lenient like
//! libhtp.
//!
//! A body may carry several content codings (`Content-Encoding: gzip,
//! deflate`); each is undone by one [`Layer`], the output of one layer
//! feeding the next. Like libhtp, a layer does not trust the name it was
//! given: it looks at the first bytes and decodes a gzip member (with a
//! lenient header parser: reserved flag bits and a wrong header CRC are
//! ignored), a zlib stream or a raw deflate stream, whatever the coding was
//! called. When the data turns out not to be compressed at all, the layer
//! passes it through unchanged (libhtp's "passthrough"), so that a
//! mislabelled body is still inspected, and the failure is reported.
//!
//! Every layer's output is capped, so a compression bomb costs at most
//! `cap` bytes of inflating work per layer and `depth` bytes of kept body
//! (plus flate2's fixed 32 KiB window per layer); a layer holds at most
//! [`HOLD_MAX`] input bytes for a retry.

use std::io::{self, Write};

use flate2::write::{DeflateDecoder, ZlibDecoder};

/// Which `Content-Encoding` a layer was named after. Both are decoded the
/// same way (the format is sniffed); the name only says a layer exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// `gzip` / `x-gzip`.
    Gzip,
    /// `deflate` / `x-deflate`: zlib-wrapped per RFC 9110, or raw deflate
    /// as some servers send.
    Deflate,
}

/// Input a layer keeps, until it has produced output, for a retry in
/// another format or for passing it through unchanged.
const HOLD_MAX: usize = 8 * 1024;

/// Output side of a flate2 decoder: collects what was produced and fails
/// once more than `cap` bytes in total were produced.
#[derive(Debug)]
struct Sink {
    out: Vec<u8>,
    total: u64,
    cap: u64,
    over: bool,
}

impl Sink {
    fn new(cap: u64) -> Self {
        Sink {
            out: Vec::new(),
            total: 0,
            cap,
            over: false,
        }
    }
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
        self.out.extend_from_slice(buf.get(..n).unwrap_or_default());
        self.total += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why decoding stopped early or went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The data of a layer was not compressed (or was corrupt); it is
    /// passed through unchanged from there on.
    Failed,
    /// The output cap or the ratio guard was exceeded; decoding stopped.
    Bomb,
}

/// The format a layer settled on, or what it does with its input.
#[derive(Debug)]
enum Mode {
    /// Not enough bytes yet to tell the format.
    Sniff,
    /// A zlib stream.
    Zlib(ZlibDecoder<Sink>),
    /// A raw deflate stream (also the body of a gzip member).
    Raw(DeflateDecoder<Sink>),
    /// The compressed stream ended; what follows (a gzip trailer) is
    /// ignored.
    Done,
    /// Not compressed: input goes through unchanged.
    Pass,
    /// The output cap was reached: nothing more comes out.
    Over,
}

/// What sniffing the first bytes of a layer's input decided.
enum Sniffed {
    /// More bytes are needed.
    More,
    /// Decode as zlib from the start.
    Zlib,
    /// Decode as raw deflate from this offset (after a gzip header, or 0).
    Raw(usize),
    /// A gzip header that cannot be parsed: pass the input through.
    Pass,
}

/// Sniffs the format of a compressed stream from its first bytes. `end`:
/// no more bytes will come.
fn sniff(held: &[u8], end: bool) -> Sniffed {
    let (a, b) = match held {
        [a, b, ..] => (*a, *b),
        _ if end => return Sniffed::Raw(0),
        _ => return Sniffed::More,
    };
    if a == 0x1f && b == 0x8b {
        return match gzip_header_len(held) {
            Some(n) => Sniffed::Raw(n),
            None if end || held.len() >= HOLD_MAX => Sniffed::Pass,
            None => Sniffed::More,
        };
    }
    if a & 0x0f == 8 && (u16::from(a) << 8 | u16::from(b)) % 31 == 0 {
        return Sniffed::Zlib;
    }
    Sniffed::Raw(0)
}

/// Length of a gzip member header (RFC 1952), `None` until complete. The
/// method byte, reserved flag bits and the header CRC are not checked:
/// libhtp skips headers it cannot validate and inflates what follows.
fn gzip_header_len(h: &[u8]) -> Option<usize> {
    let flags = *h.get(3)?;
    let mut pos = 10usize;
    if h.len() < pos {
        return None;
    }
    if flags & 0x04 != 0 {
        let lo = usize::from(*h.get(pos)?);
        let hi = usize::from(*h.get(pos + 1)?);
        pos += 2 + (hi << 8 | lo);
    }
    for bit in [0x08u8, 0x10] {
        if flags & bit != 0 {
            let rest = h.get(pos..)?;
            pos += memchr::memchr(0, rest)? + 1;
        }
    }
    if flags & 0x02 != 0 {
        pos += 2;
    }
    (h.len() >= pos).then_some(pos)
}

/// One content coding being undone.
#[derive(Debug)]
struct Layer {
    mode: Mode,
    /// Input kept while `holding` (see [`HOLD_MAX`]).
    held: Vec<u8>,
    /// Whether the layer still keeps its input: until it first produces
    /// output or holds [`HOLD_MAX`] bytes.
    holding: bool,
    /// Whether a zlib guess was already retried as raw deflate.
    retried: bool,
    cap: u64,
}

/// What one [`Layer::push`] produced.
#[derive(Default)]
struct Pushed {
    out: Vec<u8>,
    failed: bool,
    bomb: bool,
}

impl Layer {
    fn new(cap: u64) -> Self {
        Layer {
            mode: Mode::Sniff,
            held: Vec::new(),
            holding: true,
            retried: false,
            cap,
        }
    }

    /// Feeds input bytes; `end`: the body ends after them.
    fn push(&mut self, data: &[u8], end: bool) -> Pushed {
        let mut res = Pushed::default();
        match self.mode {
            Mode::Pass => {
                res.out.extend_from_slice(data);
                return res;
            }
            Mode::Done | Mode::Over => return res,
            Mode::Sniff => {
                self.held.extend_from_slice(data);
                let held = std::mem::take(&mut self.held);
                let start = match sniff(&held, end) {
                    Sniffed::More => {
                        self.held = held;
                        return res;
                    }
                    Sniffed::Pass => {
                        self.mode = Mode::Pass;
                        res.failed = true;
                        res.out = held;
                        return res;
                    }
                    Sniffed::Zlib => {
                        self.mode = Mode::Zlib(ZlibDecoder::new(Sink::new(self.cap)));
                        0
                    }
                    Sniffed::Raw(skip) => {
                        self.mode = Mode::Raw(DeflateDecoder::new(Sink::new(self.cap)));
                        skip
                    }
                };
                let input = held.get(start..).unwrap_or_default().to_vec();
                self.held = held;
                self.run(&input, &mut res);
            }
            Mode::Zlib(_) | Mode::Raw(_) => {
                if self.holding {
                    self.held.extend_from_slice(data);
                }
                self.run(data, &mut res);
            }
        }
        if !res.out.is_empty() || self.held.len() > HOLD_MAX || !self.holding {
            self.holding = false;
            self.held = Vec::new();
        }
        res
    }

    /// Runs input through the decoder in use, handling the end of the
    /// stream, the output cap and format errors.
    fn run(&mut self, data: &[u8], res: &mut Pushed) {
        let mut rest = data;
        let mut err = false;
        while !rest.is_empty() {
            let r = match &mut self.mode {
                Mode::Zlib(d) => d.write(rest),
                Mode::Raw(d) => d.write(rest),
                _ => break,
            };
            match r {
                // The compressed stream ended: ignore what follows (after
                // taking the output flate2 still buffers).
                Ok(0) => {
                    self.drain();
                    self.collect(res);
                    self.mode = Mode::Done;
                    return;
                }
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(_) => {
                    err = true;
                    break;
                }
            }
        }
        if !err {
            // flate2's writers hold back the output of the last write until
            // the next one; flushing makes everything decodable so far
            // visible now, so what a body shows does not depend on how the
            // stream was split.
            err = match &mut self.mode {
                Mode::Zlib(d) => d.flush().is_err(),
                Mode::Raw(d) => d.flush().is_err(),
                _ => false,
            };
        } else {
            // The write that failed may have decoded output before the bad
            // byte; it is still in flate2's buffer, which `try_finish`
            // hands over first (its own error is the same one). Fed byte
            // by byte, that output would have come out already.
            self.drain();
        }
        self.collect(res);
        if !err {
            return;
        }
        if self.sink().is_some_and(|s| s.over) {
            self.mode = Mode::Over;
            res.bomb = true;
            return;
        }
        self.fail(data, res);
    }

    /// The data did not decode: retry a zlib guess as raw deflate, else
    /// pass the input through unchanged from here on.
    fn fail(&mut self, data: &[u8], res: &mut Pushed) {
        if self.holding && res.out.is_empty() {
            let held = std::mem::take(&mut self.held);
            if matches!(self.mode, Mode::Zlib(_)) && !self.retried {
                self.retried = true;
                self.mode = Mode::Raw(DeflateDecoder::new(Sink::new(self.cap)));
                self.held = held.clone();
                self.run(&held, res);
                return;
            }
            self.mode = Mode::Pass;
            res.failed = true;
            res.out = held;
            return;
        }
        // Output was already produced: like libhtp, the failing piece goes
        // through as it is, and so does everything after it.
        self.mode = Mode::Pass;
        res.failed = true;
        res.out.extend_from_slice(data);
    }

    /// Hands the output flate2 still buffers to the sink. Its error, if
    /// any, is one the caller already has (or a truncated stream, which is
    /// not an error: captures often end mid-body).
    fn drain(&mut self) {
        let _ = match &mut self.mode {
            Mode::Zlib(d) => d.try_finish(),
            Mode::Raw(d) => d.try_finish(),
            _ => Ok(()),
        };
    }

    fn sink(&mut self) -> Option<&mut Sink> {
        match &mut self.mode {
            Mode::Zlib(d) => Some(d.get_mut()),
            Mode::Raw(d) => Some(d.get_mut()),
            _ => None,
        }
    }

    fn collect(&mut self, res: &mut Pushed) {
        if let Some(s) = self.sink() {
            res.out.append(&mut s.out);
        }
    }

    /// The body ended: decides a format still being sniffed, flushes.
    fn finish(&mut self) -> Pushed {
        let mut res = if matches!(self.mode, Mode::Sniff) && !self.held.is_empty() {
            self.push(&[], true)
        } else {
            Pushed::default()
        };
        // A truncated stream is not an error: captures often end mid-body.
        self.drain();
        self.collect(&mut res);
        if self.sink().is_some_and(|s| s.over) {
            self.mode = Mode::Over;
            res.bomb = true;
        }
        res
    }
}

/// A streaming, bounded decoder of one body's content codings.
#[derive(Debug)]
pub(crate) struct Decoder {
    /// In the order they are undone: the first gets the body's bytes.
    layers: Vec<Layer>,
    room: usize,
    ratio: u64,
    ratio_floor: u64,
    input: u64,
    output: u64,
    stopped: bool,
    failed: bool,
}

impl Decoder {
    /// A decoder undoing `codecs` in order (the first gets the wire bytes;
    /// at least one layer is made), that keeps at most `depth` output
    /// bytes, lets each layer inflate at most `cap` bytes, and stops when
    /// output exceeds `ratio` times the input once output is past
    /// `ratio_floor` bytes.
    pub(crate) fn new(
        codecs: &[Codec],
        depth: usize,
        cap: u64,
        ratio: u64,
        ratio_floor: u64,
    ) -> Self {
        Decoder {
            layers: codecs.iter().map(|_| Layer::new(cap)).collect(),
            room: depth,
            ratio,
            ratio_floor,
            input: 0,
            output: 0,
            stopped: false,
            failed: false,
        }
    }

    /// Feeds compressed bytes; appends newly decoded bytes (within depth) to
    /// `body`. Returns what went wrong, the first time it goes wrong.
    pub(crate) fn feed(&mut self, data: &[u8], body: &mut Vec<u8>) -> Option<Stop> {
        if self.stopped || data.is_empty() {
            return None;
        }
        self.input += data.len() as u64;
        self.pass_on(0, data.to_vec(), false, body)
    }

    /// Runs `data` through the layers from `first` on, keeps the output.
    fn pass_on(
        &mut self,
        first: usize,
        mut data: Vec<u8>,
        end: bool,
        body: &mut Vec<u8>,
    ) -> Option<Stop> {
        let mut failed = false;
        let mut bomb = false;
        for layer in self.layers.iter_mut().skip(first) {
            if data.is_empty() {
                break;
            }
            let r = layer.push(&data, end);
            failed |= r.failed;
            bomb |= r.bomb;
            data = r.out;
        }
        self.keep(&data, body);
        self.report(failed, bomb)
    }

    fn keep(&mut self, out: &[u8], body: &mut Vec<u8>) {
        let keep = out.len().min(self.room);
        body.extend_from_slice(out.get(..keep).unwrap_or_default());
        self.room -= keep;
        self.output += out.len() as u64;
    }

    /// Turns what the layers reported into the first anomaly to raise.
    fn report(&mut self, failed: bool, bomb: bool) -> Option<Stop> {
        let ratio_hit =
            self.output > self.ratio_floor && self.output > self.input.saturating_mul(self.ratio);
        if (bomb || ratio_hit) && !self.stopped {
            self.stopped = true;
            return Some(Stop::Bomb);
        }
        if failed && !self.failed {
            self.failed = true;
            return Some(Stop::Failed);
        }
        None
    }

    /// Flushes what the layers still hold at the end of the body. Returns
    /// what went wrong, if it had not been reported yet.
    pub(crate) fn finish(&mut self, body: &mut Vec<u8>) -> Option<Stop> {
        if self.stopped {
            return None;
        }
        let mut first = None;
        for i in 0..self.layers.len() {
            let Some(layer) = self.layers.get_mut(i) else {
                break;
            };
            let r = layer.finish();
            let mut stop = self.report(r.failed, r.bomb);
            if self.stopped {
                first = first.or(stop);
                break;
            }
            if !r.out.is_empty() {
                let s = self.pass_on(i + 1, r.out, true, body);
                stop = stop.or(s);
            }
            first = first.or(stop);
            if self.stopped {
                break;
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(codecs: &[Codec], data: &[u8]) -> (Vec<u8>, Vec<Stop>) {
        let mut d = Decoder::new(codecs, 1 << 20, 1 << 20, 250, 64 * 1024);
        let mut body = Vec::new();
        let mut stops = Vec::new();
        stops.extend(d.feed(data, &mut body));
        stops.extend(d.finish(&mut body));
        (body, stops)
    }

    #[test]
    fn the_format_is_sniffed_whatever_the_coding_is_called() {
        for c in [Codec::Gzip, Codec::Deflate] {
            assert_eq!(decode(&[c], &gzip(b"abc")).0, b"abc");
            assert_eq!(decode(&[c], &raw(b"abc")).0, b"abc");
        }
    }

    #[test]
    fn plain_data_passes_through_and_is_reported() {
        let (body, stops) = decode(&[Codec::Deflate], b"X5O!P%@AP[4 plain");
        assert_eq!(body, b"X5O!P%@AP[4 plain");
        assert_eq!(stops, vec![Stop::Failed]);
        // Two layers of a body that is not compressed at all.
        let (body, _) = decode(&[Codec::Deflate, Codec::Gzip], b"plain text here");
        assert_eq!(body, b"plain text here");
    }

    #[test]
    fn layers_are_undone_in_order() {
        let inner = gzip(b"EICAR inside");
        let (body, stops) = decode(&[Codec::Gzip, Codec::Deflate], &raw(&inner));
        assert_eq!(body, b"EICAR inside");
        assert!(stops.is_empty());
        // A second layer named but absent passes the decoded data through.
        let (body, _) = decode(&[Codec::Deflate, Codec::Gzip], &raw(b"once"));
        assert_eq!(body, b"once");
    }

    #[test]
    fn odd_gzip_headers_are_skipped() {
        let plain = b"header oddities";
        let good = gzip(plain);
        // Reserved flag bits set.
        for flags in [0x20u8, 0x80] {
            let mut g = good.clone();
            g[3] = flags;
            assert_eq!(decode(&[Codec::Gzip], &g).0, plain);
        }
        // FHCRC with a wrong header CRC.
        let mut g = good[..10].to_vec();
        g[3] = 0x02;
        g.extend_from_slice(&[0, 0]);
        g.extend_from_slice(&good[10..]);
        assert_eq!(decode(&[Codec::Gzip], &g).0, plain);
        // FNAME, split inside the name.
        let mut g = good[..10].to_vec();
        g[3] = 0x08;
        g.extend_from_slice(b"eicar.txt\0");
        g.extend_from_slice(&good[10..]);
        let mut d = Decoder::new(&[Codec::Gzip], 1 << 20, 1 << 20, 250, 64 * 1024);
        let mut body = Vec::new();
        for piece in g.chunks(3) {
            assert_eq!(d.feed(piece, &mut body), None);
        }
        assert_eq!(d.finish(&mut body), None);
        assert_eq!(body, plain);
    }

    #[test]
    fn a_zlib_looking_raw_stream_is_retried_as_raw() {
        // 0x78 0x9c passes the zlib header check; as zlib the data is
        // corrupt, so the layer passes it through.
        let (body, stops) = decode(&[Codec::Deflate], b"\x78\x9cnot really");
        assert_eq!(body, b"\x78\x9cnot really");
        assert_eq!(stops, vec![Stop::Failed]);
    }
}
