//! Health commands: Get Health Info, Get/Set Alert Configuration.

use crate::cci::wire::{In, Out};
use crate::cci::ReturnCode;
use crate::Device;

/// Health status bit: maintenance needed.
pub const HEALTH_MAINTENANCE_NEEDED: u8 = 1 << 0;
/// "Not implemented" values of Get Health Info fields.
pub const LIFE_USED_NOT_IMPLEMENTED: u8 = 0xff;
pub const TEMPERATURE_NOT_IMPLEMENTED: u16 = 0xffff;

/// Get Health Info (4200h). The device has no wear or temperature sensor;
/// it needs maintenance while pages it failed to store are still poisoned.
pub fn get_health_info(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let lost = dev.media().holds_internal_poison();
    let mut o = Out::with_capacity(18);
    o.u8(if lost { HEALTH_MAINTENANCE_NEEDED } else { 0 })
        .u8(0) // media status: normal
        .u8(0) // additional status: all normal
        .u8(LIFE_USED_NOT_IMPLEMENTED)
        .u16(TEMPERATURE_NOT_IMPLEMENTED)
        .u32(0) // dirty shutdowns
        .u32(0) // corrected volatile errors
        .u32(0); // corrected persistent errors
    Ok(o.done())
}

/// Alert thresholds (Get/Set Alert Configuration). Temperatures are
/// two's complement degrees Celsius.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertConfig {
    pub valid_alerts: u8,
    pub life_used_critical: u8,
    pub life_used_warning: u8,
    pub over_temp_critical: i16,
    pub under_temp_critical: i16,
    pub over_temp_warning: i16,
    pub under_temp_warning: i16,
    pub corrected_volatile_warning: u16,
    pub corrected_persistent_warning: u16,
}

/// Alert bits, in valid/programmable/action masks.
const ALERT_LIFE_USED: u8 = 1 << 0;
const ALERT_OVER_TEMP: u8 = 1 << 1;
const ALERT_UNDER_TEMP: u8 = 1 << 2;
const ALERT_CORRECTED_VOLATILE: u8 = 1 << 3;
const ALERT_CORRECTED_PERSISTENT: u8 = 1 << 4;
const ALERTS_ALL: u8 = 0x1f;

impl Default for AlertConfig {
    fn default() -> Self {
        Self {
            valid_alerts: 0,
            life_used_critical: 100,
            life_used_warning: 0,
            over_temp_critical: 100,
            under_temp_critical: -40,
            over_temp_warning: 0,
            under_temp_warning: 0,
            corrected_volatile_warning: 0,
            corrected_persistent_warning: 0,
        }
    }
}

/// Get Alert Configuration (4201h).
pub fn get_alert_config(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let a = *dev.alerts.lock();
    let mut o = Out::with_capacity(16);
    o.u8(a.valid_alerts)
        .u8(ALERTS_ALL) // every warning threshold is programmable
        .u8(a.life_used_critical)
        .u8(a.life_used_warning)
        .u16(a.over_temp_critical as u16)
        .u16(a.under_temp_critical as u16)
        .u16(a.over_temp_warning as u16)
        .u16(a.under_temp_warning as u16)
        .u16(a.corrected_volatile_warning)
        .u16(a.corrected_persistent_warning);
    Ok(o.done())
}

/// Set Alert Configuration (4202h): for each alert whose bit is set in
/// "valid alert actions", enable or disable it per "enable alert actions"
/// and take its new warning threshold. Warnings must stay inside the
/// critical thresholds.
pub fn set_alert_config(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let valid = p.u8(0)?;
    let enable = p.u8(1)?;
    p.reserved(3, 1)?;
    if (valid | enable) & !ALERTS_ALL != 0 || enable & !valid != 0 {
        return Err(ReturnCode::InvalidInput);
    }
    let life = p.u8(2)?;
    let over = p.u16(4)? as i16;
    let under = p.u16(6)? as i16;
    let volatile = p.u16(8)?;
    let persistent = p.u16(10)?;
    let mut a = dev.alerts.lock();
    let mut next = *a;
    let mut apply = |bit: u8, set: &mut dyn FnMut(&mut AlertConfig)| {
        if valid & bit != 0 {
            if enable & bit != 0 {
                next.valid_alerts |= bit;
                set(&mut next);
            } else {
                next.valid_alerts &= !bit;
            }
        }
    };
    apply(ALERT_LIFE_USED, &mut |c| c.life_used_warning = life);
    apply(ALERT_OVER_TEMP, &mut |c| c.over_temp_warning = over);
    apply(ALERT_UNDER_TEMP, &mut |c| c.under_temp_warning = under);
    apply(ALERT_CORRECTED_VOLATILE, &mut |c| {
        c.corrected_volatile_warning = volatile
    });
    apply(ALERT_CORRECTED_PERSISTENT, &mut |c| {
        c.corrected_persistent_warning = persistent
    });
    let enabled = |bit| next.valid_alerts & bit != 0;
    if (enabled(ALERT_LIFE_USED) && next.life_used_warning >= next.life_used_critical)
        || (enabled(ALERT_OVER_TEMP) && next.over_temp_warning >= next.over_temp_critical)
        || (enabled(ALERT_UNDER_TEMP) && next.under_temp_warning <= next.under_temp_critical)
    {
        return Err(ReturnCode::InvalidInput);
    }
    *a = next;
    Ok(Vec::new())
}
