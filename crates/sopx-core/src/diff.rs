//! Decrypted diffs: a unified diff of two plaintexts.

/// A unified diff of `a` and `b` (3 lines of context), empty when they are
/// equal. Non-UTF-8 bytes are shown replaced.
pub fn unified(a_name: &str, a: &[u8], b_name: &str, b: &[u8]) -> String {
    if a == b {
        return String::new();
    }
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    similar::TextDiff::from_lines(a.as_ref(), b.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(a_name, b_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_only_the_changed_lines_with_context() {
        let d = super::unified("a", b"x: 1\ny: 2\n", "b", b"x: 1\ny: 3\n");
        assert!(d.starts_with("--- a\n+++ b\n"), "{d}");
        assert!(d.contains("-y: 2\n+y: 3\n"), "{d}");
        assert!(super::unified("a", b"same\n", "b", b"same\n").is_empty());
    }
}
