/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcxl: the device's wire formats — config space and queues
 * (specs/virtio.md) and the CCI messages the driver itself sends
 * (specs/device.md §3-4). All fields are little-endian.
 */
#ifndef _ZCXL_WIRE_H
#define _ZCXL_WIRE_H

#include <linux/build_bug.h>
#include <linux/types.h>
#include <linux/uuid.h>

/* Config space, specs/virtio.md §2 */
#define ZCXL_MAGIC		0x4c58435a	/* "ZCXL" */
#define ZCXL_CONFIG_VERSION	1

struct zcxl_virtio_config {
	__le32 magic;
	__le16 version;
	__le16 nr_data_queues;
	__le64 serial;
	__le64 logical_capacity;
	__le64 media_capacity;
	__le32 page_size;
	__le32 max_payload;
	__le32 backing_mode;
	__le32 max_ranges;
	__le32 scan_interval_ms;
	u8 reserved[12];
} __packed;
static_assert(sizeof(struct zcxl_virtio_config) == 64);

/* zcxl_virtio_config.backing_mode */
#define ZCXL_BACKING_SHADOW	0
#define ZCXL_BACKING_COMPRESSED	1

/* Virtqueues, specs/virtio.md §3 */
#define ZCXL_VQ_MAILBOX		0
#define ZCXL_VQ_EVENTS		1
#define ZCXL_VQ_DATA0		2
#define ZCXL_MAX_DATA_QUEUES	16

/* Shared memory region holding the window, specs/virtio.md §4 */
#define ZCXL_SHM_WINDOW		0

/* Event queue report, specs/virtio.md §3.2 */
struct zcxl_event_report {
	__le32 pending_logs;
	__le32 status;
} __packed;

#define ZCXL_STATUS_WINDOW_MAPPED	BIT(0)
#define ZCXL_STATUS_PRESSURE		BIT(1)
#define ZCXL_STATUS_POISON		BIT(2)

/* Data queue request, specs/virtio.md §3.3 */
struct zcxl_data_hdr {
	__le16 op;
	__le16 nr_ranges;
	__le32 reserved;
} __packed;

struct zcxl_data_range {
	__le64 dpa;
	__le32 nr_pages;
	__le32 reserved;
} __packed;

#define ZCXL_DATA_MAX_RANGES	256

enum zcxl_data_status {
	ZCXL_DS_OK = 0,
	ZCXL_DS_BAD_RANGE = 1,
	ZCXL_DS_MEDIA_EXHAUSTED = 2,
	ZCXL_DS_POISONED = 3,
	ZCXL_DS_UNSUPPORTED = 4,
	ZCXL_DS_MALFORMED = 5,
	ZCXL_DS_DEVICE_ERROR = 6,
};

/* CCI message header, specs/device.md §4.1 */
struct zcxl_cci_hdr {
	u8 category;
	u8 tag;
	u8 reserved;
	__le16 opcode;
	u8 payload_len[3];	/* bits 19:0 length, 23 background */
	__le16 return_code;
	__le16 vendor_status;
} __packed;
static_assert(sizeof(struct zcxl_cci_hdr) == 12);

#define ZCXL_CCI_REQUEST	0
#define ZCXL_CCI_RESPONSE	1
#define ZCXL_CCI_LEN_MASK	GENMASK(19, 0)

/* Event logs, specs/device.md §3 */
#define ZCXL_NR_EVENT_LOGS	4

struct zcxl_event_record {
	uuid_t uuid;
	u8 length;
	u8 flags[3];
	__le16 handle;
	__le16 related_handle;
	__le64 timestamp;
	u8 maint_class;
	u8 maint_subclass;
	u8 reserved[14];
	u8 data[80];
} __packed;
static_assert(sizeof(struct zcxl_event_record) == 128);

/* zcxl vendor event record data, specs/device.md §3.3 */
#define ZCXL_VENDOR_EVENT_UUID						\
	UUID_INIT(0x28dd5f2d, 0xf06c, 0x4400,				\
		  0x85, 0xb2, 0xdf, 0xa6, 0xfb, 0x42, 0x55, 0x05)

enum zcxl_vendor_event_type {
	ZCXL_VE_WATERMARK_HIGH = 1,
	ZCXL_VE_WATERMARK_LOW = 2,
	ZCXL_VE_MEDIA_EXHAUSTED = 3,
};

struct zcxl_vendor_event {
	u8 type;
	u8 pressure;
	u8 reserved[6];
	__le64 media_used;
	__le64 media_capacity;
	__le64 low_watermark;
	__le64 high_watermark;
	__le64 dpa;
	u8 reserved2[32];
} __packed;
static_assert(sizeof(struct zcxl_vendor_event) == 80);

/* Get Event Records (0100h) output */
#define ZCXL_EVENTS_OVERFLOW	BIT(0)
#define ZCXL_EVENTS_MORE	BIT(1)

struct zcxl_get_events_out {
	u8 flags;
	u8 reserved;
	__le16 overflow_count;
	__le64 first_overflow_ts;
	__le64 last_overflow_ts;
	__le16 record_count;
	u8 reserved2[10];
	struct zcxl_event_record records[];
} __packed;
static_assert(sizeof(struct zcxl_get_events_out) == 32);

/* Clear Event Records (0101h) input */
struct zcxl_clear_events_in {
	u8 log;
	u8 flags;
	u8 nr_handles;
	u8 reserved[3];
	__le16 handles[];
} __packed;

/* Identify (0001h) output */
struct zcxl_identify_out {
	__le16 vendor_id;
	__le16 device_id;
	__le16 subsys_vendor_id;
	__le16 subsys_id;
	__le64 serial;
	u8 max_message_size;
	u8 component_type;
} __packed;
static_assert(sizeof(struct zcxl_identify_out) == 18);

#define ZCXL_COMPONENT_TYPE3	3

/* Get Compression Statistics (C001h) output */
enum zcxl_page_state {
	ZCXL_PAGES_UNWRITTEN,
	ZCXL_PAGES_ZERO,
	ZCXL_PAGES_SAME_FILLED,
	ZCXL_PAGES_COMPRESSED,
	ZCXL_PAGES_RAW,
	ZCXL_PAGES_POISONED,
	ZCXL_NR_PAGE_STATES,
};

struct zcxl_stats_out {
	__le64 media_capacity;
	__le64 media_used;
	__le64 media_free;
	__le64 live_blob_bytes;
	__le64 metadata_bytes;
	__le64 fragmentation_bytes;
	__le64 pages[ZCXL_NR_PAGE_STATES];
	__le64 bytes_in;
	__le64 bytes_out;
	__le32 ratio_milli;
	u8 pressure;
	u8 reserved[3];
	__le32 high_crossings;
	__le32 low_crossings;
	__le32 failed_stores;
	__le32 failure_records_dropped;
	__le64 stores;
	__le64 loads;
	__le64 discarded_pages;
} __packed;
static_assert(sizeof(struct zcxl_stats_out) == 160);

/* Get Watermarks (C002h) output, Set Watermarks (C003h) input */
struct zcxl_watermarks_out {
	u8 low_percent;
	u8 high_percent;
	u8 pressure;
	u8 reserved[5];
	__le64 low_bytes;
	__le64 high_bytes;
} __packed;
static_assert(sizeof(struct zcxl_watermarks_out) == 24);

struct zcxl_watermarks_in {
	u8 low_percent;
	u8 high_percent;
	u8 reserved[2];
} __packed;

/* Set Event Interrupt Policy (0103h): mode MSI, message 0, for each log */
#define ZCXL_EVENT_INT_MSI	1

#endif /* _ZCXL_WIRE_H */
