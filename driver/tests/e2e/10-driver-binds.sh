#!/bin/sh
# needs: device,driver
# Check 1: the guest binds zcxl.ko; Identify, Identify Memory Device and the
# vendor capabilities read through /dev/zcxlN match the daemon's command line.
. "$(dirname "$0")/common"
need_env ZCXL_CAPACITY ZCXL_MEDIA ZCXL_SERIAL

# Check 5 compares against the memory blocks that exist before zcxl.
ls /sys/devices/system/memory | grep '^memory' >/tmp/zcxl-blocks.before
zcxl_load
d=$(zcxl_dev)
note "bound: $d"

[ "$(cat "$d/failed")" = 0 ] || fail "device reported failed right after binding"
[ "$(cat "$d/serial")" = "$(printf '%#x' "$ZCXL_SERIAL")" ] ||
	fail "sysfs serial $(cat "$d/serial"), daemon has $ZCXL_SERIAL"
[ "$(cat "$d/logical_capacity")" = "$ZCXL_CAPACITY" ] ||
	fail "sysfs logical_capacity $(cat "$d/logical_capacity"), daemon has $ZCXL_CAPACITY"
[ "$(cat "$d/media_capacity")" = "$ZCXL_MEDIA" ] ||
	fail "sysfs media_capacity $(cat "$d/media_capacity"), daemon has $ZCXL_MEDIA"

cdev=/dev/$(ls "$d/misc")
[ -c "$cdev" ] || fail "no character device for $d"

out=$(zcxl-cci -d "$cdev" identify) || fail "Identify: $out"
[ "$(kv serial "$out")" = "$ZCXL_SERIAL" ] || fail "Identify serial $(kv serial "$out")"
[ "$(kv component_type "$out")" = 3 ] || fail "Identify component type $(kv component_type "$out")"
[ "$(kv vendor_id "$out")" = 0x1af4 ] || fail "Identify vendor $(kv vendor_id "$out")"
[ "$(kv device_id "$out")" = "$(printf '%#06x' $((0x1040 + ZCXL_VIRTIO_ID)))" ] ||
	fail "Identify device ID $(kv device_id "$out")"

out=$(zcxl-cci -d "$cdev" imd) || fail "Identify Memory Device: $out"
[ "$(kv total_capacity "$out")" = "$ZCXL_CAPACITY" ] ||
	fail "IMD total capacity $(kv total_capacity "$out")"
[ "$(kv volatile_capacity "$out")" = "$ZCXL_CAPACITY" ] ||
	fail "IMD volatile capacity $(kv volatile_capacity "$out")"
[ "$(kv persistent_capacity "$out")" = 0 ] || fail "IMD persistent capacity"
note "IMD: fw $(kv fw_revision "$out"), lsa $(kv lsa_size "$out") bytes"

out=$(zcxl-cci -d "$cdev" caps) || fail "Get Compression Capabilities: $out"
[ "$(kv logical_capacity "$out")" = "$ZCXL_CAPACITY" ] ||
	fail "caps logical capacity $(kv logical_capacity "$out")"
[ "$(kv media_capacity "$out")" = "$ZCXL_MEDIA" ] ||
	fail "caps media capacity $(kv media_capacity "$out")"
[ "$(kv page_shift "$out")" = 12 ] || fail "caps page shift $(kv page_shift "$out")"

# The driver enabled event interrupts (MSI) on all four logs.
out=$(zcxl-cci -d "$cdev" raw 0x0102) || fail "Get Event Interrupt Policy: $out"
[ "$(kv payload "$out")" = 0101010100 ] || fail "event interrupt policy $(kv payload "$out")"

# The driver owns the event logs and refuses bad sizes before the device.
zcxl-cci -d "$cdev" raw 0x0101 000100000000 >/dev/null 2>&1 &&
	fail "Clear Event Records from userspace was let through"
zcxl-cci -d "$cdev" raw 0x0001 00 >/dev/null 2>&1 &&
	fail "Identify with a payload was let through"
note "identity matches: serial $ZCXL_SERIAL, $ZCXL_CAPACITY logical, $ZCXL_MEDIA media"
exit 0
