#!/bin/sh
# needs: device,driver
# Check 5: unbind/rebind and module unload leave no leaked memory blocks.
. "$(dirname "$0")/common"
need_env ZCXL_NODE ZCXL_CAPACITY

zcxl_load
d=$(zcxl_dev)
name=${d##*/}
start=$(cat "$d/window_start")
drv=/sys/bus/virtio/drivers/zcxl
[ -d /sys/module/zcxl_test ] && rmmod zcxl_test
[ -n "$(blocks_in "$start" "$ZCXL_CAPACITY")" ] || fail "no window blocks to start from"

node_kb() {
	f=/sys/devices/system/node/node$ZCXL_NODE/meminfo
	[ -e $f ] || { echo 0; return; }
	sed -n 's/^Node [0-9]* MemTotal: *\([0-9]*\) kB/\1/p' $f
}

window_gone() {
	[ -z "$(blocks_in "$start" "$ZCXL_CAPACITY")" ] || fail "$1: window blocks remain: $(blocks_in "$start" "$ZCXL_CAPACITY" | head -3)"
	grep -q zcxl /proc/iomem && fail "$1: /proc/iomem still has $(grep zcxl /proc/iomem)"
	[ "$(node_kb)" = 0 ] || fail "$1: node $ZCXL_NODE still has $(node_kb) kB"
}

rmmod zcxl 2>/dev/null && fail "rmmod zcxl succeeded while its window was online"

for round in 1 2; do
	echo "$name" >$drv/unbind || fail "unbind $name"
	window_gone "unbind $round"
	echo "$name" >$drv/bind || fail "bind $name"
	wait_for 60 window_settled "$drv/$name" || fail "rebind $round: window still waiting"
	[ "$(cat $drv/$name/window_state)" = online ] ||
		fail "rebind $round: window_state $(cat $drv/$name/window_state)"
	[ "$(($(node_kb) * 1024))" = "$ZCXL_CAPACITY" ] ||
		fail "rebind $round: node $ZCXL_NODE has $(node_kb) kB"
	# What the driver set up at probe must have survived the device's reset.
	out=$(zcxl-cci -d /dev/$(ls $drv/$name/misc) raw 0x0102) ||
		fail "rebind $round: Get Event Interrupt Policy: $out"
	[ "$(kv payload "$out")" = 0101010100 ] ||
		fail "rebind $round: event interrupt policy $(kv payload "$out")"
	note "round $round: unbound and rebound, $(node_kb) kB back on node $ZCXL_NODE"
done

echo "$name" >$drv/unbind || fail "unbind $name"
rmmod zcxl || fail "rmmod zcxl"
window_gone "rmmod"
[ -e /dev/zcxl0 ] && fail "/dev/zcxl0 remains after rmmod"
if [ -e /tmp/zcxl-blocks.before ]; then
	ls /sys/devices/system/memory | grep '^memory' >/tmp/zcxl-blocks.after
	cmp -s /tmp/zcxl-blocks.before /tmp/zcxl-blocks.after ||
		fail "memory blocks differ from before zcxl was loaded"
fi
note "module unloaded: memory blocks as before zcxl was loaded"

zcxl_load
[ "$(cat "$(zcxl_dev)/window_state")" = online ] || fail "reload: window not online"
exit 0
