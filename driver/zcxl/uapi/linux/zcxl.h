/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zcxl: userspace interface of the zcxl compressed-memory device driver.
 *
 * Each bound device has a character device /dev/zcxlN. Its ioctls need
 * CAP_SYS_ADMIN. ZCXL_IOC_CCI sends one CXL CCI command (specs/device.md §4)
 * over the device's mailbox; the driver validates every size before anything
 * reaches the device and refuses commands that would change media while
 * the window is in use as memory. The same rules apply to the device's CXL
 * memdev (/dev/cxl/memN), where the driver registers one.
 */
#ifndef _UAPI_LINUX_ZCXL_H
#define _UAPI_LINUX_ZCXL_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* Largest CCI payload in either direction (specs/virtio.md §2). */
#define ZCXL_CCI_MAX_PAYLOAD	4096

/* CCI opcodes (specs/device.md §4.2). */
#define ZCXL_OP_IDENTIFY			0x0001
#define ZCXL_OP_GET_EVENT_RECORDS		0x0100
#define ZCXL_OP_CLEAR_EVENT_RECORDS		0x0101
#define ZCXL_OP_GET_EVENT_INTERRUPT_POLICY	0x0102
#define ZCXL_OP_SET_EVENT_INTERRUPT_POLICY	0x0103
#define ZCXL_OP_GET_FW_INFO			0x0200
#define ZCXL_OP_GET_TIMESTAMP			0x0300
#define ZCXL_OP_SET_TIMESTAMP			0x0301
#define ZCXL_OP_GET_SUPPORTED_LOGS		0x0400
#define ZCXL_OP_GET_LOG				0x0401
#define ZCXL_OP_IDENTIFY_MEMORY_DEVICE		0x4000
#define ZCXL_OP_GET_PARTITION_INFO		0x4100
#define ZCXL_OP_GET_LSA				0x4102
#define ZCXL_OP_SET_LSA				0x4103
#define ZCXL_OP_GET_HEALTH_INFO			0x4200
#define ZCXL_OP_GET_ALERT_CONFIG		0x4201
#define ZCXL_OP_SET_ALERT_CONFIG		0x4202
#define ZCXL_OP_GET_POISON_LIST			0x4300
#define ZCXL_OP_INJECT_POISON			0x4301
#define ZCXL_OP_CLEAR_POISON			0x4302
#define ZCXL_OP_MEDIA_OPERATIONS		0x4402
#define ZCXL_OP_GET_COMPRESSION_CAPS		0xc000
#define ZCXL_OP_GET_COMPRESSION_STATS		0xc001
#define ZCXL_OP_GET_WATERMARKS			0xc002
#define ZCXL_OP_SET_WATERMARKS			0xc003
#define ZCXL_OP_GET_COMPRESSION_POLICY		0xc004
#define ZCXL_OP_SET_COMPRESSION_POLICY		0xc005

/* CCI return codes the device uses (CXL 3.1 Table 8-34). */
#define ZCXL_RC_SUCCESS				0x00
#define ZCXL_RC_BACKGROUND_STARTED		0x01
#define ZCXL_RC_INVALID_INPUT			0x02
#define ZCXL_RC_UNSUPPORTED			0x03
#define ZCXL_RC_INTERNAL_ERROR			0x04
#define ZCXL_RC_RETRY_REQUIRED			0x05
#define ZCXL_RC_BUSY				0x06
#define ZCXL_RC_MEDIA_DISABLED			0x07
#define ZCXL_RC_INVALID_HANDLE			0x0e
#define ZCXL_RC_INVALID_PHYSICAL_ADDRESS	0x0f
#define ZCXL_RC_INJECT_POISON_LIMIT_REACHED	0x10
#define ZCXL_RC_PERMANENT_MEDIA_FAILURE		0x11
#define ZCXL_RC_INVALID_PAYLOAD_LENGTH		0x16
#define ZCXL_RC_INVALID_LOG			0x17
#define ZCXL_RC_RESOURCES_EXHAUSTED		0x1d

/**
 * struct zcxl_cci_cmd - one raw CCI command (ZCXL_IOC_CCI)
 * @opcode: in: the command's opcode (ZCXL_OP_*)
 * @return_code: out: the device's return code (ZCXL_RC_*)
 * @vendor_status: out: the device's vendor-specific extended status
 * @reserved: must be zero
 * @flags: must be zero
 * @in_size: in: payload bytes at @in_payload, at most ZCXL_CCI_MAX_PAYLOAD
 * @out_size: in: room at @out_payload, at most ZCXL_CCI_MAX_PAYLOAD;
 *	out: length of the payload the device returned. When that is more
 *	than the room given, only the room was filled.
 * @reserved2: must be zero
 * @in_payload: in: user pointer to the request payload
 * @out_payload: in: user pointer to room for the response payload
 *
 * The ioctl returns 0 when the device answered, whatever its return code;
 * -EINVAL for a malformed struct or a size the command does not take,
 * -EBUSY for a command the driver owns or one that is refused while the
 * window is in use, -EIO once the device has failed.
 */
struct zcxl_cci_cmd {
	__u16 opcode;
	__u16 return_code;
	__u16 vendor_status;
	__u16 reserved;
	__u32 flags;
	__u32 in_size;
	__u32 out_size;
	__u32 reserved2;
	__aligned_u64 in_payload;
	__aligned_u64 out_payload;
};

/* zcxl_info.state bits */
#define ZCXL_STATE_FAILED	_BITUL(0)	/* the device stopped answering */
#define ZCXL_STATE_PRESSURE	_BITUL(1)	/* media use above the high watermark */
#define ZCXL_STATE_WINDOW_ADDED	_BITUL(2)	/* the window is hot-added as memory */
#define ZCXL_STATE_PROTECTED	_BITUL(3)	/* ... on a protected node */

/**
 * struct zcxl_info - what the driver knows of a device (ZCXL_IOC_INFO)
 * @serial: device serial number
 * @logical_capacity: window size in bytes (L)
 * @media_capacity: media bytes (M)
 * @window_start: physical address of the window, 0 when it has none
 * @node: NUMA node of the window, -1 while it is not added
 * @state: ZCXL_STATE_* bits
 * @nr_data_queues: number of data queues
 * @max_payload: largest CCI payload the device takes
 * @backing_mode: 0 shadow, 1 compressed (specs/virtio.md §4)
 * @reserved: zero
 */
struct zcxl_info {
	__u64 serial;
	__u64 logical_capacity;
	__u64 media_capacity;
	__u64 window_start;
	__s32 node;
	__u32 state;
	__u32 nr_data_queues;
	__u32 max_payload;
	__u32 backing_mode;
	__u32 reserved[5];
};

#define ZCXL_IOC_MAGIC	'Z'
#define ZCXL_IOC_INFO	_IOR(ZCXL_IOC_MAGIC, 0x40, struct zcxl_info)
#define ZCXL_IOC_CCI	_IOWR(ZCXL_IOC_MAGIC, 0x41, struct zcxl_cci_cmd)

#endif /* _UAPI_LINUX_ZCXL_H */
