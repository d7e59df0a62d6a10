// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl-cci: send CCI commands to a zcxl device and print the answers as
 * key=value lines (for shell checks and people).
 *
 *   zcxl-cci [-d /dev/zcxlN | -c /dev/cxl/memN] [--drop-privileges] COMMAND
 *
 *   COMMAND: info | identify | imd | caps | stats | health | timestamp | cel |
 *            watermarks | set-watermarks LOW HIGH | raw OPCODE [HEX] |
 *            check-rules | query
 *
 * -d sends through the zcxl driver's ioctl (the default, /dev/zcxl0); -c
 * through the Linux CXL memdev the driver registers (CXL_MEM_SEND_COMMAND:
 * the kernel's typed command where it has one, else its raw command). A
 * device given as fd:N is the caller's open descriptor N. info
 * and check-rules need -d, query (the commands the CXL core enabled) -c.
 * --drop-privileges switches to uid/gid 65534 once the device is open (to
 * check that the ioctls need CAP_SYS_ADMIN, not just an open file).
 * check-rules sends malformed and forbidden requests and checks that the
 * driver refuses each with the right errno before the device sees it.
 *
 * Exit status: 0 when the command succeeded, 1 when the device returned an
 * error code (printed as return_code=), 2 for a usage or ioctl error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/cxl_mem.h>
#include <linux/zcxl.h>

/* linux/cxl_mem.h uses BIT() without defining it for userspace. */
#ifndef BIT
#define BIT(n)		(1U << (n))
#endif

#define CAPACITY_UNIT	(256ULL << 20)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int fd = -1;
static int via_cxl;	/* fd is a CXL memdev, not /dev/zcxlN */

/* The kernel's typed CXL commands (linux/cxl_mem.h) and their opcodes. */
static const struct {
	__u32 id;
	__u16 opcode;
} cxl_typed[] = {
	{ CXL_MEM_COMMAND_ID_IDENTIFY, ZCXL_OP_IDENTIFY_MEMORY_DEVICE },
	{ CXL_MEM_COMMAND_ID_GET_SUPPORTED_LOGS, ZCXL_OP_GET_SUPPORTED_LOGS },
	{ CXL_MEM_COMMAND_ID_GET_FW_INFO, ZCXL_OP_GET_FW_INFO },
	{ CXL_MEM_COMMAND_ID_GET_PARTITION_INFO, ZCXL_OP_GET_PARTITION_INFO },
	{ CXL_MEM_COMMAND_ID_GET_LSA, ZCXL_OP_GET_LSA },
	{ CXL_MEM_COMMAND_ID_GET_HEALTH_INFO, ZCXL_OP_GET_HEALTH_INFO },
	{ CXL_MEM_COMMAND_ID_GET_LOG, ZCXL_OP_GET_LOG },
	{ CXL_MEM_COMMAND_ID_SET_PARTITION_INFO, 0x4101 },
	{ CXL_MEM_COMMAND_ID_SET_LSA, ZCXL_OP_SET_LSA },
	{ CXL_MEM_COMMAND_ID_GET_ALERT_CONFIG, ZCXL_OP_GET_ALERT_CONFIG },
	{ CXL_MEM_COMMAND_ID_SET_ALERT_CONFIG, ZCXL_OP_SET_ALERT_CONFIG },
	{ CXL_MEM_COMMAND_ID_GET_SHUTDOWN_STATE, 0x4203 },
	{ CXL_MEM_COMMAND_ID_SET_SHUTDOWN_STATE, 0x4204 },
	{ CXL_MEM_COMMAND_ID_GET_SCAN_MEDIA_CAPS, 0x4303 },
	{ CXL_MEM_COMMAND_ID_GET_TIMESTAMP, ZCXL_OP_GET_TIMESTAMP },
	{ CXL_MEM_COMMAND_ID_GET_LOG_CAPS, 0x0402 },
	{ CXL_MEM_COMMAND_ID_CLEAR_LOG, 0x0403 },
	{ CXL_MEM_COMMAND_ID_GET_SUP_LOG_SUBLIST, 0x0405 },
};

/*
 * One command through the chosen device; fills the return code, vendor
 * status and payload length. Returns the ioctl's result (errno on -1).
 */
static int transport(__u16 opcode, const void *in, size_t in_size, void *out,
		     size_t out_size, __u16 *return_code, __u16 *vendor_status,
		     __u32 *out_len)
{
	struct cxl_send_command send = {
		.id = CXL_MEM_COMMAND_ID_RAW,
		.raw.opcode = opcode,
		.in.size = in_size,
		.in.payload = (unsigned long)in,
		.out.size = out_size,
		.out.payload = (unsigned long)out,
	};
	struct zcxl_cci_cmd cmd = {
		.opcode = opcode,
		.in_size = in_size,
		.out_size = out_size,
		.in_payload = (unsigned long)in,
		.out_payload = (unsigned long)out,
	};
	size_t i;

	if (!via_cxl) {
		if (ioctl(fd, ZCXL_IOC_CCI, &cmd))
			return -1;
		*return_code = cmd.return_code;
		*vendor_status = cmd.vendor_status;
		*out_len = cmd.out_size;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(cxl_typed); i++) {
		if (cxl_typed[i].opcode == opcode) {
			send.id = cxl_typed[i].id;
			send.raw.opcode = 0;
		}
	}
	if (ioctl(fd, CXL_MEM_SEND_COMMAND, &send))
		return -1;
	*return_code = send.retval;
	*vendor_status = 0;	/* the CXL ioctl does not pass it on */
	*out_len = send.out.size;
	return 0;
}

static __u16 le16(const __u8 *p)
{
	return p[0] | p[1] << 8;
}

static __u32 le24(const __u8 *p)
{
	return p[0] | p[1] << 8 | (__u32)p[2] << 16;
}

static __u32 le32(const __u8 *p)
{
	return le16(p) | (__u32)le16(p + 2) << 16;
}

static __u64 le64(const __u8 *p)
{
	return le32(p) | (__u64)le32(p + 4) << 32;
}

/* Sends one command; returns the payload length, exits on failure. */
static size_t send_cmd(__u16 opcode, const void *in, size_t in_size,
		       __u8 *out, size_t out_size, size_t expect)
{
	__u16 return_code, vendor_status;
	__u32 len;

	if (transport(opcode, in, in_size, out, out_size, &return_code,
		      &vendor_status, &len)) {
		fprintf(stderr, "zcxl-cci: opcode %#06x: %s\n", opcode,
			strerror(errno));
		exit(2);
	}
	if (return_code) {
		printf("return_code=%#x\n", return_code);
		exit(1);
	}
	if (expect && len != expect) {
		fprintf(stderr, "zcxl-cci: opcode %#06x: %u-byte payload, expected %zu\n",
			opcode, len, expect);
		exit(2);
	}
	return len;
}

static void print_text(const char *key, const __u8 *p, size_t n)
{
	size_t i;

	printf("%s=", key);
	for (i = 0; i < n && p[i]; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?');
	putchar('\n');
}

static int cmd_info(void)
{
	struct zcxl_info info;

	if (ioctl(fd, ZCXL_IOC_INFO, &info)) {
		perror("zcxl-cci: ZCXL_IOC_INFO");
		return 2;
	}
	printf("serial=%llu\n", (unsigned long long)info.serial);
	printf("logical_capacity=%llu\n",
	       (unsigned long long)info.logical_capacity);
	printf("media_capacity=%llu\n", (unsigned long long)info.media_capacity);
	printf("window_start=%#llx\n", (unsigned long long)info.window_start);
	printf("node=%d\n", info.node);
	printf("failed=%d\n", !!(info.state & ZCXL_STATE_FAILED));
	printf("pressure=%d\n", !!(info.state & ZCXL_STATE_PRESSURE));
	printf("window_added=%d\n", !!(info.state & ZCXL_STATE_WINDOW_ADDED));
	printf("protected=%d\n", !!(info.state & ZCXL_STATE_PROTECTED));
	printf("data_queues=%u\n", info.nr_data_queues);
	printf("max_payload=%u\n", info.max_payload);
	printf("backing=%s\n", info.backing_mode ? "compressed" : "shadow");
	return 0;
}

static int cmd_identify(void)
{
	__u8 o[18];

	send_cmd(ZCXL_OP_IDENTIFY, NULL, 0, o, sizeof(o), sizeof(o));
	printf("vendor_id=%#06x\n", le16(o));
	printf("device_id=%#06x\n", le16(o + 2));
	printf("subsys_vendor_id=%#06x\n", le16(o + 4));
	printf("subsys_id=%#06x\n", le16(o + 6));
	printf("serial=%llu\n", (unsigned long long)le64(o + 8));
	printf("max_message_size=%u\n", o[16]);
	printf("component_type=%u\n", o[17]);
	return 0;
}

static int cmd_imd(void)
{
	__u8 o[69];

	send_cmd(ZCXL_OP_IDENTIFY_MEMORY_DEVICE, NULL, 0, o, sizeof(o), sizeof(o));
	print_text("fw_revision", o, 16);
	printf("total_capacity=%llu\n",
	       (unsigned long long)(le64(o + 0x10) * CAPACITY_UNIT));
	printf("volatile_capacity=%llu\n",
	       (unsigned long long)(le64(o + 0x18) * CAPACITY_UNIT));
	printf("persistent_capacity=%llu\n",
	       (unsigned long long)(le64(o + 0x20) * CAPACITY_UNIT));
	printf("partition_align=%llu\n",
	       (unsigned long long)(le64(o + 0x28) * CAPACITY_UNIT));
	printf("info_log_size=%u\n", le16(o + 0x30));
	printf("warning_log_size=%u\n", le16(o + 0x32));
	printf("failure_log_size=%u\n", le16(o + 0x34));
	printf("fatal_log_size=%u\n", le16(o + 0x36));
	printf("lsa_size=%u\n", le32(o + 0x38));
	printf("poison_list_max=%u\n", le24(o + 0x3c));
	printf("inject_poison_limit=%u\n", le16(o + 0x3f));
	printf("poison_caps=%u\n", o[0x41]);
	printf("qos_caps=%u\n", o[0x42]);
	printf("dc_event_log_size=%u\n", le16(o + 0x43));
	return 0;
}

static int cmd_caps(void)
{
	__u8 o[32];

	send_cmd(ZCXL_OP_GET_COMPRESSION_CAPS, NULL, 0, o, sizeof(o), sizeof(o));
	printf("version=%u\n", o[0]);
	printf("page_shift=%u\n", o[1]);
	printf("codecs=%#x\n", le16(o + 2));
	printf("zstd_level_min=%u\n", o[4]);
	printf("zstd_level_max=%u\n", o[5]);
	printf("metadata_bytes_per_page=%u\n", le16(o + 6));
	printf("logical_capacity=%llu\n", (unsigned long long)le64(o + 8));
	printf("media_capacity=%llu\n", (unsigned long long)le64(o + 0x10));
	printf("slab_size=%u\n", le32(o + 0x18));
	printf("size_class_granule=%u\n", le16(o + 0x1c));
	return 0;
}

static int cmd_stats(void)
{
	static const char *const u64s[] = {
		"media_capacity", "media_used", "media_free",
		"live_blob_bytes", "metadata_bytes", "fragmentation_bytes",
		"pages_unwritten", "pages_zero", "pages_same_filled",
		"pages_compressed", "pages_raw", "pages_poisoned",
		"bytes_in", "bytes_out",
	};
	__u8 o[160];
	size_t i;

	send_cmd(ZCXL_OP_GET_COMPRESSION_STATS, NULL, 0, o, sizeof(o), sizeof(o));
	for (i = 0; i < ARRAY_SIZE(u64s); i++)
		printf("%s=%llu\n", u64s[i], (unsigned long long)le64(o + 8 * i));
	printf("ratio_milli=%u\n", le32(o + 0x70));
	printf("pressure=%u\n", o[0x74]);
	printf("high_crossings=%u\n", le32(o + 0x78));
	printf("low_crossings=%u\n", le32(o + 0x7c));
	printf("failed_stores=%u\n", le32(o + 0x80));
	printf("failure_records_dropped=%u\n", le32(o + 0x84));
	printf("stores=%llu\n", (unsigned long long)le64(o + 0x88));
	printf("loads=%llu\n", (unsigned long long)le64(o + 0x90));
	printf("discarded_pages=%llu\n", (unsigned long long)le64(o + 0x98));
	return 0;
}

static int cmd_health(void)
{
	__u8 o[18];

	send_cmd(ZCXL_OP_GET_HEALTH_INFO, NULL, 0, o, sizeof(o), sizeof(o));
	printf("health_status=%#x\n", o[0]);
	printf("media_status=%#x\n", o[1]);
	printf("additional_status=%#x\n", o[2]);
	printf("life_used=%u\n", o[3]);
	printf("temperature=%u\n", le16(o + 4));
	printf("dirty_shutdowns=%u\n", le32(o + 6));
	printf("corrected_volatile_errors=%u\n", le32(o + 0xa));
	printf("corrected_persistent_errors=%u\n", le32(o + 0xe));
	return 0;
}

static int cmd_timestamp(void)
{
	__u8 o[8];

	send_cmd(ZCXL_OP_GET_TIMESTAMP, NULL, 0, o, sizeof(o), sizeof(o));
	printf("timestamp_ns=%llu\n", (unsigned long long)le64(o));
	return 0;
}

/* The Command Effects Log: the opcodes the device implements. */
static int cmd_cel(void)
{
	static const __u8 cel_uuid[16] = {
		0x0d, 0xa9, 0xc0, 0xb5, 0xbf, 0x41, 0x4b, 0x78,
		0x8f, 0x79, 0x96, 0xb1, 0x62, 0x3b, 0x3f, 0x17,
	};
	static __u8 o[ZCXL_CCI_MAX_PAYLOAD];
	__u8 in[24] = { 0 };
	__u32 size = 0;
	size_t n, i;

	n = send_cmd(ZCXL_OP_GET_SUPPORTED_LOGS, NULL, 0, o, sizeof(o), 0);
	for (i = 0; 8 + 20 * (i + 1) <= n && i < le16(o); i++)
		if (!memcmp(o + 8 + 20 * i, cel_uuid, sizeof(cel_uuid)))
			size = le32(o + 8 + 20 * i + 16);
	if (!size || size > sizeof(o)) {
		fprintf(stderr, "zcxl-cci: no usable CEL in Get Supported Logs\n");
		return 2;
	}
	memcpy(in, cel_uuid, sizeof(cel_uuid));
	in[20] = size & 0xff;
	in[21] = size >> 8;
	send_cmd(ZCXL_OP_GET_LOG, in, sizeof(in), o, sizeof(o), size);
	printf("cel=");
	for (i = 0; i + 4 <= size; i += 4)
		printf("%s%#06x", i ? "," : "", le16(o + i));
	putchar('\n');
	return 0;
}

/* The typed commands the CXL core enabled for this memdev. */
static int cmd_query(void)
{
	struct cxl_mem_query_commands head = { 0 }, *q;
	__u32 n, i, j;
	int first = 1;

	if (ioctl(fd, CXL_MEM_QUERY_COMMANDS, &head)) {
		perror("zcxl-cci: CXL_MEM_QUERY_COMMANDS");
		return 2;
	}
	n = head.n_commands;
	q = calloc(1, sizeof(*q) + n * sizeof(q->commands[0]));
	if (!q)
		return 2;
	q->n_commands = n;
	if (ioctl(fd, CXL_MEM_QUERY_COMMANDS, q)) {
		perror("zcxl-cci: CXL_MEM_QUERY_COMMANDS");
		return 2;
	}
	printf("enabled=");
	for (i = 0; i < q->n_commands && i < n; i++) {
		if (!(q->commands[i].flags & CXL_MEM_COMMAND_FLAG_ENABLED))
			continue;
		for (j = 0; j < ARRAY_SIZE(cxl_typed); j++) {
			if (cxl_typed[j].id != q->commands[i].id)
				continue;
			printf("%s%#06x", first ? "" : ",", cxl_typed[j].opcode);
			first = 0;
		}
	}
	putchar('\n');
	printf("known=");
	for (j = 0; j < ARRAY_SIZE(cxl_typed); j++)
		printf("%s%#06x", j ? "," : "", cxl_typed[j].opcode);
	putchar('\n');
	free(q);
	return 0;
}

static int cmd_watermarks(void)
{
	__u8 o[24];

	send_cmd(ZCXL_OP_GET_WATERMARKS, NULL, 0, o, sizeof(o), sizeof(o));
	printf("low_percent=%u\n", o[0]);
	printf("high_percent=%u\n", o[1]);
	printf("pressure=%u\n", o[2]);
	printf("low_bytes=%llu\n", (unsigned long long)le64(o + 8));
	printf("high_bytes=%llu\n", (unsigned long long)le64(o + 16));
	return 0;
}

static int cmd_set_watermarks(const char *low, const char *high)
{
	__u8 in[4] = { (__u8)atoi(low), (__u8)atoi(high), 0, 0 };

	send_cmd(ZCXL_OP_SET_WATERMARKS, in, sizeof(in), NULL, 0, 0);
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int cmd_raw(const char *op, const char *hex)
{
	static __u8 in[ZCXL_CCI_MAX_PAYLOAD], out[ZCXL_CCI_MAX_PAYLOAD];
	__u16 opcode, return_code, vendor_status;
	size_t n = 0, i;
	__u32 len;
	char *end;

	opcode = strtoul(op, &end, 0);
	if (*end) {
		fprintf(stderr, "zcxl-cci: bad opcode %s\n", op);
		return 2;
	}
	for (; hex && hex[0] && hex[1]; hex += 2) {
		if (hexval(hex[0]) < 0 || hexval(hex[1]) < 0 || n == sizeof(in)) {
			fprintf(stderr, "zcxl-cci: bad hex payload\n");
			return 2;
		}
		in[n++] = hexval(hex[0]) << 4 | hexval(hex[1]);
	}
	if (transport(opcode, in, n, out, sizeof(out), &return_code,
		      &vendor_status, &len)) {
		fprintf(stderr, "zcxl-cci: opcode %#06x: %s\n", opcode,
			strerror(errno));
		return 2;
	}
	printf("return_code=%#x\n", return_code);
	printf("vendor_status=%#x\n", vendor_status);
	printf("payload_len=%u\n", len);
	printf("payload=");
	for (i = 0; i < len && i < sizeof(out); i++)
		printf("%02x", out[i]);
	putchar('\n');
	return return_code ? 1 : 0;
}

/* One request check-rules sends, and the errno the driver must answer. */
struct rule_case {
	const char *what;
	__u16 opcode;
	__u16 reserved;
	__u32 flags;
	__u32 reserved2;
	__u32 in_size;
	__u32 out_size;		/* 0: the largest payload */
	__u8 in[12];		/* first input bytes, the rest zero */
	int bad_in;		/* input pointer not mapped */
	int bad_out;		/* output pointer not mapped */
	int window_added;	/* only while the window is added */
	int want;
};

static const struct rule_case rule_cases[] = {
	{ .what = "Identify", .opcode = ZCXL_OP_IDENTIFY },
	{ .what = "flags set", .opcode = ZCXL_OP_IDENTIFY, .flags = 1, .want = EINVAL },
	{ .what = "reserved set", .opcode = ZCXL_OP_IDENTIFY, .reserved = 1, .want = EINVAL },
	{ .what = "reserved2 set", .opcode = ZCXL_OP_IDENTIFY, .reserved2 = 1, .want = EINVAL },
	{ .what = "Identify with 1 input byte", .opcode = ZCXL_OP_IDENTIFY, .in_size = 1,
	  .want = EINVAL },
	{ .what = "input over the largest payload", .opcode = ZCXL_OP_SET_LSA,
	  .in_size = ZCXL_CCI_MAX_PAYLOAD + 1, .want = EINVAL },
	{ .what = "output room over the largest payload", .opcode = ZCXL_OP_IDENTIFY,
	  .out_size = ZCXL_CCI_MAX_PAYLOAD + 1, .want = EINVAL },
	{ .what = "Get Log with 23 input bytes", .opcode = ZCXL_OP_GET_LOG, .in_size = 23,
	  .want = EINVAL },
	{ .what = "input at a bad address", .opcode = ZCXL_OP_GET_EVENT_RECORDS, .in_size = 1,
	  .bad_in = 1, .want = EFAULT },
	{ .what = "output at a bad address", .opcode = ZCXL_OP_IDENTIFY, .bad_out = 1,
	  .want = EFAULT },
	{ .what = "Clear Event Records (all)", .opcode = ZCXL_OP_CLEAR_EVENT_RECORDS,
	  .in_size = 6, .in = { 0, 1 }, .want = EBUSY },
	{ .what = "Set Event Interrupt Policy", .opcode = ZCXL_OP_SET_EVENT_INTERRUPT_POLICY,
	  .in_size = 4, .want = EBUSY },
	{ .what = "Inject Poison, window added", .opcode = ZCXL_OP_INJECT_POISON, .in_size = 8,
	  .window_added = 1, .want = EBUSY },
	{ .what = "Set LSA (no data), window added", .opcode = ZCXL_OP_SET_LSA, .in_size = 8,
	  .window_added = 1 },
	{ .what = "Media Operations Zero, window added", .opcode = ZCXL_OP_MEDIA_OPERATIONS,
	  .in_size = 8, .in = { 1, 1 }, .window_added = 1, .want = EBUSY },
	{ .what = "Media Operations Discovery, window added", .opcode = ZCXL_OP_MEDIA_OPERATIONS,
	  .in_size = 12, .in = { [10] = 2 }, .window_added = 1 },
	{ .what = "unknown opcode, window added", .opcode = 0x9999, .window_added = 1,
	  .want = EBUSY },
};

static int cmd_check_rules(void)
{
	static __u8 in[ZCXL_CCI_MAX_PAYLOAD + 1], out[ZCXL_CCI_MAX_PAYLOAD];
	const struct rule_case *rc;
	struct zcxl_cci_cmd c;
	struct zcxl_info info;
	int bad = 0, got;
	size_t i;

	if (ioctl(fd, ZCXL_IOC_INFO, &info)) {
		perror("zcxl-cci: ZCXL_IOC_INFO");
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(rule_cases); i++) {
		rc = &rule_cases[i];
		if (rc->window_added && !(info.state & ZCXL_STATE_WINDOW_ADDED))
			continue;
		memset(in, 0, sizeof(in));
		memcpy(in, rc->in, sizeof(rc->in));
		c = (struct zcxl_cci_cmd) {
			.opcode = rc->opcode,
			.reserved = rc->reserved,
			.flags = rc->flags,
			.reserved2 = rc->reserved2,
			.in_size = rc->in_size,
			.out_size = rc->out_size ? rc->out_size : sizeof(out),
			.in_payload = rc->bad_in ? 8 : (unsigned long)in,
			.out_payload = rc->bad_out ? 8 : (unsigned long)out,
		};
		got = ioctl(fd, ZCXL_IOC_CCI, &c) ? errno : 0;
		printf("%s: %s", rc->what, got ? strerror(got) : "accepted");
		if (got != rc->want) {
			printf(", expected %s",
			       rc->want ? strerror(rc->want) : "accepted");
			bad = 1;
		}
		putchar('\n');
	}
	got = ioctl(fd, _IO(ZCXL_IOC_MAGIC, 0x7f)) ? errno : 0;
	printf("unknown ioctl: %s\n", strerror(got));
	bad |= got != ENOTTY;
	printf("result=%s\n", bad ? "FAIL" : "ok");
	return bad;
}

static int print_usage(void)
{
	fprintf(stderr, "usage: zcxl-cci [-d /dev/zcxlN | -c /dev/cxl/memN] [--drop-privileges] COMMAND\n"
		"commands: info | identify | imd | caps | stats | health | timestamp |\n"
		"          cel | watermarks | set-watermarks LOW HIGH | raw OPCODE [HEX] |\n"
		"          check-rules | query\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/zcxl0";
	int drop = 0;
	const char *cmd;

	if (argc > 2 && (!strcmp(argv[1], "-d") || !strcmp(argv[1], "-c"))) {
		via_cxl = argv[1][1] == 'c';
		dev = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc > 1 && !strcmp(argv[1], "--drop-privileges")) {
		drop = 1;
		argv++;
		argc--;
	}
	if (argc < 2)
		return print_usage();
	cmd = argv[1];

	/* fd:N: a descriptor the caller opened (and kept across an unbind). */
	if (!strncmp(dev, "fd:", 3))
		fd = atoi(dev + 3);
	else
		fd = open(dev, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "zcxl-cci: %s: %s\n", dev, strerror(errno));
		return 2;
	}
	if (drop && (setgroups(0, NULL) || setgid(65534) || setuid(65534))) {
		perror("zcxl-cci: dropping privileges");
		return 2;
	}
	if (via_cxl && (!strcmp(cmd, "info") || !strcmp(cmd, "check-rules"))) {
		fprintf(stderr, "zcxl-cci: %s needs -d /dev/zcxlN\n", cmd);
		return 2;
	}
	if (!via_cxl && !strcmp(cmd, "query")) {
		fprintf(stderr, "zcxl-cci: query needs -c /dev/cxl/memN\n");
		return 2;
	}
	if (!strcmp(cmd, "info"))
		return cmd_info();
	if (!strcmp(cmd, "identify"))
		return cmd_identify();
	if (!strcmp(cmd, "imd"))
		return cmd_imd();
	if (!strcmp(cmd, "caps"))
		return cmd_caps();
	if (!strcmp(cmd, "stats"))
		return cmd_stats();
	if (!strcmp(cmd, "health"))
		return cmd_health();
	if (!strcmp(cmd, "timestamp"))
		return cmd_timestamp();
	if (!strcmp(cmd, "cel"))
		return cmd_cel();
	if (!strcmp(cmd, "query"))
		return cmd_query();
	if (!strcmp(cmd, "watermarks"))
		return cmd_watermarks();
	if (!strcmp(cmd, "set-watermarks") && argc == 4)
		return cmd_set_watermarks(argv[2], argv[3]);
	if (!strcmp(cmd, "check-rules"))
		return cmd_check_rules();
	if (!strcmp(cmd, "raw") && (argc == 3 || argc == 4))
		return cmd_raw(argv[2], argc == 4 ? argv[3] : NULL);
	return print_usage();
}
