#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Boot tests of the protected-node series without the zcxl device.
#
#   run-boot-tests.sh [protected|cxl]...      (default: protected cxl)
#
# Builds the test programs (static) and the test provider module against
# the patched kernel tree, packs a busybox initramfs, and boots the tree's
# bzImage with QEMU under TCG inside the scratch root.  Each guest script
# prints "TEST: ok|FAIL name" lines and "TESTS-DONE: P passed, F failed";
# this script prints them and exits non-zero if a test failed or a guest
# did not finish.
#
# Environment (defaults match the kernel engineer's set-up, see
# /work/notes/kernel.md):
#   ROOT    scratch root with QEMU 11.1, gcc, busybox-static, numactl
#   HOSTDIR host directory bind-mounted at $ROOT$MNT (holds the tree)
#   MNT     where HOSTDIR appears inside the root
#   KTREE   the kernel tree, relative to HOSTDIR
#   TIMEOUT seconds per guest
set -eu

ROOT=${ROOT:-/var/tmp/zcxl-probe/root}
HOSTDIR=${HOSTDIR:-/var/tmp/zcxl-kernel}
MNT=${MNT:-/mnt/kernel}
KTREE=${KTREE:-linux-source-7.3}
TIMEOUT=${TIMEOUT:-1500}
HERE=$(cd "$(dirname "$0")" && pwd)
TESTS=$(cd "$HERE/.." && pwd)
WORK=$HOSTDIR/boot-tests
CW=$MNT/boot-tests		# $WORK as seen inside the root

in_root() { chroot "$ROOT" "$@"; }

[ -d "$ROOT$MNT/$KTREE" ] || {
	echo "$ROOT$MNT/$KTREE missing: bind-mount $HOSTDIR at $ROOT$MNT" >&2
	exit 2
}

rm -rf "$WORK"
mkdir -p "$WORK/src" "$WORK/initramfs/bin" "$WORK/initramfs/lib64" \
	 "$WORK/initramfs/lib/x86_64-linux-gnu"
cp "$TESTS"/protnode-policy.c "$TESTS"/protnode-hog.c \
   "$TESTS"/zswap-workload.c "$WORK/src/"
cp -r "$HERE/zswap_test_provider" "$WORK/src/"

echo "== building test programs and the test provider"
for p in protnode-policy protnode-hog zswap-workload; do
	in_root gcc -static -O2 -Wall -Wextra -Werror -o "$CW/initramfs/bin/$p" \
		"$CW/src/$p.c"
done
in_root nice make -s -C "$MNT/$KTREE" M="$CW/src/zswap_test_provider" W=1 \
	CC="ccache gcc" modules
# the cgroup selftest of the series (test_cpuset_mems_default), from the tree
ST=$MNT/$KTREE/tools/testing/selftests/cgroup
in_root sh -c "cd $ST && gcc -static -O2 -Wall -I.. -I../../../../usr/include \
	-Ilib/include -o $CW/initramfs/bin/test_cpuset test_cpuset.c \
	lib/cgroup_util.c -lpthread"
cp "$WORK/src/zswap_test_provider/zswap_test_provider.ko" "$WORK/initramfs/"

echo "== packing the initramfs"
I=$WORK/initramfs
cp "$ROOT/bin/busybox" "$I/bin/"
for b in $(in_root /bin/busybox --list); do
	[ -e "$I/bin/$b" ] || ln -s busybox "$I/bin/$b"
done
cp "$ROOT/usr/bin/numactl" "$I/bin/"
for l in $(in_root ldd /usr/bin/numactl | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'); do
	cp -L "$ROOT$l" "$I$l" 2>/dev/null || cp -L "$ROOT$l" "$I/lib/x86_64-linux-gnu/"
done
cp "$HERE/guest/lib.sh" "$I/lib.sh"
mkdir -p "$I/proc" "$I/sys" "$I/dev" "$I/tmp" "$I/cpuset"

truncate -s 512M "$WORK/swap.img"

# guest memory: node 0 = [0, 1G), node 1 = [1G, 2G); the memmap= options
# turn three ranges into Soft Reserved memory (-> dax_hmem devices):
#   A = 256M at 0.5G (node 0), B = 128M at 1G, C = 256M at 1.25G (node 1);
# the rest of node 1 becomes reserved, so node 1 has no boot memory and B
# and C stay separate ranges.
SR=0xefffffff
MEMMAP="memmap=256M%0x20000000-1+$SR memmap=128M%0x40000000-1+$SR"
MEMMAP="$MEMMAP memmap=128M%0x48000000-1+2 memmap=256M%0x50000000-1+$SR"
MEMMAP="$MEMMAP memmap=512M%0x60000000-1+2"

boot() {	# NAME INIT-SCRIPT QEMU-ARGS...
	name=$1 init=$2
	shift 2
	cp "$HERE/guest/$init" "$I/init"
	(cd "$I" && find . | cpio -o -H newc --quiet) | gzip -1 > "$WORK/$name.cpio.gz"
	echo "== booting: $name"
	in_root timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max \
		-smp 2 -nographic -no-reboot \
		-kernel "$MNT/$KTREE/arch/x86/boot/bzImage" \
		-initrd "$CW/$name.cpio.gz" "$@" > "$WORK/$name.log" 2>&1 || true
	grep -E "^(TEST|TESTS-DONE)" "$WORK/$name.log" || true
	grep -q "^TESTS-DONE: [0-9]* passed, 0 failed" "$WORK/$name.log"
}

failed=0
for scenario in ${*:-protected cxl}; do
	case $scenario in
	protected)
		boot protected protected-nodes.sh -machine q35 -m 2G \
			-object memory-backend-ram,id=m0,size=1G \
			-object memory-backend-ram,id=m1,size=1G \
			-numa node,nodeid=0,cpus=0-1,memdev=m0 \
			-numa node,nodeid=1,memdev=m1 \
			-drive "file=$CW/swap.img,if=virtio,format=raw" \
			-append "console=ttyS0 panic=-1 $MEMMAP" || failed=1
		;;
	cxl)
		boot cxl cxl-region.sh -machine q35,cxl=on -m 2G,slots=2,maxmem=8G \
			-object memory-backend-ram,id=m0,size=2G \
			-numa node,nodeid=0,cpus=0-1,memdev=m0 \
			-object memory-backend-ram,id=cxl-mem0,size=256M \
			-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \
			-device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2 \
			-device cxl-type3,bus=root_port13,volatile-memdev=cxl-mem0,id=cxl-vmem0 \
			-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G \
			-append "console=ttyS0 panic=-1" || failed=1
		;;
	*)
		echo "unknown scenario $scenario" >&2
		exit 2
		;;
	esac
	echo "   (console log: $WORK/$scenario.log)"
done
exit $failed
