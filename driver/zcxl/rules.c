// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: which CCI commands userspace may send, and when.
 *
 * Userspace reaches the mailbox through two doors: the raw ioctl of
 * /dev/zcxlN (cdev.c) and the CXL memdev's /dev/cxl/memN (cxl.c). Both apply
 * the rules here, so that neither can take what the driver relies on:
 *
 *  - reads, label access and settings that leave media alone: always;
 *  - commands that change media (Inject/Clear Poison, Media Operations other
 *    than Discovery) and opcodes the driver does not know: only while the
 *    window is not added as memory;
 *  - the event-log commands the driver depends on (Clear Event Records, Set
 *    Event Interrupt Policy): never.
 */

#include <linux/errno.h>
#include <linux/kernel.h>

#include "core.h"
#include "uapi/linux/zcxl.h"

#define ZCXL_IN_ANY	ZCXL_CCI_MAX_PAYLOAD
#define ZCXL_RULE(_op, _min, _max, _policy)				\
	{ .opcode = ZCXL_OP_##_op, .in_min = (_min), .in_max = (_max),	\
	  .policy = ZCXL_CCI_##_policy }

/* Input sizes each command takes (specs/device.md §4.2). */
static const struct zcxl_cci_rule zcxl_cci_rules[] = {
	ZCXL_RULE(IDENTIFY, 0, 0, ANY),
	ZCXL_RULE(GET_EVENT_RECORDS, 1, 1, ANY),
	ZCXL_RULE(CLEAR_EVENT_RECORDS, 6, ZCXL_IN_ANY, DRIVER),
	ZCXL_RULE(GET_EVENT_INTERRUPT_POLICY, 0, 0, ANY),
	ZCXL_RULE(SET_EVENT_INTERRUPT_POLICY, 4, 5, DRIVER),
	ZCXL_RULE(GET_FW_INFO, 0, 0, ANY),
	ZCXL_RULE(GET_TIMESTAMP, 0, 0, ANY),
	ZCXL_RULE(SET_TIMESTAMP, 8, 8, ANY),
	ZCXL_RULE(GET_SUPPORTED_LOGS, 0, 0, ANY),
	ZCXL_RULE(GET_LOG, 24, 24, ANY),
	ZCXL_RULE(IDENTIFY_MEMORY_DEVICE, 0, 0, ANY),
	ZCXL_RULE(GET_PARTITION_INFO, 0, 0, ANY),
	ZCXL_RULE(GET_LSA, 8, 8, ANY),
	ZCXL_RULE(SET_LSA, 8, ZCXL_IN_ANY, ANY),
	ZCXL_RULE(GET_HEALTH_INFO, 0, 0, ANY),
	ZCXL_RULE(GET_ALERT_CONFIG, 0, 0, ANY),
	ZCXL_RULE(SET_ALERT_CONFIG, 12, 12, ANY),
	ZCXL_RULE(GET_POISON_LIST, 16, 16, ANY),
	ZCXL_RULE(INJECT_POISON, 8, 8, UNMAPPED),
	ZCXL_RULE(CLEAR_POISON, 72, 72, UNMAPPED),
	ZCXL_RULE(MEDIA_OPERATIONS, 8, ZCXL_IN_ANY, UNMAPPED),
	ZCXL_RULE(GET_COMPRESSION_CAPS, 0, 0, ANY),
	ZCXL_RULE(GET_COMPRESSION_STATS, 0, 0, ANY),
	ZCXL_RULE(GET_WATERMARKS, 0, 0, ANY),
	ZCXL_RULE(SET_WATERMARKS, 4, 4, ANY),
	ZCXL_RULE(GET_COMPRESSION_POLICY, 0, 0, ANY),
	ZCXL_RULE(SET_COMPRESSION_POLICY, 8, 8, ANY),
};

static const struct zcxl_cci_rule zcxl_cci_unknown = {
	.in_max = ZCXL_IN_ANY,
	.policy = ZCXL_CCI_UNMAPPED,
};

/* Media Operations class 0 (Discovery) only reads. */
#define ZCXL_MEDIA_OPS_DISCOVERY	0

/**
 * zcxl_cci_rule() - the rule for an opcode
 * @opcode: CCI opcode
 *
 * Return: the opcode's rule; opcodes the driver does not know get the rule
 * of a command that may change media.
 */
const struct zcxl_cci_rule *zcxl_cci_rule(u16 opcode)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(zcxl_cci_rules); i++)
		if (zcxl_cci_rules[i].opcode == opcode)
			return &zcxl_cci_rules[i];
	return &zcxl_cci_unknown;
}

/**
 * zcxl_cci_policy() - when userspace may send a command
 * @opcode: CCI opcode
 * @in: its input payload
 * @in_len: the payload's length
 *
 * Return: the command's policy, which for Media Operations depends on the
 * operation class in the payload.
 */
enum zcxl_cci_policy zcxl_cci_policy(u16 opcode, const void *in, size_t in_len)
{
	const u8 *bytes = in;

	if (opcode == ZCXL_OP_MEDIA_OPERATIONS && in_len &&
	    bytes[0] == ZCXL_MEDIA_OPS_DISCOVERY)
		return ZCXL_CCI_ANY;
	return zcxl_cci_rule(opcode)->policy;
}

/**
 * zcxl_cci_guarded() - send a command userspace asked for, under its policy
 * @zd: the device
 * @policy: the command's policy (zcxl_cci_policy())
 * @opcode: CCI opcode
 * @in: request payload
 * @in_len: its length
 * @out: room for the response payload
 * @out_size: its size
 * @out_len: set to the payload length the device returned
 * @return_code: set to the device's return code
 * @vendor_status: set to the device's vendor-specific extended status
 *
 * Context: process context; sleeps up to the mailbox timeout.
 * Return: as zcxl_cci_raw(), or -EBUSY for a command the driver owns or one
 * refused while the window is in use.
 */
int zcxl_cci_guarded(struct zcxl_dev *zd, enum zcxl_cci_policy policy,
		     u16 opcode, const void *in, size_t in_len, void *out,
		     size_t out_size, size_t *out_len, u16 *return_code,
		     u16 *vendor_status)
{
	int rc;

	if (policy == ZCXL_CCI_DRIVER)
		return -EBUSY;
	if (policy == ZCXL_CCI_ANY)
		return zcxl_cci_raw(zd, opcode, in, in_len, out, out_size,
				    out_len, return_code, vendor_status);

	/* Holding the window's lock keeps it from being added meanwhile. */
	mutex_lock(&zd->win.lock);
	if (zd->win.state == ZCXL_WIN_ADDED || zd->win.state == ZCXL_WIN_STRANDED)
		rc = -EBUSY;
	else
		rc = zcxl_cci_raw(zd, opcode, in, in_len, out, out_size,
				  out_len, return_code, vendor_status);
	mutex_unlock(&zd->win.lock);
	return rc;
}
