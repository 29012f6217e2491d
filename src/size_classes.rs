//! A cache of freed small blocks, by size class, in front of a global allocator: what the
//! page allocates with.
//!
//! The simulation makes a few hundred thousand small allocations per simulated minute (a
//! write costs ≈47 across five replicas: messages, entries, events). Natively mimalloc serves
//! an allocation and its free in ≈60 instructions together; in WebAssembly the general-purpose
//! allocators take three times that (talc ≈180 in V8, Rust's default dlmalloc about the same),
//! and allocation was the largest cost the page paid that the native build does not.
//!
//! So a freed block of at most [`LARGEST`] bytes is kept on a free list for its size class
//! ([`GRAIN`]-byte steps) and handed out again by the next allocation of that class: a pop or
//! a push, about ten instructions. Everything larger, or more aligned, goes to the allocator
//! behind. Blocks on the lists are never given back; a WebAssembly memory never shrinks, so
//! what the cache keeps is at most the most blocks of a class the page ever held at once.
//!
//! The lists live in one cell without a lock: the cache is a global allocator only where
//! there is a single thread (WebAssembly without the atomics feature; see the `Sync` impl).

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr;

/// The page's allocator: the cache in front of talc, which grows the WebAssembly memory as
/// needed.
#[cfg(target_arch = "wasm32")]
pub type PageAllocator = SizeClassCache<talc::wasm::WasmDynamicTalc>;

/// A [`PageAllocator`], for the page's `#[global_allocator]` static.
#[cfg(target_arch = "wasm32")]
pub const fn page_allocator() -> PageAllocator {
    SizeClassCache::new(talc::wasm::new_wasm_dynamic_allocator())
}

/// Size classes are this many bytes apart, and a block from the cache is aligned to this.
pub const GRAIN: usize = 8;
/// The largest allocation served from the cache.
pub const LARGEST: usize = 512;
const CLASSES: usize = LARGEST / GRAIN;

/// A freed block, while it waits on its class's list.
struct Free {
    next: *mut Free,
}

/// A global allocator that serves small allocations from per-size-class free lists, and
/// everything else (and the lists' first blocks) from `A`.
pub struct SizeClassCache<A> {
    inner: A,
    lists: UnsafeCell<[*mut Free; CLASSES]>,
}

// SAFETY: only where there is one thread (WebAssembly without atomics), so the lists are never
// touched by two threads at once.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
unsafe impl<A: Sync> Sync for SizeClassCache<A> {}

impl<A> SizeClassCache<A> {
    pub const fn new(inner: A) -> Self {
        Self { inner, lists: UnsafeCell::new([ptr::null_mut(); CLASSES]) }
    }

    /// The class that serves `layout`, if the cache does: a size of 1..=LARGEST bytes with an
    /// alignment of at most GRAIN. Class `c` holds blocks of `(c + 1) * GRAIN` bytes.
    fn class(layout: Layout) -> Option<usize> {
        let size = layout.size();
        (size > 0 && size <= LARGEST && layout.align() <= GRAIN).then(|| (size - 1) / GRAIN)
    }

    /// The layout the allocator behind gives every block of class `class`.
    fn block(class: usize) -> Layout {
        // Both are in range: GRAIN is a power of two, and the size is at most LARGEST.
        Layout::from_size_align((class + 1) * GRAIN, GRAIN).unwrap_or(Layout::new::<Free>())
    }
}

// SAFETY: every block handed out is either the allocator behind's, for a layout at least as
// large and as aligned as asked, or a freed block of the same class (the same size and
// alignment from the allocator behind), which no one else holds any more.
unsafe impl<A: GlobalAlloc> GlobalAlloc for SizeClassCache<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = Self::class(layout) else {
            // SAFETY: the caller's layout, as GlobalAlloc::alloc's contract gives it.
            return unsafe { self.inner.alloc(layout) };
        };
        // SAFETY: one thread (see the Sync impl), and no reference to the lists outlives this
        // call; a block on a list is a freed block of this class, at least a pointer wide.
        unsafe {
            let head = &mut (*self.lists.get())[class];
            let taken = *head;
            if taken.is_null() {
                return self.inner.alloc(Self::block(class));
            }
            *head = (*taken).next;
            taken.cast()
        }
    }

    // Out of line: inlined at every place the page frees a block it cost ≈130 gzipped bytes
    // the page's budget does not have (and saved ≈12 M instructions a simulated minute in V8).
    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = Self::class(layout) else {
            // SAFETY: blocks outside every class came from the allocator behind, as is.
            return unsafe { self.inner.dealloc(ptr, layout) };
        };
        // SAFETY: `ptr` is a block of this class (it was allocated with a layout of the same
        // class), GRAIN-aligned and at least GRAIN bytes, so it holds a `Free`.
        unsafe {
            let head = &mut (*self.lists.get())[class];
            let block = ptr.cast::<Free>();
            block.write(Free { next: *head });
            *head = block;
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Self::class(layout).is_none() {
            // SAFETY: the caller's layout, as GlobalAlloc::alloc_zeroed's contract gives it.
            return unsafe { self.inner.alloc_zeroed(layout) };
        }
        // SAFETY: as `alloc`; the block has at least `layout.size()` bytes.
        unsafe {
            let block = self.alloc(layout);
            if !block.is_null() {
                block.write_bytes(0, layout.size());
            }
            block
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: GlobalAlloc::realloc's contract: `new_size` rounded up to the alignment
        // does not overflow, so this layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (Self::class(layout), Self::class(new_layout)) {
            // SAFETY: a block outside every class came from the allocator behind, as is.
            (None, None) => unsafe { self.inner.realloc(ptr, layout, new_size) },
            (Some(old), Some(new)) if old == new => ptr,
            // SAFETY: as this function's.
            _ => unsafe { self.move_block(ptr, layout, new_layout) },
        }
    }
}

impl<A: GlobalAlloc> SizeClassCache<A> {
    /// Moves a block into a new one of `new_layout` (of another class, or into or out of the
    /// cache): what `realloc` does when the block cannot stay where it is.
    ///
    /// # Safety
    /// As [`GlobalAlloc::realloc`]'s.
    unsafe fn move_block(&self, ptr: *mut u8, layout: Layout, new_layout: Layout) -> *mut u8 {
        // SAFETY: both blocks are live and distinct; each holds at least the bytes copied.
        unsafe {
            let moved = self.alloc(new_layout);
            if !moved.is_null() {
                ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_layout.size()));
                self.dealloc(ptr, layout);
            }
            moved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn a_freed_small_block_is_handed_out_again_for_its_class_only() {
        let cache = SizeClassCache::new(System);
        // SAFETY: each block is freed once, with the layout it was allocated with.
        unsafe {
            let a = cache.alloc(layout(40, 8));
            cache.dealloc(a, layout(40, 8));
            // 33..=40 bytes share a class; 41 bytes do not.
            let other = cache.alloc(layout(41, 8));
            assert_ne!(other, a);
            let again = cache.alloc(layout(33, 4));
            assert_eq!(again, a);
            assert_eq!(again as usize % GRAIN, 0);
            cache.dealloc(again, layout(33, 4));
            cache.dealloc(other, layout(41, 8));
        }
    }

    #[test]
    fn large_or_overaligned_blocks_bypass_the_cache() {
        let cache = SizeClassCache::new(System);
        for l in [layout(LARGEST + 1, 8), layout(64, 64), layout(0, 1)] {
            assert_eq!(SizeClassCache::<System>::class(l), None, "{l:?}");
        }
        // SAFETY: each block is freed once, with the layout it was allocated with.
        unsafe {
            let big = cache.alloc(layout(4096, 64));
            assert_eq!(big as usize % 64, 0);
            cache.dealloc(big, layout(4096, 64));
        }
    }

    #[test]
    fn realloc_keeps_the_bytes_across_classes_and_into_the_allocator_behind() {
        let cache = SizeClassCache::new(System);
        // SAFETY: each block is freed once, with the layout it was allocated with.
        unsafe {
            let mut p = cache.alloc(layout(8, 8));
            let mut size = 8;
            p.write_bytes(0xAB, size);
            // Within a class the block stays; across classes and past LARGEST it moves.
            for new_size in [6, 24, 200, 512, 513, 2000, 100, 8] {
                let q = cache.realloc(p, layout(size, 8), new_size);
                if (size - 1) / GRAIN == (new_size - 1) / GRAIN && new_size <= LARGEST {
                    assert_eq!(q, p);
                }
                let kept = size.min(new_size);
                assert!(std::slice::from_raw_parts(q, kept).iter().all(|&b| b == 0xAB), "{size} -> {new_size}");
                q.write_bytes(0xAB, new_size);
                (p, size) = (q, new_size);
            }
            cache.dealloc(p, layout(size, 8));
        }
    }

    #[test]
    fn zeroed_blocks_from_the_cache_are_zero() {
        let cache = SizeClassCache::new(System);
        // SAFETY: each block is freed once, with the layout it was allocated with.
        unsafe {
            let a = cache.alloc(layout(64, 8));
            a.write_bytes(0xFF, 64);
            cache.dealloc(a, layout(64, 8));
            let z = cache.alloc_zeroed(layout(60, 8));
            assert_eq!(z, a);
            assert!(std::slice::from_raw_parts(z, 60).iter().all(|&b| b == 0));
            cache.dealloc(z, layout(60, 8));
        }
    }
}
