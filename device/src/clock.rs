//! The device timestamp (CXL Get/Set Timestamp): nanoseconds since the Unix
//! epoch as last set by the host, advanced by a monotonic clock. Until the
//! host sets it, the device reports 0, as the specification's "not set"
//! value.

use parking_lot::Mutex;
use std::time::Instant;

#[derive(Debug, Default)]
pub struct DeviceClock {
    base: Mutex<Option<(u64, Instant)>>,
}

impl DeviceClock {
    pub fn now_ns(&self) -> u64 {
        match *self.base.lock() {
            Some((ns, at)) => ns.saturating_add(at.elapsed().as_nanos() as u64),
            None => 0,
        }
    }

    pub fn set_ns(&self, ns: u64) {
        *self.base.lock() = Some((ns, Instant::now()));
    }

    pub fn is_set(&self) -> bool {
        self.base.lock().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_zero_until_set_then_advances() {
        let c = DeviceClock::default();
        assert_eq!(c.now_ns(), 0);
        assert!(!c.is_set());
        c.set_ns(1_000_000_000);
        let a = c.now_ns();
        let b = c.now_ns();
        assert!(a >= 1_000_000_000 && b >= a);
    }
}
