//! The one source of "now". Everything whose behaviour depends on the time (the reopen window,
//! session expiry, business hours, broadcast schedules and quiet hours, the WhatsApp window,
//! retention) reads it through a [`Clock`], so tests can move time instead of waiting for it.
//! Measuring a duration (timeouts, rate limits) keeps using `std::time::Instant`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Millis;

/// Tells the time in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync {
    fn now(&self) -> Millis;
}

/// The clock every part of a running kabar shares.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        super::now_ms()
    }
}

/// The wall clock.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock for tests: the wall clock plus however far the test has moved it forward. It keeps
/// running with real time, so retry delays and timeouts measured against it still elapse, and a
/// test can jump a day ahead to see what a person who writes tomorrow gets.
#[derive(Debug, Default)]
pub struct ManualClock {
    ahead_ms: AtomicU64,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    pub fn advance_ms(&self, ms: Millis) {
        self.ahead_ms.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn advance_hours(&self, hours: u64) {
        self.advance_ms(hours * 3_600_000);
    }

    pub fn advance_minutes(&self, minutes: u64) {
        self.advance_ms(minutes * 60_000);
    }

    /// Back to the wall clock. What was stamped while the clock was ahead (a reply's due
    /// time, a session's expiry) stays that far in the future.
    pub fn rewind(&self) {
        self.ahead_ms.store(0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        super::now_ms() + self.ahead_ms.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_forward_by_what_the_test_says_and_back() {
        let clock = ManualClock::new();
        let wall = SystemClock.now();
        clock.advance_hours(25);
        let moved = clock.now();
        assert!(moved >= wall + 25 * 3_600_000, "{moved} vs {wall}");
        assert!(
            moved < wall + 25 * 3_600_000 + 60_000,
            "only what was asked"
        );
        clock.rewind();
        assert!(clock.now() < wall + 60_000);
    }
}
