//! Capture timestamps.
//!
//! Every core takes time as a parameter rather than reading a clock, so a
//! single type with nanosecond precision is shared by pcap reading, flow
//! timeouts, defragmentation and the outputs.

use std::fmt;

/// A point in time as nanoseconds since the Unix epoch.
///
/// `u64` nanoseconds cover the years 1970 to 2554, which is every value a
/// pcap or pcapng file can carry in practice; arithmetic saturates instead of
/// overflowing so that a capture with hostile timestamps cannot panic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The epoch itself; also used for "no time yet".
    pub const ZERO: Timestamp = Timestamp(0);

    /// Builds a timestamp from nanoseconds since the epoch.
    pub const fn from_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    /// Builds a timestamp from seconds and a sub-second part in nanoseconds.
    pub const fn from_secs_nanos(secs: u64, nanos: u32) -> Self {
        Timestamp(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(nanos as u64),
        )
    }

    /// Builds a timestamp from seconds and a sub-second part in microseconds.
    pub const fn from_secs_micros(secs: u64, micros: u32) -> Self {
        Timestamp(
            secs.saturating_mul(1_000_000_000)
                .saturating_add((micros as u64).saturating_mul(1000)),
        )
    }

    /// Builds a timestamp from whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch.
    pub const fn secs(self) -> u64 {
        self.0 / 1_000_000_000
    }

    /// The sub-second part in nanoseconds.
    pub const fn subsec_nanos(self) -> u32 {
        (self.0 % 1_000_000_000) as u32
    }

    /// The sub-second part in microseconds (what classic pcap and EVE carry).
    pub const fn subsec_micros(self) -> u32 {
        self.subsec_nanos() / 1000
    }

    /// This timestamp moved forward by `nanos`, saturating.
    pub const fn add_nanos(self, nanos: u64) -> Self {
        Timestamp(self.0.saturating_add(nanos))
    }

    /// This timestamp moved forward by `secs` seconds, saturating.
    pub const fn add_secs(self, secs: u64) -> Self {
        self.add_nanos(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds from `earlier` to `self`, or 0 when `earlier` is later
    /// (captures are not always in time order).
    pub const fn nanos_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Formats the timestamp as Suricata's EVE does:
    /// `2016-03-24T13:41:49.123456+0000` (UTC, microseconds).
    pub fn to_eve_string(self) -> String {
        let secs = self.secs();
        let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+0000",
            y,
            mo,
            d,
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60,
            self.subsec_micros()
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.secs(), self.subsec_micros())
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
/// Howard Hinnant's `civil_from_days` algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eve_format_matches_suricata_shape() {
        // 2016-03-24T13:41:49Z
        let ts = Timestamp::from_secs_micros(1_458_826_909, 123_456);
        assert_eq!(ts.to_eve_string(), "2016-03-24T13:41:49.123456+0000");
        assert_eq!(
            Timestamp::ZERO.to_eve_string(),
            "1970-01-01T00:00:00.000000+0000"
        );
        // leap day
        let ts = Timestamp::from_secs(951_782_400); // 2000-02-29
        assert_eq!(ts.to_eve_string(), "2000-02-29T00:00:00.000000+0000");
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_nanos(u64::MAX);
        assert_eq!(t.add_secs(5), t);
        assert_eq!(Timestamp::ZERO.nanos_since(t), 0);
    }
}
