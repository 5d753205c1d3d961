//! The exported functions: the whole contract between the `.wasm` and its host (see
//! `simulator/ABI.md`). Buffers cross the boundary as `(pointer, length)` pairs in the
//! guest's linear memory, allocated with alignment 1 by `syscage_alloc` and released by
//! `syscage_free` with the same length.

use std::alloc::{alloc, dealloc, Layout};

/// The ABI version (see [`crate::ABI_VERSION`]).
#[no_mangle]
pub extern "C" fn syscage_abi_version() -> u32 {
    crate::ABI_VERSION
}

/// Allocates `len` bytes for the host to write a request into. Returns 0 when the
/// guest is out of memory; a non-zero dangling pointer for `len == 0`.
#[no_mangle]
pub extern "C" fn syscage_alloc(len: usize) -> *mut u8 {
    if len == 0 {
        return std::ptr::NonNull::<u8>::dangling().as_ptr();
    }
    match Layout::from_size_align(len, 1) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { alloc(layout) },
        Err(_) => std::ptr::null_mut(),
    }
}

/// Releases a buffer from `syscage_alloc` or a response from `syscage_call`.
#[no_mangle]
pub extern "C" fn syscage_free(ptr: *mut u8, len: usize) {
    if len == 0 || ptr.is_null() {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(len, 1) {
        // SAFETY: the ABI requires `ptr`/`len` to be a live allocation this module
        // handed out (by `syscage_alloc(len)` or as a `syscage_call` response of `len`
        // bytes, both with alignment 1), released once.
        unsafe { dealloc(ptr, layout) }
    }
}

/// Runs a method. `method` and `request` are buffers the host filled (the guest does
/// not free them). Returns `(ptr << 32) | len` of the UTF-8 JSON response, which the
/// host releases with `syscage_free(ptr, len)`; 0 if the response could not be
/// allocated.
#[no_mangle]
pub extern "C" fn syscage_call(
    method_ptr: *const u8,
    method_len: usize,
    request_ptr: *const u8,
    request_len: usize,
) -> u64 {
    // SAFETY: the ABI requires each pair to describe initialized bytes in this
    // module's memory that stay untouched during the call; an empty buffer may have any
    // pointer, so it is not dereferenced.
    let method = unsafe { slice(method_ptr, method_len) };
    // SAFETY: as above.
    let request = unsafe { slice(request_ptr, request_len) };
    respond(crate::call(method, request))
}

/// [`syscage_call`] with a data buffer the request's inputs can name ranges of
/// (`{"data": {"offset": 0, "length": N}}`), so that large content (a trace) crosses
/// as raw bytes rather than inside a JSON string. The guest does not free any of the
/// three buffers.
#[no_mangle]
pub extern "C" fn syscage_call_with_data(
    method_ptr: *const u8,
    method_len: usize,
    request_ptr: *const u8,
    request_len: usize,
    data_ptr: *const u8,
    data_len: usize,
) -> u64 {
    // SAFETY: as in `syscage_call`, for each of the three buffers.
    let method = unsafe { slice(method_ptr, method_len) };
    // SAFETY: as above.
    let request = unsafe { slice(request_ptr, request_len) };
    // SAFETY: as above.
    let data = unsafe { slice(data_ptr, data_len) };
    respond(crate::call_with_data(method, request, data))
}

/// Hands the response to the host: `(ptr << 32) | len`, or 0 for none.
fn respond(response: Vec<u8>) -> u64 {
    let response = response.into_boxed_slice();
    let len = response.len();
    if len == 0 {
        return 0;
    }
    let ptr = Box::into_raw(response) as *mut u8;
    ((ptr as usize as u64) << 32) | len as u64
}

/// # Safety
/// `ptr` must point to `len` initialized bytes that outlive the returned slice, unless
/// `len` is 0.
unsafe fn slice<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}
