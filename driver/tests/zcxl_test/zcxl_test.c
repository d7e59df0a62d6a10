// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl_test: pages on a zcxl window hold exactly what was written to them,
 * whatever the device does with them (end-to-end check 3).
 *
 * On load it allocates `pages` pages of each pattern class on node `node`
 * (the window's node), fills them — all zero, one repeated 64-bit word,
 * English-like text, random bytes — sends write-hints through the zcxl API
 * (zero and same-filled pages synchronously in batches, text and random
 * pages queued one by one from atomic context, then flushed),
 * read-prepares them and compares every byte with a fresh copy of its
 * pattern. Loading fails with -EIO on any mismatch or refused hint. The
 * pages stay allocated, so the device's statistics can be checked, until
 * the module is unloaded (or the device goes away): then they are
 * discarded, checked to read back as zeros, and freed.
 *
 * Results go to the kernel log as "zcxl_test: ..." lines; failures start
 * with "zcxl_test: FAIL".
 */

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/irqflags.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "../../zcxl/zcxl.h"

MODULE_IMPORT_NS("ZCXL");

static int node = -1;
module_param(node, int, 0444);
MODULE_PARM_DESC(node, "NUMA node of the zcxl window (required)");

static unsigned int pages = 256;
module_param(pages, uint, 0444);
MODULE_PARM_DESC(pages, "pages per pattern class (default 256)");

static uint hammer_ms;
module_param(hammer_ms, uint, 0444);
MODULE_PARM_DESC(hammer_ms, "after the check, keep re-sending write-hints this long (ms); load fails with the first error");

static ulong seed = 0x5eed;
module_param(seed, ulong, 0444);
MODULE_PARM_DESC(seed, "pattern seed");

/* Protected nodes hand out pages only to allocations that ask for them. */
#ifdef __GFP_PROTECTED
#define ZCXL_TEST_GFP_PROTECTED	__GFP_PROTECTED
#else
#define ZCXL_TEST_GFP_PROTECTED	0
#endif
/* The window is onlined to ZONE_MOVABLE. */
#define ZCXL_TEST_GFP	(GFP_HIGHUSER_MOVABLE | __GFP_THISNODE | \
			 __GFP_NORETRY | __GFP_NOWARN | ZCXL_TEST_GFP_PROTECTED)

#define ZCXL_TEST_BATCH	256

enum pattern {
	PATTERN_ZERO,
	PATTERN_SAME,
	PATTERN_TEXT,
	PATTERN_RANDOM,
	NR_PATTERNS,
};

static const char *const pattern_names[NR_PATTERNS] = {
	"zero", "same-filled", "text", "random",
};

static struct zcxl_dev *zd;
static struct page **held;		/* NR_PATTERNS * pages, pattern-major */
static unsigned long nr_held;
static DEFINE_MUTEX(held_lock);		/* module exit vs. device removal */

static u64 mix64(u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static const char *const words[] = {
	"the", "of", "and", "to", "in", "memory", "page", "device", "is",
	"compressed", "a", "that", "for", "window", "node", "kernel", "with",
	"data", "as", "on", "it", "by", "be", "this", "which", "from", "at",
	"swap", "are", "or", "was", "media", "an", "not", "have", "were",
};

/* Fills @buf with the pattern of page @idx of class @pat. */
static void fill_pattern(u8 *buf, enum pattern pat, unsigned long idx)
{
	u64 state = mix64(seed ^ ((u64)pat << 56) ^ idx);
	u64 *w = (u64 *)buf;
	size_t off = 0, len;
	unsigned int i;
	const char *word;

	switch (pat) {
	case PATTERN_ZERO:
		memset(buf, 0, PAGE_SIZE);
		break;
	case PATTERN_SAME:
		state |= 1;	/* never zero: that is the zero class */
		for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
			w[i] = state;
		break;
	case PATTERN_TEXT:
		while (off < PAGE_SIZE) {
			state = mix64(state);
			word = words[state % ARRAY_SIZE(words)];
			len = min(strlen(word), PAGE_SIZE - off);
			memcpy(buf + off, word, len);
			off += len;
			if (off < PAGE_SIZE)
				buf[off++] = (state >> 32) % 11 ? ' ' : '\n';
		}
		break;
	case PATTERN_RANDOM:
		for (i = 0; i < PAGE_SIZE / sizeof(u64); i++) {
			state = mix64(state + i);
			w[i] = state;
		}
		break;
	default:
		break;
	}
}

/* Sends one hint for pages [first, first + n) of held[], in batches. */
static int hint_pages(enum zcxl_hint hint, unsigned long first,
		      unsigned long n)
{
	struct zcxl_pfn_range *ranges;
	unsigned long i, done;
	int *errors, rc = 0;
	unsigned int k, batch;

	ranges = kcalloc(ZCXL_TEST_BATCH, sizeof(*ranges), GFP_KERNEL);
	errors = kcalloc(ZCXL_TEST_BATCH, sizeof(*errors), GFP_KERNEL);
	if (!ranges || !errors) {
		rc = -ENOMEM;
		goto out;
	}
	for (done = 0; done < n && !rc; done += batch) {
		batch = min_t(unsigned long, n - done, ZCXL_TEST_BATCH);
		for (k = 0; k < batch; k++) {
			ranges[k].pfn = page_to_pfn(held[first + done + k]);
			ranges[k].nr_pages = 1;
		}
		rc = zcxl_hint(zd, hint, ranges, batch, errors);
		for (k = 0; k < batch && rc; k++) {
			i = first + done + k;
			if (errors[k])
				pr_err("zcxl_test: FAIL hint %d on pfn %#lx: %d\n",
				       hint, page_to_pfn(held[i]), errors[k]);
		}
	}
out:
	kfree(errors);
	kfree(ranges);
	return rc;
}

/* Queues write-hints for held[first .. first + n) with interrupts off. */
static int queue_write_hints(unsigned long first, unsigned long n)
{
	unsigned long i, flags;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		local_irq_save(flags);
		rc = zcxl_queue_hint(zd, ZCXL_HINT_WRITE,
				     page_to_pfn(held[first + i]), 1);
		local_irq_restore(flags);
	}
	if (rc)
		pr_err("zcxl_test: FAIL queueing a write-hint: %d\n", rc);
	zcxl_flush_hints(zd);
	return rc;
}

/* Compares held[first .. first + n) with their patterns; counts mismatches. */
static unsigned long verify(enum pattern pat, unsigned long first,
			    unsigned long n, u8 *expect)
{
	unsigned long i, bad = 0;
	void *p;

	for (i = 0; i < n; i++) {
		fill_pattern(expect, pat, i);
		p = kmap_local_page(held[first + i]);
		if (memcmp(p, expect, PAGE_SIZE)) {
			if (!bad)
				pr_err("zcxl_test: FAIL %s page %lu (pfn %#lx) differs\n",
				       pattern_names[pat], i,
				       page_to_pfn(held[first + i]));
			bad++;
		}
		kunmap_local(p);
	}
	return bad;
}

/* Discards and frees every held page; checks they read back as zeros. */
static void drop_held_pages(void)
{
	unsigned long i, nonzero = 0;
	void *p;

	mutex_lock(&held_lock);
	if (!nr_held)
		goto out;
	if (!hint_pages(ZCXL_HINT_DISCARD, 0, nr_held) &&
	    !hint_pages(ZCXL_HINT_READ_PREPARE, 0, nr_held)) {
		for (i = 0; i < nr_held; i++) {
			p = kmap_local_page(held[i]);
			if (memchr_inv(p, 0, PAGE_SIZE))
				nonzero++;
			kunmap_local(p);
		}
		if (nonzero)
			pr_err("zcxl_test: FAIL %lu of %lu discarded pages do not read as zeros\n",
			       nonzero, nr_held);
		else
			pr_info("zcxl_test: discard: %lu pages read back as zeros\n",
				nr_held);
	}
	for (i = 0; i < nr_held; i++)
		__free_page(held[i]);
	nr_held = 0;
out:
	mutex_unlock(&held_lock);
}

static int zcxl_test_event(struct notifier_block *nb, unsigned long event,
			   void *data)
{
	if (event == ZCXL_EVENT_REMOVE && data == zd)
		drop_held_pages();
	return NOTIFY_DONE;
}

static struct notifier_block zcxl_test_nb = {
	.notifier_call = zcxl_test_event,
};

static int allocate_pages(void)
{
	unsigned long start, nr, pfn;
	struct page *page;

	zcxl_window_pfns(zd, &start, &nr);
	for (nr_held = 0; nr_held < NR_PATTERNS * (unsigned long)pages;
	     nr_held++) {
		page = alloc_pages_node(node, ZCXL_TEST_GFP, 0);
		if (!page) {
			pr_err("zcxl_test: FAIL only %lu pages could be allocated on node %d\n",
			       nr_held, node);
			return -ENOMEM;
		}
		held[nr_held] = page;
		pfn = page_to_pfn(page);
		if (pfn < start || pfn >= start + nr) {
			pr_err("zcxl_test: FAIL pfn %#lx from node %d is outside the window\n",
			       pfn, node);
			nr_held++;
			return -EIO;
		}
	}
	return 0;
}

static int fill_and_check(void)
{
	unsigned long first, bad = 0;
	enum pattern pat;
	u8 *expect;
	void *p;
	unsigned int i;
	int rc;

	for (pat = 0; pat < NR_PATTERNS; pat++) {
		first = pat * (unsigned long)pages;
		for (i = 0; i < pages; i++) {
			p = kmap_local_page(held[first + i]);
			fill_pattern(p, pat, i);
			kunmap_local(p);
		}
	}
	rc = hint_pages(ZCXL_HINT_WRITE, 0, PATTERN_TEXT * (unsigned long)pages);
	if (rc)
		return rc;
	rc = queue_write_hints(PATTERN_TEXT * (unsigned long)pages,
			       (NR_PATTERNS - PATTERN_TEXT) * (unsigned long)pages);
	if (rc)
		return rc;
	rc = hint_pages(ZCXL_HINT_READ_PREPARE, 0, nr_held);
	if (rc)
		return rc;

	expect = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!expect)
		return -ENOMEM;
	for (pat = 0; pat < NR_PATTERNS; pat++)
		bad += verify(pat, pat * (unsigned long)pages, pages, expect);
	kfree(expect);
	if (bad) {
		pr_err("zcxl_test: FAIL %lu of %lu pages differ after write-hint and read-prepare\n",
		       bad, nr_held);
		return -EIO;
	}
	return 0;
}

/* Keeps the data queues busy, e.g. while the daemon is killed (check 6). */
static int keep_hinting(void)
{
	unsigned long end = jiffies + msecs_to_jiffies(hammer_ms);
	unsigned long rounds = 0;
	int rc = 0;

	pr_info("zcxl_test: hammering for %u ms\n", hammer_ms);
	while (time_before(jiffies, end) && !rc) {
		rc = hint_pages(ZCXL_HINT_WRITE, 0, nr_held);
		rounds++;
		cond_resched();
	}
	pr_info("zcxl_test: hammer: %lu rounds, result %d\n", rounds, rc);
	return rc;
}

static int __init zcxl_test_init(void)
{
	int rc;

	if (node < 0 || !pages) {
		pr_err("zcxl_test: FAIL give node=N (the window's node) and pages>0\n");
		return -EINVAL;
	}
	zd = zcxl_get_by_node(node);
	if (!zd) {
		pr_err("zcxl_test: FAIL no zcxl window on node %d\n", node);
		return -ENODEV;
	}
	held = vcalloc(NR_PATTERNS * (size_t)pages, sizeof(*held));
	if (!held) {
		rc = -ENOMEM;
		goto err_put;
	}
	rc = zcxl_register_notifier(&zcxl_test_nb);
	if (rc)
		goto err_free;

	mutex_lock(&held_lock);
	rc = allocate_pages();
	if (!rc)
		rc = fill_and_check();
	if (!rc && hammer_ms)
		rc = keep_hinting();
	mutex_unlock(&held_lock);
	if (rc)
		goto err_release;

	pr_info("zcxl_test: PASS %u pages each of zero, same-filled, text and random on node %d read back bit-exact\n",
		pages, node);
	return 0;

err_release:
	drop_held_pages();
	zcxl_unregister_notifier(&zcxl_test_nb);
err_free:
	vfree(held);
err_put:
	zcxl_put(zd);
	return rc;
}
module_init(zcxl_test_init);

static void __exit zcxl_test_exit(void)
{
	zcxl_unregister_notifier(&zcxl_test_nb);
	drop_held_pages();
	vfree(held);
	zcxl_put(zd);
}
module_exit(zcxl_test_exit);

MODULE_DESCRIPTION("zcxl end-to-end test: patterns written to the window read back bit-exact");
MODULE_LICENSE("GPL");
