#!/bin/busybox sh
# The guest runner: /init of the initramfs `cargo xtask` builds.
#
# The host passes settings on the kernel command line as KEY=VALUE (the kernel
# hands them to init as environment): ZCXL_MODE (checks, demo, shell, probe),
# ZCXL_BOOT (which boot of the run this is) and the device's parameters
# (ZCXL_NODE, ZCXL_CAPACITY, ZCXL_MEDIA, ZCXL_SERIAL, ZCXL_VIRTIO_ID,
# ZCXL_DATA_QUEUES). Lines starting with ZCXL-
# are read by the host: keep their format in step with xtask/src/vm/console.rs.

/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
export ZCXL_BIN=/zcxl/bin
export PATH=$ZCXL_BIN:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root

# A check's own time limit (seconds); the host's boot timeout is the backstop.
check_timeout=${ZCXL_CHECK_TIMEOUT:-300}

# A check may start with a line `# needs: device,driver`: it is skipped when
# the host says (ZCXL_HAVE) that this checkout lacks one of them.
missing_needs() {
	missing=
	for need in $(sed -n 's/^# needs: *//p' "$1" | head -n 1 | tr ',' ' '); do
		case ",$ZCXL_HAVE," in
		*",$need,"*) ;;
		*) missing="$missing $need" ;;
		esac
	done
	echo $missing
}

# A check may say `# boot: 2`: it runs only in the host's second boot (a new
# VM and daemon that keep the first one's --lsa file, ZCXL_BOOT=2); all
# others run only in the first.
boot_of() {
	b=$(sed -n 's/^# boot: *//p' "$1" | head -n 1)
	echo "${b:-1}"
}

run_checks() {
	passed=0
	failed=0
	skipped=0
	n=0
	for check in /zcxl/checks/*.sh; do
		[ -e "$check" ] || continue
		[ "$(boot_of "$check")" = "${ZCXL_BOOT:-1}" ] || continue
		n=$((n + 1))
		name=$(basename "$check" .sh)
		missing=$(missing_needs "$check")
		if [ -n "$missing" ]; then
			skipped=$((skipped + 1))
			echo "ZCXL-CHECK: skip $n $name (needs $missing)"
			continue
		fi
		echo "ZCXL-RUN: $n $name"
		if (cd "$ZCXL_BIN" && timeout "$check_timeout" sh "$check"); then
			passed=$((passed + 1))
			echo "ZCXL-CHECK: ok $n $name"
		else
			failed=$((failed + 1))
			echo "--- dmesg (last 40 lines) after $name ---"
			dmesg | tail -n 40
			echo "ZCXL-CHECK: FAIL $n $name"
		fi
	done
	echo "ZCXL-DONE: $passed passed, $failed failed, $skipped skipped"
}

case "${ZCXL_MODE:-shell}" in
checks)
	run_checks
	;;
demo)
	if sh /zcxl/demo.sh; then
		echo "ZCXL-DEMO: done"
	else
		echo "ZCXL-DEMO: failed"
	fi
	# The host reads the device's statistics now and then stops the guest.
	sleep 3600
	;;
probe)
	echo "ZCXL-PROBE: alive"
	;;
*)
	echo "zcxl guest shell: modules and programs are in $ZCXL_BIN; checks in /zcxl/checks."
	echo "Leave with 'poweroff -f' (or Ctrl-A X for QEMU)."
	setsid cttyhack sh -l
	;;
esac
sync
poweroff -f
