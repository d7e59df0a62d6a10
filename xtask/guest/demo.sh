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
while ! grep -qs 'MemTotal: *[1-9]' "$node/meminfo"; do
	if [ "$waited" -ge 120 ]; then
		say "the window did not come online as node $ZCXL_NODE within 120 s"
		dmesg | tail -n 30
		exit 1
	fi
	sleep 1
	waited=$((waited + 1))
done
say "window online: node $ZCXL_NODE $(grep MemTotal "$node/meminfo" | sed 's/.*MemTotal: *//')"

# Half the window by default: with the mix's ~3x ratio that is well within a
# media of a quarter of the window.
mib=${ZCXL_DEMO_MIB:-$((ZCXL_CAPACITY / 1048576 / 2))}
zcxl-workload "$ZCXL_NODE" "$mib" "${ZCXL_HOLD:-5}"
