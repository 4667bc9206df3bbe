//! Timestamps in the shapes Twilio uses: RFC 2822 for API v2010 and ISO 8601
//! for TaskRouter and IAM, formatted with the `time` crate. The descriptions
//! are spelled out rather than `time`'s well-known formats because Twilio's
//! exact text matters: `+0000` (not `GMT`), `Z`, whole seconds for
//! TaskRouter and milliseconds for the token check's `expiration`.

use std::time::{SystemTime, UNIX_EPOCH};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

const RFC2822: &[BorrowedFormatItem<'_>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000"
);
const ISO8601: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const ISO8601_MILLIS: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

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

/// The instant in UTC; outside `time`'s range (years beyond ±9999), the
/// nearest end of it, so formatting never fails.
fn utc(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or_else(|_| {
        if ms < 0 {
            time::PrimitiveDateTime::MIN.assume_utc()
        } else {
            time::PrimitiveDateTime::MAX.assume_utc()
        }
    })
}

fn format(ms: i64, description: &[BorrowedFormatItem<'_>]) -> String {
    // Formatting a UTC date with these descriptions cannot fail; an empty
    // string would show up in any test that compares dates.
    utc(ms).format(description).unwrap_or_default()
}

/// `Wed, 25 Nov 2026 09:00:00 +0000`, as API v2010 writes dates.
pub(crate) fn rfc2822(ms: i64) -> String {
    format(ms, RFC2822)
}

/// `2026-11-25T09:00:00Z`, as TaskRouter writes dates.
pub(crate) fn iso8601(ms: i64) -> String {
    format(ms, ISO8601)
}

/// `2026-11-25T09:00:00.240Z`, as the IAM token check writes `expiration`.
pub(crate) fn iso8601_millis(ms: i64) -> String {
    format(ms, ISO8601_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // (ms since the epoch, RFC 2822, ISO 8601, ISO 8601 with ms)
        let cases = [
            (
                1_795_597_200_240,
                "Wed, 25 Nov 2026 09:00:00 +0000",
                "2026-11-25T09:00:00Z",
                "2026-11-25T09:00:00.240Z",
            ),
            (
                0,
                "Thu, 01 Jan 1970 00:00:00 +0000",
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00.000Z",
            ),
            // Leap day.
            (
                951_782_400_000,
                "Tue, 29 Feb 2000 00:00:00 +0000",
                "2000-02-29T00:00:00Z",
                "2000-02-29T00:00:00.000Z",
            ),
            // Before the epoch: the millisecond part still counts forward.
            (
                -1,
                "Wed, 31 Dec 1969 23:59:59 +0000",
                "1969-12-31T23:59:59Z",
                "1969-12-31T23:59:59.999Z",
            ),
        ];
        for (ms, rfc, iso, iso_ms) in cases {
            assert_eq!(rfc2822(ms), rfc, "{ms}");
            assert_eq!(iso8601(ms), iso, "{ms}");
            assert_eq!(iso8601_millis(ms), iso_ms, "{ms}");
        }
    }

    #[test]
    fn out_of_range_instants_clamp_instead_of_failing() {
        assert!(iso8601(i64::MAX).starts_with("9999-12-31T23:59:59"));
        assert!(iso8601(i64::MIN).starts_with("-9999-01-01T00:00:00"));
    }
}
