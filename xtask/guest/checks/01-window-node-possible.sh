# NUMA node $ZCXL_NODE (memory-less at boot) is possible, so the driver can
# hot-add the window there (QEMU: -numa node without memdev + slots/maxmem).
possible=$(cat /sys/devices/system/node/possible)
case "$possible" in
*-*) last=${possible##*-} ;;
*) last=${possible##*,} ;;
esac
if [ "$last" -lt "$ZCXL_NODE" ]; then
	echo "possible nodes are $possible; node $ZCXL_NODE is not among them"
	exit 1
fi
echo "possible nodes: $possible (window node $ZCXL_NODE)"
