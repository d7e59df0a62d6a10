// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: driver for the zcxl compressed-memory expander, a CXL Type-3 memory
 * device with inline compression presented as a virtio device
 * (specs/virtio.md) by the zcxl-vhost daemon.
 *
 * The device has a CCI mailbox queue, an event queue, data queues for page
 * hints, and a window (shared memory region 0) that the driver hot-adds as
 * memory on a NUMA node. This file holds the module parameters, the config
 * space checks, and probe/remove; the rest lives in mbox.c, events.c,
 * dataq.c, window.c, api.c, sysfs.c, cdev.c, rules.c and cxl.c (the device
 * as a CXL memdev).
 */

#include <linux/idr.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/numa.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <uapi/linux/virtio_pci.h>

#include "core.h"
#include "uapi/linux/zcxl.h"

/* ID 6 ("ioMemory") is reserved in the virtio spec and has no other driver. */
#define ZCXL_VIRTIO_ID_DEFAULT	6

static unsigned int virtio_id = ZCXL_VIRTIO_ID_DEFAULT;
module_param(virtio_id, uint, 0444);
MODULE_PARM_DESC(virtio_id, "virtio device ID to bind (default 6; must match zcxl-vhost --virtio-id)");

unsigned int zcxl_timeout_ms = 5000;

static int zcxl_timeout_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 100, 600000);
}

static const struct kernel_param_ops zcxl_timeout_ops = {
	.set = zcxl_timeout_set,
	.get = param_get_uint,
};
module_param_cb(timeout_ms, &zcxl_timeout_ops, &zcxl_timeout_ms, 0644);
MODULE_PARM_DESC(timeout_ms, "mailbox and data request timeout in ms, 100 to 600000 (default 5000); a device that misses it is marked failed");

int zcxl_node_param = NUMA_NO_NODE;
module_param_named(node, zcxl_node_param, int, 0644);
MODULE_PARM_DESC(node, "NUMA node for the window (default -1: the highest memory-less possible node)");

bool zcxl_allow_sysram;
module_param_named(allow_sysram, zcxl_allow_sysram, bool, 0644);
MODULE_PARM_DESC(allow_sysram, "add the window as ordinary System RAM on kernels without protected memory nodes (default N)");

static DEFINE_IDA(zcxl_ida);

/* Devices whose window could not be taken back at unbind (window.c). */
static LIST_HEAD(zcxl_stranded);
static DEFINE_MUTEX(zcxl_stranded_lock);

/* Not const: module_init() puts the virtio_id parameter in. */
static struct virtio_device_id zcxl_id_table[] = {
	{ ZCXL_VIRTIO_ID_DEFAULT, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, zcxl_id_table);

static void zcxl_failed_work(struct work_struct *work)
{
	struct zcxl_dev *zd = container_of(work, struct zcxl_dev, failed_work);

	zcxl_sysfs_notify(zd, "failed");
	zcxl_notify(zd, ZCXL_EVENT_FAILED);
}

/**
 * zcxl_mark_failed() - stop using a device that stopped answering
 * @zd: the device
 * @why: what went wrong, for the log
 *
 * Permanent until the device is unbound. Wakes everyone waiting on a queue;
 * watchers hear of it from a work item, since the caller may be one of them.
 *
 * Context: any context.
 */
void zcxl_mark_failed(struct zcxl_dev *zd, const char *why)
{
	if (test_and_set_bit(ZCXL_FAILED, &zd->flags))
		return;
	dev_err(zcxl_to_dev(zd), "device failed (%s): no longer used\n", why);
	zcxl_dataq_wake(zd);
	queue_work(system_dfl_wq, &zd->failed_work);
}

/*
 * Reading past a virtio-pci device's config space is a BUG() in the
 * transport, and virtio_id= can point the driver at any device type: look
 * at the length of the device-config capability before reading anything.
 */
static bool zcxl_config_fits(struct virtio_device *vdev)
{
	struct pci_dev *pdev;
	u8 pos, type;
	u32 len;

	if (!vdev->dev.parent || !dev_is_pci(vdev->dev.parent))
		return true;
	pdev = to_pci_dev(vdev->dev.parent);
	for (pos = pci_find_capability(pdev, PCI_CAP_ID_VNDR); pos;
	     pos = pci_find_next_capability(pdev, pos, PCI_CAP_ID_VNDR)) {
		pci_read_config_byte(pdev, pos +
				     offsetof(struct virtio_pci_cap, cfg_type),
				     &type);
		if (type != VIRTIO_PCI_CAP_DEVICE_CFG)
			continue;
		pci_read_config_dword(pdev, pos +
				      offsetof(struct virtio_pci_cap, length),
				      &len);
		return len >= sizeof(struct zcxl_virtio_config);
	}
	return false;
}

#define ZCXL_CREAD(zd, field, ptr)					\
	virtio_cread_le((zd)->vdev, struct zcxl_virtio_config, field, ptr)

static int zcxl_read_config(struct zcxl_dev *zd)
{
	struct zcxl_config *cfg = &zd->cfg;
	struct device *dev = zcxl_to_dev(zd);
	u32 magic, page_size, scan_ms;
	u16 version, nr_queues;

	if (!virtio_has_feature(zd->vdev, VIRTIO_F_VERSION_1)) {
		dev_err(dev, "device does not offer VIRTIO_F_VERSION_1\n");
		return -ENODEV;
	}
	if (!zcxl_config_fits(zd->vdev)) {
		dev_err(dev, "config space smaller than %zu bytes: not a zcxl device\n",
			sizeof(struct zcxl_virtio_config));
		return -ENODEV;
	}
	ZCXL_CREAD(zd, magic, &magic);
	if (magic != ZCXL_MAGIC) {
		dev_err(dev, "config magic %#x is not zcxl's (%#x): not a zcxl device\n",
			magic, ZCXL_MAGIC);
		return -ENODEV;
	}
	ZCXL_CREAD(zd, version, &version);
	if (version != ZCXL_CONFIG_VERSION) {
		dev_err(dev, "config version %u; this driver knows version %u\n",
			version, ZCXL_CONFIG_VERSION);
		return -ENODEV;
	}

	ZCXL_CREAD(zd, nr_data_queues, &nr_queues);
	ZCXL_CREAD(zd, serial, &cfg->serial);
	ZCXL_CREAD(zd, logical_capacity, &cfg->logical_capacity);
	ZCXL_CREAD(zd, media_capacity, &cfg->media_capacity);
	ZCXL_CREAD(zd, page_size, &page_size);
	ZCXL_CREAD(zd, max_payload, &cfg->max_payload);
	ZCXL_CREAD(zd, backing_mode, &cfg->backing_mode);
	ZCXL_CREAD(zd, max_ranges, &cfg->max_ranges);
	ZCXL_CREAD(zd, scan_interval_ms, &scan_ms);
	cfg->nr_data_queues = nr_queues;

	if (!nr_queues || nr_queues > ZCXL_MAX_DATA_QUEUES) {
		dev_err(dev, "%u data queues; 1 to %u expected\n", nr_queues,
			ZCXL_MAX_DATA_QUEUES);
		return -EINVAL;
	}
	if (page_size != PAGE_SIZE) {
		dev_err(dev, "device page size %u differs from the kernel's %lu\n",
			page_size, PAGE_SIZE);
		return -EINVAL;
	}
	/* Get Event Records needs room for its header and a record. */
	if (cfg->max_payload < 256 || cfg->max_payload > ZCXL_CCI_MAX_PAYLOAD) {
		dev_err(dev, "largest CCI payload %u; 256 to %u expected\n",
			cfg->max_payload, ZCXL_CCI_MAX_PAYLOAD);
		return -EINVAL;
	}
	if (!cfg->max_ranges || cfg->max_ranges > ZCXL_DATA_MAX_RANGES) {
		dev_err(dev, "%u ranges per data request; 1 to %u expected\n",
			cfg->max_ranges, ZCXL_DATA_MAX_RANGES);
		return -EINVAL;
	}
	if (!cfg->logical_capacity || !cfg->media_capacity) {
		dev_err(dev, "device reports no capacity\n");
		return -EINVAL;
	}
	if (cfg->backing_mode > ZCXL_BACKING_COMPRESSED)
		dev_warn(dev, "unknown backing mode %u\n", cfg->backing_mode);
	return 0;
}

/* Identify over the mailbox proves it works and that it is the same device. */
static int zcxl_identify(struct zcxl_dev *zd)
{
	struct zcxl_identify_out id;
	int rc;

	rc = zcxl_cci(zd, ZCXL_OP_IDENTIFY, NULL, 0, &id, sizeof(id), NULL);
	if (rc) {
		dev_err(zcxl_to_dev(zd), "Identify over the mailbox failed: %d\n",
			rc);
		return rc;
	}
	if (le64_to_cpu(id.serial) != zd->cfg.serial ||
	    id.component_type != ZCXL_COMPONENT_TYPE3) {
		dev_err(zcxl_to_dev(zd), "Identify says serial %#llx, component type %u; config space says serial %#llx\n",
			le64_to_cpu(id.serial), id.component_type,
			zd->cfg.serial);
		return -ENODEV;
	}
	return 0;
}

static int zcxl_init_vqs(struct zcxl_dev *zd)
{
	struct virtqueue_info info[ZCXL_VQ_DATA0 + ZCXL_MAX_DATA_QUEUES] = {
		[ZCXL_VQ_MAILBOX] = { "mailbox", zcxl_mbox_done },
		[ZCXL_VQ_EVENTS] = { "events", zcxl_events_done },
	};
	struct virtqueue *vqs[ZCXL_VQ_DATA0 + ZCXL_MAX_DATA_QUEUES];
	unsigned int i, nvqs = ZCXL_VQ_DATA0 + zd->cfg.nr_data_queues;
	int rc;

	for (i = ZCXL_VQ_DATA0; i < nvqs; i++) {
		info[i].name = "data";
		info[i].callback = zcxl_dataq_done;
	}
	rc = virtio_find_vqs(zd->vdev, nvqs, vqs, info, NULL);
	if (rc) {
		dev_err(zcxl_to_dev(zd), "cannot set up %u queues (mailbox, events, %u data queues): %d; is QEMU's num_vqs %u?\n",
			nvqs, zd->cfg.nr_data_queues, rc, nvqs);
		return rc;
	}

	rc = zcxl_mbox_init(zd, vqs[ZCXL_VQ_MAILBOX]);
	if (rc)
		goto err_del;
	rc = zcxl_events_init(zd, vqs[ZCXL_VQ_EVENTS]);
	if (rc)
		goto err_mbox;
	rc = zcxl_dataq_init(zd, &vqs[ZCXL_VQ_DATA0]);
	if (rc)
		goto err_events;
	return 0;

err_events:
	zcxl_events_free(zd);
err_mbox:
	zcxl_mbox_free(zd);
err_del:
	zd->vdev->config->del_vqs(zd->vdev);
	return rc;
}

/* After reset: the device owns no buffer any more. */
static void zcxl_free_vqs(struct zcxl_dev *zd)
{
	zcxl_dataq_free(zd);
	zcxl_events_free(zd);
	zcxl_mbox_free(zd);
	zd->vdev->config->del_vqs(zd->vdev);
}

static bool zcxl_is_stranded(struct virtio_device *vdev)
{
	struct zcxl_dev *zd;
	bool found = false;

	mutex_lock(&zcxl_stranded_lock);
	list_for_each_entry(zd, &zcxl_stranded, list)
		found |= zd->vdev == vdev;
	mutex_unlock(&zcxl_stranded_lock);
	return found;
}

static int zcxl_probe(struct virtio_device *vdev)
{
	struct zcxl_dev *zd;
	int rc;

	if (zcxl_is_stranded(vdev)) {
		dev_err(&vdev->dev, "still holds a window from an earlier binding\n");
		return -EBUSY;
	}

	zd = kzalloc(sizeof(*zd), GFP_KERNEL);
	if (!zd)
		return -ENOMEM;
	kref_init(&zd->kref);
	INIT_LIST_HEAD(&zd->list);
	init_rwsem(&zd->users);
	INIT_WORK(&zd->failed_work, zcxl_failed_work);
	zd->vdev = vdev;
	vdev->priv = zd;

	rc = zcxl_read_config(zd);
	if (rc)
		goto err_free;
	rc = ida_alloc(&zcxl_ida, GFP_KERNEL);
	if (rc < 0)
		goto err_free;
	zd->id = rc;
	snprintf(zd->name, sizeof(zd->name), "zcxl%d", zd->id);

	rc = zcxl_window_find(zd);
	if (rc)
		goto err_ida;
	rc = zcxl_batcher_init(zd);
	if (rc)
		goto err_ida;
	rc = zcxl_init_vqs(zd);
	if (rc)
		goto err_batcher;

	virtio_device_ready(vdev);

	rc = zcxl_events_wait_mapped(zd);
	if (rc)
		goto err_reset;
	rc = zcxl_identify(zd);
	if (rc)
		goto err_reset;
	rc = zcxl_events_setup(zd);
	if (rc)
		goto err_reset;
	zcxl_cxl_add(zd);
	if (zcxl_failed(zd)) {
		rc = -EIO;
		goto err_cxl;
	}
	rc = zcxl_cdev_add(zd);
	if (rc)
		goto err_cxl;

	zcxl_publish(zd);
	zcxl_events_enable(zd);
	dev_info(&vdev->dev, "%s: serial %#llx, %llu MiB logical, %llu MiB media, %u data queues, %s backing\n",
		 zd->name, zd->cfg.serial, zd->cfg.logical_capacity >> 20,
		 zd->cfg.media_capacity >> 20, zd->cfg.nr_data_queues,
		 zd->cfg.backing_mode == ZCXL_BACKING_SHADOW ? "shadow" : "compressed");
	return 0;

err_cxl:
	zcxl_cxl_remove(zd);
err_reset:
	virtio_reset_device(vdev);
	cancel_work_sync(&zd->failed_work);
	zcxl_free_vqs(zd);
err_batcher:
	zcxl_batcher_stop(zd);
err_ida:
	ida_free(&zcxl_ida, zd->id);
err_free:
	vdev->priv = NULL;
	kfree(zd);
	return rc;
}

/*
 * The window's memory is still in use: leave the device running, or the
 * daemon would unmap it. The module stays pinned by the window (window.c).
 */
static void zcxl_strand(struct zcxl_dev *zd)
{
	mutex_lock(&zcxl_stranded_lock);
	list_add_tail(&zd->list, &zcxl_stranded);
	mutex_unlock(&zcxl_stranded_lock);
}

static void zcxl_remove(struct virtio_device *vdev)
{
	struct zcxl_dev *zd = vdev->priv;

	/* Users free their pages in the window; hints still work meanwhile. */
	zcxl_unpublish(zd);
	zcxl_events_disable(zd);
	/* The CXL side is gone before anything it could reach is. */
	zcxl_cxl_remove(zd);
	zcxl_zswap_remove(zd);
	zcxl_notify(zd, ZCXL_EVENT_REMOVE);

	set_bit(ZCXL_REMOVING, &zd->flags);
	zcxl_batcher_stop(zd);
	/* Waits for the API and ioctl calls under way. */
	down_write(&zd->users);
	up_write(&zd->users);
	zcxl_cdev_remove(zd);

	if (zcxl_window_remove(zd)) {
		zcxl_strand(zd);
		return;
	}

	virtio_reset_device(vdev);
	cancel_work_sync(&zd->failed_work);
	zcxl_free_vqs(zd);
	ida_free(&zcxl_ida, zd->id);
	zcxl_put(zd);
}

static struct virtio_driver zcxl_driver = {
	.driver.name = KBUILD_MODNAME,
	.driver.dev_groups = zcxl_groups,
	.id_table = zcxl_id_table,
	.probe = zcxl_probe,
	.remove = zcxl_remove,
};

struct workqueue_struct *zcxl_wq;

static int __init zcxl_init(void)
{
	int rc;

	if (!virtio_id || virtio_id == VIRTIO_DEV_ANY_ID) {
		pr_err("zcxl: virtio_id=%u is not a device ID\n", virtio_id);
		return -EINVAL;
	}
	zcxl_id_table[0].device = virtio_id;
	zcxl_wq = alloc_workqueue("zcxl", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!zcxl_wq)
		return -ENOMEM;
	rc = register_virtio_driver(&zcxl_driver);
	if (rc)
		destroy_workqueue(zcxl_wq);
	return rc;
}
module_init(zcxl_init);

static void __exit zcxl_exit(void)
{
	unregister_virtio_driver(&zcxl_driver);
	destroy_workqueue(zcxl_wq);
	ida_destroy(&zcxl_ida);
}
module_exit(zcxl_exit);

MODULE_DESCRIPTION("zcxl compressed-memory expander (virtio) driver");
MODULE_LICENSE("GPL");
