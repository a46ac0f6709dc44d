//! TCP segmentation and whole TCP conversations.

use std::net::SocketAddr;

use super::builder::PacketBuilder;
use super::frames::Frame;
use super::layers::{IpLayer, MacAddr, TransportLayer, VlanTag, DEFAULT_DST_MAC, DEFAULT_SRC_MAC};
use super::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use super::CraftError;
use crate::Timestamp;

/// One piece of a byte stream with the sequence number of its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Sequence number of `data`'s first byte.
    pub seq: u32,
    /// The bytes.
    pub data: &'a [u8],
}

/// Cuts `data` into segments of at most `mss` bytes, numbering them from
/// `start_seq` (wrapping at 2^32 like TCP does). Empty data gives no
/// segments; an `mss` of 0 is an error.
pub fn segment(data: &[u8], mss: usize, start_seq: u32) -> Result<Vec<Segment<'_>>, CraftError> {
    if mss == 0 {
        return Err(CraftError::InvalidMss(mss));
    }
    let mut seq = start_seq;
    Ok(data
        .chunks(mss)
        .map(|chunk| {
            let s = Segment { seq, data: chunk };
            seq = seq.wrapping_add(chunk.len() as u32);
            s
        })
        .collect())
}

/// One end of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The end that opens the connection.
    Client,
    /// The end that accepts it.
    Server,
}

impl Side {
    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// Application data sent by one side in one go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Who sends it.
    pub from: Side,
    /// The bytes; empty messages produce no packets.
    pub data: Vec<u8>,
}

/// How a conversation ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Close {
    /// The client sends FIN/ACK, the server answers FIN/ACK, the client ACKs.
    #[default]
    Fin,
    /// The same with the server closing first.
    ServerFin,
    /// The client aborts with RST/ACK.
    Rst,
    /// The server aborts with RST/ACK.
    ServerRst,
    /// No teardown: the capture ends with the connection open.
    None,
}

/// A complete TCP connection as a list of timestamped frames.
///
/// Reassembly, app-layer parsing and stream rules all need real
/// conversations with consistent sequence and acknowledgment numbers; this
/// type produces them: the three-way handshake (SYNs carry an MSS option),
/// each message cut into segments of at most `mss` bytes with PSH on a
/// message's last segment, one pure ACK from the receiver after each
/// message, and the chosen teardown. SYN and FIN each consume one sequence
/// number. Frames are `step_nanos` apart from `start`.
///
/// ```
/// use rampart_packet::craft::TcpConversation;
///
/// let frames = TcpConversation::new("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:80".parse().unwrap())
///     .client_sends("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
///     .server_sends("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
///     .build()
///     .unwrap();
/// // handshake 3 + (data 1 + ack 1) * 2 + teardown 3
/// assert_eq!(frames.len(), 10);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConversation {
    /// Client address and port.
    pub client: SocketAddr,
    /// Server address and port.
    pub server: SocketAddr,
    /// Client MAC (the Ethernet source of client packets).
    pub client_mac: MacAddr,
    /// Server MAC.
    pub server_mac: MacAddr,
    /// Build Ethernet frames (true, the default) or raw IP packets.
    pub ethernet: bool,
    /// 802.1Q VLAN ids on every frame, outermost first.
    pub vlans: Vec<u16>,
    /// The client's initial sequence number.
    pub client_isn: u32,
    /// The server's initial sequence number.
    pub server_isn: u32,
    /// Capture time of the first frame.
    pub start: Timestamp,
    /// Time between consecutive frames, in nanoseconds.
    pub step_nanos: u64,
    /// Largest payload per segment, both directions.
    pub mss: usize,
    /// Receive window advertised by both sides.
    pub window: u16,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Whether to send the three-way handshake; without it the capture
    /// starts mid-stream, with sequence numbers as if it had happened.
    pub handshake: bool,
    /// The data exchanged, in order.
    pub messages: Vec<Message>,
    /// The teardown.
    pub close: Close,
}

impl TcpConversation {
    /// A conversation between `client` and `server` with no data yet:
    /// ISNs 1000 and 5000, MSS 1460, frames 1 ms apart from
    /// 2023-11-14T22:13:20Z (1 700 000 000 s), FIN teardown.
    pub fn new(client: SocketAddr, server: SocketAddr) -> Self {
        TcpConversation {
            client,
            server,
            client_mac: DEFAULT_SRC_MAC,
            server_mac: DEFAULT_DST_MAC,
            ethernet: true,
            vlans: Vec::new(),
            client_isn: 1000,
            server_isn: 5000,
            start: Timestamp::from_secs(1_700_000_000),
            step_nanos: 1_000_000,
            mss: 1460,
            window: 65535,
            ttl: 64,
            handshake: true,
            messages: Vec::new(),
            close: Close::Fin,
        }
    }

    /// Appends a message from the client.
    pub fn client_sends(mut self, data: impl AsRef<[u8]>) -> Self {
        self.messages.push(Message {
            from: Side::Client,
            data: data.as_ref().to_vec(),
        });
        self
    }

    /// Appends a message from the server.
    pub fn server_sends(mut self, data: impl AsRef<[u8]>) -> Self {
        self.messages.push(Message {
            from: Side::Server,
            data: data.as_ref().to_vec(),
        });
        self
    }

    /// Sets both initial sequence numbers.
    pub fn isn(mut self, client: u32, server: u32) -> Self {
        self.client_isn = client;
        self.server_isn = server;
        self
    }

    /// Sets the time of the first frame.
    pub fn start(mut self, start: Timestamp) -> Self {
        self.start = start;
        self
    }

    /// Sets the time between frames.
    pub fn step_nanos(mut self, step: u64) -> Self {
        self.step_nanos = step;
        self
    }

    /// Sets the maximum segment size.
    pub fn mss(mut self, mss: usize) -> Self {
        self.mss = mss;
        self
    }

    /// Sets the teardown.
    pub fn close(mut self, close: Close) -> Self {
        self.close = close;
        self
    }

    /// Skips (false) or sends (true) the three-way handshake.
    pub fn handshake(mut self, on: bool) -> Self {
        self.handshake = on;
        self
    }

    /// Builds the frames.
    pub fn build(&self) -> Result<Vec<Frame>, CraftError> {
        if self.mss == 0 {
            return Err(CraftError::InvalidMss(0));
        }
        // Checked here so that the error names both addresses.
        IpLayer::between(self.client.ip(), self.server.ip())?;
        let mut run = Run {
            conv: self,
            packets: Vec::new(),
            client_next: self.client_isn,
            server_next: self.server_isn,
            client_ip_id: 1,
            server_ip_id: 1,
        };
        let mss_opt = u16::try_from(self.mss).unwrap_or(u16::MAX);
        if self.handshake {
            run.send(Side::Client, SYN, b"", Some(mss_opt))?;
            run.send(Side::Server, SYN | ACK, b"", Some(mss_opt))?;
            run.send(Side::Client, ACK, b"", None)?;
        } else {
            run.client_next = run.client_next.wrapping_add(1);
            run.server_next = run.server_next.wrapping_add(1);
        }
        for msg in &self.messages {
            if msg.data.is_empty() {
                continue;
            }
            let segments = msg.data.chunks(self.mss).count();
            for (i, chunk) in msg.data.chunks(self.mss).enumerate() {
                let flags = if i + 1 == segments { PSH | ACK } else { ACK };
                run.send(msg.from, flags, chunk, None)?;
            }
            run.send(msg.from.peer(), ACK, b"", None)?;
        }
        match self.close {
            Close::Fin | Close::ServerFin => {
                let first = if self.close == Close::Fin {
                    Side::Client
                } else {
                    Side::Server
                };
                run.send(first, FIN | ACK, b"", None)?;
                run.send(first.peer(), FIN | ACK, b"", None)?;
                run.send(first, ACK, b"", None)?;
            }
            Close::Rst => run.send(Side::Client, RST | ACK, b"", None)?,
            Close::ServerRst => run.send(Side::Server, RST | ACK, b"", None)?,
            Close::None => {}
        }
        let mut ts = self.start;
        Ok(run
            .packets
            .into_iter()
            .map(|p| {
                let frame = (ts, p);
                ts = ts.add_nanos(self.step_nanos);
                frame
            })
            .collect())
    }
}

/// The state of a conversation being built.
struct Run<'a> {
    conv: &'a TcpConversation,
    packets: Vec<Vec<u8>>,
    client_next: u32,
    server_next: u32,
    client_ip_id: u16,
    server_ip_id: u16,
}

impl Run<'_> {
    /// Sends one segment from `from`, advancing its sequence number by the
    /// data length plus one for SYN and FIN. The ACK number is the peer's
    /// next sequence number.
    fn send(
        &mut self,
        from: Side,
        flags: u16,
        data: &[u8],
        mss: Option<u16>,
    ) -> Result<(), CraftError> {
        let c = self.conv;
        let (src, dst, src_mac, dst_mac, seq, ack, ip_id) = match from {
            Side::Client => (
                c.client,
                c.server,
                c.client_mac,
                c.server_mac,
                self.client_next,
                self.server_next,
                &mut self.client_ip_id,
            ),
            Side::Server => (
                c.server,
                c.client,
                c.server_mac,
                c.client_mac,
                self.server_next,
                self.client_next,
                &mut self.server_ip_id,
            ),
        };
        let mut b = if c.ethernet {
            PacketBuilder::ethernet(src_mac, dst_mac)
        } else {
            PacketBuilder::raw()
        };
        if let Some(e) = &mut b.ethernet {
            e.vlans = c.vlans.iter().map(|&id| VlanTag::new(id)).collect();
        }
        b = b.ip(src.ip(), dst.ip()).ttl(c.ttl);
        if let Some(IpLayer::V4(h)) = &mut b.ip {
            h.id = *ip_id;
            h.dont_fragment = true;
        }
        *ip_id = ip_id.wrapping_add(1);
        b = b
            .tcp(src.port(), dst.port())
            .seq(seq)
            .ack(if flags & ACK != 0 { ack } else { 0 })
            .flags(flags)
            .window(c.window)
            .payload(data);
        if let (Some(m), TransportLayer::Tcp(_)) = (mss, &b.transport) {
            b = b.mss_option(m);
        }
        self.packets.push(b.build()?);
        let consumed = data.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        match from {
            Side::Client => self.client_next = self.client_next.wrapping_add(consumed),
            Side::Server => self.server_next = self.server_next.wrapping_add(consumed),
        }
        Ok(())
    }
}
