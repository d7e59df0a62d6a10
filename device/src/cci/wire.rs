//! Little-endian payload reading and writing.
//!
//! Reads are bounds-checked and fail with Invalid Payload Length, so a
//! handler cannot index past a payload even if a size in the registry were
//! wrong.

use super::ReturnCode;

/// A received payload.
#[derive(Debug, Clone, Copy)]
pub struct In<'a>(pub &'a [u8]);

impl<'a> In<'a> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn bytes(&self, off: usize, len: usize) -> Result<&'a [u8], ReturnCode> {
        off.checked_add(len)
            .and_then(|end| self.0.get(off..end))
            .ok_or(ReturnCode::InvalidPayloadLength)
    }

    pub fn array<const N: usize>(&self, off: usize) -> Result<[u8; N], ReturnCode> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(off, N)?);
        Ok(a)
    }

    pub fn u8(&self, off: usize) -> Result<u8, ReturnCode> {
        Ok(self.array::<1>(off)?[0])
    }

    pub fn u16(&self, off: usize) -> Result<u16, ReturnCode> {
        Ok(u16::from_le_bytes(self.array(off)?))
    }

    pub fn u32(&self, off: usize) -> Result<u32, ReturnCode> {
        Ok(u32::from_le_bytes(self.array(off)?))
    }

    pub fn u64(&self, off: usize) -> Result<u64, ReturnCode> {
        Ok(u64::from_le_bytes(self.array(off)?))
    }

    /// Fails with Invalid Input unless `off..off+len` is all zero (reserved
    /// fields).
    pub fn reserved(&self, off: usize, len: usize) -> Result<(), ReturnCode> {
        if self.bytes(off, len)?.iter().all(|&b| b == 0) {
            Ok(())
        } else {
            Err(ReturnCode::InvalidInput)
        }
    }
}

/// A payload being built.
#[derive(Debug, Default, Clone)]
pub struct Out(pub Vec<u8>);

impl Out {
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }

    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn u24(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes()[..3]);
        self
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }

    pub fn zeros(&mut self, n: usize) -> &mut Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }

    /// A fixed-width text field, NUL padded (and truncated if longer).
    pub fn text(&mut self, s: &str, width: usize) -> &mut Self {
        let b = s.as_bytes();
        let n = b.len().min(width);
        self.bytes(&b[..n]).zeros(width - n)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn done(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let p = In(&[1, 2, 3, 4, 5]);
        assert_eq!(p.u16(0), Ok(0x0201));
        assert_eq!(p.u32(1), Ok(0x0504_0302));
        assert_eq!(p.u32(2), Err(ReturnCode::InvalidPayloadLength));
        assert_eq!(
            p.bytes(usize::MAX, 2),
            Err(ReturnCode::InvalidPayloadLength)
        );
        assert_eq!(In(&[0, 0, 1]).reserved(0, 2), Ok(()));
        assert_eq!(In(&[0, 0, 1]).reserved(0, 3), Err(ReturnCode::InvalidInput));
    }

    #[test]
    fn writes_are_little_endian() {
        let mut o = Out::default();
        o.u8(1)
            .u16(0x0302)
            .u24(0x060504)
            .u32(0x0a09_0807)
            .text("ab", 4);
        assert_eq!(
            o.done(),
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, b'a', b'b', 0, 0]
        );
    }
}
