#!/bin/sh
# needs: device,driver
# Event records the device logs reach the kernel's CXL trace events: the
# watermark records (specs/device.md §3.3) the driver drains show up as
# cxl_generic_event with the memdev, the log, the vendor UUID, the device's
# timestamp and the record data, one per record the driver counted.
. "$(dirname "$0")/common"
. "$(dirname "$0")/cxl-common"
need_env ZCXL_NODE ZCXL_MEDIA

cxl_begin
[ -d /sys/module/zcxl_test ] && rmmod zcxl_test
[ "$(cat "$d/pressure")" = 0 ] || fail "pressure already set"
uuid=28dd5f2d-f06c-4400-85b2-dfa6fb425505

low0=$(cat "$d/watermark_low")
high0=$(cat "$d/watermark_high")
restore() {
	trace_stop
	echo "$high0" >"$d/watermark_high"
	echo "$low0" >"$d/watermark_low"
}
trap restore EXIT

records() {
	echo $(($(cat "$d/events/informational") + $(cat "$d/events/warning") +
		$(cat "$d/events/failure") + $(cat "$d/events/fatal")))
}
pressure_is() {
	[ "$(cat "$d/pressure")" = "$1" ]
}
events() {
	grep "cxl_generic_event: memdev=$m host=${d##*/} " "$(tracing)/trace"
}

trace_start cxl_generic_event
before=$(records)
echo 1 >"$d/watermark_low" && echo 2 >"$d/watermark_high" || fail "cannot set watermarks"
insmod "$ZCXL_BIN/zcxl_test.ko" node="$ZCXL_NODE" pages=$((ZCXL_MEDIA / 4096 / 40)) ||
	fail "zcxl_test: $(dmesg | grep zcxl_test | tail -3)"
wait_for 10 pressure_is 1 || fail "no pressure with $(cat "$d/media_used") bytes used"
high=$(events | grep " log=Warning : .* uuid=$uuid len=128 .* : 01 01 ") ||
	fail "no high-watermark cxl_generic_event: $(events)"
note "$(echo "$high" | sed 's/.*cxl_generic_event: //' | cut -c1-150)..."
ts=$(echo "$high" | sed -n 's/.* time=\([0-9]*\) .*/\1/p')
[ "${ts:-0}" -gt 0 ] || fail "the record has no device timestamp: $high"

rmmod zcxl_test || fail "rmmod zcxl_test"
wait_for 10 pressure_is 0 || fail "pressure still set with $(cat "$d/media_used") bytes used"
events | grep -q " log=Informational : .* uuid=$uuid len=128 .* : 02 00 " ||
	fail "no low-watermark cxl_generic_event: $(events)"

n=$(events | wc -l)
[ "$n" = $(($(records) - before)) ] ||
	fail "$n trace events for $(($(records) - before)) records the driver drained"
note "$n records traced as cxl_generic_event"
exit 0
