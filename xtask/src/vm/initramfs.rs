//! The guest's initramfs: a `newc` cpio archive written directly (no host
//! tool needed), from a list of entries.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Dir {
        path: String,
    },
    File {
        path: String,
        mode: u32,
        data: Vec<u8>,
    },
    Symlink {
        path: String,
        target: String,
    },
    /// A character device node (e.g. /dev/console, needed before devtmpfs).
    CharDev {
        path: String,
        major: u32,
        minor: u32,
    },
}

impl Entry {
    pub fn file(path: &str, mode: u32, data: Vec<u8>) -> Entry {
        Entry::File {
            path: path.to_string(),
            mode,
            data,
        }
    }

    pub fn dir(path: &str) -> Entry {
        Entry::Dir {
            path: path.to_string(),
        }
    }
}

/// The archive bytes for `entries` (in order), ending with the trailer.
pub fn cpio(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ino, e) in (1u32..).zip(entries) {
        let (path, mode, data, rdev): (&str, u32, &[u8], (u32, u32)) = match e {
            Entry::Dir { path } => (path, 0o040755, &[], (0, 0)),
            Entry::File { path, mode, data } => (path, 0o100000 | (mode & 0o7777), data, (0, 0)),
            Entry::Symlink { path, target } => (path, 0o120777, target.as_bytes(), (0, 0)),
            Entry::CharDev { path, major, minor } => (path, 0o020600, &[], (*major, *minor)),
        };
        let nlink = if matches!(e, Entry::Dir { .. }) { 2 } else { 1 };
        header(&mut out, ino, mode, nlink, data.len(), rdev, path);
        out.extend_from_slice(data);
        pad4(&mut out);
    }
    header(&mut out, 0, 0, 1, 0, (0, 0), "TRAILER!!!");
    out
}

fn header(
    out: &mut Vec<u8>,
    ino: u32,
    mode: u32,
    nlink: u32,
    size: usize,
    rdev: (u32, u32),
    name: &str,
) {
    let name = name.trim_start_matches('/');
    let fields = [
        ino,
        mode,
        0, // uid
        0, // gid
        nlink,
        0, // mtime: fixed, so the archive is reproducible
        size as u32,
        0, // dev major
        0, // dev minor
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0, // check
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// Write the archive to `path` (atomically: a reader never sees half).
pub fn write(path: &Path, entries: &[Entry]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(&cpio(entries))?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read back (name, mode, rdev major, data) with an independent parser.
    fn parse(mut b: &[u8]) -> Vec<(String, u32, u32, Vec<u8>)> {
        let mut out = Vec::new();
        let mut offset = 0usize;
        loop {
            assert_eq!(&b[..6], b"070701");
            let field = |i: usize| {
                u32::from_str_radix(std::str::from_utf8(&b[6 + 8 * i..14 + 8 * i]).unwrap(), 16)
                    .unwrap()
            };
            let (mode, size, rmaj, namesize) =
                (field(1), field(6) as usize, field(9), field(11) as usize);
            let name = String::from_utf8(b[110..110 + namesize - 1].to_vec()).unwrap();
            let data_at = (offset + 110 + namesize).next_multiple_of(4) - offset;
            let data = b[data_at..data_at + size].to_vec();
            let next = (offset + data_at + size).next_multiple_of(4) - offset;
            if name == "TRAILER!!!" {
                assert_eq!(b.len(), next, "nothing after the trailer but padding");
                return out;
            }
            out.push((name, mode, rmaj, data));
            offset += next;
            b = &b[next..];
        }
    }

    #[test]
    fn archive_round_trips() {
        let entries = vec![
            Entry::dir("/bin"),
            Entry::file("/bin/busybox", 0o755, b"ELF...".to_vec()),
            Entry::Symlink {
                path: "/bin/sh".into(),
                target: "busybox".into(),
            },
            Entry::CharDev {
                path: "/dev/console".into(),
                major: 5,
                minor: 1,
            },
            Entry::file("/init", 0o755, b"#!/bin/sh\n".to_vec()),
        ];
        let archive = cpio(&entries);
        assert_eq!(archive.len() % 4, 0);
        let back = parse(&archive);
        let names: Vec<_> = back.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            ["bin", "bin/busybox", "bin/sh", "dev/console", "init"]
        );
        assert_eq!(back[0].1, 0o040755);
        assert_eq!(back[1].1, 0o100755);
        assert_eq!(back[1].3, b"ELF...");
        assert_eq!(
            (back[2].1, back[2].3.as_slice()),
            (0o120777, b"busybox".as_slice())
        );
        assert_eq!((back[3].1, back[3].2), (0o020600, 5));
        assert_eq!(back[4].3, b"#!/bin/sh\n");
        assert_eq!(archive, cpio(&entries), "reproducible");
    }
}
