#!/bin/sh
# needs: device,driver
# Swap-in from the device in shadow backing: while the device reports that
# no page holds poison (the event status word, sysfs holds_poison), zswap
# loads skip the read-prepare round trip (sysfs zswap_unchecked_loads counts
# them); once poison is injected anywhere, every load read-prepares again.
# The data reads back bit-exact either way, and clearing the poison brings
# the fast path back. Prints the load rate of both paths.
. "$(dirname "$0")/protected-common"
. "$(dirname "$0")/cxl-common"
protected_setup
zswap_setup
need_env ZCXL_CAPACITY
cxl_begin
# The runner starts zcxl-vhost in its default, shadow backing.
dmesg | grep -q "zcxl[0-9]*: serial .* shadow backing" ||
	fail "the device is not in shadow backing: $(dmesg | grep 'zcxl[0-9]*: serial' | tail -1)"
dbg=/sys/kernel/debug/cxl/$m
poisoned() { [ "$(cat "$d/holds_poison")" = "$1" ]; }
unchecked() { cat "$d/zswap_unchecked_loads"; }

# run LABEL: page 16 MiB of the mix out and back in, verifying every page;
# sets load (MiB/s of the swap-in and compare).
run() {
	workload "ld$1" -m 16 -p mix -o
	workload_finish > /tmp/ld.out || { cat /tmp/ld.out; fail "$1: mismatches"; }
	vf=$(sed -n 's/^timing: pageout [0-9]* ms, verify \([0-9]*\) ms$/\1/p' /tmp/ld.out)
	load=$((16 * 1000 / (vf > 0 ? vf : 1)))
}

wait_for 10 poisoned 0 || fail "the device reports poison before the check"
u0=$(unchecked)
run fast
u1=$(unchecked)
[ "$u1" -gt "$u0" ] || fail "no zswap load skipped read-prepare ($u0 -> $u1)"
note "no poison: $((u1 - u0)) loads skipped read-prepare, swap-in $load MiB/s"
fast=$load

# Poison the window's last line: the page allocator hands out the node's
# low pages first, so zswap does not store over (and so clear) it here.
dpa=$(printf '%#x' $((ZCXL_CAPACITY - 64)))
echo "$dpa" > "$dbg/inject_poison" || fail "inject_poison $dpa"
wait_for 10 poisoned 1 || fail "holds_poison stays 0 after Inject Poison"
run checked
u2=$(unchecked)
poisoned 1 || fail "the poison went away during the run (a store over $dpa?)"
[ "$u2" = "$u1" ] || fail "$((u2 - u1)) loads skipped read-prepare while the device held poison"
note "poison at $dpa: every load read-prepared, swap-in $load MiB/s"

[ "$(kv pages_poisoned "$(dev_stats)")" = 1 ] || fail "the device does not count the poisoned page"
echo "$dpa" > "$dbg/clear_poison" || fail "clear_poison $dpa"
wait_for 10 poisoned 0 || fail "holds_poison stays 1 after Clear Poison"
echo "ZCXL-REPORT: swap-in of 16 MiB (generated mix) from the device: $fast MiB/s skipping read-prepare, $load MiB/s with read-prepare per page"
exit 0
