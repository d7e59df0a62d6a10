#!/bin/sh
# needs: device,driver
# Unbinding the zcxl device takes its CXL memdev away (sysfs, /dev/cxl,
# debugfs); a descriptor still open on the memdev then gets ENXIO, not a
# hang or a crash. Rebinding brings the memdev back, its labels kept;
# unloading the module leaves no memdev behind.
. "$(dirname "$0")/common"
. "$(dirname "$0")/cxl-common"

cxl_begin
name=${d##*/}
drv=/sys/bus/virtio/drivers/zcxl
size=$(cat /sys/bus/cxl/devices/$m/label_storage_size)
cxl read-labels "$m" -o /tmp/lsa.before || fail "cxl read-labels"
[ -d /sys/module/zcxl_test ] && rmmod zcxl_test

memdev_gone() {
	[ ! -e /sys/bus/cxl/devices/$1 ] || fail "$2: $1 still on the cxl bus"
	[ ! -e /dev/cxl/$1 ] || fail "$2: /dev/cxl/$1 remains"
	[ ! -e /sys/kernel/debug/cxl/$1 ] || fail "$2: debugfs cxl/$1 remains"
}

exec 3<>/dev/cxl/$m
zcxl-cci -c fd:3 health >/dev/null || fail "Get Health Info through the open descriptor"
echo "$name" >$drv/unbind || fail "unbind $name"
memdev_gone "$m" unbind
err=$(zcxl-cci -c fd:3 health 2>&1) && fail "the memdev still answers after unbind: $err"
echo "$err" | grep -q 'No such device or address' || fail "after unbind: $err"
exec 3>&-
note "unbound: $m gone; an open descriptor gets ENXIO"

echo "$name" >$drv/bind || fail "bind $name"
wait_for 60 window_settled "$drv/$name" || fail "rebind: window still waiting"
m=$(cxl_memdev)
cxl read-labels "$m" -o /tmp/lsa.after || fail "cxl read-labels after rebind"
cmp /tmp/lsa.before /tmp/lsa.after || fail "labels changed across unbind/bind"
out=$(cxl list -M -i -m "$m")
[ "$(json memdev "$out")" = "$m" ] || fail "cxl list does not show $m after rebind: $out"
note "rebound as $m, $size bytes of labels kept"

echo "$name" >$drv/unbind || fail "unbind $name"
rmmod zcxl || fail "rmmod zcxl"
memdev_gone "$m" rmmod
[ -z "$(ls /sys/bus/cxl/devices)" ] || fail "the cxl bus still has $(ls /sys/bus/cxl/devices)"
zcxl_load
cxl_memdev >/dev/null
note "module unloaded and loaded: memdev gone, then back"
exit 0
