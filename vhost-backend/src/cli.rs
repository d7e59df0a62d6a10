//! Command line, its validation and the daemon's errors, side by side as
//! in rust-vmm's vhost-device daemons.

use crate::virtio_zcxl::{BackingMode, CONFIG_SIZE, FIRST_DATA_QUEUE, MAX_DATA_QUEUES};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use thiserror::Error;
use zcxl_device::codec::{CodecId, CompressionPolicy, ZSTD_LEVELS};
use zcxl_device::media::WatermarkConfig;
use zcxl_device::{CAPACITY_UNIT, PAGE_SIZE};

/// Largest logical capacity the device model accepts.
const MAX_CAPACITY: u64 = 1 << 40;
/// Smallest media: one arena slab.
const MIN_MEDIA: u64 = 64 << 10;

/// Everything that stops the daemon from starting or running.
#[derive(Debug, Error)]
pub enum Error {
    #[error("--capacity {0}: must be a positive multiple of 256M (the CXL capacity unit), e.g. 256M, 1G, 4G")]
    CapacityUnit(Size),
    #[error("--capacity {0}: must be a power of two (QEMU sizes BAR 4 to a power of two), e.g. 1G, 2G, 4G")]
    CapacityPowerOfTwo(Size),
    #[error("--capacity {0}: at most 1T is supported")]
    CapacityTooLarge(Size),
    #[error("--media {0}: must be a multiple of 4K and at least 64K")]
    MediaUnit(Size),
    #[error(
        "--media {media} is larger than --capacity {capacity}; give at most {capacity} of media"
    )]
    MediaLargerThanCapacity { media: Size, capacity: Size },
    #[error("--watermarks {0},{1}: need 0 < low < high <= 100 (percent of media), e.g. 80,90")]
    Watermarks(u8, u8),
    #[error("--queues {0}: between 1 and 16 data queues are supported")]
    Queues(u16),
    #[error("--queue-size {0}: must be a power of two between 2 and 32768")]
    QueueSize(u16),
    #[error("--virtio-id 0 is not a virtio device ID; use an ID QEMU knows, e.g. the default 6")]
    VirtioId,
    #[error("--backing compressed needs the scanner to catch pages touched without read-prepare; give --scan-interval a value above 0")]
    CompressedWithoutScanner,
    #[error("--socket-mode {0}: give an octal permission such as 600 or 660")]
    SocketMode(String),
    #[error("socket {0} is in use by a running back-end; stop it or choose another --socket-path")]
    SocketInUse(PathBuf),
    #[error("{0} exists and is not a socket; remove it or choose another --socket-path")]
    NotASocket(PathBuf),
    #[error("cannot listen on {path}: {source}")]
    Listen {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("label storage file {path}: {source}")]
    Labels {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the device: {0}")]
    Device(#[from] zcxl_device::DeviceError),
    #[error("cannot create the {len}-byte window: {source}")]
    Window { len: u64, source: std::io::Error },
    #[error("stats file {path}: {source}")]
    StatsFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot reach a daemon at {path}: {source} (is zcxl-vhost running with this --socket-path?)")]
    Control {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("vhost-user: {0}")]
    VhostUser(String),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
}

/// A byte size given on the command line (`4G`, `512M`, `65536`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        for (shift, suffix) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
            if v != 0 && v % (1u64 << shift) == 0 {
                return write!(f, "{}{suffix}", v >> shift);
            }
        }
        write!(f, "{v}")
    }
}

impl std::str::FromStr for Size {
    type Err = String;

    /// Bytes with an optional binary suffix K, M, G or T (case-insensitive,
    /// an optional trailing "iB" or "B" is accepted).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t
            .strip_suffix("iB")
            .or_else(|| t.strip_suffix("ib"))
            .or_else(|| t.strip_suffix('B'))
            .or_else(|| t.strip_suffix('b'))
            .unwrap_or(t);
        let (num, shift) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
            Some('K') => (&t[..t.len() - 1], 10),
            Some('M') => (&t[..t.len() - 1], 20),
            Some('G') => (&t[..t.len() - 1], 30),
            Some('T') => (&t[..t.len() - 1], 40),
            _ => (t, 0),
        };
        let n: u64 = num
            .parse()
            .map_err(|_| format!("`{s}` is not a size; write e.g. 4G, 512M, 64K or 65536"))?;
        n.checked_mul(1u64 << shift)
            .map(Size)
            .ok_or_else(|| format!("`{s}` does not fit in 64 bits"))
    }
}

/// `lz4`, `zstd` or `zstd:LEVEL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codec {
    pub id: CodecId,
    pub zstd_level: i8,
}

impl std::str::FromStr for Codec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let default_level = CompressionPolicy::default().zstd_level;
        match s.split_once(':') {
            None if s == "lz4" => Ok(Self {
                id: CodecId::Lz4,
                zstd_level: default_level,
            }),
            None if s == "zstd" => Ok(Self {
                id: CodecId::Zstd,
                zstd_level: default_level,
            }),
            Some(("zstd", level)) => match level.parse::<i8>() {
                Ok(l) if ZSTD_LEVELS.contains(&l) => Ok(Self {
                    id: CodecId::Zstd,
                    zstd_level: l,
                }),
                _ => Err(format!(
                    "zstd level `{level}` is outside {}..={}",
                    ZSTD_LEVELS.start(),
                    ZSTD_LEVELS.end()
                )),
            },
            _ => Err(format!(
                "`{s}`: choose lz4, zstd or zstd:LEVEL (e.g. zstd:3)"
            )),
        }
    }
}

fn parse_watermarks(s: &str) -> Result<(u8, u8), String> {
    let bad = || format!("`{s}`: write LOW,HIGH in percent of media, e.g. 80,90");
    let (l, h) = s.split_once(',').ok_or_else(bad)?;
    Ok((
        l.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    ))
}

#[derive(Debug, Parser)]
#[command(
    name = "zcxl-vhost",
    version,
    about = "vhost-user back-end of the zcxl compressed CXL Type-3 memory expander",
    long_about = "zcxl-vhost serves a compressed-memory device to QEMU (>= 11.1) over \
vhost-user. The guest sees a virtio device (vhost-user-test-device-pci) whose \
BAR 4 is the device's memory window; a mailbox queue carries CXL CCI commands, \
an event queue reports event logs and pressure, and data queues carry page \
hints that the device compresses.\n\n\
On start it prints the -chardev/-device options QEMU needs. Guest RAM must be \
shared: -object memory-backend-memfd,id=mem,size=...,share=on \
-machine q35,memory-backend=mem.\n\n\
Sizes accept K, M, G and T suffixes (binary).",
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the statistics of a running daemon as JSON.
    Stats {
        /// The --socket-path the daemon was started with.
        #[arg(short = 's', long)]
        socket_path: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DaemonArgs {
    /// vhost-user socket to listen on (QEMU's -chardev socket,path=...).
    #[arg(short = 's', long, required = true)]
    pub socket_path: Option<PathBuf>,
    /// Logical capacity L = size of the window the guest sees: a power of
    /// two and a multiple of 256M, at most 1T.
    #[arg(short = 'c', long, required = true)]
    pub capacity: Option<Size>,
    /// Media capacity M: the bytes the device physically owns (at most L).
    #[arg(short = 'm', long, required = true)]
    pub media: Option<Size>,
    /// Compression codec: lz4, zstd or zstd:LEVEL (1-19).
    #[arg(long, default_value = "lz4")]
    pub codec: Codec,
    /// Low and high watermarks on media use, percent: LOW,HIGH.
    #[arg(long, default_value = "80,90", value_parser = parse_watermarks)]
    pub watermarks: (u8, u8),
    /// How the window is backed on the host: `shadow` keeps every page,
    /// `compressed` releases stored pages (read-prepare restores them).
    #[arg(long, value_enum, default_value_t = BackingMode::Shadow)]
    pub backing: BackingMode,
    /// Number of data queues (1-16); each gets its own worker thread.
    #[arg(short = 'q', long, default_value_t = 1)]
    pub queues: u16,
    /// Largest virtqueue size accepted (QEMU's vq_size=).
    #[arg(long, default_value_t = 256)]
    pub queue_size: u16,
    /// Serial number reported in config space and by Identify.
    #[arg(long, default_value_t = 1)]
    pub serial: u64,
    /// Keep the label storage area (128K) in this file across restarts.
    #[arg(long)]
    pub lsa: Option<PathBuf>,
    /// Virtio device ID; must be one QEMU knows (6 has no other driver).
    #[arg(long, default_value_t = 6)]
    pub virtio_id: u16,
    /// Write statistics as JSON to this file (0600) periodically.
    #[arg(long)]
    pub stats: Option<PathBuf>,
    /// How often the stats file is rewritten, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub stats_interval: u64,
    /// How often the scanner looks for pages changed without a hint, in
    /// milliseconds (0 turns it off).
    #[arg(long, default_value_t = 1000)]
    pub scan_interval: u32,
    /// Permissions of the socket, octal.
    #[arg(long, default_value = "600")]
    pub socket_mode: String,
}

/// A validated daemon configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub socket_path: PathBuf,
    pub capacity: u64,
    pub media: u64,
    pub policy: CompressionPolicy,
    pub watermarks: WatermarkConfig,
    pub backing: BackingMode,
    pub queues: u16,
    pub queue_size: u16,
    pub serial: u64,
    pub lsa: Option<PathBuf>,
    pub virtio_id: u16,
    pub stats: Option<PathBuf>,
    pub stats_interval_ms: u64,
    pub scan_interval_ms: u32,
    pub socket_mode: u32,
}

impl DaemonArgs {
    /// Checks every value; the error says what to change.
    pub fn validate(&self) -> Result<Config, Error> {
        let (Some(socket_path), Some(capacity), Some(media)) =
            (self.socket_path.clone(), self.capacity, self.media)
        else {
            // clap makes them required; reaching this is a usage error.
            return Err(Error::VhostUser(
                "--socket-path, --capacity and --media are required".into(),
            ));
        };
        if capacity.0 == 0 || capacity.0 % CAPACITY_UNIT != 0 {
            return Err(Error::CapacityUnit(capacity));
        }
        if !capacity.0.is_power_of_two() {
            return Err(Error::CapacityPowerOfTwo(capacity));
        }
        if capacity.0 > MAX_CAPACITY {
            return Err(Error::CapacityTooLarge(capacity));
        }
        if media.0 % PAGE_SIZE as u64 != 0 || media.0 < MIN_MEDIA {
            return Err(Error::MediaUnit(media));
        }
        if media.0 > capacity.0 {
            return Err(Error::MediaLargerThanCapacity { media, capacity });
        }
        let (low, high) = self.watermarks;
        let watermarks =
            WatermarkConfig::new(low, high).map_err(|_| Error::Watermarks(low, high))?;
        if self.queues == 0 || self.queues > MAX_DATA_QUEUES {
            return Err(Error::Queues(self.queues));
        }
        if self.queue_size < 2 || !self.queue_size.is_power_of_two() {
            return Err(Error::QueueSize(self.queue_size));
        }
        if self.virtio_id == 0 {
            return Err(Error::VirtioId);
        }
        if self.backing == BackingMode::Compressed && self.scan_interval == 0 {
            return Err(Error::CompressedWithoutScanner);
        }
        let socket_mode = u32::from_str_radix(&self.socket_mode, 8)
            .ok()
            .filter(|m| *m <= 0o777)
            .ok_or_else(|| Error::SocketMode(self.socket_mode.clone()))?;
        Ok(Config {
            socket_path,
            capacity: capacity.0,
            media: media.0,
            policy: CompressionPolicy {
                codec: self.codec.id,
                zstd_level: self.codec.zstd_level,
                ..CompressionPolicy::default()
            },
            watermarks,
            backing: self.backing,
            queues: self.queues,
            queue_size: self.queue_size,
            serial: self.serial,
            lsa: self.lsa.clone(),
            virtio_id: self.virtio_id,
            stats: self.stats.clone(),
            stats_interval_ms: self.stats_interval.max(10),
            scan_interval_ms: self.scan_interval,
            socket_mode,
        })
    }
}

impl Config {
    pub fn num_vqs(&self) -> usize {
        FIRST_DATA_QUEUE + usize::from(self.queues)
    }

    /// The QEMU options that attach this daemon.
    pub fn qemu_fragment(&self) -> String {
        let path = std::path::absolute(&self.socket_path).unwrap_or(self.socket_path.clone());
        format!(
            "-chardev socket,id=zcxl0,path={} -device vhost-user-test-device-pci,chardev=zcxl0,virtio-id={},num_vqs={},vq_size={},config_size={}",
            path.display(),
            self.virtio_id,
            self.num_vqs(),
            self.queue_size,
            CONFIG_SIZE
        )
    }

    /// Guest RAM needed beside the fragment (QEMU must share it with us).
    pub fn memory_hint(&self) -> String {
        format!(
            "guest RAM must be shared: -object memory-backend-memfd,id=mem,size=<RAM>,share=on -machine q35,memory-backend=mem (window: {} at BAR 4)",
            Size(self.capacity)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn args(extra: &[&str]) -> Result<Config, String> {
        let mut v = vec!["zcxl-vhost", "-s", "/tmp/x.sock"];
        v.extend_from_slice(extra);
        let cli = Cli::try_parse_from(v).map_err(|e| e.to_string())?;
        cli.daemon.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!("4G".parse::<Size>(), Ok(Size(4 << 30)));
        assert_eq!("512m".parse::<Size>(), Ok(Size(512 << 20)));
        assert_eq!("64KiB".parse::<Size>(), Ok(Size(64 << 10)));
        assert_eq!("1T".parse::<Size>(), Ok(Size(1 << 40)));
        assert_eq!("65536".parse::<Size>(), Ok(Size(65536)));
        assert!("4X".parse::<Size>().is_err());
        assert!("99999999999T".parse::<Size>().is_err());
        assert_eq!(Size(3 << 30).to_string(), "3G");
        assert_eq!(Size(1000).to_string(), "1000");
    }

    #[test]
    fn a_good_configuration_and_its_qemu_fragment() {
        let c = args(&["--capacity", "4G", "--media", "1G", "--queues", "2"]).unwrap();
        assert_eq!((c.capacity, c.media, c.queues), (4 << 30, 1 << 30, 2));
        assert_eq!(c.num_vqs(), 4);
        assert_eq!(
            c.qemu_fragment(),
            "-chardev socket,id=zcxl0,path=/tmp/x.sock -device vhost-user-test-device-pci,chardev=zcxl0,virtio-id=6,num_vqs=4,vq_size=256,config_size=64"
        );
        assert_eq!(c.socket_mode, 0o600);
        assert_eq!(c.policy.codec, CodecId::Lz4);
        let z = args(&[
            "-c",
            "1G",
            "-m",
            "1G",
            "--codec",
            "zstd:7",
            "--backing",
            "compressed",
        ])
        .unwrap();
        assert_eq!((z.policy.codec, z.policy.zstd_level), (CodecId::Zstd, 7));
        assert_eq!(z.backing, BackingMode::Compressed);
    }

    #[test]
    fn bad_values_say_what_to_change() {
        let cases: &[(&[&str], &str)] = &[
            (&["-c", "300M", "-m", "1M"], "multiple of 256M"),
            (&["-c", "768M", "-m", "1M"], "power of two"),
            (&["-c", "2T", "-m", "1M"], "at most 1T"),
            (&["-c", "1G", "-m", "2G"], "larger than --capacity"),
            (&["-c", "1G", "-m", "5000"], "multiple of 4K"),
            (
                &["-c", "1G", "-m", "1G", "--watermarks", "90,80"],
                "0 < low < high",
            ),
            (&["-c", "1G", "-m", "1G", "--watermarks", "90"], "LOW,HIGH"),
            (
                &["-c", "1G", "-m", "1G", "--queues", "17"],
                "between 1 and 16",
            ),
            (
                &["-c", "1G", "-m", "1G", "--queue-size", "100"],
                "power of two",
            ),
            (
                &["-c", "1G", "-m", "1G", "--virtio-id", "0"],
                "virtio device ID",
            ),
            (&["-c", "1G", "-m", "1G", "--socket-mode", "9"], "octal"),
            (
                &["-c", "1G", "-m", "1G", "--codec", "zstd:30"],
                "outside 1..=19",
            ),
            (&["-c", "1G", "-m", "1G", "--codec", "gzip"], "choose lz4"),
            (&["-c", "lots", "-m", "1G"], "not a size"),
            (
                &[
                    "-c",
                    "1G",
                    "-m",
                    "1G",
                    "--backing",
                    "compressed",
                    "--scan-interval",
                    "0",
                ],
                "--scan-interval a value above 0",
            ),
        ];
        for (a, want) in cases {
            let err = args(a).unwrap_err();
            assert!(err.contains(want), "{a:?}: `{err}` lacks `{want}`");
        }
    }

    #[test]
    fn stats_subcommand_needs_no_daemon_arguments() {
        let cli = Cli::try_parse_from(["zcxl-vhost", "stats", "-s", "/tmp/x.sock"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Stats { .. })));
        assert!(Cli::try_parse_from(["zcxl-vhost", "-s", "/x"]).is_err());
    }
}
