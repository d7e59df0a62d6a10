// SPDX-License-Identifier: GPL-2.0
/*
 * zswap-workload: write pages that get swapped out, read them back, and
 * check every byte.
 *
 *   zswap-workload -m MB [-p mix|text|random|same|zero] [-f FILE] [-s SEED]
 *                  [-o] [-w PATH] [-r ROUNDS]
 *
 * Fills MB MiB of anonymous memory page by page.  Each page's content is a
 * function of (seed, page index, pattern), or comes from FILE (read
 * cyclically, e.g. a corpus file), so it can be regenerated to verify the
 * page without keeping a copy.  -o pushes the pages out with
 * MADV_PAGEOUT (otherwise a memcg limit or memory pressure does it).  -w
 * prints "WAITING PATH" and waits until PATH exists before verifying, so a
 * test can look at zswap and the device while the pages are out.  -r
 * repeats write+verify ROUNDS times with new seeds.
 *
 * Output: "written N pages (zero Z same S text T random R)", then
 * "verified N pages, M mismatches", then "timing: pageout P ms, verify V ms"
 * (the verify pass swaps every page back in).  Exit 0 only if every page
 * matched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

enum kind { ZERO, SAME, TEXT, RANDOM, NR_KINDS };

static const char *const words[] = {
	"memory", "page", "swap", "device", "compressed", "node", "kernel",
	"the", "of", "and", "a", "to", "in", "is", "that", "for", "with",
	"zswap", "window", "media", "watermark", "ratio", "latency", "cache",
	"protected", "allocation", "reclaim", "writeback", "hint", "discard",
};

static size_t page_size;
static unsigned char *file_data;
static size_t file_len;

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static enum kind kind_of(const char *pattern, uint64_t seed, size_t i)
{
	if (!strcmp(pattern, "zero"))
		return ZERO;
	if (!strcmp(pattern, "same"))
		return SAME;
	if (!strcmp(pattern, "text"))
		return TEXT;
	if (!strcmp(pattern, "random"))
		return RANDOM;
	/* mix: mostly text, some random, a few same-filled and zero pages */
	switch (mix64(seed ^ (i * 0x9e3779b97f4a7c15ULL)) % 16) {
	case 0:
		return ZERO;
	case 1:
	case 2:
		return SAME;
	case 3:
	case 4:
	case 5:
		return RANDOM;
	default:
		return TEXT;
	}
}

static void fill(unsigned char *p, enum kind kind, uint64_t seed, size_t i)
{
	uint64_t x = mix64(seed + i + 1);
	size_t off = 0;

	if (file_data) {
		size_t start = (i * page_size) % file_len, n;

		/* the file read cyclically, in runs up to its end */
		while (off < page_size) {
			n = file_len - start;
			if (n > page_size - off)
				n = page_size - off;
			memcpy(p + off, file_data + start, n);
			off += n;
			start = 0;
		}
		return;
	}

	switch (kind) {
	case ZERO:
		memset(p, 0, page_size);
		break;
	case SAME:
		memset(p, (int)(x % 255) + 1, page_size);
		break;
	case TEXT:
		while (off < page_size) {
			const char *w = words[x % (sizeof(words) / sizeof(*words))];
			size_t len = strlen(w);

			x = mix64(x);
			if (off + len + 1 > page_size)
				len = page_size - off - 1;
			memcpy(p + off, w, len);
			off += len;
			p[off++] = (x & 7) ? ' ' : '\n';
		}
		break;
	case RANDOM:
		for (off = 0; off < page_size; off += sizeof(x)) {
			x = mix64(x);
			memcpy(p + off, &x, sizeof(x));
		}
		break;
	default:
		abort();
	}
}

static int load_file(const char *path)
{
	struct stat st;
	ssize_t got = 0, n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) || st.st_size <= 0)
		return -1;
	file_len = st.st_size;
	file_data = malloc(file_len);
	if (!file_data)
		return -1;
	while ((size_t)got < file_len) {
		n = read(fd, file_data + got, file_len - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	close(fd);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void wait_for(const char *path)
{
	printf("WAITING %s\n", path);
	fflush(stdout);
	while (access(path, F_OK))
		usleep(100 * 1000);
}

int main(int argc, char **argv)
{
	const char *pattern = "mix", *wait_path = NULL;
	size_t mb = 64, nr_pages, i, mismatches = 0, counts[NR_KINDS] = { 0 };
	const char *file_path = NULL;
	uint64_t seed = 1;
	int pageout = 0, rounds = 1, round, opt;
	long long t0, pageout_ms = 0, verify_ms;
	unsigned char *buf, *expect;

	while ((opt = getopt(argc, argv, "m:p:f:s:ow:r:")) != -1) {
		switch (opt) {
		case 'm':
			mb = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			pattern = optarg;
			break;
		case 'f':
			file_path = optarg;
			if (load_file(optarg)) {
				fprintf(stderr, "cannot read %s\n", optarg);
				return 2;
			}
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			pageout = 1;
			break;
		case 'w':
			wait_path = optarg;
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s -m MB [-p mix|text|random|same|zero] [-f FILE] [-s SEED] [-o] [-w PATH] [-r ROUNDS]\n",
				argv[0]);
			return 2;
		}
	}

	page_size = sysconf(_SC_PAGESIZE);
	nr_pages = mb * 1024 * 1024 / page_size;
	buf = mmap(NULL, nr_pages * page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect = malloc(page_size);
	if (buf == MAP_FAILED || !expect) {
		perror("mmap");
		return 2;
	}

	for (round = 0; round < rounds; round++, seed = mix64(seed)) {
		memset(counts, 0, sizeof(counts));
		for (i = 0; i < nr_pages; i++) {
			enum kind k = kind_of(pattern, seed, i);

			fill(buf + i * page_size, k, seed, i);
			counts[k]++;
		}
		if (file_path)
			printf("written %zu pages from %s\n", nr_pages, file_path);
		else
			printf("written %zu pages (zero %zu same %zu text %zu random %zu)\n",
			       nr_pages, counts[ZERO], counts[SAME],
			       counts[TEXT], counts[RANDOM]);
		fflush(stdout);

		t0 = now_ms();
		if (pageout && madvise(buf, nr_pages * page_size, MADV_PAGEOUT))
			perror("madvise(MADV_PAGEOUT)");
		pageout_ms = now_ms() - t0;
		if (wait_path)
			wait_for(wait_path);

		t0 = now_ms();
		mismatches = 0;
		for (i = 0; i < nr_pages; i++) {
			fill(expect, kind_of(pattern, seed, i), seed, i);
			if (memcmp(expect, buf + i * page_size, page_size)) {
				if (mismatches < 10)
					printf("mismatch at page %zu\n", i);
				mismatches++;
			}
		}
		verify_ms = now_ms() - t0;
		printf("verified %zu pages, %zu mismatches\n", nr_pages,
		       mismatches);
		printf("timing: pageout %lld ms, verify %lld ms\n", pageout_ms,
		       verify_ms);
		fflush(stdout);
		if (mismatches)
			return 1;
	}
	return 0;
}
