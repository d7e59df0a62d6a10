#!/bin/sh
# needs: device,driver
# Issue 6, checks 2 and 3: a workload in a memcg whose memory.max is below its
# working set pushes pages out through zswap onto the device: stored_direct_pages
# > 0, node N holds them, the device's statistics show them compressed (check
# 55 compares the ratio with zcxl-bench on the same data, dickens),
# and every page the workload wrote reads back bit-exact after swap-in.
. "$(dirname "$0")/protected-common"
protected_setup
zswap_setup
N=$ZCXL_NODE

# The generated mix (mostly text, some random, same-filled and zero pages):
# dickens compresses only ~1.3:1 per page, so a cgroup swapping it gains
# little room per page; check 55 measures the device's ratio on dickens.
src="-p mix"
before=$(dev_stats) || fail "device statistics"
used0=$(node_kb "$N" MemUsed)

# zswap charges the cgroup the device's media bytes per page, so each page
# out gains what compression saves: 128 MiB of the mix under memory.max 96M.
mkdir -p $CG/wl2
echo 96M > $CG/wl2/memory.max
workload wl2 -m 128 $src
direct=$(zswap_stat stored_direct_pages)
incomp=$(zswap_stat stored_incompressible_pages)
used=$(node_kb "$N" MemUsed)
sleep 2	# let the write-hints reach the device
after=$(dev_stats) || fail "device statistics"
note "memory.max 96M, 128 MiB written ($src): stored_pages $(zswap_stat stored_pages), stored_direct_pages $direct, incompressible $incomp, written back $(zswap_stat written_back_pages)"
note "node $N MemUsed $used0 kB -> $used kB"
note "memcg: $(grep -E '^zswap(ped)? ' $CG/wl2/memory.stat | tr '\n' ' ')"
d_pages=$(( $(kv pages_compressed "$after") + $(kv pages_raw "$after") + $(kv pages_same_filled "$after") + $(kv pages_zero "$after") \
	- $(kv pages_compressed "$before") - $(kv pages_raw "$before") - $(kv pages_same_filled "$before") - $(kv pages_zero "$before") ))
d_media=$(( $(kv media_used "$after") - $(kv media_used "$before") ))
note "device: +$d_pages pages stored, media +$d_media bytes, ratio now $(kv ratio_milli "$after")/1000"
[ "$d_pages" -gt 0 ] && note "ratio of these pages: $(( d_pages * 4096 * 1000 / (d_media > 0 ? d_media : 1) ))/1000 (logical/media)"

workload_finish || fail "integrity: the workload found mismatches (or failed)"
[ "$direct" -gt 0 ] || fail "no page went to the device (stored_direct_pages 0)"
[ "$incomp" -eq 0 ] || note "($incomp incompressible pages were compressed by the CPU: admission said no for some)"
[ $(( (used - used0) / 4 )) -ge $((direct * 9 / 10)) ] ||
	fail "node $N grew by $((used - used0)) kB for $direct direct pages"
[ "$d_pages" -ge $((direct * 9 / 10)) ] ||
	fail "the device stored $d_pages pages for $direct direct pages"
exit 0
