use proptest::prelude::*;

use super::*;

/// Encodes a value as a producer copies it into its ring.
fn raw(value: &ArgValue<'_>, out: &mut Vec<u8>) -> ArgKind {
    match value {
        ArgValue::U8(v) => out.push(*v),
        ArgValue::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::U128(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::I8(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::I128(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
        ArgValue::Bool(v) => out.push(u8::from(*v)),
        ArgValue::Char(v) => out.extend_from_slice(&u32::from(*v).to_le_bytes()),
        ArgValue::Str(v) => {
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.extend_from_slice(v.as_bytes());
        }
    }
    kind_of(value)
}

fn kind_of(value: &ArgValue<'_>) -> ArgKind {
    match value {
        ArgValue::U8(_) => ArgKind::U8,
        ArgValue::U16(_) => ArgKind::U16,
        ArgValue::U32(_) => ArgKind::U32,
        ArgValue::U64(_) => ArgKind::U64,
        ArgValue::U128(_) => ArgKind::U128,
        ArgValue::I8(_) => ArgKind::I8,
        ArgValue::I16(_) => ArgKind::I16,
        ArgValue::I32(_) => ArgKind::I32,
        ArgValue::I64(_) => ArgKind::I64,
        ArgValue::I128(_) => ArgKind::I128,
        ArgValue::F32(_) => ArgKind::F32,
        ArgValue::F64(_) => ArgKind::F64,
        ArgValue::Bool(_) => ArgKind::Bool,
        ArgValue::Char(_) => ArgKind::Char,
        ArgValue::Str(_) => ArgKind::Str,
    }
}

/// Packs values through their raw encoding and returns the kinds and packed bytes.
fn pack(values: &[ArgValue<'_>]) -> (Vec<ArgKind>, Vec<u8>) {
    let mut bytes = Vec::new();
    let kinds: Vec<ArgKind> = values.iter().map(|value| raw(value, &mut bytes)).collect();
    let mut packed = Vec::new();
    assert_eq!(
        pack_args(kinds.iter().copied(), &bytes, &mut packed),
        Some(bytes.len())
    );
    (kinds, packed)
}

/// Compares decoded values, `f64` and `f32` by their bits so NaN and -0.0 count.
fn same(left: &ArgValue<'_>, right: &ArgValue<'_>) -> bool {
    match (left, right) {
        (ArgValue::F64(a), ArgValue::F64(b)) => a.to_bits() == b.to_bits(),
        (ArgValue::F32(a), ArgValue::F32(b)) => a.to_bits() == b.to_bits(),
        _ => left == right,
    }
}

fn any_value() -> impl Strategy<Value = ArgValue<'static>> {
    prop_oneof![
        any::<u8>().prop_map(ArgValue::U8),
        any::<u16>().prop_map(ArgValue::U16),
        any::<u32>().prop_map(ArgValue::U32),
        any::<u64>().prop_map(ArgValue::U64),
        any::<u128>().prop_map(ArgValue::U128),
        any::<i8>().prop_map(ArgValue::I8),
        any::<i16>().prop_map(ArgValue::I16),
        any::<i32>().prop_map(ArgValue::I32),
        any::<i64>().prop_map(ArgValue::I64),
        any::<i128>().prop_map(ArgValue::I128),
        any::<u32>().prop_map(|bits| ArgValue::F32(f32::from_bits(bits))),
        any::<u64>().prop_map(|bits| ArgValue::F64(f64::from_bits(bits))),
        any_f64().prop_map(ArgValue::F64),
        any::<bool>().prop_map(ArgValue::Bool),
        any::<char>().prop_map(ArgValue::Char),
        ".{0,40}".prop_map(|text| ArgValue::Str(text.into())),
    ]
}

/// Floats with short decimal forms as well as every bit pattern.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        (any::<i64>(), 0u32..=12).prop_map(|(m, k)| (m % (1 << 53)) as f64 / 10f64.powi(k as i32)),
        (-1_000_000i64..1_000_000, 0u32..=4).prop_map(|(m, k)| m as f64 / 10f64.powi(k as i32)),
        any::<u64>().prop_map(f64::from_bits),
        Just(f64::NAN),
        Just(-f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
        Just(f64::MIN_POSITIVE / 4.0),
        Just(-5e-324),
        Just(f64::MAX),
        Just(f64::MIN),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_kind_round_trips(values in proptest::collection::vec(any_value(), 0..8)) {
        let (kinds, packed) = pack(&values);
        let len = packed_args_len(kinds.iter().copied(), &packed).unwrap();
        prop_assert_eq!(len, packed.len());
        let (decoded, used) = decode_packed_args(kinds.iter().copied(), &packed).unwrap();
        prop_assert_eq!(used, packed.len());
        prop_assert_eq!(decoded.len(), values.len());
        for (got, want) in decoded.iter().zip(&values) {
            prop_assert!(same(got, want), "{:?} != {:?}", got, want);
        }
    }

    #[test]
    fn f64_round_trips_bit_for_bit(value in any_f64()) {
        let mut packed = Vec::new();
        write_f64(&mut packed, value);
        let (decoded, used) = read_f64(&packed).unwrap();
        prop_assert_eq!(used, packed.len());
        prop_assert_eq!(decoded.to_bits(), value.to_bits());
        if let Some((mantissa, decimals)) = f64_decimal(value) {
            prop_assert!(mantissa.unsigned_abs() < MANTISSA_LIMIT as u64);
            prop_assert!(decimals <= MAX_DECIMALS);
        }
    }

    #[test]
    fn cached_f64_matches_uncached(values in proptest::collection::vec(any_f64(), 0..64)) {
        let mut cache = F64Cache::new();
        // Each value is packed twice, so the second packing comes from the cache unless a
        // later value took its slot.
        for value in values.iter().chain(&values).copied().chain([0.0, -0.0]) {
            let mut plain = Vec::new();
            write_f64(&mut plain, value);
            let mut cached = Vec::new();
            cache.write_f64(&mut cached, value);
            prop_assert_eq!(cached, plain);
        }
    }

    #[test]
    fn hostile_bytes_never_panic(
        kinds in proptest::collection::vec(0u8..=15, 0..6),
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let kinds: Vec<ArgKind> =
            kinds.into_iter().filter_map(|kind| ArgKind::try_from(kind).ok()).collect();
        let len = packed_args_len(kinds.iter().copied(), &bytes);
        let decoded = decode_packed_args(kinds.iter().copied(), &bytes);
        prop_assert_eq!(len.is_ok(), decoded.is_ok());
        if let (Ok(len), Ok((_, used))) = (len, decoded) {
            prop_assert_eq!(len, used);
            prop_assert!(used <= bytes.len());
        }
    }
}

proptest! {
    #[test]
    fn rounding_matches_the_standard_library(value in -9.0e15f64..9.0e15) {
        prop_assert_eq!(round_half_away(value), value.round() as i64);
    }

    #[test]
    fn decimals_written_with_k_places_are_found(m in -(1i64 << 50)..(1i64 << 50), k in 0u32..=9) {
        let value = m as f64 / POW10[k as usize];
        let (found_m, found_k) = f64_decimal(value).unwrap();
        prop_assert!(found_k <= k);
        prop_assert_eq!((found_m as f64 / POW10[found_k as usize]).to_bits(), value.to_bits());
    }
}

#[test]
fn prices_take_few_bytes() {
    for (value, len, decimals) in [
        (101.25, 3, 2),
        (230.68, 3, 2),
        (100.0, 2, 0),
        (0.0001, 1, 4),
        (-3.5, 2, 1),
    ] {
        let mut packed = Vec::new();
        write_f64(&mut packed, value);
        assert_eq!(packed.len(), len, "{value}");
        assert_eq!(f64_decimal(value).unwrap().1, decimals, "{value}");
    }
}

#[test]
fn special_floats_travel_raw() {
    for value in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        5e-324,
        0.1 + 0.2,
        1e300,
    ] {
        assert_eq!(f64_decimal(value), None, "{value}");
        let mut packed = Vec::new();
        write_f64(&mut packed, value);
        assert_eq!(packed.len(), 9);
        assert_eq!(packed[0] as u64, F64_RAW);
    }
    assert_eq!(f64_decimal(0.0), Some((0, 0)));
}

#[test]
fn static_and_small_arguments_are_small() {
    let (_, packed) = pack(&[]);
    assert!(packed.is_empty());
    let (_, packed) = pack(&[ArgValue::U64(4_200_017), ArgValue::Str("XNAS".into())]);
    assert_eq!(packed.len(), 4 + 5);
    let (_, packed) = pack(&[ArgValue::I64(-1), ArgValue::Char('x'), ArgValue::U32(300)]);
    assert_eq!(packed.len(), 1 + 1 + 2);
}

#[test]
fn malformed_values_are_errors() {
    let cases: &[(ArgKind, &[u8], &str)] = &[
        (ArgKind::U8, &[], "ends"),
        (ArgKind::U16, &[0xff, 0xff, 0x04], "out of range"),
        (ArgKind::I8, &[0x80, 0x02], "out of range"),
        (ArgKind::U64, &[0x80, 0x80], "ends"),
        (ArgKind::U64, &[0xff; 11], "64 bits"),
        (ArgKind::U128, &[0xff; 20], "128 bits"),
        (ArgKind::Bool, &[2], "bool"),
        (ArgKind::Char, &[0x80, 0xb0, 0x03], "scalar"),
        (ArgKind::Str, &[5, b'a'], "overruns"),
        (ArgKind::F32, &[1, 2, 3], "ends"),
        (ArgKind::F64, &[0x0f, 1, 2], "ends"),
        (ArgKind::F64, &[0x1f, 0, 0, 0, 0, 0, 0, 0, 0], "high bits"),
        (ArgKind::F64, &[0x0c], "decimal places"),
        (
            ArgKind::F64,
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40],
            "2^53",
        ),
    ];
    for (kind, bytes, expected) in cases {
        let error = decode_packed_args([*kind], bytes).unwrap_err();
        assert!(
            error.to_string().contains(expected),
            "{kind:?} {bytes:?}: {error}"
        );
        assert!(packed_args_len([*kind], bytes).is_err());
    }
}

#[test]
fn short_raw_input_is_refused() {
    let mut out = Vec::new();
    assert_eq!(pack_args([ArgKind::U64], &[0; 7], &mut out), None);
    assert_eq!(
        pack_args([ArgKind::Str], &[9, 0, 0, 0, b'a'], &mut out),
        None
    );
}

/// The fast reader and the error-describing one must agree on every input, because readers
/// trust the first and report with the second.
#[test]
fn fast_and_describing_readers_agree() {
    let kinds = [
        ArgKind::U8,
        ArgKind::U16,
        ArgKind::U32,
        ArgKind::U64,
        ArgKind::U128,
        ArgKind::I8,
        ArgKind::I16,
        ArgKind::I32,
        ArgKind::I64,
        ArgKind::I128,
        ArgKind::F32,
        ArgKind::F64,
        ArgKind::Bool,
        ArgKind::Char,
        ArgKind::Str,
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..200_000u64 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Short inputs of bytes that are mostly varint continuations or small values.
        let len = (state % 24) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|index| {
                let byte = (state.rotate_left(index as u32 * 7) >> 3) as u8;
                if round % 3 == 0 {
                    byte | 0x80
                } else {
                    byte
                }
            })
            .collect();
        let kind = kinds[(round % kinds.len() as u64) as usize];
        for want_value in [false, true] {
            let fast = read_value(kind, &bytes, want_value);
            let described = read_one(kind, &bytes, want_value);
            match (&fast, &described) {
                (Some((fast_value, fast_len)), Ok((value, len))) => {
                    assert_eq!(fast_len, len, "{kind:?} {bytes:02x?}");
                    assert!(same(fast_value, value), "{kind:?} {bytes:02x?}");
                }
                (None, Err(_)) => {}
                _ => panic!("{kind:?} {bytes:02x?}: fast {fast:?}, described {described:?}"),
            }
        }
    }
}
