#!/bin/sh
# needs: device,driver
# Issue 6, check 1 (isolation): user space cannot bind to or migrate into the
# window's node N, a memory hog in a cgroup never gets pages on N (node N's
# meminfo shows only what zswap placed there), and cpuset.mems.default
# excludes N while cpuset.mems.effective includes it.
. "$(dirname "$0")/protected-common"
protected_setup
N=$ZCXL_NODE

if command -v numactl >/dev/null; then
	numactl --membind="$N" true 2>/dev/null && fail "numactl --membind=$N succeeded"
	numactl --preferred="$N" true 2>/dev/null && fail "numactl --preferred=$N succeeded"
	note "numactl --membind/--preferred=$N refused"
else
	note "numactl not in the guest: set_mempolicy/mbind checked by protnode-policy only"
fi
protnode-policy "$N" 0 || fail "protnode-policy"

direct=0
[ -r $ZSWAP/stored_direct_pages ] && direct=$(zswap_stat stored_direct_pages)
before=$(node_kb "$N" MemUsed)
mkdir -p $CG/hog
sh -c "echo \$\$ > $CG/hog/cgroup.procs; exec protnode-hog 256 $N" || fail "memory hog got pages on node $N"
after=$(node_kb "$N" MemUsed)
note "node $N MemUsed $before kB -> $after kB (zswap holds $direct pages there)"
[ $((after - before)) -lt 1024 ] || fail "node $N grew by $((after - before)) kB during the hog"

[ "$(cat $CG/cpuset.mems.effective)" != "$(cat $CG/cpuset.mems.default)" ] ||
	fail "cpuset.mems.default equals mems.effective ($(cat $CG/cpuset.mems.effective))"
in_nodelist "$(cat $CG/cpuset.mems.effective)" "$N" ||
	fail "cpuset.mems.effective ($(cat $CG/cpuset.mems.effective)) lacks node $N"
for f in $CG/cpuset.mems.default $CG/hog/cpuset.mems.default; do
	in_nodelist "$(cat "$f")" "$N" && fail "$f includes node $N: $(cat "$f")"
done
note "mems.effective $(cat $CG/cpuset.mems.effective), mems.default $(cat $CG/cpuset.mems.default)"
exit 0
