# `cargo xtask demo`, guest side: load the driver, wait for the window to be
# online as node $ZCXL_NODE, then fill the device:
#  - on a kernel with the protected-node series (driver/patches) the window
#    is a protected node that user space cannot bind to; pages reach it
#    through zswap: a workload in a memory cgroup whose memory.max is below
#    its working set swaps, and zswap stores the pages on the device;
#  - on a stock kernel the window is ordinary (movable) System RAM, and the
#    page-mix workload binds its memory to the node (mbind).
# Lines starting with ZCXL-DEMO: are shown to the user by the host.
set -e
say() { echo "ZCXL-DEMO: $*"; }

say "guest $(uname -r) up; loading zcxl.ko"
# allow_sysram: without the protected-node series the window can only be
# plain (movable) System RAM, which the driver refuses unless told; with the
# series the driver adds it as protected memory and ignores the parameter.
insmod "$ZCXL_BIN/zcxl.ko" virtio_id="$ZCXL_VIRTIO_ID" node="$ZCXL_NODE" allow_sysram=1

node=/sys/devices/system/node/node$ZCXL_NODE
waited=0
# The whole window, onlined (block by block) as node $ZCXL_NODE.
online_kb() {
	kb=$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' "$node/meminfo" 2>/dev/null)
	echo "${kb:-0}"
}
while [ "$(($(online_kb) * 1024))" -lt "$ZCXL_CAPACITY" ]; do
	if [ "$waited" -ge 120 ]; then
		say "the window did not come online as node $ZCXL_NODE within 120 s ($(online_kb) kB)"
		dmesg | tail -n 30
		exit 1
	fi
	sleep 1
	waited=$((waited + 1))
done
say "window online: node $ZCXL_NODE $(grep MemTotal "$node/meminfo" | sed 's/.*MemTotal: *//')"

if [ ! -e /sys/devices/system/node/has_protected_memory ]; then
	# Half the window by default: the mix compresses about 2:1 with LZ4,
	# which fills a media of a quarter of the window to about 80% (the low
	# watermark).
	mib=${ZCXL_DEMO_MIB:-$((ZCXL_CAPACITY / 1048576 / 2))}
	zcxl-workload "$ZCXL_NODE" "$mib" "${ZCXL_HOLD:-5}"
	exit 0
fi

# Protected node: through zswap.
dev=$(dirname "$(grep -lx "$ZCXL_NODE" /sys/bus/virtio/drivers/zcxl/virtio*/window_node)")
[ "$(cat "$dev/zswap_provider")" = 1 ] || { say "the window is not a zswap provider"; exit 1; }
say "node $ZCXL_NODE is protected memory (has_protected_memory: $(cat /sys/devices/system/node/has_protected_memory)); zswap stores pages there"
[ -n "${ZCXL_SWAP:-}" ] || { say "no swap disk (ZCXL_SWAP)"; exit 1; }
mkswap "$ZCXL_SWAP" >/dev/null
swapon "$ZCXL_SWAP"
echo 1 > /sys/module/zswap/parameters/enabled
echo N > /sys/module/zswap/parameters/shrinker_enabled
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
cg=/sys/fs/cgroup/demo
mkdir -p $cg
# zswap charges the cgroup what the device stores per page, so the limit
# bounds the compressed data it can hold: a 512 MiB working set of a mix
# that compresses about 1.8:1 fits compressed under 2/3 of it.
mib=${ZCXL_DEMO_MIB:-512}
limit=${ZCXL_DEMO_LIMIT_MIB:-$((mib * 2 / 3))}
echo "${limit}M" > $cg/memory.max
src="-p ${ZCXL_DEMO_PATTERN:-mix}"
what="a generated mix (text, random, same-filled, zero pages)"
say "workload: $mib MiB of $what in a cgroup with memory.max ${limit}M, swap on $ZCXL_SWAP"
rm -f /tmp/go
sh -c "echo \$\$ > $cg/cgroup.procs; exec zswap-workload -m $mib $src -w /tmp/go" > /tmp/demo.out 2>&1 &
waited=0
until grep -q WAITING /tmp/demo.out; do
	if ! kill -0 $! 2>/dev/null || [ "$waited" -ge 900 ]; then
		cat /tmp/demo.out
		say "the workload did not get its pages out"
		exit 1
	fi
	sleep 1
	waited=$((waited + 1))
done
z=/sys/kernel/debug/zswap
say "workload: $(head -n 1 /tmp/demo.out)"
say "zswap: $(cat $z/stored_pages) pages stored, $(cat $z/stored_direct_pages) of them on the device, RAM pool $(($(cat $z/pool_total_size) / 1024)) KiB, $(cat $z/written_back_pages) written back to $ZCXL_SWAP"
say "node $ZCXL_NODE: $(sed -n 's/.*MemUsed: *//p' "$node/meminfo") used; cgroup memory.current $(($(cat $cg/memory.current) / 1048576)) MiB"
# The pages stay swapped out (the workload waits) while the host reads
# the device's statistics.
