# `cargo xtask demo`, guest side: load the driver, wait for the window to be
# online as node $ZCXL_NODE, run the page-mix workload on it.
# Lines starting with ZCXL-DEMO: are shown to the user by the host.
set -e
say() { echo "ZCXL-DEMO: $*"; }

say "guest $(uname -r) up; loading zcxl.ko"
# allow_sysram: without the protected-node series the window can only be
# plain (movable) System RAM, which the driver refuses unless told.
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

# Half the window by default: the mix compresses about 2:1 with LZ4, which
# fills a media of a quarter of the window to about 80% (the low watermark).
mib=${ZCXL_DEMO_MIB:-$((ZCXL_CAPACITY / 1048576 / 2))}
zcxl-workload "$ZCXL_NODE" "$mib" "${ZCXL_HOLD:-5}"
