/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcxl: in-kernel interface for users of a zcxl device's window (the zswap
 * provider of the protected-node series, and test modules).
 *
 * A zcxl device is a compressed-memory expander: its window is hot-added as
 * memory on one NUMA node, and the device stores what is written to it in
 * compressed form. Users place pages there only while zcxl_admit() says so,
 * tell the device about pages they wrote (write-hint), freed (discard) or are
 * about to read in compressed backing mode (read-prepare), and follow the
 * device's life through the notifier.
 *
 * Symbols are exported in the "ZCXL" namespace: MODULE_IMPORT_NS("ZCXL").
 */
#ifndef _ZCXL_H
#define _ZCXL_H

#include <linux/notifier.h>
#include <linux/types.h>

struct zcxl_dev;

/**
 * enum zcxl_hint - what a hint tells the device about a range of pages
 * @ZCXL_HINT_WRITE: the pages were just written; the device stores them now
 * @ZCXL_HINT_DISCARD: the pages are free; the device drops their content
 *	(they read as zeros afterwards) and frees their media
 * @ZCXL_HINT_READ_PREPARE: the pages are about to be read; in compressed
 *	backing mode the device restores them into the window first
 */
enum zcxl_hint {
	ZCXL_HINT_WRITE = 1,
	ZCXL_HINT_DISCARD = 2,
	ZCXL_HINT_READ_PREPARE = 3,
};

/**
 * struct zcxl_pfn_range - pages of a device's window
 * @pfn: first page frame
 * @nr_pages: number of pages, at least one
 */
struct zcxl_pfn_range {
	unsigned long pfn;
	unsigned int nr_pages;
};

/* Notifier events; the data pointer is the struct zcxl_dev *. */
enum zcxl_event {
	ZCXL_EVENT_ONLINE,	/* the window was hot-added */
	ZCXL_EVENT_PRESSURE,	/* pressure changed: see zcxl_admit() */
	ZCXL_EVENT_FAILED,	/* the device stopped answering */
	ZCXL_EVENT_REMOVE,	/* the window goes away: free its pages now */
};

struct zcxl_dev *zcxl_get_by_node(int nid);
void zcxl_put(struct zcxl_dev *zd);
int zcxl_nid(const struct zcxl_dev *zd);
void zcxl_window_pfns(const struct zcxl_dev *zd, unsigned long *start_pfn,
		      unsigned long *nr_pages);

bool zcxl_admit(const struct zcxl_dev *zd);

int zcxl_hint(struct zcxl_dev *zd, enum zcxl_hint hint,
	      const struct zcxl_pfn_range *ranges, unsigned int nr_ranges,
	      int *errors);
int zcxl_write_hint(struct zcxl_dev *zd, unsigned long pfn,
		    unsigned int nr_pages);
int zcxl_discard(struct zcxl_dev *zd, unsigned long pfn,
		 unsigned int nr_pages);
int zcxl_read_prepare(struct zcxl_dev *zd, unsigned long pfn,
		      unsigned int nr_pages);

int zcxl_queue_hint(struct zcxl_dev *zd, enum zcxl_hint hint,
		    unsigned long pfn, unsigned int nr_pages);
void zcxl_flush_hints(struct zcxl_dev *zd);

int zcxl_register_notifier(struct notifier_block *nb);
int zcxl_unregister_notifier(struct notifier_block *nb);

#endif /* _ZCXL_H */
