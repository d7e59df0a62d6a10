#!/bin/sh
# needs: device,driver
# Check 3: pages on node N filled with zero, same-filled, text and random
# patterns read back bit-exact after write-hints, and the device accounts each
# class as expected: zero and same-filled pages cost only metadata, text is
# compressed, random is stored raw. Unloading the test module discards them.
. "$(dirname "$0")/common"
need_env ZCXL_NODE

PAGES=256
zcxl_load
d=$(zcxl_dev)
cdev=/dev/$(ls "$d/misc")
[ "$(cat "$d/window_state")" = online ] || fail "window is not online"
[ -d /sys/module/zcxl_test ] && rmmod zcxl_test

stat() {
	kv "$1" "$(zcxl-cci -d "$cdev" stats)"
}

before=$(zcxl-cci -d "$cdev" stats) || fail "Get Compression Statistics"
queued_failures=$(cat "$d/queued_hint_failures")
dmesg -c >/dev/null
insmod "$ZCXL_BIN/zcxl_test.ko" node="$ZCXL_NODE" pages=$PAGES ||
	fail "zcxl_test: $(dmesg | grep zcxl_test)"
dmesg | grep -q 'zcxl_test: PASS' || fail "no PASS from zcxl_test: $(dmesg | grep zcxl_test)"
after=$(zcxl-cci -d "$cdev" stats) || fail "Get Compression Statistics"

delta() {
	echo $(($(kv "$1" "$after") - $(kv "$1" "$before")))
}

for class in zero same_filled compressed raw; do
	[ "$(delta pages_$class)" = $PAGES ] ||
		fail "pages_$class grew by $(delta pages_$class), expected $PAGES"
done
[ "$(delta pages_poisoned)" = 0 ] || fail "pages_poisoned grew by $(delta pages_poisoned)"
[ "$(cat "$d/queued_hint_failures")" = "$queued_failures" ] ||
	fail "queued hints failed: $(cat "$d/queued_hint_failures")"

used=$(delta media_used)
blobs=$(delta live_blob_bytes)
meta=$(delta metadata_bytes)
[ "$meta" = $((4 * PAGES * 16)) ] || fail "metadata grew by $meta, expected $((4 * PAGES * 16))"
# Raw pages cost 4096 each; text blobs are smaller than a page each; zero
# and same-filled pages add no blob bytes at all.
[ "$blobs" -gt $((PAGES * 4096)) ] && [ "$blobs" -lt $((2 * PAGES * 4096)) ] ||
	fail "live blob bytes grew by $blobs, expected between $((PAGES * 4096)) and $((2 * PAGES * 4096))"
note "stored: media_used +$used (blobs +$blobs, metadata +$meta), ratio $(kv ratio_milli "$after")/1000"

rmmod zcxl_test || fail "rmmod zcxl_test"
dmesg | grep -q 'zcxl_test: FAIL' && fail "$(dmesg | grep 'zcxl_test: FAIL')"
dmesg | grep -q 'zcxl_test: discard:' || fail "zcxl_test did not report its discard"
end=$(zcxl-cci -d "$cdev" stats)
for class in zero same_filled compressed raw; do
	[ "$(kv pages_$class "$end")" = "$(kv pages_$class "$before")" ] ||
		fail "after discard pages_$class is $(kv pages_$class "$end"), was $(kv pages_$class "$before")"
done
note "discarded: media_used back to $(kv media_used "$end") bytes"
exit 0
