#!/bin/sh
# needs: device,driver
# Check 2: the window appears as node N with the configured size.
. "$(dirname "$0")/common"
need_env ZCXL_NODE ZCXL_CAPACITY

zcxl_load
d=$(zcxl_dev)
state=$(cat "$d/window_state")
[ "$state" = online ] || fail "window_state is '$state'; dmesg: $(dmesg | grep zcxl | tail -3)"
[ "$(cat "$d/window_node")" = "$ZCXL_NODE" ] ||
	fail "window on node $(cat "$d/window_node"), expected $ZCXL_NODE"

kb=$(sed -n 's/^Node [0-9]* MemTotal: *\([0-9]*\) kB/\1/p' \
	/sys/devices/system/node/node"$ZCXL_NODE"/meminfo)
[ "$((kb * 1024))" = "$ZCXL_CAPACITY" ] ||
	fail "node $ZCXL_NODE MemTotal ${kb} kB, expected $ZCXL_CAPACITY bytes"

start=$(cat "$d/window_start")
end=$(printf '%x' $((start + ZCXL_CAPACITY - 1)))
grep -q "^ *${start#0x}-$end : System RAM (zcxl)" /proc/iomem ||
	fail "no 'System RAM (zcxl)' resource ${start#0x}-$end in /proc/iomem"

n=0
for b in $(blocks_in "$start" "$ZCXL_CAPACITY"); do
	[ "$(cat /sys/devices/system/memory/$b/state)" = online ] || fail "$b is not online"
	zones=$(cat /sys/devices/system/memory/$b/valid_zones)
	[ "$zones" = Movable ] || fail "$b is in zone '$zones', expected Movable"
	n=$((n + 1))
done
bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
[ "$n" = $((ZCXL_CAPACITY / bs)) ] || fail "$n memory blocks, expected $((ZCXL_CAPACITY / bs))"

if kernel_has_protected; then
	[ "$(cat "$d/window_protected")" = 1 ] || fail "window is not protected memory"
else
	[ "$(cat "$d/window_protected")" = 0 ] || fail "window_protected=1 on a kernel without protected nodes"
fi
note "node $ZCXL_NODE: $ZCXL_CAPACITY bytes at $start, $n movable blocks, protected=$(cat "$d/window_protected")"
exit 0
