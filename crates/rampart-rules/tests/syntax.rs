//! Tricky rule syntax, one behaviour per test. Expected values are derived
//! by hand from the Suricata 7 rule documentation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use rampart_rules::*;

fn rule(text: &str) -> Rule {
    parse_rule(text, &Variables::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> RuleError {
    match parse_rule(text, &Variables::default()) {
        Ok(_) => panic!("expected an error for {text}"),
        Err(e) => e,
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn contents(r: &Rule) -> Vec<&Content> {
    r.contents().collect()
}

fn first_content(r: &Rule) -> &Content {
    r.contents().next().expect("a content")
}

#[test]
fn header_fields() {
    let r = rule(
        "drop tcp $HOME_NET [1024:,!8080] <> ![10.0.0.0/8,!10.1.0.0/16] $HTTP_PORTS (msg:\"m\"; sid:7; rev:3;)",
    );
    assert_eq!(r.action, Action::Drop);
    assert_eq!(r.protocol, Protocol::Tcp);
    assert_eq!(r.direction, Direction::Both);
    assert_eq!((r.sid, r.gid, r.rev), (7, 1, 3));
    assert!(r.src.contains(ip("192.168.1.1")) && !r.src.contains(ip("8.8.8.8")));
    assert!(r.src_ports.contains(1024) && r.src_ports.contains(65535));
    assert!(!r.src_ports.contains(8080) && !r.src_ports.contains(80));
    // ![10/8, !10.1/16] = everything except (10/8 minus 10.1/16).
    assert!(r.dst.contains(ip("10.1.2.3")));
    assert!(!r.dst.contains(ip("10.2.0.1")));
    assert!(r.dst.contains(ip("11.0.0.1")));
    assert_eq!(r.dst_ports.set.ranges(), &[(80, 80)]);
    assert_eq!(r.src.expr.to_string(), "$HOME_NET");
    assert_eq!(r.dst.expr.to_string(), "![10.0.0.0/8,!10.1.0.0/16]");
}

#[test]
fn protocols() {
    for (p, want) in [
        ("ip", Protocol::Ip),
        ("tcp-pkt", Protocol::TcpPkt),
        ("tcp-stream", Protocol::TcpStream),
        ("http", Protocol::Http),
        ("http1", Protocol::Http1),
        ("tls", Protocol::Tls),
        ("ssl", Protocol::Tls),
        ("ftp-data", Protocol::FtpData),
        ("dnp3", Protocol::Dnp3),
        ("pkthdr", Protocol::Pkthdr),
        ("icmpv6", Protocol::Icmpv6),
        ("doh2", Protocol::App("doh2".into())),
    ] {
        let r = rule(&format!("alert {p} any any -> any any (sid:1;)"));
        assert_eq!(r.protocol, want, "{p}");
    }
    let e = err("alert tcp/ip any any -> any any (sid:1;)");
    assert_eq!(e.kind, ErrorKind::InvalidHeader);
}

#[test]
fn ipv6_and_ranges() {
    let r =
        rule("alert ip [2001:db8::/32,!2001:db8::1,192.0.2.10-192.0.2.20] any -> any any (sid:1;)");
    assert!(r.src.contains(ip("2001:db8::2")));
    assert!(!r.src.contains(ip("2001:db8::1")));
    assert!(r.src.contains(ip("192.0.2.15")) && !r.src.contains(ip("192.0.2.21")));
    assert!(!r.src.contains(ip("10.0.0.1")));
}

#[test]
fn variables_with_groups_and_overrides() {
    let mut vars = Variables::default();
    vars.set_address("HOME_NET", "[10.0.0.0/8, 2001:db8::/32]")
        .unwrap();
    vars.set_address("DMZ", "[$HOME_NET, !10.9.0.0/16]")
        .unwrap();
    vars.set_port("WEB", "[80,443,8000:8100]").unwrap();
    let r = parse_rule("alert tcp $DMZ any -> $EXTERNAL_NET $WEB (sid:1;)", &vars).unwrap();
    assert!(r.src.contains(ip("10.1.1.1")) && !r.src.contains(ip("10.9.1.1")));
    assert!(r.src.contains(ip("2001:db8::5")));
    assert!(r.dst.contains(ip("8.8.8.8")) && !r.dst.contains(ip("10.1.1.1")));
    assert!(r.dst.contains(ip("2001:db9::1")) && !r.dst.contains(ip("2001:db8::1")));
    assert!(r.dst_ports.contains(8050) && !r.dst_ports.contains(8101));
}

#[test]
fn undefined_variable_is_reported_at_the_variable() {
    let src = "alert tcp any any -> $SIP_SERVERS any (msg:\"x\"; sid:11;)\n";
    let set = parse_rules(src, "v.rules", &Variables::default());
    assert_eq!(set.rules.len(), 0);
    let e = &set.errors[0];
    assert_eq!(e.kind, ErrorKind::UndefinedVariable);
    assert_eq!((e.line, e.column), (1, 22));
    assert_eq!(e.sid, Some(11));
    assert_eq!(e.span.text(src), Some("$SIP_SERVERS"));
    assert_eq!(e.file, "v.rules");
}

#[test]
fn content_escapes_and_hex() {
    let r = rule(
        r#"alert tcp any any -> any any (content:"a\"b\;c\:d\\e"; content:"|0d 0a|Host|3a 20|x|00|"; sid:1;)"#,
    );
    let c = contents(&r);
    assert_eq!(c[0].pattern, b"a\"b;c:d\\e");
    assert_eq!(c[1].pattern, b"\r\nHost: x\0");
    assert!(!c[0].negated);
}

#[test]
fn negated_content_and_modifiers() {
    let r = rule(
        r#"alert tcp any any -> any any (content:"abc"; offset:2; depth:10; nocase; content:!"xyz"; distance:-3; within:20; rawbytes; sid:1;)"#,
    );
    let c = contents(&r);
    assert_eq!(c[0].offset, Some(NumOrVar::Num(2)));
    assert_eq!(c[0].depth, Some(NumOrVar::Num(10)));
    assert!(c[0].nocase && !c[0].is_relative());
    assert!(c[1].negated && c[1].rawbytes);
    assert_eq!(c[1].distance, Some(NumOrVar::Num(-3)));
    assert_eq!(c[1].within, Some(NumOrVar::Num(20)));
}

#[test]
fn content_errors_name_keyword_and_problem() {
    let e = err(r#"alert tcp any any -> any any (content:"abcd"; depth:2; sid:5;)"#);
    assert_eq!(e.kind, ErrorKind::InvalidValue);
    assert_eq!(e.keyword.as_deref(), Some("depth"));
    assert_eq!(e.sid, Some(5));
    assert!(e.message.contains("smaller than the content length"), "{e}");
    let e = err(r#"alert tcp any any -> any any (content:"a\nb"; sid:5;)"#);
    assert_eq!(e.keyword.as_deref(), Some("content"));
    let e = err(r#"alert tcp any any -> any any (content:"|4g|"; sid:5;)"#);
    assert_eq!((e.line, e.column), (1, 42));
    let e = err(r#"alert tcp any any -> any any (nocase; sid:5;)"#);
    assert_eq!(e.kind, ErrorKind::Conflict);
    let e = err(
        r#"alert tcp any any -> any any (content:"a"; content:"b"; offset:1; distance:2; sid:5;)"#,
    );
    assert_eq!(e.kind, ErrorKind::Conflict);
}

#[test]
fn sticky_buffer_and_snort_modifier_normalise_alike() {
    let sticky = rule(r#"alert http any any -> any any (http.uri; content:"/a"; sid:1;)"#);
    let snort = rule(r#"alert tcp any any -> any any (content:"/a"; http_uri; sid:1;)"#);
    assert_eq!(
        first_content(&sticky).buffer,
        BufferRef::plain(Buffer::HttpUri)
    );
    assert_eq!(first_content(&snort).buffer, first_content(&sticky).buffer);
    for (modifier, sticky_kw, want) in [
        (
            "http_client_body",
            "http.request_body",
            Buffer::HttpRequestBody,
        ),
        ("http_raw_uri", "http.uri.raw", Buffer::HttpUriRaw),
        ("http_header", "http.header", Buffer::HttpHeader),
        ("http_raw_header", "http.header.raw", Buffer::HttpHeaderRaw),
        ("http_cookie", "http.cookie", Buffer::HttpCookie),
        ("http_method", "http.method", Buffer::HttpMethod),
        ("http_stat_code", "http.stat_code", Buffer::HttpStatCode),
        ("http_user_agent", "http.user_agent", Buffer::HttpUserAgent),
        ("http_host", "http.host", Buffer::HttpHost),
        ("http_raw_host", "http.host.raw", Buffer::HttpHostRaw),
    ] {
        let a = rule(&format!(
            "alert tcp any any -> any any (content:\"x\"; {modifier}; sid:1;)"
        ));
        let b = rule(&format!(
            "alert tcp any any -> any any ({sticky_kw}; content:\"x\"; sid:1;)"
        ));
        assert_eq!(first_content(&a).buffer.buffer, want, "{modifier}");
        assert_eq!(first_content(&b).buffer.buffer, want, "{sticky_kw}");
    }
    // Legacy sticky names.
    for (kw, want) in [
        ("file_data", Buffer::FileData),
        ("dns_query", Buffer::DnsQuery),
        ("tls_sni", Buffer::TlsSni),
        ("ja3_hash", Buffer::Ja3Hash),
        ("http_content_type", Buffer::HttpContentType),
        ("dce_stub_data", Buffer::DcerpcStubData),
    ] {
        let r = rule(&format!(
            "alert tcp any any -> any any ({kw}; content:\"x\"; sid:1;)"
        ));
        assert_eq!(first_content(&r).buffer.buffer, want, "{kw}");
    }
}

#[test]
fn sticky_buffer_stays_until_reset() {
    let r = rule(
        r#"alert http any any -> any any (http.method; content:"POST"; http.uri; content:"/x"; content:"y"; distance:0; pkt_data; content:"z"; sid:1;)"#,
    );
    let c = contents(&r);
    assert_eq!(c[0].buffer.buffer, Buffer::HttpMethod);
    assert_eq!(c[1].buffer.buffer, Buffer::HttpUri);
    assert_eq!(c[2].buffer.buffer, Buffer::HttpUri);
    assert_eq!(c[3].buffer, BufferRef::PAYLOAD);
    let uri = BufferRef::plain(Buffer::HttpUri);
    assert_eq!(r.matches_in(&uri).count(), 2);
    assert_eq!(r.buffers().len(), 3);
}

#[test]
fn snort_modifier_with_sticky_set_is_refused() {
    let e = err(
        r#"alert tcp any any -> any any (file_data; content:"a"; content:"b"; http_header; sid:1;)"#,
    );
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.keyword.as_deref(), Some("http_header"));
}

#[test]
fn transforms_attach_to_the_buffer() {
    let r = rule(
        r#"alert dns any any -> any any (dns.query; dotprefix; content:".evil.com"; endswith; sid:1;)"#,
    );
    let c = first_content(&r);
    assert_eq!(c.buffer.buffer, Buffer::DnsQuery);
    assert_eq!(c.buffer.transforms, vec![Transform::DotPrefix]);
    assert!(c.endswith);
    // A transform after a match applies from there on (Suricata 7).
    let r = rule(
        r#"alert dns any any -> any any (dns.query; content:"rs-"; startswith; dotprefix; content:".rustdesk.com"; endswith; sid:1;)"#,
    );
    let c = contents(&r);
    assert!(c[0].buffer.transforms.is_empty());
    assert_eq!(c[1].buffer.transforms, vec![Transform::DotPrefix]);
    let r = rule(
        r#"alert http any any -> any any (http.uri; to_lowercase; url_decode; xor:"0d0a"; content:"x"; sid:1;)"#,
    );
    assert_eq!(
        first_content(&r).buffer.transforms,
        vec![
            Transform::ToLowercase,
            Transform::UrlDecode,
            Transform::Xor(vec![0x0d, 0x0a])
        ]
    );
    let e = err(r#"alert http any any -> any any (to_lowercase; content:"x"; sid:1;)"#);
    assert_eq!(e.kind, ErrorKind::Conflict);
}

#[test]
fn fast_pattern_forms() {
    let r = rule(r#"alert tcp any any -> any any (content:"abcdef"; fast_pattern; sid:1;)"#);
    assert_eq!(first_content(&r).fast_pattern, Some(FastPattern::default()));
    let r = rule(r#"alert tcp any any -> any any (content:"abcdef"; fast_pattern:only; sid:1;)"#);
    assert_eq!(
        first_content(&r).fast_pattern,
        Some(FastPattern {
            only: true,
            chop: None
        })
    );
    let r = rule(r#"alert tcp any any -> any any (content:"abcdef"; fast_pattern:2,3; sid:1;)"#);
    assert_eq!(
        first_content(&r).fast_pattern,
        Some(FastPattern {
            only: false,
            chop: Some((2, 3))
        })
    );
    assert!(parse_rule(
        r#"alert tcp any any -> any any (content:"abcdef"; fast_pattern:4,3; sid:1;)"#,
        &Variables::default()
    )
    .is_err());
    assert!(parse_rule(r#"alert tcp any any -> any any (content:"a"; fast_pattern; content:"b"; fast_pattern; sid:1;)"#, &Variables::default()).is_err());
    // fast_pattern:only next to a relative content (Snort rules do this).
    let e = err(
        r#"alert tcp any any -> any any (content:"a"; fast_pattern:only; content:"b"; http_uri; content:"c"; distance:0; http_uri; sid:1;)"#,
    );
    assert_eq!(e.kind, ErrorKind::Conflict);
}

#[test]
fn pcre_flags_and_buffers() {
    let r = rule(r#"alert http any any -> any any (pcre:"/^\/a\x3b[^\/]+$/Ui"; sid:1;)"#);
    let MatchKind::Pcre(p) = &r.matches[0].kind else {
        panic!()
    };
    assert_eq!(p.pattern, r"^\/a\x3b[^\/]+$");
    assert_eq!(p.buffer.buffer, Buffer::HttpUri);
    assert!(p.flags.caseless && !p.flags.relative && !p.negated);
    let r = rule(r#"alert tcp any any -> any any (content:"x"; pcre:!"/a.b/smxRAEGOB"; sid:1;)"#);
    let MatchKind::Pcre(p) = &r.matches[1].kind else {
        panic!()
    };
    assert!(p.negated);
    let f = p.flags;
    assert!(f.dotall && f.multiline && f.extended && f.relative && f.anchored);
    assert!(f.dollar_endonly && f.ungreedy && f.no_match_limit && f.rawbytes);
    for (flag, want) in [
        ('P', Buffer::HttpRequestBody),
        ('Q', Buffer::FileData),
        ('H', Buffer::HttpHeader),
        ('D', Buffer::HttpHeaderRaw),
        ('M', Buffer::HttpMethod),
        ('C', Buffer::HttpCookie),
        ('S', Buffer::HttpStatCode),
        ('Y', Buffer::HttpStatMsg),
        ('V', Buffer::HttpUserAgent),
        ('W', Buffer::HttpHost),
        ('Z', Buffer::HttpHostRaw),
        ('I', Buffer::HttpUriRaw),
    ] {
        let r = rule(&format!(
            "alert http any any -> any any (pcre:\"/x/{flag}\"; sid:1;)"
        ));
        assert_eq!(
            r.matches[0].buffer().map(|b| b.buffer),
            Some(want),
            "{flag}"
        );
    }
    let e = err(r#"alert tcp any any -> any any (pcre:"/a/F"; sid:1;)"#);
    assert!(e.message.contains("unknown modifier"), "{e}");
    // /R needs a preceding match in the same buffer.
    assert!(parse_rule(
        r#"alert tcp any any -> any any (pcre:"/a/R"; sid:1;)"#,
        &Variables::default()
    )
    .is_err());
}

#[test]
fn byte_keywords() {
    let r = rule(
        r#"alert tcp any any -> any any (content:"x"; byte_extract:2,0,len,relative,little,multiplier 4,align 4; byte_test:4,!&,0x80,len,relative,string,hex,bitmask 0xff; byte_jump:4,2,relative,little,from_beginning,post_offset -2,align,multiplier 2; byte_math:bytes 2, offset 1, oper <<, rvalue len, result out, relative, endian dce; isdataat:!out,relative; sid:1;)"#,
    );
    let MatchKind::ByteExtract(e) = &r.matches[1].kind else {
        panic!()
    };
    assert_eq!((e.nbytes, e.offset, e.name.as_str()), (2, 0, "len"));
    assert!(e.relative && e.endian == Endian::Little);
    assert_eq!((e.multiplier, e.align), (Some(4), Some(4)));
    let MatchKind::ByteTest(t) = &r.matches[2].kind else {
        panic!()
    };
    assert_eq!(t.nbytes, NumOrVar::Num(4));
    assert_eq!((t.op, t.negated), (ByteTestOp::And, true));
    assert_eq!(t.value, NumOrVar::Num(0x80));
    assert_eq!(t.offset, NumOrVar::Var("len".into()));
    assert_eq!((t.string, t.bitmask), (Some(NumBase::Hex), Some(0xff)));
    let MatchKind::ByteJump(j) = &r.matches[3].kind else {
        panic!()
    };
    assert_eq!((j.nbytes, j.offset.clone()), (4, NumOrVar::Num(2)));
    assert_eq!(
        (j.from, j.post_offset, j.align, j.multiplier),
        (JumpFrom::Beginning, Some(-2), true, Some(2))
    );
    let MatchKind::ByteMath(m) = &r.matches[4].kind else {
        panic!()
    };
    assert_eq!(
        (m.oper, m.offset, m.result.as_str()),
        (ByteMathOp::Shl, 1, "out")
    );
    assert_eq!(
        (m.rvalue.clone(), m.endian),
        (NumOrVar::Var("len".into()), Endian::Dce)
    );
    let MatchKind::IsDataAt(i) = &r.matches[5].kind else {
        panic!()
    };
    assert!(i.negated && i.relative);
    assert_eq!(i.offset, NumOrVar::Var("out".into()));
    // A variable must be defined before use.
    let e =
        err(r#"alert tcp any any -> any any (content:"x"; byte_test:1,=,1,nope,relative; sid:1;)"#);
    assert_eq!(e.kind, ErrorKind::UndefinedVariable);
    let e = err(r#"alert tcp any any -> any any (content:"x"; byte_test:9,=,1,0; sid:1;)"#);
    assert_eq!(e.kind, ErrorKind::InvalidValue);
}

#[test]
fn relative_byte_test_follows_the_previous_buffer() {
    let r = rule(
        r#"alert tcp any any -> any any (content:"/a"; http_uri; byte_test:1,>,5,0,relative; sid:1;)"#,
    );
    assert_eq!(
        r.matches[1].buffer().map(|b| b.buffer),
        Some(Buffer::HttpUri)
    );
    let r =
        rule(r#"alert tcp any any -> any any (content:"/a"; http_uri; byte_test:1,>,5,0; sid:1;)"#);
    assert_eq!(
        r.matches[1].buffer().map(|b| b.buffer),
        Some(Buffer::Payload)
    );
}

#[test]
fn flow_and_flowbits() {
    let r = rule("alert tcp any any -> any any (flow:established,to_server,only_stream; flowbits:isset,a|b; flowbits:set,c&d; flowbits:unset,e; flowbits:noalert; sid:1;)");
    let f = r.flow.unwrap();
    assert_eq!(
        (f.established, f.to_server, f.stream),
        (Some(true), Some(true), Some(true))
    );
    assert_eq!(r.flowbits[0].cmd, BitCommand::IsSet);
    assert_eq!(
        (r.flowbits[0].names.clone(), r.flowbits[0].any),
        (vec!["a".to_string(), "b".into()], true)
    );
    assert_eq!((r.flowbits[1].names.len(), r.flowbits[1].any), (2, false));
    assert_eq!(r.flowbits[2].cmd, BitCommand::Unset);
    assert!(r.noalert);
    assert!(parse_rule(
        "alert tcp any any -> any any (flow:to_server,to_client; sid:1;)",
        &Variables::default()
    )
    .is_err());
    assert!(parse_rule(
        "alert tcp any any -> any any (flowbits:frob,a; sid:1;)",
        &Variables::default()
    )
    .is_err());
}

#[test]
fn flowint_and_xbits() {
    let r = rule("alert tcp any any -> any any (flowint:cnt,+,1; flowint:cnt,>,5; flowint:cnt,isset; xbits:set,bad,track ip_pair,expire 60; hostbits:isset,scan,src; sid:1;)");
    assert_eq!(r.flowints[0].op, FlowintOp::Add);
    assert_eq!(r.flowints[0].value, Some(NumOrVar::Num(1)));
    assert!(r.flowints[1].op.is_condition());
    assert_eq!(r.flowints[2].value, None);
    assert_eq!(
        (r.xbits[0].track, r.xbits[0].expire),
        (Some(XbitsTrack::IpPair), Some(60))
    );
    assert_eq!(
        (r.xbits[1].scope, r.xbits[1].track),
        (XbitsScope::Hostbits, Some(XbitsTrack::IpSrc))
    );
}

#[test]
fn threshold_and_detection_filter() {
    let r = rule("alert tcp any any -> any any (threshold: type both, track by_dst, count 10, seconds 60; sid:1;)");
    assert_eq!(
        r.threshold,
        Some(Threshold {
            kind: ThresholdType::Both,
            track: Track::ByDst,
            count: 10,
            seconds: 60
        })
    );
    let r = rule("alert tcp any any -> any any (detection_filter:track by_src, count 100, seconds 25; sid:1;)");
    assert_eq!(
        r.detection_filter,
        Some(DetectionFilter {
            track: Track::BySrc,
            count: 100,
            seconds: 25
        })
    );
    let e =
        err("alert tcp any any -> any any (threshold: type limit, track by_src, count 1; sid:1;)");
    assert!(e.message.contains("missing seconds"), "{e}");
    let e = err("alert tcp any any -> any any (threshold: type limit, track by_src, count 1, seconds 1; detection_filter:track by_src, count 1, seconds 1; sid:1;)");
    assert_eq!(e.kind, ErrorKind::Conflict);
}

#[test]
fn header_keywords() {
    let r = rule("alert ip any any -> any any (ttl:<5; tos:!8; ip_proto:!tcp; id:12; fragbits:+MD; fragoffset:>0; ipopts:lsrr; sameip; sid:1;)");
    let kinds: Vec<&MatchKind> = r.matches.iter().map(|m| &m.kind).collect();
    assert_eq!(kinds[0], &MatchKind::Ttl(NumCmp::Lt(5)));
    assert_eq!(
        kinds[1],
        &MatchKind::Tos {
            value: 8,
            negated: true
        }
    );
    assert_eq!(kinds[2], &MatchKind::IpProto(NumCmp::Ne(6)));
    assert_eq!(kinds[3], &MatchKind::IpId(12));
    assert_eq!(
        kinds[4],
        &MatchKind::Fragbits(Fragbits {
            bits: 0x6000,
            mode: FlagMode::All
        })
    );
    assert_eq!(kinds[6], &MatchKind::Ipopts(IpOption::Lsrr));
    let r = rule("alert tcp any any -> any any (flags:!R,CE; seq:0; ack:1; window:!1024; dsize:10<>20; stream_size:client,>=,100; sid:1;)");
    assert_eq!(
        r.matches[0].kind,
        MatchKind::Flags(TcpFlags {
            flags: 0x04,
            mode: FlagMode::Not,
            ignore: 0xC0
        })
    );
    assert_eq!(
        r.matches[3].kind,
        MatchKind::Window {
            size: 1024,
            negated: true
        }
    );
    let MatchKind::Dsize(d) = r.matches[4].kind else {
        panic!()
    };
    assert!(!d.matches(10) && d.matches(11) && d.matches(19) && !d.matches(20));
    let r = rule(
        "alert icmp any any -> any any (itype:>30; icode:3<>5; icmp_id:0; icmp_seq:1; sid:1;)",
    );
    assert_eq!(r.matches[0].kind, MatchKind::Itype(NumCmp::Gt(30)));
    assert_eq!(r.matches[1].kind, MatchKind::Icode(NumCmp::Range(3, 5)));
}

#[test]
fn filemd5_keyword() {
    let r = rule("alert smtp any any -> any any (filemd5:!bad.md5; sid:1;)");
    assert_eq!(
        r.matches[0].kind,
        MatchKind::FileMd5 {
            file: "bad.md5".into(),
            negated: true
        }
    );
    let r = rule("alert smtp any any -> any any (filemd5: lists/x.md5; sid:1;)");
    assert_eq!(
        r.matches[0].kind,
        MatchKind::FileMd5 {
            file: "lists/x.md5".into(),
            negated: false
        }
    );
}

#[test]
fn app_layer_keywords() {
    let r = rule("alert tls any any -> any any (app-layer-protocol:!http; tls.version:1.2; ssl_state:client_hello|server_hello; ssl_version:!sslv2,!sslv3; sid:1;)");
    let MatchKind::AppLayerProtocol(a) = &r.matches[0].kind else {
        panic!()
    };
    assert!(a.negated && a.protocol == "http");
    assert_eq!(r.matches[1].kind, MatchKind::TlsVersion(0x0303));
    let r = rule("alert http any any -> any any (app-layer-event:http.invalid_transfer_encoding_value_in_request; urilen:>100,raw; sid:1;)");
    assert_eq!(
        r.matches[1].kind,
        MatchKind::Urilen(Urilen {
            cmp: NumCmp::Gt(100),
            raw: true
        })
    );
}

#[test]
fn meta_keywords() {
    let r = rule(
        r#"alert tcp any any -> any any (msg:"a \"quoted\"\; msg"; classtype:trojan-activity; priority:2; gid:3; reference:url,example.com/x; reference:CVE,2021-44228; metadata:created_at 2021_01_01, signature_severity Major, tag; target:dest_ip; tag:session,5,packets; sid:9;)"#,
    );
    assert_eq!(r.msg, "a \"quoted\"; msg");
    assert_eq!(r.classtype.as_deref(), Some("trojan-activity"));
    assert_eq!((r.priority, r.gid), (Some(2), 3));
    assert_eq!(&*r.references[1].system, "cve");
    assert_eq!(r.references[1].id, "2021-44228");
    assert_eq!(
        r.metadata_values("signature_severity").collect::<Vec<_>>(),
        ["Major"]
    );
    assert_eq!(r.metadata.len(), 3);
    assert_eq!(&*r.metadata[2].value, "");
    assert_eq!(r.target, Some(Target::DestIp));
    assert_eq!(r.tags[0].count, Some((5, TagMetric::Packets)));
    let (classes, _) = parse_classification_config(
        "config classification: trojan-activity,A Network Trojan was detected,1\n",
        "c",
    );
    assert_eq!(r.effective_priority(&classes), 2);
}

#[test]
fn multi_line_rules_and_positions() {
    let src = "# header comment\n\
alert tcp any any -> any any (msg:\"one\"; \\\n    content:\"abc\"; \\\n    depth:1; sid:1;)\n\
alert tcp any any -> any any (msg:\"two\"; sid:2;)\n";
    let set = parse_rules(src, "m.rules", &Variables::default());
    assert_eq!(set.rules.len(), 1);
    assert_eq!(set.rules[0].line, 5);
    let e = &set.errors[0];
    assert_eq!((e.line, e.column, e.sid), (4, 5, Some(1)));
    assert_eq!(e.span.text(src), Some("depth:1"));
    // A continued rule that parses keeps spans on the right lines.
    let src = "alert tcp any any -> any any (msg:\"x\"; \\\n  content:\"abc\"; sid:3;)\n";
    let set = parse_rules(src, "m.rules", &Variables::default());
    let m = &set.rules[0].matches[0];
    assert_eq!((m.span.line, m.span.column), (2, 3));
    assert_eq!(m.span.text(src), Some("content:\"abc\""));
    assert_eq!(
        set.rules[0].span.text(src).map(|t| t.ends_with("sid:3;)")),
        Some(true)
    );
}

#[test]
fn comments_blank_lines_and_disabled_rules() {
    let src = "\n# just a comment\n#alert tcp any any -> any any (sid:1;)\n  # alert udp any any -> any any (sid:2;)\n\nalert tcp any any -> any any (sid:3;)\n";
    let set = parse_rules(src, "c.rules", &Variables::default());
    assert_eq!((set.rules.len(), set.errors.len(), set.disabled), (1, 0, 2));
}

#[test]
fn one_broken_rule_does_not_stop_the_others() {
    let src = "alert tcp any any -> any any (sid:1;)\nalert tcp any any -> any any (bogus_kw; sid:2;)\nalert tcp any any -> any any (nocase:1; sid:3;)\nalert tcp any any -> any any (sid:4;)\nalert tcp any any ->\n";
    let set = parse_rules(src, "b.rules", &Variables::default());
    assert_eq!(set.rules.iter().map(|r| r.sid).collect::<Vec<_>>(), [1, 4]);
    let kinds: Vec<(u32, ErrorKind)> = set.errors.iter().map(|e| (e.line, e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (2, ErrorKind::UnknownKeyword),
            (3, ErrorKind::InvalidValue),
            (5, ErrorKind::Syntax)
        ]
    );
    assert_eq!(set.errors[0].keyword.as_deref(), Some("bogus_kw"));
    assert_eq!(set.errors[0].column, 31);
    let counts = set.error_counts();
    assert_eq!(counts.get(&ErrorKind::UnknownKeyword), Some(&1));
}

#[test]
fn unsupported_and_missing() {
    let e = err("alert tcp any any -> any any (lua:script.lua; sid:1;)");
    assert_eq!(e.kind, ErrorKind::UnsupportedKeyword);
    let e = err("alert tcp any any -> any any (msg:\"no sid\";)");
    assert_eq!(e.kind, ErrorKind::MissingOption);
    let e = err("alert tcp any any -> any any (msg:\"x\"; sid:1)");
    assert_eq!(e.kind, ErrorKind::Syntax);
    let e = err("alert tcp any any -> any any msg:\"x\"; sid:1;");
    assert_eq!(e.kind, ErrorKind::Syntax);
}

#[test]
fn duplicate_sids_keep_the_highest_rev() {
    let src = "alert tcp any any -> any any (msg:\"old\"; sid:1; rev:1;)\nalert tcp any any -> any any (msg:\"new\"; sid:1; rev:2;)\nalert tcp any any -> any any (msg:\"gid 2\"; gid:2; sid:1;)\n";
    let set = parse_rules(src, "d.rules", &Variables::default());
    assert_eq!(set.rules.len(), 2);
    assert_eq!(set.rules[0].msg, "new");
    assert_eq!(set.errors[0].kind, ErrorKind::DuplicateSid);
    assert_eq!(set.errors[0].line, 1);
}

#[test]
fn requires_skips_rules_for_newer_suricata() {
    let src = "alert tcp any any -> any any (requires: version >= 8; sid:1;)\nalert tcp any any -> any any (requires: version >= 7.0.3; sid:2;)\n";
    let set = parse_rules(src, "r.rules", &Variables::default());
    assert_eq!((set.rules.len(), set.errors.len(), set.skipped), (1, 0, 1));
}

#[test]
fn bsize_and_packet_state_mix() {
    let r = rule(r#"alert http any any -> any any (http.uri; content:"/abc"; bsize:4; sid:1;)"#);
    assert_eq!(
        r.matches[1].buffer().map(|b| b.buffer),
        Some(Buffer::HttpUri)
    );
    assert!(parse_rule(
        r#"alert http any any -> any any (http.uri; content:"/abcd"; bsize:4; sid:1;)"#,
        &Variables::default()
    )
    .is_err());
    let e = err(r#"alert http any any -> any any (dsize:>3; http.uri; content:"x"; sid:1;)"#);
    assert_eq!(e.kind, ErrorKind::Conflict);
}

#[test]
fn error_spans_cover_whole_characters() {
    for text in [
        "alert tcp any any -> any any (content:\"|4\u{eb}|\"; sid:1;)",
        "alert tcp any any -> any any (content:\"a\\\u{e9}\"; sid:1;)",
        "alert tcp any any -> any any (content:\"\u{20ac}\"; depth:1; sid:1;)",
    ] {
        let e = err(text);
        assert!(e.span.text(text).is_some(), "{e:?}");
    }
    let e = err("alert tcp any any -> any any (content:\"|4\u{eb}|\"; sid:1;)");
    assert_eq!(
        e.span
            .text("alert tcp any any -> any any (content:\"|4\u{eb}|\"; sid:1;)"),
        Some("\u{eb}")
    );
}

#[test]
fn type_sizes_stay_reasonable() {
    // Not a contract, a tripwire: the engine keeps tens of thousands of
    // these, so growth should be deliberate.
    println!(
        "Rule {} Match {} Content {}",
        std::mem::size_of::<Rule>(),
        std::mem::size_of::<Match>(),
        std::mem::size_of::<Content>()
    );
    assert!(std::mem::size_of::<Rule>() <= 1024);
    assert!(std::mem::size_of::<Match>() <= 256);
}

#[test]
fn from_str() {
    let r: Rule = "alert udp any any -> any 53 (sid:1;)".parse().unwrap();
    assert!(r.dst_ports.contains(53));
}

#[test]
fn dataset_and_datarep_options() {
    let r = rule("alert http any any -> any any (http.user_agent; dataset:isset,ua-seen,type string,load ua.csv; sid:1;)");
    let d = r
        .matches
        .iter()
        .find_map(|m| match &m.kind {
            MatchKind::Dataset(d) => Some(d.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(d.cmd, DatasetCmd::IsSet);
    assert_eq!(d.name, "ua-seen");
    assert_eq!(d.kind, DatasetType::String);
    assert_eq!(d.load.as_deref(), Some("ua.csv"));
    let r = rule("alert dns any any -> any any (dns.query; dataset:set,seen, type md5, state s.lst, memcap 10mb; sid:2;)");
    assert!(r.matches.iter().any(|m| matches!(&m.kind,
        MatchKind::Dataset(d) if d.kind == DatasetType::Md5 && d.load == d.save && d.save.as_deref() == Some("s.lst"))));
    let r = rule("alert dns any any -> any any (dns.query; datarep:rep, >=, 200, load r.rep, type string; sid:3;)");
    assert!(r.matches.iter().any(|m| matches!(&m.kind,
        MatchKind::Datarep(d) if d.cmp == NumCmp::Ge(200) && d.load.as_deref() == Some("r.rep"))));
    for (bad, why) in [
        ("dataset:isset,ua", "sticky buffer"),
        ("http.uri; dataset:maybe,ua", "unknown command"),
        ("http.uri; dataset:isset,ua,type float", "unknown type"),
        ("http.uri; dataset:isset,ua,load", "needs a value"),
        ("http.uri; dataset:isset,bad name!", "set name"),
        ("http.uri; datarep:rep, ~, 3", "unknown operator"),
    ] {
        let e = err(&format!("alert http any any -> any any ({bad}; sid:9;)"));
        assert!(e.message.contains(why), "{bad}: {}", e.message);
    }
}

#[test]
fn legacy_tls_subject_and_issuerdn_are_contents() {
    let r = rule(
        r#"alert tls any any -> any any (tls.issuerdn:"C=FR, CN=SELKS"; tls.subject:!"CN=evil"; sid:1;)"#,
    );
    let contents: Vec<_> = r.contents().collect();
    assert_eq!(contents.len(), 2);
    assert_eq!(contents[0].buffer.buffer, Buffer::TlsCertIssuer);
    assert_eq!(contents[0].pattern, b"C=FR, CN=SELKS");
    assert!(!contents[0].negated && !contents[0].nocase);
    assert_eq!(contents[1].buffer.buffer, Buffer::TlsCertSubject);
    assert!(contents[1].negated);
    // Quotes are optional for these keywords.
    let r = rule("alert tls any any -> any any (tls.subject:! CN=evil; sid:2;)");
    let c = r.contents().next().unwrap();
    assert_eq!((c.pattern.as_slice(), c.negated), (&b"CN=evil"[..], true));
}

#[test]
fn kerberos_and_snmp_keywords() {
    use rampart_rules::{Krb5TicketEncryption, NumCmp};
    let kinds =
        |text: &str| -> Vec<MatchKind> { rule(text).matches.into_iter().map(|m| m.kind).collect() };
    assert_eq!(
        kinds("alert krb5 any any -> any any (krb5_msg_type:10; krb5_msg_type:!AS_REQ; krb5_msg_type:>11; sid:1;)"),
        vec![
            MatchKind::Krb5MsgType(NumCmp::Eq(10)),
            MatchKind::Krb5MsgType(NumCmp::Ne(10)),
            MatchKind::Krb5MsgType(NumCmp::Gt(11)),
        ]
    );
    assert_eq!(
        kinds("alert krb5 any any -> any any (krb5.ticket_encryption: weak; krb5.ticket_encryption:!weak; krb5.ticket_encryption: des-cbc-crc , -128,2 257; sid:1;)"),
        vec![
            MatchKind::Krb5TicketEncryption(Krb5TicketEncryption::Weak(true)),
            MatchKind::Krb5TicketEncryption(Krb5TicketEncryption::Weak(false)),
            MatchKind::Krb5TicketEncryption(Krb5TicketEncryption::List(vec![1, -128, 2, 257])),
        ]
    );
    assert_eq!(
        kinds("alert snmp any any -> any any (snmp.version:2; snmp.pdu_type:!2; sid:1;)"),
        vec![
            MatchKind::SnmpVersion(NumCmp::Eq(2)),
            MatchKind::SnmpPduType(NumCmp::Ne(2)),
        ]
    );
    let r = rule("alert snmp any any -> any any (snmp.trap_oid; content:\"1.3.6\"; snmp.community; content:\"public\"; sid:1;)");
    let bufs: Vec<Buffer> = contents(&r).iter().map(|c| c.buffer.buffer).collect();
    assert_eq!(bufs, vec![Buffer::SnmpTrapOid, Buffer::SnmpCommunity]);
    for bad in [
        "alert krb5 any any -> any any (krb5.ticket_encryption: rc4; sid:1;)",
        "alert krb5 any any -> any any (krb5.ticket_encryption:; sid:1;)",
        "alert krb5 any any -> any any (krb5_msg_type:AS-REQ; sid:1;)",
    ] {
        let e = err(bad);
        assert!(e.message.contains("krb5"), "{bad}: {e:?}");
    }
}

#[test]
fn frame_keyword_resolves_protocol_and_type() {
    let buffer = |text: &str| first_content(&rule(text)).buffer.buffer;
    // Qualified, in a transport rule.
    assert_eq!(
        buffer(r#"alert udp any any -> any any (frame:dns.pdu; content:"x"; sid:1;)"#),
        Buffer::FrameDnsPdu
    );
    // The rule's protocol completes a bare frame type, dots included.
    assert_eq!(
        buffer(r#"alert sip any any -> any any (frame:request.line; content:"x"; sid:1;)"#),
        Buffer::FrameSipRequestLine
    );
    assert_eq!(
        buffer(r#"alert rfb any any -> any any (frame:pdu; content:"x"; sid:1;)"#),
        Buffer::FrameRfbPdu
    );
    assert_eq!(
        buffer(r#"alert sip any any -> any any (frame:sip.response.body; content:"x"; sid:1;)"#),
        Buffer::FrameSipResponseBody
    );
    // A bare type needs an application protocol; another protocol's frame
    // in an application rule is an error; unknown types are unsupported.
    let e = err(r#"alert tcp any any -> any any (frame:pdu; content:"x"; sid:1;)"#);
    assert_eq!(e.kind, ErrorKind::InvalidValue, "{e}");
    let e = err(r#"alert sip any any -> any any (frame:rfb.pdu; content:"x"; sid:1;)"#);
    assert!(e.to_string().contains("rfb frame in a sip rule"), "{e}");
    let e = err(r#"alert sip any any -> any any (frame:sip.nope; content:"x"; sid:1;)"#);
    assert_eq!(e.kind, ErrorKind::UnsupportedKeyword, "{e}");
    let e = err(r#"alert http any any -> any any (frame:pdu; content:"x"; sid:1;)"#);
    assert_eq!(e.kind, ErrorKind::UnsupportedKeyword, "{e}");
}

#[test]
fn rfb_integer_keywords() {
    let kinds =
        |text: &str| -> Vec<MatchKind> { rule(text).matches.into_iter().map(|m| m.kind).collect() };
    assert_eq!(
        kinds("alert rfb any any -> any any (rfb.sectype:>=3; sid:1;)"),
        vec![MatchKind::RfbSectype(NumCmp::Ge(3))]
    );
    assert_eq!(
        kinds("alert rfb any any -> any any (rfb.secresult: ok; sid:1;)"),
        vec![MatchKind::RfbSecresult(NumCmp::Eq(0))]
    );
    assert_eq!(
        kinds("alert rfb any any -> any any (rfb.secresult:unknown; sid:1;)"),
        vec![MatchKind::RfbSecresult(NumCmp::Gt(2))]
    );
    assert_eq!(
        kinds("alert rfb any any -> any any (rfb.secresult:!0; sid:1;)"),
        vec![MatchKind::RfbSecresult(NumCmp::Ne(0))]
    );
}

#[test]
fn http2_frametype_errorcode_and_multi_buffer_declarations() {
    use rampart_rules::NumCmp;
    let kinds =
        |text: &str| -> Vec<MatchKind> { rule(text).matches.into_iter().map(|m| m.kind).collect() };
    assert_eq!(
        kinds("alert http2 any any -> any any (http2.frametype:GOAWAY; http2.frametype:>5; http2.errorcode: INTERNAL_ERROR; http2.errorcode:!no_error; http2.errorcode:HTTP11_REQUIRED; sid:1;)"),
        vec![
            MatchKind::Http2FrameType(NumCmp::Eq(7)),
            MatchKind::Http2FrameType(NumCmp::Gt(5)),
            MatchKind::Http2ErrorCode(NumCmp::Eq(2)),
            MatchKind::Http2ErrorCode(NumCmp::Ne(0)),
            MatchKind::Http2ErrorCode(NumCmp::Eq(13)),
        ]
    );
    assert!(parse_rule(
        "alert http2 any any -> any any (http2.frametype:NOPE; sid:1;)",
        &Variables::default()
    )
    .is_err());
    // Each sticky buffer keyword starts a declaration (Suricata matches
    // each declaration of a multi-buffer against its own instance).
    let r = rule("alert http2 any any -> any any (http.request_header; content:\"a\"; content:\"b\"; http.request_header; content:\"c\"; sid:1;)");
    assert_eq!(r.buffer_starts, vec![0, 2]);
}
