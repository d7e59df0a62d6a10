# needs: device
# The zcxl device is on the PCI bus as virtio 1af4:(1040 + virtio-id), and its
# BAR 4 (the shared-memory window) is exactly the device's logical capacity.
want=$(printf '0x%04x' $((0x1040 + ${ZCXL_VIRTIO_ID:-6})))
dev=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = "$want" ]; then
		dev=$d
	fi
done
if [ -z "$dev" ]; then
	echo "no PCI device 1af4:${want#0x}; the bus has:"
	for d in /sys/bus/pci/devices/*; do
		echo "  ${d##*/} $(cat "$d/vendor"):$(cat "$d/device")"
	done
	exit 1
fi
# Line 5 of `resource` is BAR 4: start end flags.
set -- $(sed -n 5p "$dev/resource")
size=$(($2 - $1 + 1))
if [ "$1" = 0x0000000000000000 ] || [ "$size" -ne "$ZCXL_CAPACITY" ]; then
	echo "${dev##*/}: BAR 4 is $1..$2 ($size bytes), want $ZCXL_CAPACITY bytes"
	exit 1
fi
echo "${dev##*/}: 1af4:${want#0x}, BAR 4 at $1, $size bytes"
