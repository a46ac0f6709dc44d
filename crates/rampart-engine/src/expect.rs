//! Expected connections: the FTP data connections a control connection
//! announced (Suricata's app-layer expectations), so that a new flow
//! between the same two hosts to the announced port is taken for
//! `ftp-data` without any bytes of its own deciding it.

use std::collections::VecDeque;
use std::net::IpAddr;

/// Expectations held per worker at most (the oldest go first).
pub const MAX_EXPECTATIONS: usize = 1024;

/// How long an announced data connection is waited for.
pub const EXPECTATION_TIMEOUT_NS: u64 = 300 * 1_000_000_000;

#[derive(Debug, Clone, Copy)]
struct Expected {
    /// The two hosts, lower address first (either may connect).
    hosts: (IpAddr, IpAddr),
    /// The data connection's destination port.
    port: u16,
    expires_ns: u64,
}

/// A worker's bounded table of expected data connections.
#[derive(Debug, Default)]
pub struct Expectations {
    held: VecDeque<Expected>,
}

fn ordered(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Expectations {
    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Expects a connection between `a` and `b` to `port`, from `now_ns`
    /// on for [`EXPECTATION_TIMEOUT_NS`].
    pub fn add(&mut self, a: IpAddr, b: IpAddr, port: u16, now_ns: u64) {
        if self.held.len() >= MAX_EXPECTATIONS {
            self.held.pop_front();
        }
        self.held.push_back(Expected {
            hosts: ordered(a, b),
            port,
            expires_ns: now_ns.saturating_add(EXPECTATION_TIMEOUT_NS),
        });
    }

    /// Whether a new flow from `src` to `dst:port` was expected; a match
    /// is used up, expired entries are dropped.
    pub fn take(&mut self, src: IpAddr, dst: IpAddr, port: u16, now_ns: u64) -> bool {
        self.held.retain(|e| e.expires_ns >= now_ns);
        let hosts = ordered(src, dst);
        match self
            .held
            .iter()
            .position(|e| e.hosts == hosts && e.port == port)
        {
            Some(i) => {
                self.held.remove(i);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_once_either_way_until_it_expires() {
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let mut t = Expectations::default();
        t.add(a, b, 50000, 0);
        assert!(!t.take(a, b, 50001, 1));
        assert!(t.take(b, a, 50000, 1));
        assert!(!t.take(a, b, 50000, 2));
        t.add(a, b, 50000, 0);
        assert!(!t.take(a, b, 50000, EXPECTATION_TIMEOUT_NS + 1));
        assert!(t.is_empty());
        for p in 0..(MAX_EXPECTATIONS as u16 + 5) {
            t.add(a, b, p, 0);
        }
        assert!(!t.take(a, b, 0, 1));
        assert!(t.take(a, b, 5, 1));
    }
}
