#!/bin/sh
# needs: device,driver
# The driver registers the device with the Linux CXL core: memN appears on
# the cxl bus and as /dev/cxl/memN, and the core's own bring-up went through
# over the CCI queue: Get Supported Logs and the Command Effects Log enabled
# exactly the commands the device implements, Set Timestamp set its clock,
# Identify Memory Device set the capacities, the poison list was set up.
. "$(dirname "$0")/common"
. "$(dirname "$0")/cxl-common"
need_env ZCXL_CAPACITY ZCXL_SERIAL

cxl_begin
mem=/sys/bus/cxl/devices/$m
[ -e "$mem" ] || fail "$m is not on the cxl bus"
[ -c /dev/cxl/$m ] || fail "no /dev/cxl/$m"
[ "$(readlink -f "$mem/..")" = "$(readlink -f "$d")" ] || fail "$m is not below $d"
dmesg | grep -q "not registered with the CXL core" && fail "$(dmesg | grep 'not registered')"
# No CXL port topology above a virtio device: cxl_mem cannot attach.
[ -e "$mem/driver" ] && fail "$m is bound to $(readlink "$mem/driver")"
note "$m: $(readlink -f "$mem")"

# Identify Memory Device, as the core saw it.
imd=$(zcxl-cci -d "$cdev" imd) || fail "Identify Memory Device: $imd"
[ "$(cat "$mem/serial")" = "$(printf '%#x' "$ZCXL_SERIAL")" ] ||
	fail "serial $(cat "$mem/serial"), daemon has $ZCXL_SERIAL"
[ "$(($(cat "$mem/ram/size")))" = "$ZCXL_CAPACITY" ] ||
	fail "ram/size $(cat "$mem/ram/size"), capacity is $ZCXL_CAPACITY"
[ "$(($(cat "$mem/pmem/size")))" = 0 ] || fail "pmem/size $(cat "$mem/pmem/size")"
[ "$(cat "$mem/label_storage_size")" = "$(kv lsa_size "$imd")" ] ||
	fail "label_storage_size $(cat "$mem/label_storage_size"), device has $(kv lsa_size "$imd")"
[ "$(cat "$mem/firmware_version")" = "$(kv fw_revision "$imd")" ] ||
	fail "firmware_version '$(cat "$mem/firmware_version")', device has '$(kv fw_revision "$imd")'"
[ "$(cat "$mem/payload_max")" = 4096 ] || fail "payload_max $(cat "$mem/payload_max")"
note "serial $(cat "$mem/serial"), ram $(cat "$mem/ram/size"), LSA $(cat "$mem/label_storage_size") bytes, firmware '$(cat "$mem/firmware_version")'"

# Enabled typed commands = those of the kernel's table that the CEL lists.
cel=$(kv cel "$(zcxl-cci -d "$cdev" cel)") || fail "reading the CEL"
q=$(zcxl-cci -c /dev/cxl/$m query) || fail "CXL_MEM_QUERY_COMMANDS: $q"
want=
for op in $(kv known "$q" | tr ',' ' '); do
	case ",$cel," in *",$op,"*) want="$want,$op" ;; esac
done
[ "$(kv enabled "$q")" = "${want#,}" ] ||
	fail "the core enabled $(kv enabled "$q"); the CEL has ${want#,} of its commands"
note "enabled by the CEL: $(kv enabled "$q")"

# The core's Identify through /dev/cxl (a typed command) answers too.
out=$(zcxl-cci -c /dev/cxl/$m imd) || fail "Identify Memory Device via /dev/cxl/$m: $out"
[ "$(kv total_capacity "$out")" = "$ZCXL_CAPACITY" ] || fail "total capacity $(kv total_capacity "$out")"

# Set Timestamp: the device's clock is the guest's wall clock.
ts=$(kv timestamp_ns "$(zcxl-cci -c /dev/cxl/$m timestamp)") || fail "Get Timestamp"
now=$(date +%s)
[ $((ts / 1000000000 - now)) -le 5 ] && [ $((now - ts / 1000000000)) -le 5 ] ||
	fail "device time $ts ns, guest time $now s"
note "device time $((ts / 1000000000)) s, guest time $now s"

# Poison: the list can be read; injection and clearing are offered.
[ -e "$mem/trigger_poison_list" ] || fail "no $mem/trigger_poison_list"
dbg=/sys/kernel/debug/cxl/$m
[ -e $dbg/inject_poison ] && [ -e $dbg/clear_poison ] || fail "no $dbg/{inject,clear}_poison"
exit 0
