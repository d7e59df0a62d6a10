// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
/*
 * zcxl-workload: fill memory on one NUMA node with a realistic page mix and
 * read it back bit-exact. Used by `cargo xtask demo` on the node that holds
 * the zcxl window.
 *
 *   zcxl-workload NODE MIB [HOLD_SECONDS]
 *
 * The mix, per page (seeded, reproducible):
 *   zero 20%          freshly cleared buffers, untouched heap
 *   same-filled 10%   memset patterns (0xff, repeating words)
 *   text 35%          English-like text (logs, documents, source)
 *   structured 20%    arrays of small integers and pointers (heap objects)
 *   random 15%        already-compressed or encrypted data
 * It prints one "ZCXL-DEMO:" line per phase for the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096UL
#define MPOL_BIND 2
#define MPOL_MF_STRICT 1
#define MPOL_MF_MOVE 2

enum kind { ZERO, SAME, TEXT, STRUCTURED, RANDOM, KINDS };
static const char *const kind_name[KINDS] = {
	"zero", "same-filled", "text", "structured", "random"
};
static const unsigned int kind_percent[KINDS] = { 20, 10, 35, 20, 15 };

static const char *const words[] = {
	"the", "device", "memory", "page", "compressed", "of", "and", "to",
	"a", "in", "is", "for", "kernel", "node", "request", "returned",
	"error", "while", "window", "driver", "queue", "with", "state",
	"value", "time", "user", "data", "from", "that", "this", "on", "at",
	"INFO", "WARN", "2026-11-25", "pid", "status=0", "size=4096", "ok",
	"allocation", "failed", "retrying", "completed", "seconds", "bytes",
	"connection", "server", "client", "timeout", "configuration", "loaded",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static enum kind kind_of(uint64_t page_index)
{
	uint64_t s = page_index * 7919 + 17;
	unsigned int r = splitmix(&s) % 100, acc = 0;
	int k;

	for (k = 0; k < KINDS; k++) {
		acc += kind_percent[k];
		if (r < acc)
			return k;
	}
	return RANDOM;
}

/* Write page `i`'s content into `p` (also used to check it). */
static void fill(unsigned char *p, uint64_t i)
{
	uint64_t s = i * 0x1000193 + 1, v;
	size_t off, n;

	switch (kind_of(i)) {
	case ZERO:
		memset(p, 0, PAGE);
		break;
	case SAME:
		v = splitmix(&s);
		for (off = 0; off < PAGE; off += 8)
			memcpy(p + off, &v, 8);
		break;
	case TEXT:
		/* Words drawn with a skew towards the common ones, as in prose
		 * and logs, so repeats are as frequent as in real text. */
		for (off = 0; off < PAGE;) {
			uint64_t r = splitmix(&s) % 1024;
			const char *w = words[(r * r / 1024) * NWORDS / 1024];

			n = strlen(w);
			if (n > PAGE - off)
				n = PAGE - off;
			memcpy(p + off, w, n);
			off += n;
			if (off < PAGE)
				p[off++] = (splitmix(&s) % 13) ? ' ' : '\n';
		}
		break;
	case STRUCTURED:
		/* 32-byte heap objects: list pointer, id, type, flags, an
		 * unused field and a reference count. */
		for (off = 0; off < PAGE; off += 32) {
			uint64_t obj[4] = {
				0xffff888100000000ULL + ((i * PAGE + off + 32) & 0xffffff),
				((i * PAGE + off) / 32) | (splitmix(&s) % 4) << 32,
				0,
				1,
			};

			memcpy(p + off, obj, sizeof(obj));
		}
		break;
	default:
		for (off = 0; off < PAGE; off += 8) {
			v = splitmix(&s);
			memcpy(p + off, &v, 8);
		}
		break;
	}
}

int main(int argc, char **argv)
{
	unsigned long node, mib, hold = 0, pages, i, counts[KINDS] = { 0 }, bad = 0;
	unsigned long mask[16] = { 0 };
	unsigned char *mem, expect[PAGE];
	int k;

	if (argc < 3) {
		fprintf(stderr, "usage: %s NODE MIB [HOLD_SECONDS]\n", argv[0]);
		return 2;
	}
	node = strtoul(argv[1], NULL, 0);
	mib = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		hold = strtoul(argv[3], NULL, 0);
	if (node >= sizeof(mask) * 8 || mib == 0) {
		fprintf(stderr, "bad node %lu or size %lu MiB\n", node, mib);
		return 2;
	}
	pages = mib * 256;
	mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise(mem, pages * PAGE, MADV_NOHUGEPAGE);
	mask[node / (8 * sizeof(long))] = 1UL << (node % (8 * sizeof(long)));
	if (syscall(SYS_mbind, mem, pages * PAGE, MPOL_BIND, mask,
		    sizeof(mask) * 8, MPOL_MF_STRICT | MPOL_MF_MOVE)) {
		fprintf(stderr, "mbind to node %lu: %s\n", node, strerror(errno));
		return 1;
	}
	for (i = 0; i < pages; i++) {
		fill(mem + i * PAGE, i);
		counts[kind_of(i)]++;
	}
	printf("ZCXL-DEMO: wrote %lu MiB on node %lu:", mib, node);
	for (k = 0; k < KINDS; k++)
		printf(" %s %lu", kind_name[k], counts[k]);
	printf(" pages\n");
	fflush(stdout);
	for (i = 0; i < pages; i++) {
		fill(expect, i);
		if (memcmp(expect, mem + i * PAGE, PAGE))
			bad++;
	}
	printf("ZCXL-DEMO: read back %lu pages: %lu differ\n", pages, bad);
	fflush(stdout);
	if (hold) {
		printf("ZCXL-DEMO: holding the pages for %lu s\n", hold);
		fflush(stdout);
		sleep(hold);
	}
	return bad ? 1 : 0;
}
