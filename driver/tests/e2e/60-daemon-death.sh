#!/bin/sh
# needs: device,driver
# Check 6: killing zcxl-vhost mid-run makes the driver report the device
# failed: no panic, no hang, and the failed device can still be unbound.
. "$(dirname "$0")/common"
need_env ZCXL_CAPACITY

zcxl_load
d=$(zcxl_dev)
name=${d##*/}
start=$(cat "$d/window_start")
cdev=/dev/$(ls "$d/misc")
timeout_s=$((($(cat /sys/module/zcxl/parameters/timeout_ms) + 999) / 1000))
[ "$(cat "$d/failed")" = 0 ] || fail "device failed before the daemon was killed"

echo "ZCXL-HOST: kill-daemon" >/dev/console

failed() {
	cat "$d/media_used" >/dev/null 2>&1
	[ "$(cat "$d/failed")" = 1 ]
}
# Each read that goes to the device waits at most timeout_ms.
wait_for $((30 + 2 * timeout_s)) failed || fail "device not reported failed"
note "reported failed: $(dmesg | grep 'device failed' | tail -1)"

# A failed device answers at once, with an error.
t0=$(date +%s)
cat "$d/media_used" >/dev/null 2>&1 && fail "media_used still readable"
out=$(zcxl-cci -d "$cdev" stats 2>&1) && fail "CCI still works: $out"
echo "$out" | grep -q 'Input/output error' || fail "CCI error: $out"
[ $(($(date +%s) - t0)) -le 1 ] || fail "a failed device still makes callers wait"
[ "$(cat "$d/pressure")" = 0 ] || [ "$(cat "$d/pressure")" = 1 ] || fail "pressure unreadable"

echo "$name" >/sys/bus/virtio/drivers/zcxl/unbind || fail "unbind of the failed device"
[ -z "$(blocks_in "$start" "$ZCXL_CAPACITY")" ] || fail "window blocks remain after unbind"
grep -q zcxl /proc/iomem && fail "/proc/iomem still has $(grep zcxl /proc/iomem)"
note "failed device unbound, window removed"
exit 0
