#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Bisectability of driver/patches: applies the series one patch at a time
# on the pristine tree and, after each, builds bzImage and boots it.
#
#   bisect-series.sh [FIRST [LAST]]     (patch numbers, default 1 10)
#
# The boot is a smoke test (two NUMA nodes, TCG, an initramfs whose init
# prints a marker and powers off); the series' own behaviour is tested by
# run-boot-tests.sh and the e2e checks on the whole series. Each patch
# changes widely included headers, so each step is close to a full build
# (~10-15 min on two cores; ccache helps on a second run).
#
# Environment (as run-boot-tests.sh):
#   ROOT    scratch root with QEMU 11.1, gcc, busybox-static (and ccache)
#   HOSTDIR host directory bind-mounted at $ROOT$MNT (holds the tree)
#   MNT     where HOSTDIR appears inside the root
#   KTREE   the kernel tree (git, branch `base` = pristine 7.3.4, a .config)
set -eu

ROOT=${ROOT:-/var/tmp/zcxl-probe/root}
HOSTDIR=${HOSTDIR:-/var/tmp/zcxl-kernel}
MNT=${MNT:-/mnt/kernel}
KTREE=${KTREE:-linux-source-7.3}
FIRST=${1:-1}
LAST=${2:-10}
PATCHES=$(cd "$(dirname "$0")/../../patches" && pwd)
TREE=$HOSTDIR/$KTREE
WORK=$HOSTDIR/bisect
BRANCH=zcxl-bisect

[ -d "$ROOT$MNT/$KTREE" ] || {
	echo "$ROOT$MNT/$KTREE missing: bind-mount $HOSTDIR at $ROOT$MNT" >&2
	exit 2
}
git -C "$TREE" diff --quiet HEAD || {
	echo "$TREE has uncommitted changes; commit or stash them first" >&2
	exit 2
}

cc="gcc"
chroot "$ROOT" sh -c 'command -v ccache' >/dev/null 2>&1 && cc="ccache gcc"
kmake() {
	chroot "$ROOT" env CCACHE_DIR="$MNT/ccache" \
		nice -n 10 make -C "$MNT/$KTREE" CC="$cc" -j"$(nproc)" "$@"
}

# The smoke-test initramfs: busybox and an init that says it got there.
mkdir -p "$WORK/initramfs/bin"
cp "$ROOT/bin/busybox" "$WORK/initramfs/bin/busybox"
cat >"$WORK/initramfs/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc
/bin/busybox mount -t proc proc /proc
echo "BISECT-BOOT-OK $(/bin/busybox cat /proc/version)"
/bin/busybox poweroff -f
EOF
chmod +x "$WORK/initramfs/init"
(cd "$WORK/initramfs" && find . | cpio -o -H newc --quiet | gzip) >"$WORK/initramfs.cpio.gz"

set -- "$PATCHES"/*.patch
git -C "$TREE" checkout -q -B "$BRANCH" base
n=0
failed=0
for p in "$@"; do
	n=$((n + 1))
	git -C "$TREE" -c user.name="zcxl bisect" -c user.email=bisect@zcxl.invalid \
		am -q "$p" || {
		echo "patch $n: does not apply"
		git -C "$TREE" am --abort
		exit 1
	}
	[ "$n" -ge "$FIRST" ] && [ "$n" -le "$LAST" ] || continue
	log=$WORK/patch-$n.log
	if ! { kmake olddefconfig && kmake bzImage; } >"$log" 2>&1; then
		echo "patch $n: build FAILED ($(grep -m1 'error' "$log"))"
		failed=$((failed + 1))
		continue
	fi
	out=$WORK/boot-$n.log
	timeout 300 chroot "$ROOT" qemu-system-x86_64 -nodefaults -no-user-config \
		-no-reboot -machine q35 -accel tcg -smp 2,sockets=2 -m 1G \
		-object memory-backend-ram,id=m0,size=512M \
		-object memory-backend-ram,id=m1,size=512M \
		-numa node,nodeid=0,memdev=m0,cpus=0 -numa node,nodeid=1,memdev=m1,cpus=1 \
		-kernel "$MNT/$KTREE/arch/x86/boot/bzImage" \
		-initrd "$MNT/bisect/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 rdinit=/init" \
		-display none -monitor none -serial stdio >"$out" 2>&1 || true
	if grep -q BISECT-BOOT-OK "$out" && ! grep -qE 'BUG:|WARNING:|Kernel panic' "$out"; then
		echo "patch $n: builds and boots"
	else
		echo "patch $n: boot FAILED (see $out)"
		failed=$((failed + 1))
	fi
done
echo "BISECT-DONE: $failed failed"
[ "$failed" -eq 0 ]
