// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: the window as a zswap provider (kernels with the protected-node
 * series, CONFIG_ZSWAP_PROVIDERS).
 *
 * zswap stores swapped-out pages on the window's protected node while the
 * device admits them (no watermark pressure, not failed); the driver
 * write-hints every stored page and discards every released one before
 * freeing it. A load read-prepares the page first, which in compressed
 * backing mode restores it into the window. In shadow backing the window
 * always holds the page and read-prepare only checks it for poison, so a
 * load skips that round trip while the device's last status said no page
 * holds poison (specs/virtio.md §3.2): loads then run at memory speed
 * rather than one device round trip per page. A page poisoned after that
 * status was sent is read with its intact content until the next status
 * arrives.
 *
 * The memory cgroup of a stored page is charged what the device's media
 * holds per stored page ((blob + metadata bytes) / pages stored, from its
 * statistics), not PAGE_SIZE: a cgroup at memory.max then gains room by
 * swapping to the device, as it does with CPU-compressed zswap. The
 * device's fragmentation (free room in its slabs, which any page may fill)
 * is not charged: on a nearly empty device it exceeds the pages' own size
 * and would charge every early page PAGE_SIZE. One page's own compressed
 * size is known to the device only after it compressed it, asynchronously,
 * so the charge is the device's average, read every ZCXL_CHARGE_PERIOD
 * while zswap stores pages (the callback must not sleep; a mailbox command
 * does).
 */

#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/workqueue.h>
#include <linux/zswap.h>

#include "core.h"
#include "uapi/linux/zcxl.h"

/*
 * Reclaim can push tens of thousands of pages to the device within a
 * second; pages stored before the first reading are charged PAGE_SIZE,
 * which gains a cgroup at memory.max nothing. So the reading follows the
 * stores closely: at most ten mailbox commands a second while zswap stores.
 */
#define ZCXL_CHARGE_PERIOD	(HZ / 10)

static struct zcxl_dev *zcxl_from_provider(struct zswap_provider *prov)
{
	return container_of(prov, struct zcxl_dev, zswap);
}

static bool zcxl_zswap_admit(struct zswap_provider *prov)
{
	return zcxl_admit(zcxl_from_provider(prov));
}

static void zcxl_zswap_stored(struct zswap_provider *prov, struct page *page)
{
	struct zcxl_dev *zd = zcxl_from_provider(prov);

	/* Without its hint a page is still found by the device's scanner. */
	if (zcxl_batch_add(zd, ZCXL_HINT_WRITE, page_to_pfn(page), 1))
		atomic64_inc(&zd->batch.failed);
	/* Pending work is left alone: a refresh at most once a period. */
	queue_delayed_work(system_dfl_wq, &zd->zswap_charge_work,
			   ZCXL_CHARGE_PERIOD);
}

static void zcxl_zswap_release(struct zswap_provider *prov, struct page *page)
{
	zcxl_batch_release(zcxl_from_provider(prov), page);
}

static int zcxl_zswap_prepare_read(struct zswap_provider *prov,
				   struct page *page)
{
	struct zcxl_dev *zd = zcxl_from_provider(prov);

	/* On a failed device read-prepare fails, and so must the load. */
	if (zd->cfg.backing_mode == ZCXL_BACKING_SHADOW &&
	    test_bit(ZCXL_NO_POISON, &zd->flags) && !zcxl_failed(zd)) {
		atomic64_inc(&zd->zswap_unchecked_loads);
		return 0;
	}
	/*
	 * The page's write-hint may still be queued: were it sent after the
	 * read-prepare, the device could release the page under the reader.
	 */
	zcxl_flush_hints(zd);
	return zcxl_read_prepare(zd, page_to_pfn(page), 1);
}

/* Media bytes per stored page; PAGE_SIZE while the device holds none. */
static unsigned int zcxl_charge_per_page(u64 media_bytes, u64 pages)
{
	if (!pages)
		return PAGE_SIZE;
	return clamp_t(u64, div64_u64(media_bytes, pages), 1, PAGE_SIZE);
}

static unsigned int zcxl_zswap_charge_size(struct zswap_provider *prov)
{
	return READ_ONCE(zcxl_from_provider(prov)->zswap_charge);
}

static void zcxl_zswap_charge_work(struct work_struct *work)
{
	struct zcxl_dev *zd = container_of(to_delayed_work(work),
					   struct zcxl_dev, zswap_charge_work);
	struct zcxl_stats_out st;
	u64 pages;

	/* A failed read keeps the last value; a failed device stops storing. */
	if (!zcxl_cci(zd, ZCXL_OP_GET_COMPRESSION_STATS, NULL, 0, &st,
		      sizeof(st), NULL)) {
		pages = le64_to_cpu(st.pages[ZCXL_PAGES_ZERO]) +
			le64_to_cpu(st.pages[ZCXL_PAGES_SAME_FILLED]) +
			le64_to_cpu(st.pages[ZCXL_PAGES_COMPRESSED]) +
			le64_to_cpu(st.pages[ZCXL_PAGES_RAW]);
		WRITE_ONCE(zd->zswap_charge,
			   zcxl_charge_per_page(le64_to_cpu(st.live_blob_bytes) +
						le64_to_cpu(st.metadata_bytes),
						pages));
	}
}

static const struct zswap_provider_ops zcxl_zswap_ops = {
	.admit = zcxl_zswap_admit,
	.stored = zcxl_zswap_stored,
	.release = zcxl_zswap_release,
	.prepare_read = zcxl_zswap_prepare_read,
	.charge_size = zcxl_zswap_charge_size,
};

/**
 * zcxl_zswap_add() - offer the window to zswap
 * @zd: the device, with its window added as protected memory
 *
 * A refusal is logged; the window stays usable through the zcxl API.
 */
void zcxl_zswap_add(struct zcxl_dev *zd)
{
	int rc;

	if (!zd->win.protected)
		return;
	zd->zswap.nid = zd->win.nid;
	zd->zswap.ops = &zcxl_zswap_ops;
	zd->zswap_charge = PAGE_SIZE;
	INIT_DELAYED_WORK(&zd->zswap_charge_work, zcxl_zswap_charge_work);
	rc = zswap_provider_register(&zd->zswap);
	if (rc) {
		dev_warn(zcxl_to_dev(zd), "zswap does not take node %d: %d\n",
			 zd->win.nid, rc);
		return;
	}
	zd->zswap_registered = true;
	dev_info(zcxl_to_dev(zd), "zswap stores pages on node %d\n",
		 zd->win.nid);
}

/**
 * zcxl_zswap_remove() - take the window back from zswap
 * @zd: the device, not yet removing: hints must still work
 *
 * zswap writes every page it holds on the node back to swap and releases
 * it; once the queued discards are sent, those pages are free again.
 */
void zcxl_zswap_remove(struct zcxl_dev *zd)
{
	if (!zd->zswap_registered)
		return;
	zswap_provider_unregister(&zd->zswap);
	/* No more stored() calls to queue it again. */
	cancel_delayed_work_sync(&zd->zswap_charge_work);
	zcxl_flush_hints(zd);
	zd->zswap_registered = false;
}
