// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: the data queues (specs/virtio.md §3.3) — batched page hints.
 *
 * A request carries up to max_ranges ranges of one operation; the device
 * answers with one status byte per range. Synchronous callers wait for the
 * answer. A request that gets none within the timeout marks the device
 * failed and is abandoned to the device: the queue callback or remove()
 * frees it, never the caller.
 *
 * Callers that cannot sleep queue single ranges into batches instead; a work
 * item sends them, in the order they were queued.
 */

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pfn.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/virtio.h>

#include "core.h"

struct zcxl_data_req {
	struct completion done;
	bool abandoned;			/* under the queue's lock */
	unsigned int used_len;
	unsigned int nr;
	struct zcxl_data_hdr hdr;
	struct zcxl_data_range ranges[];
	/* followed by nr status bytes, written by the device */
};

struct zcxl_batch {
	struct list_head node;
	enum zcxl_hint hint;
	bool free_pages;		/* the driver owns the pages: free them */
	unsigned int nr;
	struct zcxl_pfn_range ranges[];
};

static u8 *zcxl_req_status(struct zcxl_data_req *req)
{
	return (u8 *)&req->ranges[req->nr];
}

static int zcxl_status_errno(u8 status)
{
	switch (status) {
	case ZCXL_DS_OK:
		return 0;
	case ZCXL_DS_BAD_RANGE:
		return -EINVAL;
	case ZCXL_DS_MEDIA_EXHAUSTED:
		return -ENOSPC;
	case ZCXL_DS_POISONED:
		return -EHWPOISON;
	case ZCXL_DS_UNSUPPORTED:
		return -EOPNOTSUPP;
	case ZCXL_DS_MALFORMED:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* A range is sent only if it lies inside the window. */
static bool zcxl_range_ok(struct zcxl_dev *zd, unsigned long pfn,
			  unsigned int nr_pages)
{
	unsigned long first = PHYS_PFN(zd->win.start);
	unsigned long end = first + PHYS_PFN(zd->win.size);
	unsigned long last;

	return nr_pages && pfn >= first &&
	       !check_add_overflow(pfn, (unsigned long)nr_pages, &last) &&
	       last <= end;
}

void zcxl_dataq_done(struct virtqueue *vq)
{
	struct zcxl_dev *zd = vq->vdev->priv;
	struct zcxl_dataq *dq = &zd->dq[vq->index - ZCXL_VQ_DATA0];
	struct zcxl_data_req *req;
	unsigned long flags;
	unsigned int len;

	spin_lock_irqsave(&dq->lock, flags);
	while ((req = virtqueue_get_buf(vq, &len))) {
		if (req->abandoned) {
			kfree(req);
			continue;
		}
		req->used_len = len;
		/* The waiter may free req as soon as this returns. */
		complete(&req->done);
	}
	spin_unlock_irqrestore(&dq->lock, flags);
	wake_up(&dq->space);
}

/* Wakes whoever waits for queue space, e.g. because the device failed. */
void zcxl_dataq_wake(struct zcxl_dev *zd)
{
	unsigned int i;

	if (!zd->dq)
		return;
	for (i = 0; i < zd->cfg.nr_data_queues; i++)
		wake_up(&zd->dq[i].space);
}

static int zcxl_dataq_add(struct zcxl_dev *zd, struct zcxl_dataq *dq,
			  struct zcxl_data_req *req, unsigned long *left)
{
	struct scatterlist sg_out, sg_in, *sgs[] = { &sg_out, &sg_in };
	bool notify;
	int rc;

	sg_init_one(&sg_out, &req->hdr,
		    sizeof(req->hdr) + req->nr * sizeof(req->ranges[0]));
	sg_init_one(&sg_in, zcxl_req_status(req), req->nr);

	for (;;) {
		if (zcxl_failed(zd))
			return -EIO;
		spin_lock_irq(&dq->lock);
		rc = virtqueue_add_sgs(dq->vq, sgs, 1, 1, req, GFP_ATOMIC);
		notify = !rc && virtqueue_kick_prepare(dq->vq);
		spin_unlock_irq(&dq->lock);
		if (rc != -ENOSPC)
			break;

		*left = wait_event_timeout(dq->space,
					   READ_ONCE(dq->vq->num_free) >= 2 ||
					   zcxl_failed(zd), *left);
		if (!*left) {
			zcxl_mark_failed(zd, "data queue stalled");
			return -ETIMEDOUT;
		}
	}
	if (notify)
		virtqueue_notify(dq->vq);
	return rc;
}

/* Returns true if the request was handed over to the device for good. */
static bool zcxl_dataq_abandon(struct zcxl_dataq *dq, struct zcxl_data_req *req)
{
	bool abandon;

	spin_lock_irq(&dq->lock);
	abandon = !completion_done(&req->done);
	req->abandoned = abandon;
	spin_unlock_irq(&dq->lock);
	return abandon;
}

static int zcxl_dataq_result(struct zcxl_dev *zd, struct zcxl_data_req *req,
			     int *errors)
{
	u8 *status = zcxl_req_status(req);
	int rc = 0, first = 0, err;
	unsigned int i;

	if (req->used_len == 1 && status[0] == ZCXL_DS_MALFORMED) {
		dev_err_ratelimited(zcxl_to_dev(zd), "data queue: request refused as malformed\n");
		rc = -EPROTO;
	} else if (req->used_len != req->nr) {
		dev_err_ratelimited(zcxl_to_dev(zd), "data queue: %u status bytes for %u ranges\n",
				    req->used_len, req->nr);
		rc = -EPROTO;
	}
	for (i = 0; i < req->nr; i++) {
		err = rc ? rc : zcxl_status_errno(status[i]);
		if (errors)
			errors[i] = err;
		if (!first)
			first = err;
	}
	return first;
}

/**
 * zcxl_dataq_submit() - send one batch of hints and wait for the answer
 * @zd: the device
 * @hint: what to tell the device
 * @ranges: page ranges, each inside the window
 * @nr_ranges: 1 … the device's max_ranges
 * @errors: if not NULL, set to the result of each range (0 or -errno)
 *
 * Context: process context; sleeps up to the timeout.
 * Return: 0 when every range succeeded, else the first error.
 */
int zcxl_dataq_submit(struct zcxl_dev *zd, enum zcxl_hint hint,
		      const struct zcxl_pfn_range *ranges,
		      unsigned int nr_ranges, int *errors)
{
	struct zcxl_dataq *dq;
	struct zcxl_data_req *req;
	unsigned long left = zcxl_timeout();
	unsigned int i;
	int rc;

	if (hint < ZCXL_HINT_WRITE || hint > ZCXL_HINT_READ_PREPARE ||
	    !nr_ranges || nr_ranges > zd->cfg.max_ranges)
		return -EINVAL;
	for (i = 0; i < nr_ranges; i++)
		if (!zcxl_range_ok(zd, ranges[i].pfn, ranges[i].nr_pages))
			return -EINVAL;
	if (zcxl_failed(zd))
		return -EIO;

	/* No I/O reclaim: zswap writeback may be what waits for this. */
	req = kmalloc(struct_size(req, ranges, nr_ranges) + nr_ranges,
		      GFP_NOIO);
	if (!req)
		return -ENOMEM;
	init_completion(&req->done);
	req->abandoned = false;
	req->nr = nr_ranges;
	req->hdr.op = cpu_to_le16(hint);
	req->hdr.nr_ranges = cpu_to_le16(nr_ranges);
	req->hdr.reserved = 0;
	for (i = 0; i < nr_ranges; i++) {
		req->ranges[i].dpa = cpu_to_le64(PFN_PHYS(ranges[i].pfn) -
						 zd->win.start);
		req->ranges[i].nr_pages = cpu_to_le32(ranges[i].nr_pages);
		req->ranges[i].reserved = 0;
	}

	dq = &zd->dq[raw_smp_processor_id() % zd->cfg.nr_data_queues];
	rc = zcxl_dataq_add(zd, dq, req, &left);
	if (rc)
		goto out;

	if (!wait_for_completion_timeout(&req->done, left) &&
	    zcxl_dataq_abandon(dq, req)) {
		zcxl_mark_failed(zd, "data request timeout");
		return -ETIMEDOUT;
	}
	rc = zcxl_dataq_result(zd, req, errors);
out:
	kfree(req);
	return rc;
}

int zcxl_dataq_init(struct zcxl_dev *zd, struct virtqueue **vqs)
{
	unsigned int i;

	zd->dq = kcalloc(zd->cfg.nr_data_queues, sizeof(*zd->dq), GFP_KERNEL);
	if (!zd->dq)
		return -ENOMEM;
	for (i = 0; i < zd->cfg.nr_data_queues; i++) {
		zd->dq[i].vq = vqs[i];
		spin_lock_init(&zd->dq[i].lock);
		init_waitqueue_head(&zd->dq[i].space);
	}
	return 0;
}

/* Only once the device is reset: every request still queued is abandoned. */
void zcxl_dataq_free(struct zcxl_dev *zd)
{
	struct zcxl_data_req *req;
	unsigned int i;

	if (!zd->dq)
		return;
	for (i = 0; i < zd->cfg.nr_data_queues; i++)
		while ((req = virtqueue_detach_unused_buf(zd->dq[i].vq)))
			kfree(req);
	kfree(zd->dq);
	zd->dq = NULL;
}

/*
 * Batches are allocated in atomic context, often under memory pressure:
 * keep each within one page.
 */
static unsigned int zcxl_batch_room(struct zcxl_dev *zd)
{
	return min_t(unsigned int, zd->cfg.max_ranges,
		     (PAGE_SIZE - sizeof(struct zcxl_batch)) /
		     sizeof(struct zcxl_pfn_range));
}

/* Frees the pages of a batch of released pages, once it was sent (or not). */
static void zcxl_batch_free(struct zcxl_batch *bt)
{
	unsigned long pfn;
	unsigned int i;

	for (i = 0; bt->free_pages && i < bt->nr; i++)
		for (pfn = bt->ranges[i].pfn;
		     pfn < bt->ranges[i].pfn + bt->ranges[i].nr_pages; pfn++)
			__free_page(pfn_to_page(pfn));
	kfree(bt);
}

static void zcxl_batcher_work(struct work_struct *work)
{
	struct zcxl_batcher *b = container_of(work, struct zcxl_batcher, work);
	struct zcxl_dev *zd = container_of(b, struct zcxl_dev, batch);
	struct zcxl_batch *bt, *tmp;
	unsigned int i;
	LIST_HEAD(todo);

	for (;;) {
		spin_lock_irq(&b->lock);
		list_splice_tail_init(&b->full, &todo);
		if (b->open) {
			list_add_tail(&b->open->node, &todo);
			b->open = NULL;
		}
		spin_unlock_irq(&b->lock);
		if (list_empty(&todo))
			return;

		list_for_each_entry_safe(bt, tmp, &todo, node) {
			unsigned int bad = 0;

			list_del(&bt->node);
			memset(b->errors, 0, bt->nr * sizeof(*b->errors));
			if (zcxl_dataq_submit(zd, bt->hint, bt->ranges, bt->nr,
					      b->errors)) {
				for (i = 0; i < bt->nr; i++)
					if (b->errors[i])
						bad++;
				/* Not sent at all (failed device, no memory). */
				atomic64_add(bad ?: bt->nr, &b->failed);
			}
			zcxl_batch_free(bt);
		}
	}
}

int zcxl_batcher_init(struct zcxl_dev *zd)
{
	struct zcxl_batcher *b = &zd->batch;

	spin_lock_init(&b->lock);
	INIT_LIST_HEAD(&b->full);
	INIT_WORK(&b->work, zcxl_batcher_work);
	atomic64_set(&b->failed, 0);
	b->errors = kcalloc(zd->cfg.max_ranges, sizeof(*b->errors), GFP_KERNEL);
	if (!b->errors)
		return -ENOMEM;
	b->running = true;
	return 0;
}

/* Stops taking hints and drops those not sent yet: the device is going. */
void zcxl_batcher_stop(struct zcxl_dev *zd)
{
	struct zcxl_batcher *b = &zd->batch;
	struct zcxl_batch *bt, *tmp;

	spin_lock_irq(&b->lock);
	b->running = false;
	spin_unlock_irq(&b->lock);
	cancel_work_sync(&b->work);

	list_for_each_entry_safe(bt, tmp, &b->full, node)
		zcxl_batch_free(bt);
	INIT_LIST_HEAD(&b->full);
	if (b->open)
		zcxl_batch_free(b->open);
	b->open = NULL;
	kfree(b->errors);
	b->errors = NULL;
}

/* Queues one range; the caller checked it. */
static int zcxl_batch_queue(struct zcxl_dev *zd, enum zcxl_hint hint,
			    bool free_pages, unsigned long pfn,
			    unsigned int nr_pages)
{
	struct zcxl_batcher *b = &zd->batch;
	struct zcxl_pfn_range *last;
	struct zcxl_batch *bt;
	unsigned long flags;
	int rc = 0;

	spin_lock_irqsave(&b->lock, flags);
	if (!b->running) {
		rc = -ENODEV;
		goto unlock;
	}
	if (zcxl_failed(zd)) {
		rc = -EIO;
		goto unlock;
	}

	bt = b->open;
	if (bt && bt->hint == hint && bt->free_pages == free_pages) {
		last = &bt->ranges[bt->nr - 1];
		if (last->pfn + last->nr_pages == pfn &&
		    last->nr_pages <= U32_MAX - nr_pages) {
			last->nr_pages += nr_pages;
			goto queue;
		}
	}
	/* A different kind of hint closes the open batch: hints keep order. */
	if (bt && (bt->hint != hint || bt->free_pages != free_pages ||
		   bt->nr == zcxl_batch_room(zd))) {
		list_add_tail(&bt->node, &b->full);
		b->open = NULL;
	}
	if (!b->open) {
		bt = kmalloc(struct_size(bt, ranges, zcxl_batch_room(zd)),
			     GFP_ATOMIC | __GFP_NOWARN);
		if (!bt) {
			rc = -ENOMEM;
			goto unlock;
		}
		bt->hint = hint;
		bt->free_pages = free_pages;
		bt->nr = 0;
		b->open = bt;
	}
	bt = b->open;
	bt->ranges[bt->nr].pfn = pfn;
	bt->ranges[bt->nr].nr_pages = nr_pages;
	bt->nr++;
queue:
	queue_work(zcxl_wq, &b->work);
unlock:
	spin_unlock_irqrestore(&b->lock, flags);
	return rc;
}

/**
 * zcxl_batch_add() - queue one hint range from any context
 * @zd: the device
 * @hint: ZCXL_HINT_WRITE or ZCXL_HINT_DISCARD
 * @pfn: first page
 * @nr_pages: number of pages
 *
 * Ranges are sent in the order they are queued; a range continuing the
 * previous one of the same hint is merged into it.
 *
 * Return: 0, -EINVAL for a bad hint or range, -ENOMEM, -ENODEV while the
 * device goes away, -EIO once it has failed.
 */
int zcxl_batch_add(struct zcxl_dev *zd, enum zcxl_hint hint,
		   unsigned long pfn, unsigned int nr_pages)
{
	if ((hint != ZCXL_HINT_WRITE && hint != ZCXL_HINT_DISCARD) ||
	    !zcxl_range_ok(zd, pfn, nr_pages))
		return -EINVAL;
	return zcxl_batch_queue(zd, hint, false, pfn, nr_pages);
}

/**
 * zcxl_batch_release() - discard a page the driver was given, then free it
 * @zd: the device
 * @page: a page in the window whose content is dead
 *
 * The page is freed only after its discard was sent, so it cannot be
 * reused and hinted again before the device has dropped the old content.
 * If no discard can be queued the page is freed at once.
 *
 * Context: any context.
 */
void zcxl_batch_release(struct zcxl_dev *zd, struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	if (WARN_ON_ONCE(!zcxl_range_ok(zd, pfn, 1)) ||
	    zcxl_batch_queue(zd, ZCXL_HINT_DISCARD, true, pfn, 1))
		__free_page(page);
}
