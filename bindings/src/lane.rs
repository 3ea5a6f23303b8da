//! The checkout verdict as one plain C call, for JNA's direct mapping on the JVM and Android.
//!
//! Through uniffi's generated Kotlin, `Till::check_minor` costs several crossings: cloning the
//! till's handle, allocating a `RustBuffer` for the customer, the call, freeing the result, each
//! with a `RustCallStatus` and `RustBuffer` structures that JNA marshals by reflection. This
//! function is the same call with only integers and pointers crossing: the caller passes the
//! customer's reference as UTF-8 and a buffer, and gets back the `Verdict` (or the
//! `ArdoiseError`) written in uniffi's own serialization, which the generated Kotlin converters
//! read. It converts and delegates like the rest of this crate: the verdict is `check_minor`'s.
//! Kotlin side: `android/src/main/kotlin/app/ardoise/CheckoutLane.kt`. Swift calls C directly and
//! does not need it.
//!
//! The only `unsafe` code of the crate is here: reading the handle and the two buffers.
#![allow(unsafe_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use uniffi::Lower;

use ardoise_core::Verdict;

use crate::{ArdoiseError, Till, UniFfiTag};

/// Status codes, in the high 32 bits of the result; the low 32 bits are a byte count.
const OK: i64 = 0;
/// `out` holds a serialized `ArdoiseError` (uniffi's format: variant index, message).
const ERROR: i64 = 1;
/// `out` holds the panic's message, UTF-8 (truncated to fit).
const PANIC: i64 = 2;
/// Nothing written: `out` needs the byte count returned. The verdict only reads, so the caller
/// can call again with a larger buffer.
const TOO_SMALL: i64 = 3;

/// The checkout verdict of `Till::check_minor`, written into `out`.
///
/// `till` is a handle to a `Till` as uniffi hands it to Kotlin (`Till.uniffiCloneHandle()`),
/// which the caller owns and keeps alive for the whole call. `customer` points to
/// `customer_len` bytes of UTF-8; `out` to `out_capacity` writable bytes. They may be the same
/// memory: the customer is copied before anything is written. Returns `(status << 32) | bytes`:
/// `OK` and the serialized `Verdict`, `ERROR` and the serialized `ArdoiseError`, `PANIC` and a
/// message, or `TOO_SMALL` and the size needed. Never unwinds into the caller.
///
/// # Safety
///
/// The caller guarantees the handle and both pointers as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ardoise_lane_check_minor(
    till: u64,
    customer: *const u8,
    customer_len: i32,
    cart_total_minor: i64,
    now_unix_ms: i64,
    utc_offset_minutes: i32,
    out: *mut u8,
    out_capacity: i32,
) -> i64 {
    let capacity = usize::try_from(out_capacity).unwrap_or(0);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        match verdict(till, customer, customer_len, cart_total_minor, now_unix_ms, utc_offset_minutes) {
            Ok(verdict) => (OK, serialize(|buf| <Verdict as Lower<UniFfiTag>>::write(verdict, buf))),
            Err(error) => (ERROR, serialize(|buf| <ArdoiseError as Lower<UniFfiTag>>::write(error, buf))),
        }
    }));
    let (status, mut bytes) = outcome.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Rust panic".to_string());
        (PANIC, message.into_bytes())
    });
    if bytes.len() > capacity {
        if status != PANIC {
            return (TOO_SMALL << 32) | bytes.len() as i64;
        }
        bytes.truncate(capacity);
    }
    if !bytes.is_empty() {
        // SAFETY: `out` has `capacity` writable bytes (the caller's promise) and `bytes` fits.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out, bytes.len()) };
    }
    (status << 32) | bytes.len() as i64
}

fn verdict(
    till: u64,
    customer: *const u8,
    customer_len: i32,
    cart_total_minor: i64,
    now_unix_ms: i64,
    utc_offset_minutes: i32,
) -> Result<Verdict, ArdoiseError> {
    if till == 0 || (customer.is_null() && customer_len != 0) {
        return Err(ArdoiseError::invalid("null till handle or customer"));
    }
    let len = usize::try_from(customer_len).map_err(|_| ArdoiseError::invalid("negative customer length"))?;
    // SAFETY: the caller owns a reference to this `Arc<Till>` (uniffi's handle is the `Arc`'s
    // pointer) and holds it for the call; `customer` has `len` readable bytes.
    let till: &Till = unsafe { &*uniffi::ffi::Handle::from_raw_unchecked(till).as_pointer::<Till>() };
    let bytes: &[u8] = if len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(customer, len) } };
    // Copied before anything is written to `out`, which may be the same memory.
    let customer = std::str::from_utf8(bytes)
        .map_err(|_| ArdoiseError::invalid("customer reference is not valid UTF-8"))?
        .to_owned();
    till.check_minor(customer, cart_total_minor, now_unix_ms, utc_offset_minutes)
}

fn serialize(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut buf = Vec::with_capacity(512);
    write(&mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use uniffi::ffi::Handle;

    use super::*;
    use crate::NewCustomer;

    const NOW_MS: i64 = 1_772_442_000_000; // 2026-03-02T09:00:00Z

    fn till() -> (tempfile::TempDir, Arc<Till>) {
        let dir = tempfile::tempdir().unwrap();
        let till = Till::open(dir.path().join("till.db").display().to_string()).unwrap();
        let customer = NewCustomer {
            reference: "Ç1".into(),
            name: "Hélène Dupré".into(),
            credit_limit: Some(ardoise_core::Money::from_minor(20_000)),
            terms: "30".parse().unwrap(),
            ..Default::default()
        };
        till.add_customer(customer, "2026-03-01T10:00:00+01:00".parse().unwrap()).unwrap();
        (dir, till)
    }

    /// Calls the C function as Kotlin does: the customer at the start of `buf`, the answer over it.
    fn call(handle: u64, customer: &str, cents: i64, buf: &mut [u8]) -> (i64, Vec<u8>) {
        buf[..customer.len()].copy_from_slice(customer.as_bytes());
        let r = unsafe {
            ardoise_lane_check_minor(
                handle,
                buf.as_ptr(),
                customer.len() as i32,
                cents,
                NOW_MS,
                60,
                buf.as_mut_ptr(),
                buf.len() as i32,
            )
        };
        let len = (r & 0xFFFF_FFFF) as usize;
        (r >> 32, buf.get(..len).map(<[u8]>::to_vec).unwrap_or_default())
    }

    fn bytes<T: Lower<UniFfiTag>>(value: T) -> Vec<u8> {
        serialize(|buf| T::write(value, buf))
    }

    #[test]
    fn the_lane_writes_check_minors_verdict_and_errors_in_uniffis_format() {
        let (_dir, till) = till();
        let handle = Handle::from_arc(till.clone()).as_raw();
        let mut buf = vec![0u8; 4096];
        for cents in [0, 2_500, 30_000] {
            let expected = till.check_minor("Ç1".into(), cents, NOW_MS, 60).unwrap();
            assert_eq!(call(handle, "Ç1", cents, &mut buf), (OK, bytes(expected)));
        }
        let unknown = till.check_minor("NOPE".into(), 100, NOW_MS, 60).unwrap_err();
        assert_eq!(call(handle, "NOPE", 100, &mut buf), (ERROR, bytes(unknown)));
        let negative = till.check_minor("Ç1".into(), -1, NOW_MS, 60).unwrap_err();
        assert_eq!(call(handle, "Ç1", -1, &mut buf), (ERROR, bytes(negative)));
        till.suspend().unwrap();
        let (status, _) = call(handle, "Ç1", 100, &mut buf);
        assert_eq!(status, ERROR);
        drop(unsafe { Handle::from_raw_unchecked(handle).into_arc::<Till>() });
        assert_eq!(Arc::strong_count(&till), 1);
    }

    #[test]
    fn a_small_buffer_gets_the_size_needed_and_nothing_written() {
        let (_dir, till) = till();
        let handle = Handle::from_arc(till.clone()).as_raw();
        let expected = bytes(till.check_minor("Ç1".into(), 100, NOW_MS, 60).unwrap());
        let mut small = vec![0u8; 8];
        let (status, _) = call(handle, "Ç1", 100, &mut small);
        let r = unsafe {
            ardoise_lane_check_minor(handle, small.as_ptr(), 3, 100, NOW_MS, 60, small.as_mut_ptr(), small.len() as i32)
        };
        assert_eq!((status, r & 0xFFFF_FFFF), (TOO_SMALL, expected.len() as i64));
        assert_eq!(&small[..3], "Ç1".as_bytes(), "nothing written");
        let mut exact = vec![0u8; expected.len()];
        assert_eq!(call(handle, "Ç1", 100, &mut exact), (OK, expected));
        drop(unsafe { Handle::from_raw_unchecked(handle).into_arc::<Till>() });
    }

    #[test]
    fn bad_arguments_are_errors_not_crashes() {
        let (_dir, till) = till();
        let handle = Handle::from_arc(till.clone()).as_raw();
        let mut buf = vec![0u8; 1024];
        let invalid = |r: i64| r >> 32 == ERROR;
        let not_utf8 = [0xFFu8, 0xFE];
        let r =
            unsafe { ardoise_lane_check_minor(handle, not_utf8.as_ptr(), 2, 1, NOW_MS, 60, buf.as_mut_ptr(), 1024) };
        assert!(invalid(r));
        let r = unsafe { ardoise_lane_check_minor(0, buf.as_ptr(), 0, 1, NOW_MS, 60, buf.as_mut_ptr(), 1024) };
        assert!(invalid(r));
        let r = unsafe { ardoise_lane_check_minor(handle, std::ptr::null(), 5, 1, NOW_MS, 60, buf.as_mut_ptr(), 1024) };
        assert!(invalid(r));
        let r = unsafe { ardoise_lane_check_minor(handle, buf.as_ptr(), -1, 1, NOW_MS, 60, buf.as_mut_ptr(), 1024) };
        assert!(invalid(r));
        // The one cart amount whose magnitude overflows: an error, not a panic.
        let (status, _) = call(handle, "Ç1", i64::MIN, &mut buf);
        assert_eq!(status, ERROR);
        // An empty reference is a lookup like any other.
        let r = unsafe { ardoise_lane_check_minor(handle, std::ptr::null(), 0, 1, NOW_MS, 60, buf.as_mut_ptr(), 1024) };
        assert!(invalid(r));
        drop(unsafe { Handle::from_raw_unchecked(handle).into_arc::<Till>() });
    }
}
