//! Inputs as 4 KiB pages: files, directories and zip members.
//!
//! A directory contributes its regular files (sorted, not recursive); a
//! `.zip` file contributes each member, decompressed in memory, so the
//! Silesia zips are read where they are. A trailing partial page is
//! dropped (padding it would invent zero bytes the input does not have).

use crate::harness::{Page, PAGE_SIZE};
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Pages from one named source.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub pages: usize,
}

/// Pages of every path, in order, and where they came from.
pub fn load(paths: &[PathBuf]) -> Result<(Vec<Page>, Vec<Source>)> {
    let mut pages = Vec::new();
    let mut sources = Vec::new();
    for path in paths {
        for file in expand(path)? {
            if file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
            {
                read_zip(&file, &mut pages, &mut sources)?;
            } else {
                let bytes =
                    std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                add(file.display().to_string(), &bytes, &mut pages, &mut sources);
            }
        }
    }
    if pages.is_empty() {
        bail!("the corpus {paths:?} holds no whole 4 KiB page");
    }
    Ok((pages, sources))
}

/// A directory's regular files (sorted), or the path itself.
fn expand(path: &Path) -> Result<Vec<PathBuf>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot open {}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).with_context(|| format!("listing {}", path.display()))? {
        let entry = entry?;
        // Following symlinks, as a path given directly is followed.
        if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

fn read_zip(path: &Path, pages: &mut Vec<Page>, sources: &mut Vec<Source>) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("{} is not a readable zip", path.display()))?;
    for i in 0..zip.len() {
        let mut member = zip
            .by_index(i)
            .with_context(|| format!("{}: member {i}", path.display()))?;
        if !member.is_file() {
            continue;
        }
        let name = format!("{}:{}", path.display(), member.name());
        // The size in the zip's header is a hint, not to be trusted with
        // an allocation: the buffer grows with what actually decompresses.
        let hint = member.size().min(1 << 30);
        let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
        member
            .read_to_end(&mut bytes)
            .with_context(|| format!("decompressing {name}"))?;
        add(name, &bytes, pages, sources);
    }
    Ok(())
}

fn add(name: String, bytes: &[u8], pages: &mut Vec<Page>, sources: &mut Vec<Source>) {
    let before = pages.len();
    pages.extend(bytes.chunks_exact(PAGE_SIZE).map(|c| {
        let mut p = [0u8; PAGE_SIZE];
        p.copy_from_slice(c);
        p
    }));
    sources.push(Source {
        name,
        pages: pages.len() - before,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn files_directories_and_zip_members_become_pages() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.bin"), vec![1u8; 2 * PAGE_SIZE + 100]).unwrap();
        let mut zip = zip::ZipWriter::new(std::fs::File::create(dir.path().join("b.zip")).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("m1", opts).unwrap();
        zip.write_all(&vec![2u8; 3 * PAGE_SIZE]).unwrap();
        zip.start_file("m2", opts).unwrap();
        zip.write_all(&vec![3u8; PAGE_SIZE]).unwrap();
        zip.finish().unwrap();

        let (pages, sources) = load(&[dir.path().to_path_buf()]).unwrap();
        let counts: Vec<_> = sources.iter().map(|s| s.pages).collect();
        assert_eq!(counts, [2, 3, 1]);
        assert!(sources[1].name.ends_with("b.zip:m1"));
        assert_eq!(pages[0][0], 1);
        assert_eq!(pages[2][PAGE_SIZE - 1], 2);
        assert_eq!(pages[5][0], 3);

        // A directory of symlinks to the inputs reads the same.
        let links = tempfile::tempdir().unwrap();
        for f in ["a.bin", "b.zip"] {
            std::os::unix::fs::symlink(dir.path().join(f), links.path().join(f)).unwrap();
        }
        let (linked, _) = load(&[links.path().to_path_buf()]).unwrap();
        assert_eq!(linked, pages);
    }

    #[test]
    fn missing_and_empty_inputs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(&[dir.path().join("nope")]).is_err());
        std::fs::write(dir.path().join("tiny"), b"abc").unwrap();
        let err = load(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(err.to_string().contains("no whole 4 KiB page"), "{err}");
    }
}
