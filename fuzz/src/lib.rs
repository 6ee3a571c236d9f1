//! What every store target does with its input: parse it, and when that
//! works, walk the tree the ways the commands do (canonical writer,
//! conversion, the metadata reader, writing the plaintext back). Errors
//! are fine; panics, hangs and stack overflows are findings.

use sopx_core::stores::{self, Format};

pub fn store(format: Format, data: &[u8]) {
    let Ok(doc) = stores::parse(format, data) else {
        return;
    };
    let tree = doc.tree();
    let _ = stores::canonical(format, tree);
    let _ = sopx_core::convert::emit(&sopx_core::convert::plain_documents(tree), Format::Json);
    let _ = doc.emit_plain(&[]);
    if let Some(m) = doc.metadata() {
        let _ = sopx_core::metadata::Metadata::from_value(m);
    }
}
