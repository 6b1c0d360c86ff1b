// The widget runs on one thread of the browser, with a small heap for one page's life:
// lol_alloc's free list (sorted, coalescing) takes 0.7 KB brotli less of every customer's
// download than Rust's default dlmalloc; talc, measured too, took 0.3 KB more
// (BENCHMARKS.md, "What the wasm is made of").
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: wasm32-unknown-unknown without threads: nothing allocates concurrently.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

fn main() {
    b24pay_widget::start();
}
