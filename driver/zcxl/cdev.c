// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: the character device /dev/zcxlN and its ioctls (uapi/linux/zcxl.h).
 *
 * Raw CCI commands are for tests and tools. Every size the caller gives is
 * checked against the command before anything reaches the device, and a
 * command is let through only if it is safe in the window's current state
 * (rules.c).
 */

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "core.h"
#include "uapi/linux/zcxl.h"

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

	policy = zcxl_cci_policy(cmd.opcode, in, cmd.in_size);
	rc = zcxl_cci_guarded(zd, policy, cmd.opcode, in, cmd.in_size, out,
			      zd->cfg.max_payload, &out_len, &return_code,
			      &vendor_status);
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
