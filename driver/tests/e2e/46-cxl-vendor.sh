#!/bin/sh
# needs: device,driver
# With CONFIG_CXL_MEM_RAW_COMMANDS the vendor commands work through
# /dev/cxl/memN: Get Compression Statistics (C001h) and Capabilities (C000h)
# answer as they do through /dev/zcxlN. The same rules as on /dev/zcxlN keep
# userspace off the event logs the driver owns and off media in use.
. "$(dirname "$0")/common"
. "$(dirname "$0")/cxl-common"
need_env ZCXL_MEDIA ZCXL_CAPACITY

cxl_begin

caps_z=$(zcxl-cci -d "$cdev" caps) || fail "C000h via $cdev: $caps_z"
caps_c=$(zcxl-cci -c /dev/cxl/$m caps) || fail "C000h via /dev/cxl/$m: $caps_c"
[ "$caps_z" = "$caps_c" ] || fail "capabilities differ: $caps_z / $caps_c"

z1=$(zcxl-cci -d "$cdev" stats) || fail "C001h via $cdev: $z1"
c=$(zcxl-cci -c /dev/cxl/$m stats) || fail "C001h via /dev/cxl/$m: $c"
z2=$(zcxl-cci -d "$cdev" stats) || fail "C001h via $cdev: $z2"
echo "$c" | sed 's/^/  /' | head -8
[ "$(kv media_capacity "$c")" = "$ZCXL_MEDIA" ] || fail "media capacity $(kv media_capacity "$c")"
[ $(($(kv media_used "$c") + $(kv media_free "$c"))) = "$ZCXL_MEDIA" ] ||
	fail "used + free is not the media capacity"
[ "$(kv media_used "$c")" = $(($(kv live_blob_bytes "$c") + $(kv metadata_bytes "$c") + $(kv fragmentation_bytes "$c"))) ] ||
	fail "used is not blobs + metadata + fragmentation"
# Read between two reads through /dev/zcxlN: the counters lie between.
for k in stores bytes_in high_crossings low_crossings; do
	[ "$(kv $k "$z1")" -le "$(kv $k "$c")" ] && [ "$(kv $k "$c")" -le "$(kv $k "$z2")" ] ||
		fail "$k: $(kv $k "$z1") <= $(kv $k "$c") <= $(kv $k "$z2") does not hold"
done
pages=0
for k in unwritten zero same_filled compressed raw poisoned; do
	pages=$((pages + $(kv pages_$k "$c")))
done
[ "$pages" = $((ZCXL_CAPACITY / 4096)) ] || fail "page states add up to $pages"
note "C001h through /dev/cxl/$m: $(kv media_used "$c") of $ZCXL_MEDIA media bytes used, $(kv stores "$c") stores"

# The driver's rules apply behind /dev/cxl too.
for cmd in "0x0101 000100000000:Clear Event Records" "0x0103 00000000:Set Event Interrupt Policy" \
	"0x9999 :an unknown opcode (window in use)"; do
	op=${cmd%% *}
	rest=${cmd#* }
	err=$(zcxl-cci -c /dev/cxl/$m raw $op ${rest%%:*} 2>&1) && fail "${rest#*:} let through: $err"
	echo "$err" | grep -q 'Device or resource busy' || fail "${rest#*:}: $err"
done
note "Clear Event Records, Set Event Interrupt Policy, unknown opcodes: EBUSY"
exit 0
