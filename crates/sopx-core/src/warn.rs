//! Warnings the library raises while an operation still succeeds (a layout
//! that could not be kept, a hint that no longer fits). The CLI prints them,
//! naming the file; a library user may drain them with [`take`].

//!
//! Warnings are kept per thread, so that files processed in parallel
//! (`crate::batch`) each get their own.

use std::cell::RefCell;

thread_local! {
    static PENDING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Records a warning. Warnings never quote a value's text.
pub fn warn(msg: String) {
    PENDING.with(|p| p.borrow_mut().push(msg));
}

/// The warnings this thread raised since the last call.
pub fn take() -> Vec<String> {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}
