//! Rampart's packet layer: everything that turns captured bytes into meaning,
//! and meaning back into bytes, without touching a socket, a clock or a file.
//!
//! * [`pcap`] reads pcap and pcapng captures from any [`std::io::Read`] and
//!   writes classic pcap to any [`std::io::Write`].
//! * [`decode`] turns one link-layer frame into a [`decode::Packet`] view,
//!   leniently: damaged or truncated packets still yield whatever could be
//!   decoded plus a [`DecoderEvent`] saying what was wrong.
//! * [`craft`] builds packets, fragment trains and whole TCP conversations
//!   for tests and for users checking their own rules.
//!
//! The crate is pure so that fuzzers, property tests and both the offline and
//! the live paths exercise exactly the same code.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

pub mod craft;
pub mod decode;
pub mod events;
pub mod linktype;
pub mod pcap;
pub mod timestamp;

pub use decode::{decode, decode_ip, Packet};
pub use events::{DecoderEvent, DecoderEventCounters};
pub use linktype::LinkType;
pub use timestamp::Timestamp;
