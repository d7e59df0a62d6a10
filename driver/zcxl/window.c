// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: the window — shared memory region 0 (specs/virtio.md §4) — hot-added
 * as memory on one NUMA node.
 *
 * The device maps the window only once the driver has set DRIVER_OK, and
 * says so on the event queue; until then nothing may touch it. The event
 * work then calls zcxl_window_mapped(), which hot-adds it:
 *
 *  - on a kernel with protected memory nodes (MHP_PROTECTED_MEMORY), as
 *    protected memory onlined to ZONE_MOVABLE, so that only allocations that
 *    ask for the node (zswap) get its pages;
 *  - otherwise only if allow_sysram=1, as ordinary System RAM onlined by the
 *    kernel's memory hotplug policy, which must then be online_movable (or
 *    offline, leaving onlining to the administrator).
 *
 * While the window is added the driver holds a reference on its module, so
 * the module cannot go away before remove() has taken the memory back.
 */

#include <linux/delay.h>
#include <linux/ioport.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/numa.h>
#include <linux/virtio_config.h>

#include "core.h"

#define ZCXL_RES_NAME	"System RAM (zcxl)"

/* Windows per node, so that node=-1 picks a node no other window uses. */
static DEFINE_MUTEX(zcxl_nodes_lock);
static unsigned int zcxl_node_windows[MAX_NUMNODES];

/**
 * zcxl_window_find() - locate the window and check its geometry
 * @zd: the device
 *
 * Return: 0, or -ENODEV/-EINVAL for a window the driver cannot use.
 */
int zcxl_window_find(struct zcxl_dev *zd)
{
	struct zcxl_window *win = &zd->win;
	struct device *dev = zcxl_to_dev(zd);
	struct virtio_shm_region region;
	u64 block = memory_block_size_bytes();

	mutex_init(&win->lock);
	win->state = ZCXL_WIN_WAITING;
	win->nid = NUMA_NO_NODE;

	if (!virtio_get_shm_region(zd->vdev, &region, ZCXL_SHM_WINDOW)) {
		dev_err(dev, "the device has no shared memory region %d (the window)\n",
			ZCXL_SHM_WINDOW);
		return -ENODEV;
	}
	if (region.len != zd->cfg.logical_capacity) {
		dev_err(dev, "window is %llu bytes, config space says %llu\n",
			region.len, zd->cfg.logical_capacity);
		return -EINVAL;
	}
	if (!IS_ALIGNED(region.addr | region.len, block)) {
		dev_err(dev, "window %#llx+%#llx is not aligned to the %#llx-byte memory block size\n",
			region.addr, region.len, block);
		return -EINVAL;
	}
	win->start = region.addr;
	win->size = region.len;
	return 0;
}

static bool zcxl_node_free(int nid)
{
	return !node_state(nid, N_MEMORY) && !node_state(nid, N_CPU) &&
	       !zcxl_node_windows[nid];
}

/* Called with zcxl_nodes_lock held. */
static int zcxl_window_pick_node(struct zcxl_dev *zd)
{
	struct device *dev = zcxl_to_dev(zd);
	int nid = READ_ONCE(zcxl_node_param);

	if (nid != NUMA_NO_NODE) {
		if (nid < 0 || nid >= MAX_NUMNODES || !node_possible(nid)) {
			dev_err(dev, "node=%d is not a possible NUMA node; QEMU makes one possible with a memory-less '-numa node,nodeid=N' and '-m SIZE,slots=S,maxmem=MAX'\n",
				nid);
			return -EINVAL;
		}
		return nid;
	}

	/* The highest possible node without memory, CPUs or a window. */
	for (nid = nr_node_ids - 1; nid >= 0; nid--)
		if (node_possible(nid) && zcxl_node_free(nid))
			return nid;

	dev_err(dev, "no memory-less NUMA node is free for the window; give QEMU '-numa node,nodeid=N' without memory and '-m SIZE,slots=S,maxmem=MAX', or pass node=N\n");
	return -ENODEV;
}

#ifdef MHP_PROTECTED_MEMORY

static bool zcxl_window_may_add(struct zcxl_dev *zd)
{
	zd->win.protected = true;
	return true;
}

static int zcxl_window_hot_add(struct zcxl_window *win, int nid)
{
	return __add_memory_driver_managed(nid, win->start, win->size,
					   ZCXL_RES_NAME, MHP_PROTECTED_MEMORY,
					   MMOP_ONLINE_MOVABLE);
}

#else /* !MHP_PROTECTED_MEMORY */

static bool zcxl_window_may_add(struct zcxl_dev *zd)
{
	struct device *dev = zcxl_to_dev(zd);
	int policy = mhp_get_default_online_type();

	zd->win.protected = false;
	if (!READ_ONCE(zcxl_allow_sysram)) {
		dev_err(dev, "window not added: this kernel has no protected memory nodes (MHP_PROTECTED_MEMORY), so the window would become ordinary System RAM that any allocation may use; load zcxl with allow_sysram=1 to add it anyway\n");
		return false;
	}
	if (policy != MMOP_ONLINE_MOVABLE && policy != MMOP_OFFLINE) {
		dev_err(dev, "window not added: the memory hotplug policy '%s' would online it outside ZONE_MOVABLE, from where it could not be taken back; boot with memhp_default_state=online_movable (or write it to /sys/devices/system/memory/auto_online_blocks)\n",
			mhp_online_type_to_str(policy));
		return false;
	}
	return true;
}

static int zcxl_window_hot_add(struct zcxl_window *win, int nid)
{
	return add_memory_driver_managed(nid, win->start, win->size,
					 ZCXL_RES_NAME, MHP_NONE);
}

#endif /* MHP_PROTECTED_MEMORY */

/* Called with win->lock held; returns true if the window was added. */
static bool zcxl_window_add(struct zcxl_dev *zd)
{
	struct zcxl_window *win = &zd->win;
	struct device *dev = zcxl_to_dev(zd);
	struct resource *res;
	int nid, rc;

	if (!zcxl_window_may_add(zd)) {
		win->state = ZCXL_WIN_REFUSED;
		return false;
	}
	/* Fails only while the module is being unloaded. */
	if (!try_module_get(THIS_MODULE)) {
		win->state = ZCXL_WIN_REFUSED;
		return false;
	}

	mutex_lock(&zcxl_nodes_lock);
	nid = zcxl_window_pick_node(zd);
	if (nid < 0) {
		win->state = ZCXL_WIN_REFUSED;
		goto err_unlock;
	}

	res = request_mem_region(win->start, win->size, zd->name);
	if (!res) {
		dev_err(dev, "window %#llx+%#llx is in use by someone else\n",
			win->start, win->size);
		win->state = ZCXL_WIN_FAILED;
		goto err_unlock;
	}
	/* Not busy: the System RAM resource of the hot-add nests below it. */
	res->flags = IORESOURCE_SYSTEM_RAM;

	rc = zcxl_window_hot_add(win, nid);
	if (rc) {
		dev_err(dev, "hot-adding the window to node %d failed: %d\n",
			nid, rc);
		win->state = ZCXL_WIN_FAILED;
		goto err_release;
	}

	win->res = res;
	win->nid = nid;
	zcxl_node_windows[nid]++;
	WRITE_ONCE(win->state, ZCXL_WIN_ADDED);
	mutex_unlock(&zcxl_nodes_lock);

	dev_info(dev, "window %#llx-%#llx (%llu MiB) added to node %d as %s memory\n",
		 win->start, win->start + win->size - 1, win->size >> 20, nid,
		 win->protected ? "protected" : "system");
	if (!zcxl_window_online_blocks(zd))
		dev_notice(dev, "the window's memory blocks are offline (memory hotplug policy); online them with 'echo online_movable > /sys/devices/system/memory/memoryN/state' for N in %llu-%llu\n",
			   win->start / memory_block_size_bytes(),
			   (win->start + win->size) / memory_block_size_bytes() - 1);
	return true;

err_release:
	remove_resource(res);
	kfree(res);
err_unlock:
	mutex_unlock(&zcxl_nodes_lock);
	module_put(THIS_MODULE);
	return false;
}

/**
 * zcxl_window_mapped() - the device reports the window mapped: add it
 * @zd: the device
 *
 * Context: the event work. Does nothing if the window was handled before.
 */
void zcxl_window_mapped(struct zcxl_dev *zd)
{
	bool added = false;

	mutex_lock(&zd->win.lock);
	if (zd->win.state == ZCXL_WIN_WAITING)
		added = zcxl_window_add(zd);
	mutex_unlock(&zd->win.lock);

	if (added) {
		zcxl_zswap_add(zd);
		zcxl_sysfs_notify(zd, "window_state");
		zcxl_notify(zd, ZCXL_EVENT_ONLINE);
	}
}

/**
 * zcxl_window_remove() - offline and remove the window's memory
 * @zd: the device, with its users gone
 *
 * Return: 0, or a negative errno if the memory could not be offlined; the
 * window then stays (stranded) and the device must be left running.
 */
int zcxl_window_remove(struct zcxl_dev *zd)
{
	struct zcxl_window *win = &zd->win;
	int rc, tries;

	mutex_lock(&win->lock);
	if (win->state != ZCXL_WIN_ADDED) {
		mutex_unlock(&win->lock);
		return 0;
	}

	/* Offlining migrates pages; a transient reference can make it fail. */
	for (tries = 0; tries < 3; tries++) {
		rc = offline_and_remove_memory(win->start, win->size);
		if (!rc || rc == -EINTR)
			break;
		msleep(200);
	}
	if (rc) {
		dev_crit(zcxl_to_dev(zd), "the window's memory could not be offlined (%d); it stays, and so does the device, until reboot\n",
			 rc);
		WRITE_ONCE(win->state, ZCXL_WIN_STRANDED);
		mutex_unlock(&win->lock);
		return rc;
	}

	remove_resource(win->res);
	kfree(win->res);
	win->res = NULL;

	mutex_lock(&zcxl_nodes_lock);
	zcxl_node_windows[win->nid]--;
	mutex_unlock(&zcxl_nodes_lock);

	dev_info(zcxl_to_dev(zd), "window removed from node %d\n", win->nid);
	win->nid = NUMA_NO_NODE;
	WRITE_ONCE(win->state, ZCXL_WIN_WAITING);
	mutex_unlock(&win->lock);
	module_put(THIS_MODULE);
	return 0;
}

bool zcxl_window_added(struct zcxl_dev *zd)
{
	return READ_ONCE(zd->win.state) == ZCXL_WIN_ADDED;
}

/**
 * zcxl_window_online_blocks() - count the window's online memory blocks
 * @zd: the device
 *
 * Return: how many of the window's memory blocks are online.
 */
unsigned int zcxl_window_online_blocks(struct zcxl_dev *zd)
{
	unsigned long block_pages = PHYS_PFN(memory_block_size_bytes());
	unsigned long pfn = PHYS_PFN(zd->win.start);
	unsigned long end = pfn + PHYS_PFN(zd->win.size);
	unsigned int online = 0;

	for (; pfn < end; pfn += block_pages)
		if (pfn_to_online_page(pfn))
			online++;
	return online;
}

const char *zcxl_window_state_name(struct zcxl_dev *zd)
{
	unsigned int blocks, online;

	switch (READ_ONCE(zd->win.state)) {
	case ZCXL_WIN_WAITING:
		return "waiting";
	case ZCXL_WIN_ADDED:
		blocks = zd->win.size / memory_block_size_bytes();
		online = zcxl_window_online_blocks(zd);
		if (online == blocks)
			return "online";
		return online ? "partly-online" : "offline";
	case ZCXL_WIN_REFUSED:
		return "refused";
	case ZCXL_WIN_FAILED:
		return "failed";
	case ZCXL_WIN_STRANDED:
		return "stranded";
	}
	return "unknown";
}
