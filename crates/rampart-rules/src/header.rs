//! Rule header enums: action, protocol, direction.

use std::fmt;

/// What happens when a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Raise an alert.
    Alert,
    /// IPS: drop the packet (and alert).
    Drop,
    /// Drop and send a RST / ICMP unreachable to the source.
    Reject,
    /// Same as `reject` (the source side gets the reset).
    RejectSrc,
    /// Reject towards the destination.
    RejectDst,
    /// Reject towards both sides.
    RejectBoth,
    /// Stop inspecting the packet (or flow): an allow rule.
    Pass,
}

impl Action {
    /// Parses an action word (case-insensitive).
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s.to_ascii_lowercase().as_str() {
            "alert" => Action::Alert,
            "drop" => Action::Drop,
            "reject" => Action::Reject,
            "rejectsrc" => Action::RejectSrc,
            "rejectdst" => Action::RejectDst,
            "rejectboth" => Action::RejectBoth,
            "pass" => Action::Pass,
            _ => return None,
        })
    }

    /// The keyword as Suricata writes it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Alert => "alert",
            Action::Drop => "drop",
            Action::Reject => "reject",
            Action::RejectSrc => "rejectsrc",
            Action::RejectDst => "rejectdst",
            Action::RejectBoth => "rejectboth",
            Action::Pass => "pass",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Direction between the source and destination of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `->`: only packets from source to destination.
    ToDst,
    /// `<>`: either way.
    Both,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ToDst => "->",
            Direction::Both => "<>",
        })
    }
}

macro_rules! protocols {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal $(| $alias:literal)* ),* $(,)?) => {
        /// The protocol field of a rule header.
        ///
        /// Packet-level protocols decide which packets a rule sees; an
        /// application-layer protocol implies TCP or UDP and the app-layer
        /// parser that must have recognised the flow. Names Rampart has no
        /// typed variant for are kept in [`Protocol::App`] so the engine can
        /// decide whether it knows them.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Protocol {
            $( $(#[$doc])* $variant, )*
            /// Another application-layer protocol name (lowercase).
            App(String),
        }

        impl Protocol {
            /// Parses a header protocol name (case-insensitive). Any other
            /// lowercase identifier becomes [`Protocol::App`].
            pub fn parse(s: &str) -> Option<Protocol> {
                let lower = s.to_ascii_lowercase();
                Some(match lower.as_str() {
                    $( $name $(| $alias)* => Protocol::$variant, )*
                    other => {
                        let ok = !other.is_empty()
                            && other.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                            && other.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
                        if !ok {
                            return None;
                        }
                        Protocol::App(lower)
                    }
                })
            }

            /// The canonical (Suricata) name.
            pub fn name(&self) -> &str {
                match self {
                    $( Protocol::$variant => $name, )*
                    Protocol::App(s) => s,
                }
            }
        }
    };
}

protocols! {
    /// Any IP packet.
    Ip => "ip" | "pkthdr-ip",
    /// IPv4 packets only.
    Ipv4 => "ipv4" | "ip4",
    /// IPv6 packets only.
    Ipv6 => "ipv6" | "ip6",
    /// TCP packets and reassembled stream.
    Tcp => "tcp",
    /// TCP packets only (no stream).
    TcpPkt => "tcp-pkt",
    /// Reassembled TCP stream only.
    TcpStream => "tcp-stream",
    /// UDP.
    Udp => "udp",
    /// ICMPv4 (Suricata's `icmp` also matches ICMPv6).
    Icmp => "icmp",
    /// ICMPv6 only.
    Icmpv6 => "icmpv6",
    /// SCTP.
    Sctp => "sctp",
    /// Any packet, even without a decodable IP header.
    Pkthdr => "pkthdr",
    /// HTTP, any version.
    Http => "http",
    /// HTTP/1.x only.
    Http1 => "http1",
    /// HTTP/2.
    Http2 => "http2",
    /// DNS over UDP or TCP.
    Dns => "dns",
    /// TLS (`ssl` is an alias).
    Tls => "tls" | "ssl",
    /// SMTP.
    Smtp => "smtp",
    /// FTP control channel.
    Ftp => "ftp",
    /// FTP data channel.
    FtpData => "ftp-data",
    /// SSH.
    Ssh => "ssh",
    /// SMB.
    Smb => "smb",
    /// DCERPC.
    Dcerpc => "dcerpc",
    /// DHCP.
    Dhcp => "dhcp",
    /// Kerberos 5.
    Krb5 => "krb5",
    /// NFS.
    Nfs => "nfs",
    /// NTP.
    Ntp => "ntp",
    /// SNMP.
    Snmp => "snmp",
    /// SIP.
    Sip => "sip",
    /// RDP.
    Rdp => "rdp",
    /// RFB / VNC.
    Rfb => "rfb",
    /// MQTT.
    Mqtt => "mqtt",
    /// QUIC.
    Quic => "quic",
    /// Modbus.
    Modbus => "modbus",
    /// DNP3.
    Dnp3 => "dnp3",
    /// EtherNet/IP (CIP).
    Enip => "enip",
    /// IKE / IKEv2.
    Ike => "ike" | "ikev2",
    /// TFTP.
    Tftp => "tftp",
    /// IMAP.
    Imap => "imap",
    /// POP3.
    Pop3 => "pop3",
    /// PostgreSQL.
    Pgsql => "pgsql",
    /// Telnet.
    Telnet => "telnet",
    /// BitTorrent DHT.
    BittorrentDht => "bittorrent-dht",
    /// IRC.
    Irc => "irc",
    /// WebSocket.
    Websocket => "websocket",
    /// LDAP.
    Ldap => "ldap",
}

impl Protocol {
    /// Whether this is a packet-level protocol rather than an
    /// application-layer one.
    pub fn is_packet_level(&self) -> bool {
        matches!(
            self,
            Protocol::Ip
                | Protocol::Ipv4
                | Protocol::Ipv6
                | Protocol::Tcp
                | Protocol::TcpPkt
                | Protocol::TcpStream
                | Protocol::Udp
                | Protocol::Icmp
                | Protocol::Icmpv6
                | Protocol::Sctp
                | Protocol::Pkthdr
        )
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
