/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcxl: driver-internal state shared by the driver's parts
 * (main.c probe/remove, mbox.c, events.c, dataq.c, window.c, api.c,
 * sysfs.c, cdev.c, rules.c, cxl.c).
 */
#ifndef _ZCXL_CORE_H
#define _ZCXL_CORE_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/virtio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#if IS_ENABLED(CONFIG_ZSWAP_PROVIDERS)
#include <linux/zswap.h>
#endif

#include "wire.h"
#include "zcxl.h"

struct page;
struct zcxl_cxl;

/* Module parameters (main.c) */
extern unsigned int zcxl_timeout_ms;
extern int zcxl_node_param;
extern bool zcxl_allow_sysram;
/* Hint batches; WQ_MEM_RECLAIM: zswap loads in reclaim flush them. */
extern struct workqueue_struct *zcxl_wq;

/* Identity and geometry read from config space at probe. */
struct zcxl_config {
	u64 serial;
	u64 logical_capacity;
	u64 media_capacity;
	u32 nr_data_queues;
	u32 max_payload;
	u32 backing_mode;
	u32 max_ranges;
};

/* The CCI mailbox. */
struct zcxl_mbox {
	struct virtqueue *vq;
	struct mutex lock;		/* one command at a time */
	spinlock_t vq_lock;		/* add vs. get on @vq */
	struct completion done;
	unsigned int used_len;
	u8 tag;
	void *req;			/* header + max_payload */
	void *rsp;			/* header + max_payload */
};

#define ZCXL_EVENT_BUFS		4

/* The event queue and what the driver learnt from it. */
struct zcxl_events {
	struct virtqueue *vq;
	spinlock_t lock;		/* the fields below up to @work */
	struct zcxl_event_report *bufs;
	u32 pending_logs;
	u32 status;
	bool have_status;
	bool running;			/* reports are acted upon */
	bool poison_shown;		/* holds_poison as sysfs last notified */
	struct work_struct work;
	struct completion mapped;	/* a report said: window mapped */
	void *get_buf;			/* Get Event Records output */
	void *clear_buf;		/* Clear Event Records input */

	/* Counters, written by @work only. */
	u64 records[ZCXL_NR_EVENT_LOGS];
	u64 dropped;
	u64 watermark_high;
	u64 watermark_low;
	u64 media_exhausted;
};

struct zcxl_dataq {
	struct virtqueue *vq;
	spinlock_t lock;		/* add vs. get, request abandonment */
	wait_queue_head_t space;	/* woken when descriptors free up */
};

/* Batches of hints queued from atomic context, sent by @work. */
struct zcxl_batch;

struct zcxl_batcher {
	spinlock_t lock;		/* @full, @open, @running */
	struct list_head full;		/* closed batches, oldest first */
	struct zcxl_batch *open;	/* the batch taking new ranges */
	bool running;
	struct work_struct work;
	int *errors;			/* per-range results, for @work */
	atomic64_t failed;		/* ranges the device refused */
};

enum zcxl_window_state {
	ZCXL_WIN_WAITING,		/* for the device to map it */
	ZCXL_WIN_ADDED,			/* hot-added as memory */
	ZCXL_WIN_REFUSED,		/* not added: see dmesg */
	ZCXL_WIN_FAILED,		/* hot-add failed */
	ZCXL_WIN_STRANDED,		/* could not be removed at unbind */
};

struct zcxl_window {
	struct mutex lock;		/* state changes */
	enum zcxl_window_state state;
	u64 start;
	u64 size;
	int nid;
	bool protected;
	struct resource *res;
};

/* Device flags (zcxl_dev.flags) */
enum {
	ZCXL_FAILED,			/* the device stopped answering */
	ZCXL_REMOVING,			/* remove() has begun */
	ZCXL_PRESSURE,			/* media use crossed the high watermark */
	ZCXL_NO_POISON,			/* the last status: no page holds poison */
};

struct zcxl_dev {
	struct kref kref;
	struct virtio_device *vdev;
	struct list_head list;		/* zcxl_devices */
	int id;
	char name[16];
	struct zcxl_config cfg;
	unsigned long flags;

	struct zcxl_mbox mbox;
	struct zcxl_events ev;
	struct zcxl_dataq *dq;
	struct zcxl_batcher batch;
	struct zcxl_window win;

#if IS_ENABLED(CONFIG_ZSWAP_PROVIDERS)
	struct zswap_provider zswap;
	bool zswap_registered;
	/* memcg charge per direct page; refreshed by zswap_charge_work */
	unsigned int zswap_charge;
	struct delayed_work zswap_charge_work;
	/* loads that skipped read-prepare (shadow backing, no poison) */
	atomic64_t zswap_unchecked_loads;
#endif

	/* The CXL memdev (cxl.c); NULL when the device has none. */
	struct zcxl_cxl *cxl;

	/* Held for read by API and ioctl calls; remove() drains them. */
	struct rw_semaphore users;
	struct work_struct failed_work;
	struct miscdevice misc;
};

static inline bool zcxl_failed(const struct zcxl_dev *zd)
{
	return test_bit(ZCXL_FAILED, &zd->flags);
}

static inline unsigned long zcxl_timeout(void)
{
	return msecs_to_jiffies(READ_ONCE(zcxl_timeout_ms));
}

static inline struct device *zcxl_to_dev(struct zcxl_dev *zd)
{
	return &zd->vdev->dev;
}

void zcxl_mark_failed(struct zcxl_dev *zd, const char *why);

/* mbox.c */
int zcxl_mbox_init(struct zcxl_dev *zd, struct virtqueue *vq);
void zcxl_mbox_free(struct zcxl_dev *zd);
void zcxl_mbox_done(struct virtqueue *vq);
int zcxl_cci_raw(struct zcxl_dev *zd, u16 opcode, const void *in,
		 size_t in_len, void *out, size_t out_size, size_t *out_len,
		 u16 *return_code, u16 *vendor_status);
int zcxl_cci(struct zcxl_dev *zd, u16 opcode, const void *in, size_t in_len,
	     void *out, size_t out_size, size_t *out_len);

/* events.c */
int zcxl_events_init(struct zcxl_dev *zd, struct virtqueue *vq);
int zcxl_events_wait_mapped(struct zcxl_dev *zd);
int zcxl_events_setup(struct zcxl_dev *zd);
void zcxl_events_enable(struct zcxl_dev *zd);
void zcxl_events_disable(struct zcxl_dev *zd);
void zcxl_events_free(struct zcxl_dev *zd);
void zcxl_events_done(struct virtqueue *vq);

/* dataq.c */
int zcxl_dataq_init(struct zcxl_dev *zd, struct virtqueue **vqs);
void zcxl_dataq_free(struct zcxl_dev *zd);
void zcxl_dataq_done(struct virtqueue *vq);
void zcxl_dataq_wake(struct zcxl_dev *zd);
int zcxl_dataq_submit(struct zcxl_dev *zd, enum zcxl_hint hint,
		      const struct zcxl_pfn_range *ranges,
		      unsigned int nr_ranges, int *errors);
int zcxl_batcher_init(struct zcxl_dev *zd);
void zcxl_batcher_stop(struct zcxl_dev *zd);
int zcxl_batch_add(struct zcxl_dev *zd, enum zcxl_hint hint,
		   unsigned long pfn, unsigned int nr_pages);
void zcxl_batch_release(struct zcxl_dev *zd, struct page *page);

/* window.c */
int zcxl_window_find(struct zcxl_dev *zd);
void zcxl_window_mapped(struct zcxl_dev *zd);
unsigned int zcxl_window_online_blocks(struct zcxl_dev *zd);
int zcxl_window_remove(struct zcxl_dev *zd);
bool zcxl_window_added(struct zcxl_dev *zd);
const char *zcxl_window_state_name(struct zcxl_dev *zd);

/* api.c */
void zcxl_publish(struct zcxl_dev *zd);
void zcxl_unpublish(struct zcxl_dev *zd);
void zcxl_notify(struct zcxl_dev *zd, enum zcxl_event event);
void zcxl_release(struct kref *kref);

/* zswap.c */
#if IS_ENABLED(CONFIG_ZSWAP_PROVIDERS)
void zcxl_zswap_add(struct zcxl_dev *zd);
void zcxl_zswap_remove(struct zcxl_dev *zd);
static inline bool zcxl_zswap_registered(struct zcxl_dev *zd)
{
	return zd->zswap_registered;
}

static inline s64 zcxl_zswap_unchecked_loads(struct zcxl_dev *zd)
{
	return atomic64_read(&zd->zswap_unchecked_loads);
}
#else
static inline void zcxl_zswap_add(struct zcxl_dev *zd) {}
static inline void zcxl_zswap_remove(struct zcxl_dev *zd) {}
static inline bool zcxl_zswap_registered(struct zcxl_dev *zd)
{
	return false;
}

static inline s64 zcxl_zswap_unchecked_loads(struct zcxl_dev *zd)
{
	return 0;
}
#endif

/* rules.c: when userspace may send which command */
enum zcxl_cci_policy {
	ZCXL_CCI_ANY,
	ZCXL_CCI_UNMAPPED,	/* only while the window is not added */
	ZCXL_CCI_DRIVER,	/* never from userspace */
};

struct zcxl_cci_rule {
	u16 opcode;
	u16 in_min;		/* input sizes the command takes */
	u16 in_max;
	u8 policy;		/* enum zcxl_cci_policy */
};

const struct zcxl_cci_rule *zcxl_cci_rule(u16 opcode);
enum zcxl_cci_policy zcxl_cci_policy(u16 opcode, const void *in,
				     size_t in_len);
int zcxl_cci_guarded(struct zcxl_dev *zd, enum zcxl_cci_policy policy,
		     u16 opcode, const void *in, size_t in_len, void *out,
		     size_t out_size, size_t *out_len, u16 *return_code,
		     u16 *vendor_status);

/* cxl.c: built against a full kernel tree with the CXL core (Kbuild) */
#ifdef ZCXL_CXL_MEMDEV
void zcxl_cxl_add(struct zcxl_dev *zd);
void zcxl_cxl_remove(struct zcxl_dev *zd);
void zcxl_cxl_event(struct zcxl_dev *zd, u8 log,
		    struct zcxl_event_record *rec);
#else
static inline void zcxl_cxl_add(struct zcxl_dev *zd) {}
static inline void zcxl_cxl_remove(struct zcxl_dev *zd) {}
static inline void zcxl_cxl_event(struct zcxl_dev *zd, u8 log,
				  struct zcxl_event_record *rec) {}
#endif

/* sysfs.c */
extern const struct attribute_group *zcxl_groups[];
void zcxl_sysfs_notify(struct zcxl_dev *zd, const char *attr);

/* cdev.c */
int zcxl_cdev_add(struct zcxl_dev *zd);
void zcxl_cdev_remove(struct zcxl_dev *zd);

#endif /* _ZCXL_CORE_H */
