use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, Utc};

use super::status::quote_for_message;

/// How far in the future a "last maintenance" may lie: clocks on control-room PCs drift a little,
/// but maintenance that has not happened yet is a typing error.
pub const FUTURE_TOLERANCE: Duration = Duration::minutes(5);

/// Parses an instant that must be stated in UTC: RFC 3339 ending in `Z` (or `+00:00`).
///
/// The time-zone rule: instants cross the API in UTC and are stored as `timestamptz`; the UI
/// converts from and to the operator's local time. A value with another offset, or with none, is
/// refused with the UTC equivalent spelled out, never shifted silently (the tutorial's bug).
pub fn parse_utc_instant(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("Last maintenance is required (a date and time in UTC)".into());
    }
    let instant = match DateTime::parse_from_rfc3339(text) {
        Ok(with_offset) if with_offset.offset().local_minus_utc() == 0 => with_offset.to_utc(),
        Ok(with_offset) => {
            return Err(format!(
                "Last maintenance must be given in UTC (ending in Z): {} has offset {}; in UTC that is {}",
                quote_for_message(text),
                with_offset.offset(),
                with_offset.to_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
            ))
        }
        Err(_) if looks_naive(text) => {
            return Err(format!(
                "Last maintenance {} has no time zone: give it in UTC, ending in Z",
                quote_for_message(text)
            ))
        }
        Err(_) => {
            return Err(format!(
                "Last maintenance {} is not a date and time like 2024-01-10T08:00:00Z",
                quote_for_message(text)
            ))
        }
    };
    if instant > now + FUTURE_TOLERANCE {
        return Err("Last maintenance cannot be in the future".into());
    }
    if instant.date_naive() < chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default() {
        return Err("Last maintenance must be after 1900".into());
    }
    Ok(instant)
}

fn looks_naive(text: &str) -> bool {
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .any(|format| NaiveDateTime::parse_from_str(text, format).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap_or_default()
    }

    #[test]
    fn accepts_utc_forms() {
        let expected: DateTime<Utc> = "2024-01-10T08:00:00Z".parse().unwrap_or_default();
        assert_eq!(
            parse_utc_instant("2024-01-10T08:00:00Z", now()),
            Ok(expected)
        );
        assert_eq!(
            parse_utc_instant("2024-01-10T08:00:00+00:00", now()),
            Ok(expected)
        );
    }

    #[test]
    fn refuses_offsets_naive_garbage_future() {
        let offset = parse_utc_instant("2024-01-10T08:00:00+05:00", now()).unwrap_err();
        assert!(offset.contains("2024-01-10T03:00:00Z"), "{offset}");
        assert!(parse_utc_instant("2024-01-10T08:00:00", now())
            .unwrap_err()
            .contains("no time zone"));
        assert!(parse_utc_instant("yesterday", now()).is_err());
        assert!(parse_utc_instant("2027-01-01T00:00:00Z", now()).is_err());
        assert!(parse_utc_instant("1800-01-01T00:00:00Z", now()).is_err());
    }
}
