#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Boot test of the cxl region protected_memory attribute, with QEMU's own
# cxl-type3 device (256 MiB volatile) behind a CXL fixed memory window.
# Run as /init by ../run-boot-tests.sh.  The region is built through sysfs
# the way cxl create-region does it.

. /lib.sh
mount_all
export PATH=/bin:/sbin:/usr/bin

CXL=/sys/bus/cxl/devices
SIZE=$((256 << 20))

wait_enumerated() {
	n=0
	while ! ls -d $CXL/endpoint* >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -gt 300 ] && return 1
		sleep 0.1
	done
	ls $CXL
}
t "cxl: QEMU's type3 device enumerated (mem, endpoint, decoders)" wait_enumerated

ROOTDEC=decoder0.0
EP=$(basename "$(ls -d $CXL/endpoint* | head -1)")
EPDEC=$(basename "$(ls -d $CXL/$EP/decoder* | head -1)")
echo "root decoder $ROOTDEC, endpoint $EP, endpoint decoder $EPDEC"

create_region() {
	REGION=$(cat $CXL/$ROOTDEC/create_ram_region) &&
	echo $REGION > $CXL/$ROOTDEC/create_ram_region &&
	echo $REGION > /tmp/region &&
	R=$CXL/$REGION &&
	cat $CXL/$ROOTDEC/interleave_granularity > $R/interleave_granularity &&
	echo 1 > $R/interleave_ways &&
	echo ram > $CXL/$EPDEC/mode &&
	echo $SIZE > $CXL/$EPDEC/dpa_size &&
	echo $SIZE > $R/size &&
	echo $EPDEC > $R/target0 &&
	echo "$REGION: $(cat $R/size) bytes, target $EPDEC" &&
	expect_eq "protected_memory default" "$(cat $R/protected_memory)" 0
}
t "cxl: ram region built through sysfs" create_region
REGION=$(cat /tmp/region)
R=$CXL/$REGION

set_before_commit() {
	echo 1 > $R/protected_memory &&
	expect_eq "protected_memory before commit" "$(cat $R/protected_memory)" 1
}
t "cxl: protected_memory is writable before commit" set_before_commit

commit_region() {
	echo 1 > $R/commit &&
	echo $REGION > /sys/bus/cxl/drivers/cxl_region/bind 2>/dev/null
	expect_eq "commit" "$(cat $R/commit)" 1
}
t "cxl: region committed and bound" commit_region

busy_after_commit() {
	expect_fail "protected_memory=0 after commit" sh -c "echo 0 > $R/protected_memory" &&
	expect_eq "protected_memory" "$(cat $R/protected_memory)" 1 &&
	echo 1 > $R/protected_memory && echo "writing the current value: accepted"
}
t "cxl: protected_memory is -EBUSY once committed" busy_after_commit

dax_forwarded() {
	n=0
	while [ -z "$(ls /sys/bus/dax/devices 2>/dev/null)" ]; do
		n=$((n + 1))
		[ $n -gt 300 ] && return 1
		sleep 0.1
	done
	d=$(ls /sys/bus/dax/devices | head -1)
	D=/sys/bus/dax/devices/$d
	node=$(cat $D/target_node)
	echo "$d on node $node, driver $(basename "$(readlink $D/driver)")"
	expect_eq "$d protected_memory" "$(cat $D/protected_memory)" 1 &&
	expect_eq "has_protected_memory" "$(cat /sys/devices/system/node/has_protected_memory)" "$node" &&
	expect_fail "$d protected_memory=0 while bound to kmem" \
		sh -c "echo 0 > $D/protected_memory"
}
t "cxl: the dax device inherits protected_memory, kmem adds a protected node" dax_forwarded

done_tests
poweroff -f
