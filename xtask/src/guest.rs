//! What runs in the guest: the driver modules (built `W=1` against the
//! cached kernel tree), static test programs, and the initramfs that carries
//! them with busybox and the runner (xtask/guest/init.sh).

use crate::cmd::workspace_root;
use crate::kernel::{self, Kernel};
use crate::progress::run_step;
use crate::vm::chroot::Bind;
use crate::vm::corpus;
use crate::vm::initramfs::{self, Entry};
use crate::vm::{Env, WS_INSIDE};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Module directories in build order: the driver first (its Module.symvers
/// feeds the test modules).
const DRIVER: &str = "driver/zcxl";
/// Directories of guest test modules (each with a Kbuild file).
const TEST_MODULES_UNDER: &str = "driver/tests";
/// Guest check scripts (`*.sh`, run in one order sorted by file name) and
/// the helper files they source, all copied to /zcxl/checks.
const CHECK_DIRS: &[&str] = &["xtask/guest/checks", "driver/tests/e2e"];
/// Directories whose `*.c` files become static guest programs.
const PROGRAM_DIRS: &[&str] = &["driver/tests", "xtask/guest"];
/// Programs of the Debian root the guest checks run (ndctl's `cxl`), put
/// in the initramfs at the same paths with the shared libraries they need.
const ROOT_PROGRAMS: &[&str] = &["/usr/bin/cxl", "/usr/bin/numactl"];

/// The driver, test modules and programs, built.
pub struct Built {
    /// Host paths of `*.ko` and programs, all for `/zcxl/bin`.
    pub bin: Vec<PathBuf>,
    /// `W=1` warnings of the module builds.
    pub warnings: Vec<String>,
    /// Whether `driver/zcxl` exists in this checkout.
    pub have_driver: bool,
}

/// The files a guest boots with.
pub struct Image {
    pub bzimage: PathBuf,
    pub initrd: PathBuf,
    /// The corpus file in the guest, when the initramfs has one.
    pub corpus: Option<String>,
}

fn is_build_output(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with(".mod.c")
        || [".o", ".ko", ".mod", ".a", ".order", ".symvers", ".cmd"]
            .iter()
            .any(|e| name.ends_with(e))
}

/// Mirror the source files of `from` into `to`: write only files whose
/// content differs (so make sees real changes only) and delete source files
/// that went away; build outputs in `to` are left alone.
pub fn sync_sources(from: &Path, to: &Path) -> Result<()> {
    let keep = |p: &Path| !is_build_output(&p.file_name().unwrap_or_default().to_string_lossy());
    let wanted = crate::cache::files_under(from, &keep)?;
    for rel in &wanted {
        let (src, dst) = (from.join(rel), to.join(rel));
        let data = std::fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
        if std::fs::read(&dst).ok().as_deref() != Some(data.as_slice()) {
            if let Some(dir) = dst.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&dst, &data).with_context(|| format!("writing {}", dst.display()))?;
        }
    }
    for rel in crate::cache::files_under(to, &keep)? {
        if !wanted.contains(&rel) {
            std::fs::remove_file(to.join(&rel))?;
        }
    }
    Ok(())
}

/// Module directories under the synced tree, driver first.
fn module_dirs(src: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let driver = src.join(DRIVER);
    if driver.join("Kbuild").is_file() || driver.join("Makefile").is_file() {
        dirs.push(PathBuf::from(DRIVER));
    }
    let tests = src.join(TEST_MODULES_UNDER);
    if let Ok(rd) = std::fs::read_dir(&tests) {
        let mut found: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("Kbuild").is_file())
            .map(|e| Path::new(TEST_MODULES_UNDER).join(e.file_name()))
            .collect();
        found.sort();
        dirs.extend(found);
    }
    dirs
}

/// `warning:` lines of a compiler log (and modpost's `WARNING:` ones).
pub fn warnings_in(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.to_ascii_lowercase().contains("warning:"))
        .map(str::to_string)
        .collect()
}

/// Build the driver, test modules and static programs of this checkout.
pub fn build(env: &Env, kernel: &Kernel) -> Result<Built> {
    let stamp = std::fs::read_to_string(kernel.obj.join(".zcxl-key")).unwrap_or_default();
    if stamp.trim() != kernel.key {
        bail!("the kernel tree changed under this run (another run rebuilt it); run again");
    }
    let src = env.ws.join("src");
    for dir in ["driver", "xtask/guest"] {
        sync_sources(&workspace_root().join(dir), &src.join(dir))?;
    }
    let bin = env.ws.join("bin");
    // Start empty: a module or program that went away must not linger.
    if bin.exists() {
        std::fs::remove_dir_all(&bin).with_context(|| format!("emptying {}", bin.display()))?;
    }
    std::fs::create_dir_all(&bin)?;
    let log = env.ws.join("logs/guest-build.log");
    let _ = std::fs::remove_file(&log);
    let binds = [
        Bind::new(env.cache.join("kernel"), kernel::INSIDE),
        env.ws_bind(),
    ];
    let inside = |rel: &Path| format!("{WS_INSIDE}/src/{}", rel.display());
    let mut out = Vec::new();
    let dirs = module_dirs(&src);
    let have_driver = dirs.first().is_some_and(|d| d == Path::new(DRIVER));
    let mut symvers = Vec::new();
    for dir in &dirs {
        // From clean: objects kept from an earlier run would compile
        // nothing, and their warnings would go unseen (W=1 fails the stage).
        run_step(
            &format!("clean {}", dir.display()),
            env.root
                .command(&binds, &[], "make")
                .args(["-C", Kernel::obj_inside()])
                .arg(format!("M={}", inside(dir)))
                .arg("clean"),
            &log,
            &format!("`make clean` failed in {}", dir.display()),
        )?;
        let mut make = env.root.command(&binds, &[], "make");
        make.args(["-C", Kernel::obj_inside()])
            .arg(format!("M={}", inside(dir)))
            .arg("W=1");
        if !symvers.is_empty() {
            make.arg(format!("KBUILD_EXTRA_SYMBOLS={}", symvers.join(" ")));
        }
        make.arg("modules");
        run_step(
            &format!("build {} (W=1)", dir.display()),
            &mut make,
            &log,
            &format!(
                "the module in {} does not build against the guest kernel",
                dir.display()
            ),
        )?;
        if dir == Path::new(DRIVER) {
            symvers.push(format!("{}/Module.symvers", inside(dir)));
        }
        for ko in std::fs::read_dir(src.join(dir))?.filter_map(|e| e.ok()) {
            if ko.path().extension().is_some_and(|e| e == "ko") {
                let dst = bin.join(ko.file_name());
                std::fs::copy(ko.path(), &dst)?;
                out.push(dst);
            }
        }
    }
    for dir in PROGRAM_DIRS {
        let programs = crate::cache::files_under(&src.join(dir), &|p: &Path| {
            p.parent() == Some(Path::new("")) && p.extension().is_some_and(|e| e == "c")
        })?;
        for c in programs {
            let name = c
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let uapi = inside(&Path::new(DRIVER).join("uapi"));
            run_step(
                &format!("build {name} (gcc -static)"),
                env.root
                    .command(&binds, &[], "gcc")
                    .args(["-static", "-O2", "-Wall", "-Wextra", "-I", &uapi, "-o"])
                    .arg(format!("{WS_INSIDE}/bin/{name}"))
                    .arg(inside(&Path::new(dir).join(&c))),
                &log,
                &format!("{dir}/{} does not build", c.display()),
            )?;
            out.push(bin.join(name));
        }
    }
    let warnings = warnings_in(&std::fs::read_to_string(&log).unwrap_or_default());
    Ok(Built {
        bin: out,
        warnings,
        have_driver,
    })
}

/// Assemble the initramfs and put the kernel beside it under `target/vm/boot`.
pub fn image(env: &Env, kernel: &Kernel, built: &Built) -> Result<Image> {
    let boot = env.ws.join("boot");
    std::fs::create_dir_all(&boot)?;
    let busybox = env.root.dir.join("bin/busybox");
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let mut entries = vec![
        Entry::dir("/bin"),
        Entry::dir("/dev"),
        Entry::CharDev {
            path: "/dev/console".into(),
            major: 5,
            minor: 1,
        },
        Entry::dir("/proc"),
        Entry::dir("/sys"),
        Entry::dir("/tmp"),
        Entry::dir("/root"),
        Entry::file("/bin/busybox", 0o755, read(&busybox)?),
        Entry::Symlink {
            path: "/bin/sh".into(),
            target: "busybox".into(),
        },
        Entry::file(
            "/init",
            0o755,
            read(&workspace_root().join("xtask/guest/init.sh"))?,
        ),
        Entry::dir("/zcxl"),
        Entry::dir("/zcxl/bin"),
        Entry::dir("/zcxl/checks"),
    ];
    let demo = workspace_root().join("xtask/guest/demo.sh");
    if demo.is_file() {
        entries.push(Entry::file("/zcxl/demo.sh", 0o755, read(&demo)?));
    }
    for (name, path) in checks()? {
        entries.push(Entry::file(
            &format!("/zcxl/checks/{name}"),
            0o755,
            read(&path)?,
        ));
    }
    for f in &built.bin {
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        entries.push(Entry::file(&format!("/zcxl/bin/{name}"), 0o755, read(f)?));
    }
    entries.extend(root_programs(env)?);
    let corpus_dir = corpus::default_dir(&workspace_root());
    let corpus = match corpus::load(&corpus_dir, corpus::MEMBER)? {
        Some(data) => {
            let at = corpus::guest_path(corpus::MEMBER);
            entries.push(Entry::dir("/zcxl/corpus"));
            entries.push(Entry::file(&at, 0o644, data));
            Some(at)
        }
        None => {
            eprintln!(
                "    no {}/{}.zip: the zswap checks fill pages with their own mix",
                corpus_dir.display(),
                corpus::MEMBER
            );
            None
        }
    };
    let initrd = boot.join("initramfs.cpio");
    initramfs::write(&initrd, &entries)?;
    let bzimage = boot.join("bzImage");
    std::fs::copy(&kernel.bzimage, &bzimage)
        .with_context(|| format!("copying {}", kernel.bzimage.display()))?;
    Ok(Image {
        bzimage,
        initrd,
        corpus,
    })
}

/// The shared objects `ldd` lists (the vDSO has no path and is left out).
pub fn ldd_paths(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = l.split_once("=> ").map_or(l, |(_, p)| p);
            let path = path.split(" (").next()?.trim();
            path.starts_with('/').then(|| path.to_string())
        })
        .collect()
}

/// The directories above `files`, parents first.
fn parent_dirs(files: &BTreeSet<String>) -> BTreeSet<String> {
    let mut dirs = BTreeSet::new();
    for f in files {
        let mut p = Path::new(f).parent();
        while let Some(d) = p.filter(|d| *d != Path::new("/")) {
            dirs.insert(d.to_string_lossy().into_owned());
            p = d.parent();
        }
    }
    dirs
}

/// Initramfs entries for ROOT_PROGRAMS and their libraries, read inside the
/// root (its absolute symlinks point into the root, not the host).
fn root_programs(env: &Env) -> Result<Vec<Entry>> {
    let in_root = |program: &str, arg: &str| -> Result<Vec<u8>> {
        let out = env
            .root
            .command(&[], &[], program)
            .arg(arg)
            .output()
            .with_context(|| format!("running {program} {arg} in the root"))?;
        if !out.status.success() {
            bail!(
                "{program} {arg} in the root failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(out.stdout)
    };
    let mut files = BTreeSet::new();
    for program in ROOT_PROGRAMS {
        let libs = in_root("ldd", program).with_context(|| {
            format!("{program} is needed in the guest; run `cargo xtask vm setup`")
        })?;
        let libs = String::from_utf8_lossy(&libs);
        if let Some(missing) = libs.lines().find(|l| l.contains("not found")) {
            bail!("{program} in the root lacks a library: {}", missing.trim());
        }
        files.insert(program.to_string());
        files.extend(ldd_paths(&libs));
    }
    let mut entries: Vec<Entry> = parent_dirs(&files).iter().map(|d| Entry::dir(d)).collect();
    for f in &files {
        entries.push(Entry::file(f, 0o755, in_root("cat", f)?));
    }
    Ok(entries)
}

/// Every file of the check directories by name (the runner runs the
/// `*.sh` ones, in name order; others are helpers they source); a name in
/// two directories is an error (one would hide the other).
pub fn checks() -> Result<Vec<(String, PathBuf)>> {
    let mut all: Vec<(String, PathBuf)> = Vec::new();
    for dir in CHECK_DIRS {
        let dir = workspace_root().join(dir);
        let names = crate::cache::files_under(&dir, &|p: &Path| p.parent() == Some(Path::new("")))?;
        for n in names {
            let name = n.to_string_lossy().into_owned();
            if let Some((_, other)) = all.iter().find(|(x, _)| *x == name) {
                bail!(
                    "two guest checks are named {name}: {} and {}; rename one",
                    other.display(),
                    dir.join(&n).display()
                );
            }
            all.push((name, dir.join(n)));
        }
    }
    all.sort();
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_outputs_are_recognised() {
        for out in [
            "zcxl.o",
            "zcxl.ko",
            "zcxl.mod",
            "zcxl.mod.c",
            ".zcxl.o.cmd",
            "Module.symvers",
            "modules.order",
        ] {
            assert!(is_build_output(out), "{out}");
        }
        for src in [
            "zcxl.c",
            "zcxl.h",
            "Kbuild",
            "Makefile",
            "10-identify.sh",
            "ABI",
        ] {
            assert!(!is_build_output(src), "{src}");
        }
    }

    #[test]
    fn sync_copies_changes_only_and_drops_removed_sources() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        std::fs::create_dir_all(a.join("zcxl")).unwrap();
        std::fs::write(a.join("zcxl/main.c"), "v1").unwrap();
        std::fs::write(a.join("zcxl/old.c"), "old").unwrap();
        std::fs::write(a.join("zcxl/main.o"), "in-tree build output").unwrap();
        sync_sources(&a, &b).unwrap();
        assert_eq!(
            std::fs::read_to_string(b.join("zcxl/main.c")).unwrap(),
            "v1"
        );
        assert!(!b.join("zcxl/main.o").exists(), "outputs are not copied");
        std::fs::write(b.join("zcxl/main.o"), "object").unwrap();
        let before = std::fs::metadata(b.join("zcxl/main.c"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::remove_file(a.join("zcxl/old.c")).unwrap();
        sync_sources(&a, &b).unwrap();
        let after = std::fs::metadata(b.join("zcxl/main.c"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after, "unchanged files keep their mtime");
        assert!(!b.join("zcxl/old.c").exists(), "removed sources go");
        assert!(b.join("zcxl/main.o").exists(), "outputs stay");
        std::fs::write(a.join("zcxl/main.c"), "v2").unwrap();
        sync_sources(&a, &b).unwrap();
        assert_eq!(
            std::fs::read_to_string(b.join("zcxl/main.c")).unwrap(),
            "v2"
        );
    }

    #[test]
    fn module_dirs_put_the_driver_first() {
        let d = tempfile::tempdir().unwrap();
        for dir in ["driver/zcxl", "driver/tests/zcxl_test", "driver/tests/e2e"] {
            std::fs::create_dir_all(d.path().join(dir)).unwrap();
        }
        std::fs::write(d.path().join("driver/zcxl/Kbuild"), "").unwrap();
        std::fs::write(d.path().join("driver/tests/zcxl_test/Kbuild"), "").unwrap();
        assert_eq!(
            module_dirs(d.path()),
            [
                PathBuf::from("driver/zcxl"),
                PathBuf::from("driver/tests/zcxl_test")
            ]
        );
    }

    #[test]
    fn ldd_output_gives_the_library_paths() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibcxl.so.1 => /lib/x86_64-linux-gnu/libcxl.so.1 (0x00007fa5)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fa4)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007fa6)\n\
                   \tlibgone.so.1 => not found\n";
        assert_eq!(
            ldd_paths(out),
            [
                "/lib/x86_64-linux-gnu/libcxl.so.1",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
    }

    #[test]
    fn parents_come_before_their_children() {
        let files: BTreeSet<String> = [
            "/usr/bin/cxl",
            "/lib64/ld.so",
            "/lib/x86_64-linux-gnu/libc.so.6",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let dirs: Vec<String> = parent_dirs(&files).into_iter().collect();
        assert_eq!(
            dirs,
            [
                "/lib",
                "/lib/x86_64-linux-gnu",
                "/lib64",
                "/usr",
                "/usr/bin"
            ]
        );
    }

    #[test]
    fn warnings_are_picked_out() {
        let log = "  CC [M]  zcxl.o\nzcxl.c:10:5: warning: unused variable 'x' [-Wunused-variable]\n  LD [M] zcxl.ko\n";
        assert_eq!(warnings_in(log).len(), 1);
        let modpost =
            "  MODPOST Module.symvers\nWARNING: modpost: missing MODULE_DESCRIPTION() in zcxl.o\n";
        assert_eq!(warnings_in(modpost).len(), 1);
    }

    #[test]
    fn checks_in_this_repo_have_unique_names() {
        let all = checks().unwrap();
        assert!(all.iter().any(|(n, _)| n == "00-pci-device.sh"));
        let mut names: Vec<_> = all.iter().map(|(n, _)| n.clone()).collect();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }
}
