//! Timestamps as sops handles them: YAML timestamps become Go `time.Time`
//! values, written back with `time.RFC3339` (no fractional seconds).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Parses a YAML 1.1 timestamp (date only, or date and time with optional
/// zone) and returns it formatted as Go's `time.RFC3339`.
pub fn normalize_rfc3339(s: &str) -> Option<String> {
    let t = parse_yaml_timestamp(s)?;
    Some(format_go_rfc3339(t))
}

/// A timestamp value as sops writes it: Go's `time.RFC3339Nano` (fraction
/// kept, trailing zeros trimmed).
pub fn normalize_time_value(s: &str) -> Option<String> {
    Some(format_go(parse_yaml_timestamp(s)?, true))
}

/// Go's RFC3339 layout: `2006-01-02T15:04:05Z07:00`, seconds precision.
pub fn format_go_rfc3339(t: OffsetDateTime) -> String {
    format_go(t, false)
}

fn format_go(t: OffsetDateTime, nano: bool) -> String {
    let date = t.date();
    let mut base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        date.year(),
        u8::from(date.month()),
        date.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if nano && t.nanosecond() != 0 {
        let frac = format!("{:09}", t.nanosecond());
        base.push('.');
        base.push_str(frac.trim_end_matches('0'));
    }
    let off = t.offset();
    if off == UtcOffset::UTC {
        format!("{base}Z")
    } else {
        let secs = off.whole_seconds();
        let sign = if secs < 0 { '-' } else { '+' };
        let a = secs.abs();
        format!("{base}{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, which Go's `time.RFC3339`
/// layout parses.
pub fn is_strict_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
    {
        return false;
    }
    if !(b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19))
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == f {
            return false;
        }
    }
    let zone = &s[i..];
    let zb = zone.as_bytes();
    (zone == "Z" || zb.len() == 6 && (zb[0] == b'+' || zb[0] == b'-') && zb[3] == b':')
        && parse_yaml_timestamp(s).is_some()
}

/// Is this plain scalar a YAML timestamp (as yaml.v3 resolves them)?
pub fn is_yaml_timestamp(s: &str) -> bool {
    parse_yaml_timestamp(s).is_some()
}

pub fn parse_yaml_timestamp(s: &str) -> Option<OffsetDateTime> {
    if s.len() < 10 || !s.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    if s.len() == 10 {
        let d = time::Date::parse(s, format_description!("[year]-[month]-[day]")).ok()?;
        return Some(d.midnight().assume_utc());
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    // yaml.v3 also accepts a space separator and no zone (UTC).
    let norm = s.replacen(' ', "T", 1);
    if let Ok(t) = OffsetDateTime::parse(&norm, &Rfc3339) {
        return Some(t);
    }
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let fmt_frac = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    PrimitiveDateTime::parse(&norm, fmt)
        .or_else(|_| PrimitiveDateTime::parse(&norm, fmt_frac))
        .ok()
        .map(|p| p.assume_utc())
}

/// Current time in sops's `lastmodified` form.
pub fn now_rfc3339() -> String {
    format_go_rfc3339(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(
            normalize_rfc3339("2024-01-01").unwrap(),
            "2024-01-01T00:00:00Z"
        );
        assert_eq!(
            normalize_rfc3339("2001-12-14T21:59:43.10-05:00").unwrap(),
            "2001-12-14T21:59:43-05:00"
        );
        assert_eq!(
            normalize_time_value("2001-12-14T21:59:43.10Z").unwrap(),
            "2001-12-14T21:59:43.1Z"
        );
        assert_eq!(
            normalize_time_value("2024-01-01").unwrap(),
            "2024-01-01T00:00:00Z"
        );
        assert!(!is_yaml_timestamp("2024-13-01"));
        assert!(!is_yaml_timestamp("hello"));
    }
}
