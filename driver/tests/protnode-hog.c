// SPDX-License-Identifier: GPL-2.0
/*
 * protnode-hog MB NODE: allocate and touch MB MiB of anonymous memory,
 * then report on which nodes its pages are.  Fails (exit 1) if any page is
 * on NODE, the protected node that ordinary allocations must never get.
 * Runs with whatever cgroup, cpuset and memory policy it is started in.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BATCH		1024
#define MAX_NODES	64

int main(int argc, char **argv)
{
	size_t mb, nr_pages, i, j, per_node[MAX_NODES] = { 0 }, unknown = 0;
	long page = sysconf(_SC_PAGESIZE);
	void *pages[BATCH];
	int status[BATCH], node;
	char *buf;

	if (argc != 3) {
		fprintf(stderr, "usage: %s MB PROTECTED_NODE\n", argv[0]);
		return 2;
	}
	mb = strtoul(argv[1], NULL, 0);
	node = atoi(argv[2]);
	nr_pages = mb * 1024 * 1024 / page;

	buf = mmap(NULL, nr_pages * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (i = 0; i < nr_pages; i++)
		memset(buf + i * page, (int)(i % 251) + 1, page);

	for (i = 0; i < nr_pages; i += BATCH) {
		size_t n = nr_pages - i < BATCH ? nr_pages - i : BATCH;

		for (j = 0; j < n; j++)
			pages[j] = buf + (i + j) * page;
		if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0)) {
			perror("move_pages");
			return 2;
		}
		for (j = 0; j < n; j++) {
			if (status[j] >= 0 && status[j] < MAX_NODES)
				per_node[status[j]]++;
			else
				unknown++;	/* e.g. swapped out */
		}
	}

	printf("%zu pages:", nr_pages);
	for (i = 0; i < MAX_NODES; i++)
		if (per_node[i])
			printf(" node%zu=%zu", i, per_node[i]);
	printf(" elsewhere=%zu\n", unknown);
	if (node >= 0 && node < MAX_NODES && per_node[node]) {
		printf("FAIL: %zu pages on protected node %d\n", per_node[node],
		       node);
		return 1;
	}
	return 0;
}
