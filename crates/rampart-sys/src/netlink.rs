//! The netlink plumbing shared by the ban sets ([`crate::bans`], nf_tables)
//! and the inline queue ([`crate::nfqueue`], nfnetlink_queue): message and
//! attribute building, a bounds-checked attribute walker, the parser for the
//! kernel's acks and errors, and the socket itself.
//!
//! Why our own and not a crate: both users need little (a handful of
//! messages each), and both need control the crates we tried did not give
//! (socket buffer sizes, `ENOBUFS` reporting, `MSG_TRUNC`, receiving packets
//! and acks on one socket). Everything read from the socket is untrusted:
//! the readers below take a byte slice, check every length against it and
//! stop at the first thing that does not fit; none of them can panic.
//!
//! The only `unsafe` code is in [`sock`], a few libc calls on a descriptor
//! it owns.

// Netlink constants (linux/netlink.h, linux/netfilter/nfnetlink.h). libc
// has some of them as `c_int`; these are typed for the wire.
/// Error or ack message type.
pub(crate) const NLMSG_ERROR: u16 = 2;
/// End of a multi-part message.
pub(crate) const NLMSG_DONE: u16 = 3;
/// The message is a request.
pub(crate) const NLM_F_REQUEST: u16 = 0x1;
/// Part of a multi-part answer.
pub(crate) const NLM_F_MULTI: u16 = 0x2;
/// Ask for an ack.
pub(crate) const NLM_F_ACK: u16 = 0x4;
/// Dump request (root | match).
pub(crate) const NLM_F_DUMP: u16 = 0x300;
/// Create the object (nf_tables).
pub(crate) const NLM_F_CREATE: u16 = 0x400;
/// In an error message: the original request is capped to its header.
pub(crate) const NLM_F_CAPPED: u16 = 0x100;
/// In an error message: extended-ack attributes follow.
pub(crate) const NLM_F_ACK_TLVS: u16 = 0x200;
/// Extended ack attribute: the kernel's error text.
pub(crate) const NLMSGERR_ATTR_MSG: u16 = 1;
/// Attribute type flag: the payload is nested attributes.
pub(crate) const NLA_F_NESTED: u16 = 0x8000;
/// The bits of an attribute type that are the type (no flags).
pub(crate) const NLA_TYPE_MASK: u16 = 0x3fff;
/// `struct nlmsghdr`.
pub(crate) const NLMSG_HDRLEN: usize = 16;
/// `struct nfgenmsg`, the header of every nfnetlink message.
pub(crate) const NFGENMSG_LEN: usize = 4;

/// Rounds up to netlink's 4-byte alignment.
pub(crate) fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// Starts a netlink message with an nfgenmsg header; returns its offset
/// (for [`msg_end`]). `res_id` is big-endian on the wire (a queue number
/// for nfnetlink_queue, the subsystem for batch messages).
pub(crate) fn msg_start(
    buf: &mut Vec<u8>,
    ty: u16,
    flags: u16,
    seq: u32,
    family: u8,
    res_id: u16,
) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.push(family);
    buf.push(0); // NFNETLINK_V0
    buf.extend_from_slice(&res_id.to_be_bytes());
    start
}

/// Writes the length of the message started at `start`.
pub(crate) fn msg_end(buf: &mut [u8], start: usize) {
    let len = u32::try_from(buf.len().saturating_sub(start)).unwrap_or(u32::MAX);
    if let Some(h) = buf.get_mut(start..start + 4) {
        h.copy_from_slice(&len.to_ne_bytes());
    }
}

/// Appends one attribute (padded to 4 bytes). Callers keep payloads under
/// 64 KiB; the length saturates rather than wrapping.
pub(crate) fn attr(buf: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let len = u16::try_from(4 + payload.len()).unwrap_or(u16::MAX);
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(align4(buf.len()), 0);
}

/// Opens a nested attribute; returns its offset for [`nest_end`].
pub(crate) fn nest_start(buf: &mut Vec<u8>, ty: u16) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&0u16.to_ne_bytes());
    buf.extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
    at
}

/// Closes a nest. Callers keep nests under 64 KiB; the length saturates
/// rather than wrapping.
pub(crate) fn nest_end(buf: &mut [u8], at: usize) {
    let len = u16::try_from(buf.len().saturating_sub(at)).unwrap_or(u16::MAX);
    if let Some(h) = buf.get_mut(at..at + 2) {
        h.copy_from_slice(&len.to_ne_bytes());
    }
}

/// A native-endian u16 at `at`, if the slice holds it.
pub(crate) fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// A native-endian u32 at `at`, if the slice holds it.
pub(crate) fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// A big-endian u32 at `at`, if the slice holds it.
pub(crate) fn read_be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Calls `f(type, payload)` for each attribute in `b` (flags masked off).
/// Stops at the first malformed one (shorter than its header, or longer
/// than what is left) and returns whether the walk reached the end cleanly
/// (fewer than 4 bytes of padding left over).
pub(crate) fn attrs_checked<'a>(b: &'a [u8], mut f: impl FnMut(u16, &'a [u8])) -> bool {
    let mut a = 0usize;
    while let (Some(len), Some(ty)) = (read_u16(b, a), read_u16(b, a + 2)) {
        let len = usize::from(len);
        // A zero or short length would never advance: malformed.
        let Some(payload) = (len >= 4).then(|| b.get(a + 4..a + len)).flatten() else {
            return false;
        };
        f(ty & NLA_TYPE_MASK, payload);
        a += align4(len);
    }
    b.len().saturating_sub(a) < 4
}

/// [`attrs_checked`] for readers that only want what did parse.
pub(crate) fn attrs<'a>(b: &'a [u8], f: impl FnMut(u16, &'a [u8])) {
    let _ = attrs_checked(b, f);
}

/// One netlink message in a receive buffer: its header fields and body
/// (after the 16-byte header), or where the walk had to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawMsg<'a> {
    /// Offset of the message in the buffer.
    pub at: usize,
    /// `nlmsg_type`.
    pub ty: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// Everything after the header, as long as the header says.
    pub body: &'a [u8],
}

/// Calls `f` for each message in `b`. Returns false when the walk stopped
/// at a header whose length is below the header size or beyond the buffer
/// (nothing after it can be found), true when it reached the end.
pub(crate) fn messages<'a>(b: &'a [u8], mut f: impl FnMut(RawMsg<'a>)) -> bool {
    let mut off = 0usize;
    while off < b.len() {
        let (Some(len), Some(ty), Some(flags), Some(seq)) = (
            read_u32(b, off),
            read_u16(b, off + 4),
            read_u16(b, off + 6),
            read_u32(b, off + 8),
        ) else {
            return false;
        };
        let len = len as usize;
        if len < NLMSG_HDRLEN {
            return false;
        }
        let Some(body) = b.get(off + NLMSG_HDRLEN..off.saturating_add(len)) else {
            return false;
        };
        f(RawMsg {
            at: off,
            ty,
            flags,
            seq,
            body,
        });
        off = off.saturating_add(align4(len));
    }
    true
}

/// (seq, errno, extended message) of every NLMSG_ERROR (acks have errno
/// 0) in a receive buffer. Malformed input ends the walk; it never panics.
pub(crate) fn parse_answers(b: &[u8]) -> Vec<(u32, i32, String)> {
    let mut out = Vec::new();
    messages(b, |m| {
        if m.ty == NLMSG_ERROR {
            out.push(parse_error(m));
        }
    });
    out
}

/// (seq of the request, errno, extended message) of one NLMSG_ERROR.
pub(crate) fn parse_error(m: RawMsg<'_>) -> (u32, i32, String) {
    let b = m.body;
    let code = read_u32(b, 0).map(|c| c as i32).unwrap_or(0);
    // The original header follows the error code: its seq says which
    // request this answers.
    let seq = read_u32(b, 4 + 8).unwrap_or(0);
    let mut msg = String::new();
    if m.flags & NLM_F_ACK_TLVS != 0 {
        let orig_len = read_u32(b, 4).unwrap_or(0) as usize;
        let skip = if m.flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            align4(orig_len)
        };
        let tlvs = b.get(4usize.saturating_add(skip)..).unwrap_or_default();
        attrs(tlvs, |ty, s| {
            if ty == NLMSGERR_ATTR_MSG {
                msg = String::from_utf8_lossy(s)
                    .trim_end_matches('\0')
                    .to_string();
            }
        });
    }
    (seq, code.saturating_neg(), msg)
}

pub(crate) use sock::NlSocket;

/// The netlink socket: a few libc calls on a descriptor this module owns.
#[allow(unsafe_code)]
mod sock {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Duration;

    /// `SOL_NETLINK` (linux/socket.h).
    pub const SOL_NETLINK: libc::c_int = 270;
    /// `SK_MEMINFO_DROPS` (linux/sock_diag.h): index of the drop counter in
    /// the `SO_MEMINFO` array.
    const SK_MEMINFO_DROPS: usize = 8;

    /// An `AF_NETLINK`/`NETLINK_NETFILTER` socket, closed on drop.
    pub struct NlSocket(OwnedFd);

    impl NlSocket {
        /// Opens the socket in the calling thread's network namespace. The
        /// kernel gives it a port id on the first send.
        pub fn open() -> io::Result<NlSocket> {
            // SAFETY: a plain syscall with constant arguments; the result
            // is checked before use.
            let fd = unsafe {
                libc::socket(
                    libc::AF_NETLINK,
                    libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                    libc::NETLINK_NETFILTER,
                )
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` is a new, valid descriptor nothing else owns.
            Ok(NlSocket(unsafe { OwnedFd::from_raw_fd(fd) }))
        }

        /// `setsockopt` with an int value.
        pub fn set_int(
            &self,
            level: libc::c_int,
            opt: libc::c_int,
            val: libc::c_int,
        ) -> io::Result<()> {
            // SAFETY: the pointer and length describe a live c_int.
            let r = unsafe {
                libc::setsockopt(
                    self.0.as_raw_fd(),
                    level,
                    opt,
                    (&val as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            if r < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }

        /// `getsockopt` of an int value.
        pub fn get_int(&self, level: libc::c_int, opt: libc::c_int) -> io::Result<libc::c_int> {
            let mut val: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: the pointers describe a live c_int and its length.
            let r = unsafe {
                libc::getsockopt(
                    self.0.as_raw_fd(),
                    level,
                    opt,
                    (&mut val as *mut libc::c_int).cast(),
                    &mut len,
                )
            };
            if r < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(val)
        }

        /// Sets a buffer size with the `FORCE` option (which ignores the
        /// `net.core.*mem_max` ceilings but needs CAP_NET_ADMIN) and falls
        /// back to the plain one (capped by the sysctl). Returns the size
        /// the kernel reports afterwards: twice what was granted, since it
        /// counts its bookkeeping overhead in.
        pub fn set_buffer(&self, receive: bool, bytes: usize) -> io::Result<usize> {
            let (force, plain) = if receive {
                (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF)
            } else {
                (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF)
            };
            let want = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
            if self.set_int(libc::SOL_SOCKET, force, want).is_err() {
                self.set_int(libc::SOL_SOCKET, plain, want)?;
            }
            let got = self.get_int(libc::SOL_SOCKET, plain)?;
            Ok(usize::try_from(got).unwrap_or(0))
        }

        /// Messages the kernel could not queue on this socket because its
        /// receive buffer was full (`SO_MEMINFO`'s drop counter, Linux 4.6+).
        pub fn drops(&self) -> io::Result<u32> {
            let mut info = [0u32; 16];
            let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
            // SAFETY: the pointers describe a live array and its length;
            // the kernel writes at most `len` bytes and updates `len`.
            let r = unsafe {
                libc::getsockopt(
                    self.0.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_MEMINFO,
                    info.as_mut_ptr().cast(),
                    &mut len,
                )
            };
            if r < 0 {
                return Err(io::Error::last_os_error());
            }
            let words = (len as usize) / 4;
            if words <= SK_MEMINFO_DROPS {
                return Err(io::Error::other("SO_MEMINFO has no drop counter"));
            }
            info.get(SK_MEMINFO_DROPS)
                .copied()
                .ok_or_else(|| io::Error::other("SO_MEMINFO has no drop counter"))
        }

        /// Sets (or with None clears) the receive timeout.
        pub fn set_recv_timeout(&self, t: Option<Duration>) -> io::Result<()> {
            let t = t.unwrap_or_default();
            let tv = libc::timeval {
                tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
                // Below 1,000,000: fits every suseconds_t.
                tv_usec: t.subsec_micros() as libc::suseconds_t,
            };
            // SAFETY: the pointer and length describe a live timeval.
            let r = unsafe {
                libc::setsockopt(
                    self.0.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_RCVTIMEO,
                    (&tv as *const libc::timeval).cast(),
                    std::mem::size_of::<libc::timeval>() as libc::socklen_t,
                )
            };
            if r < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }

        /// Sends `buf` to the kernel in one datagram.
        pub fn send(&self, buf: &[u8]) -> io::Result<()> {
            // SAFETY: all-zero is a valid sockaddr_nl (pid 0: the kernel).
            let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
            addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
            // SAFETY: buf and addr are live for the call, lengths exact.
            let n = unsafe {
                libc::sendto(
                    self.0.as_raw_fd(),
                    buf.as_ptr().cast(),
                    buf.len(),
                    0,
                    (&addr as *const libc::sockaddr_nl).cast(),
                    std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            if n as usize != buf.len() {
                return Err(io::Error::other(format!(
                    "short netlink send: {n} of {}",
                    buf.len()
                )));
            }
            Ok(())
        }

        /// One `recv` with `flags`. With `MSG_TRUNC` the result is the
        /// datagram's real length, which may exceed `buf.len()` (only
        /// `buf.len()` bytes were stored).
        pub fn recv_flags(&self, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
            // SAFETY: buf is live and writable for its whole length.
            let n = unsafe {
                libc::recv(
                    self.0.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    flags,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(n as usize)
        }

        /// Receives, waiting at most 10 seconds (a dump the kernel never
        /// finishes must not hang the daemon).
        pub fn recv_wait(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.set_recv_timeout(Some(Duration::from_secs(10)))?;
            self.recv_flags(buf, 0)
        }

        /// Receives without waiting (WouldBlock when nothing is queued).
        pub fn recv_nowait(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.recv_flags(buf, libc::MSG_DONTWAIT)
        }
    }
}

pub(crate) use sock::SOL_NETLINK;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn attribute_walk_is_bounded() {
        let mut b = Vec::new();
        attr(&mut b, 1, b"abc");
        attr(&mut b, 2 | NLA_F_NESTED, b"");
        let mut seen = Vec::new();
        assert!(attrs_checked(&b, |t, p| seen.push((t, p.to_vec()))));
        assert_eq!(seen, vec![(1, b"abc".to_vec()), (2, vec![])]);
        // Zero length, short length, length beyond the buffer.
        for bad in [[0u8, 0, 1, 0], [3, 0, 1, 0], [9, 0, 1, 0]] {
            let mut v = b.clone();
            v.extend_from_slice(&bad);
            let mut n = 0;
            assert!(!attrs_checked(&v, |_, _| n += 1));
            assert_eq!(n, 2);
        }
        for cut in 0..b.len() {
            let _ = attrs_checked(&b[..cut], |_, _| {});
        }
    }

    #[test]
    fn message_walk_is_bounded() {
        let mut b = Vec::new();
        let m = msg_start(&mut b, 0x0300, NLM_F_REQUEST, 7, 0, 3);
        attr(&mut b, 1, &[1, 2, 3, 4]);
        msg_end(&mut b, m);
        let mut n = 0;
        assert!(messages(&b, |m| {
            n += 1;
            assert_eq!((m.ty, m.seq, m.body.len()), (0x0300, 7, 12));
        }));
        assert_eq!(n, 1);
        for cut in 1..b.len() {
            assert!(!messages(&b[..cut], |_| {}));
        }
        let mut huge = b.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(!messages(&huge, |_| {}));
        let mut short = b;
        short[..4].copy_from_slice(&4u32.to_ne_bytes());
        assert!(!messages(&short, |_| {}));
    }
}
