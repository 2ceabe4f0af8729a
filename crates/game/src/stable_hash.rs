//! A hash with a fixed, documented definition, for deriving seeds from positions: the same
//! position gives the same seed on every build, toolchain and machine (std's `DefaultHasher`
//! promises neither: its algorithm may change between Rust releases).
//!
//! Definition: CRC-32 (IEEE) of the byte stream the value's `Hash` implementation writes, with
//! every integer written as its little-endian bytes (`usize` and `isize` as 64 bits), widened
//! to u64. For the derived `Hash` of the project's types that stream is their fields in order.

use std::hash::{Hash, Hasher};

/// The stable hash of `value` (see the module docs).
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = StableHasher(crc32fast::Hasher::new());
    value.hash(&mut hasher);
    hasher.finish()
}

struct StableHasher(crc32fast::Hasher);

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        u64::from(self.0.clone().finalize())
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }
    fn write_u16(&mut self, i: u16) {
        self.write(&i.to_le_bytes());
    }
    fn write_u32(&mut self, i: u32) {
        self.write(&i.to_le_bytes());
    }
    fn write_u64(&mut self, i: u64) {
        self.write(&i.to_le_bytes());
    }
    fn write_u128(&mut self, i: u128) {
        self.write(&i.to_le_bytes());
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_i8(&mut self, i: i8) {
        self.write_u8(i as u8);
    }
    fn write_i16(&mut self, i: i16) {
        self.write_u16(i as u16);
    }
    fn write_i32(&mut self, i: i32) {
        self.write_u32(i as u32);
    }
    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }
    fn write_i128(&mut self, i: i128) {
        self.write_u128(i as u128);
    }
    fn write_isize(&mut self, i: isize) {
        self.write_u64(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_crc_of_the_little_endian_stream() {
        #[derive(Hash)]
        struct Sample {
            a: u16,
            b: usize,
            c: [u8; 2],
        }
        let value = Sample { a: 0x0102, b: 7, c: [9, 8] };
        // Fields in order; the array as a slice: its length (as u64), then its bytes.
        let mut stream = vec![0x02, 0x01];
        stream.extend(7u64.to_le_bytes());
        stream.extend(2u64.to_le_bytes());
        stream.extend([9, 8]);
        assert_eq!(stable_hash(&value), u64::from(crc32fast::hash(&stream)));
        assert_ne!(stable_hash(&value), stable_hash(&Sample { a: 0x0102, b: 8, c: [9, 8] }));
    }
}
