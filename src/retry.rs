//! The one retry schedule of the project: exponential backoff with full
//! jitter, bounded by a number of attempts and optionally by time. The plugin
//! (`backend_client::RETRY`, towards the backend) and the backend
//! (`recording_backend::twilio::RetryPolicy`, towards Twilio) each use it with
//! their own parameters.
//!
//! Pure: no clock and no random number generator inside. Callers pass the
//! time spent so far and a uniform random number, so the wasm shell (seeded
//! from the browser), the backend (`rand`) and the tests (fixed numbers) all
//! run the same arithmetic. `core::time::Duration` is plain arithmetic and
//! works on wasm32, where `std::time::Instant` does not.
//!
//! Hand-written rather than a crate's: `backon` adds its jitter on top of the
//! delay instead of drawing it from `[0, delay]` (full jitter), keeps its own
//! random generator (fixed-seeded without std) and counts its time budget in
//! sleeps only; `backoff` is unmaintained; `retry-policies` reads
//! `SystemTime`, which wasm32-unknown-unknown lacks. The schedule itself is
//! the few lines below.

use core::time::Duration;

/// From attempt 33 on, the doubling factor has saturated at `u32::MAX` and
/// the ceiling no longer changes: attempts from this one on are counted by
/// multiplication.
const STEADY_FROM: u32 = 34;

/// How often and how far apart an operation is tried.
///
/// Full jitter (each delay uniform in `[0, min(cap, base * 2^(attempt-1))]`)
/// keeps many clients throttled at once from retrying in lockstep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// The ceiling of the first delay; it doubles with every attempt.
    pub base: Duration,
    /// No delay is longer than this.
    pub cap: Duration,
    /// No retry starts once this much time would have passed since the first
    /// attempt began (the attempts' own time included). `None`: the number
    /// of attempts alone bounds the operation.
    pub budget: Option<Duration>,
}

impl Backoff {
    /// The longest delay after attempt `attempt` (1-based) failed.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before attempt `attempt + 1`, after attempt `attempt`
    /// (1-based) failed. `unit_random` is uniform in `[0, 1)`; anything
    /// outside is clamped, and a NaN counts as 0, so no input panics.
    /// Millisecond resolution.
    pub fn delay(&self, attempt: u32, unit_random: f64) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_millis()).unwrap_or(u64::MAX);
        let unit = if unit_random.is_finite() {
            unit_random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // `as` saturates; the product never exceeds `ceiling`.
        Duration::from_millis((ceiling as f64 * unit) as u64)
    }

    /// `delay` in milliseconds, as the plugin's timers take it.
    pub fn delay_ms(&self, attempt: u32, unit_random: f64) -> u64 {
        u64::try_from(self.delay(attempt, unit_random).as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether attempt `attempt` (1-based) may be followed by another, as far
    /// as the number of attempts goes.
    pub fn may_retry(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// The wait before the next attempt after attempt `attempt` failed,
    /// `elapsed` after the first attempt began; `None` when the schedule
    /// stops there: attempts spent, or the wait would overrun the budget.
    pub fn next_delay(
        &self,
        attempt: u32,
        elapsed: Duration,
        unit_random: f64,
    ) -> Option<Duration> {
        if !self.may_retry(attempt) {
            return None;
        }
        let delay = self.delay(attempt, unit_random);
        match self.budget {
            Some(budget) if elapsed.saturating_add(delay) > budget => None,
            _ => Some(delay),
        }
    }

    /// How long after the first attempt began the last one may begin, at
    /// most, when each attempt takes at most `per_attempt`: what someone
    /// holding a lease for the whole operation must allow for.
    pub fn latest_last_start(&self, per_attempt: Duration) -> Duration {
        let step = |attempt| per_attempt.saturating_add(self.ceiling(attempt));
        // Any number of attempts costs at most 33 additions and one multiplication.
        let growing = self.max_attempts.min(STEADY_FROM);
        let unbounded = (1..growing)
            .fold(Duration::ZERO, |sum, attempt| {
                sum.saturating_add(step(attempt))
            })
            .saturating_add(step(STEADY_FROM).saturating_mul(self.max_attempts - growing));
        match self.budget {
            Some(budget) => unbounded.min(budget),
            None => unbounded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// The plugin's and the backend's parameters (`backend_client::RETRY`,
    /// the backend's `RetryPolicy::default()`), spelled out so that a change
    /// of either shows here.
    const PLUGIN: Backoff = Backoff {
        max_attempts: 10,
        base: Duration::from_millis(200),
        cap: Duration::from_secs(3),
        budget: None,
    };
    const TWILIO: Backoff = Backoff {
        max_attempts: 5,
        base: Duration::from_millis(100),
        cap: Duration::from_secs(2),
        budget: Some(Duration::from_secs(8)),
    };

    #[test]
    fn the_plugins_schedule_is_what_its_client_uses() {
        assert_eq!(crate::backend_client::RETRY, PLUGIN);
    }

    #[test]
    fn delays() {
        // (schedule, attempt that failed, random number, delay in ms)
        let cases: &[(Backoff, u32, f64, u64)] = &[
            (PLUGIN, 1, 0.0, 0),
            (PLUGIN, 1, 0.999_999, 199),
            (PLUGIN, 2, 0.5, 200),
            (PLUGIN, 4, 0.5, 800),
            (PLUGIN, 5, 0.999_999, 2_999),
            (PLUGIN, 9, 0.999_999, 2_999),
            (PLUGIN, u32::MAX, 1.0, 3_000),
            // Out-of-range randomness is clamped, never a panic.
            (PLUGIN, 3, f64::NAN, 0),
            (PLUGIN, 3, f64::INFINITY, 0),
            (PLUGIN, 3, -0.5, 0),
            (PLUGIN, 3, 7.0, 800),
            // Attempt 0 (nothing failed yet) waits no longer than the first.
            (PLUGIN, 0, 0.999_999, 199),
            (TWILIO, 1, 0.999_999, 99),
            (TWILIO, 3, 0.5, 200),
            (TWILIO, 5, 0.999_999, 1_599),
            (TWILIO, 6, 0.999_999, 1_999),
            (TWILIO, 32, 0.25, 500),
            (TWILIO, 40, 1.0, 2_000),
        ];
        for &(schedule, attempt, unit, want) in cases {
            assert_eq!(
                schedule.delay(attempt, unit),
                MS(want),
                "{schedule:?} attempt {attempt} unit {unit}"
            );
            assert_eq!(schedule.delay_ms(attempt, unit), want);
            assert!(schedule.delay(attempt, unit) <= schedule.ceiling(attempt));
        }
    }

    #[test]
    fn when_the_schedule_stops() {
        // (schedule, attempt that failed, time since the first began,
        // random number, the wait before the next attempt)
        let cases: &[(Backoff, u32, u64, f64, Option<u64>)] = &[
            (PLUGIN, 1, 0, 0.5, Some(100)),
            (PLUGIN, 9, 0, 0.5, Some(1_500)),
            (PLUGIN, 10, 0, 0.5, None),
            (PLUGIN, u32::MAX, 0, 0.5, None),
            // Without a budget, time does not matter.
            (PLUGIN, 9, u64::MAX, 0.5, Some(1_500)),
            (TWILIO, 4, 0, 0.5, Some(400)),
            (TWILIO, 5, 0, 0.5, None),
            // The wait would overrun the budget: stop now, not later.
            (TWILIO, 2, 7_950, 0.5, None),
            (TWILIO, 2, 7_950, 0.0, Some(0)),
            // Ending exactly on the budget is within it.
            (TWILIO, 2, 7_950, 0.25, Some(50)),
            (TWILIO, 1, 8_000, 0.0, Some(0)),
            (TWILIO, 1, 8_001, 0.0, None),
            (TWILIO, 1, u64::MAX, 0.0, None),
        ];
        for &(schedule, attempt, elapsed, unit, want) in cases {
            assert_eq!(
                schedule.next_delay(attempt, MS(elapsed), unit),
                want.map(MS),
                "{schedule:?} attempt {attempt} after {elapsed} ms"
            );
        }
    }

    #[test]
    fn the_latest_last_start() {
        // (schedule, longest attempt, when the last attempt begins at the latest)
        let cases: &[(Backoff, Duration, Duration)] = &[
            // The budget binds: 4 attempts of 5 s and 1.5 s of waits would be 21.5 s.
            (TWILIO, Duration::from_secs(5), Duration::from_secs(8)),
            // Attempts bind: 4 × 1 s + 100 + 200 + 400 + 800 ms.
            (TWILIO, Duration::from_millis(1_000), MS(5_500)),
            // 9 waits: 200 + 400 + 800 + 1600 + 5 × 3000 ms.
            (PLUGIN, Duration::ZERO, MS(18_000)),
            (
                Backoff {
                    max_attempts: 1,
                    ..TWILIO
                },
                Duration::from_secs(5),
                Duration::ZERO,
            ),
            (
                Backoff {
                    max_attempts: u32::MAX,
                    budget: None,
                    ..TWILIO
                },
                Duration::MAX,
                Duration::MAX,
            ),
            // 100 + 200 + 400 + 800 + 1600 ms, then 34 waits at the 2 s cap.
            (
                Backoff {
                    max_attempts: 40,
                    budget: None,
                    ..TWILIO
                },
                Duration::ZERO,
                MS(3_100 + 34 * 2_000),
            ),
            (
                Backoff {
                    max_attempts: u32::MAX,
                    budget: None,
                    ..TWILIO
                },
                Duration::ZERO,
                MS(3_100 + (u64::from(u32::MAX) - 6) * 2_000),
            ),
        ];
        for &(schedule, per_attempt, want) in cases {
            assert_eq!(
                schedule.latest_last_start(per_attempt),
                want,
                "{schedule:?} {per_attempt:?}"
            );
        }
    }
}
