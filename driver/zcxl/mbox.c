// SPDX-License-Identifier: GPL-2.0
/*
 * zcxl: the CCI mailbox client (specs/virtio.md §3.1, specs/device.md §4.1).
 *
 * One command at a time: the request goes out as one device-readable buffer,
 * the response comes back into one device-writable buffer with room for the
 * largest payload. A command that does not complete within the timeout marks
 * the device failed; its buffers then stay with the device until remove()
 * has reset it, and no further command is sent.
 */

#include <linux/errno.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/unaligned.h>
#include <linux/virtio.h>
#include "core.h"
#include "uapi/linux/zcxl.h"

int zcxl_mbox_init(struct zcxl_dev *zd, struct virtqueue *vq)
{
	struct zcxl_mbox *mb = &zd->mbox;
	size_t size = sizeof(struct zcxl_cci_hdr) + zd->cfg.max_payload;

	mb->vq = vq;
	mutex_init(&mb->lock);
	spin_lock_init(&mb->vq_lock);
	init_completion(&mb->done);

	mb->req = kmalloc(size, GFP_KERNEL);
	if (!mb->req)
		return -ENOMEM;
	mb->rsp = kmalloc(size, GFP_KERNEL);
	if (!mb->rsp) {
		kfree(mb->req);
		mb->req = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Only once the device is reset: until then it may still own the buffers. */
void zcxl_mbox_free(struct zcxl_dev *zd)
{
	kfree(zd->mbox.rsp);
	kfree(zd->mbox.req);
	zd->mbox.rsp = NULL;
	zd->mbox.req = NULL;
	mutex_destroy(&zd->mbox.lock);
}

void zcxl_mbox_done(struct virtqueue *vq)
{
	struct zcxl_dev *zd = vq->vdev->priv;
	struct zcxl_mbox *mb = &zd->mbox;
	unsigned long flags;
	unsigned int len;
	bool got;

	spin_lock_irqsave(&mb->vq_lock, flags);
	got = virtqueue_get_buf(vq, &len);
	if (got)
		mb->used_len = len;
	spin_unlock_irqrestore(&mb->vq_lock, flags);

	if (got)
		complete(&mb->done);
}

/* Checks that the response answers the request; returns its payload length. */
static int zcxl_mbox_check(struct zcxl_dev *zd, unsigned int used_len)
{
	const struct zcxl_cci_hdr *rq = zd->mbox.req;
	const struct zcxl_cci_hdr *rs = zd->mbox.rsp;
	size_t hdr = sizeof(*rs);
	u32 len;

	if (used_len < hdr) {
		dev_err_ratelimited(zcxl_to_dev(zd),
				    "mailbox: %u-byte response to opcode %#06x\n",
				    used_len, le16_to_cpu(rq->opcode));
		return -EPROTO;
	}
	if ((rs->category & 0xf) != ZCXL_CCI_RESPONSE || rs->tag != rq->tag ||
	    rs->opcode != rq->opcode) {
		dev_err_ratelimited(zcxl_to_dev(zd),
				    "mailbox: response (tag %u, opcode %#06x) does not answer request (tag %u, opcode %#06x)\n",
				    rs->tag, le16_to_cpu(rs->opcode), rq->tag,
				    le16_to_cpu(rq->opcode));
		return -EPROTO;
	}
	len = get_unaligned_le24(rs->payload_len) & ZCXL_CCI_LEN_MASK;
	if (hdr + len != used_len) {
		dev_err_ratelimited(zcxl_to_dev(zd),
				    "mailbox: opcode %#06x: header says %u payload bytes, device wrote %zu\n",
				    le16_to_cpu(rq->opcode), len, used_len - hdr);
		return -EPROTO;
	}
	return len;
}

/**
 * zcxl_cci_raw() - send one CCI command and wait for its response
 * @zd: the device
 * @opcode: CCI opcode
 * @in: request payload
 * @in_len: its length, at most the device's largest payload
 * @out: room for the response payload
 * @out_size: its size; a longer payload is cut to fit
 * @out_len: set to the length of the payload the device returned
 * @return_code: set to the device's return code
 * @vendor_status: set to the device's vendor-specific extended status
 *
 * Context: process context; sleeps up to the mailbox timeout.
 * Return: 0 when the device answered (whatever its return code), -EIO once
 * the device has failed, -ETIMEDOUT when this command made it fail, -EPROTO
 * for a response that does not answer the request.
 */
int zcxl_cci_raw(struct zcxl_dev *zd, u16 opcode, const void *in,
		 size_t in_len, void *out, size_t out_size, size_t *out_len,
		 u16 *return_code, u16 *vendor_status)
{
	struct zcxl_mbox *mb = &zd->mbox;
	struct zcxl_cci_hdr *rq = mb->req;
	struct zcxl_cci_hdr *rs = mb->rsp;
	struct scatterlist sg_out, sg_in, *sgs[] = { &sg_out, &sg_in };
	size_t hdr = sizeof(*rq);
	int rc, len;

	if (in_len > zd->cfg.max_payload)
		return -EINVAL;

	mutex_lock(&mb->lock);
	if (zcxl_failed(zd)) {
		rc = -EIO;
		goto out;
	}

	memset(rq, 0, hdr);
	rq->category = ZCXL_CCI_REQUEST;
	rq->tag = ++mb->tag;
	rq->opcode = cpu_to_le16(opcode);
	put_unaligned_le24(in_len, rq->payload_len);
	if (in_len)
		memcpy(rq + 1, in, in_len);

	sg_init_one(&sg_out, rq, hdr + in_len);
	sg_init_one(&sg_in, rs, hdr + zd->cfg.max_payload);
	reinit_completion(&mb->done);

	spin_lock_irq(&mb->vq_lock);
	rc = virtqueue_add_sgs(mb->vq, sgs, 1, 1, rq, GFP_ATOMIC);
	if (!rc)
		virtqueue_kick(mb->vq);
	spin_unlock_irq(&mb->vq_lock);
	if (rc) {
		/* At most one command is ever in flight: the queue is broken. */
		dev_err(zcxl_to_dev(zd), "mailbox: cannot queue opcode %#06x: %d\n",
			opcode, rc);
		zcxl_mark_failed(zd, "mailbox queue refused a command");
		rc = -EIO;
		goto out;
	}

	if (!wait_for_completion_timeout(&mb->done, zcxl_timeout())) {
		dev_err(zcxl_to_dev(zd),
			"mailbox: opcode %#06x got no response in %u ms\n",
			opcode, READ_ONCE(zcxl_timeout_ms));
		zcxl_mark_failed(zd, "mailbox timeout");
		rc = -ETIMEDOUT;
		goto out;
	}

	len = zcxl_mbox_check(zd, mb->used_len);
	if (len < 0) {
		rc = len;
		goto out;
	}
	if (out_size)
		memcpy(out, rs + 1, min_t(size_t, len, out_size));
	*out_len = len;
	*return_code = le16_to_cpu(rs->return_code);
	*vendor_status = le16_to_cpu(rs->vendor_status);
	rc = 0;
out:
	mutex_unlock(&mb->lock);
	return rc;
}

static int zcxl_cci_errno(u16 return_code)
{
	switch (return_code) {
	case ZCXL_RC_SUCCESS:
		return 0;
	case ZCXL_RC_INVALID_INPUT:
	case ZCXL_RC_INVALID_PAYLOAD_LENGTH:
	case ZCXL_RC_INVALID_HANDLE:
	case ZCXL_RC_INVALID_LOG:
		return -EINVAL;
	case ZCXL_RC_UNSUPPORTED:
		return -EOPNOTSUPP;
	case ZCXL_RC_BUSY:
	case ZCXL_RC_RETRY_REQUIRED:
		return -EBUSY;
	default:
		return -EIO;
	}
}

/**
 * zcxl_cci() - send one CCI command the driver itself needs
 * @zd: the device
 * @opcode: CCI opcode
 * @in: request payload
 * @in_len: its length
 * @out: room for the response payload
 * @out_size: its size
 * @out_len: set to the payload length; if NULL, the payload must be exactly
 *	@out_size bytes
 *
 * Context: process context; sleeps up to the mailbox timeout.
 * Return: 0 on success; a negative errno for a transport error, an
 * unsuccessful return code, or a payload of the wrong size.
 */
int zcxl_cci(struct zcxl_dev *zd, u16 opcode, const void *in, size_t in_len,
	     void *out, size_t out_size, size_t *out_len)
{
	u16 return_code, vendor_status;
	size_t len;
	int rc;

	rc = zcxl_cci_raw(zd, opcode, in, in_len, out, out_size, &len,
			  &return_code, &vendor_status);
	if (rc)
		return rc;

	rc = zcxl_cci_errno(return_code);
	if (rc) {
		dev_dbg(zcxl_to_dev(zd), "opcode %#06x: return code %#x\n",
			opcode, return_code);
		return rc;
	}
	if (out_len) {
		if (len > out_size)
			return -EPROTO;
		*out_len = len;
	} else if (len != out_size) {
		dev_err_ratelimited(zcxl_to_dev(zd),
				    "opcode %#06x: %zu-byte payload, expected %zu\n",
				    opcode, len, out_size);
		return -EPROTO;
	}
	return 0;
}
