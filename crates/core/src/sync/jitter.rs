//! Spreading the PCs' reactions over time. Every PC hears a change at the same moment; if all
//! of them read it back at the same moment too, the server gets hundreds of queries at once and
//! every other PC's write waits behind them (`make load`, 200 PCs).

use std::time::Duration;

/// `base` stretched by a random factor from 0.5 to 1.5.
pub(crate) fn spread(base: Duration) -> Duration {
    // Random enough for spreading load: the v4 uuid's random bits.
    let random = (uuid::Uuid::new_v4().as_u128() % 1_000) as f64 / 1_000.0;
    base.mul_f64(0.5 + random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_half_and_one_and_a_half() {
        let base = Duration::from_millis(200);
        let drawn: Vec<Duration> = (0..1000).map(|_| spread(base)).collect();
        assert!(drawn.iter().all(|d| *d >= base / 2 && *d <= base * 3 / 2));
        // Spread, not constant.
        assert!(drawn.iter().any(|d| *d < base * 3 / 4));
        assert!(drawn.iter().any(|d| *d > base * 5 / 4));
    }
}
