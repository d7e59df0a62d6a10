// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl_zswap: the zcxl device's window as a zswap provider.
 *
 * The zcxl driver hot-adds each device's window as a protected node
 * (MHP_PROTECTED_MEMORY).  This module registers every such window with
 * zswap (CONFIG_ZSWAP_PROVIDERS), so zswap stores swapped-out pages there,
 * uncompressed, and the device compresses them:
 *
 *   admit        -> zcxl_admit(): no while the device's media is above its
 *                   high watermark, until it falls below the low one
 *   stored       -> a write-hint, queued (batched, in order)
 *   release      -> a discard, queued behind any write-hint of the page, then
 *                   the page is freed: the device processes the batches in
 *                   order, so a later write-hint of the reused page cannot
 *                   overtake the discard
 *   prepare_read -> flush the queued hints, then a read-prepare (needed in
 *                   the device's compressed backing mode)
 *   charge_size  -> the "charge" parameter: media bytes per page to charge
 *                   the memory cgroup (0: a full page)
 *
 * Windows come and go with the zcxl notifier: ONLINE registers the window,
 * REMOVE unregisters it -- zswap writes every page it holds there back to
 * the swap device first -- and sends the last discards before the driver
 * takes the memory back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/zswap.h>

#include "zcxl.h"

static unsigned int charge;
module_param(charge, uint, 0644);
MODULE_PARM_DESC(charge,
		 "bytes charged to the memory cgroup per stored page (0: PAGE_SIZE)");

static bool read_prepare = true;
module_param(read_prepare, bool, 0644);
MODULE_PARM_DESC(read_prepare,
		 "send read-prepare before zswap reads a page (needed in compressed backing mode)");

struct zcxl_zswap {
	struct zswap_provider prov;
	struct zcxl_dev *zd;
	struct list_head node;
	/* Released pages whose discard could not be queued (no memory) */
	spinlock_t deferred_lock;
	struct list_head deferred;
	struct work_struct deferred_work;
	atomic64_t hint_failures;
};

static LIST_HEAD(windows);
static DEFINE_MUTEX(windows_lock);

static struct zcxl_zswap *to_zz(struct zswap_provider *prov)
{
	return container_of(prov, struct zcxl_zswap, prov);
}

static bool zz_admit(struct zswap_provider *prov)
{
	return zcxl_admit(to_zz(prov)->zd);
}

static void zz_stored(struct zswap_provider *prov, struct page *page)
{
	struct zcxl_zswap *zz = to_zz(prov);

	/* Without the hint the device's shadow scan finds the page later */
	if (zcxl_queue_hint(zz->zd, ZCXL_HINT_WRITE, page_to_pfn(page), 1))
		atomic64_inc(&zz->hint_failures);
}

static void zz_release(struct zswap_provider *prov, struct page *page)
{
	struct zcxl_zswap *zz = to_zz(prov);
	unsigned long flags;
	int rc;

	rc = zcxl_queue_hint(zz->zd, ZCXL_HINT_DISCARD, page_to_pfn(page), 1);
	if (rc == -ENOMEM) {
		/* Keep the page until the discard is sent: no reuse before */
		spin_lock_irqsave(&zz->deferred_lock, flags);
		list_add_tail(&page->lru, &zz->deferred);
		spin_unlock_irqrestore(&zz->deferred_lock, flags);
		schedule_work(&zz->deferred_work);
		return;
	}
	/* -ENODEV/-EIO: the device is gone or failed, its media with it */
	if (rc)
		atomic64_inc(&zz->hint_failures);
	__free_page(page);
}

static void zz_deferred_work(struct work_struct *work)
{
	struct zcxl_zswap *zz = container_of(work, struct zcxl_zswap,
					     deferred_work);
	struct page *page, *next;
	LIST_HEAD(pages);

	spin_lock_irq(&zz->deferred_lock);
	list_splice_init(&zz->deferred, &pages);
	spin_unlock_irq(&zz->deferred_lock);

	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		if (zcxl_discard(zz->zd, page_to_pfn(page), 1))
			atomic64_inc(&zz->hint_failures);
		__free_page(page);
	}
}

static int zz_prepare_read(struct zswap_provider *prov, struct page *page)
{
	struct zcxl_zswap *zz = to_zz(prov);

	if (!READ_ONCE(read_prepare))
		return 0;
	/* The page's write-hint may still be queued: it must come first */
	zcxl_flush_hints(zz->zd);
	return zcxl_read_prepare(zz->zd, page_to_pfn(page), 1);
}

static unsigned int zz_charge_size(struct zswap_provider *prov)
{
	unsigned int bytes = READ_ONCE(charge);

	return bytes ? bytes : PAGE_SIZE;
}

static const struct zswap_provider_ops zz_ops = {
	.admit = zz_admit,
	.stored = zz_stored,
	.release = zz_release,
	.prepare_read = zz_prepare_read,
	.charge_size = zz_charge_size,
};

static struct zcxl_zswap *zz_find(struct zcxl_dev *zd)
{
	struct zcxl_zswap *zz;

	list_for_each_entry(zz, &windows, node)
		if (zz->zd == zd)
			return zz;
	return NULL;
}

/* Register the window of @zd; takes over the device reference. */
static void zz_add(struct zcxl_dev *zd)
{
	struct zcxl_zswap *zz;
	int rc;

	mutex_lock(&windows_lock);
	if (zz_find(zd))
		goto put;
	zz = kzalloc(sizeof(*zz), GFP_KERNEL);
	if (!zz)
		goto put;
	zz->zd = zd;
	zz->prov.nid = zcxl_nid(zd);
	zz->prov.ops = &zz_ops;
	spin_lock_init(&zz->deferred_lock);
	INIT_LIST_HEAD(&zz->deferred);
	INIT_WORK(&zz->deferred_work, zz_deferred_work);
	atomic64_set(&zz->hint_failures, 0);

	rc = zswap_provider_register(&zz->prov);
	if (rc) {
		pr_warn("node %d: not a zswap provider: %d\n", zz->prov.nid, rc);
		kfree(zz);
		goto put;
	}
	list_add_tail(&zz->node, &windows);
	pr_info("node %d: zswap provider\n", zz->prov.nid);
	mutex_unlock(&windows_lock);
	return;
put:
	mutex_unlock(&windows_lock);
	zcxl_put(zd);
}

/* Take every zswap page off the window and send the last discards. */
static void zz_del(struct zcxl_zswap *zz)
{
	zswap_provider_unregister(&zz->prov);
	flush_work(&zz->deferred_work);
	zcxl_flush_hints(zz->zd);
	list_del(&zz->node);
	pr_info("node %d: no longer a zswap provider (%lld hints failed)\n",
		zz->prov.nid, atomic64_read(&zz->hint_failures));
	zcxl_put(zz->zd);
	kfree(zz);
}

static int zz_notify(struct notifier_block *nb, unsigned long event,
		     void *data)
{
	struct zcxl_dev *zd = data;
	struct zcxl_zswap *zz;

	switch (event) {
	case ZCXL_EVENT_ONLINE:
		zd = zcxl_get_by_node(zcxl_nid(zd));
		if (zd)
			zz_add(zd);
		break;
	case ZCXL_EVENT_REMOVE:
		mutex_lock(&windows_lock);
		zz = zz_find(zd);
		if (zz)
			zz_del(zz);
		mutex_unlock(&windows_lock);
		break;
	}
	return NOTIFY_OK;
}

static struct notifier_block zz_nb = {
	.notifier_call = zz_notify,
};

static int __init zcxl_zswap_init(void)
{
	struct zcxl_dev *zd;
	int nid, rc;

	rc = zcxl_register_notifier(&zz_nb);
	if (rc)
		return rc;
	/* Windows that were online before we were loaded */
	for_each_node_state(nid, N_PROTECTED) {
		zd = zcxl_get_by_node(nid);
		if (zd)
			zz_add(zd);
	}
	return 0;
}

static void __exit zcxl_zswap_exit(void)
{
	struct zcxl_zswap *zz, *next;

	zcxl_unregister_notifier(&zz_nb);
	mutex_lock(&windows_lock);
	list_for_each_entry_safe(zz, next, &windows, node)
		zz_del(zz);
	mutex_unlock(&windows_lock);
}

module_init(zcxl_zswap_init);
module_exit(zcxl_zswap_exit);

MODULE_IMPORT_NS("ZCXL");
MODULE_DESCRIPTION("zcxl device windows as zswap providers");
MODULE_LICENSE("GPL");
