#!/bin/sh
# needs: device,driver
# Check 4: crossing the high watermark produces an event that the driver
# reports in sysfs (pressure=1); falling below the low watermark clears it.
. "$(dirname "$0")/common"
need_env ZCXL_NODE ZCXL_MEDIA

zcxl_load
d=$(zcxl_dev)
[ -d /sys/module/zcxl_test ] && rmmod zcxl_test
[ "$(cat "$d/pressure")" = 0 ] || fail "pressure already set"

low0=$(cat "$d/watermark_low")
high0=$(cat "$d/watermark_high")
restore() {
	echo "$high0" >"$d/watermark_high"
	echo "$low0" >"$d/watermark_low"
}
trap restore EXIT

# Thresholds at 1% and 2% of media; the test module then stores random
# pages worth 2.5% of media (plus zero, same-filled and text pages).
echo 1 >"$d/watermark_low" || fail "cannot set watermark_low"
echo 2 >"$d/watermark_high" || fail "cannot set watermark_high"
[ "$(cat "$d/watermark_low") $(cat "$d/watermark_high")" = "1 2" ] ||
	fail "watermarks read back as $(cat "$d/watermark_low") $(cat "$d/watermark_high")"
used=$(cat "$d/media_used")
[ "$used" -lt $((ZCXL_MEDIA / 100)) ] || fail "media already $used bytes used, above 1%"
[ "$(cat "$d/pressure")" = 0 ] || fail "pressure set below the low watermark"

high_events=$(cat "$d/events/watermark_high")
low_events=$(cat "$d/events/watermark_low")
pages=$((ZCXL_MEDIA / 4096 / 40))

pressure_is() {
	[ "$(cat "$d/pressure")" = "$1" ]
}

insmod "$ZCXL_BIN/zcxl_test.ko" node="$ZCXL_NODE" pages=$pages ||
	fail "zcxl_test: $(dmesg | grep zcxl_test | tail -3)"
wait_for 10 pressure_is 1 ||
	fail "no pressure with $(cat "$d/media_used") of $ZCXL_MEDIA bytes used"
[ "$(cat "$d/events/watermark_high")" = $((high_events + 1)) ] ||
	fail "events/watermark_high went from $high_events to $(cat "$d/events/watermark_high")"
dmesg | grep -q 'reached the high watermark' || fail "no high-watermark message in dmesg"
note "pressure on at $(cat "$d/media_used") bytes used"

rmmod zcxl_test || fail "rmmod zcxl_test"
wait_for 10 pressure_is 0 ||
	fail "pressure still set with $(cat "$d/media_used") bytes used"
[ "$(cat "$d/events/watermark_low")" = $((low_events + 1)) ] ||
	fail "events/watermark_low went from $low_events to $(cat "$d/events/watermark_low")"
[ "$(cat "$d/events/watermark_high")" = $((high_events + 1)) ] ||
	fail "more than one high-watermark event"
note "pressure off at $(cat "$d/media_used") bytes used"
exit 0
