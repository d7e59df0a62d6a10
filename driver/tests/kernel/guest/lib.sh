# SPDX-License-Identifier: GPL-2.0
# Helpers for the guest test scripts of the protected-node series (busybox sh).
#
# t NAME CMD...  runs CMD, prints "TEST: ok NAME" or "TEST: FAIL NAME" with
# CMD's output indented; done_tests prints "TESTS-DONE: P passed, F failed".

PASSED=0
FAILED=0

t() {
	name=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		PASSED=$((PASSED + 1))
		echo "TEST: ok $name"
	else
		FAILED=$((FAILED + 1))
		echo "TEST: FAIL $name (exit $rc)"
	fi
	[ -n "$out" ] && echo "$out" | sed 's/^/    /'
	return 0
}

done_tests() {
	echo "TESTS-DONE: $PASSED passed, $FAILED failed"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		echo "$1: $2"
		return 0
	fi
	echo "$1: got '$2', want '$3'"
	return 1
}

# expect_fail WHAT CMD...: CMD must fail
expect_fail() {
	what=$1
	shift
	if "$@" 2>/dev/null; then
		echo "$what: succeeded, must fail"
		return 1
	fi
	echo "$what: refused"
	return 0
}

# node_kb NODE FIELD: a value (kB) from the node's meminfo
node_kb() {
	awk -v f="$2:" '$3 == f { print $4 }' /sys/devices/system/node/node$1/meminfo
}

zswap_stat() {
	cat /sys/kernel/debug/zswap/$1
}

# wait_for_line FILE PATTERN [SECONDS]
wait_for_line() {
	n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt $((${3:-120} * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

mount_all() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug
	mount -t tmpfs tmpfs /tmp
	mkdir -p /sys/fs/cgroup
}
