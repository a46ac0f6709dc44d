#!/usr/bin/env python3
"""Regenerates the committed seed corpus under fuzz/seeds/<target>/.

Frames come from samples/sample.pcap (classic little-endian pcap, Ethernet);
the structured targets (defrag, reassembly, pipeline) get hand-written
operation sequences in the input formats documented in fuzz/README.md and
at the top of each target. Deterministic: running it twice gives the same
files. Needs only the Python standard library.

    python3 fuzz/make_seeds.py
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "samples", "sample.pcap")
SEEDS = os.path.join(HERE, "seeds")


def read_pcap(path):
    """Returns (header bytes, [(ts_sec, ts_usec, frame)])."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    assert magic == 0xA1B2C3D4, "expected a little-endian microsecond pcap"
    pos = 24
    out = []
    while pos + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack_from("<IIII", data, pos)
        out.append((sec, usec, data[pos + 16 : pos + 16 + incl]))
        pos += 16 + incl
    return data[:24], out


def pcap_file(frames, linktype=1, big_endian=False, nanos=False):
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for sec, frac, fr in frames:
        out += struct.pack(e + "IIII", sec, frac * (1000 if nanos else 1), len(fr), len(fr))
        out += fr
    return out


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def pcapng_file(frames, linktype=1):
    def block(btype, body):
        body = pad4(body)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    # IDB with an if_tsresol option (10^-6) and end of options.
    opts = struct.pack("<HHB", 9, 1, 6) + b"\0" * 3 + struct.pack("<HH", 0, 0)
    idb = block(1, struct.pack("<HHI", linktype, 0, 65535) + opts)
    out = shb + idb
    for sec, usec, fr in frames:
        ts = sec * 1_000_000 + usec
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(fr), len(fr)) + pad4(fr)
        out += block(6, body)
    # A simple packet block too.
    fr = frames[0][2]
    out += block(3, struct.pack("<I", len(fr)) + pad4(fr))
    return out


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- decode
def seeds_decode(pk):
    eth = lambda i: pk[i - 1][2]  # 1-based like tshark
    write("decode", "eth_icmp", b"\x00" + eth(1))
    write("decode", "eth_dns", b"\x00" + eth(151))
    write("decode", "eth_ipv6_frag", b"\x00" + eth(157))
    write("decode", "eth_tcp_syn", b"\x00" + eth(166))
    write("decode", "eth_http_get", b"\x00" + eth(259))
    ip = eth(259)[14:]
    # Selector 1 = BSD loopback (AF_INET, host byte order), 2 = raw IP,
    # 7 = Linux SLL, 8 = Linux SLL2.
    write("decode", "null_tcp", b"\x01" + struct.pack("<I", 2) + ip)
    write("decode", "raw_tcp", b"\x02" + ip)
    sll = struct.pack(">HHH8sH", 0, 1, 6, b"\x00\x11\x22\x33\x44\x55\0\0", 0x0800)
    write("decode", "sll_tcp", b"\x07" + sll + ip)
    sll2 = struct.pack(">HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\x00\x11\x22\x33\x44\x55\0\0")
    write("decode", "sll2_tcp", b"\x08" + sll2 + ip)
    # Ethernet with an 802.1Q tag.
    f = eth(151)
    write("decode", "eth_vlan_dns", b"\x00" + f[:12] + b"\x81\x00\x00\x64" + f[12:])
    # IPv4 GRE (protocol 47) carrying the Ethernet-less IPv4 DNS packet.
    inner = f[14:]
    gre = b"\x00\x00\x08\x00" + inner
    outer = bytearray(b"\x45\x00" + struct.pack(">H", 20 + len(gre)) + b"\x00\x01\x00\x00\x40\x2f\x00\x00"
                      + bytes([192, 0, 2, 1, 192, 0, 2, 2]))
    write("decode", "raw_gre", b"\x02" + bytes(outer) + gre)


# ---------------------------------------------------------------- pcap_reader
def seeds_pcap(pk):
    icmp = pk[0:4]
    write("pcap_reader", "le_usec.pcap", pcap_file(icmp))
    write("pcap_reader", "be_nsec.pcap", pcap_file(pk[150:152], big_endian=True, nanos=True))
    write("pcap_reader", "ipv6_frag.pcapng", pcapng_file(pk[156:160]))
    t = pcap_file(pk[165:168])
    write("pcap_reader", "truncated.pcap", t[: len(t) - 7])
    write("pcap_reader", "raw_linktype.pcap", pcap_file([(1, 2, pk[258][2][14:])], linktype=101))


# ---------------------------------------------------------------- defrag
def frag(tag, offset8, length, fill, delta=1):
    """One fragment op (offset in 8-byte units)."""
    out = bytes([tag, offset8 & 0xFF])
    if tag & 0x10:
        out += bytes([offset8 >> 8])
    return out + struct.pack("<H", length) + bytes([fill, delta])


def seeds_defrag():
    MORE, ROLL, BIG = 0x08, 0x20, 0x10
    # config: policy, memcap idx, trackers|frags<<3, datagram|timeout<<2
    roomy = bytes([2, 7, 7 | (7 << 3), 0])
    # IPv4, in order, rolling data, option header on the first fragment.
    write("defrag", "v4_in_order", roomy
          + frag(0 | MORE | ROLL | 0x40, 0, 24, 1)
          + frag(0 | MORE | ROLL, 3, 24, 1)
          + frag(0 | ROLL, 6, 10, 1))
    # IPv6 (key 3) out of order with an overlap, ext header variant.
    write("defrag", "v6_out_of_order", bytes([4, 7, 0x3F, 0])
          + frag(3 | ROLL, 4, 16, 9)
          + frag(3 | MORE | ROLL | 0x40, 0, 24, 9)
          + frag(3 | MORE, 2, 24, 0x55))
    # Overlaps with different data under the First policy, two ids, and a
    # fragment far out (13-bit offset) that is too large.
    write("defrag", "overlap_first", bytes([0, 5, 0x3F, 0])
          + frag(1 | MORE, 0, 64, 0xAA)
          + frag(1 | MORE, 2, 64, 0xBB)
          + frag(0 | MORE | BIG, 0x1FFE, 1000, 3)
          + frag(1, 8, 8, 0xCC)
          + frag(1 | MORE, 1, 8, 0xDD))
    # Tight memcap and trackers, timeouts and expiry (timeout 1000 ns).
    write("defrag", "memcap_timeout", bytes([2, 3, 1, 1 << 2])
          + frag(0 | MORE, 0, 8, 1, 0)
          + frag(3 | MORE, 0, 16, 2, 0)
          + frag(5 | MORE, 1, 8, 3, 0)
          + bytes([0x0F, 40])
          + frag(6 | MORE, 0, 8, 4, 0xF2)
          + frag(0, 1, 8, 1, 0))
    # Atomic fragment, bad length, empty, too-short header, 1000 B datagram.
    write("defrag", "odd_lengths", bytes([5, 6, 0x3F, 0x02])
          + frag(0, 0, 100, 7)
          + frag(0 | MORE, 0, 13, 7)
          + frag(4 | MORE, 0, 0, 7)
          + frag(0 | MORE | 0x80, 0, 16, 7)
          + frag(0 | 0xC0, 5, 2000, 7))


# ---------------------------------------------------------------- reassembly
def seg(tag, rel, length, fill):
    if tag & 0x40:
        r = struct.pack("<I", rel & 0xFFFFFFFF)
    else:
        r = struct.pack("<h", rel)
    return bytes([tag]) + r + struct.pack("<H", length) + bytes([fill])


def ack(dirn, rel):
    return bytes([dirn | (2 << 1)]) + struct.pack("<h", rel)


def flush(dirn):
    return bytes([dirn | (3 << 1)])


def seeds_reassembly():
    SYN, FIN, ROLL = 0x08, 0x10, 0x20
    # config: policy|midstream, caps, retain|window|budget; two ISNs.
    defaults = bytes([2, 0, 0])
    isns = struct.pack("<II", 0xFFFFFF00, 0x7FFFFFF0)
    # Handshake across the wraparound, in-order and out-of-order data,
    # a retransmission, an overlap with different data, then FINs.
    write("reassembly", "wrap_handshake", defaults + isns
          + seg(0 | SYN, 0, 0, 0)
          + seg(1 | SYN, 0, 0, 0)
          + seg(0 | ROLL, 1, 300, 1)
          + seg(0 | ROLL, 601, 200, 1)
          + seg(0 | ROLL, 301, 300, 1)
          + seg(0 | ROLL, 301, 300, 1)
          + seg(1 | ROLL, 1, 100, 5)
          + seg(1, 51, 100, 6)
          + seg(0 | FIN, 801, 0, 0)
          + seg(1 | FIN | ROLL, 151, 10, 5))
    # Midstream pick-up, a hole skipped by an ACK, and a flush.
    write("reassembly", "midstream_gap_ack", bytes([4, 0, 0]) + struct.pack("<II", 1000, 5)
          + seg(0 | ROLL, 0, 100, 2)
          + seg(0 | ROLL, 200, 100, 2)
          + ack(0, 250)
          + seg(0 | ROLL, 400, 50, 2)
          + flush(0)
          + seg(1 | ROLL, 10, 20, 3)
          + seg(1 | ROLL, -5, 10, 3))
    # Tight budget and caps: drops, gap skipping, 32-bit sequence jump.
    caps = 2 | (2 << 2) | (2 << 4) | (2 << 6)
    write("reassembly", "tight_budget", bytes([0, caps, 1 | (2 << 2) | (2 << 4)])
          + struct.pack("<II", 0xFFFFFFF0, 0)
          + seg(0 | SYN, 0, 0, 0)
          + seg(0 | ROLL, 41, 80, 9)
          + seg(0 | ROLL, 201, 60, 9)
          + seg(0 | ROLL, 301, 60, 9)
          + seg(0 | ROLL | 0x40, 0x40000000, 10, 9)
          + seg(0 | ROLL, 1, 50, 8)
          + seg(1, 0, 30, 1))


# ---------------------------------------------------------------- pipeline
def delta_byte(dt_us):
    """Inverse of the pipeline target's time step (delta^3 * 100 us)."""
    if dt_us <= 0:
        return 0
    return min(0xF7, max(1, round((dt_us / 100) ** (1 / 3))))


def pipeline_input(config, frames):
    out = bytes([config])
    prev = None
    for sec, usec, fr in frames:
        t = sec * 1_000_000 + usec
        d = 1 if prev is None else delta_byte(t - prev)
        prev = t
        out += bytes([d]) + struct.pack("<H", len(fr)) + fr
    return out


def ip_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    """An Ethernet/IPv4/TCP frame with valid checksums."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", ip_checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + tcp


def tcp_conversation(messages, sport=41025, dport=25):
    """Frames of a TCP connection: handshake, each (from client?, data)
    message acknowledged by the peer, FIN teardown; 1 ms apart."""
    c, s = bytes([192, 168, 1, 10]), bytes([203, 0, 113, 5])
    cseq, sseq = 1000, 5000
    frames = []
    def add(fr):
        frames.append((1_700_000_000, len(frames) * 1000, fr))
    add(tcp_frame(c, s, sport, dport, cseq, 0, 0x02))
    add(tcp_frame(s, c, dport, sport, sseq, cseq + 1, 0x12))
    cseq += 1
    sseq += 1
    add(tcp_frame(c, s, sport, dport, cseq, sseq, 0x10))
    for from_client, data in messages:
        for i in range(0, len(data), 512):
            part = data[i:i + 512]
            if from_client:
                add(tcp_frame(c, s, sport, dport, cseq, sseq, 0x18, part))
                cseq += len(part)
                add(tcp_frame(s, c, dport, sport, sseq, cseq, 0x10))
            else:
                add(tcp_frame(s, c, dport, sport, sseq, cseq, 0x18, part))
                sseq += len(part)
                add(tcp_frame(c, s, sport, dport, cseq, sseq, 0x10))
    add(tcp_frame(c, s, sport, dport, cseq, sseq, 0x11))
    add(tcp_frame(s, c, dport, sport, sseq, cseq + 1, 0x11))
    add(tcp_frame(c, s, sport, dport, cseq + 1, sseq + 1, 0x10))
    return frames


def seeds_pipeline(pk):
    write("pipeline", "icmp_dns", pipeline_input(0, pk[0:4] + pk[150:152]))
    write("pipeline", "ipv6_frags", pipeline_input(0, pk[152:165]))
    write("pipeline", "ssh_start_tight", pipeline_input(1, pk[165:180]))
    http = [p for p in pk[255:268] if len(p[2]) < 400]
    write("pipeline", "http", pipeline_input(0, http))
    # HTTP/2 with prior knowledge, and after an h2c upgrade; detection on.
    settings = h2_frame(4, 0, 0, b"")
    request = h2_frame(1, 5, 1, bytes([0x82, 0x84, 0x86, 0x41, 1]) + b"h")
    response = h2_frame(1, 4, 1, bytes([0x8d])) + h2_frame(0, 1, 1, b"hi")
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    write("pipeline", "http2", pipeline_input(4, tcp_conversation(
        [(False, settings), (True, preface + settings + request), (False, response)], dport=80)))
    upgrade = (b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n")
    switch = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n" + settings
    write("pipeline", "h2c_upgrade", pipeline_input(4, tcp_conversation(
        [(True, upgrade), (False, switch), (True, preface + settings + h2_frame(1, 5, 3, bytes([0x82, 0x84]))),
         (False, response)], dport=80)))


# ---------------------------------------------------------------- http
def http_feed(dirn, data):
    """Feed ops of the http target: [dir][len u8][data], 255 bytes at most."""
    out = b""
    while data:
        c, data = data[:255], data[255:]
        out += bytes([dirn, len(c)]) + c
    return out


def http_finish(dirn):
    return bytes([2 | dirn])


def seeds_http():
    import gzip

    req = (b"GET /a/../b%2e%2E/?q=%41 HTTP/1.1\r\nHost: Example.COM:80\r\n"
           b"User-Agent: curl/8.5\r\nCookie: a=b\r\n\r\n"
           b"POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"4;x\r\nbody\r\n0\r\n\r\n")
    body = gzip.compress(b"<html>hello</html>" * 5, mtime=0)
    resp = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
            % len(body) + body +
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
    write("http", "pipelined_gzip", b"\x00" + http_feed(0, req) + http_feed(1, resp)
          + http_finish(0) + http_finish(1))
    mal = (b"\x00junk\r\nGET /a b HTTP/1.0\nHost: h\nNoColon\nX: 1\n 2\n"
           b"Content-Length: zz\n\n")
    mresp = (b"HTTP/1.0 200\nContent-Length: 3\n\nabcHTTP/1.1 200 OK\r\n"
             b"Transfer-Encoding: chunked\r\n\r\nxyz\r\n")
    write("http", "malformed_tiny", b"\x01" + http_feed(0, mal[:20]) + http_feed(1, mresp[:10])
          + http_feed(0, mal[20:]) + http_feed(1, mresp[10:]) + http_finish(1))
    bomb = gzip.compress(b"\0" * 200000, mtime=0)
    bresp = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + bomb
    write("http", "gzip_until_close", b"\x01"
          + http_feed(0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
          + http_feed(1, bresp) + http_finish(1) + http_finish(0))


# ---------------------------------------------------------------- nfqueue_msg
def nl_attr(ty, payload):
    b = struct.pack("<HH", 4 + len(payload), ty) + payload
    return b + b"\0" * ((-len(b)) % 4)


def nl_msg(ty, flags, seq, body):
    return struct.pack("<IHHII", 16 + len(body), ty, flags, seq, 0) + body


def seeds_nfqueue():
    # A packet message as nfnetlink_queue sends it (host byte order is
    # little-endian here): nfgenmsg (AF_INET, v0, queue 7 be16), packet
    # header (id, EtherType, hook), mark, timestamp, payload, cap_len,
    # skb_info; then a second packet and an error answer (EBUSY, capped).
    ip = (bytes.fromhex("4500001c00004000401100007f0000017f000001")
          + struct.pack(">HHHH", 40000, 9999, 8, 0))
    body = (struct.pack(">BBH", 2, 0, 7)
            + nl_attr(1, struct.pack(">IHB", 42, 0x0800, 3))
            + nl_attr(3, struct.pack(">I", 9))
            + nl_attr(4, struct.pack(">QQ", 1700000000, 250000))
            + nl_attr(10, ip)
            + nl_attr(13, struct.pack(">I", 1500))
            + nl_attr(14, struct.pack(">I", 2)))
    one = nl_msg(0x0300, 0, 0, body)
    write("nfqueue_msg", "packet", one)
    second = nl_msg(0x0300, 0, 0, struct.pack(">BBH", 2, 0, 7)
                    + nl_attr(1, struct.pack(">IHB", 43, 0x86dd, 1)) + nl_attr(10, b""))
    err = nl_msg(2, 0x100, 0, struct.pack("<i", -16)
                 + struct.pack("<IHHII", 20, 0x0302, 5, 1, 0))
    write("nfqueue_msg", "two-packets-and-error", one + second + err)


# ---------------------------------------------------------------- ssh
def tcp_payload(frame):
    """(src port, dst port, payload) of an Ethernet/IPv4/TCP frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    tcp = 14 + (frame[14] & 0x0F) * 4
    total = struct.unpack_from(">H", frame, 16)[0]
    off = (frame[tcp + 12] >> 4) * 4
    sport, dport = struct.unpack_from(">HH", frame, tcp)
    return sport, dport, frame[tcp + off : 14 + total]


def ssh_packet(payload, padding=4):
    """An SSH binary packet (RFC 4253 section 6) around payload."""
    return struct.pack(">IB", 1 + len(payload) + padding, padding) + payload + b"\0" * padding


def ssh_kexinit():
    lists = [b"curve25519-sha256,diffie-hellman-group14-sha256", b"ssh-ed25519",
             b"aes128-ctr", b"aes256-gcm@openssh.com", b"hmac-sha2-256",
             b"umac-64-etm@openssh.com", b"none,zlib@openssh.com", b"none", b"", b""]
    body = b"\x14" + b"\x42" * 16
    for l in lists:
        body += struct.pack(">I", len(l)) + l
    return ssh_packet(body + b"\0\0\0\0\0")


def seeds_ssh(pk):
    # The SSH connection of the sample capture (banners, KEXINITs, key
    # exchange, NEWKEYS, then encrypted data), as the ssh target's feed ops
    # (the same format as the http target's).
    out = b"\x00"
    for _sec, _usec, frame in pk:
        tp = tcp_payload(frame)
        if tp is None or not tp[2] or 22 not in tp[:2]:
            continue
        out += http_feed(1 if tp[0] == 22 else 0, tp[2])
    write("ssh", "sample_connection", out)
    client = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu\r\n" + ssh_kexinit() + ssh_packet(b"\x15")
    server = b"SSH-1.99-Cisco-1.25\n" + ssh_kexinit() + ssh_packet(b"\x15") + b"\xde\xad" * 20
    write("ssh", "hand_built", b"\x00" + http_feed(1, server[:30]) + http_feed(0, client[:7])
          + http_feed(0, client[7:]) + http_feed(1, server[30:]))
    long_banner = b"SSH-2.0-" + b"A" * 300 + b"\r\n" + ssh_packet(b"\x15")
    write("ssh", "long_banner_hassh_off", b"\x01" + http_feed(0, long_banner))


# ---------------------------------------------------------------- dcerpc
def dce_pdu(ptype, flags, call_id, body, le=True, auth_len=0):
    """A connection-oriented DCERPC PDU around body."""
    e = "<" if le else ">"
    drep = b"\x10\0\0\0" if le else b"\0\0\0\0"
    return (bytes([5, 0, ptype, flags]) + drep
            + struct.pack(e + "HHI", 16 + len(body), auth_len, call_id) + body)


def dce_uuid(text, le=True):
    """A UUID's wire bytes (first three fields in the PDU's byte order)."""
    b = bytes.fromhex(text.replace("-", ""))
    if le:
        b = b[3::-1] + b[5:3:-1] + b[7:5:-1] + b[8:]
    return b


def dce_bind(call_id, items, le=True, ptype=11):
    e = "<" if le else ">"
    body = struct.pack(e + "HHIB3x", 5840, 5840, 0, len(items))
    for ctx, uuid in items:
        body += struct.pack(e + "HBx", ctx, 1) + dce_uuid(uuid, le) + struct.pack(e + "HH", 1, 0)
        body += dce_uuid("8a885d04-1ceb-11c9-9fe8-08002b104860", le) + struct.pack(e + "I", 2)
    return dce_pdu(ptype, 3, call_id, body, le)


def dce_bind_ack(call_id, results, le=True, ptype=12):
    e = "<" if le else ">"
    body = struct.pack(e + "HHIH", 5840, 5840, 0x1234, 6) + b"49302\0"
    body += struct.pack(e + "B3x", len(results))
    for r in results:
        body += struct.pack(e + "HH", r, 0) + b"\x04" * 16 + struct.pack(e + "I", 2)
    return dce_pdu(ptype, 3, call_id, body, le)


def dce_request(call_id, ctx, opnum, stub, flags=3, le=True, obj=False, auth=b""):
    e = "<" if le else ">"
    body = struct.pack(e + "IHH", len(stub), ctx, opnum)
    if obj:
        flags |= 0x80
        body += b"\xaa" * 16
    body += stub
    if auth:
        body += b"\x0a\x02\0\0\0\0\0\0" + auth
    return dce_pdu(0, flags, call_id, body, le, len(auth))


def dce_response(call_id, stub, flags=3, le=True):
    e = "<" if le else ">"
    return dce_pdu(2, flags, call_id, struct.pack(e + "IHBx", len(stub), 1, 0) + stub, le)


def seeds_dcerpc():
    mgmt = "afa8bd80-7d8a-11c9-bef4-08002b102989"
    other = "12345678-1234-abcd-ef00-01234567cffb"
    for le, name in ((True, "call_little_endian"), (False, "call_big_endian")):
        client = dce_bind(27, [(0, other), (1, mgmt)], le)
        if le:
            client += dce_request(28, 1, 4, b"\x09\0\0\0" * 8, flags=1, le=le)
            client += dce_request(28, 1, 4, b"middle", flags=0, le=le)
            client += dce_request(28, 1, 4, b"\x01\0\0\0", flags=2, le=le)
        else:
            client += dce_request(28, 1, 4, b"\x09\0\0\0" * 8, le=le, obj=True,
                                  auth=b"\x55" * 16)
        server = dce_bind_ack(27, [2, 0], le) + dce_response(28, b"node3$@W2K12DOM.REDHAT", le=le)
        write("dcerpc", name, b"\x05" + http_feed(0, client[:20]) + http_feed(0, client[20:90])
              + http_feed(1, server[:7]) + http_feed(0, client[90:]) + http_feed(1, server[7:]))
    # DCERPC over an SMB2 named pipe: a bind and a call written to the
    # pipe, the answers read from it (NetBIOS session messages).
    def smb2(command, response, msg_id, body):
        h = b"\xfeSMB" + struct.pack("<HHIHHIIQ", 64, 0, 0, command, 1, int(response), 0, msg_id)
        h = h.ljust(64, b"\0") + body
        return b"\0" + struct.pack(">I", len(h))[1:] + h
    fid = b"\x11" * 16
    def pipe_write(data):
        return smb2(9, False, 5, struct.pack("<HHIQ", 49, 112, len(data), 0) + fid
                    + b"\0" * 16 + data)
    def read_req(msg_id):
        return smb2(8, False, msg_id, (struct.pack("<HBBIQ", 49, 0, 0, 65536, 0) + fid).ljust(49, b"\0"))
    def read_resp(msg_id, data):
        return smb2(8, True, msg_id, struct.pack("<HBBII", 17, 80, 0, len(data), 0).ljust(16, b"\0")
                    + data)
    client = pipe_write(dce_bind(2, [(0, mgmt)])) + read_req(6)
    client += pipe_write(dce_request(3, 0, 15, b"\0" * 24)) + read_req(8)
    server = read_resp(6, dce_bind_ack(2, [0])) + read_resp(8, dce_response(3, b"\1" * 20))
    write("dcerpc", "smb2_pipe", b"\x05" + http_feed(0, client[:100]) + http_feed(1, server[:30])
          + http_feed(0, client[100:]) + http_feed(1, server[30:]))
    alter = dce_bind(3, [(2, "00020400-0000-0000-c000-000000000046")], ptype=14)
    alter_resp = dce_bind_ack(3, [0], ptype=15)
    fault = dce_pdu(3, 3, 4, struct.pack("<IHBxI", 0, 2, 0, 0x1c010003))
    client = alter + dce_request(4, 2, 6, b"invoke")
    write("dcerpc", "alter_context_fault", b"\x41" + http_feed(0, client)
          + http_feed(1, alter_resp + fault))


# ---------------------------------------------------------------- smtp
def seeds_smtp():
    # Feed ops as the http target's; a tag with bit 1 set ends the
    # connection after its data.
    client = (b"EHLO client.example\r\nMAIL FROM:<a@example.com> SIZE=100\r\n"
              b"RCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n")
    message = (b"From: \"A\" <a@example.com>\r\nTo: <b@example.com>, <c@example.com>\r\n"
               b"Subject: seed\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"outer\"\r\n\r\n"
               b"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
               b"--inner\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
               b"soft=\r\nbreak =3D ok\r\n..dot\r\n--inner--\r\n--outer\r\n"
               b"Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
               b"Content-Disposition: attachment; filename=\"a.bin\"\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--outer--\r\n.\r\nQUIT\r\n")
    server = b"220 mx ESMTP\r\n250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"
    write("smtp", "mail_nested_multipart", b"\x00" + http_feed(1, server[:14]) + http_feed(0, client[:20])
          + http_feed(0, client[20:]) + http_feed(1, server[14:]) + http_feed(0, message[:100])
          + http_feed(0, message[100:]) + http_feed(1, b"250 queued\r\n221 bye\r\n")
          + bytes([2, 0]))
    write("smtp", "starttls", b"\x00" + http_feed(0, b"EHLO x\r\nSTARTTLS\r\n")
          + http_feed(1, b"250 hi\r\n220 go\r\n") + http_feed(0, b"\x16\x03\x01\x00\x05hello"))
    write("smtp", "bdat", b"\x01" + http_feed(0, b"EHLO x\r\nMAIL FROM:<a>\r\nBDAT 7\r\nab\r\ncdeBDAT 0 LAST\r\nQUIT\r\n"))
    b = b"b" * 300
    write("smtp", "long_boundary", b"\x00" + http_feed(0, b"HELO x\r\nDATA\r\n") + http_feed(1, b"250 a\r\n354 b\r\n")
          + http_feed(0, b"Content-Type: multipart/mixed; boundary=\"" + b + b"\"\r\n\r\n--" + b + b"\r\n\r\n.\r\n"))
    long_line = b"Content-Type: text/plain; name=big\r\n\r\n" + b"x" * 9000 + b"\r\n.\r\n"
    write("smtp", "long_line", b"\x01" + http_feed(0, b"HELO x\r\nDATA\r\n") + http_feed(1, b"250 a\r\n354 b\r\n")
          + http_feed(0, long_line))
    # The whole pipeline with detection (config bit 2): a mail with an
    # attachment, then STARTTLS and a TLS ClientHello.
    hello = bytes.fromhex("160301002d010000290303") + b"\x11" * 32 + bytes.fromhex("000002c02f0100")
    conv = [(False, b"220 mx ESMTP\r\n"), (True, b"EHLO a.example\r\n"), (False, b"250 ok\r\n"),
            (True, b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"),
            (False, b"250 ok\r\n250 ok\r\n354 go\r\n"),
            (True, b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                   b"Content-Disposition: attachment; filename=a.txt\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\neHl6\r\n--b--\r\n.\r\n"),
            (False, b"250 queued\r\n"), (True, b"STARTTLS\r\n"), (False, b"220 go\r\n"), (True, hello)]
    write("pipeline", "smtp_detect", pipeline_input(4, tcp_conversation(conv)))


# ---------------------------------------------------------------- smb
def smb1(cmd, reply, tid, mid, words, data):
    """An SMB1 message (Unicode, user id 100) in its NetBIOS header."""
    m = b"\xffSMB" + bytes([cmd]) + b"\0" * 4 + bytes([0x80 if reply else 0])
    m += struct.pack("<H", 0xC001) + b"\0" * 12 + struct.pack("<HHHH", tid, 7, 100, mid)
    m += bytes([len(words) // 2]) + words + struct.pack("<H", len(data)) + data
    return struct.pack(">I", len(m)) + m


def utf16z(s):
    return s.encode("utf-16-le") + b"\0\0"


SMB_NO_ANDX = b"\xff\0\0\0"


def smb1_upload(name, content, pad):
    """Client and server messages of a tree connect, create, write, close."""
    tc = smb1(0x75, False, 0, 1, SMB_NO_ANDX + b"\0\0\1\0",
              b"\0" + utf16z("\\\\10.0.0.5\\C$") + b"?????\0")
    tc_resp = smb1(0x75, True, 5, 1, SMB_NO_ANDX + b"\1\0", b"A:\0")
    n = utf16z(name)
    create = smb1(0xA2, False, 5, 2, (SMB_NO_ANDX + b"\0" + struct.pack("<H", len(n))).ljust(48, b"\0"),
                  b"\0" + n)
    create_resp = smb1(0xA2, True, 5, 2, (SMB_NO_ANDX + b"\0" + struct.pack("<H", 0x4006)).ljust(68, b"\0"), b"")
    w = SMB_NO_ANDX + struct.pack("<HI", 0x4006, 0) + b"\0" * 10
    w += struct.pack("<HH", len(content), 32 + 1 + 24 + 2 + pad)
    write = smb1(0x2F, False, 5, 3, w, b"\xee" * pad + content)
    close = smb1(0x04, False, 5, 4, struct.pack("<HI", 0x4006, 0), b"")
    return [(0, tc), (1, tc_resp), (0, create), (1, create_resp), (0, write), (0, close)]


def seeds_smb():
    eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    msgs = smb1_upload("\\eicar", eicar, 2)
    write("smb", "smb1_upload", b"".join(http_feed(d, m) for d, m in msgs))
    # The same, each message split in two, then the connection ends.
    out = b""
    for d, m in msgs:
        out += http_feed(d, m[:9]) + http_feed(d, m[9:])
    write("smb", "smb1_upload_split", out + b"\x02")
    # An overlapping rewrite of offset 0 and a read of the file.
    over = smb1_upload("\\x", b"Z", 0)
    rewrite = smb1(0x2F, False, 5, 5, SMB_NO_ANDX + struct.pack("<HI", 0x4006, 0) + b"\0" * 10
                   + struct.pack("<HH", len(eicar), 32 + 1 + 24 + 2), eicar)
    read = smb1(0x2E, False, 5, 6, (SMB_NO_ANDX + struct.pack("<HI", 0x4006, 0)).ljust(20, b"\0"), b"")
    read_resp = smb1(0x2E, True, 5, 6, (SMB_NO_ANDX + b"\0" * 6 + struct.pack("<HH", 4, 60)).ljust(24, b"\0"),
                     b"\0data")
    ops = over[:5] + [(0, rewrite), (0, read), (1, read_resp)] + over[5:]
    write("smb", "smb1_overlap_read", b"".join(http_feed(d, m) for d, m in ops))


# ---------------------------------------------------------------- krb5, snmp
def der(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([tag, n])
    elif n < 0x100:
        head = bytes([tag, 0x81, n])
    else:
        head = bytes([tag, 0x82, n >> 8, n & 0xFF])
    return head + content


def der_int(v):
    return der(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def krb_principal(name_type, parts):
    return der(0x30, der(0xA0, der_int(name_type))
               + der(0xA1, der(0x30, b"".join(der(0x1B, p) for p in parts))))


def krb_enc(etype):
    return der(0x30, der(0xA0, der_int(etype)) + der(0xA2, der(0x04, b"\xde\xad\xbe\xef")))


KRB_TIME = der(0x18, b"20370913024805Z")


def krb_as_req():
    body = der(0x30, der(0xA0, der(0x03, b"\0\x40\x81\0\x10"))
               + der(0xA1, krb_principal(1, [b"robin"]))
               + der(0xA2, der(0x1B, b"CYLERA.LAB"))
               + der(0xA3, krb_principal(2, [b"krbtgt", b"CYLERA.LAB"]))
               + der(0xA5, KRB_TIME) + der(0xA7, der_int(12345))
               + der(0xA8, der(0x30, der_int(18) + der_int(23))))
    return der(0x6A, der(0x30, der(0xA1, der_int(5)) + der(0xA2, der_int(10)) + der(0xA4, body)))


def krb_tgs_rep(ticket_etype, enc_etype):
    ticket = der(0x61, der(0x30, der(0xA0, der_int(5)) + der(0xA1, der(0x1B, b"CYLERA.LAB"))
                           + der(0xA2, krb_principal(2, [b"http", b"web01"]))
                           + der(0xA3, krb_enc(ticket_etype))))
    return der(0x6D, der(0x30, der(0xA0, der_int(5)) + der(0xA1, der_int(13))
                         + der(0xA3, der(0x1B, b"CYLERA.LAB"))
                         + der(0xA4, krb_principal(1, [b"robin"]))
                         + der(0xA5, ticket) + der(0xA6, krb_enc(enc_etype))))


def krb_error(code):
    return der(0x7E, der(0x30, der(0xA0, der_int(5)) + der(0xA1, der_int(30))
                         + der(0xA4, KRB_TIME) + der(0xA5, der_int(0)) + der(0xA6, der_int(code))
                         + der(0xA9, der(0x1B, b"CYLERA.LAB"))
                         + der(0xAA, krb_principal(2, [b"krbtgt", b"CYLERA.LAB"]))))


def krb_op(tag, data):
    return bytes([tag]) + struct.pack("<H", len(data)) + data


def krb_record(msg):
    return struct.pack(">I", len(msg)) + msg


def seeds_krb5():
    req, err, rep = krb_as_req(), krb_error(25), krb_tgs_rep(23, 18)
    # UDP: a request, the error, a Kerberoastable reply.
    write("krb5", "udp_exchange", krb_op(0, req) + krb_op(1, err) + krb_op(1, rep))
    # TCP: two records in one write, the replies split across the mark.
    stream = krb_record(req) + krb_record(req)
    replies = krb_record(err) + krb_record(rep)
    write("krb5", "tcp_records", krb_op(2, stream) + krb_op(3, replies[:3]) + krb_op(3, replies[3:]))
    # A truncated message, an empty record and an oversized record mark.
    write("krb5", "malformed", krb_op(0, req) + krb_op(0, req[:20])
          + krb_op(2, krb_record(b"") + struct.pack(">I", 1 << 20) + req))


def snmp_v2c(pdu_tag, community, oids):
    varbinds = b"".join(der(0x30, der(0x06, o) + b"\x05\x00") for o in oids)
    pdu = der(pdu_tag, der_int(0x2B133F85) + der_int(0) + der_int(0) + der(0x30, varbinds))
    return der(0x30, der_int(1) + der(0x04, community) + pdu)


def snmp_v1_trap():
    var = der(0x30, der(0x06, bytes([0x2B, 6, 1, 2, 1, 2, 2, 1, 1, 21])) + der_int(21))
    pdu = der(0xA4, der(0x06, bytes([0x2B, 6, 1, 4, 1, 4, 1, 2, 21])) + der(0x40, bytes([127, 0, 0, 1]))
              + der_int(2) + der_int(0) + der(0x43, b"\x10") + der(0x30, var))
    return der(0x30, der_int(0) + der(0x04, b"public") + pdu)


def snmp_v3(encrypted):
    header = der(0x30, der_int(1) + der_int(65507) + der(0x04, b"\x07" if encrypted else b"\x04") + der_int(3))
    usm = der(0x30, der(0x04, b"\x80\0\x1f\x88") + der_int(1) + der_int(2) + der(0x04, b"admin")
              + der(0x04, b"") + der(0x04, b""))
    if encrypted:
        data = der(0x04, b"\x11" * 24)
    else:
        data = der(0x30, der(0x04, b"") + der(0x04, b"")
                   + der(0xA0, der_int(1) + der_int(0) + der_int(0) + der(0x30, b"")))
    return der(0x30, der_int(3) + header + der(0x04, usm) + data)


def seeds_snmp():
    get = snmp_v2c(0xA1, b"[R0_C@cti!]", [b"\x01"])
    resp = snmp_v2c(0xA2, b"[R0_C@cti!]", [bytes([0x2B, 6, 1, 2, 1, 1, 3, 0])])
    write("snmp", "v2c_get_response", krb_op(0, get) + krb_op(1, resp))
    write("snmp", "v1_trap_version_mismatch", krb_op(0, snmp_v1_trap()) + krb_op(0, get) + krb_op(0, b"\x30\x00"))
    write("snmp", "v3_plain_encrypted", krb_op(0, snmp_v3(False)) + krb_op(1, snmp_v3(True)))


# ---------------------------------------------------------------- sip, rfb
def seeds_sip():
    body = b"v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\n"
    invite = (b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n"
              b"f: <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    ok = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n  ;rport\r\nl: 0\r\n\r\n"
    # flags 1: datagrams; 0: a TCP stream with two messages each way.
    write("sip", "udp_invite_ok", b"\x01" + http_feed(0, invite) + http_feed(1, ok))
    write("sip", "tcp_invite_ok", b"\x00" + http_feed(0, invite + b"\r\n" + invite)
          + http_feed(1, ok + ok))


def seeds_rfb():
    server_init = (struct.pack(">HH", 800, 600) + bytes([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0])
                   + struct.pack(">I", 4) + b"desk")
    ops = [(1, b"RFB 003.008\n"), (0, b"RFB 003.008\n"), (1, b"\x01\x02"), (0, b"\x02"),
           (1, b"\x11" * 16), (0, b"\x22" * 16), (1, b"\x00\x00\x00\x00"), (0, b"\x00"),
           (1, server_init), (1, b"\x00\x00\x00\x01")]
    write("rfb", "vnc_38", b"\x00" + b"".join(http_feed(d, m) for d, m in ops))
    ops = [(1, b"RFB 003.003\n"), (0, b"RFB 003.003\n"), (1, b"\x00\x00\x00\x00"),
           (1, struct.pack(">I", 9) + b"go away!!")]
    write("rfb", "refused_33", b"\x00" + b"".join(http_feed(d, m) for d, m in ops))


def tls_ext(t, data):
    return struct.pack(">HH", t, len(data)) + data


def tls_handshake(t, body):
    return bytes([t]) + struct.pack(">I", len(body))[1:] + body


def quic_client_hello(sni):
    """A TLS 1.3 ClientHello (RFC 8446 section 4.1.2) with GREASE, SNI,
    ALPN h3, groups, signature algorithms and supported_versions."""
    name = struct.pack(">HBH", len(sni) + 3, 0, len(sni)) + sni
    exts = (tls_ext(0x1A1A, b"") + tls_ext(0, name) + tls_ext(16, b"\x00\x03\x02h3")
            + tls_ext(10, b"\x00\x04\x00\x1d\x00\x17") + tls_ext(13, b"\x00\x04\x04\x03\x08\x04")
            + tls_ext(43, b"\x02\x03\x04"))
    body = (b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x00\x06\x2a\x2a\x13\x01\x13\x02" + b"\x01\x00"
            + struct.pack(">H", len(exts)) + exts)
    return tls_handshake(1, body)


def quic_server_hello():
    exts = tls_ext(43, b"\x03\x04") + tls_ext(51, b"\x00\x1d\x00\x02\x09\x09")
    body = b"\x03\x03" + b"\x22" * 32 + b"\x00" + b"\x13\x02\x00" + struct.pack(">H", len(exts)) + exts
    return tls_handshake(2, body)


def quic_crypto(offset, data):
    """A CRYPTO frame (RFC 9000 section 19.6) with 2-byte varints."""
    return b"\x06" + struct.pack(">HH", 0x4000 | offset, 0x4000 | len(data)) + data


def seeds_quic():
    # Ops: [tag][len u16 LE][bytes]; tag & 2: frames the target seals into
    # an Initial packet (packet number tag >> 2), tag & 1: to the client.
    ch = quic_client_hello(b"quic.example")
    split = krb_op(2, quic_crypto(40, ch[40:])) + krb_op(2 | 4, quic_crypto(0, ch[:40]))
    write("quic", "hellos", krb_op(2, quic_crypto(0, ch)) + krb_op(3, quic_crypto(0, quic_server_hello())))
    write("quic", "split_hello", split + krb_op(3, b"\x02\x00\x00\x00\x00" + quic_crypto(0, quic_server_hello())))
    # Google QUIC Q043: public header with version and CID, packet number,
    # message hash, then a STREAM frame holding a CHLO (SNI, UAID).
    tags = [(b"PAD\x00", b"\x00\x00"), (b"SNI\x00", b"www.test.com"), (b"UAID", b"curl")]
    chlo = b"CHLO" + struct.pack("<HH", len(tags), 0)
    end = 0
    for t, v in tags:
        end += len(v)
        chlo += t + struct.pack("<I", end)
    chlo += b"".join(v for _, v in tags)
    gquic = (b"\x09" + b"\x07" * 8 + b"Q043" + b"\x01" + b"\x00" * 12
             + b"\xa0\x01" + struct.pack(">H", len(chlo)) + chlo)
    write("quic", "gquic_chlo", krb_op(0, gquic))
    # Raw datagrams: a truncated Initial, a short header, a Retry.
    retry = b"\xf0\x00\x00\x00\x01\x04\x01\x02\x03\x04\x02\x09\x09" + b"\x77" * 24
    write("quic", "raw_packets", krb_op(0, b"\xc0\x00\x00\x00\x01\x08" + b"\x01" * 8 + b"\x00\x00\x44\x9e\x00")
          + krb_op(0, b"\x40\x01\x02\x03") + krb_op(1, retry) + krb_op(2, quic_crypto(0, ch)))


def h2_frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def seeds_http2():
    # flags 1: the client preface goes before the client's first op. The
    # request's header block is HPACK: :method GET, :path /, :scheme http,
    # then :authority "h" with incremental indexing; the response :status
    # 404 and a DATA frame ending the stream.
    settings = h2_frame(4, 0, 0, struct.pack(">HI", 3, 100))
    request = h2_frame(1, 5, 1, bytes([0x82, 0x84, 0x86, 0x41, 1]) + b"h")
    response = h2_frame(1, 4, 1, bytes([0x8d])) + h2_frame(0, 1, 1, b"hi")
    ops = [(1, settings), (0, settings + request), (1, response),
           (1, h2_frame(3, 0, 1, struct.pack(">I", 8))), (1, h2_frame(7, 0, 0, struct.pack(">II", 1, 2)))]
    write("http2", "get_404", b"\x01" + b"".join(http_feed(d, m) for d, m in ops))
    # HEADERS split by CONTINUATION, padded.
    ops = [(0, h2_frame(1, 0x09, 3, bytes([1, 0x82, 0]))), (0, h2_frame(9, 4, 3, bytes([0x84])))]
    write("http2", "continuation", b"\x01" + b"".join(http_feed(d, m) for d, m in ops))
# ---------------------------------------------------------------- nfs
# UDP payloads of suricata-verify's issue-3277-nfsv2-filestore pcap: an
# NFSv2 WRITE and its reply, a READ of file "b" and its reply (frames 89,
# 90, 101, 102).
NFS2_WRITE_CALL = "5e1d0bbc0000000000000002000186a300000002000000080000000100000034384775d000000009776572726d736368650000000000000000000001000000050000000100000000000000020000000300000011000000000000000000101085000003e7000a00000000a6510000001c000a00000000b25a000000290000000000000000000000060000000668616c6c6f0a0000"
NFS2_WRITE_REPLY = "5e1d0bbc00000001000000000000000000000000000000000000000000000001000081a400000001000000000000000100000006000040000000000000000002001010850000a651384775ea000afc80384775ea000b2390384775ea000b2390"
NFS2_READ_CALL = "5e1d0bc20000000000000002000186a300000002000000060000000100000034384775d000000009776572726d736368650000000000000000000001000000050000000100000000000000020000000300000011000000000000000000101085000003e7000a00000000b25d0000002a000a00000000b25a00000029000000000000200000002000"
NFS2_READ_REPLY = "5e1d0bc200000001000000000000000000000000000000000000000000000001000081a40000000200000000000000010000000b000040000000000000000002001010850000b25d384775ea000b71b0384771c40008b290384775ea000900b00000000b74686520622066696c650a00"


def xdr_opaque(v):
    return struct.pack(">I", len(v)) + v + b"\0" * (-len(v) % 4)


def nfs3_call(xid, proc, args):
    return struct.pack(">10I", xid, 0, 2, 100003, 3, proc, 0, 0, 0, 0) + args


def nfs3_reply(xid, status, results):
    return struct.pack(">7I", xid, 1, 0, 0, 0, 0, status) + results


def rpc_record(msg, last=True):
    return struct.pack(">I", (0x80000000 if last else 0) | len(msg)) + msg


def seeds_nfs():
    h = bytes.fromhex
    write("nfs", "v2_udp", krb_op(0, h(NFS2_WRITE_CALL)) + krb_op(1, h(NFS2_WRITE_REPLY))
          + krb_op(0, h(NFS2_READ_CALL)) + krb_op(1, h(NFS2_READ_REPLY)))
    fh = b"file-handle-0002"
    lookup = nfs3_call(1, 3, xdr_opaque(b"dir-handle") + xdr_opaque(b"secret.txt"))
    lookup_reply = nfs3_reply(1, 0, xdr_opaque(fh) + b"\0" * 8)
    w1 = nfs3_call(2, 7, xdr_opaque(fh) + struct.pack(">QII", 0, 5, 0) + xdr_opaque(b"hello"))
    w2 = nfs3_call(3, 7, xdr_opaque(fh) + struct.pack(">QII", 5, 4, 0) + xdr_opaque(b" tcp"))
    commit = nfs3_call(4, 21, xdr_opaque(fh) + struct.pack(">QI", 0, 0))
    read = nfs3_call(5, 6, xdr_opaque(fh) + struct.pack(">QI", 0, 4096))
    read_reply = nfs3_reply(5, 0, struct.pack(">I", 1) + b"\0" * 84 + struct.pack(">II", 3, 1)
                            + xdr_opaque(b"MZ!"))
    # TCP: the lookup, its reply, the writes (one in two fragments), a
    # COMMIT, a READ and its reply; then the flow ends.
    stream = rpc_record(w1) + rpc_record(w2[:20], last=False) + rpc_record(w2[20:]) + rpc_record(commit)
    write("nfs", "v3_tcp", krb_op(2, rpc_record(lookup)) + krb_op(3, rpc_record(lookup_reply))
          + krb_op(2, stream) + krb_op(2, rpc_record(read)) + krb_op(3, rpc_record(read_reply))
          + bytes([4]))
    # UDP: the same v3 exchange as datagrams, an unfinished write, a
    # truncated call and an oversized TCP record mark.
    write("nfs", "v3_udp_malformed", krb_op(0, lookup) + krb_op(1, lookup_reply) + krb_op(0, w1)
          + krb_op(0, w2[:30]) + krb_op(2, struct.pack(">I", 0x80000000 | (1 << 22)) + w1)
          + bytes([4]))


def main():
    _, pk = read_pcap(SAMPLE)
    assert len(pk) == 268, len(pk)
    # Generated seeds are overwritten by name, never deleted: some targets
    # also hold seeds committed by hand (pipeline/http_detect,
    # pipeline/ssh_detect_midstream; all of afpacket_block, logwatch, ...).
    # A seed this script no longer writes must be removed by hand.
    seeds_decode(pk)
    seeds_pcap(pk)
    seeds_defrag()
    seeds_reassembly()
    seeds_pipeline(pk)
    seeds_smb()
    seeds_http()
    seeds_nfqueue()
    seeds_ssh(pk)
    seeds_dcerpc()
    seeds_smtp()
    seeds_krb5()
    seeds_snmp()
    seeds_sip()
    seeds_rfb()
    seeds_quic()
    seeds_http2()
    seeds_nfs()


if __name__ == "__main__":
    main()
