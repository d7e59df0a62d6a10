#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Boot test of the protected-node series without the zcxl device: run as
# /init of a guest started by ../run-boot-tests.sh with three "Soft
# Reserved" ranges that dax_hmem turns into dax devices:
#   A: 256 MiB on node 0 (a node with 768 MiB boot memory: sysram)
#   B: 128 MiB on node 1 (no boot memory), C: 256 MiB on node 1
# kmem binds all three at boot as sysram (offline).  The tests turn node 1
# into a protected node and check what the series promises.

. /lib.sh
mount_all
export PATH=/bin:/sbin:/usr/bin

DAXBUS=/sys/bus/dax
KMEM=$DAXBUS/drivers/kmem
PNODE=1

dax_by() {	# NODE SIZE: the dax device with that target node and size
	for d in $DAXBUS/devices/dax*; do
		[ "$(cat $d/target_node 2>/dev/null)" = "$1" ] &&
			[ "$(cat $d/size)" = "$2" ] && basename $d
	done
}

bound_to_kmem() {
	[ -e $KMEM/$1 ]
}

echo "kernel: $(uname -r)"
A=$(dax_by 0 268435456)
B=$(dax_by 1 134217728)
C=$(dax_by 1 268435456)
echo "dax devices: A=$A (node 0) B=$B C=$C (node 1)"

# --- KUnit, as run at boot -------------------------------------------------
kunit_boot() {
	dmesg | grep -q "# protected_nodes: pass:[0-9]* fail:0" || {
		dmesg | grep "protected_nodes" ; return 1; }
	dmesg | grep "# protected_nodes: pass"
}
t "kunit protected_nodes at boot" kunit_boot

# --- dax protected_memory and MHP_PROTECTED_MEMORY -------------------------
boot_state() {
	expect_eq "has_protected_memory" "$(cat /sys/devices/system/node/has_protected_memory)" "" &&
	bound_to_kmem $B && bound_to_kmem $C && bound_to_kmem $A &&
	expect_eq "protected_memory of $B" "$(cat $DAXBUS/devices/$B/protected_memory)" 0
}
t "boot: dax devices bound to kmem as sysram, no protected node" boot_state

dax_busy() {
	expect_fail "set protected_memory=1 while bound to kmem" \
		sh -c "echo 1 > $DAXBUS/devices/$B/protected_memory" &&
	expect_eq "protected_memory" "$(cat $DAXBUS/devices/$B/protected_memory)" 0 &&
	echo 0 > $DAXBUS/devices/$B/protected_memory &&
	echo "writing the current value while bound: accepted"
}
t "dax: protected_memory is -EBUSY while bound to kmem" dax_busy

dax_unbound() {
	echo $B > $KMEM/unbind && echo $C > $KMEM/unbind &&
	echo 1 > $DAXBUS/devices/$B/protected_memory &&
	expect_eq "protected_memory after unbind" "$(cat $DAXBUS/devices/$B/protected_memory)" 1
}
t "dax: protected_memory is writable once unbound" dax_unbound

# bind_as DEV PROTECTED: (re)bind DEV to kmem with protected_memory=PROTECTED
bind_as() {
	{ ! bound_to_kmem $1 || echo $1 > $KMEM/unbind; } &&
	echo $2 > $DAXBUS/devices/$1/protected_memory &&
	echo $1 > $KMEM/bind 2>/dev/null && bound_to_kmem $1
}

# refused DEV PROTECTED NODE: binding DEV that way is refused, node untouched
refused() {
	expect_fail "bind $1 with protected_memory=$2 to node $3" bind_as $1 $2 &&
	! bound_to_kmem $1 &&
	expect_eq "has_protected_memory" "$(cat /sys/devices/system/node/has_protected_memory)" $PNODE &&
	dmesg | grep "node $3: cannot mix" | tail -1
}

first_protected() {
	echo $B > $KMEM/bind && bound_to_kmem $B &&
	expect_eq "has_protected_memory" "$(cat /sys/devices/system/node/has_protected_memory)" $PNODE
}
t "MHP: node without memory takes protected memory (kmem bind)" first_protected

t "MHP: more protected memory on a protected node is accepted" bind_as $C 1
t "MHP: sysram on a protected node is refused (-EINVAL)" refused $C 0 $PNODE
t "MHP: protected memory on a sysram node is refused (-EINVAL)" refused $A 1 0
t "MHP: more sysram on a sysram node is accepted" bind_as $A 0
t "MHP: protected C back on node 1" bind_as $C 1

online_node1() {
	for m in /sys/devices/system/node/node$PNODE/memory*; do
		echo online_movable > $m/state || return 1
	done
	total=$(node_kb $PNODE MemTotal)
	used=$(node_kb $PNODE MemUsed)
	echo "node $PNODE: MemTotal $total kB, MemUsed $used kB"
	[ "$total" -ge 380000 ] && [ "$used" -lt 8192 ]
}
t "node 1 online: 384 MiB, (almost) nothing used" online_node1

# --- cpusets ---------------------------------------------------------------
cpuset_v1() {
	mkdir -p /cpuset && mount -t cgroup -o cpuset cpuset /cpuset || return 1
	r=0
	expect_eq "v1 root effective_mems" "$(cat /cpuset/cpuset.effective_mems)" "0-1" || r=1
	expect_eq "v1 root default_mems" "$(cat /cpuset/cpuset.default_mems)" "0" || r=1
	mkdir /cpuset/only1 && echo 1 > /cpuset/only1/cpuset.mems &&
		echo 0 > /cpuset/only1/cpuset.cpus || r=1
	expect_eq "v1 mems=1: effective_mems" "$(cat /cpuset/only1/cpuset.effective_mems)" "1" || r=1
	expect_eq "v1 mems=1: default_mems (inherited)" "$(cat /cpuset/only1/cpuset.default_mems)" "0" || r=1
	rmdir /cpuset/only1
	umount /cpuset
	return $r
}
t "cpuset v1: cpuset.default_mems" cpuset_v1

mount -t cgroup2 cgroup2 /sys/fs/cgroup
# The v1 cpuset hierarchy lets go of the controller asynchronously
enable_controllers() {
	echo "+cpuset +memory" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
}
n=0
until enable_controllers; do
	n=$((n + 1))
	[ $n -gt 100 ] && echo "cannot enable cpuset and memory in cgroup v2" && break
	sleep 0.1
done

cpuset_v2() {
	r=0
	cg=/sys/fs/cgroup
	expect_eq "root mems.effective" "$(cat $cg/cpuset.mems.effective)" "0-1" || r=1
	expect_eq "root mems.default" "$(cat $cg/cpuset.mems.default)" "0" || r=1
	mkdir $cg/c1
	expect_eq "child mems.effective" "$(cat $cg/c1/cpuset.mems.effective)" "0-1" || r=1
	expect_eq "child mems.default" "$(cat $cg/c1/cpuset.mems.default)" "0" || r=1
	echo 1 > $cg/c1/cpuset.mems
	expect_eq "mems=1: mems.effective" "$(cat $cg/c1/cpuset.mems.effective)" "1" || r=1
	expect_eq "mems=1: mems.default (parent's)" "$(cat $cg/c1/cpuset.mems.default)" "0" || r=1
	echo 0-1 > $cg/c1/cpuset.mems
	return $r
}
t "cpuset v2: cpuset.mems.default excludes node 1, mems.effective has it" cpuset_v2

selftest_mems_default() {
	test_cpuset > /tmp/st.out 2>&1
	grep test_cpuset_mems_default /tmp/st.out &&
	grep -q "^ok .* test_cpuset_mems_default" /tmp/st.out
}
t "selftest cgroup/test_cpuset: test_cpuset_mems_default" selftest_mems_default

kunit_rerun() {
	echo 1 > /sys/kernel/debug/kunit/protected_nodes/run
	cat /sys/kernel/debug/kunit/protected_nodes/results | grep -E "^ *(ok|not ok|# )" | tail -20
	! grep -q "not ok" /sys/kernel/debug/kunit/protected_nodes/results &&
	! grep -q "SKIP no protected node" /sys/kernel/debug/kunit/protected_nodes/results
}
t "kunit protected_nodes with node 1 protected (nothing skipped)" kunit_rerun

# --- isolation -------------------------------------------------------------
t "policies and migrations to node 1 are refused" protnode-policy $PNODE 0

numactl_membind() {
	expect_fail "numactl --membind=1" numactl --membind=$PNODE true &&
	expect_fail "numactl --preferred=1" numactl --preferred=$PNODE true
}
t "numactl --membind/--preferred to node 1 fail" numactl_membind

hog_in_cgroup() {
	cg=/sys/fs/cgroup/hog
	mkdir -p $cg
	before=$(node_kb $PNODE MemUsed)
	sh -c "echo \$\$ > $cg/cgroup.procs; exec protnode-hog 400 $PNODE" || return 1
	sh -c "echo \$\$ > $cg/cgroup.procs; dd if=/dev/zero of=/tmp/fill bs=1M count=100 2>/dev/null"
	after=$(node_kb $PNODE MemUsed)
	rm -f /tmp/fill
	echo "node $PNODE MemUsed: $before kB before, $after kB after"
	[ $((after - before)) -lt 1024 ]
}
t "a memory hog and page cache in a cgroup never get node 1" hog_in_cgroup

# --- zswap with a provider on node 1 ---------------------------------------
mkswap /dev/vda >/dev/null && swapon /dev/vda
echo 1 > /sys/module/zswap/parameters/enabled
P=/sys/kernel/debug/zswap_test_provider
PP=/sys/module/zswap_test_provider/parameters

register() {
	insmod /zswap_test_provider.ko nid=$PNODE charge=1024 &&
	dmesg | grep "zswap: storing pages on node $PNODE"
}
t "provider registers node 1 with zswap" register

refuse_sysram_node() {
	expect_fail "register node 0 (sysram)" insmod /zswap_test_provider.ko nid=0
}

# run_workload ARGS...: start zswap-workload in cgroup /zc, wait until its
# pages are out; the caller then checks and calls finish_workload.
run_workload() {
	mkdir -p /sys/fs/cgroup/zc
	rm -f /tmp/go /tmp/wl.out
	sh -c "echo \$\$ > /sys/fs/cgroup/zc/cgroup.procs; exec zswap-workload $* -w /tmp/go" > /tmp/wl.out 2>&1 &
	WL=$!
	wait_for_line /tmp/wl.out WAITING 300
}
finish_workload() {
	touch /tmp/go
	wait $WL
	rc=$?
	cat /tmp/wl.out
	return $rc
}

direct_store() {
	run_workload -m 64 -p mix -o || { cat /tmp/wl.out; return 1; }
	direct=$(zswap_stat stored_direct_pages)
	stored=$(zswap_stat stored_pages)
	incomp=$(zswap_stat stored_incompressible_pages)
	pool=$(zswap_stat pool_total_size)
	pstored=$(cat $P/stored); preleased=$(cat $P/released)
	used=$(node_kb $PNODE MemUsed)
	zsw=$(awk '$1 == "zswap" { print $2 }' /sys/fs/cgroup/zc/memory.stat)
	# memory.stat reports both in bytes
	zswd=$(awk '$1 == "zswapped" { print $2 / 4096 }' /sys/fs/cgroup/zc/memory.stat)
	echo "stored_pages $stored stored_direct_pages $direct incompressible $incomp pool_total_size $pool"
	echo "provider stored $pstored released $preleased; node $PNODE MemUsed $used kB"
	echo "memcg zc: zswap $zsw bytes for $zswd zswapped pages"
	r=0
	[ "$direct" -gt 10000 ] || { echo "too few direct pages"; r=1; }
	[ "$direct" -eq "$stored" ] || { echo "not every page went direct"; r=1; }
	[ "$incomp" -eq 0 ] || { echo "direct pages counted as incompressible"; r=1; }
	[ $((pstored - preleased)) -eq "$direct" ] || { echo "provider and zswap disagree"; r=1; }
	# every direct page is a page of node 1 in use (plus a little)
	[ $((used / 4)) -ge "$direct" ] && [ $((used / 4)) -le $((direct + 2048)) ] ||
		{ echo "node $PNODE usage does not match"; r=1; }
	[ "$zsw" -eq $((zswd * 1024)) ] || { echo "memcg not charged 1024 bytes per page"; r=1; }
	finish_workload || r=1
	[ "$(cat $P/errors)" = 0 ] || r=1
	return $r
}
t "zswap stores on node 1: counters, node usage, memcg charge, integrity" direct_store

released_all() {
	sleep 1
	expect_eq "stored_direct_pages after exit" "$(zswap_stat stored_direct_pages)" 0 &&
	expect_eq "provider: stored == released" "$(cat $P/stored)" "$(cat $P/released)" &&
	expect_eq "provider: pages held" "$(cat $P/held)" 0 &&
	expect_eq "provider: errors" "$(cat $P/errors)" 0
}
t "pages freed: every direct page released to the provider" released_all

admission_off() {
	echo N > $PP/admit
	refused0=$(cat $P/refused)
	run_workload -m 32 -p mix -o || { cat /tmp/wl.out; return 1; }
	direct=$(zswap_stat stored_direct_pages)
	stored=$(zswap_stat stored_pages)
	echo "admission off: stored_pages $stored, stored_direct_pages $direct, refused $(($(cat $P/refused) - refused0))"
	r=0
	[ "$direct" -eq 0 ] && [ "$stored" -gt 1000 ] || r=1
	[ "$(zswap_stat direct_reject_admission)" -gt 0 ] || r=1
	finish_workload || r=1
	echo Y > $PP/admit
	return $r
}
t "admission says no: zswap falls back to CPU compression" admission_off

pool_full() {
	echo N > $PP/admit
	old=$(cat /sys/module/zswap/parameters/max_pool_percent)
	echo 0 > /sys/module/zswap/parameters/max_pool_percent
	hit0=$(zswap_stat pool_limit_hit)
	run_workload -m 32 -p mix -o || { cat /tmp/wl.out; return 1; }
	echo "pool full, admission off: stored_pages $(zswap_stat stored_pages), pool_limit_hit +$(($(zswap_stat pool_limit_hit) - hit0))"
	r=0
	[ "$(zswap_stat pool_limit_hit)" -gt "$hit0" ] || r=1
	finish_workload || r=1
	echo Y > $PP/admit
	run_workload -m 32 -p mix -o || { cat /tmp/wl.out; return 1; }
	echo "pool full, admission on: stored_direct_pages $(zswap_stat stored_direct_pages)"
	[ "$(zswap_stat stored_direct_pages)" -gt 1000 ] || r=1
	finish_workload || r=1
	echo $old > /sys/module/zswap/parameters/max_pool_percent
	return $r
}
t "RAM pool full: pages go to swap, but the provider still takes them" pool_full

read_failure() {
	run_workload -m 8 -p text -o || { cat /tmp/wl.out; return 1; }
	fails0=$(zswap_stat direct_read_fail)
	echo Y > $PP/fail_reads
	touch /tmp/go
	wait $WL
	rc=$?
	echo N > $PP/fail_reads
	echo "workload exit $rc (SIGBUS = 135), direct_read_fail +$(($(zswap_stat direct_read_fail) - fails0))"
	[ $rc -eq 135 ] && [ "$(zswap_stat direct_read_fail)" -gt "$fails0" ]
}
t "unreadable direct page: the swap-in fails loudly (SIGBUS), never silently" read_failure

unregister_drains() {
	run_workload -m 32 -p mix -o || { cat /tmp/wl.out; return 1; }
	direct=$(zswap_stat stored_direct_pages)
	wb0=$(zswap_stat written_back_pages)
	rmmod zswap_test_provider || return 1
	echo "before rmmod: $direct direct pages; after: $(zswap_stat stored_direct_pages), written back +$(($(zswap_stat written_back_pages) - wb0))"
	dmesg | grep "zswap_test_provider: node" | tail -1
	r=0
	[ "$direct" -gt 1000 ] || r=1
	[ "$(zswap_stat stored_direct_pages)" -eq 0 ] || r=1
	dmesg | grep "zswap_test_provider: node" | tail -1 | grep -q "errors 0" || r=1
	finish_workload || r=1
	return $r
}
t "unregistering writes every direct page back first; data intact" unregister_drains

t "a sysram node cannot be registered" refuse_sysram_node

done_tests
poweroff -f
