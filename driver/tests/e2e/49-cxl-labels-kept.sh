#!/bin/sh
# needs: device,driver
# boot: 2
# After the VM and zcxl-vhost were restarted with the same --lsa file, the
# labels 43-cxl-labels left are still there.
. "$(dirname "$0")/common"
. "$(dirname "$0")/cxl-common"

zcxl_load
m=$(cxl_memdev)
size=$(cat /sys/bus/cxl/devices/$m/label_storage_size)
lsa_pattern "$size" >/tmp/lsa.want
cxl read-labels "$m" -o /tmp/lsa.out || fail "cxl read-labels"
cmp /tmp/lsa.want /tmp/lsa.out || fail "labels differ from those written before the restart: $(head -c 32 /tmp/lsa.out | od -An -c | head -2)"
note "$size bytes of labels survived the restart"
exit 0
