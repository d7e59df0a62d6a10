//! A corpus file for the guest: the zswap checks fill their pages from it
//! (`ZCXL_CORPUS`), so the device compresses real data. Read in place from
//! the Silesia corpus beside the repository (`../shared/corpus/silesia`, the
//! same place `cargo xtask bench` reads) and unzipped into the initramfs at
//! build time; never copied into the repository. Without the corpus the
//! checks fill pages with their own generated mix.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The Silesia member the guest gets: English text (10 MiB), small enough to
/// sit in the initramfs and in a workload's memory.
pub const MEMBER: &str = "dickens";

/// Where the corpus file is in the guest. The value reaches init through
/// the kernel command line, which passes only dot-free words on.
pub fn guest_path(member: &str) -> String {
    format!("/zcxl/corpus/{member}")
}

/// The Silesia directory beside the repository.
pub fn default_dir(workspace: &Path) -> PathBuf {
    workspace.join("../shared/corpus/silesia")
}

/// The unpacked `member` from `<dir>/<member>.zip`, or None when the
/// corpus is not there.
pub fn load(dir: &Path, member: &str) -> Result<Option<Vec<u8>>> {
    let path = dir.join(format!("{member}.zip"));
    if !path.is_file() {
        return Ok(None);
    }
    let file = std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("{} is not a readable zip", path.display()))?;
    let mut entry = zip
        .by_name(member)
        .with_context(|| format!("{} has no member {member}", path.display()))?;
    let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
    entry
        .read_to_end(&mut bytes)
        .with_context(|| format!("unpacking {member} from {}", path.display()))?;
    if bytes.is_empty() {
        bail!("{member} in {} is empty", path.display());
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(path: &Path, name: &str, data: &[u8]) {
        let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file(name, opts).unwrap();
        z.write_all(data).unwrap();
        z.finish().unwrap();
    }

    #[test]
    fn member_is_unpacked_and_absence_is_not_an_error() {
        let d = tempfile::tempdir().unwrap();
        assert!(load(d.path(), "dickens").unwrap().is_none());
        let text = b"It was the best of times. ".repeat(1000);
        zip_with(&d.path().join("dickens.zip"), "dickens", &text);
        assert_eq!(load(d.path(), "dickens").unwrap().unwrap(), text);
    }

    #[test]
    fn wrong_member_or_garbage_is_a_precise_error() {
        let d = tempfile::tempdir().unwrap();
        zip_with(&d.path().join("dickens.zip"), "other", b"x");
        let e = load(d.path(), "dickens").unwrap_err();
        assert!(format!("{e:#}").contains("no member dickens"), "{e:#}");
        std::fs::write(d.path().join("xml.zip"), b"not a zip").unwrap();
        let e = load(d.path(), "xml").unwrap_err();
        assert!(format!("{e:#}").contains("not a readable zip"), "{e:#}");
    }

    #[test]
    fn guest_path_survives_the_kernel_command_line() {
        let p = guest_path(MEMBER);
        assert!(p.starts_with('/') && !p.contains('.') && !p.contains(' '));
    }
}
