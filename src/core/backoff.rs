//! Reconnect delays: exponential backoff with jitter, a cap and an optional attempt limit.
//!
//! ```
//! use wiresync::core::backoff::Backoff;
//!
//! let b = Backoff { jitter: 0.0, max_attempts: Some(5), ..Backoff::default() };
//! let delays: Vec<u64> = (1..=6).map(|n| b.delay(n, 0.5)).collect();
//! assert_eq!(delays, [1000, 2000, 4000, 8000, 16000, 16000]); // doubling, capped at 16 s
//! assert!(b.allows(5) && !b.allows(6));
//! ```

/// Reconnect policy. Defaults match socket.io-client's (`reconnectionDelay` 1000,
/// `reconnectionDelayMax` 5000 there; 16000 here), with jitter 0.5.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    /// Delay before the first retry, in ms. Default 1000.
    pub initial_delay_ms: u64,
    /// Upper bound of any delay, jitter included, in ms. Default 16000.
    pub max_delay_ms: u64,
    /// Growth per attempt. Default 2.
    pub factor: f64,
    /// Randomization, 0..=1: the delay is spread over `d * (1 ± jitter)`. Default 0.5.
    pub jitter: f64,
    /// Attempts after which the client gives up and closes. Default `None` (never).
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial_delay_ms: 1000,
            max_delay_ms: 16000,
            factor: 2.0,
            jitter: 0.5,
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (1-based), given a random number in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> u64 {
        let exp = attempt.saturating_sub(1).min(64) as i32;
        let base = (self.initial_delay_ms as f64 * self.factor.max(1.0).powi(exp))
            .min(self.max_delay_ms as f64);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let spread = base * (1.0 - jitter + 2.0 * jitter * random.clamp(0.0, 1.0));
        spread.min(self.max_delay_ms as f64).max(0.0) as u64
    }

    /// Whether retry number `attempt` (1-based) is still allowed.
    pub fn allows(&self, attempt: u32) -> bool {
        self.max_attempts.is_none_or(|max| attempt <= max)
    }
}

/// A small deterministic random source (xorshift64*): the driver seeds it from
/// `Math.random()`, tests from a constant, so backoff timelines replay exactly.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is mapped to a fixed non-zero seed).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_jitter_delays_double_up_to_the_cap() {
        let b = Backoff {
            jitter: 0.0,
            ..Backoff::default()
        };
        let seq: Vec<u64> = (1..=7).map(|a| b.delay(a, 0.3)).collect();
        assert_eq!(seq, vec![1000, 2000, 4000, 8000, 16000, 16000, 16000]);
    }

    #[test]
    fn jitter_spreads_around_the_base_and_never_exceeds_the_cap() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 0.0), 500);
        assert_eq!(b.delay(1, 0.5), 1000);
        assert_eq!(b.delay(1, 0.999_999), 1499);
        assert_eq!(b.delay(10, 0.999), 16000);
        let mut rng = Rng::new(7);
        for attempt in 1..200 {
            let d = b.delay(attempt, rng.next_f64());
            assert!((500..=16000).contains(&d), "{d}");
        }
    }

    #[test]
    fn attempt_limit_is_inclusive() {
        let b = Backoff {
            max_attempts: Some(3),
            ..Backoff::default()
        };
        assert!(b.allows(3));
        assert!(!b.allows(4));
        assert!(Backoff::default().allows(u32::MAX));
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..1000 {
            let x = a.next_f64();
            assert_eq!(x, b.next_f64());
            assert!((0.0..1.0).contains(&x));
        }
    }
}
