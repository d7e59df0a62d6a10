#!/bin/sh
# needs: device,driver
# Issue 6, check 5: pages zswap frees are discarded on the device: after the
# workload exits, the device's media use returns to its baseline.
. "$(dirname "$0")/protected-common"
protected_setup
zswap_setup
d=$(zcxl_dev)

settled() {
	[ "$(zswap_stat stored_direct_pages)" = 0 ]
}
wait_for 30 settled || fail "$(zswap_stat stored_direct_pages) direct pages left from before"
sleep 2
base=$(cat "$d/media_used")
workload dc -m 64 -p mix -o
peak=$(cat "$d/media_used")
direct=$(zswap_stat stored_direct_pages)
workload_finish || fail "integrity"
back() {
	[ "$(cat "$d/media_used")" -le "$base" ]
}
wait_for 30 back || fail "media_used $(cat "$d/media_used") after exit, baseline $base (peak $peak)"
note "media_used: baseline $base, with $direct pages on the device $peak, after exit $(cat "$d/media_used")"
[ "$peak" -gt "$base" ] || fail "media use never grew ($direct direct pages)"
exit 0
