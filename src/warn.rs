//! Warnings the library raises while an operation still succeeds (a layout
//! that could not be kept, a hint that no longer fits). The CLI prints them,
//! naming the file; a library user may drain them with [`take`].

use std::sync::Mutex;

static PENDING: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records a warning. Warnings never quote a value's text.
pub fn warn(msg: String) {
    PENDING.lock().unwrap_or_else(|e| e.into_inner()).push(msg);
}

/// The warnings raised since the last call.
pub fn take() -> Vec<String> {
    std::mem::take(&mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()))
}
