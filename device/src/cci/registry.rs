//! The command registry: one table is the dispatcher, the Command Effects
//! Log, and the list `specs/device.md` documents.
//!
//! Input sizes are checked here, once, before any handler runs; commands
//! whose input carries a count of trailing elements say `AtLeast` and check
//! the count themselves.

use super::commands::{events, generic, health, media_ops, memdev, poison, vendor};
use super::wire::In;
use super::{ReturnCode, MAX_PAYLOAD};
use crate::Device;

/// A handler sees a payload whose size the registry already accepted.
pub type Handler = fn(&Device, In<'_>) -> Result<Vec<u8>, ReturnCode>;

/// Accepted input payload sizes.
#[derive(Debug, Clone, Copy)]
pub enum InputSize {
    Exact(usize),
    AtLeast(usize),
    OneOf(&'static [usize]),
}

impl InputSize {
    pub fn accepts(&self, len: usize) -> bool {
        match *self {
            InputSize::Exact(n) => len == n,
            InputSize::AtLeast(n) => len >= n,
            InputSize::OneOf(sizes) => sizes.contains(&len),
        }
    }
}

/// Command effect bits as the Command Effects Log reports them (CXL 3.1
/// Table 8-75).
pub struct Effects;

impl Effects {
    pub const NONE: u16 = 0;
    pub const CONFIG_CHANGE_COLD_RESET: u16 = 1 << 0;
    pub const IMMEDIATE_CONFIG_CHANGE: u16 = 1 << 1;
    pub const IMMEDIATE_DATA_CHANGE: u16 = 1 << 2;
    pub const IMMEDIATE_POLICY_CHANGE: u16 = 1 << 3;
    pub const IMMEDIATE_LOG_CHANGE: u16 = 1 << 4;
}

/// One supported command.
pub struct CommandSpec {
    pub opcode: u16,
    pub name: &'static str,
    pub input: InputSize,
    pub effects: u16,
    pub handler: Handler,
}

const fn cmd(
    opcode: u16,
    name: &'static str,
    input: InputSize,
    effects: u16,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        opcode,
        name,
        input,
        effects,
        handler,
    }
}

use InputSize::{AtLeast, Exact, OneOf};

/// Every command the device implements, in opcode order.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        0x0001,
        "Identify",
        Exact(0),
        Effects::NONE,
        generic::identify,
    ),
    cmd(
        0x0100,
        "Get Event Records",
        Exact(1),
        Effects::NONE,
        events::get_records,
    ),
    cmd(
        0x0101,
        "Clear Event Records",
        AtLeast(6),
        Effects::IMMEDIATE_LOG_CHANGE,
        events::clear_records,
    ),
    cmd(
        0x0102,
        "Get Event Interrupt Policy",
        Exact(0),
        Effects::NONE,
        events::get_interrupt_policy,
    ),
    cmd(
        0x0103,
        "Set Event Interrupt Policy",
        OneOf(&[4, 5]),
        Effects::IMMEDIATE_CONFIG_CHANGE,
        events::set_interrupt_policy,
    ),
    cmd(
        0x0200,
        "Get FW Info",
        Exact(0),
        Effects::NONE,
        generic::get_fw_info,
    ),
    cmd(
        0x0300,
        "Get Timestamp",
        Exact(0),
        Effects::NONE,
        generic::get_timestamp,
    ),
    cmd(
        0x0301,
        "Set Timestamp",
        Exact(8),
        Effects::IMMEDIATE_POLICY_CHANGE,
        generic::set_timestamp,
    ),
    cmd(
        0x0400,
        "Get Supported Logs",
        Exact(0),
        Effects::NONE,
        generic::get_supported_logs,
    ),
    cmd(
        0x0401,
        "Get Log",
        Exact(24),
        Effects::NONE,
        generic::get_log,
    ),
    cmd(
        0x4000,
        "Identify Memory Device",
        Exact(0),
        Effects::NONE,
        memdev::identify,
    ),
    cmd(
        0x4100,
        "Get Partition Info",
        Exact(0),
        Effects::NONE,
        memdev::get_partition_info,
    ),
    cmd(0x4102, "Get LSA", Exact(8), Effects::NONE, memdev::get_lsa),
    cmd(
        0x4103,
        "Set LSA",
        AtLeast(8),
        Effects::IMMEDIATE_CONFIG_CHANGE | Effects::IMMEDIATE_DATA_CHANGE,
        memdev::set_lsa,
    ),
    cmd(
        0x4200,
        "Get Health Info",
        Exact(0),
        Effects::NONE,
        health::get_health_info,
    ),
    cmd(
        0x4201,
        "Get Alert Configuration",
        Exact(0),
        Effects::NONE,
        health::get_alert_config,
    ),
    cmd(
        0x4202,
        "Set Alert Configuration",
        Exact(12),
        Effects::IMMEDIATE_POLICY_CHANGE,
        health::set_alert_config,
    ),
    cmd(
        0x4300,
        "Get Poison List",
        Exact(16),
        Effects::NONE,
        poison::get_list,
    ),
    cmd(
        0x4301,
        "Inject Poison",
        Exact(8),
        Effects::IMMEDIATE_DATA_CHANGE,
        poison::inject,
    ),
    cmd(
        0x4302,
        "Clear Poison",
        Exact(72),
        Effects::IMMEDIATE_DATA_CHANGE,
        poison::clear,
    ),
    cmd(
        0x4402,
        "Media Operations",
        AtLeast(8),
        Effects::IMMEDIATE_DATA_CHANGE,
        media_ops::media_operations,
    ),
    cmd(
        vendor::GET_CAPABILITIES,
        "Get Compression Capabilities",
        Exact(0),
        Effects::NONE,
        vendor::get_capabilities,
    ),
    cmd(
        vendor::GET_STATISTICS,
        "Get Compression Statistics",
        Exact(0),
        Effects::NONE,
        vendor::get_statistics,
    ),
    cmd(
        vendor::GET_WATERMARKS,
        "Get Watermarks",
        Exact(0),
        Effects::NONE,
        vendor::get_watermarks,
    ),
    cmd(
        vendor::SET_WATERMARKS,
        "Set Watermarks",
        Exact(4),
        Effects::IMMEDIATE_POLICY_CHANGE,
        vendor::set_watermarks,
    ),
    cmd(
        vendor::GET_POLICY,
        "Get Compression Policy",
        Exact(0),
        Effects::NONE,
        vendor::get_policy,
    ),
    cmd(
        vendor::SET_POLICY,
        "Set Compression Policy",
        Exact(8),
        Effects::IMMEDIATE_POLICY_CHANGE,
        vendor::set_policy,
    ),
];

/// The registry entry for `opcode`.
pub fn find(opcode: u16) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.opcode == opcode)
}

/// Validates the input size and runs the command.
pub fn dispatch(device: &Device, opcode: u16, payload: &[u8]) -> Result<Vec<u8>, ReturnCode> {
    let spec = find(opcode).ok_or(ReturnCode::Unsupported)?;
    if !spec.input.accepts(payload.len()) {
        return Err(ReturnCode::InvalidPayloadLength);
    }
    let out = (spec.handler)(device, In(payload))?;
    if out.len() > MAX_PAYLOAD {
        tracing::error!(
            opcode,
            len = out.len(),
            "handler produced an oversized payload"
        );
        return Err(ReturnCode::InternalError);
    }
    Ok(out)
}

/// The Command Effects Log: one `{le16 opcode, le16 effects}` entry per
/// supported command.
pub fn command_effects_log() -> Vec<u8> {
    COMMANDS
        .iter()
        .flat_map(|c| {
            let mut e = [0u8; 4];
            e[..2].copy_from_slice(&c.opcode.to_le_bytes());
            e[2..].copy_from_slice(&c.effects.to_le_bytes());
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_are_unique_and_sorted() {
        for w in COMMANDS.windows(2) {
            assert!(w[0].opcode < w[1].opcode, "{} / {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn cel_lists_every_command() {
        let cel = command_effects_log();
        assert_eq!(cel.len(), COMMANDS.len() * 4);
        for (entry, c) in cel.chunks_exact(4).zip(COMMANDS) {
            assert_eq!(u16::from_le_bytes([entry[0], entry[1]]), c.opcode);
            assert_eq!(u16::from_le_bytes([entry[2], entry[3]]), c.effects);
        }
    }
}
