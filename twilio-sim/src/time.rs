//! Timestamps in the two shapes Twilio uses: RFC 2822 for API v2010 and
//! ISO 8601 for TaskRouter and IAM. Hand-written so the simulator needs no
//! date crate and formats are exactly what Twilio sends (`+0000`, not `GMT`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        // A clock before 1970 is a broken host; clamp rather than panic.
        Err(_) => 0,
    }
}

/// Microseconds since the Unix epoch.
pub(crate) fn now_us() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    weekday: usize,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
}

fn split(ms: i64) -> Parts {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        // 1970-01-01 was a Thursday; index 0 is Sunday.
        weekday: (days + 4).rem_euclid(7) as usize,
        hour: sod / 3600,
        minute: (sod % 3600) / 60,
        second: sod % 60,
        millis: ms.rem_euclid(1000),
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Wed, 25 Nov 2026 09:00:00 +0000`, as API v2010 writes dates.
pub(crate) fn rfc2822(ms: i64) -> String {
    let p = split(ms);
    let month = MONTHS[(p.month as usize).saturating_sub(1) % 12];
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[p.weekday], p.day, month, p.year, p.hour, p.minute, p.second
    )
}

/// `2026-11-25T09:00:00Z`, as TaskRouter writes dates.
pub(crate) fn iso8601(ms: i64) -> String {
    let p = split(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        p.year, p.month, p.day, p.hour, p.minute, p.second
    )
}

/// `2026-11-25T09:00:00.240Z`, as the IAM token check writes `expiration`.
pub(crate) fn iso8601_millis(ms: i64) -> String {
    let p = split(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        p.year, p.month, p.day, p.hour, p.minute, p.second, p.millis
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instant() {
        // 2026-11-25T09:00:00Z
        let ms = 1_795_597_200_000;
        assert_eq!(rfc2822(ms), "Wed, 25 Nov 2026 09:00:00 +0000");
        assert_eq!(iso8601(ms), "2026-11-25T09:00:00Z");
        assert_eq!(iso8601_millis(ms + 240), "2026-11-25T09:00:00.240Z");
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        // Leap day.
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
