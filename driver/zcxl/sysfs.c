// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: sysfs attributes of a bound device (documented in ABI).
 *
 * Capacities and identity come from config space; media use, ratio and
 * watermarks are asked of the device on every read; pressure, failure and
 * event counters are the driver's own view.
 */

#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/sysfs.h>
#include <linux/virtio.h>

#include "core.h"
#include "uapi/linux/zcxl.h"

static struct zcxl_dev *zcxl_from_dev(struct device *dev)
{
	return dev_to_virtio(dev)->priv;
}

void zcxl_sysfs_notify(struct zcxl_dev *zd, const char *attr)
{
	sysfs_notify(&zd->vdev->dev.kobj, NULL, attr);
}

static ssize_t serial_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%#llx\n", zcxl_from_dev(dev)->cfg.serial);
}
static DEVICE_ATTR_RO(serial);

static ssize_t logical_capacity_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  zcxl_from_dev(dev)->cfg.logical_capacity);
}
static DEVICE_ATTR_RO(logical_capacity);

static ssize_t media_capacity_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", zcxl_from_dev(dev)->cfg.media_capacity);
}
static DEVICE_ATTR_RO(media_capacity);

static int zcxl_get_stats(struct zcxl_dev *zd, struct zcxl_stats_out *st)
{
	return zcxl_cci(zd, ZCXL_OP_GET_COMPRESSION_STATS, NULL, 0, st,
			sizeof(*st), NULL);
}

static ssize_t media_used_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct zcxl_stats_out st;
	int rc;

	rc = zcxl_get_stats(zcxl_from_dev(dev), &st);
	if (rc)
		return rc;
	return sysfs_emit(buf, "%llu\n", le64_to_cpu(st.media_used));
}
static DEVICE_ATTR_RO(media_used);

static ssize_t ratio_milli_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct zcxl_stats_out st;
	int rc;

	rc = zcxl_get_stats(zcxl_from_dev(dev), &st);
	if (rc)
		return rc;
	return sysfs_emit(buf, "%u\n", le32_to_cpu(st.ratio_milli));
}
static DEVICE_ATTR_RO(ratio_milli);

static int zcxl_get_watermarks(struct zcxl_dev *zd,
			       struct zcxl_watermarks_out *wm)
{
	return zcxl_cci(zd, ZCXL_OP_GET_WATERMARKS, NULL, 0, wm, sizeof(*wm),
			NULL);
}

/* Sets one watermark (percent of media), keeping the other. */
static ssize_t zcxl_watermark_store(struct device *dev, const char *buf,
				    size_t count, bool high)
{
	struct zcxl_dev *zd = zcxl_from_dev(dev);
	struct zcxl_watermarks_out cur;
	struct zcxl_watermarks_in set = {};
	u8 percent;
	int rc;

	rc = kstrtou8(buf, 0, &percent);
	if (rc)
		return rc;
	rc = zcxl_get_watermarks(zd, &cur);
	if (rc)
		return rc;
	set.low_percent = high ? cur.low_percent : percent;
	set.high_percent = high ? percent : cur.high_percent;
	/* The device takes 0 < low < high <= 100 only. */
	if (!set.low_percent || set.low_percent >= set.high_percent ||
	    set.high_percent > 100)
		return -EINVAL;
	rc = zcxl_cci(zd, ZCXL_OP_SET_WATERMARKS, &set, sizeof(set), NULL, 0,
		      NULL);
	return rc ? rc : count;
}

static ssize_t zcxl_watermark_show(struct device *dev, char *buf, bool high)
{
	struct zcxl_watermarks_out wm;
	int rc;

	rc = zcxl_get_watermarks(zcxl_from_dev(dev), &wm);
	if (rc)
		return rc;
	return sysfs_emit(buf, "%u\n", high ? wm.high_percent : wm.low_percent);
}

static ssize_t watermark_low_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return zcxl_watermark_show(dev, buf, false);
}

static ssize_t watermark_low_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	return zcxl_watermark_store(dev, buf, count, false);
}
static DEVICE_ATTR_RW(watermark_low);

static ssize_t watermark_high_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return zcxl_watermark_show(dev, buf, true);
}

static ssize_t watermark_high_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t count)
{
	return zcxl_watermark_store(dev, buf, count, true);
}
static DEVICE_ATTR_RW(watermark_high);

static ssize_t pressure_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  test_bit(ZCXL_PRESSURE, &zcxl_from_dev(dev)->flags));
}
static DEVICE_ATTR_RO(pressure);

static ssize_t holds_poison_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  !test_bit(ZCXL_NO_POISON, &zcxl_from_dev(dev)->flags));
}
static DEVICE_ATTR_RO(holds_poison);

static ssize_t failed_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%d\n", zcxl_failed(zcxl_from_dev(dev)));
}
static DEVICE_ATTR_RO(failed);

static ssize_t window_state_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  zcxl_window_state_name(zcxl_from_dev(dev)));
}
static DEVICE_ATTR_RO(window_state);

static ssize_t window_node_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", zcxl_nid(zcxl_from_dev(dev)));
}
static DEVICE_ATTR_RO(window_node);

static ssize_t window_start_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%#llx\n", zcxl_from_dev(dev)->win.start);
}
static DEVICE_ATTR_RO(window_start);

static ssize_t window_protected_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct zcxl_dev *zd = zcxl_from_dev(dev);

	return sysfs_emit(buf, "%d\n",
			  zcxl_window_added(zd) && zd->win.protected);
}
static DEVICE_ATTR_RO(window_protected);

static ssize_t zswap_provider_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  zcxl_zswap_registered(zcxl_from_dev(dev)));
}
static DEVICE_ATTR_RO(zswap_provider);

static ssize_t zswap_unchecked_loads_show(struct device *dev,
					  struct device_attribute *attr,
					  char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  zcxl_zswap_unchecked_loads(zcxl_from_dev(dev)));
}
static DEVICE_ATTR_RO(zswap_unchecked_loads);

static ssize_t queued_hint_failures_show(struct device *dev,
					 struct device_attribute *attr,
					 char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&zcxl_from_dev(dev)->batch.failed));
}
static DEVICE_ATTR_RO(queued_hint_failures);

static struct attribute *zcxl_attrs[] = {
	&dev_attr_serial.attr,
	&dev_attr_logical_capacity.attr,
	&dev_attr_media_capacity.attr,
	&dev_attr_media_used.attr,
	&dev_attr_ratio_milli.attr,
	&dev_attr_watermark_low.attr,
	&dev_attr_watermark_high.attr,
	&dev_attr_pressure.attr,
	&dev_attr_holds_poison.attr,
	&dev_attr_failed.attr,
	&dev_attr_window_state.attr,
	&dev_attr_window_node.attr,
	&dev_attr_window_start.attr,
	&dev_attr_window_protected.attr,
	&dev_attr_queued_hint_failures.attr,
	&dev_attr_zswap_provider.attr,
	&dev_attr_zswap_unchecked_loads.attr,
	NULL
};

static const struct attribute_group zcxl_attr_group = {
	.attrs = zcxl_attrs,
};

/* events/: what the event logs reported since the driver bound. */
#define ZCXL_EVENT_COUNTER(_name, _field)				\
static ssize_t ev_##_name##_show(struct device *dev,			\
				 struct device_attribute *attr,		\
				 char *buf)				\
{									\
	return sysfs_emit(buf, "%llu\n",				\
			  READ_ONCE(zcxl_from_dev(dev)->ev._field));	\
}									\
static struct device_attribute dev_attr_ev_##_name =			\
	__ATTR(_name, 0444, ev_##_name##_show, NULL)

ZCXL_EVENT_COUNTER(informational, records[0]);
ZCXL_EVENT_COUNTER(warning, records[1]);
ZCXL_EVENT_COUNTER(failure, records[2]);
ZCXL_EVENT_COUNTER(fatal, records[3]);
ZCXL_EVENT_COUNTER(dropped, dropped);
ZCXL_EVENT_COUNTER(watermark_high, watermark_high);
ZCXL_EVENT_COUNTER(watermark_low, watermark_low);
ZCXL_EVENT_COUNTER(media_exhausted, media_exhausted);

static struct attribute *zcxl_event_attrs[] = {
	&dev_attr_ev_informational.attr,
	&dev_attr_ev_warning.attr,
	&dev_attr_ev_failure.attr,
	&dev_attr_ev_fatal.attr,
	&dev_attr_ev_dropped.attr,
	&dev_attr_ev_watermark_high.attr,
	&dev_attr_ev_watermark_low.attr,
	&dev_attr_ev_media_exhausted.attr,
	NULL
};

static const struct attribute_group zcxl_event_group = {
	.name = "events",
	.attrs = zcxl_event_attrs,
};

const struct attribute_group *zcxl_groups[] = {
	&zcxl_attr_group,
	&zcxl_event_group,
	NULL
};
