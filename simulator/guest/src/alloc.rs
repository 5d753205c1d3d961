//! The guest's allocator (wasm32 only): size-class free lists in front of the standard
//! allocator (dlmalloc).
//!
//! Checking a trace makes millions of small allocations (a syscall name per event, the
//! per-event JSON values, the strings of a summary) that dlmalloc serves with bin
//! searches, splits and coalescing; here a small block is a pop or a bump, and freeing
//! it a push. Blocks of up to [`MAX_SMALL`] bytes (alignment at most 8) come in 20
//! classes — every multiple of 8 up to 128, then 256, 512, 1024, 2048 — carved from
//! 64 KiB chunks of the standard allocator and kept in their class once freed (a
//! freed block is reused by the next allocation of its class, never returned).
//! Larger or more aligned blocks go to dlmalloc directly. Which allocator owns a block
//! is a function of its layout, which Rust passes again on `dealloc` and `realloc`.
//!
//! The module is single-threaded (`wasm32-unknown-unknown` has no threads), so the
//! state needs no lock. It is the global allocator only in the wasm32 build; native
//! builds (the unit tests) keep the system allocator.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// The largest block the classes serve.
const MAX_SMALL: usize = 2048;
/// Classes: 8, 16, ..., 128 (16 of them), then 256, 512, 1024, 2048.
const CLASSES: usize = 20;
/// What a class takes from dlmalloc when its free list is empty and the bump region
/// is used up.
const CHUNK: usize = 64 << 10;

struct State {
    /// Heads of the free lists; a free block holds the next one's address.
    free: [*mut u8; CLASSES],
    /// The current bump region, shared by all classes.
    bump: *mut u8,
    end: *mut u8,
}

pub struct Alloc {
    state: UnsafeCell<State>,
}

// SAFETY: the guest is single-threaded (wasm32-unknown-unknown without atomics).
unsafe impl Sync for Alloc {}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: Alloc = Alloc {
    state: UnsafeCell::new(State {
        free: [ptr::null_mut(); CLASSES],
        bump: ptr::null_mut(),
        end: ptr::null_mut(),
    }),
};

/// The class of a small layout, or `None` for dlmalloc's.
#[inline]
fn class(size: usize, align: usize) -> Option<usize> {
    if size > MAX_SMALL || align > 8 {
        return None;
    }
    Some(if size <= 128 {
        size.max(1).div_ceil(8) - 1
    } else {
        // 129..=256 -> 16, ..., 1025..=2048 -> 19
        16 + (usize::BITS - (size - 1).leading_zeros()) as usize - 8
    })
}

/// The block size of a class.
#[inline]
fn class_size(c: usize) -> usize {
    if c < 16 {
        (c + 1) * 8
    } else {
        256 << (c - 16)
    }
}

impl Alloc {
    #[inline]
    unsafe fn small(&self, c: usize) -> *mut u8 {
        // SAFETY: single-threaded, and no reference to the state outlives this call.
        let s = unsafe { &mut *self.state.get() };
        let head = s.free[c];
        if !head.is_null() {
            // SAFETY: a free block holds the address of the next one (written by
            // `dealloc`), and blocks are at least 8 bytes, 8-aligned.
            s.free[c] = unsafe { *(head as *mut *mut u8) };
            return head;
        }
        let size = class_size(c);
        if (s.end as usize) - (s.bump as usize) < size {
            // SAFETY: a non-zero size and a valid alignment.
            let chunk = unsafe { System.alloc(Layout::from_size_align_unchecked(CHUNK, 8)) };
            if chunk.is_null() {
                return chunk;
            }
            // The rest of the old region (less than a block) is left unused.
            s.bump = chunk;
            // SAFETY: within the chunk just allocated (one past its end).
            s.end = unsafe { chunk.add(CHUNK) };
        }
        let p = s.bump;
        // SAFETY: `size` bytes fit before `end`.
        s.bump = unsafe { p.add(size) };
        p
    }
}

unsafe impl GlobalAlloc for Alloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class(layout.size(), layout.align()) {
            // SAFETY: single-threaded.
            Some(c) => unsafe { self.small(c) },
            // SAFETY: the caller's contract.
            None => unsafe { System.alloc(layout) },
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match class(layout.size(), layout.align()) {
            Some(c) => {
                // SAFETY: single-threaded.
                let p = unsafe { self.small(c) };
                if !p.is_null() {
                    // SAFETY: the block has at least `layout.size()` bytes.
                    unsafe { ptr::write_bytes(p, 0, layout.size()) };
                }
                p
            }
            // SAFETY: the caller's contract.
            None => unsafe { System.alloc_zeroed(layout) },
        }
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        match class(layout.size(), layout.align()) {
            Some(c) => {
                // SAFETY: single-threaded; `p` is a block of class `c` (same layout as
                // when allocated), at least 8 bytes and 8-aligned, no longer in use.
                unsafe {
                    let s = &mut *self.state.get();
                    *(p as *mut *mut u8) = s.free[c];
                    s.free[c] = p;
                }
            }
            // SAFETY: the caller's contract; dlmalloc allocated it.
            None => unsafe { System.dealloc(p, layout) },
        }
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        match (class(layout.size(), align), class(new_size, align)) {
            // Still fits its block.
            (Some(a), Some(b)) if a == b => p,
            // SAFETY: the caller's contract; dlmalloc owns the block before and after.
            (None, None) => unsafe { System.realloc(p, layout, new_size) },
            _ => {
                // SAFETY: `new_size` is non-zero and, with `align`, a valid layout (the
                // caller's contract).
                let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, align) };
                // SAFETY: as above.
                let q = unsafe { self.alloc(new_layout) };
                if !q.is_null() {
                    // SAFETY: both blocks are live, distinct and at least this long.
                    unsafe {
                        ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                        self.dealloc(p, layout);
                    }
                }
                q
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_their_sizes() {
        for size in 1..=MAX_SMALL {
            let c = class(size, 8).unwrap();
            assert!(class_size(c) >= size, "{size}");
            if c > 0 {
                assert!(class_size(c - 1) < size, "{size}");
            }
        }
        assert_eq!(class(MAX_SMALL + 1, 1), None);
        assert_eq!(class(8, 16), None);
    }
}
