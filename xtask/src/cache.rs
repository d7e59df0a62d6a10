//! The build cache outside the repository and the content hashes that key it.
//!
//! Root: `$ZCXL_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/zcxl`. Nothing
//! depends on the cache existing: every entry is rebuilt when missing or
//! incomplete (an entry is complete once its stamp file is written last).

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The cache root for the given environment lookups (pure, for tests).
pub fn cache_root_from(var: impl Fn(&str) -> Option<String>) -> PathBuf {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if let Some(dir) = set("ZCXL_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = set("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("zcxl");
    }
    let home = set("HOME").unwrap_or_else(|| "/root".to_string());
    PathBuf::from(home).join(".cache/zcxl")
}

pub fn cache_root() -> PathBuf {
    cache_root_from(|name| std::env::var(name).ok())
}

/// A content hash built from labelled parts, so that moving bytes from one
/// part to the next changes the key.
#[derive(Default)]
pub struct KeyHasher(Sha256);

impl KeyHasher {
    pub fn new(purpose: &str) -> Self {
        let mut h = KeyHasher(Sha256::new());
        h.part("purpose", purpose.as_bytes());
        h
    }

    pub fn part(&mut self, label: &str, bytes: &[u8]) -> &mut Self {
        for field in [label.as_bytes(), bytes] {
            self.0.update((field.len() as u64).to_le_bytes());
            self.0.update(field);
        }
        self
    }

    /// Every regular file under `dir` (recursively) whose name passes
    /// `keep`, by path relative to `dir` and content, in sorted order. A
    /// missing directory hashes as empty.
    pub fn dir(
        &mut self,
        label: &str,
        dir: &Path,
        keep: impl Fn(&Path) -> bool,
    ) -> Result<&mut Self> {
        let files = files_under(dir, &keep)?;
        self.part(label, &(files.len() as u64).to_le_bytes());
        for rel in files {
            let bytes = std::fs::read(dir.join(&rel))
                .with_context(|| format!("reading {}", dir.join(&rel).display()))?;
            self.part(&rel.to_string_lossy(), &bytes);
        }
        Ok(self)
    }

    /// The first 16 bytes as hex: short enough for paths, long enough to
    /// never collide by accident.
    pub fn finish(&self) -> String {
        let digest = self.0.clone().finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Regular files under `dir`, relative, sorted; skips hidden entries.
pub fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if dir.is_dir() {
        walk(dir, Path::new(""), keep, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(
    base: &Path,
    rel: &Path,
    keep: &dyn Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
) -> Result<()> {
    let here = base.join(rel);
    for entry in std::fs::read_dir(&here).with_context(|| format!("reading {}", here.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let rel = rel.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(base, &rel, keep, out)?;
        } else if kind.is_file() && keep(&rel) {
            out.push(rel);
        }
    }
    Ok(())
}

/// An exclusive lock on `path` (created if needed), held until dropped, so
/// two runs never build the same cache entry at once. Says who waits.
pub fn lock(path: &Path, what: &str) -> Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "    waiting for another run that holds the {what} lock ({})",
                path.display()
            );
            file.lock()
                .with_context(|| format!("locking {}", path.display()))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn cache_root_prefers_zcxl_cache_then_xdg_then_home() {
        let all = env(&[
            ("ZCXL_CACHE", "/c"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(cache_root_from(all), PathBuf::from("/c"));
        let xdg = env(&[("ZCXL_CACHE", ""), ("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(cache_root_from(xdg), PathBuf::from("/x/zcxl"));
        let home = env(&[("HOME", "/h")]);
        assert_eq!(cache_root_from(home), PathBuf::from("/h/.cache/zcxl"));
    }

    #[test]
    fn parts_are_framed() {
        let a = KeyHasher::new("t")
            .part("x", b"ab")
            .part("y", b"c")
            .finish();
        let b = KeyHasher::new("t")
            .part("x", b"a")
            .part("y", b"bc")
            .finish();
        let c = KeyHasher::new("t")
            .part("x", b"ab")
            .part("y", b"c")
            .finish();
        assert_ne!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.len(), 32);
        assert_ne!(
            a,
            KeyHasher::new("u")
                .part("x", b"ab")
                .part("y", b"c")
                .finish()
        );
    }

    #[test]
    fn dir_hash_follows_names_and_contents_only() {
        let d = tempfile::tempdir().unwrap();
        let hash = |d: &Path| {
            KeyHasher::new("t")
                .dir("d", d, |p| p.extension().is_some_and(|e| e == "patch"))
                .unwrap()
                .finish()
        };
        let empty = hash(&d.path().join("missing"));
        assert_eq!(empty, hash(d.path()), "missing and empty dirs hash alike");
        std::fs::write(d.path().join("0001-a.patch"), "one").unwrap();
        let one = hash(d.path());
        assert_ne!(one, empty);
        std::fs::write(d.path().join("notes.txt"), "ignored").unwrap();
        std::fs::write(d.path().join(".hidden.patch"), "ignored").unwrap();
        assert_eq!(
            hash(d.path()),
            one,
            "filtered and hidden files do not count"
        );
        std::fs::write(d.path().join("0001-a.patch"), "two").unwrap();
        assert_ne!(hash(d.path()), one, "content counts");
        std::fs::write(d.path().join("0001-a.patch"), "one").unwrap();
        assert_eq!(hash(d.path()), one);
        std::fs::rename(d.path().join("0001-a.patch"), d.path().join("0002-a.patch")).unwrap();
        assert_ne!(hash(d.path()), one, "names count (they order the series)");
    }

    #[test]
    fn lock_is_exclusive_between_handles() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("locks/x.lock");
        let held = lock(&path, "test").unwrap();
        let other = File::options().write(true).open(&path).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        drop(held);
        other.try_lock().unwrap();
    }
}
