//! Low/high watermarks on media use, with hysteresis.
//!
//! The device is under *pressure* from the moment media use reaches the high
//! watermark until it falls below the low one. Each of those two transitions
//! is one crossing and produces exactly one event; use moving between the
//! watermarks changes nothing.

use parking_lot::Mutex;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use thiserror::Error;

/// Watermarks as percentages of media capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WatermarkConfig {
    pub low_percent: u8,
    pub high_percent: u8,
}

impl Default for WatermarkConfig {
    fn default() -> Self {
        Self {
            low_percent: 80,
            high_percent: 90,
        }
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("watermarks {low}%,{high}% must satisfy 0 < low < high <= 100")]
pub struct WatermarkError {
    pub low: u8,
    pub high: u8,
}

impl WatermarkConfig {
    pub fn new(low_percent: u8, high_percent: u8) -> Result<Self, WatermarkError> {
        if low_percent == 0 || low_percent >= high_percent || high_percent > 100 {
            return Err(WatermarkError {
                low: low_percent,
                high: high_percent,
            });
        }
        Ok(Self {
            low_percent,
            high_percent,
        })
    }

    /// Thresholds in bytes of a media of `capacity` bytes.
    pub fn bytes(&self, capacity: u64) -> (u64, u64) {
        let of = |pct: u8| (u128::from(capacity) * u128::from(pct) / 100) as u64;
        (of(self.low_percent), of(self.high_percent))
    }
}

/// A transition of the pressure state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Crossing {
    /// Use reached the high watermark: pressure on.
    RoseAboveHigh,
    /// Use fell below the low watermark: pressure off.
    FellBelowLow,
}

pub struct Watermarks {
    capacity: u64,
    packed: AtomicU16,
    pressure: AtomicBool,
    /// Serialises transitions; the common case (no transition due) never
    /// takes it.
    transition: Mutex<()>,
}

impl Watermarks {
    pub fn new(capacity: u64, config: WatermarkConfig) -> Self {
        Self {
            capacity,
            packed: AtomicU16::new(Self::pack(config)),
            pressure: AtomicBool::new(false),
            transition: Mutex::new(()),
        }
    }

    fn pack(c: WatermarkConfig) -> u16 {
        u16::from(c.low_percent) | u16::from(c.high_percent) << 8
    }

    pub fn config(&self) -> WatermarkConfig {
        let p = self.packed.load(Ordering::Acquire);
        WatermarkConfig {
            low_percent: p as u8,
            high_percent: (p >> 8) as u8,
        }
    }

    pub fn under_pressure(&self) -> bool {
        self.pressure.load(Ordering::Acquire)
    }

    /// Installs new watermarks and re-evaluates against the current use.
    /// `report` runs, still under the transition lock, if the pressure
    /// state changed: crossings are reported in the order they happen.
    pub fn set(
        &self,
        config: WatermarkConfig,
        used: impl Fn() -> u64,
        report: impl FnOnce(Crossing),
    ) -> Option<Crossing> {
        let _t = self.transition.lock();
        self.packed.store(Self::pack(config), Ordering::Release);
        self.transition_locked(used()).inspect(|&c| report(c))
    }

    /// Checks whether media use (read through `used`, which must return the
    /// current figure) makes the pressure state change, and if so changes it
    /// and calls `report` under the transition lock (as [`Watermarks::set`]).
    pub fn evaluate(
        &self,
        used: impl Fn() -> u64,
        report: impl FnOnce(Crossing),
    ) -> Option<Crossing> {
        if !self.transition_due(used()) {
            return None;
        }
        let _t = self.transition.lock();
        // Re-read under the lock: another thread may have moved use back.
        self.transition_locked(used()).inspect(|&c| report(c))
    }

    fn transition_due(&self, used: u64) -> bool {
        let (low, high) = self.config().bytes(self.capacity);
        if self.under_pressure() {
            used < low
        } else {
            used >= high
        }
    }

    fn transition_locked(&self, used: u64) -> Option<Crossing> {
        if !self.transition_due(used) {
            return None;
        }
        let now_pressure = !self.under_pressure();
        self.pressure.store(now_pressure, Ordering::Release);
        Some(if now_pressure {
            Crossing::RoseAboveHigh
        } else {
            Crossing::FellBelowLow
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_order_and_range() {
        assert!(WatermarkConfig::new(80, 90).is_ok());
        assert!(WatermarkConfig::new(1, 100).is_ok());
        for (l, h) in [(0, 50), (50, 50), (60, 50), (50, 101)] {
            assert_eq!(
                WatermarkConfig::new(l, h),
                Err(WatermarkError { low: l, high: h })
            );
        }
    }

    #[test]
    fn one_crossing_per_transition_with_hysteresis() {
        let w = Watermarks::new(1000, WatermarkConfig::new(50, 80).unwrap());
        let trace = [100, 799, 800, 900, 700, 500, 499, 400, 800, 49];
        let got: Vec<_> = trace
            .iter()
            .map(|&used| w.evaluate(|| used, |_| {}))
            .collect();
        use Crossing::*;
        assert_eq!(
            got,
            [
                None,
                None,
                Some(RoseAboveHigh),
                None,
                None,
                None,
                Some(FellBelowLow),
                None,
                Some(RoseAboveHigh),
                Some(FellBelowLow),
            ]
        );
    }

    #[test]
    fn new_watermarks_are_applied_at_once() {
        let w = Watermarks::new(1000, WatermarkConfig::default());
        assert_eq!(w.evaluate(|| 600, |_| {}), None);
        assert_eq!(
            w.set(WatermarkConfig::new(10, 50).unwrap(), || 600, |_| {}),
            Some(Crossing::RoseAboveHigh)
        );
        assert!(w.under_pressure());
        assert_eq!(w.config(), WatermarkConfig::new(10, 50).unwrap());
    }
}
