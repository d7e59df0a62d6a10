// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: the in-kernel interface (zcxl.h) — how the zswap provider and test
 * modules find a device by its window's node, ask whether they may place
 * pages there, and send hints.
 */

#include <linux/export.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pfn.h>
#include <linux/slab.h>

#include "core.h"

static LIST_HEAD(zcxl_devices);
static DEFINE_MUTEX(zcxl_devices_lock);
static BLOCKING_NOTIFIER_HEAD(zcxl_notifier);

void zcxl_publish(struct zcxl_dev *zd)
{
	mutex_lock(&zcxl_devices_lock);
	list_add_tail(&zd->list, &zcxl_devices);
	mutex_unlock(&zcxl_devices_lock);
}

void zcxl_unpublish(struct zcxl_dev *zd)
{
	mutex_lock(&zcxl_devices_lock);
	list_del_init(&zd->list);
	mutex_unlock(&zcxl_devices_lock);
}

void zcxl_notify(struct zcxl_dev *zd, enum zcxl_event event)
{
	blocking_notifier_call_chain(&zcxl_notifier, event, zd);
}

void zcxl_release(struct kref *kref)
{
	kfree(container_of(kref, struct zcxl_dev, kref));
}

/* API calls run under zd->users, so remove() can wait for them. */
static int zcxl_enter(struct zcxl_dev *zd)
{
	down_read(&zd->users);
	if (test_bit(ZCXL_REMOVING, &zd->flags)) {
		up_read(&zd->users);
		return -ENODEV;
	}
	return 0;
}

static void zcxl_leave(struct zcxl_dev *zd)
{
	up_read(&zd->users);
}

/**
 * zcxl_get_by_node() - find the device whose window is on a node
 * @nid: NUMA node
 *
 * Context: process context.
 * Return: the device with a reference held (drop it with zcxl_put()), or
 * NULL if no device has its window added on @nid.
 */
struct zcxl_dev *zcxl_get_by_node(int nid)
{
	struct zcxl_dev *zd, *found = NULL;

	mutex_lock(&zcxl_devices_lock);
	list_for_each_entry(zd, &zcxl_devices, list) {
		if (zcxl_window_added(zd) && READ_ONCE(zd->win.nid) == nid) {
			kref_get(&zd->kref);
			found = zd;
			break;
		}
	}
	mutex_unlock(&zcxl_devices_lock);
	return found;
}
EXPORT_SYMBOL_NS_GPL(zcxl_get_by_node, "ZCXL");

/**
 * zcxl_put() - drop a reference taken by zcxl_get_by_node()
 * @zd: the device, or NULL
 */
void zcxl_put(struct zcxl_dev *zd)
{
	if (zd)
		kref_put(&zd->kref, zcxl_release);
}
EXPORT_SYMBOL_NS_GPL(zcxl_put, "ZCXL");

/**
 * zcxl_nid() - the NUMA node of the device's window
 * @zd: the device
 *
 * Return: the node, or NUMA_NO_NODE while the window is not added.
 */
int zcxl_nid(const struct zcxl_dev *zd)
{
	return READ_ONCE(zd->win.nid);
}
EXPORT_SYMBOL_NS_GPL(zcxl_nid, "ZCXL");

/**
 * zcxl_window_pfns() - the page frames of the device's window
 * @zd: the device
 * @start_pfn: set to the first page frame
 * @nr_pages: set to the number of pages
 */
void zcxl_window_pfns(const struct zcxl_dev *zd, unsigned long *start_pfn,
		      unsigned long *nr_pages)
{
	*start_pfn = PHYS_PFN(zd->win.start);
	*nr_pages = PHYS_PFN(zd->win.size);
}
EXPORT_SYMBOL_NS_GPL(zcxl_window_pfns, "ZCXL");

/**
 * zcxl_admit() - may new pages be placed on the device now?
 * @zd: the device
 *
 * False from the moment media use reaches the device's high watermark until
 * it falls below the low one, and for good once the device failed or goes
 * away. Lock-free; callable from any context.
 *
 * Return: true if new pages may be placed in the window.
 */
bool zcxl_admit(const struct zcxl_dev *zd)
{
	return READ_ONCE(zd->win.state) == ZCXL_WIN_ADDED &&
	       !(READ_ONCE(zd->flags) & (BIT(ZCXL_FAILED) |
					 BIT(ZCXL_REMOVING) |
					 BIT(ZCXL_PRESSURE)));
}
EXPORT_SYMBOL_NS_GPL(zcxl_admit, "ZCXL");

/**
 * zcxl_hint() - send hints for page ranges and wait for the device
 * @zd: the device
 * @hint: what to tell the device
 * @ranges: page ranges inside the window
 * @nr_ranges: 1 … 256 (the device's max_ranges)
 * @errors: if not NULL, set to the result of each range: 0, -EINVAL (bad
 *	range), -ENOSPC (media exhausted: the page is now poisoned),
 *	-EHWPOISON (read-prepare of a poisoned page), -EOPNOTSUPP, -EPROTO
 *	or -EIO
 *
 * A write-hint makes the device store the pages' current content; a discard
 * makes them read as zeros; a read-prepare must precede reading pages the
 * device stored in compressed backing mode.
 *
 * Context: process context; sleeps up to the driver's timeout, after which
 * the device is marked failed.
 * Return: 0 if every range succeeded, else the first error; -ENODEV while
 * the device goes away, -EIO once it failed.
 */
int zcxl_hint(struct zcxl_dev *zd, enum zcxl_hint hint,
	      const struct zcxl_pfn_range *ranges, unsigned int nr_ranges,
	      int *errors)
{
	int rc;

	might_sleep();
	rc = zcxl_enter(zd);
	if (rc)
		return rc;
	rc = zcxl_dataq_submit(zd, hint, ranges, nr_ranges, errors);
	zcxl_leave(zd);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(zcxl_hint, "ZCXL");

static int zcxl_hint_one(struct zcxl_dev *zd, enum zcxl_hint hint,
			 unsigned long pfn, unsigned int nr_pages)
{
	const struct zcxl_pfn_range range = {
		.pfn = pfn,
		.nr_pages = nr_pages,
	};

	return zcxl_hint(zd, hint, &range, 1, NULL);
}

/**
 * zcxl_write_hint() - the pages were written: the device stores them now
 * @zd: the device
 * @pfn: first page
 * @nr_pages: number of pages
 *
 * Context: process context, sleeps.
 * Return: 0 or a negative errno as for zcxl_hint().
 */
int zcxl_write_hint(struct zcxl_dev *zd, unsigned long pfn,
		    unsigned int nr_pages)
{
	return zcxl_hint_one(zd, ZCXL_HINT_WRITE, pfn, nr_pages);
}
EXPORT_SYMBOL_NS_GPL(zcxl_write_hint, "ZCXL");

/**
 * zcxl_discard() - the pages are free: the device drops them
 * @zd: the device
 * @pfn: first page
 * @nr_pages: number of pages
 *
 * Context: process context, sleeps.
 * Return: 0 or a negative errno as for zcxl_hint().
 */
int zcxl_discard(struct zcxl_dev *zd, unsigned long pfn, unsigned int nr_pages)
{
	return zcxl_hint_one(zd, ZCXL_HINT_DISCARD, pfn, nr_pages);
}
EXPORT_SYMBOL_NS_GPL(zcxl_discard, "ZCXL");

/**
 * zcxl_read_prepare() - the pages are about to be read
 * @zd: the device
 * @pfn: first page
 * @nr_pages: number of pages
 *
 * Context: process context, sleeps.
 * Return: 0, -EHWPOISON if a page holds poison, or another negative errno as
 * for zcxl_hint(); the pages must not be read unless this returned 0.
 */
int zcxl_read_prepare(struct zcxl_dev *zd, unsigned long pfn,
		      unsigned int nr_pages)
{
	return zcxl_hint_one(zd, ZCXL_HINT_READ_PREPARE, pfn, nr_pages);
}
EXPORT_SYMBOL_NS_GPL(zcxl_read_prepare, "ZCXL");

/**
 * zcxl_queue_hint() - queue a write-hint or discard from any context
 * @zd: the device
 * @hint: ZCXL_HINT_WRITE or ZCXL_HINT_DISCARD
 * @pfn: first page
 * @nr_pages: number of pages
 *
 * The hint is sent later, batched with others, in the order hints were
 * queued; call zcxl_flush_hints() before a zcxl_hint() that must follow it.
 * Ranges the device refuses are counted in sysfs (queued_hint_failures).
 *
 * Context: any context.
 * Return: 0, -EINVAL for a bad hint or range, -ENOMEM, -ENODEV while the
 * device goes away, -EIO once it failed.
 */
int zcxl_queue_hint(struct zcxl_dev *zd, enum zcxl_hint hint,
		    unsigned long pfn, unsigned int nr_pages)
{
	return zcxl_batch_add(zd, hint, pfn, nr_pages);
}
EXPORT_SYMBOL_NS_GPL(zcxl_queue_hint, "ZCXL");

/**
 * zcxl_flush_hints() - wait until the hints queued so far are sent
 * @zd: the device
 *
 * Context: process context, sleeps.
 */
void zcxl_flush_hints(struct zcxl_dev *zd)
{
	flush_work(&zd->batch.work);
}
EXPORT_SYMBOL_NS_GPL(zcxl_flush_hints, "ZCXL");

/**
 * zcxl_register_notifier() - follow the life of zcxl devices
 * @nb: notifier block; called in process context with an enum zcxl_event
 *	and the struct zcxl_dev *
 *
 * ZCXL_EVENT_REMOVE comes before the window's memory is taken back: the
 * callee must free every page it holds there before it returns. The hint
 * functions still work during that call.
 *
 * Return: 0 or a negative errno.
 */
int zcxl_register_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&zcxl_notifier, nb);
}
EXPORT_SYMBOL_NS_GPL(zcxl_register_notifier, "ZCXL");

/**
 * zcxl_unregister_notifier() - stop following zcxl devices
 * @nb: notifier block given to zcxl_register_notifier()
 *
 * Return: 0 or -ENOENT.
 */
int zcxl_unregister_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_unregister(&zcxl_notifier, nb);
}
EXPORT_SYMBOL_NS_GPL(zcxl_unregister_notifier, "ZCXL");
