//! Unsigned LEB128 integers: seven bits a byte, least significant group first, the high bit set
//! on every byte but the last.

/// Most bytes a `u64` can take.
pub const MAX_LEN_U64: usize = 10;

/// Appends `value` to `out`.
pub fn write_u64(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Number of bytes [`write_u64`] appends for `value`.
pub const fn len_u64(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Reads a value from the start of `input`. Returns the value and the bytes it took, or `None`
/// when `input` ends inside the value or the value does not fit in a `u64`.
pub fn read_u64(input: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (index, &byte) in input.iter().take(MAX_LEN_U64).enumerate() {
        let shift = 7 * index as u32;
        let group = u64::from(byte & 0x7f);
        if shift == 63 && group > 1 {
            return None;
        }
        value |= group << shift;
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(value: u64) {
            let mut out = Vec::new();
            write_u64(&mut out, value);
            prop_assert_eq!(out.len(), len_u64(value));
            prop_assert_eq!(read_u64(&out), Some((value, out.len())));
        }
    }

    #[test]
    fn rejects_truncated_and_overlong() {
        assert_eq!(read_u64(&[0x80]), None);
        assert_eq!(read_u64(&[0xff; 10]), None);
        assert_eq!(
            read_u64(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            None
        );
        assert_eq!(read_u64(&[]), None);
    }
}
