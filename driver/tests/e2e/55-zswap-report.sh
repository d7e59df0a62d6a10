#!/bin/sh
# needs: device,driver
# Issue 6, check 6 (report): zswap store (pageout) and load (swap-in) rates
# with the device against plain zswap with lz4, in the same run, and the RAM
# each keeps.  For the lz4 run the device's admission is closed (its high
# watermark set to 0%), so every page is compressed by the CPU.  Prints
# ZCXL-REPORT lines for the README; fails only if a run loses data.
. "$(dirname "$0")/protected-common"
protected_setup
zswap_setup
MB=${ZCXL_REPORT_MB:-64}
src="-p mix"
[ -n "${ZCXL_CORPUS:-}" ] && src="-f $ZCXL_CORPUS"

run() {	# LABEL: sets pool (RAM bytes zswap used) and media (device bytes)
	media0=$(cat "$d/media_used")
	workload "rep$1" -m "$MB" $src -o
	sleep 2	# let the write-hints reach the device
	pool=$(zswap_stat pool_total_size)
	direct=$(zswap_stat stored_direct_pages)
	stored=$(zswap_stat stored_pages)
	media=$(( $(cat "$d/media_used") - media0 ))
	workload_finish > /tmp/rep.out || { cat /tmp/rep.out; fail "$1: mismatches"; }
	t=$(sed -n 's/^timing: pageout \([0-9]*\) ms, verify \([0-9]*\) ms$/\1 \2/p' /tmp/rep.out)
	po=${t% *}
	vf=${t#* }
	echo "ZCXL-REPORT: zswap $1: $MB MiB ($what), store $((MB * 1000 / (po > 0 ? po : 1))) MiB/s, load $((MB * 1000 / (vf > 0 ? vf : 1))) MiB/s, stored $stored pages ($direct on the device), RAM pool $((pool / 1024)) KiB, device media +$((media / 1024)) KiB"
}

what="generated mix"
[ -n "${ZCXL_CORPUS:-}" ] && what=$(basename "$ZCXL_CORPUS")
d=$(zcxl_dev)
keep_watermarks

run device
dev_pool=$pool
dev_media=$media
echo lz4 > /sys/module/zswap/parameters/compressor
echo 0 > "$d/watermark_low" && echo 0 > "$d/watermark_high" || fail "cannot close admission"
refused0=$(zswap_stat direct_reject_admission)
run lz4
[ "$(zswap_stat direct_reject_admission)" -gt "$refused0" ] ||
	fail "admission was not closed for the lz4 run"
# Capacity: the guest RAM the swapped-out pages cost, with and without the
# device (the device's media holds them instead).
echo "ZCXL-REPORT: capacity: $MB MiB swapped out cost $((dev_pool / 1024)) KiB of guest RAM with the device (on its media: $((dev_media / 1024)) KiB, ratio $((MB * 1048576 * 100 / (dev_media > 0 ? dev_media : 1)))/100) vs $((pool / 1024)) KiB with zswap lz4 (ratio $((MB * 1048576 * 100 / (pool > 0 ? pool : 1)))/100): $(((pool - dev_pool) / 1024)) KiB of RAM gained"
exit 0
