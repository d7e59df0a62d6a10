// SPDX-License-Identifier: GPL-2.0
/*
 * zswap_test_provider - a zswap provider without a device behind it.
 *
 * Registers a protected node with zswap so that zswap's direct path (pages
 * stored uncompressed on a provider's node) can be tested on a kernel with
 * the protected-node series but without the zcxl device.  It checks what a
 * real provider relies on: every page zswap reports stored or released is
 * on the node, is released at most once and only after zswap allocated it,
 * and stays the provider's until the provider frees it.
 *
 * Parameters:
 *   nid            the protected node (load time)
 *   admit          what admission answers (writable)
 *   charge         bytes charge_size() reports per page (writable)
 *   defer_release  free released pages from a work item, 10 ms later,
 *                  like a provider that discards in batches (writable)
 *   fail_reads     prepare_read() fails with -EIO (writable)
 *
 * Counters in /sys/kernel/debug/zswap_test_provider/: stored, released,
 * released_unstored (xa_store failed after allocation), admitted, refused,
 * reads, held (released, not yet freed), errors (anything that broke the
 * rules above; must stay 0).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/zswap.h>

static int nid = NUMA_NO_NODE;
module_param(nid, int, 0444);
MODULE_PARM_DESC(nid, "protected node to register with zswap");

static bool admit = true;
module_param(admit, bool, 0644);
MODULE_PARM_DESC(admit, "answer of the admission callback");

static uint charge = PAGE_SIZE;
module_param(charge, uint, 0644);
MODULE_PARM_DESC(charge, "bytes charged to the memcg per stored page");

static bool defer_release = true;
module_param(defer_release, bool, 0644);
MODULE_PARM_DESC(defer_release, "free released pages later, from a work item");

static bool fail_reads;
module_param(fail_reads, bool, 0644);
MODULE_PARM_DESC(fail_reads, "make prepare_read fail with -EIO");

/* pfn -> state of each page zswap handed us */
#define PAGE_STORED	xa_mk_value(1)
static DEFINE_XARRAY_FLAGS(pages, XA_FLAGS_LOCK_IRQ);

static atomic64_t nr_stored, nr_released, nr_released_unstored, nr_admitted,
		  nr_refused, nr_reads, nr_held, nr_errors;

static LIST_HEAD(release_list);
static DEFINE_SPINLOCK(release_lock);
static void release_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(release_work, release_work_fn);

static struct dentry *debugfs_dir;

static void error(const char *what, struct page *page)
{
	atomic64_inc(&nr_errors);
	pr_err("%s: pfn %#lx node %d\n", what, page_to_pfn(page),
	       page_to_nid(page));
}

static bool test_admit(struct zswap_provider *prov)
{
	if (READ_ONCE(admit)) {
		atomic64_inc(&nr_admitted);
		return true;
	}
	atomic64_inc(&nr_refused);
	return false;
}

static void test_stored(struct zswap_provider *prov, struct page *page)
{
	void *old;

	if (page_to_nid(page) != prov->nid)
		error("stored page off the node", page);
	old = xa_store_irq(&pages, page_to_pfn(page), PAGE_STORED, GFP_ATOMIC);
	if (xa_is_err(old))
		error("cannot track page", page);
	else if (old)
		error("page stored twice", page);
	atomic64_inc(&nr_stored);
}

static void free_now(struct page *page)
{
	__free_page(page);
	atomic64_dec(&nr_held);
}

static void test_release(struct zswap_provider *prov, struct page *page)
{
	unsigned long flags;

	if (page_to_nid(page) != prov->nid)
		error("released page off the node", page);
	if (xa_erase_irq(&pages, page_to_pfn(page)))
		atomic64_inc(&nr_released);
	else
		atomic64_inc(&nr_released_unstored);

	atomic64_inc(&nr_held);
	if (!READ_ONCE(defer_release)) {
		free_now(page);
		return;
	}
	spin_lock_irqsave(&release_lock, flags);
	list_add_tail(&page->lru, &release_list);
	spin_unlock_irqrestore(&release_lock, flags);
	schedule_delayed_work(&release_work, msecs_to_jiffies(10));
}

static void free_released(void)
{
	struct page *page, *next;
	unsigned long flags;
	LIST_HEAD(batch);

	spin_lock_irqsave(&release_lock, flags);
	list_splice_init(&release_list, &batch);
	spin_unlock_irqrestore(&release_lock, flags);

	list_for_each_entry_safe(page, next, &batch, lru) {
		list_del(&page->lru);
		free_now(page);
	}
}

static void release_work_fn(struct work_struct *work)
{
	free_released();
}

static int test_prepare_read(struct zswap_provider *prov, struct page *page)
{
	might_sleep();
	atomic64_inc(&nr_reads);
	if (xa_load(&pages, page_to_pfn(page)) != PAGE_STORED)
		error("read of a page not stored", page);
	return READ_ONCE(fail_reads) ? -EIO : 0;
}

static unsigned int test_charge_size(struct zswap_provider *prov)
{
	return READ_ONCE(charge);
}

static const struct zswap_provider_ops test_ops = {
	.admit = test_admit,
	.stored = test_stored,
	.release = test_release,
	.prepare_read = test_prepare_read,
	.charge_size = test_charge_size,
};

static struct zswap_provider provider = {
	.ops = &test_ops,
};

static int counter_get(void *data, u64 *val)
{
	*val = atomic64_read(data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(counter_fops, counter_get, NULL, "%llu\n");

static void create_counter(const char *name, atomic64_t *counter)
{
	debugfs_create_file(name, 0444, debugfs_dir, counter, &counter_fops);
}

static int __init zswap_test_provider_init(void)
{
	int ret;

	provider.nid = nid;
	ret = zswap_provider_register(&provider);
	if (ret) {
		pr_err("cannot register node %d: %d\n", nid, ret);
		return ret;
	}

	debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	create_counter("stored", &nr_stored);
	create_counter("released", &nr_released);
	create_counter("released_unstored", &nr_released_unstored);
	create_counter("admitted", &nr_admitted);
	create_counter("refused", &nr_refused);
	create_counter("reads", &nr_reads);
	create_counter("held", &nr_held);
	create_counter("errors", &nr_errors);
	pr_info("provider for node %d\n", nid);
	return 0;
}

static void __exit zswap_test_provider_exit(void)
{
	unsigned long pfn, left = 0;
	void *entry;

	debugfs_remove_recursive(debugfs_dir);
	/* zswap writes our pages back and releases each of them first */
	zswap_provider_unregister(&provider);
	cancel_delayed_work_sync(&release_work);
	free_released();

	xa_for_each(&pages, pfn, entry)
		left++;
	if (left)
		atomic64_inc(&nr_errors);
	pr_info("node %d: stored %lld released %lld unstored %lld held %lld not released %lu errors %lld\n",
		nid, atomic64_read(&nr_stored), atomic64_read(&nr_released),
		atomic64_read(&nr_released_unstored), atomic64_read(&nr_held),
		left, atomic64_read(&nr_errors));
	xa_destroy(&pages);
}

module_init(zswap_test_provider_init);
module_exit(zswap_test_provider_exit);

MODULE_DESCRIPTION("zswap provider without a device, for testing");
MODULE_LICENSE("GPL");
