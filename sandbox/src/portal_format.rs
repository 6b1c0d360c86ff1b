//! How the portal prints values: PHP floats, its local date format, RFC 3339 in `time`.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

/// The sandbox portal's time zone (a Russian portal's default, Moscow time). Fixed, so output
/// does not depend on the machine the sandbox runs on.
pub(crate) fn portal_offset() -> FixedOffset {
    FixedOffset::east_opt(3 * 3600).expect("valid offset")
}

fn at(unix: i64) -> DateTime<FixedOffset> {
    Utc.timestamp_opt(unix, 0)
        .single()
        .unwrap_or_default()
        .with_timezone(&portal_offset())
}

/// `2024-04-03T10:26:32+03:00`, as in the envelope's `date_start`.
pub(crate) fn rfc3339(unix: i64) -> String {
    at(unix).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The portal's site format for a date and time: `03.04.2024 10:26:32`.
pub(crate) fn site_datetime(unix: i64) -> String {
    at(unix).format("%d.%m.%Y %H:%M:%S").to_string()
}

/// The portal's site format for a date: `03.04.2024`.
pub(crate) fn site_date(unix: i64) -> String {
    at(unix).format("%d.%m.%Y").to_string()
}

pub(crate) fn now_unix() -> i64 {
    Utc::now().timestamp()
}

/// A decimal amount as PHP prints a float: `"3000.00"` → `"3000"`, `"1250.50"` → `"1250.5"`.
/// The portal keeps amounts as floats, so this is what reaches clients and the iframe.
pub(crate) fn php_number(decimal: &str) -> String {
    match decimal.split_once('.') {
        Some((int, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                int.to_string()
            } else {
                format!("{int}.{frac}")
            }
        }
        None => decimal.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_numbers_drop_trailing_zeros() {
        assert_eq!(php_number("3000.00"), "3000");
        assert_eq!(php_number("1250.50"), "1250.5");
        assert_eq!(php_number("49.99"), "49.99");
        assert_eq!(php_number("4500"), "4500");
    }

    #[test]
    fn dates_use_the_portal_zone() {
        assert_eq!(rfc3339(1712132792), "2024-04-03T11:26:32+03:00");
        assert_eq!(site_datetime(1712132792), "03.04.2024 11:26:32");
        assert_eq!(site_date(1712132792), "03.04.2024");
    }
}
