//! Payload program semantics, with expectations taken from the keyword
//! definitions in Suricata's rule documentation.

use super::*;
use crate::pcre::{PcreFlags, DEFAULT_MATCH_LIMIT};

fn content(p: &str) -> ContentStep {
    ContentStep::new(Literal::new(p.as_bytes(), false))
}

fn run(steps: Vec<Step>, buf: &[u8]) -> bool {
    Program::new(steps).matches(buf, &mut EvalStats::default())
}

#[test]
fn offset_and_depth_bound_an_absolute_window() {
    // content:"def"; offset:3; depth:3; matches "abcdef" (window 3..6).
    let mut c = content("def");
    c.offset = Some(Value::Lit(3));
    c.depth = Some(Value::Lit(3));
    assert!(run(vec![Step::Content(Box::new(c.clone()))], b"abcdef"));
    assert!(!run(vec![Step::Content(Box::new(c.clone()))], b"abcxdef"));
    c.offset = Some(Value::Lit(4));
    assert!(!run(vec![Step::Content(Box::new(c))], b"abcdef"));
}

#[test]
fn distance_and_within_are_relative_to_the_previous_match() {
    // content:"a"; content:"b"; distance:1; within:2;  "b" must start 1 byte
    // after "a" ends and end within 1+2 bytes of it.
    let a = content("a");
    let mut b = content("b");
    b.distance = Some(Value::Lit(1));
    b.within = Some(Value::Lit(2));
    let prog = || {
        vec![
            Step::Content(Box::new(a.clone())),
            Step::Content(Box::new(b.clone())),
        ]
    };
    assert!(run(prog(), b"a-b"));
    assert!(run(prog(), b"a--b"));
    assert!(!run(prog(), b"ab"));
    assert!(!run(prog(), b"a---b"));
}

#[test]
fn backtracking_tries_later_occurrences() {
    // The first "a" is not followed by "b", the second is.
    let a = content("a");
    let mut b = content("b");
    b.distance = Some(Value::Lit(0));
    b.within = Some(Value::Lit(1));
    assert!(run(
        vec![Step::Content(Box::new(a)), Step::Content(Box::new(b))],
        b"a-ab"
    ));
}

#[test]
fn negated_content_and_startswith_endswith() {
    let mut n = content("evil");
    n.negated = true;
    assert!(run(
        vec![
            Step::Content(Box::new(content("GET"))),
            Step::Content(Box::new(n.clone()))
        ],
        b"GET /good"
    ));
    assert!(!run(
        vec![
            Step::Content(Box::new(content("GET"))),
            Step::Content(Box::new(n))
        ],
        b"GET /evil"
    ));
    let mut s = content("GET");
    s.startswith = true;
    assert!(run(vec![Step::Content(Box::new(s.clone()))], b"GET /"));
    assert!(!run(vec![Step::Content(Box::new(s))], b" GET /"));
    let mut e = content(".exe");
    e.endswith = true;
    assert!(run(vec![Step::Content(Box::new(e.clone()))], b"/a.exe"));
    assert!(!run(vec![Step::Content(Box::new(e.clone()))], b"/a.exe?x"));
    // endswith takes the last occurrence, not the first.
    assert!(run(vec![Step::Content(Box::new(e))], b"/a.exe/b.exe"));
}

#[test]
fn isdataat_absolute_relative_negated() {
    let i = |off, relative, negated| {
        Step::IsDataAt(IsDataAt {
            offset: Value::Lit(off),
            relative,
            negated,
        })
    };
    assert!(run(vec![i(3, false, false)], b"abcd"));
    assert!(!run(vec![i(4, false, false)], b"abcd"));
    // content:"ab"; isdataat:2,relative; -> two more bytes after "ab"
    // (Suricata: prev_end + N <= buffer length).
    assert!(run(
        vec![Step::Content(Box::new(content("ab"))), i(2, true, false)],
        b"abcd"
    ));
    assert!(!run(
        vec![Step::Content(Box::new(content("ab"))), i(3, true, false)],
        b"abcd"
    ));
    // !isdataat:1,relative after the last byte.
    assert!(run(
        vec![Step::Content(Box::new(content("cd"))), i(1, true, true)],
        b"abcd"
    ));
}

#[test]
fn byte_test_and_byte_jump() {
    // 2-byte big-endian length 0x0005 at offset 0, then 5 bytes, then "Z".
    let buf = b"\x00\x05hello Z";
    let t = Step::ByteTest(ByteTest {
        nbytes: Value::Lit(2),
        op: CmpOp::Eq,
        negated: false,
        value: Value::Lit(5),
        offset: Value::Lit(0),
        relative: false,
        format: NumberFormat::BigEndian,
        bitmask: None,
    });
    assert!(run(vec![t], buf));
    let j = Step::ByteJump(ByteJump {
        nbytes: 2,
        offset: Value::Lit(0),
        relative: false,
        format: NumberFormat::BigEndian,
        multiplier: 1,
        align: false,
        from_beginning: false,
        from_end: false,
        post_offset: 0,
        bitmask: None,
    });
    let mut z = content(" Z");
    z.distance = Some(Value::Lit(0));
    z.within = Some(Value::Lit(2));
    assert!(run(vec![j, Step::Content(Box::new(z))], buf));
}

#[test]
fn byte_extract_feeds_later_offsets() {
    // byte_extract:1,0,len; content:"X"; offset:len;
    let buf = b"\x03abX";
    let e = Step::ByteExtract(ByteExtract {
        nbytes: 1,
        offset: Value::Lit(0),
        relative: false,
        format: NumberFormat::BigEndian,
        multiplier: 1,
        align: 0,
        bitmask: None,
        var: 0,
    });
    let mut x = content("X");
    x.offset = Some(Value::Var(0));
    x.depth = Some(Value::Lit(1));
    assert!(run(vec![e, Step::Content(Box::new(x))], buf));
}

#[test]
fn pcre_relative_and_negated() {
    let p = |re: &str, relative, negated| {
        Step::Pcre(Box::new(PcreStep {
            matcher: PcreMatcher::new(re, PcreFlags::default(), DEFAULT_MATCH_LIMIT).unwrap(),
            negated,
            relative,
        }))
    };
    assert!(run(
        vec![
            Step::Content(Box::new(content("user="))),
            p("^[a-z]+$", true, false)
        ],
        b"x user=bob"
    ));
    assert!(!run(
        vec![
            Step::Content(Box::new(content("user="))),
            p("^[a-z]+$", true, false)
        ],
        b"x user=b0b"
    ));
    assert!(run(vec![p("admin", false, true)], b"guest"));
}

#[test]
fn hostile_inputs_are_bounded() {
    // Many candidate "a"s, none followed by "b": retries stop at the limit.
    let a = content("a");
    let mut b = content("b");
    b.distance = Some(Value::Lit(0));
    b.within = Some(Value::Lit(1));
    let prog = Program::new(vec![Step::Content(Box::new(a)), Step::Content(Box::new(b))]);
    let mut stats = EvalStats::default();
    assert!(!prog.matches(&vec![b'a'; 100_000], &mut stats));
    assert_eq!(stats.recursion_limit_hits, 1);
}

#[test]
fn base64_decoder_follows_suricata() {
    assert_eq!(base64_decode(b"SGVsbG8gV29ybGQ="), b"Hello World");
    assert_eq!(base64_decode(b"dGhpc2lzYXRlc3QK"), b"thisisatest\n");
    // A last group cut short yields what its characters complete.
    assert_eq!(base64_decode(b"dGhpc2lzYX"), b"thisisa");
    // An invalid byte stops decoding; the unfinished group still yields
    // what its characters complete.
    assert_eq!(base64_decode(b"dGhpc2l%3D"), b"thisi");
    assert_eq!(base64_decode(b"np%2BA"), [0x9e]);
    assert_eq!(base64_decode(b"%"), b"");
    assert_eq!(base64_decode(b"d"), b"");
}

fn base64_step(bytes: Option<u32>, offset: u32, relative: bool, data: Vec<Step>) -> Step {
    Step::Base64(Box::new(Base64Step {
        bytes,
        offset,
        relative,
        data: Program::new(data),
    }))
}

#[test]
fn base64_decode_then_base64_data() {
    let uri = b"/?arg=dGhpc2lzYXRlc3QK";
    // content:"arg"; base64_decode:bytes 17, offset 1, relative;
    // base64_data; content:"thisisatest";
    let prog = |bytes, want: &str| {
        vec![
            Step::Content(Box::new(content("arg"))),
            base64_step(
                Some(bytes),
                1,
                true,
                vec![Step::Content(Box::new(content(want)))],
            ),
        ]
    };
    assert!(run(prog(17, "thisisatest"), uri));
    assert!(!run(prog(10, "test"), uri));
    assert!(!run(prog(17, "toast"), uri));
    // Absolute: from the buffer start (plus offset).
    let abs = vec![base64_step(
        None,
        6,
        false,
        vec![Step::Content(Box::new(content("isa")))],
    )];
    assert!(run(abs, uri));
    // An offset at or past the end: no match. Nothing decoded: no match.
    assert!(!run(vec![base64_step(None, 30, false, vec![])], uri));
    assert!(!run(vec![base64_step(None, 0, false, vec![])], b"%%%"));
    assert!(run(vec![base64_step(None, 0, false, vec![])], b"YWJj"));
}

#[test]
fn byte_test_dce_reads_in_the_pdu_byte_order() {
    // byte_test:2,=,0x0102,0,dce; on bytes 01 02: little-endian reads
    // 0x0201, big-endian 0x0102.
    let program = Program::new(vec![Step::ByteTest(ByteTest {
        nbytes: Value::Lit(2),
        op: CmpOp::Eq,
        negated: false,
        value: Value::Lit(0x0102),
        offset: Value::Lit(0),
        relative: false,
        format: NumberFormat::Dce,
        bitmask: None,
    })]);
    let mut stats = EvalStats::default();
    let mut vars = [0; MAX_VARS];
    assert!(program.matches_with_order(b"\x01\x02", &mut vars, &mut stats, true));
    assert!(!program.matches_with_order(b"\x01\x02", &mut vars, &mut stats, false));
    assert!(program.matches_with_order(b"\x02\x01", &mut vars, &mut stats, false));
    // Outside DCERPC stub data, Suricata reads them big-endian.
    assert!(program.matches(b"\x01\x02", &mut stats));
}
