//! Timestamps are shown in UTC: `HH:MM:SS.mmm` in lists, RFC 3339 in detailed views.

use chrono::SecondsFormat;
use std::time::Duration;
use tasker::model::Timestamp;

pub fn clock(at: Timestamp) -> String {
    at.format("%H:%M:%S%.3f").to_string()
}

pub fn clock_opt(at: Option<Timestamp>) -> String {
    at.map(clock).unwrap_or_else(|| "-".to_owned())
}

pub fn rfc3339(at: Timestamp) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn rfc3339_opt(at: Option<Timestamp>) -> String {
    at.map(rfc3339).unwrap_or_else(|| "-".to_owned())
}

/// `850 ms`, `12.3 s`, `4 min 05 s`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let secs = d.as_secs();
        format!("{} min {:02} s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_in_utc_with_milliseconds() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 3, 4, 5, 6, 7)
            .single()
            .expect("valid date")
            + chrono::Duration::milliseconds(89);
        assert_eq!(clock(at), "05:06:07.089");
        assert_eq!(rfc3339(at), "2026-03-04T05:06:07.089Z");
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(duration(Duration::from_millis(12_345)), "12.35 s");
        assert_eq!(duration(Duration::from_secs(245)), "4 min 05 s");
    }
}
