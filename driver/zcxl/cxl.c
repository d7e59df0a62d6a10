// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: the device as a Linux CXL memory device (memdev).
 *
 * The CXL core gets a mailbox whose transport is the CCI queue: it runs its
 * own bring-up over it (Get Supported Logs and the Command Effects Log enable
 * the commands the device implements, Set Timestamp, Identify Memory Device
 * sets the capacities) and registers /sys/bus/cxl/devices/memN and
 * /dev/cxl/memN, which ndctl's cxl tool drives. The cxl_mem driver then
 * fails to attach ("no CXL port topology": a virtio device sits below no CXL
 * root port); the memdev, its attributes and its ioctls stay.
 *
 * What of cxl_mem works without an endpoint this file adds itself, with
 * the core's own functions so that the same trace events come out:
 * memN/trigger_poison_list (the poison list, as cxl_poison trace events)
 * and debugfs cxl/memN/{inject,clear}_poison. Event records the driver
 * drains (events.c) go to the core's CXL trace events.
 *
 * Built only against a full kernel tree: the memdev structures live in the
 * private headers of drivers/cxl/ (see Kbuild).
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/virtio.h>

#include <cxlmem.h>

#include "core.h"
#include "uapi/linux/zcxl.h"

MODULE_IMPORT_NS("CXL");

static_assert(sizeof(struct zcxl_event_record) ==
	      sizeof(struct cxl_event_record_raw));

struct zcxl_cxl {
	void *group;			/* devres group: mds, memdev, buffers */
	struct cxl_memdev_state *mds;
	struct cxl_memdev *cxlmd;
	struct dentry *debugfs;		/* cxl/memN/ */
	struct mutex poison_lock;	/* one debugfs poison command at a time */
	struct task_struct *poison_task; /* ... and the task sending it */
};

static struct zcxl_dev *zcxl_from_mbox(struct cxl_mailbox *cxl_mbox)
{
	return dev_to_virtio(cxl_mbox->host)->priv;
}

/*
 * The debugfs poison files change media on purpose, window or not, as
 * cxl_mem's do; everything else from the CXL side obeys rules.c.
 */
static enum zcxl_cci_policy zcxl_cxl_policy(struct zcxl_dev *zd,
					    const struct cxl_mbox_cmd *cmd)
{
	if ((cmd->opcode == ZCXL_OP_INJECT_POISON ||
	     cmd->opcode == ZCXL_OP_CLEAR_POISON) &&
	    READ_ONCE(zd->cxl->poison_task) == current)
		return ZCXL_CCI_ANY;
	return zcxl_cci_policy(cmd->opcode, cmd->payload_in, cmd->size_in);
}

/*
 * The CXL core's mailbox transport. Returns 0 whenever the device answered,
 * with its return code in @cmd; never -EIO, which the core reserves for a
 * payload of the wrong size.
 */
static int zcxl_cxl_mbox_send(struct cxl_mailbox *cxl_mbox,
			      struct cxl_mbox_cmd *cmd)
{
	struct zcxl_dev *zd = zcxl_from_mbox(cxl_mbox);
	u16 return_code, vendor_status;
	size_t len;
	int rc;

	rc = zcxl_cci_guarded(zd, zcxl_cxl_policy(zd, cmd), cmd->opcode,
			      cmd->payload_in, cmd->size_in, cmd->payload_out,
			      cmd->size_out, &len, &return_code, &vendor_status);
	if (rc)
		return rc == -EIO ? -ENXIO : rc;
	cmd->return_code = return_code;
	cmd->size_out = min(len, cmd->size_out);
	return 0;
}

/* memN/trigger_poison_list, as cxl_mem has it. */
static ssize_t trigger_poison_list_store(struct device *dev,
					 struct device_attribute *attr,
					 const char *buf, size_t len)
{
	struct cxl_memdev *cxlmd = to_cxl_memdev(dev);
	struct cxl_dev_state *cxlds = cxlmd->cxlds;
	bool trigger;
	unsigned int i;
	int rc;

	if (kstrtobool(buf, &trigger) || !trigger)
		return -EINVAL;
	for (i = 0; i < cxlds->nr_partitions; i++) {
		const struct resource *res = &cxlds->part[i].res;

		rc = cxl_mem_get_poison(cxlmd, res->start, resource_size(res),
					NULL);
		if (rc)
			return rc;
	}
	return len;
}
static DEVICE_ATTR_WO(trigger_poison_list);

static int zcxl_cxl_poison(struct zcxl_dev *zd, u64 dpa, bool inject)
{
	struct zcxl_cxl *cx = zd->cxl;
	int rc;

	mutex_lock(&cx->poison_lock);
	WRITE_ONCE(cx->poison_task, current);
	if (inject)
		rc = cxl_inject_poison(cx->cxlmd, dpa);
	else
		rc = cxl_clear_poison(cx->cxlmd, dpa);
	WRITE_ONCE(cx->poison_task, NULL);
	mutex_unlock(&cx->poison_lock);
	return rc;
}

static int zcxl_cxl_inject_poison(void *zd, u64 dpa)
{
	return zcxl_cxl_poison(zd, dpa, true);
}
DEFINE_DEBUGFS_ATTRIBUTE(zcxl_inject_poison_fops, NULL,
			 zcxl_cxl_inject_poison, "%llx\n");

static int zcxl_cxl_clear_poison(void *zd, u64 dpa)
{
	return zcxl_cxl_poison(zd, dpa, false);
}
DEFINE_DEBUGFS_ATTRIBUTE(zcxl_clear_poison_fops, NULL,
			 zcxl_cxl_clear_poison, "%llx\n");

/*
 * What cxl_mem adds to a memdev it attaches and works without an endpoint.
 * No memdev driver of zcxl's own binds instead: the core takes a bound
 * memdev to have an endpoint port (cxl_dpa_to_region() follows it), and
 * ndctl's cxl tool lists a bound memdev only under its endpoint. Unbound,
 * the memdev is "idle" to the tool (cxl list -i).
 */
static void zcxl_cxl_add_extras(struct zcxl_dev *zd)
{
	struct zcxl_cxl *cx = zd->cxl;
	unsigned long *enabled = cx->mds->poison.enabled_cmds;
	struct device *dev = &cx->cxlmd->dev;
	int rc;

	if (test_bit(CXL_POISON_ENABLED_LIST, enabled)) {
		rc = device_create_file(dev, &dev_attr_trigger_poison_list);
		if (rc)
			dev_warn(zcxl_to_dev(zd), "%s/trigger_poison_list: %d\n",
				 dev_name(dev), rc);
	}

	cx->debugfs = cxl_debugfs_create_dir(dev_name(dev));
	if (test_bit(CXL_POISON_ENABLED_INJECT, enabled))
		debugfs_create_file("inject_poison", 0200, cx->debugfs, zd,
				    &zcxl_inject_poison_fops);
	if (test_bit(CXL_POISON_ENABLED_CLEAR, enabled))
		debugfs_create_file("clear_poison", 0200, cx->debugfs, zd,
				    &zcxl_clear_poison_fops);
}

/* Waits for the extras' users under way. */
static void zcxl_cxl_remove_extras(struct zcxl_cxl *cx)
{
	debugfs_remove_recursive(cx->debugfs);
	device_remove_file(&cx->cxlmd->dev, &dev_attr_trigger_poison_list);
}

/* The CXL core's bring-up of a memory device (as cxl_pci's probe). */
static int zcxl_cxl_register(struct zcxl_dev *zd, const char **step)
{
	struct zcxl_cxl *cx = zd->cxl;
	struct device *dev = zcxl_to_dev(zd);
	struct cxl_dpa_info dpa = { 0 };
	struct cxl_memdev_state *mds;
	struct cxl_memdev *cxlmd;
	int rc;

	*step = "memdev state";
	mds = cxl_memdev_state_create(dev, zd->cfg.serial, 0);
	if (IS_ERR(mds))
		return PTR_ERR(mds);
	cx->mds = mds;
	rc = cxl_mailbox_init(&mds->cxlds.cxl_mbox, dev);
	if (rc)
		return rc;
	mds->cxlds.cxl_mbox.payload_size = zd->cfg.max_payload;
	mds->cxlds.cxl_mbox.mbox_send = zcxl_cxl_mbox_send;
	/* The device said "window mapped": its media is ready. */
	mds->cxlds.media_ready = true;

	*step = "Get Supported Logs / Command Effects Log";
	rc = cxl_enumerate_cmds(mds);
	if (rc)
		return rc;
	*step = "Set Timestamp";
	rc = cxl_set_timestamp(mds);
	if (rc)
		return rc;
	*step = "poison list state";
	rc = cxl_poison_state_init(mds);
	if (rc)
		return rc;
	*step = "Identify Memory Device";
	rc = cxl_dev_state_identify(mds);
	if (rc)
		return rc;
	if (mds->total_bytes != zd->cfg.logical_capacity) {
		dev_err(dev, "Identify Memory Device says %llu bytes, config space %llu\n",
			mds->total_bytes, zd->cfg.logical_capacity);
		return -EINVAL;
	}
	*step = "partitions";
	rc = cxl_mem_dpa_fetch(mds, &dpa);
	if (rc)
		return rc;
	rc = cxl_dpa_setup(&mds->cxlds, &dpa);
	if (rc)
		return rc;

	*step = "memdev";
	cxlmd = devm_cxl_add_classdev(&mds->cxlds);
	if (IS_ERR(cxlmd))
		return PTR_ERR(cxlmd);
	cx->cxlmd = cxlmd;

	/* Its status is what cxl list -F reports; transfers are refused. */
	*step = "firmware loader";
	return devm_cxl_setup_fw_upload(dev, mds);
}

/**
 * zcxl_cxl_add() - register the device with the CXL core
 * @zd: the device, started (its mailbox works)
 *
 * A device the CXL core does not take works on without /dev/cxl (the
 * reason goes to the log); a failed mailbox shows in zcxl_failed().
 *
 * Context: process context (probe).
 */
void zcxl_cxl_add(struct zcxl_dev *zd)
{
	struct device *dev = zcxl_to_dev(zd);
	const char *step = "setup";
	struct zcxl_cxl *cx;
	int rc = -ENOMEM;

	cx = kzalloc_obj(*cx);
	if (!cx)
		goto err;
	mutex_init(&cx->poison_lock);
	cx->group = devres_open_group(dev, NULL, GFP_KERNEL);
	if (!cx->group)
		goto err_free;
	zd->cxl = cx;

	rc = zcxl_cxl_register(zd, &step);
	if (rc) {
		devres_release_group(dev, cx->group);
		zd->cxl = NULL;
		goto err_free;
	}
	devres_close_group(dev, cx->group);
	zcxl_cxl_add_extras(zd);
	dev_info(dev, "%s: CXL memory device %s\n", zd->name,
		 dev_name(&cx->cxlmd->dev));
	return;

err_free:
	mutex_destroy(&cx->poison_lock);
	kfree(cx);
err:
	dev_warn(dev, "not registered with the CXL core (%s: %d); /dev/cxl stays without this device\n",
		 step, rc);
}

/**
 * zcxl_cxl_remove() - take the memdev away
 * @zd: the device; its mailbox still works or has failed for good
 *
 * Waits for the memdev's ioctls and attribute and debugfs users under way;
 * afterwards the CXL core sends nothing more.
 *
 * Context: process context (remove, or a failing probe).
 */
void zcxl_cxl_remove(struct zcxl_dev *zd)
{
	struct zcxl_cxl *cx = zd->cxl;

	if (!cx)
		return;
	zcxl_cxl_remove_extras(cx);
	/* Unregisters the memdev first (devres runs in reverse). */
	devres_release_group(zcxl_to_dev(zd), cx->group);
	zd->cxl = NULL;
	mutex_destroy(&cx->poison_lock);
	kfree(cx);
}

/**
 * zcxl_cxl_event() - hand an event record to the CXL core's trace events
 * @zd: the device
 * @log: the event log it came from
 * @rec: the record
 *
 * The device logs only vendor records (specs/device.md §3.3), which the
 * core traces as cxl_generic_event with their UUID and data.
 *
 * Context: the event work (events.c), which remove() stops before
 * zcxl_cxl_remove().
 */
void zcxl_cxl_event(struct zcxl_dev *zd, u8 log, struct zcxl_event_record *rec)
{
	struct cxl_event_record_raw *raw = (struct cxl_event_record_raw *)rec;

	if (!zd->cxl)
		return;
	cxl_event_trace_record(zd->cxl->cxlmd, log, CXL_CPER_EVENT_GENERIC,
			       &raw->id, &raw->event);
}
