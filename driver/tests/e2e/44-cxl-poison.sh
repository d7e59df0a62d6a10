#!/bin/sh
# needs: device,driver
# Poison injected through the kernel's CXL poison path (debugfs
# cxl/memN/inject_poison, which sends Inject Poison over the CCI queue) is in
# the poison list the kernel reads (cxl_mem_get_poison: cxl_poison trace
# events, which cxl list -L shows as media errors) and in the device's own
# list; clearing takes it out of both. Inject Poison as a raw command from
# userspace is refused: by the kernel, and with raw_allow_all by zcxl while
# the window is in use.
. "$(dirname "$0")/common"
. "$(dirname "$0")/cxl-common"
need_env ZCXL_CAPACITY

cxl_begin
dbg=/sys/kernel/debug/cxl/$m
[ "$(kv pages_poisoned "$(zcxl-cci -d "$cdev" stats)")" = 0 ] || fail "poisoned pages before the check"
a=0x1000
b=0x2040

trace_start cxl_poison
echo $a >$dbg/inject_poison || fail "inject_poison $a"
echo $b >$dbg/inject_poison || fail "inject_poison $b"
for dpa in $a $b; do
	grep -q "trace_type=Inject .*dpa=$dpa dpa_length=0x40 " "$(tracing)/trace" ||
		fail "no cxl_poison Inject event for $dpa: $(grep cxl_poison "$(tracing)/trace")"
done
[ "$(kv pages_poisoned "$(zcxl-cci -d "$cdev" stats)")" = 2 ] || fail "the device did not count 2 poisoned pages"

# The kernel reads the list: memN/trigger_poison_list -> cxl_mem_get_poison.
echo >"$(tracing)/trace"
echo 1 >/sys/bus/cxl/devices/$m/trigger_poison_list || fail "trigger_poison_list"
listed=$(grep -c "trace_type=List " "$(tracing)/trace")
[ "$listed" = 2 ] || fail "$listed cxl_poison List events: $(grep cxl_poison "$(tracing)/trace")"
for dpa in $a $b; do
	grep -q "trace_type=List .*dpa=$dpa dpa_length=0x40 source=Injected" "$(tracing)/trace" ||
		fail "no List event for $dpa: $(grep cxl_poison "$(tracing)/trace")"
done
trace_stop
note "kernel's poison list: $(grep -o 'dpa=0x[0-9a-f]* dpa_length=0x[0-9a-f]* source=[A-Za-z]*' "$(tracing)/trace" | tr '\n' ';')"

# ... and so does cxl list, through its own trace instance.
out=$(cxl list -M -i -L -m "$m") || fail "cxl list -L: $out"
echo "$out" | sed -n '/media_errors/,/]/p' | sed 's/^/  /'
[ "$(echo "$out" | grep -c '"source":"Injected"')" = 2 ] || fail "cxl list -L: $out"
echo "$out" | grep -q "\"offset\":$((a))," || fail "cxl list -L does not show $a"

# Raw Inject Poison from userspace: the kernel refuses it ...
err=$(zcxl-cci -c /dev/cxl/$m raw 0x4301 "$(le64 0x3000)" 2>&1) && fail "raw Inject Poison let through: $err"
echo "$err" | grep -q 'Operation not permitted' || fail "raw Inject Poison: $err"
# ... and zcxl too, when raw_allow_all lifts the kernel's refusal.
echo Y >/sys/kernel/debug/cxl/mbox/raw_allow_all
err=$(zcxl-cci -c /dev/cxl/$m raw 0x4301 "$(le64 0x3000)" 2>&1)
rc=$?
echo N >/sys/kernel/debug/cxl/mbox/raw_allow_all
[ $rc = 0 ] && fail "raw Inject Poison let through with the window in use: $err"
echo "$err" | grep -q 'Device or resource busy' || fail "raw Inject Poison (raw_allow_all): $err"
note "raw Inject Poison refused: EPERM (kernel), EBUSY (zcxl, with raw_allow_all)"

trace_start cxl_poison
echo $a >$dbg/clear_poison || fail "clear_poison $a"
grep -q "trace_type=Clear .*dpa=$a " "$(tracing)/trace" || fail "no cxl_poison Clear event for $a"
echo >"$(tracing)/trace"
echo 1 >/sys/bus/cxl/devices/$m/trigger_poison_list || fail "trigger_poison_list"
[ "$(grep -c 'trace_type=List ' "$(tracing)/trace")" = 1 ] &&
	grep -q "trace_type=List .*dpa=$b " "$(tracing)/trace" ||
	fail "after clearing $a the list is: $(grep cxl_poison "$(tracing)/trace")"
echo $b >$dbg/clear_poison || fail "clear_poison $b"
echo >"$(tracing)/trace"
echo 1 >/sys/bus/cxl/devices/$m/trigger_poison_list || fail "trigger_poison_list"
[ "$(grep -c 'cxl_poison:' "$(tracing)/trace")" = 0 ] ||
	fail "poison left after clearing: $(grep cxl_poison "$(tracing)/trace")"
trace_stop
out=$(cxl list -M -i -L -m "$m")
echo "$out" | grep -q '"source"' && fail "cxl list -L still lists media errors: $out"
# Get Poison List over /dev/zcxlN: no records.
out=$(zcxl-cci -d "$cdev" raw 0x4300 "$(le64 0)$(le64 $((ZCXL_CAPACITY / 64)))") || fail "Get Poison List: $out"
[ "$(kv payload "$out" | cut -c21-24)" = 0000 ] || fail "the device still lists poison: $(kv payload "$out")"
[ "$(kv pages_poisoned "$(zcxl-cci -d "$cdev" stats)")" = 0 ] || fail "the device still counts poisoned pages"
note "cleared: the kernel's list, cxl list and the device's list are empty"
exit 0
