#!/bin/sh
# needs: device,driver
# Issue 6, check 6 (report): zswap store (pageout) and load (swap-in) rates
# with the device against plain zswap with lz4, in the same run, and the RAM
# each keeps.  For the lz4 run the device is unbound, so zswap has no
# provider and compresses every page with the CPU; then it is bound again.
# Prints ZCXL-REPORT lines for the README; fails only if a run loses data or
# the device does not come back.
. "$(dirname "$0")/protected-common"
protected_setup
zswap_setup
MB=${ZCXL_REPORT_MB:-64}
src="-p mix"
what="generated mix"
if [ -n "${ZCXL_CORPUS:-}" ]; then
	src="-f $ZCXL_CORPUS"
	what=$(basename "$ZCXL_CORPUS")
fi
echo lz4 > /sys/module/zswap/parameters/compressor || fail "zswap has no lz4"

media_used() {	# the device's media use, 0 while it is unbound
	cat "$(zcxl_dev 2>/dev/null)/media_used" 2>/dev/null || echo 0
}

run() {	# LABEL: sets pool (RAM bytes zswap used) and media (device bytes)
	media0=$(media_used)
	workload "rep$1" -m "$MB" $src -o
	sleep 2	# let the write-hints reach the device
	pool=$(zswap_stat pool_total_size)
	direct=$(zswap_stat stored_direct_pages)
	stored=$(zswap_stat stored_pages)
	media=$(( $(media_used) - media0 ))
	workload_finish > /tmp/rep.out || { cat /tmp/rep.out; fail "$1: mismatches"; }
	t=$(sed -n 's/^timing: pageout \([0-9]*\) ms, verify \([0-9]*\) ms$/\1 \2/p' /tmp/rep.out)
	po=${t% *}
	vf=${t#* }
	echo "ZCXL-REPORT: zswap $1: $MB MiB ($what), store $((MB * 1000 / (po > 0 ? po : 1))) MiB/s, load $((MB * 1000 / (vf > 0 ? vf : 1))) MiB/s, stored $stored pages ($direct on the device), RAM pool $((pool / 1024)) KiB, device media +$((media / 1024)) KiB"
}

# Plain zswap: the device unbound (the window goes, zswap has no provider).
d=$(zcxl_dev)
name=${d##*/}
drv=/sys/bus/virtio/drivers/zcxl
echo "$name" > $drv/unbind || fail "unbind $name"
[ "$(zswap_stat stored_direct_pages)" = 0 ] || fail "direct pages left after unbind"
run lz4
lz4_pool=$pool
[ "$direct" = 0 ] || fail "the lz4 run stored $direct pages on a device"

echo "$name" > $drv/bind || fail "bind $name"
wait_for 60 window_settled "$drv/$name" || fail "rebind: window still waiting"
[ "$(cat "$drv/$name/zswap_provider")" = 1 ] || fail "rebind: not a zswap provider"
run device
[ "$direct" -gt 0 ] || fail "the device run stored no page on the device"
# Capacity: the guest RAM the swapped-out pages cost, with and without the
# device (the device's media holds them instead).
echo "ZCXL-REPORT: capacity: $MB MiB swapped out cost $((lz4_pool / 1024)) KiB of guest RAM with zswap lz4 (ratio $((MB * 1048576 * 100 / (lz4_pool > 0 ? lz4_pool : 1)))/100) and $((pool / 1024)) KiB with the device, whose media holds them in $((media / 1024)) KiB (ratio $((MB * 1048576 * 100 / (media > 0 ? media : 1)))/100): $(((lz4_pool - pool) / 1024)) KiB of guest RAM gained"
exit 0
