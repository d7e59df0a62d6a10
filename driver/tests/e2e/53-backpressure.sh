#!/bin/sh
# needs: device,driver
# Issue 6, check 4 (backpressure): an incompressible workload drives the
# device's media use to its high watermark; admission stops and zswap falls
# back to CPU compression (or the swap device); the device never runs out of
# media (no poison, no failed store); once the pages are freed, media use
# falls below the low watermark and admission resumes.
. "$(dirname "$0")/protected-common"
protected_setup
zswap_setup
need_env ZCXL_MEDIA
d=$(zcxl_dev)
keep_watermarks
# Thresholds at 2% and 4% of media; 64 MiB of random pages is more than that
# for media up to 1.6 GiB.
echo 2 > "$d/watermark_low" && echo 4 > "$d/watermark_high" || fail "cannot set watermarks"
[ "$(cat "$d/pressure")" = 0 ] || fail "pressure already on with $(cat "$d/media_used") bytes used"

before=$(dev_stats) || fail "device statistics"
refused0=$(zswap_stat direct_reject_admission)
stored0=$(zswap_stat stored_pages)
exhausted0=$(cat "$d/events/media_exhausted")
hintfail0=$(cat "$d/queued_hint_failures")

workload bp -m 64 -p random -o
pressure=$(cat "$d/pressure")
direct=$(zswap_stat stored_direct_pages)
cpu=$(( $(zswap_stat stored_pages) - stored0 - direct ))
refused=$(( $(zswap_stat direct_reject_admission) - refused0 ))
after=$(dev_stats) || fail "device statistics"
note "pressure $pressure, media_used $(cat "$d/media_used") of $ZCXL_MEDIA; direct $direct, CPU-compressed $cpu, refused by admission $refused"
[ "$pressure" = 1 ] || fail "no pressure after 64 MiB of random pages"
[ "$refused" -gt 0 ] || fail "admission never said no"
[ "$cpu" -gt 0 ] || note "no page was CPU-compressed (they went to the swap device)"
[ "$(kv pages_poisoned "$after")" = "$(kv pages_poisoned "$before")" ] ||
	fail "poisoned pages: $(kv pages_poisoned "$before") -> $(kv pages_poisoned "$after")"
[ "$(cat "$d/events/media_exhausted")" = "$exhausted0" ] || fail "media exhausted events"
[ "$(cat "$d/queued_hint_failures")" = "$hintfail0" ] || fail "hints failed"
workload_finish || fail "integrity under backpressure"

pressure_off() {
	[ "$(cat "$d/pressure")" = 0 ]
}
wait_for 30 pressure_off || fail "pressure still on at $(cat "$d/media_used") bytes after the workload exited"
note "pressure off at $(cat "$d/media_used") bytes"
direct0=$(zswap_stat stored_direct_pages)
workload bp2 -m 8 -p text -o
resumed=$(( $(zswap_stat stored_direct_pages) - direct0 ))
workload_finish || fail "integrity after resuming"
[ "$resumed" -gt 0 ] || fail "admission did not resume"
note "admission resumed: $resumed pages went to the device"
exit 0
