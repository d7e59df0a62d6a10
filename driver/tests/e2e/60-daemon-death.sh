#!/bin/sh
# needs: device,driver
# Check 6: killing zcxl-vhost mid-run — while write-hints are in flight —
# makes the driver report the device failed: no panic, no hang; the hint
# caller gets an error, and the failed device can still be unbound, its CXL
# memdev with it.
. "$(dirname "$0")/common"
. "$(dirname "$0")/cxl-common"
need_env ZCXL_NODE ZCXL_CAPACITY

zcxl_load
d=$(zcxl_dev)
name=${d##*/}
start=$(cat "$d/window_start")
cdev=/dev/$(ls "$d/misc")
m=$(cxl_memdev)
timeout_s=$((($(cat /sys/module/zcxl/parameters/timeout_ms) + 999) / 1000))
[ "$(cat "$d/failed")" = 0 ] || fail "device failed before the daemon was killed"
[ -d /sys/module/zcxl_test ] && rmmod zcxl_test

dmesg -c >/dev/null
insmod "$ZCXL_BIN/zcxl_test.ko" node="$ZCXL_NODE" pages=64 hammer_ms=120000 \
	>/tmp/zcxl-hammer.out 2>&1 &
hammer=$!
hammering() {
	dmesg | grep -q 'zcxl_test: hammering'
}
wait_for 60 hammering || fail "zcxl_test did not start hammering: $(dmesg | grep zcxl_test)"
sleep 1

echo "ZCXL-HOST: kill-daemon" >/dev/console

# The hint under way times out (timeout_ms), the device is failed, and the
# test module's load returns with that error instead of hammering on.
gone() {
	! kill -0 $hammer 2>/dev/null
}
wait_for $((30 + 2 * timeout_s)) gone || fail "write-hints still hang after the daemon died"
wait $hammer && fail "zcxl_test loaded although the device died under it"
[ "$(cat "$d/failed")" = 1 ] || fail "device not reported failed"
note "reported failed: $(dmesg | grep 'device failed' | tail -1)"
note "$(dmesg | grep 'zcxl_test: hammer:')"
[ -d /sys/module/zcxl_test ] && fail "zcxl_test stayed loaded"

# A failed device answers at once, with an error.
t0=$(date +%s)
cat "$d/media_used" >/dev/null 2>&1 && fail "media_used still readable"
out=$(zcxl-cci -d "$cdev" stats 2>&1) && fail "CCI still works: $out"
echo "$out" | grep -q 'Input/output error' || fail "CCI error: $out"
out=$(zcxl-cci -c /dev/cxl/$m health 2>&1) && fail "the CXL memdev still answers: $out"
echo "$out" | grep -q 'No such device or address' || fail "CXL memdev error: $out"
[ $(($(date +%s) - t0)) -le 1 ] || fail "a failed device still makes callers wait"
[ "$(cat "$d/pressure")" = 0 ] || [ "$(cat "$d/pressure")" = 1 ] || fail "pressure unreadable"

echo "$name" >/sys/bus/virtio/drivers/zcxl/unbind || fail "unbind of the failed device"
[ -z "$(blocks_in "$start" "$ZCXL_CAPACITY")" ] || fail "window blocks remain after unbind"
grep -q zcxl /proc/iomem && fail "/proc/iomem still has $(grep zcxl /proc/iomem)"
[ -e /sys/bus/cxl/devices/$m ] && fail "$m remains after unbind"
note "failed device unbound, window and $m removed"
exit 0
