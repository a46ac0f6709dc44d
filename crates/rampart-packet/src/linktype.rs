//! Link-layer types (the DLT/LINKTYPE numbers of pcap and pcapng).

/// The link-layer framing of a captured packet, which says where the network
/// header starts. Only the types Rampart decodes have names; every other value
/// is kept as [`LinkType::Other`] so that it can be counted and reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// BSD loopback (DLT_NULL): a 4-byte address family in host byte order.
    Null,
    /// Ethernet II, with optional 802.1Q/802.1ad tags.
    Ethernet,
    /// Raw IP, version taken from the first nibble (LINKTYPE_RAW and DLT_RAW).
    Raw,
    /// Raw IPv4 only.
    Ipv4,
    /// Raw IPv6 only.
    Ipv6,
    /// Linux cooked capture v1 (SLL), as `tcpdump -i any` writes.
    LinuxSll,
    /// Linux cooked capture v2 (SLL2).
    LinuxSll2,
    /// OpenBSD loopback: like [`LinkType::Null`] but in network byte order.
    Loop,
    /// Cisco HDLC: address, control, then a 2-byte EtherType.
    CiscoHdlc,
    /// Any other link type, by number.
    Other(u32),
}

impl LinkType {
    /// Maps a LINKTYPE_* number from a capture file header.
    pub fn from_u32(v: u32) -> Self {
        match v {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // DLT_RAW has platform-dependent values 12 and 14; LINKTYPE_RAW is 101.
            12 | 14 | 101 => LinkType::Raw,
            104 => LinkType::CiscoHdlc,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            other => LinkType::Other(other),
        }
    }

    /// The LINKTYPE_* number written into capture files.
    pub fn to_u32(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::CiscoHdlc => 104,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
            LinkType::Other(v) => v,
        }
    }
}
