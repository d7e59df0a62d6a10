// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: the character device /dev/zcxlN and its ioctls (uapi/linux/zcxl.h).
 *
 * Raw CCI commands are for tests and tools. Every size the caller gives is
 * checked against the command before anything reaches the device, and a
 * command is let through only if it is safe in the window's current state:
 *
 *  - reads, and settings that leave media and labels alone: always;
 *  - commands that change media or labels (Set LSA, Inject/Clear Poison,
 *    Media Operations other than Discovery) and opcodes the driver does not
 *    know: only while the window is not added as memory;
 *  - the event-log commands the driver depends on (Clear Event Records, Set
 *    Event Interrupt Policy): never.
 */

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "core.h"
#include "uapi/linux/zcxl.h"

enum zcxl_cci_policy {
	ZCXL_CCI_ANY,
	ZCXL_CCI_UNMAPPED,	/* only while the window is not added */
	ZCXL_CCI_DRIVER,	/* never from userspace */
};

/* Input sizes each command takes (specs/device.md §4.2). */
struct zcxl_cci_rule {
	u16 opcode;
	u16 in_min;
	u16 in_max;
	u8 policy;
};

#define ZCXL_IN_ANY	ZCXL_CCI_MAX_PAYLOAD
#define ZCXL_RULE(_op, _min, _max, _policy)				\
	{ .opcode = ZCXL_OP_##_op, .in_min = (_min), .in_max = (_max),	\
	  .policy = ZCXL_CCI_##_policy }

static const struct zcxl_cci_rule zcxl_cci_rules[] = {
	ZCXL_RULE(IDENTIFY, 0, 0, ANY),
	ZCXL_RULE(GET_EVENT_RECORDS, 1, 1, ANY),
	ZCXL_RULE(CLEAR_EVENT_RECORDS, 6, ZCXL_IN_ANY, DRIVER),
	ZCXL_RULE(GET_EVENT_INTERRUPT_POLICY, 0, 0, ANY),
	ZCXL_RULE(SET_EVENT_INTERRUPT_POLICY, 4, 5, DRIVER),
	ZCXL_RULE(GET_FW_INFO, 0, 0, ANY),
	ZCXL_RULE(GET_TIMESTAMP, 0, 0, ANY),
	ZCXL_RULE(SET_TIMESTAMP, 8, 8, ANY),
	ZCXL_RULE(GET_SUPPORTED_LOGS, 0, 0, ANY),
	ZCXL_RULE(GET_LOG, 24, 24, ANY),
	ZCXL_RULE(IDENTIFY_MEMORY_DEVICE, 0, 0, ANY),
	ZCXL_RULE(GET_PARTITION_INFO, 0, 0, ANY),
	ZCXL_RULE(GET_LSA, 8, 8, ANY),
	ZCXL_RULE(SET_LSA, 8, ZCXL_IN_ANY, UNMAPPED),
	ZCXL_RULE(GET_HEALTH_INFO, 0, 0, ANY),
	ZCXL_RULE(GET_ALERT_CONFIG, 0, 0, ANY),
	ZCXL_RULE(SET_ALERT_CONFIG, 12, 12, ANY),
	ZCXL_RULE(GET_POISON_LIST, 16, 16, ANY),
	ZCXL_RULE(INJECT_POISON, 8, 8, UNMAPPED),
	ZCXL_RULE(CLEAR_POISON, 72, 72, UNMAPPED),
	ZCXL_RULE(MEDIA_OPERATIONS, 8, ZCXL_IN_ANY, UNMAPPED),
	ZCXL_RULE(GET_COMPRESSION_CAPS, 0, 0, ANY),
	ZCXL_RULE(GET_COMPRESSION_STATS, 0, 0, ANY),
	ZCXL_RULE(GET_WATERMARKS, 0, 0, ANY),
	ZCXL_RULE(SET_WATERMARKS, 4, 4, ANY),
	ZCXL_RULE(GET_COMPRESSION_POLICY, 0, 0, ANY),
	ZCXL_RULE(SET_COMPRESSION_POLICY, 8, 8, ANY),
};

static const struct zcxl_cci_rule zcxl_cci_unknown = {
	.in_max = ZCXL_IN_ANY,
	.policy = ZCXL_CCI_UNMAPPED,
};

/* Media Operations class 0 (Discovery) only reads. */
#define ZCXL_MEDIA_OPS_DISCOVERY	0

static const struct zcxl_cci_rule *zcxl_cci_rule(u16 opcode)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(zcxl_cci_rules); i++)
		if (zcxl_cci_rules[i].opcode == opcode)
			return &zcxl_cci_rules[i];
	return &zcxl_cci_unknown;
}

static enum zcxl_cci_policy zcxl_cci_policy(const struct zcxl_cci_rule *rule,
					    const u8 *in)
{
	if (rule->opcode == ZCXL_OP_MEDIA_OPERATIONS &&
	    in[0] == ZCXL_MEDIA_OPS_DISCOVERY)
		return ZCXL_CCI_ANY;
	return rule->policy;
}

static int zcxl_ioctl_cci(struct zcxl_dev *zd, struct zcxl_cci_cmd __user *ucmd)
{
	const struct zcxl_cci_rule *rule;
	enum zcxl_cci_policy policy;
	u16 return_code, vendor_status;
	struct zcxl_cci_cmd cmd;
	void *in = NULL, *out;
	size_t out_len;
	int rc;

	if (copy_from_user(&cmd, ucmd, sizeof(cmd)))
		return -EFAULT;
	if (cmd.flags || cmd.reserved || cmd.reserved2)
		return -EINVAL;
	rule = zcxl_cci_rule(cmd.opcode);
	if (cmd.in_size < rule->in_min || cmd.in_size > rule->in_max ||
	    cmd.in_size > zd->cfg.max_payload ||
	    cmd.out_size > zd->cfg.max_payload)
		return -EINVAL;

	if (cmd.in_size) {
		in = memdup_user(u64_to_user_ptr(cmd.in_payload), cmd.in_size);
		if (IS_ERR(in))
			return PTR_ERR(in);
	}
	out = kzalloc(zd->cfg.max_payload, GFP_KERNEL);
	if (!out) {
		rc = -ENOMEM;
		goto free_in;
	}

	policy = zcxl_cci_policy(rule, in);
	if (policy == ZCXL_CCI_DRIVER) {
		rc = -EBUSY;
		goto free_out;
	}
	/* Holding the window's lock keeps it from being added meanwhile. */
	if (policy == ZCXL_CCI_UNMAPPED) {
		mutex_lock(&zd->win.lock);
		if (zd->win.state == ZCXL_WIN_ADDED ||
		    zd->win.state == ZCXL_WIN_STRANDED)
			rc = -EBUSY;
		else
			rc = zcxl_cci_raw(zd, cmd.opcode, in, cmd.in_size, out,
					  zd->cfg.max_payload, &out_len,
					  &return_code, &vendor_status);
		mutex_unlock(&zd->win.lock);
	} else {
		rc = zcxl_cci_raw(zd, cmd.opcode, in, cmd.in_size, out,
				  zd->cfg.max_payload, &out_len, &return_code,
				  &vendor_status);
	}
	if (rc)
		goto free_out;

	if (copy_to_user(u64_to_user_ptr(cmd.out_payload), out,
			 min_t(size_t, out_len, cmd.out_size))) {
		rc = -EFAULT;
		goto free_out;
	}
	cmd.return_code = return_code;
	cmd.vendor_status = vendor_status;
	cmd.out_size = out_len;
	if (copy_to_user(ucmd, &cmd, sizeof(cmd)))
		rc = -EFAULT;
free_out:
	kfree(out);
free_in:
	kfree(in);
	return rc;
}

static int zcxl_ioctl_info(struct zcxl_dev *zd, struct zcxl_info __user *uinfo)
{
	struct zcxl_info info = {
		.serial = zd->cfg.serial,
		.logical_capacity = zd->cfg.logical_capacity,
		.media_capacity = zd->cfg.media_capacity,
		.window_start = zd->win.start,
		.node = zcxl_nid(zd),
		.nr_data_queues = zd->cfg.nr_data_queues,
		.max_payload = zd->cfg.max_payload,
		.backing_mode = zd->cfg.backing_mode,
	};

	if (zcxl_failed(zd))
		info.state |= ZCXL_STATE_FAILED;
	if (test_bit(ZCXL_PRESSURE, &zd->flags))
		info.state |= ZCXL_STATE_PRESSURE;
	if (zcxl_window_added(zd)) {
		info.state |= ZCXL_STATE_WINDOW_ADDED;
		if (zd->win.protected)
			info.state |= ZCXL_STATE_PROTECTED;
	}
	return copy_to_user(uinfo, &info, sizeof(info)) ? -EFAULT : 0;
}

static long zcxl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct zcxl_dev *zd = file->private_data;
	void __user *argp = (void __user *)arg;
	long rc;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	down_read(&zd->users);
	if (test_bit(ZCXL_REMOVING, &zd->flags)) {
		rc = -ENODEV;
		goto out;
	}
	switch (cmd) {
	case ZCXL_IOC_INFO:
		rc = zcxl_ioctl_info(zd, argp);
		break;
	case ZCXL_IOC_CCI:
		rc = zcxl_ioctl_cci(zd, argp);
		break;
	default:
		rc = -ENOTTY;
		break;
	}
out:
	up_read(&zd->users);
	return rc;
}

static int zcxl_open(struct inode *inode, struct file *file)
{
	/* misc_open() holds misc_mtx: remove() cannot have freed zd. */
	struct zcxl_dev *zd = container_of(file->private_data, struct zcxl_dev,
					   misc);

	kref_get(&zd->kref);
	file->private_data = zd;
	return 0;
}

static int zcxl_release_file(struct inode *inode, struct file *file)
{
	zcxl_put(file->private_data);
	return 0;
}

static const struct file_operations zcxl_fops = {
	.owner = THIS_MODULE,
	.open = zcxl_open,
	.release = zcxl_release_file,
	.unlocked_ioctl = zcxl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

int zcxl_cdev_add(struct zcxl_dev *zd)
{
	zd->misc.minor = MISC_DYNAMIC_MINOR;
	zd->misc.name = zd->name;
	zd->misc.fops = &zcxl_fops;
	zd->misc.parent = zcxl_to_dev(zd);
	zd->misc.mode = 0600;
	return misc_register(&zd->misc);
}

void zcxl_cdev_remove(struct zcxl_dev *zd)
{
	misc_deregister(&zd->misc);
}
