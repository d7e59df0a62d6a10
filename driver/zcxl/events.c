// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: the event queue (specs/virtio.md §3.2) and the event logs behind it
 * (specs/device.md §3).
 *
 * The device completes an event-queue buffer with the set of logs holding
 * records and its status word (window mapped, under pressure, holds
 * poison). The queue callback only takes note and re-posts the buffer; a
 * work item then fetches and clears the records over the mailbox, tracks the
 * pressure and poison states, and hot-adds the window once the device
 * reports it mapped.
 */

#include <linux/bitops.h>
#include <linux/ktime.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uuid.h>
#include <linux/virtio.h>

#include "core.h"
#include "uapi/linux/zcxl.h"

/* Rounds of Get/Clear per log and report: bounds a device that keeps adding. */
#define ZCXL_DRAIN_ROUNDS	64

static const uuid_t zcxl_vendor_uuid = ZCXL_VENDOR_EVENT_UUID;
static const char *const zcxl_log_names[ZCXL_NR_EVENT_LOGS] = {
	"informational", "warning", "failure", "fatal",
};

static void zcxl_count(u64 *counter, u64 n)
{
	/* Only the event work writes; sysfs reads without a lock. */
	WRITE_ONCE(*counter, *counter + n);
}

static int zcxl_events_post(struct zcxl_events *ev, struct zcxl_event_report *buf)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, sizeof(*buf));
	return virtqueue_add_inbuf(ev->vq, &sg, 1, buf, GFP_ATOMIC);
}

void zcxl_events_done(struct virtqueue *vq)
{
	struct zcxl_dev *zd = vq->vdev->priv;
	struct zcxl_events *ev = &zd->ev;
	struct zcxl_event_report *buf;
	bool got = false, kick = false;
	unsigned long flags;
	unsigned int len;

	spin_lock_irqsave(&ev->lock, flags);
	while ((buf = virtqueue_get_buf(vq, &len))) {
		if (len >= sizeof(*buf)) {
			ev->pending_logs |= le32_to_cpu(buf->pending_logs);
			ev->status = le32_to_cpu(buf->status);
			ev->have_status = true;
			got = true;
			/* Loads check again from now on, not once the work ran. */
			if (ev->status & ZCXL_STATUS_POISON)
				clear_bit(ZCXL_NO_POISON, &zd->flags);
			if (ev->status & ZCXL_STATUS_WINDOW_MAPPED)
				complete_all(&ev->mapped);
		}
		/* The descriptor just came back, so re-posting cannot fail. */
		if (!zcxl_events_post(ev, buf))
			kick = true;
	}
	if (kick)
		virtqueue_kick(vq);
	if (got && ev->running)
		queue_work(system_dfl_long_wq, &ev->work);
	spin_unlock_irqrestore(&ev->lock, flags);
}

static void zcxl_set_pressure(struct zcxl_dev *zd, bool on)
{
	if (on == test_bit(ZCXL_PRESSURE, &zd->flags))
		return;
	assign_bit(ZCXL_PRESSURE, &zd->flags, on);
	zcxl_sysfs_notify(zd, "pressure");
	zcxl_notify(zd, ZCXL_EVENT_PRESSURE);
}

/*
 * Follows the newest status: it is read under the lock the queue callback
 * updates it with, so a poison report cannot be undone by an older one.
 * Until the first status arrives the device may hold poison.
 */
static u32 zcxl_apply_status_poison(struct zcxl_dev *zd)
{
	struct zcxl_events *ev = &zd->ev;
	bool shown, holds;
	u32 status;

	spin_lock_irq(&ev->lock);
	status = ev->status;
	assign_bit(ZCXL_NO_POISON, &zd->flags, !(status & ZCXL_STATUS_POISON));
	holds = status & ZCXL_STATUS_POISON;
	shown = ev->poison_shown;
	ev->poison_shown = holds;
	spin_unlock_irq(&ev->lock);
	if (holds != shown)
		zcxl_sysfs_notify(zd, "holds_poison");
	return status;
}

static void zcxl_vendor_event(struct zcxl_dev *zd,
			      const struct zcxl_vendor_event *ve)
{
	struct device *dev = zcxl_to_dev(zd);
	struct zcxl_events *ev = &zd->ev;

	switch (ve->type) {
	case ZCXL_VE_WATERMARK_HIGH:
		zcxl_count(&ev->watermark_high, 1);
		dev_warn(dev, "media use %llu of %llu bytes reached the high watermark (%llu): under pressure\n",
			 le64_to_cpu(ve->media_used),
			 le64_to_cpu(ve->media_capacity),
			 le64_to_cpu(ve->high_watermark));
		zcxl_set_pressure(zd, true);
		break;
	case ZCXL_VE_WATERMARK_LOW:
		zcxl_count(&ev->watermark_low, 1);
		dev_info(dev, "media use %llu bytes fell below the low watermark (%llu): pressure cleared\n",
			 le64_to_cpu(ve->media_used),
			 le64_to_cpu(ve->low_watermark));
		zcxl_set_pressure(zd, false);
		break;
	case ZCXL_VE_MEDIA_EXHAUSTED:
		zcxl_count(&ev->media_exhausted, 1);
		dev_err_ratelimited(dev, "media exhausted: the store of DPA %#llx failed and the page is poisoned\n",
				    le64_to_cpu(ve->dpa));
		break;
	default:
		dev_warn_ratelimited(dev, "unknown vendor event type %u\n",
				     ve->type);
		break;
	}
}

static void zcxl_event_record(struct zcxl_dev *zd, u8 log,
			      struct zcxl_event_record *rec)
{
	zcxl_count(&zd->ev.records[log], 1);
	zcxl_cxl_event(zd, log, rec);
	if (uuid_equal(&rec->uuid, &zcxl_vendor_uuid))
		zcxl_vendor_event(zd, (const void *)rec->data);
	else
		dev_info_ratelimited(zcxl_to_dev(zd), "%s event %pUb, handle %u\n",
				     zcxl_log_names[log], &rec->uuid,
				     le16_to_cpu(rec->handle));
}

static int zcxl_clear_records(struct zcxl_dev *zd, u8 log,
			      const struct zcxl_get_events_out *got,
			      unsigned int nr)
{
	struct zcxl_clear_events_in *clr = zd->ev.clear_buf;
	unsigned int i;

	clr->log = log;
	clr->flags = 0;
	clr->nr_handles = nr;
	memset(clr->reserved, 0, sizeof(clr->reserved));
	for (i = 0; i < nr; i++)
		clr->handles[i] = got->records[i].handle;

	return zcxl_cci(zd, ZCXL_OP_CLEAR_EVENT_RECORDS, clr,
			struct_size(clr, handles, nr), NULL, 0, NULL);
}

/* Fetches, handles and clears every record of one log. */
static void zcxl_drain_log(struct zcxl_dev *zd, u8 log)
{
	struct zcxl_get_events_out *got = zd->ev.get_buf;
	size_t room = zd->cfg.max_payload;
	bool overflow_counted = false;
	unsigned int round, i, nr;
	size_t len;
	int rc;

	for (round = 0; round < ZCXL_DRAIN_ROUNDS; round++) {
		rc = zcxl_cci(zd, ZCXL_OP_GET_EVENT_RECORDS, &log, sizeof(log),
			      got, room, &len);
		if (rc)
			goto err;
		nr = len >= sizeof(*got) ? le16_to_cpu(got->record_count) : 0;
		if (len < sizeof(*got) || len != struct_size(got, records, nr) ||
		    nr > U8_MAX) {
			rc = -EPROTO;
			goto err;
		}

		/* The count stays until the log is cleared empty: take it once. */
		if ((got->flags & ZCXL_EVENTS_OVERFLOW) && !overflow_counted) {
			u16 lost = le16_to_cpu(got->overflow_count);

			zcxl_count(&zd->ev.dropped, lost);
			dev_warn_ratelimited(zcxl_to_dev(zd), "%s event log overflowed: %u records lost\n",
					     zcxl_log_names[log], lost);
			overflow_counted = true;
		}

		for (i = 0; i < nr; i++)
			zcxl_event_record(zd, log, &got->records[i]);

		if (nr) {
			rc = zcxl_clear_records(zd, log, got, nr);
			if (rc)
				goto err;
		}
		if (!(got->flags & ZCXL_EVENTS_MORE))
			return;
	}
	dev_warn_ratelimited(zcxl_to_dev(zd), "%s event log still not empty after %u rounds\n",
			     zcxl_log_names[log], ZCXL_DRAIN_ROUNDS);
	return;
err:
	if (!zcxl_failed(zd))
		dev_err_ratelimited(zcxl_to_dev(zd), "reading the %s event log failed: %d\n",
				    zcxl_log_names[log], rc);
}

static void zcxl_events_work(struct work_struct *work)
{
	struct zcxl_events *ev = container_of(work, struct zcxl_events, work);
	struct zcxl_dev *zd = container_of(ev, struct zcxl_dev, ev);
	unsigned long pending;
	unsigned int log;
	bool have_status;
	u32 status;

	spin_lock_irq(&ev->lock);
	pending = ev->pending_logs;
	ev->pending_logs = 0;
	have_status = ev->have_status;
	spin_unlock_irq(&ev->lock);

	if (zcxl_failed(zd))
		return;

	for_each_set_bit(log, &pending, ZCXL_NR_EVENT_LOGS)
		zcxl_drain_log(zd, log);

	if (!have_status)
		return;
	/*
	 * The status word is the device's current state: it has the last say.
	 * The newest one, since draining the logs may have taken a while.
	 */
	status = zcxl_apply_status_poison(zd);
	zcxl_set_pressure(zd, status & ZCXL_STATUS_PRESSURE);
	if (status & ZCXL_STATUS_WINDOW_MAPPED)
		zcxl_window_mapped(zd);
	else if (zcxl_window_added(zd))
		zcxl_mark_failed(zd, "the device dropped the window while it was in use");
}

int zcxl_events_init(struct zcxl_dev *zd, struct virtqueue *vq)
{
	struct zcxl_events *ev = &zd->ev;
	unsigned int i;
	int rc;

	ev->vq = vq;
	spin_lock_init(&ev->lock);
	ev->poison_shown = true;	/* holds_poison reads 1 until a status */
	INIT_WORK(&ev->work, zcxl_events_work);
	init_completion(&ev->mapped);

	ev->bufs = kcalloc(ZCXL_EVENT_BUFS, sizeof(*ev->bufs), GFP_KERNEL);
	ev->get_buf = kmalloc(zd->cfg.max_payload, GFP_KERNEL);
	ev->clear_buf = kmalloc(struct_size_t(struct zcxl_clear_events_in,
					      handles, U8_MAX), GFP_KERNEL);
	if (!ev->bufs || !ev->get_buf || !ev->clear_buf) {
		rc = -ENOMEM;
		goto err;
	}

	/* Posted before DRIVER_OK; the device completes the first at once. */
	spin_lock_irq(&ev->lock);
	for (i = 0, rc = 0; i < ZCXL_EVENT_BUFS && !rc; i++)
		rc = zcxl_events_post(ev, &ev->bufs[i]);
	spin_unlock_irq(&ev->lock);
	if (rc)
		goto err;
	return 0;
err:
	zcxl_events_free(zd);
	return rc;
}

/* Only once the device is reset, or before it was ever started. */
void zcxl_events_free(struct zcxl_dev *zd)
{
	struct zcxl_events *ev = &zd->ev;

	/* The buffers live in ev->bufs: detaching is all they need. */
	while (virtqueue_detach_unused_buf(ev->vq))
		;
	kfree(ev->clear_buf);
	kfree(ev->get_buf);
	kfree(ev->bufs);
	ev->clear_buf = NULL;
	ev->get_buf = NULL;
	ev->bufs = NULL;
}

/**
 * zcxl_events_wait_mapped() - wait until the device reports its window mapped
 * @zd: the device, with DRIVER_OK set
 *
 * Only then has the device finished starting (specs/virtio.md §5): after a
 * reset it resets its state just before that report, so a command sent
 * earlier could be answered from, and lost with, the state before.
 *
 * Return: 0, or -ETIMEDOUT if no such report came within the timeout.
 */
int zcxl_events_wait_mapped(struct zcxl_dev *zd)
{
	struct zcxl_events *ev = &zd->ev;

	spin_lock_irq(&ev->lock);
	virtqueue_kick(ev->vq);
	spin_unlock_irq(&ev->lock);

	if (!wait_for_completion_timeout(&ev->mapped, zcxl_timeout())) {
		dev_err(zcxl_to_dev(zd), "the device did not report its window mapped within %u ms\n",
			READ_ONCE(zcxl_timeout_ms));
		return -ETIMEDOUT;
	}
	return 0;
}

/**
 * zcxl_events_setup() - have the device timestamp and signal its events
 * @zd: the device, started (zcxl_events_wait_mapped())
 *
 * Return: 0 or a negative errno from the mailbox.
 */
int zcxl_events_setup(struct zcxl_dev *zd)
{
	u8 policy[ZCXL_NR_EVENT_LOGS];
	__le64 now;
	int rc;

	/* Event records carry device time; make it wall-clock time. */
	now = cpu_to_le64(ktime_get_real_ns());
	rc = zcxl_cci(zd, ZCXL_OP_SET_TIMESTAMP, &now, sizeof(now), NULL, 0,
		      NULL);
	if (rc)
		return rc;

	memset(policy, ZCXL_EVENT_INT_MSI, sizeof(policy));
	return zcxl_cci(zd, ZCXL_OP_SET_EVENT_INTERRUPT_POLICY, policy,
			sizeof(policy), NULL, 0, NULL);
}

/*
 * Lets the work run: from now on reports are acted upon. Records logged
 * before interrupts were enabled raised no report, so look at every log.
 */
void zcxl_events_enable(struct zcxl_dev *zd)
{
	struct zcxl_events *ev = &zd->ev;

	spin_lock_irq(&ev->lock);
	ev->running = true;
	ev->pending_logs |= GENMASK(ZCXL_NR_EVENT_LOGS - 1, 0);
	queue_work(system_dfl_long_wq, &ev->work);
	spin_unlock_irq(&ev->lock);
}

void zcxl_events_disable(struct zcxl_dev *zd)
{
	struct zcxl_events *ev = &zd->ev;

	spin_lock_irq(&ev->lock);
	ev->running = false;
	spin_unlock_irq(&ev->lock);
	cancel_work_sync(&ev->work);
	/* No more status reports are acted on: assume poison from now on. */
	clear_bit(ZCXL_NO_POISON, &zd->flags);
}
