#!/bin/sh
# needs: device,driver
# ndctl's cxl tool lists the memdev with the device's identity and capacity
# (cxl list -M -u), its health as Get Health Info reports it (-H) and its
# firmware as Get FW Info does (-F, no update in progress). The
# memdev is "idle" to the tool (no CXL port topology above a virtio device),
# so the listing needs -i.
. "$(dirname "$0")/common"
. "$(dirname "$0")/cxl-common"
need_env ZCXL_CAPACITY ZCXL_SERIAL

cxl_begin

out=$(cxl list -M -i -u -m "$m") || fail "cxl list -M -i -u: $out"
echo "$out" | sed 's/^/  /'
[ "$(json memdev "$out")" = "$m" ] || fail "cxl list shows no $m"
[ "$(json serial "$out")" = "$(printf '0x%x' "$ZCXL_SERIAL")" ] || fail "serial $(json serial "$out")"
human=$(awk -v c="$ZCXL_CAPACITY" 'BEGIN { printf "%.2f GiB (%.2f GB)", c / 1073741824, c / 1e9 }')
[ "$(json ram_size "$out")" = "$human" ] || fail "ram_size '$(json ram_size "$out")', expected '$human'"
[ "$(json host "$out")" = "${d##*/}" ] || fail "host $(json host "$out")"

out=$(cxl list -M -i -m "$m") || fail "cxl list -M -i: $out"
[ "$(json ram_size "$out")" = "$ZCXL_CAPACITY" ] || fail "ram_size $(json ram_size "$out")"
[ "$(json serial "$out")" = "$ZCXL_SERIAL" ] || fail "serial $(json serial "$out")"

# Health: every field cxl shows, against the device's own answer.
hi=$(zcxl-cci -d "$cdev" health) || fail "Get Health Info: $hi"
out=$(cxl list -M -i -H -m "$m") || fail "cxl list -M -i -H: $out"
echo "$out" | sed -n '/"health"/,/}/p' | sed 's/^/  /'
bool() {
	[ "$1" != 0 ] && echo true || echo false
}
hs=$(($(kv health_status "$hi")))
ms=$(($(kv media_status "$hi")))
as=$(($(kv additional_status "$hi")))
level() {
	case $1 in 0) echo normal ;; 1) echo warning ;; 2) echo critical ;; *) echo unknown ;; esac
}
check() {
	[ "$(json "$1" "$out")" = "$2" ] || fail "health $1 is '$(json "$1" "$out")', Get Health Info says '$2'"
}
check maintenance_needed "$(bool $((hs & 1)))"
check performance_degraded "$(bool $((hs & 2)))"
check hw_replacement_needed "$(bool $((hs & 4)))"
check media_normal "$(bool $((ms == 0)))"
check media_not_ready "$(bool $((ms == 1)))"
check ext_life_used "$(level $((as & 3)))"
check ext_temperature "$(level $(((as >> 2) & 3)))"
check ext_corrected_volatile "$([ $((as & 16)) = 0 ] && echo normal || echo warning)"
check ext_corrected_persistent "$([ $((as & 32)) = 0 ] && echo normal || echo warning)"
check dirty_shutdowns "$(kv dirty_shutdowns "$hi")"
check volatile_errors "$(kv corrected_volatile_errors "$hi")"
check pmem_errors "$(kv corrected_persistent_errors "$hi")"
# "Not implemented" (FFh, FFFFh): ndctl v81 prints -95 (-EOPNOTSUPP) for it.
notimpl() {
	[ "$2" = "$3" ] && echo -95 || echo "$2"
}
check life_used_percent "$(notimpl life_used "$(kv life_used "$hi")" 255)"
check temperature "$(notimpl temperature "$(kv temperature "$hi")" 65535)"

# Firmware: the CXL core's firmware loader reports an idle device with the
# one slot Get FW Info announces; libcxl has nothing to complain about.
out=$(cxl list -M -i -F -m "$m" 2>/tmp/cxl-list-F.err) || fail "cxl list -M -i -F: $out $(cat /tmp/cxl-list-F.err)"
echo "$out" | sed -n '/"firmware"/,/}/p' | sed 's/^/  /'
[ ! -s /tmp/cxl-list-F.err ] || fail "cxl list -F complains: $(cat /tmp/cxl-list-F.err)"
[ "$(json fw_update_in_progress "$out")" = false ] ||
	fail "fw_update_in_progress is '$(json fw_update_in_progress "$out")' (no firmware loader?)"
[ "$(json num_slots "$out")" = 1 ] || fail "num_slots '$(json num_slots "$out")', Get FW Info says 1"
exit 0
