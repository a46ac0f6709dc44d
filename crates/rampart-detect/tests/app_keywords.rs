//! Application-layer keywords end to end: rules compiled by the engine and
//! matched against a hand-made transaction (`urilen`, multi-buffer headers,
//! `tls.random*`, transforms, HTTP `app-layer-event`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use rampart_detect::app::{TxProto, TxValue};
use rampart_detect::{
    AppDetect, DetectEngine, DetectStats, FlowVars, FlowView, ThresholdTable, TxBuffers, TxPayload,
    TxSide,
};
use rampart_rules::{parse_rule, Buffer, Variables};

/// A transaction with a few buffers, headers and events.
#[derive(Default)]
struct Tx {
    proto: Option<TxProto>,
    uri: Vec<u8>,
    body: Vec<u8>,
    request_headers: Vec<&'static [u8]>,
    random: Vec<u8>,
    events: Vec<&'static str>,
    late_events: Vec<&'static str>,
}

impl TxBuffers for Tx {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        let b: &[u8] = match buffer {
            Buffer::HttpUri => &self.uri,
            Buffer::HttpRequestBody => &self.body,
            Buffer::TlsRandom => &self.random,
            Buffer::TlsRandomTime => self.random.get(..4)?,
            Buffer::TlsRandomBytes => self.random.get(4..)?,
            Buffer::DnsQuery => &self.uri,
            Buffer::HttpRequestHeader => return self.get_multi(buffer, 0),
            _ => return None,
        };
        (!b.is_empty()).then_some(Cow::Borrowed(b))
    }

    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::HttpRequestHeader => self.request_headers.get(index).map(|h| Cow::Borrowed(*h)),
            _ if index == 0 => self.get(buffer),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        self.proto.unwrap_or(TxProto::Http)
    }

    fn has_event(&self, name: &str) -> bool {
        self.events.contains(&name) || self.late_events.contains(&name)
    }

    fn has_late_event(&self, name: &str) -> bool {
        self.late_events.contains(&name)
    }
}

fn engine(rules: &[&str]) -> DetectEngine {
    let vars = Variables::default();
    let parsed: Vec<_> = rules
        .iter()
        .map(|r| parse_rule(r, &vars).unwrap())
        .collect();
    let build = DetectEngine::build(&parsed);
    assert!(build.errors.is_empty(), "{:?}", build.errors);
    for s in build.engine.signatures() {
        assert!(
            s.inactive.is_none(),
            "sid {} inactive: {:?}",
            s.sid,
            s.inactive
        );
    }
    build.engine
}

/// The sids alerting on `side` of `tx`.
fn sids(e: &DetectEngine, tx: &impl TxBuffers, side: TxSide) -> Vec<u32> {
    sids_with_packet(e, tx, side, None)
}

/// [`sids`] with the datagram that carried the transaction.
fn sids_with_packet(
    e: &DetectEngine,
    tx: &impl TxBuffers,
    side: TxSide,
    packet: Option<&[u8]>,
) -> Vec<u32> {
    let client = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000);
    let server = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);
    let flow = FlowView {
        id: 1,
        to_server: side == TxSide::Request,
        established: true,
        stream_sizes: None,
        app_proto: Some(tx.proto()),
        app_detect: AppDetect::Done { now: false },
    };
    let mut vars = FlowVars::default();
    let mut thresholds = ThresholdTable::new(16);
    let mut stats = DetectStats::default();
    let mut out = Vec::new();
    e.inspect_tx_packet(
        tx,
        side,
        client,
        server,
        0,
        flow,
        packet.map_or(TxPayload::None, TxPayload::Bytes),
        Some(&mut vars),
        &mut thresholds,
        &mut stats,
        &mut out,
    );
    let mut sids: Vec<u32> = out
        .iter()
        .filter_map(|a| e.signatures().get(a.sig as usize).map(|s| s.sid))
        .collect();
    sids.sort_unstable();
    sids
}

#[test]
fn urilen_compares_the_uri_length() {
    let e = engine(&[
        r#"alert http any any -> any any (urilen:<10; http.uri; content:"/a"; sid:1;)"#,
        r#"alert http any any -> any any (urilen:>10; http.uri; content:"/a"; sid:2;)"#,
        r#"alert http any any -> any any (urilen:5; sid:3;)"#,
        r#"alert http any any -> any any (urilen:2<>7; sid:4;)"#,
    ]);
    let tx = Tx {
        uri: b"/a?b=1".to_vec(),
        ..Tx::default()
    };
    assert_eq!(sids(&e, &tx, TxSide::Request), vec![1, 4]);
    // No URI: no match.
    assert!(sids(&e, &Tx::default(), TxSide::Request).is_empty());
}

#[test]
fn request_header_is_one_instance_per_header() {
    let e = engine(&[
        r#"alert http any any -> any any (flow:to_server; http.request_header; content:"Key|3a 20|"; startswith; pcre:"/^[a-z]+$/R"; sid:1;)"#,
        r#"alert http any any -> any any (flow:to_server; http.request_header; bsize:8; content:"Host"; sid:2;)"#,
        // Both contents in one instance: never (they are in two headers).
        r#"alert http any any -> any any (flow:to_server; http.request_header; content:"Host"; content:"Key"; sid:3;)"#,
    ]);
    let tx = Tx {
        request_headers: vec![b"Host: ab", b"Key: abcdef"],
        ..Tx::default()
    };
    assert_eq!(sids(&e, &tx, TxSide::Request), vec![1, 2]);
}

#[test]
fn tls_random_parts() {
    let e = engine(&[
        r#"alert tls any any -> any any (flow:to_server; tls.random; content:"|00 01 02 03 04|"; startswith; sid:1;)"#,
        r#"alert tls any any -> any any (flow:to_server; tls.random_time; content:"|00 01 02 03|"; bsize:4; sid:2;)"#,
        r#"alert tls any any -> any any (flow:to_server; tls.random_bytes; content:"|04 05|"; startswith; bsize:28; sid:3;)"#,
        r#"alert tls any any -> any any (flow:to_server; tls.random_time; content:"|04|"; sid:4;)"#,
    ]);
    let tx = Tx {
        proto: Some(TxProto::Tls),
        random: (0u8..32).collect(),
        ..Tx::default()
    };
    assert_eq!(sids(&e, &tx, TxSide::Request), vec![1, 2, 3]);
}

#[test]
fn transforms_on_http_buffers() {
    let e = engine(&[
        r#"alert http any any -> any any (http.request_body; url_decode; content:"/etc/passwd"; sid:1;)"#,
        r#"alert http any any -> any any (http.request_body; content:"/etc/passwd"; sid:2;)"#,
        r#"alert http any any -> any any (http.uri; pcrexform:"data=(.*)"; xor:"20"; content:"ABC"; startswith; sid:3;)"#,
    ]);
    let tx = Tx {
        uri: b"/get?data=abc".to_vec(),
        body: b"f=%2Fetc%2Fpasswd".to_vec(),
        ..Tx::default()
    };
    assert_eq!(sids(&e, &tx, TxSide::Request), vec![1, 3]);
}

#[test]
fn pcrexform_without_group_is_rejected() {
    let vars = Variables::default();
    let rule = parse_rule(
        r#"alert http any any -> any any (http.uri; pcrexform:"abc"; content:"a"; sid:1;)"#,
        &vars,
    )
    .unwrap();
    let build = DetectEngine::build(&[rule]);
    assert_eq!(build.errors.len(), 1);
    assert!(build.errors[0].message.contains("pcrexform"));
}

#[test]
fn http_events_once_per_transaction() {
    let e = engine(&[
        r#"alert http any any -> any any (flow:to_server; app-layer-event:http.request_chunk_extension; sid:1;)"#,
        r#"alert http any any -> any any (flow:to_server; app-layer-event:http.too_many_encoding_layers; sid:2;)"#,
        r#"alert http any any -> any any (flow:to_client; app-layer-event:http.request_chunk_extension; sid:3;)"#,
    ]);
    // A request event: found when the request is inspected, not again
    // with the response (except by the response-side rule).
    let req = Tx {
        events: vec!["request_chunk_extension"],
        ..Tx::default()
    };
    assert_eq!(sids(&e, &req, TxSide::Request), vec![1]);
    assert_eq!(sids(&e, &req, TxSide::Response), vec![3]);
    // A response event still reaches the request-side rule.
    let resp = Tx {
        late_events: vec!["too_many_encoding_layers"],
        ..Tx::default()
    };
    assert_eq!(sids(&e, &resp, TxSide::Response), vec![2]);
}

#[test]
fn unknown_http_events_stay_inactive() {
    let vars = Variables::default();
    let rule = parse_rule(
        r#"alert http any any -> any any (app-layer-event:http.request_auth_unrecognized; sid:1;)"#,
        &vars,
    )
    .unwrap();
    let build = DetectEngine::build(&[rule]);
    let sig = build.engine.signatures().first().unwrap();
    assert!(sig.inactive.is_some());
}

#[test]
fn base64_data_inspects_what_base64_decode_decoded() {
    let e = engine(&[
        r#"alert http any any -> any any (content:"arg"; http_uri; base64_decode:bytes 17, offset 1, relative; base64_data; content:"thisisatest"; sid:1;)"#,
        r#"alert http any any -> any any (http.request_body; url_decode; content:"API="; startswith; base64_decode:offset 0, relative; base64_data; content:"hello"; sid:2;)"#,
        r#"alert http any any -> any any (content:"arg"; http_uri; base64_decode:bytes 10, offset 1, relative; base64_data; content:"test"; sid:3;)"#,
    ]);
    let tx = Tx {
        uri: b"/?arg=dGhpc2lzYXRlc3QK".to_vec(),
        body: b"API=aGVsbG8%3D".to_vec(),
        ..Tx::default()
    };
    assert_eq!(sids(&e, &tx, TxSide::Request), vec![1, 2]);
}

#[test]
fn base64_data_needs_base64_decode() {
    let vars = Variables::default();
    let rule = parse_rule(
        r#"alert http any any -> any any (http.uri; content:"a"; base64_data; content:"b"; sid:1;)"#,
        &vars,
    );
    // Refused by the parser, or left inactive by the engine.
    if let Ok(rule) = rule {
        let build = DetectEngine::build(&[rule]);
        let sig = build.engine.signatures().first().unwrap();
        assert!(sig.inactive.is_some());
    }
}

#[test]
fn raw_content_beside_dns_buffers_matches_the_datagram() {
    // ET 2030547's shape: a SIG query (qtype 24) whose name starts with a
    // digit; the type is only in the raw message.
    let e = engine(&[
        r#"alert dns any any -> any any (content:"|00 00 18 00 01|"; fast_pattern; dns.query; pcre:"/^\d/"; sid:1;)"#,
    ]);
    let tx = Tx {
        proto: Some(TxProto::Dns),
        uri: b"9.evil.example".to_vec(),
        ..Tx::default()
    };
    let sig_query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x019\x04evil\x07example\x00\x00\x18\x00\x01";
    let a_query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x019\x04evil\x07example\x00\x00\x01\x00\x01";
    assert_eq!(
        sids_with_packet(&e, &tx, TxSide::Request, Some(sig_query)),
        vec![1]
    );
    assert!(sids_with_packet(&e, &tx, TxSide::Request, Some(a_query)).is_empty());
    // Without the datagram the raw content cannot match.
    assert!(sids(&e, &tx, TxSide::Request).is_empty());
}

/// An SMB transaction: a written file with a share and an event.
struct SmbTx {
    data: &'static [u8],
    share: &'static [u8],
    size: Option<u64>,
    events: Vec<&'static str>,
}

impl TxBuffers for SmbTx {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::FileData => Some(Cow::Borrowed(self.data)),
            Buffer::SmbShare => Some(Cow::Borrowed(self.share)),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Smb
    }

    fn has_event(&self, name: &str) -> bool {
        self.events.contains(&name)
    }

    fn file_size(&self) -> Option<u64> {
        self.size
    }
}

#[test]
fn smb_files_shares_sizes_and_events() {
    let e = engine(&[
        r#"alert smb any any -> any any (file_data; content:"EICAR"; sid:1;)"#,
        r#"alert http any any -> any any (file_data; content:"EICAR"; sid:2;)"#,
        r#"alert tcp any any -> any any (filesize:<100; sid:3;)"#,
        r#"alert tcp any any -> any any (filesize:50<>60; sid:4;)"#,
        r#"alert smb any any -> any any (smb.share; content:"C$"; sid:5;)"#,
        r#"alert smb any any -> any any (app-layer-event:smb.file_overlap; sid:6;)"#,
        r#"alert smb any any -> any any (flow:to_server; file_data; content:"EICAR"; sid:7;)"#,
    ]);
    let tx = SmbTx {
        data: b"X5O!P%@AP EICAR",
        share: b"\\10.0.0.5\\C$",
        size: Some(68),
        events: vec!["file_overlap"],
    };
    // Direction-free file and event rules look at both sides (the view
    // decides on which one the file is); smb.share is the request's.
    assert_eq!(sids(&e, &tx, TxSide::Request), vec![1, 3, 5, 6, 7]);
    assert_eq!(sids(&e, &tx, TxSide::Response), vec![1, 3, 6]);
    let open = SmbTx { size: None, ..tx };
    assert_eq!(sids(&e, &open, TxSide::Request), vec![1, 5, 6, 7]);
}

#[test]
fn unsupported_smb_rules_stay_inactive() {
    let vars = Variables::default();
    for r in [
        r#"alert http any any -> any any (filesize:<100; sid:1;)"#,
        r#"alert smb any any -> any any (app-layer-event:smb.negotiate_malformed_dialects; sid:2;)"#,
        r#"alert smb any any -> any any (smb.ntlmssp_user; content:"x"; sid:3;)"#,
    ] {
        let build = DetectEngine::build(&[parse_rule(r, &vars).unwrap()]);
        let sig = build.engine.signatures().first().unwrap();
        assert!(sig.inactive.is_some(), "{r}");
    }
}

/// A Kerberos message: its type, names, error code and ticket cipher.
#[derive(Default)]
struct Krb5Tx {
    msg_type: u32,
    cname: Vec<&'static [u8]>,
    sname: Vec<&'static [u8]>,
    error_code: Option<i32>,
    ticket_etype: Option<i32>,
    events: Vec<&'static str>,
    ip_proto: u8,
}

impl TxBuffers for Krb5Tx {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        self.get_multi(buffer, 0)
    }

    fn get_multi(&self, buffer: Buffer, index: usize) -> Option<Cow<'_, [u8]>> {
        let parts = match buffer {
            Buffer::Krb5Cname => &self.cname,
            Buffer::Krb5Sname => &self.sname,
            _ => return None,
        };
        parts.get(index).map(|p| Cow::Borrowed(*p))
    }

    fn proto(&self) -> TxProto {
        TxProto::Krb5
    }

    fn ip_proto(&self) -> u8 {
        self.ip_proto
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        match field {
            TxValue::Krb5MsgType => Some(self.msg_type),
            TxValue::Krb5ErrCode => self.error_code.map(|c| c as u32),
            TxValue::Krb5TicketEtype => self.ticket_etype.map(|e| e as u32),
            _ => None,
        }
    }

    fn has_event(&self, name: &str) -> bool {
        self.events.contains(&name)
    }
}

#[test]
fn krb5_keywords_on_messages() {
    let e = engine(&[
        r#"alert krb5 any any -> any any (krb5_msg_type:10; sid:1;)"#,
        r#"alert krb5 any any -> any any (krb5_msg_type:!AS_REQ; sid:2;)"#,
        r#"alert krb5 any any -> any any (krb5.ticket_encryption: weak; sid:3;)"#,
        r#"alert krb5 any any -> any any (krb5.ticket_encryption: !weak; sid:4;)"#,
        r#"alert krb5 any any -> any any (krb5.ticket_encryption: aes256-cts-hmac-sha1-96, 23; sid:5;)"#,
        r#"alert krb5 any any -> any any (krb5_sname; content:"krbtgt"; sid:6;)"#,
        r#"alert krb5 any any -> any any (krb5_cname; content:"robin"; startswith; endswith; sid:7;)"#,
        r#"alert krb5 any any -> any any (krb5_err_code:25; sid:8;)"#,
        r#"alert krb5 any any -> any any (flow:to_server; krb5_msg_type:13; sid:9;)"#,
        r#"alert udp any any -> any any (krb5_msg_type:10; sid:10;)"#,
        r#"alert krb5 any any -> any any (app-layer-event:krb5.weak_encryption; sid:11;)"#,
        r#"alert krb5 any any -> any any (krb5_msg_type:>11; sid:12;)"#,
    ]);
    let as_req = Krb5Tx {
        msg_type: 10,
        cname: vec![b"robin"],
        sname: vec![b"krbtgt", b"CYLERA.LAB"],
        ip_proto: 6,
        ..Krb5Tx::default()
    };
    // Requests: the type; Suricata 7 inspects names in replies only.
    assert_eq!(sids(&e, &as_req, TxSide::Request), vec![1]);
    let udp_req = Krb5Tx {
        ip_proto: 17,
        ..as_req
    };
    assert_eq!(sids(&e, &udp_req, TxSide::Request), vec![1, 10]);
    let tgs_rep = Krb5Tx {
        msg_type: 13,
        cname: vec![b"robin"],
        sname: vec![b"http", b"krbtgt.example"],
        ticket_etype: Some(23),
        events: vec!["weak_encryption"],
        ip_proto: 6,
        ..Krb5Tx::default()
    };
    // Each component of a name is an instance of its own.
    assert_eq!(
        sids(&e, &tgs_rep, TxSide::Response),
        vec![2, 3, 5, 6, 7, 11, 12]
    );
    let aes_rep = Krb5Tx {
        ticket_etype: Some(18),
        events: vec![],
        sname: vec![b"krbtgt"],
        cname: vec![b"robin2"],
        ..tgs_rep
    };
    assert_eq!(sids(&e, &aes_rep, TxSide::Response), vec![2, 4, 5, 6, 12]);
    let error = Krb5Tx {
        msg_type: 30,
        error_code: Some(25),
        ip_proto: 6,
        ..Krb5Tx::default()
    };
    assert_eq!(sids(&e, &error, TxSide::Response), vec![2, 8, 12]);
}

/// An SNMP message.
struct SnmpTx {
    version: u32,
    pdu_type: Option<u32>,
    community: &'static [u8],
}

impl TxBuffers for SnmpTx {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::SnmpCommunity => Some(Cow::Borrowed(self.community)),
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Snmp
    }

    fn ip_proto(&self) -> u8 {
        17
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        match field {
            TxValue::SnmpVersion => Some(self.version),
            TxValue::SnmpPduType => self.pdu_type,
            _ => None,
        }
    }
}

#[test]
fn snmp_keywords_on_messages() {
    let e = engine(&[
        r#"alert snmp any any -> any any (snmp.community; content:"public"; sid:1;)"#,
        r#"alert snmp any any -> any any (snmp.version:2; sid:2;)"#,
        r#"alert snmp any any -> any any (snmp.version:<2; sid:3;)"#,
        r#"alert snmp any any -> any any (snmp.pdu_type:2; sid:4;)"#,
        r#"alert snmp any any -> any any (flow:to_server; snmp.pdu_type:0; sid:5;)"#,
        r#"alert udp any any -> any any (content:"|30|"; depth:1; snmp.community; content:"public"; sid:6;)"#,
    ]);
    let get = SnmpTx {
        version: 2,
        pdu_type: Some(0),
        community: b"public",
    };
    assert_eq!(
        sids_with_packet(&e, &get, TxSide::Request, Some(b"\x30\x27")),
        vec![1, 2, 5, 6]
    );
    let response = SnmpTx {
        pdu_type: Some(2),
        ..get
    };
    assert_eq!(sids(&e, &response, TxSide::Response), vec![1, 2, 4]);
    let encrypted_v3 = SnmpTx {
        version: 3,
        pdu_type: None,
        community: b"",
    };
    assert!(sids(&e, &encrypted_v3, TxSide::Request).is_empty());
}

#[test]
fn krb5_and_snmp_rule_checks() {
    let vars = Variables::default();
    // SNMP is UDP only; raw content beside Kerberos buffers is not
    // inspected (its TCP messages wait for their acknowledgement).
    for r in [
        r#"alert tcp any any -> any any (snmp.community; content:"x"; sid:1;)"#,
        r#"alert krb5 any any -> any any (krb5_msg_type:10; content:"x"; sid:2;)"#,
        r#"alert krb5 any any -> any any (snmp.version:1; sid:3;)"#,
    ] {
        let build = DetectEngine::build(&[parse_rule(r, &vars).unwrap()]);
        let sig = build.engine.signatures().first().unwrap();
        assert!(sig.inactive.is_some(), "{r}");
    }
    for r in [
        r#"alert krb5 any any -> any any (krb5.ticket_encryption: nope; sid:1;)"#,
        r#"alert krb5 any any -> any any (krb5_msg_type:AS_REQUEST; sid:2;)"#,
        r#"alert snmp any any -> any any (snmp.version:x; sid:3;)"#,
    ] {
        assert!(parse_rule(r, &vars).is_err(), "{r}");
    }
}

/// An NFS transaction: procedures, version, a file on one side.
struct NfsTx {
    procedures: Vec<u32>,
    version: u32,
    file_side: Option<TxSide>,
    side: TxSide,
    events: Vec<&'static str>,
}

impl TxBuffers for NfsTx {
    fn get(&self, buffer: Buffer) -> Option<Cow<'_, [u8]>> {
        match buffer {
            Buffer::FileData if self.file_side == Some(self.side) => {
                Some(Cow::Borrowed(b"the b file\n"))
            }
            _ => None,
        }
    }

    fn proto(&self) -> TxProto {
        TxProto::Nfs
    }

    fn ip_proto(&self) -> u8 {
        17
    }

    fn value(&self, field: TxValue) -> Option<u32> {
        self.values(field).first().copied()
    }

    fn values(&self, field: TxValue) -> Vec<u32> {
        match field {
            TxValue::NfsProcedure => self.procedures.clone(),
            TxValue::NfsVersion => vec![self.version],
            _ => Vec::new(),
        }
    }

    fn has_event(&self, name: &str) -> bool {
        self.events.contains(&name)
    }

    fn file_size(&self) -> Option<u64> {
        (self.file_side == Some(self.side)).then_some(11)
    }

    fn has_file(&self) -> bool {
        self.file_side == Some(self.side)
    }
}

#[test]
fn nfs_procedures_versions_files_and_filestore() {
    let e = engine(&[
        r#"alert nfs any any -> any any (filestore; sid:1;)"#,
        r#"alert nfs any any -> any any (nfs_procedure:21; sid:2;)"#,
        r#"alert nfs any any -> any any (nfs_procedure:>5; nfs.version:3; sid:3;)"#,
        r#"alert nfs any any -> any any (file.data; content:"b file"; sid:4;)"#,
        r#"alert nfs any any -> any any (filesize:11; sid:5;)"#,
        r#"alert nfs any any -> any any (app-layer-event:nfs.malformed_data; sid:6;)"#,
        r#"alert udp any any -> any any (nfs.version:2; sid:7;)"#,
        // filestore changes nothing on other protocols.
        r#"alert http any any -> any any (filestore; file.data; content:"b file"; sid:8;)"#,
    ]);
    // A v3 write closed by COMMIT: procedures WRITE then COMMIT.
    let write = NfsTx {
        procedures: vec![7, 21],
        version: 3,
        file_side: Some(TxSide::Request),
        side: TxSide::Request,
        events: vec!["malformed_data"],
    };
    assert_eq!(sids(&e, &write, TxSide::Request), vec![1, 2, 3, 4, 5, 6]);
    // Its response side has no file; procedure keywords are request-only.
    let resp = NfsTx {
        side: TxSide::Response,
        ..write
    };
    assert_eq!(sids(&e, &resp, TxSide::Response), vec![6]);
    // A v2 read: the file on the response side.
    let read = NfsTx {
        procedures: vec![6],
        version: 2,
        file_side: Some(TxSide::Response),
        side: TxSide::Response,
        events: vec![],
    };
    assert_eq!(sids(&e, &read, TxSide::Response), vec![1, 4, 5]);
    let read_req = NfsTx {
        side: TxSide::Request,
        ..read
    };
    assert_eq!(sids(&e, &read_req, TxSide::Request), vec![7]);
}

#[test]
fn unsupported_nfs_rules_stay_inactive() {
    let vars = Variables::default();
    for r in [
        r#"alert nfs any any -> any any (app-layer-event:nfs.unsupported_version; sid:1;)"#,
        r#"alert nfs any any -> any any (app-layer-event:nfs.bogus_event; sid:2;)"#,
    ] {
        let build = DetectEngine::build(&[parse_rule(r, &vars).unwrap()]);
        let sig = build.engine.signatures().first().unwrap();
        assert!(sig.inactive.is_some(), "{r}");
    }
}
