//! A small allocator for the npm build (cargo feature `small-alloc`, which `scripts/build.sh`
//! turns on): power-of-two size classes, each a free list, carved from wasm memory. It is a
//! fraction of dlmalloc's code (the std default on wasm32), and allocation and freeing are O(1).
//!
//! The price: a block is its request rounded up to a power of two (16 bytes at least), and a
//! freed block is reused only by its own class; wasm memory never shrinks, with any allocator.
//! Blocks are aligned to their size, so any alignment up to the size is met. Single-threaded,
//! as wasm32-unknown-unknown without atomics is.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;

const MIN_SHIFT: u32 = 4;
const CLASSES: usize = 28; // 16 B .. 2 GiB
const PAGE: usize = 65536;

/// The allocator; `#[global_allocator]` in the npm build.
pub struct SizeClasses {
    state: UnsafeCell<State>,
}

struct State {
    /// The first free block of each class (0: none); a free block holds the next one's address.
    free: [usize; CLASSES],
    /// The bump region small blocks are carved from.
    top: usize,
    end: usize,
}

// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread.
unsafe impl Sync for SizeClasses {}

impl SizeClasses {
    /// An empty allocator.
    pub const fn new() -> SizeClasses {
        SizeClasses {
            state: UnsafeCell::new(State {
                free: [0; CLASSES],
                top: 0,
                end: 0,
            }),
        }
    }
}

impl Default for SizeClasses {
    fn default() -> Self {
        SizeClasses::new()
    }
}

/// The class of a layout: blocks of `16 << class` bytes.
fn class(layout: &Layout) -> Option<usize> {
    let n = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    let class = (usize::BITS - (n - 1).leading_zeros() - MIN_SHIFT) as usize;
    (class < CLASSES).then_some(class)
}

/// `pages` more pages of wasm memory; the address of the first, or None.
fn grow(pages: usize) -> Option<usize> {
    let old = core::arch::wasm32::memory_grow(0, pages);
    (old != usize::MAX).then_some(old * PAGE)
}

unsafe impl GlobalAlloc for SizeClasses {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class(&layout) else {
            return std::ptr::null_mut();
        };
        // SAFETY: single-threaded, and no allocation happens while `s` is borrowed.
        let s = unsafe { &mut *self.state.get() };
        let head = s.free[class];
        if head != 0 {
            // SAFETY: a free block's first word holds the next free block of its class.
            s.free[class] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        let size = 1usize << (class as u32 + MIN_SHIFT);
        if size >= PAGE {
            return grow(size / PAGE).map_or(std::ptr::null_mut(), |at| at as *mut u8);
        }
        let mut at = (s.top + size - 1) & !(size - 1);
        if s.top == 0 || at + size > s.end {
            let Some(page) = grow(1) else {
                return std::ptr::null_mut();
            };
            (s.top, s.end) = (page, page + PAGE);
            at = page;
        }
        s.top = at + size;
        at as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = class(&layout) else { return };
        // SAFETY: single-threaded; `ptr` is a block of this class, at least a word long and
        // aligned to its size, so it can hold the list's next pointer.
        let s = unsafe { &mut *self.state.get() };
        unsafe { *(ptr as *mut usize) = s.free[class] };
        s.free[class] = ptr as usize;
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY (of the layout): the caller guarantees `new_size` with this alignment is valid.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if class(&new).is_some() && class(&new) == class(&layout) {
            return ptr; // the block already has room
        }
        // SAFETY: as GlobalAlloc's default realloc.
        unsafe {
            let to = self.alloc(new);
            if !to.is_null() {
                std::ptr::copy_nonoverlapping(ptr, to, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            to
        }
    }
}
