//! `rampart craft`: write crafted packets to a pcap file.
//!
//! Two ways in: a TOML spec file (the format of
//! [`rampart_packet::craft::spec`], documented in `docs/craft.md`) for
//! anything elaborate, or a handful of flags for the everyday case of "one
//! packet" or "one HTTP-ish conversation" when checking a rule by hand. The
//! flags are turned into the same spec structure, so both paths share one
//! builder and one set of error messages.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rampart_packet::craft::spec::{ItemSpec, MessageSpec, Spec};
use rampart_packet::craft::CraftError;
use rampart_packet::pcap::PcapWriter;

/// Largest frame written whole: well above the 65 535-byte IP maximum plus
/// link headers, so crafted jumbo-sized packets are never truncated.
const SNAPLEN: u32 = 262_144;

/// Arguments of `rampart craft`.
#[derive(clap::Args, Debug, Clone, Default, PartialEq)]
#[command(after_help = "Examples:\n  \
    rampart craft examples/craft/http-get.toml -w http.pcap\n  \
    rampart craft --proto udp --dst 10.0.0.2:53 --payload-hex '12 34 01 00' -w q.pcap\n  \
    rampart craft --conversation --dst 10.0.0.2:80 --payload 'GET / HTTP/1.0\\r\\n\\r\\n' --mss 4 -w c.pcap\n\n\
    The spec format is described in docs/craft.md.")]
pub struct CraftArgs {
    /// TOML spec describing the packets (see docs/craft.md). Without it,
    /// one packet (or one conversation) is crafted from the flags below.
    #[arg(
        value_name = "SPEC",
        conflicts_with_all = [
            "proto", "src", "dst", "payload", "payload_hex", "conversation", "reply",
            "mss", "fragment", "count", "flags", "ttl", "vlan",
        ]
    )]
    pub spec: Option<PathBuf>,

    /// The pcap file to write (replaced if it exists).
    #[arg(short = 'w', long = "write", value_name = "OUT.pcap")]
    pub write: PathBuf,

    /// Transport protocol of the quick packet [default: tcp].
    #[arg(long, value_enum)]
    pub proto: Option<QuickProto>,

    /// Source address, optionally with a port: 10.0.0.1, 10.0.0.1:1234,
    /// [2001:db8::1]:1234 [default: 10.0.0.1 or 2001:db8::1, port 40000].
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub src: Option<String>,

    /// Destination address, optionally with a port [default: 10.0.0.2 or
    /// 2001:db8::2, port 80 for TCP and 53 for UDP].
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub dst: Option<String>,

    /// Payload as text; write control characters as \r, \n, \t, \\ or \xNN.
    #[arg(long, value_name = "TEXT", conflicts_with = "payload_hex")]
    pub payload: Option<String>,

    /// Payload as hex bytes ("de ad be ef", "de:ad:be:ef" or "0xdeadbeef").
    #[arg(long, value_name = "HEX")]
    pub payload_hex: Option<String>,

    /// Craft a whole TCP conversation (handshake, the payload sent by the
    /// client, an optional reply, FIN teardown) instead of one packet.
    #[arg(long, conflicts_with_all = ["fragment", "count", "flags"])]
    pub conversation: bool,

    /// With --conversation: the server's reply as text (escapes as in
    /// --payload).
    #[arg(long, value_name = "TEXT", requires = "conversation")]
    pub reply: Option<String>,

    /// With --conversation: the largest payload per TCP segment [default: 1460].
    #[arg(long, value_name = "N", requires = "conversation")]
    pub mss: Option<usize>,

    /// Fragment the packet into IP fragments carrying SIZE data bytes each
    /// (a multiple of 8).
    #[arg(long, value_name = "SIZE", conflicts_with = "count")]
    pub fragment: Option<usize>,

    /// Write N packets (IPv4 id, TCP sequence and ICMP echo sequence advance).
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,

    /// TCP flags of the quick packet: letters from FSRPAUECN ("S", "SA",
    /// "PA") or names ("SYN|ACK") [default: PA with a payload, else S].
    #[arg(long, value_name = "FLAGS")]
    pub flags: Option<String>,

    /// IPv4 TTL or IPv6 hop limit [default: 64].
    #[arg(long, value_name = "N")]
    pub ttl: Option<u8>,

    /// Put the frames in this 802.1Q VLAN.
    #[arg(long, value_name = "ID")]
    pub vlan: Option<u16>,

    /// Time of the first packet in seconds since 1970 (overrides the spec's
    /// `start`) [default: 1700000000].
    #[arg(long, value_name = "SECONDS")]
    pub start: Option<f64>,

    /// Microseconds between packets (overrides the spec's `step_us`)
    /// [default: 1000].
    #[arg(long, value_name = "MICROS")]
    pub step_us: Option<u64>,

    /// Write raw IP packets (LINKTYPE_RAW) instead of Ethernet frames
    /// (overrides the spec's `link`).
    #[arg(long)]
    pub raw: bool,
}

/// Transport protocols of the quick (flag-driven) mode.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuickProto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP echo request (ICMPv6 for IPv6 addresses).
    Icmp,
}

/// Runs `rampart craft`: builds the frames, writes the pcap and prints
/// "N packets written to FILE".
pub fn run(args: &CraftArgs) -> anyhow::Result<()> {
    let (mut spec, origin) = match &args.spec {
        Some(path) => (load_spec(path)?, Origin::File(path.clone())),
        None => (quick_spec(args)?, Origin::Flags),
    };
    if let Some(start) = args.start {
        spec.start = Some(start);
    }
    if let Some(step) = args.step_us {
        spec.step_us = Some(step);
    }
    if args.raw {
        spec.link = Some("raw".to_string());
    }
    if spec.items.is_empty() {
        bail!(
            "{}: nothing to craft: the spec has no [[item]] tables",
            origin
        );
    }
    let linktype = spec.link_type().map_err(|e| origin.error(e))?;
    let frames = spec.build().map_err(|e| origin.error(e))?;

    let file = File::create(&args.write)
        .with_context(|| format!("cannot create {}", args.write.display()))?;
    let write_err = || format!("cannot write {}", args.write.display());
    let mut writer =
        PcapWriter::new(BufWriter::new(file), linktype, SNAPLEN).with_context(write_err)?;
    for (ts, frame) in &frames {
        writer.write_packet(*ts, frame).with_context(write_err)?;
    }
    writer
        .into_inner()
        .and_then(|mut w| w.flush())
        .with_context(write_err)?;
    outln!(
        "{} packet{} written to {}",
        frames.len(),
        if frames.len() == 1 { "" } else { "s" },
        args.write.display()
    )?;
    Ok(())
}

/// Where the spec came from, to say so in errors.
enum Origin {
    File(PathBuf),
    Flags,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Flags => write!(f, "craft flags"),
        }
    }
}

impl Origin {
    /// A spec error as the user should see it: `FILE:LINE:COL: message`
    /// for TOML errors, `FILE: item N (line L), field ...` for the rest, and
    /// in flag mode the spec field translated back into its flag.
    fn error(&self, e: CraftError) -> anyhow::Error {
        match (self, e) {
            (
                Origin::File(p),
                CraftError::Toml {
                    line,
                    column,
                    message,
                },
            ) => anyhow::anyhow!("{}:{line}:{column}: {message}", p.display()),
            (Origin::File(p), e) => anyhow::anyhow!("{}: {e}", p.display()),
            (Origin::Flags, CraftError::SpecField { field, message, .. }) => {
                anyhow::anyhow!("{}: {message}", flag_for_field(&field))
            }
            (Origin::Flags, CraftError::SpecItem { source, .. }) => anyhow::anyhow!("{source}"),
            (Origin::Flags, e) => anyhow::anyhow!("{e}"),
        }
    }
}

/// The command-line flag a quick-mode spec field came from.
fn flag_for_field(field: &str) -> String {
    let flag = match field {
        "client" => "src",
        "server" => "dst",
        "fragment_size" => "fragment",
        "start" | "step_us" | "link" => return format!("--{}", field.replace('_', "-")),
        "messages[0].payload_hex" => "payload_hex",
        f if f.starts_with("messages[0]") => "payload",
        f if f.starts_with("messages[1]") => "reply",
        "vlan" => "vlan",
        "icmp_type" | "icmp_code" | "icmp_id" | "icmp_seq" => "proto",
        other => other,
    };
    format!("--{}", flag.replace('_', "-"))
}

/// Reads and parses a spec file, with the file name in every error.
fn load_spec(path: &Path) -> anyhow::Result<Spec> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read spec {}", path.display()))?;
    Spec::from_toml(&text).map_err(|e| Origin::File(path.to_path_buf()).error(e))
}

/// The spec equivalent of the quick-mode flags.
fn quick_spec(args: &CraftArgs) -> anyhow::Result<Spec> {
    let payload = match (&args.payload, &args.payload_hex) {
        (Some(text), _) => Some(unescape(text).context("--payload")?),
        (None, Some(hex)) => Some(hex.clone()),
        (None, None) => None,
    };
    let as_hex = args.payload.is_none() && args.payload_hex.is_some();
    let mut item = ItemSpec {
        vlan: args.vlan.map(|v| vec![v]),
        ttl: args.ttl,
        ..ItemSpec::default()
    };
    if args.conversation {
        if args.proto.is_some_and(|p| p != QuickProto::Tcp) {
            bail!("--conversation crafts TCP; drop --proto or use --proto tcp");
        }
        item.kind = Some("conversation".to_string());
        item.client = Some(endpoint(
            args.src.as_deref(),
            "--src",
            40000,
            args.dst.as_deref(),
        )?);
        item.server = Some(endpoint(
            args.dst.as_deref(),
            "--dst",
            80,
            args.src.as_deref(),
        )?);
        item.mss = args.mss;
        let mut messages = Vec::new();
        if let Some(p) = payload {
            messages.push(message("client", p, as_hex));
        }
        if let Some(r) = &args.reply {
            if messages.is_empty() {
                bail!("--reply needs --payload or --payload-hex: the server answers the client");
            }
            messages.push(message("server", unescape(r).context("--reply")?, false));
        }
        item.messages = Some(messages);
    } else {
        let proto = args.proto.unwrap_or(QuickProto::Tcp);
        item.proto = Some(
            match proto {
                QuickProto::Tcp => "tcp",
                QuickProto::Udp => "udp",
                QuickProto::Icmp => "icmp",
            }
            .to_string(),
        );
        item.src = args.src.clone();
        item.dst = args.dst.clone();
        if as_hex {
            item.payload_hex = payload;
        } else {
            item.payload = payload;
        }
        if let Some(f) = &args.flags {
            if proto != QuickProto::Tcp {
                bail!("--flags needs --proto tcp");
            }
            item.flags = Some(f.clone());
        }
        item.count = args.count;
        if let Some(size) = args.fragment {
            item.kind = Some("fragments".to_string());
            item.fragment_size = Some(size);
        }
    }
    Ok(Spec {
        items: vec![item],
        ..Spec::default()
    })
}

fn message(from: &str, data: String, hex: bool) -> MessageSpec {
    let mut m = MessageSpec {
        from: Some(from.to_string()),
        ..MessageSpec::default()
    };
    if hex {
        m.payload_hex = Some(data);
    } else {
        m.payload = Some(data);
    }
    m
}

/// A conversation endpoint from an `ADDR[:PORT]` flag, with the default
/// port and an address of the same family as the other endpoint.
fn endpoint(
    text: Option<&str>,
    flag: &str,
    default_port: u16,
    other: Option<&str>,
) -> anyhow::Result<String> {
    let parse = |t: &str| -> anyhow::Result<(IpAddr, Option<u16>)> {
        if let Ok(sa) = t.parse::<SocketAddr>() {
            return Ok((sa.ip(), Some(sa.port())));
        }
        t.parse::<IpAddr>().map(|ip| (ip, None)).map_err(|_| {
            anyhow::anyhow!("{flag}: {t:?} is not ADDR or ADDR:PORT (IPv6 with a port: [::1]:80)")
        })
    };
    let other_v6 = other
        .and_then(|o| parse(o).ok())
        .is_some_and(|(ip, _)| ip.is_ipv6());
    let (ip, port) = match text {
        Some(t) => parse(t)?,
        None => {
            let last = if flag == "--src" { 1 } else { 2 };
            let ip: IpAddr = if other_v6 {
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last).into()
            } else {
                Ipv4Addr::new(10, 0, 0, last as u8).into()
            };
            (ip, None)
        }
    };
    Ok(SocketAddr::new(ip, port.unwrap_or(default_port)).to_string())
}

/// Expands the backslash escapes a shell makes awkward to type: `\r`, `\n`,
/// `\t`, `\0`, `\\` and `\xNN` (a byte, written as its two hex digits).
/// The result stays a `String` for the spec, so `\xNN` above 0x7f is
/// refused: use --payload-hex for binary payloads.
fn unescape(text: &str) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = u8::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 2)
                    .with_context(|| format!("\\x{hex} is not \\x followed by two hex digits"))?;
                if byte > 0x7f {
                    bail!("\\x{hex} is not ASCII; use --payload-hex for binary payloads");
                }
                out.push(char::from(byte));
            }
            Some(other) => bail!("unknown escape \\{other} (use \\r \\n \\t \\0 \\\\ or \\xNN)"),
            None => bail!("a lone backslash ends the text (write \\\\ for a backslash)"),
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use clap::Parser;
    use rampart_packet::decode::Transport;
    use rampart_packet::pcap::CaptureReader;
    use rampart_packet::{decode, LinkType, Timestamp};

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: CraftArgs,
    }

    fn parse(argv: &[&str]) -> Result<CraftArgs, clap::Error> {
        let mut v = vec!["craft"];
        v.extend_from_slice(argv);
        Cli::try_parse_from(v).map(|c| c.args)
    }

    /// Parses `argv` plus `-w` with a temporary output file.
    fn parse_w(argv: &[&str], name: &str) -> CraftArgs {
        let out = temp(name);
        let mut v = argv.to_vec();
        let out_str = out.to_str().unwrap().to_string();
        v.push("-w");
        v.push(&out_str);
        parse(&v).unwrap()
    }

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("rampart-craft-{}-{name}", std::process::id()))
    }

    /// Runs the command and reads the pcap back: (linktype, frames).
    fn run_and_read(args: &CraftArgs) -> (LinkType, Vec<(Timestamp, Vec<u8>)>) {
        run(args).unwrap();
        let bytes = std::fs::read(&args.write).unwrap();
        std::fs::remove_file(&args.write).ok();
        let mut r = CaptureReader::new(std::io::Cursor::new(bytes)).unwrap();
        let mut frames = Vec::new();
        let mut lt = LinkType::Other(0);
        while let Some(p) = r.next_packet().unwrap() {
            lt = p.linktype;
            frames.push((p.ts, p.data.to_vec()));
        }
        (lt, frames)
    }

    #[test]
    fn flags_parse() {
        let a = parse(&["-w", "x.pcap", "--proto", "udp", "--dst", "10.0.0.2:53"]).unwrap();
        assert_eq!(a.proto, Some(QuickProto::Udp));
        assert_eq!(a.write, PathBuf::from("x.pcap"));
        assert!(parse(&["--proto", "udp"]).is_err(), "-w is required");
        assert!(parse(&["spec.toml", "-w", "x", "--proto", "tcp"]).is_err());
        assert!(parse(&["-w", "x", "--payload", "a", "--payload-hex", "61"]).is_err());
        assert!(
            parse(&["-w", "x", "--mss", "4"]).is_err(),
            "--mss needs --conversation"
        );
        assert!(parse(&["-w", "x", "--conversation", "--fragment", "8"]).is_err());
        assert!(parse(&["-w", "x", "--proto", "sctp"]).is_err());
        let a = parse(&["s.toml", "-w", "x", "--start", "5", "--raw"]).unwrap();
        assert_eq!(a.spec, Some(PathBuf::from("s.toml")));
        assert!(a.raw);
    }

    #[test]
    fn quick_udp_packet() {
        let a = parse_w(
            &[
                "--proto",
                "udp",
                "--src",
                "192.0.2.1:5353",
                "--dst",
                "192.0.2.2",
                "--payload-hex",
                "de ad be ef",
                "--count",
                "3",
                "--vlan",
                "7",
            ],
            "udp.pcap",
        );
        let (lt, frames) = run_and_read(&a);
        assert_eq!(lt, LinkType::Ethernet);
        assert_eq!(frames.len(), 3);
        let pkt = decode(LinkType::Ethernet, &frames[0].1);
        assert_eq!(pkt.vlans.ids(), &[7]);
        assert_eq!(pkt.ports(), Some((5353, 53)));
        assert_eq!(pkt.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(frames[0].0, Timestamp::from_secs(1_700_000_000));
    }

    #[test]
    fn quick_conversation_and_fragments() {
        let a = parse_w(
            &[
                "--conversation",
                "--dst",
                "[2001:db8::80]:8080",
                "--payload",
                "GET / HTTP/1.0\\r\\n\\r\\n",
                "--reply",
                "HTTP/1.0 200 OK\\r\\n\\r\\n",
                "--mss",
                "5",
                "--raw",
                "--step-us",
                "10",
            ],
            "conv.pcap",
        );
        let (lt, frames) = run_and_read(&a);
        assert_eq!(lt, LinkType::Raw);
        // 3 + (4 data + ack) + (4 data + ack) + 3
        assert_eq!(frames.len(), 16);
        assert_eq!(frames[1].0.nanos_since(frames[0].0), 10_000);
        let mut client = Vec::new();
        for (_, f) in &frames {
            let pkt = decode(LinkType::Raw, f);
            let ip = pkt.ip.as_ref().unwrap();
            if ip.src == "2001:db8::1".parse::<IpAddr>().unwrap() {
                if let Some(Transport::Tcp(t)) = &pkt.transport {
                    assert_eq!(t.src_port, 40000);
                    client.extend_from_slice(t.payload);
                }
            }
        }
        assert_eq!(client, b"GET / HTTP/1.0\r\n\r\n");

        let a = parse_w(
            &[
                "--proto",
                "icmp",
                "--payload",
                "0123456789abcdef01234",
                "--fragment",
                "8",
            ],
            "frag.pcap",
        );
        let (_, frames) = run_and_read(&a);
        assert_eq!(frames.len(), 4); // 8 + 21 = 29 bytes -> 8, 8, 8, 5
    }

    #[test]
    fn spec_file_and_its_errors() {
        let spec = temp("spec.toml");
        std::fs::write(&spec, "[[item]]\nproto = \"udp\"\npayload = \"x\"\n").unwrap();
        let a = CraftArgs {
            spec: Some(spec.clone()),
            write: temp("spec.pcap"),
            start: Some(10.0),
            ..CraftArgs::default()
        };
        let (_, frames) = run_and_read(&a);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].0, Timestamp::from_secs(10));

        std::fs::write(&spec, "[[item]]\nproto = \"udp\"\nbogus = 1\n").unwrap();
        let e = run(&a).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:3:1: ", spec.display())), "{e}");
        assert!(e.contains("bogus"), "{e}");

        std::fs::write(&spec, "\n[[item]]\nproto = \"udp\"\nseq = 1\n").unwrap();
        let e = run(&a).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}: item 1 (line 2), field `seq`: needs proto = \"tcp\"",
                spec.display()
            )
        );

        std::fs::write(&spec, "start = 1\n").unwrap();
        let e = run(&a).unwrap_err().to_string();
        assert!(e.contains("no [[item]]"), "{e}");
        std::fs::remove_file(&spec).ok();

        let missing = CraftArgs {
            spec: Some(temp("missing.toml")),
            write: temp("never.pcap"),
            ..CraftArgs::default()
        };
        let e = format!("{:#}", run(&missing).unwrap_err());
        assert!(
            e.contains("cannot read spec") && e.contains("missing.toml"),
            "{e}"
        );
    }

    #[test]
    fn quick_mode_errors_name_flags() {
        let err = |argv: &[&str]| format!("{:#}", run(&parse_w(argv, "err.pcap")).unwrap_err());
        assert_eq!(
            err(&["--payload-hex", "abc"]),
            "--payload-hex: invalid hex bytes \"abc\": odd number of hex digits"
        );
        assert!(err(&["--fragment", "12"]).starts_with("--fragment: "));
        assert!(err(&["--src", "10.0.0.1", "--dst", "::1"]).starts_with("--dst: "));
        assert!(err(&["--flags", "SQ"]).starts_with("--flags: "));
        assert!(err(&["--conversation", "--src", "nope"]).starts_with("--src: "));
        assert!(err(&["--proto", "udp", "--flags", "S"]).contains("--flags needs --proto tcp"));
        assert!(err(&["--payload", "a\\q"]).contains("unknown escape"));
        assert!(err(&["--conversation", "--reply", "x"]).contains("--reply needs --payload"));
        assert!(err(&["--conversation", "--mss", "0"]).starts_with("--mss: "));
        let a = parse(&["--proto", "udp", "-w", "/nonexistent-dir/x.pcap"]).unwrap();
        let e = format!("{:#}", run(&a).unwrap_err());
        assert!(e.contains("cannot create /nonexistent-dir/x.pcap"), "{e}");
    }

    #[test]
    fn unescape_rules() {
        assert_eq!(unescape("a\\r\\n\\t\\0\\\\\\x41").unwrap(), "a\r\n\t\0\\A");
        assert!(unescape("\\x4").is_err());
        assert!(unescape("\\xff").is_err());
        assert!(unescape("\\").is_err());
        assert_eq!(flag_for_field("messages[0].payload_hex"), "--payload-hex");
        assert_eq!(flag_for_field("messages[0].payload"), "--payload");
        assert_eq!(flag_for_field("client"), "--src");
        assert_eq!(flag_for_field("payload_hex"), "--payload-hex");
    }
}
