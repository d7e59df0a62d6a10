// SPDX-License-Identifier: GPL-2.0
/*
 * protnode-policy NODE: check that user space cannot place memory on a
 * protected node with memory policies or page migration.
 *
 * Every way a task can ask for a node must refuse NODE, and a mixed mask
 * must never yield a page on it.  Prints one line per check ("ok ..." or
 * "FAIL ...") and exits 1 if any check failed.  Raw syscalls, so it builds
 * statically without libnuma.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_DEFAULT		0
#define MPOL_PREFERRED		1
#define MPOL_BIND		2
#define MPOL_INTERLEAVE		3
#define MPOL_PREFERRED_MANY	5
#define MPOL_F_MEMS_ALLOWED	(1 << 2)
#define MPOL_MF_MOVE		(1 << 1)
#ifndef SYS_set_mempolicy_home_node
#define SYS_set_mempolicy_home_node 450
#endif

#define MAX_NODES	1024
#define MASK_WORDS	(MAX_NODES / (8 * sizeof(unsigned long)))
#define NR_PAGES	256

static int failures;

static void check(int ok, const char *what, int err)
{
	printf("%s %s", ok ? "ok" : "FAIL", what);
	if (!ok && err)
		printf(" (%s)", strerror(err));
	printf("\n");
	failures += !ok;
}

static void mask_of(unsigned long *mask, int a, int b)
{
	memset(mask, 0, MASK_WORDS * sizeof(*mask));
	if (a >= 0)
		mask[a / (8 * sizeof(long))] |= 1UL << (a % (8 * sizeof(long)));
	if (b >= 0)
		mask[b / (8 * sizeof(long))] |= 1UL << (b % (8 * sizeof(long)));
}

static int in_mask(const unsigned long *mask, int n)
{
	return !!(mask[n / (8 * sizeof(long))] & (1UL << (n % (8 * sizeof(long)))));
}

/* A policy naming only the protected node must be refused. */
static void policy_refused(int mode, const char *name, int node)
{
	unsigned long mask[MASK_WORDS];
	char what[80];
	long ret;

	mask_of(mask, node, -1);
	ret = syscall(SYS_set_mempolicy, mode, mask, MAX_NODES);
	snprintf(what, sizeof(what), "set_mempolicy(%s, {%d}) is refused", name,
		 node);
	check(ret == -1 && errno == EINVAL, what, ret == -1 ? errno : 0);
	syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
}

/* Which node holds each page of buf? -1 on error. */
static int count_on_node(char *buf, int node, int *errors)
{
	void *pages[NR_PAGES];
	int status[NR_PAGES], i, n = 0;
	long page = sysconf(_SC_PAGESIZE);

	for (i = 0; i < NR_PAGES; i++)
		pages[i] = buf + i * page;
	if (syscall(SYS_move_pages, 0, NR_PAGES, pages, NULL, status, 0))
		return -1;
	*errors = 0;
	for (i = 0; i < NR_PAGES; i++) {
		if (status[i] < 0)
			(*errors)++;
		else if (status[i] == node)
			n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned long mask[MASK_WORDS], from[MASK_WORDS];
	long page = sysconf(_SC_PAGESIZE);
	int node, sysram_node = 0, on_node, errors, i;
	void *pages[NR_PAGES];
	int nodes[NR_PAGES], status[NR_PAGES];
	char *buf;
	long ret;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PROTECTED_NODE [SYSRAM_NODE]\n", argv[0]);
		return 2;
	}
	node = atoi(argv[1]);
	if (argc > 2)
		sysram_node = atoi(argv[2]);

	policy_refused(MPOL_BIND, "MPOL_BIND", node);
	policy_refused(MPOL_PREFERRED, "MPOL_PREFERRED", node);
	policy_refused(MPOL_PREFERRED_MANY, "MPOL_PREFERRED_MANY", node);
	policy_refused(MPOL_INTERLEAVE, "MPOL_INTERLEAVE", node);

	ret = syscall(SYS_get_mempolicy, NULL, mask, MAX_NODES, NULL,
		      MPOL_F_MEMS_ALLOWED);
	check(ret == 0 && !in_mask(mask, node) && in_mask(mask, sysram_node),
	      "get_mempolicy(MPOL_F_MEMS_ALLOWED) excludes the node", errno);

	buf = mmap(NULL, NR_PAGES * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 2;
	}

	mask_of(mask, node, -1);
	ret = syscall(SYS_mbind, buf, NR_PAGES * page, MPOL_BIND, mask,
		      MAX_NODES, 0);
	check(ret == -1 && errno == EINVAL, "mbind(MPOL_BIND, {node}) is refused",
	      0);

	/* Mixed mask: accepted, but the protected node is never used. */
	mask_of(mask, node, sysram_node);
	ret = syscall(SYS_mbind, buf, NR_PAGES * page, MPOL_INTERLEAVE, mask,
		      MAX_NODES, 0);
	check(ret == 0, "mbind(MPOL_INTERLEAVE, {node, sysram}) is accepted",
	      errno);
	memset(buf, 0x5a, NR_PAGES * page);
	on_node = count_on_node(buf, node, &errors);
	check(on_node == 0 && errors == 0,
	      "interleaving over {node, sysram} puts no page on the node", 0);
	if (on_node)
		printf("  %d of %d pages on node %d\n", on_node, NR_PAGES, node);

	for (i = 0; i < NR_PAGES; i++) {
		pages[i] = buf + i * page;
		nodes[i] = node;
		status[i] = 0;
	}
	/* A target outside the task's nodes fails the call with -EACCES */
	ret = syscall(SYS_move_pages, 0, NR_PAGES, pages, nodes, status,
		      MPOL_MF_MOVE);
	check(ret == -1 && errno == EACCES, "move_pages() to the node: -EACCES",
	      ret == -1 ? errno : 0);
	on_node = count_on_node(buf, node, &errors);
	check(on_node == 0, "no page moved to the node", 0);

	mask_of(from, sysram_node, -1);
	mask_of(mask, node, -1);
	ret = syscall(SYS_migrate_pages, 0, MAX_NODES, from, mask);
	check(ret == -1 && errno == EINVAL, "migrate_pages() to the node is refused",
	      0);
	on_node = count_on_node(buf, node, &errors);
	check(on_node == 0, "no page migrated to the node", 0);

	ret = syscall(SYS_set_mempolicy_home_node, buf, NR_PAGES * page, node, 0);
	check(ret == -1 && errno == EINVAL,
	      "set_mempolicy_home_node(node) is refused", 0);

	printf("%s: %d failed\n", argv[0], failures);
	return failures ? 1 : 0;
}
