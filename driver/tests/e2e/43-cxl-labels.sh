#!/bin/sh
# needs: device,driver
# cxl read-labels, write-labels and zero-labels round-trip the label storage
# area through Get/Set LSA, whole and in parts, and what they write is what
# the device holds. Leaves lsa_pattern in the LSA for the check that runs
# after a restart of the daemon (49-cxl-labels-kept).
. "$(dirname "$0")/common"
. "$(dirname "$0")/cxl-common"

cxl_begin
size=$(cat /sys/bus/cxl/devices/$m/label_storage_size)
[ "$size" -gt 12288 ] || fail "label storage area of $size bytes"

# The whole area, random.
head -c "$size" /dev/urandom >/tmp/lsa.in
cxl write-labels "$m" -i /tmp/lsa.in || fail "cxl write-labels"
cxl read-labels "$m" -o /tmp/lsa.out || fail "cxl read-labels"
cmp /tmp/lsa.in /tmp/lsa.out || fail "labels read back differ from those written"
note "$size bytes written and read back"

# The device holds them: Get LSA through /dev/zcxlN at offset 4096, 64 bytes.
out=$(zcxl-cci -d "$cdev" raw 0x4102 0010000040000000) || fail "Get LSA: $out"
want=$(dd if=/tmp/lsa.in bs=64 skip=64 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
[ "$(kv payload "$out")" = "$want" ] || fail "device LSA at 4096: $(kv payload "$out"), written $want"

# A part, at an offset that is not chunk aligned and spans chunks.
head -c 5000 /dev/urandom >/tmp/part.in
cxl write-labels "$m" -i /tmp/part.in -O 4196 || fail "cxl write-labels -O 4196"
cxl read-labels "$m" -o /tmp/part.out -O 4196 -s 5000 || fail "cxl read-labels -O 4196"
cmp /tmp/part.in /tmp/part.out || fail "part read back differs"
cxl read-labels "$m" -o /tmp/lsa.out || fail "cxl read-labels"
{ head -c 4196 /tmp/lsa.in; cat /tmp/part.in; tail -c $((size - 9196)) /tmp/lsa.in; } >/tmp/lsa.want
cmp /tmp/lsa.want /tmp/lsa.out || fail "writing a part changed labels outside it"
note "5000 bytes at offset 4196 written alone"

cxl zero-labels "$m" || fail "cxl zero-labels"
cxl read-labels "$m" -o /tmp/lsa.out || fail "cxl read-labels"
head -c "$size" /dev/zero | cmp - /tmp/lsa.out || fail "labels not zero after zero-labels"
note "zeroed"

lsa_pattern "$size" >/tmp/lsa.in
cxl write-labels "$m" -i /tmp/lsa.in || fail "cxl write-labels (pattern)"
cxl read-labels "$m" -o /tmp/lsa.out || fail "cxl read-labels (pattern)"
cmp /tmp/lsa.in /tmp/lsa.out || fail "pattern read back differs"
note "left the restart pattern ($(head -c 16 /tmp/lsa.in)...)"
exit 0
