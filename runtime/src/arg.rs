//! Arguments that `ulog!` accepts, and how their bytes go into a ring.
//!
//! Each argument is copied in the encoding of `ulog_schema::record`, so the backend moves the
//! bytes to the file unchanged.

use std::borrow::Cow;
use std::marker::PhantomData;

use ulog_schema::record::STR_LEN_PREFIX;
use ulog_schema::ArgKind;

/// Writes one record's bytes into the contiguous room a ring reserved for it.
pub struct RecordWriter<'a> {
    /// Start of the reserved room.
    start: *mut u8,
    /// Bytes reserved at `start`.
    room: usize,
    /// Bytes written so far; at most `room`.
    position: usize,
    _room: PhantomData<&'a mut [u8]>,
}

impl<'a> RecordWriter<'a> {
    /// Creates a writer of the `room` bytes at `start`.
    ///
    /// # Safety
    ///
    /// `start..start + room` must be valid for writes for `'a`, and nothing else may read or
    /// write it meanwhile.
    #[inline(always)]
    pub(crate) unsafe fn new(start: *mut u8, room: usize) -> Self {
        RecordWriter {
            start,
            room,
            position: 0,
            _room: PhantomData,
        }
    }

    /// Bytes written so far.
    #[inline(always)]
    pub(crate) fn written(&self) -> usize {
        self.position
    }

    /// Appends `bytes`.
    ///
    /// With the fixed sizes `ulog!` arguments have, the bounds check folds away and the copy
    /// becomes one store at a constant offset.
    ///
    /// # Panics
    ///
    /// Panics if `bytes` does not fit in the room reserved for the record, which means an
    /// [`Arg::encoded_len`] disagrees with its [`Arg::encode`].
    #[inline(always)]
    pub fn put(&mut self, bytes: &[u8]) {
        if bytes.len() > self.room - self.position {
            overflow(bytes.len(), self.room - self.position);
        }
        // SAFETY: `position + bytes.len() <= room`, checked above, and the room is valid for
        // writes and ours alone (`new`'s contract). A `&[u8]` cannot overlap it, because the
        // writer has exclusive use of the room.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.start.add(self.position),
                bytes.len(),
            );
        }
        self.position += bytes.len();
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn overflow(len: usize, left: usize) -> ! {
    panic!(
        "an `Arg` wrote {len} bytes where {left} were left: its `encoded_len` disagrees with its `encode`"
    )
}

/// A value that `ulog!` can log: its kind, and how to copy its bytes.
///
/// Implemented for every integer type up to 128 bits, `f32`, `f64`, `bool`, `char`, `str`,
/// `String`, `Cow<str>`, and references to any of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be logged by ulog",
    label = "not a loggable argument",
    note = "ulog logs integers, `f32`, `f64`, `bool`, `char`, `&str`, `String` and `Cow<str>`, and references to them: convert the value to one of these, or log its parts"
)]
pub trait Arg {
    /// Encoding of the bytes, which fixes how the decoder reads them.
    const KIND: ArgKind;

    /// Bytes [`Arg::encode`] writes.
    fn encoded_len(&self) -> usize;

    /// Copies the value's bytes.
    fn encode(&self, out: &mut RecordWriter<'_>);
}

macro_rules! fixed_size_arg {
    ($($ty:ty => $kind:ident as $wire:ty),* $(,)?) => {$(
        impl Arg for $ty {
            const KIND: ArgKind = ArgKind::$kind;

            #[inline(always)]
            fn encoded_len(&self) -> usize {
                size_of::<$wire>()
            }

            #[inline(always)]
            fn encode(&self, out: &mut RecordWriter<'_>) {
                out.put(&(*self as $wire).to_le_bytes());
            }
        }
    )*};
}

fixed_size_arg! {
    u8 => U8 as u8,
    u16 => U16 as u16,
    u32 => U32 as u32,
    u64 => U64 as u64,
    usize => U64 as u64,
    u128 => U128 as u128,
    i8 => I8 as i8,
    i16 => I16 as i16,
    i32 => I32 as i32,
    i64 => I64 as i64,
    isize => I64 as i64,
    i128 => I128 as i128,
    f32 => F32 as f32,
    f64 => F64 as f64,
}

impl Arg for bool {
    const KIND: ArgKind = ArgKind::Bool;

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        1
    }

    #[inline(always)]
    fn encode(&self, out: &mut RecordWriter<'_>) {
        out.put(&[u8::from(*self)]);
    }
}

impl Arg for char {
    const KIND: ArgKind = ArgKind::Char;

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        4
    }

    #[inline(always)]
    fn encode(&self, out: &mut RecordWriter<'_>) {
        out.put(&u32::from(*self).to_le_bytes());
    }
}

impl Arg for str {
    const KIND: ArgKind = ArgKind::Str;

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        STR_LEN_PREFIX + self.len()
    }

    #[inline(always)]
    fn encode(&self, out: &mut RecordWriter<'_>) {
        // Rings are smaller than 4 GiB, so a longer string is dropped before it gets here.
        out.put(&(self.len() as u32).to_le_bytes());
        out.put(self.as_bytes());
    }
}

impl Arg for String {
    const KIND: ArgKind = ArgKind::Str;

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        self.as_str().encoded_len()
    }

    #[inline(always)]
    fn encode(&self, out: &mut RecordWriter<'_>) {
        self.as_str().encode(out);
    }
}

impl Arg for Cow<'_, str> {
    const KIND: ArgKind = ArgKind::Str;

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        self.as_ref().encoded_len()
    }

    #[inline(always)]
    fn encode(&self, out: &mut RecordWriter<'_>) {
        self.as_ref().encode(out);
    }
}

impl<T: Arg + ?Sized> Arg for &T {
    const KIND: ArgKind = T::KIND;

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        (**self).encoded_len()
    }

    #[inline(always)]
    fn encode(&self, out: &mut RecordWriter<'_>) {
        (**self).encode(out);
    }
}

impl<T: Arg + ?Sized> Arg for &mut T {
    const KIND: ArgKind = T::KIND;

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        (**self).encoded_len()
    }

    #[inline(always)]
    fn encode(&self, out: &mut RecordWriter<'_>) {
        (**self).encode(out);
    }
}

/// Arguments that the integer specs `x`, `X`, `o` and `b` accept.
#[diagnostic::on_unimplemented(
    message = "the spec `<:x>`, `<:X>`, `<:o>` or `<:b>` needs an integer argument, and `{Self}` is not an integer",
    label = "not an integer",
    note = "use `<>` or `<:?>` for this argument, or convert it to an integer first"
)]
pub trait IntegerSpecArg {}

/// Arguments that the exponent specs `e` and `E` accept.
#[diagnostic::on_unimplemented(
    message = "the spec `<:e>` or `<:E>` needs a numeric argument, and `{Self}` is not a number",
    label = "not a number",
    note = "use `<>` or `<:?>` for this argument"
)]
pub trait NumericSpecArg {}

macro_rules! mark {
    ($marker:ident: $($ty:ty),*) => {$( impl $marker for $ty {} )*};
}

mark!(IntegerSpecArg: u8, u16, u32, u64, usize, u128, i8, i16, i32, i64, isize, i128);
mark!(NumericSpecArg: u8, u16, u32, u64, usize, u128, i8, i16, i32, i64, isize, i128, f32, f64);

impl<T: IntegerSpecArg + ?Sized> IntegerSpecArg for &T {}
impl<T: IntegerSpecArg + ?Sized> IntegerSpecArg for &mut T {}
impl<T: NumericSpecArg + ?Sized> NumericSpecArg for &T {}
impl<T: NumericSpecArg + ?Sized> NumericSpecArg for &mut T {}

/// Compile-time check that an argument fits an integer spec; does nothing at run time.
#[inline(always)]
pub fn check_integer_spec<T: IntegerSpecArg + ?Sized>(_: &T) {}

/// Compile-time check that an argument fits an exponent spec; does nothing at run time.
#[inline(always)]
pub fn check_numeric_spec<T: NumericSpecArg + ?Sized>(_: &T) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_all(write: impl FnOnce(&mut RecordWriter<'_>), total: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; total];
        // SAFETY: `bytes` is `total` bytes long and only the writer uses it until it is gone.
        let mut writer = unsafe { RecordWriter::new(bytes.as_mut_ptr(), total) };
        write(&mut writer);
        assert_eq!(writer.written(), total);
        bytes
    }

    #[test]
    fn writer_appends_in_order() {
        let expected: Vec<u8> = (1..=20).collect();
        let bytes = encode_all(
            |writer| {
                writer.put(&expected[..7]);
                writer.put(&expected[7..]);
            },
            20,
        );
        assert_eq!(bytes, expected);
    }

    #[test]
    #[should_panic(expected = "disagrees")]
    fn writer_refuses_to_overflow() {
        let mut bytes = [0u8; 4];
        // SAFETY: `bytes` is 4 bytes long and only the writer uses it.
        let mut writer = unsafe { RecordWriter::new(bytes.as_mut_ptr(), 4) };
        writer.put(&[1, 2, 3]);
        writer.put(&[4, 5]);
    }

    #[test]
    fn string_and_numbers_encode_like_schema() {
        let text = "fill";
        let total = text.encoded_len() + 7u64.encoded_len() + (-1i16).encoded_len();
        let bytes = encode_all(
            |writer| {
                text.encode(writer);
                7u64.encode(writer);
                (-1i16).encode(writer);
            },
            total,
        );
        let kinds = [ArgKind::Str, ArgKind::U64, ArgKind::I16];
        let (values, used) = ulog_schema::record::decode_args(kinds, &bytes).unwrap();
        assert_eq!(used, total);
        assert_eq!(values[0], ulog_schema::record::ArgValue::Str("fill".into()));
        assert_eq!(values[1], ulog_schema::record::ArgValue::U64(7));
        assert_eq!(values[2], ulog_schema::record::ArgValue::I16(-1));
    }
}
