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
#[inline]
pub fn read_u64(input: &[u8]) -> Option<(u64, usize)> {
    if let Some(&byte) = input.first() {
        if byte < 0x80 {
            return Some((u64::from(byte), 1));
        }
    }
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

/// Most bytes a `u128` can take.
pub const MAX_LEN_U128: usize = 19;

/// Appends a `u128` in the same encoding as [`write_u64`].
pub fn write_u128(out: &mut Vec<u8>, mut value: u128) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a `u128` from the start of `input`, as [`read_u64`] reads a `u64`.
pub fn read_u128(input: &[u8]) -> Option<(u128, usize)> {
    let mut value = 0u128;
    for (index, &byte) in input.iter().take(MAX_LEN_U128).enumerate() {
        let shift = 7 * index as u32;
        let group = u128::from(byte & 0x7f);
        if shift == 126 && group > 3 {
            return None;
        }
        value |= group << shift;
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

/// Maps a signed value to an unsigned one so that small magnitudes of either sign stay small:
/// 0, -1, 1, -2, 2 become 0, 1, 2, 3, 4.
pub const fn zigzag_i64(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Inverts [`zigzag_i64`].
pub const fn unzigzag_i64(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// [`zigzag_i64`] for 128-bit values.
pub const fn zigzag_i128(value: i128) -> u128 {
    ((value << 1) ^ (value >> 127)) as u128
}

/// Inverts [`zigzag_i128`].
pub const fn unzigzag_i128(value: u128) -> i128 {
    ((value >> 1) as i128) ^ -((value & 1) as i128)
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

    proptest! {
        #[test]
        fn round_trip_u128(value: u128) {
            let mut out = Vec::new();
            write_u128(&mut out, value);
            prop_assert!(out.len() <= MAX_LEN_U128);
            prop_assert_eq!(read_u128(&out), Some((value, out.len())));
        }

        #[test]
        fn zigzag_round_trips(value: i64, wide: i128) {
            prop_assert_eq!(unzigzag_i64(zigzag_i64(value)), value);
            prop_assert_eq!(unzigzag_i128(zigzag_i128(wide)), wide);
        }
    }

    #[test]
    fn zigzag_keeps_small_magnitudes_small() {
        assert_eq!([0, -1, 1, -2, 2].map(zigzag_i64), [0, 1, 2, 3, 4]);
        assert_eq!(zigzag_i64(i64::MIN), u64::MAX);
        assert_eq!(zigzag_i128(i128::MIN), u128::MAX);
        let mut max = Vec::new();
        write_u128(&mut max, u128::MAX);
        assert_eq!(max.len(), MAX_LEN_U128);
        let mut over = max.clone();
        over[MAX_LEN_U128 - 1] = 0x04;
        assert_eq!(read_u128(&over), None);
        assert_eq!(read_u128(&[0x80; 20]), None);
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
