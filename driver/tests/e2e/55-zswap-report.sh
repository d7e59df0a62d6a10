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

run() {	# LABEL
	workload "rep$1" -m "$MB" $src -o
	pool=$(zswap_stat pool_total_size)
	direct=$(zswap_stat stored_direct_pages)
	stored=$(zswap_stat stored_pages)
	workload_finish > /tmp/rep.out || { cat /tmp/rep.out; fail "$1: mismatches"; }
	t=$(sed -n 's/^timing: pageout \([0-9]*\) ms, verify \([0-9]*\) ms$/\1 \2/p' /tmp/rep.out)
	po=${t% *}
	vf=${t#* }
	echo "ZCXL-REPORT: zswap $1: $MB MiB, store $((MB * 1000 / (po > 0 ? po : 1))) MiB/s, load $((MB * 1000 / (vf > 0 ? vf : 1))) MiB/s, stored $stored pages ($direct on the device), RAM pool $((pool / 1024)) KiB"
}

d=$(zcxl_dev)
keep_watermarks

run device
echo lz4 > /sys/module/zswap/parameters/compressor
echo 0 > "$d/watermark_low" && echo 0 > "$d/watermark_high" || fail "cannot close admission"
refused0=$(zswap_stat direct_reject_admission)
run lz4
[ "$(zswap_stat direct_reject_admission)" -gt "$refused0" ] ||
	fail "admission was not closed for the lz4 run"
exit 0
