#!/bin/sh
# needs: device,driver
# The raw CCI ioctl refuses, before the device sees them, malformed requests
# (reserved fields, sizes a command does not take, payloads over the largest
# size, bad addresses), the event-log commands the driver owns, and commands
# that change media or labels while the window is in use; it needs
# CAP_SYS_ADMIN.
. "$(dirname "$0")/common"

zcxl_load
d=$(zcxl_dev)
cdev=/dev/$(ls "$d/misc")
[ "$(cat "$d/window_state")" = online ] || fail "window is not online"

out=$(zcxl-cci -d "$cdev" check-rules)
echo "$out" | sed 's/^/  /'
[ "$(kv result "$out")" = ok ] || fail "the ioctl let through or refused the wrong requests"

# Without CAP_SYS_ADMIN: a process that opened the node, then dropped to
# an unprivileged user.
err=$(zcxl-cci -d "$cdev" --drop-privileges identify 2>&1) &&
	fail "Identify without CAP_SYS_ADMIN was let through: $err"
echo "$err" | grep -q 'Operation not permitted' || fail "without CAP_SYS_ADMIN: $err"
note "without CAP_SYS_ADMIN: refused (EPERM)"
exit 0
