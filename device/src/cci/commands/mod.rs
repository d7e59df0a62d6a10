//! Command handlers, one module per CXL command set (and one for ours).
//! Handlers receive payloads whose size the registry accepted.

pub mod events;
pub mod generic;
pub mod health;
pub mod media_ops;
pub mod memdev;
pub mod poison;
pub mod vendor;

pub use health::AlertConfig;

/// "zcxl <version>", the firmware revision every identify command reports.
pub fn fw_revision() -> String {
    format!("zcxl {}", env!("CARGO_PKG_VERSION"))
}
