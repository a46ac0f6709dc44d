//! Fuzzes the IKE parser of `rampart-app`.
//!
//! Input: a sequence of `[tag] [len u16] [len bytes]` datagrams, each of
//! direction tag & 1 (0 initiator to responder).
//!
//! Checks: no panic; a datagram the probe accepts is at least an ISAKMP
//! header; a message kept is retrievable, its SPIs print as 16 hex digits
//! and its lists are bounded by the datagram's length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_app::ike::{self, IkeConfig, IkeDirection, IkeState};
use rampart_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut s = IkeState::new(IkeConfig { max_txs: 8 });
    while !input.is_empty() {
        let tag = input.u8();
        let dir = if tag & 1 == 0 {
            IkeDirection::ToServer
        } else {
            IkeDirection::ToClient
        };
        let len = usize::from(input.u16());
        let d = input.bytes(len);
        if ike::probe(d) {
            assert!(d.len() >= 28);
        }
        if let Some(id) = s.parse(dir, d) {
            let t = s.transaction(id).expect("kept");
            assert_eq!(t.init_spi_hex().len(), 16);
            assert_eq!(t.resp_spi_hex().len(), 16);
            assert!(t.payload_types.len() <= d.len() + 1);
            assert!(t.v1_transforms.len() <= d.len());
            let _ = t.sa_attribute("alg_enc");
            let _ = t.sa_attribute("alg_dh");
            for &p in &t.payload_types {
                let _ = ike::v1_payload_name(p);
                let _ = ike::v2_payload_name(p);
            }
        }
    }
});
