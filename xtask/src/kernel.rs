//! `cargo xtask kernel`: the guest kernel, built in the Debian root from
//! `linux-source-7.3` with `driver/config/*.config` and the series in
//! `driver/patches/*.patch`.
//!
//! One build tree is kept in `<cache>/kernel/` (`src/` pristine source plus
//! patches, `obj/` the `O=` output). It is stamped with the cache key, a
//! content hash of the recipe, the source and compiler package versions, the
//! config fragment and the patches: a matching stamp means nothing to do.
//! When only patches or config changed, the same tree is reused: the new
//! series is applied to the pristine source (git) in a scratch index and the
//! work tree moved to the result, rewriting only the files that differ, then
//! make rebuilds what changed. A new source version starts from scratch.

use crate::cache::KeyHasher;
use crate::cmd::workspace_root;
use crate::progress::run_step;
use crate::vm::chroot::Bind;
use crate::vm::Env;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when the build steps change in a way that invalidates trees.
const RECIPE_VERSION: &str = "1";
const SOURCE_TARBALL: &str = "/usr/src/linux-source-7.3.tar.xz";
/// Packages whose versions are part of the key.
const KEYED_PACKAGES: &[&str] = &["linux-source-7.3", "gcc-14", "binutils"];
/// Where the kernel cache appears inside the root.
pub const INSIDE: &str = "/zcxl/kernel";

/// A finished kernel build. It holds the kernel lock while it lives, so the
/// tree cannot change under module builds; drop it once the guest files
/// are built.
pub struct Kernel {
    pub key: String,
    _lock: std::fs::File,
    /// The `O=` directory on the host.
    pub obj: PathBuf,
    pub bzimage: PathBuf,
    pub release: String,
}

impl Kernel {
    /// The `O=` directory as seen inside the root (for `make -C … M=…`).
    pub fn obj_inside() -> &'static str {
        "/zcxl/kernel/obj"
    }
}

fn config_dir() -> PathBuf {
    workspace_root().join("driver/config")
}

fn patch_dir() -> PathBuf {
    workspace_root().join("driver/patches")
}

fn is_config(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "config") && p.parent() == Some(Path::new(""))
}

fn is_patch(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "patch") && p.parent() == Some(Path::new(""))
}

/// The cache key: recipe, package versions, fragment, patches.
pub fn cache_key(package_versions: &str, config: &Path, patches: &Path) -> Result<String> {
    let mut h = KeyHasher::new("zcxl guest kernel");
    h.part("recipe", RECIPE_VERSION.as_bytes())
        .part("packages", package_versions.as_bytes());
    h.dir("config", config, is_config)?;
    h.dir("patches", patches, is_patch)?;
    Ok(h.finish())
}

/// Hash of the patch series alone (what the source tree carries).
fn series_hash(patches: &Path) -> Result<String> {
    Ok(KeyHasher::new("series")
        .dir("patches", patches, is_patch)?
        .finish())
}

pub fn ensure(env: &Env) -> Result<Kernel> {
    let kdir = env.cache.join("kernel");
    let (src, obj) = (kdir.join("src"), kdir.join("obj"));
    let versions = env.root.package_versions(KEYED_PACKAGES)?;
    let key = cache_key(&versions, &config_dir(), &patch_dir())?;
    let lock = crate::cache::lock(&env.cache.join("locks/kernel.lock"), "kernel build")?;
    let done = |obj: &Path, lock: &std::fs::File| -> Result<Option<Kernel>> {
        let bzimage = obj.join("arch/x86/boot/bzImage");
        let stamp = std::fs::read_to_string(obj.join(".zcxl-key")).unwrap_or_default();
        if stamp.trim() != key || !bzimage.is_file() {
            return Ok(None);
        }
        let release = std::fs::read_to_string(obj.join("include/config/kernel.release"))
            .unwrap_or_default()
            .trim()
            .to_string();
        Ok(Some(Kernel {
            key: key.clone(),
            _lock: lock.try_clone()?,
            obj: obj.to_path_buf(),
            bzimage,
            release,
        }))
    };
    if let Some(k) = done(&obj, &lock)? {
        return Ok(k);
    }
    eprintln!("==> building the guest kernel (key {key})");
    let log = kdir.join("build.log");
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(obj.join(".zcxl-key"));

    let source_stamp = format!("{RECIPE_VERSION}\n{versions}");
    // Stamps live beside src/, never in it: the pristine commit must not
    // record them.
    let source_file = kdir.join("source.stamp");
    if std::fs::read_to_string(&source_file).ok() != Some(source_stamp.clone()) {
        eprintln!("    fresh source tree: a full build takes 15-25 min on 2 cores");
        for d in [&src, &obj] {
            if d.exists() {
                std::fs::remove_dir_all(d).with_context(|| format!("removing {}", d.display()))?;
            }
        }
        std::fs::create_dir_all(&src)?;
        run_step(
            "unpack linux-source-7.3",
            in_root(env, "tar")
                .args(["-xf", SOURCE_TARBALL, "--strip-components=1", "-C"])
                .arg(format!("{INSIDE}/src")),
            &log,
            "unpacking the kernel source failed; run `cargo xtask vm setup` and try again",
        )?;
        std::fs::write(&source_file, &source_stamp)?;
        let _ = std::fs::remove_file(kdir.join("series.stamp"));
    }
    apply_series(&src, &patch_dir(), &kdir.join("series.stamp"), &log)?;
    configure(env, &obj, &log)?;
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    run_step(
        "make bzImage modules",
        in_root(env, "make")
            .args(["-C", &format!("{INSIDE}/src"), &format!("O={INSIDE}/obj")])
            .arg(format!("-j{jobs}"))
            .args(["bzImage", "modules"]),
        &log,
        "the kernel build failed: see the log; a patch in driver/patches or an option in \
         driver/config is the likely cause",
    )?;
    std::fs::write(obj.join(".zcxl-key"), &key)?;
    match done(&obj, &lock)? {
        Some(k) => Ok(k),
        None => bail!(
            "the kernel build finished but {} has no bzImage",
            obj.display()
        ),
    }
}

fn in_root(env: &Env, program: &str) -> Command {
    env.root.command(
        &[Bind::new(env.cache.join("kernel"), INSIDE), config_bind()],
        &[],
        program,
    )
}

fn config_bind() -> Bind {
    Bind::new(config_dir(), "/zcxl/config")
}

/// Bring `src` to pristine + the wanted series, touching only what differs.
fn apply_series(src: &Path, patch_dir: &Path, stamp: &Path, log: &Path) -> Result<()> {
    let patches = crate::cache::files_under(patch_dir, &is_patch)?;
    let wanted = series_hash(patch_dir)?;
    let applied = std::fs::read_to_string(stamp).ok();
    let pristine = KeyHasher::new("series")
        .dir("patches", Path::new("/nonexistent"), is_patch)?
        .finish();
    // A tree without a stamp was never patched (fresh) or was left mid-way.
    let applied = applied.unwrap_or_else(|| {
        if src.join(".git").is_dir() {
            String::from("unknown")
        } else {
            pristine.clone()
        }
    });
    if applied == wanted {
        return Ok(());
    }
    let git = |args: &[&str]| -> Command {
        let mut c = Command::new("git");
        c.arg("-C")
            .arg(src)
            .args([
                "-c",
                "user.name=zcxl xtask",
                "-c",
                "user.email=xtask@zcxl.invalid",
            ])
            .args(args);
        c
    };
    // A run killed here before leaves git's locks behind (we hold the
    // kernel lock, so no other git is at work on this tree), or a
    // repository without its pristine commit: the work tree is still
    // pristine then, since patches go on only after that commit.
    for lock in ["index.lock", "zcxl-series-index.lock"] {
        let _ = std::fs::remove_file(src.join(".git").join(lock));
    }
    let recorded = git(&["rev-parse", "-q", "--verify", "HEAD"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !recorded && src.join(".git").exists() {
        std::fs::remove_dir_all(src.join(".git"))
            .with_context(|| format!("removing the unfinished {}", src.join(".git").display()))?;
    }
    if !src.join(".git").is_dir() {
        // Record the pristine source once, so any later series can be swapped in.
        run_step(
            "record the pristine kernel source (git, once)",
            Command::new("sh").arg("-c").arg("git init -q && git add -A -f && git commit -q -m pristine").current_dir(src)
                .env("GIT_AUTHOR_NAME", "zcxl xtask").env("GIT_AUTHOR_EMAIL", "xtask@zcxl.invalid")
                .env("GIT_COMMITTER_NAME", "zcxl xtask").env("GIT_COMMITTER_EMAIL", "xtask@zcxl.invalid"),
            log,
            "git failed on the kernel source tree; remove it (see the log for its path) and run again",
        )?;
    }
    let _ = std::fs::remove_file(stamp);
    // The wanted tree is built in a scratch index (pristine commit plus the
    // patches), then the work tree is moved to it in one step, which writes
    // only the files whose content differs: everything else keeps its
    // mtime, so make rebuilds what the change to the series touches, not
    // everything the old series' headers reach.
    let scratch = src.join(".git").join("zcxl-series-index");
    let _ = std::fs::remove_file(&scratch);
    let scratch_git = |args: &[&str]| -> Command {
        let mut c = git(args);
        c.env("GIT_INDEX_FILE", &scratch);
        c
    };
    run_step(
        "start the series from the pristine kernel source",
        &mut scratch_git(&["read-tree", "HEAD"]),
        log,
        "git failed on the kernel source; remove the tree and run again",
    )?;
    for p in &patches {
        let path = patch_dir.join(p);
        run_step(
            &format!("apply {}", p.display()),
            scratch_git(&["apply", "--cached", "--whitespace=nowarn"]).arg(&path),
            log,
            &format!("{} does not apply on linux-source-7.3 (plus the patches before it); rebase the series", path.display()),
        )?;
    }
    let out = scratch_git(&["write-tree"])
        .output()
        .context("running git write-tree on the kernel source")?;
    if !out.status.success() {
        bail!(
            "git write-tree failed on the kernel source: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let tree = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let _ = std::fs::remove_file(&scratch);
    // Fresh stat data, so files whose content already matches are not
    // rewritten (the exit status only says some files differ).
    let _ = git(&["update-index", "-q", "--refresh"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    run_step(
        "move the kernel source to the series",
        &mut git(&["read-tree", "--reset", "-u", &tree]),
        log,
        "git read-tree failed on the kernel source; remove the tree and run again",
    )?;
    std::fs::write(stamp, &wanted)?;
    Ok(())
}

/// defconfig + kvm_guest.config + our fragments, then check they held.
fn configure(env: &Env, obj: &Path, log: &Path) -> Result<()> {
    std::fs::create_dir_all(obj)?;
    let make = |target: &str| {
        let mut c = in_root(env, "make");
        c.args([
            "-C",
            &format!("{INSIDE}/src"),
            &format!("O={INSIDE}/obj"),
            target,
        ]);
        c
    };
    let hint = "configuring the kernel failed; see the log";
    run_step("make defconfig", &mut make("defconfig"), log, hint)?;
    run_step(
        "make kvm_guest.config",
        &mut make("kvm_guest.config"),
        log,
        hint,
    )?;
    let fragments = crate::cache::files_under(&config_dir(), &is_config)?;
    if fragments.is_empty() {
        bail!("no *.config fragment in {}", config_dir().display());
    }
    let mut merge = in_root(env, "sh");
    merge
        .args([
            "-c",
            "cd \"$1\" && shift && exec \"$@\"",
            "sh",
            &format!("{INSIDE}/obj"),
        ])
        .arg(format!("{INSIDE}/src/scripts/kconfig/merge_config.sh"))
        .args(["-m", "-O", &format!("{INSIDE}/obj"), ".config"])
        .args(
            fragments
                .iter()
                .map(|f| format!("/zcxl/config/{}", f.display())),
        );
    run_step("merge driver/config", &mut merge, log, hint)?;
    run_step("make olddefconfig", &mut make("olddefconfig"), log, hint)?;
    let mut wanted = BTreeMap::new();
    for f in &fragments {
        let text = std::fs::read_to_string(config_dir().join(f))?;
        wanted.extend(parse_config(&text));
    }
    let got = parse_config(&std::fs::read_to_string(obj.join(".config"))?);
    let lost = lost_options(&wanted, &got);
    if !lost.is_empty() {
        bail!(
            "these options of driver/config did not survive `make olddefconfig` (a dependency \
             is missing or the name is wrong): {}",
            lost.join(", ")
        );
    }
    Ok(())
}

/// `CONFIG_X` → value (`y`, `m`, `"str"`, `n` for "is not set").
pub fn parse_config(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("# ") {
            if let Some(name) = rest.strip_suffix(" is not set") {
                if name.starts_with("CONFIG_") {
                    out.insert(name.to_string(), "n".to_string());
                }
            }
        } else if let Some((name, value)) = line.split_once('=') {
            if name.starts_with("CONFIG_") {
                out.insert(name.to_string(), value.to_string());
            }
        }
    }
    out
}

/// Options wanted with a value the final config lacks, as `NAME=want (got)`.
pub fn lost_options(
    wanted: &BTreeMap<String, String>,
    got: &BTreeMap<String, String>,
) -> Vec<String> {
    wanted
        .iter()
        .filter_map(|(name, want)| {
            let have = got.get(name).map(String::as_str).unwrap_or("n");
            (have != want).then(|| format!("{name}={want} (is {have})"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lines_parse() {
        let c = parse_config(
            "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"-zcxl\"\n# comment\nFOO=1\n",
        );
        assert_eq!(c.get("CONFIG_A").map(String::as_str), Some("y"));
        assert_eq!(c.get("CONFIG_B").map(String::as_str), Some("n"));
        assert_eq!(c.get("CONFIG_S").map(String::as_str), Some("\"-zcxl\""));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn lost_options_name_what_kconfig_dropped() {
        let wanted = parse_config("CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n");
        let got = parse_config("CONFIG_A=y\nCONFIG_C=y\n");
        assert_eq!(
            lost_options(&wanted, &got),
            ["CONFIG_B=y (is n)", "CONFIG_C=n (is y)"]
        );
        assert!(lost_options(&wanted, &parse_config("CONFIG_A=y\nCONFIG_B=y\n")).is_empty());
    }

    #[test]
    fn series_swaps_on_a_pristine_tree() {
        let d = tempfile::tempdir().unwrap();
        let (src, pat) = (d.path().join("src"), d.path().join("patches"));
        let (stamp, log) = (d.path().join("series.stamp"), d.path().join("log"));
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("a.c"), "one\n").unwrap();
        std::fs::write(src.join("b.h"), "b\n").unwrap();
        apply_series(&src, &pat, &stamp, &log).unwrap();
        assert!(
            !src.join(".git").exists(),
            "no series: the tree is left alone"
        );

        std::fs::create_dir_all(&pat).unwrap();
        let patch =
            |from: &str, to: &str| format!("--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-{from}\n+{to}\n");
        std::fs::write(pat.join("0001-two.patch"), patch("one", "two")).unwrap();
        std::fs::write(
            pat.join("0002-new.patch"),
            "--- /dev/null\n+++ b/new.c\n@@ -0,0 +1 @@\n+new\n",
        )
        .unwrap();
        std::fs::write(
            pat.join("0003-header.patch"),
            "--- a/b.h\n+++ b/b.h\n@@ -1 +1 @@\n-b\n+b2\n",
        )
        .unwrap();
        apply_series(&src, &pat, &stamp, &log).unwrap();
        assert_eq!(std::fs::read_to_string(src.join("a.c")).unwrap(), "two\n");
        assert!(src.join("new.c").exists());
        assert_eq!(std::fs::read_to_string(src.join("b.h")).unwrap(), "b2\n");
        // Back-date the patched header: a swap that leaves its content alone
        // must not touch it (make would rebuild everything that includes it).
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let set_old = |f: &str| {
            std::fs::File::options()
                .write(true)
                .open(src.join(f))
                .unwrap()
                .set_modified(old)
                .unwrap()
        };
        let mtime = |f: &str| std::fs::metadata(src.join(f)).unwrap().modified().unwrap();
        set_old("b.h");
        set_old("a.c");

        // Another series replaces the first, from the pristine source.
        std::fs::remove_file(pat.join("0002-new.patch")).unwrap();
        std::fs::write(pat.join("0001-two.patch"), patch("one", "three")).unwrap();
        apply_series(&src, &pat, &stamp, &log).unwrap();
        assert_eq!(std::fs::read_to_string(src.join("a.c")).unwrap(), "three\n");
        assert!(
            !src.join("new.c").exists(),
            "files the old series added are gone"
        );
        assert_eq!(std::fs::read_to_string(src.join("b.h")).unwrap(), "b2\n");
        assert_eq!(mtime("b.h"), old, "an unchanged patched file was rewritten");
        assert_ne!(mtime("a.c"), old, "a changed file keeps its old mtime");

        // A patch that does not apply names itself.
        std::fs::write(pat.join("0003-bad.patch"), patch("nothing", "x")).unwrap();
        let err = apply_series(&src, &pat, &stamp, &log)
            .unwrap_err()
            .to_string();
        assert!(err.contains("0003-bad.patch"), "{err}");
        assert!(
            !stamp.exists(),
            "a failed series is not recorded as applied"
        );

        // A tree left mid-way (a file edited by hand, no stamp) is put
        // right by the next run.
        std::fs::remove_file(pat.join("0003-bad.patch")).unwrap();
        std::fs::write(src.join("a.c"), "edited\n").unwrap();
        apply_series(&src, &pat, &stamp, &log).unwrap();
        assert_eq!(std::fs::read_to_string(src.join("a.c")).unwrap(), "three\n");

        // No series at all: back to pristine.
        std::fs::remove_dir_all(&pat).unwrap();
        apply_series(&src, &pat, &stamp, &log).unwrap();
        assert_eq!(std::fs::read_to_string(src.join("a.c")).unwrap(), "one\n");
        assert_eq!(std::fs::read_to_string(src.join("b.h")).unwrap(), "b\n");
    }

    #[test]
    fn a_tree_left_by_a_killed_run_recovers() {
        let d = tempfile::tempdir().unwrap();
        let (src, pat) = (d.path().join("src"), d.path().join("patches"));
        let (stamp, log) = (d.path().join("series.stamp"), d.path().join("log"));
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(&pat).unwrap();
        std::fs::write(src.join("a.c"), "one\n").unwrap();
        std::fs::write(
            pat.join("0001-two.patch"),
            "--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-one\n+two\n",
        )
        .unwrap();
        // Killed after `git init`, before the pristine commit.
        let init = Command::new("git").arg("init").arg("-q").arg(&src).status();
        assert!(init.unwrap().success());
        apply_series(&src, &pat, &stamp, &log).unwrap();
        assert_eq!(std::fs::read_to_string(src.join("a.c")).unwrap(), "two\n");
        // Killed while git held its index lock.
        std::fs::write(src.join(".git/index.lock"), "").unwrap();
        std::fs::remove_file(&stamp).unwrap();
        apply_series(&src, &pat, &stamp, &log).unwrap();
        assert_eq!(std::fs::read_to_string(src.join("a.c")).unwrap(), "two\n");
        assert!(stamp.exists());
    }

    #[test]
    fn key_follows_versions_config_and_patches() {
        let d = tempfile::tempdir().unwrap();
        let (cfg, pat) = (d.path().join("config"), d.path().join("patches"));
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::write(cfg.join("zcxl.config"), "CONFIG_A=y\n").unwrap();
        std::fs::write(cfg.join("README.md"), "not part of the key").unwrap();
        let base = cache_key("linux-source-7.3 7.3.4", &cfg, &pat).unwrap();
        assert_eq!(
            base,
            cache_key("linux-source-7.3 7.3.4", &cfg, &pat).unwrap()
        );
        assert_ne!(
            base,
            cache_key("linux-source-7.3 7.3.5", &cfg, &pat).unwrap()
        );
        std::fs::write(cfg.join("README.md"), "edited").unwrap();
        assert_eq!(
            base,
            cache_key("linux-source-7.3 7.3.4", &cfg, &pat).unwrap()
        );
        std::fs::create_dir_all(&pat).unwrap();
        std::fs::write(pat.join("0001-mm-x.patch"), "diff").unwrap();
        let patched = cache_key("linux-source-7.3 7.3.4", &cfg, &pat).unwrap();
        assert_ne!(base, patched);
        std::fs::write(cfg.join("zcxl.config"), "CONFIG_A=y\nCONFIG_B=y\n").unwrap();
        assert_ne!(
            patched,
            cache_key("linux-source-7.3 7.3.4", &cfg, &pat).unwrap()
        );
    }
}
