//! Cutting a plaintext YAML file into runs of whole top-level entries that
//! encrypt on their own exactly as they do inside the file (see
//! `crate::pieces`): what keeps the memory of a large encryption bounded.
//!
//! A cut is only made where nothing can tell the two apart: the file is one
//! implicit document whose root is a block mapping with its keys at column
//! 0, in the subset the fast scanner reads (no anchors, aliases, tags, flow
//! collections or multi-line scalars), ending with a line break; a cut goes
//! after a content line that does not end a block scalar, and before blank
//! lines and column-0 comments leading to the next top-level key. A comment
//! indented there could belong to the entry before it, so no cut is made
//! across one. A top-level key written twice would pass each piece's checks
//! on its own: such a file is not cut (the whole-file path refuses it).

use std::ops::Range;

use saphyr_parser::{Event, ScalarStyle};

use super::fast;
use super::parse::line_start;

/// Runs of about `target` bytes (at least one top-level entry each) that
/// together make `text`; `None` when `text` cannot be cut as the module
/// says, or would be one piece.
///
/// An `encrypted` file must end with its `sops` entry (what sops and sopx
/// write), which stays in the last piece; a plaintext one must have none.
pub fn pieces(text: &str, target: usize, encrypted: bool) -> Option<Vec<Range<usize>>> {
    let src = text.as_bytes();
    if !text.ends_with('\n') {
        return None;
    }
    let mut cuts = vec![0];
    let mut depth = 0usize;
    let mut expect_key = false;
    let mut keys = 0usize;
    let mut docs = 0usize;
    let mut sops = false;
    // A key repeated in two pieces would pass each piece's checks: the
    // whole-file path refuses such a file, so it gets the file.
    let mut seen = std::collections::HashSet::new();
    // The last scalar so far was a literal or folded block scalar.
    let mut after_block = false;
    for ev in fast::events(text) {
        let (ev, span) = ev.ok()?;
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(explicit) => {
                docs += 1;
                if explicit || docs > 1 {
                    return None;
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let map = matches!(ev, Event::MappingStart(..));
                match depth {
                    0 if !map => return None,
                    0 => expect_key = true,
                    // A collection as a top-level key.
                    1 if expect_key => return None,
                    _ => {}
                }
                depth += 1;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                depth = depth.checked_sub(1)?;
                if depth == 1 {
                    expect_key = true;
                }
            }
            Event::Scalar(value, style, ..) => {
                let at = span.start.index();
                if depth == 0 {
                    return None;
                }
                if depth == 1 && expect_key {
                    if sops || line_start(src, at) != at || !seen.insert(value.clone()) {
                        return None;
                    }
                    if value == "sops" {
                        if !encrypted {
                            return None;
                        }
                        sops = true;
                    } else if keys > 0 && !after_block {
                        let cut = cut_before(src, at);
                        if let Some(c) = cut
                            && c - cuts.last().copied().unwrap_or(0) >= target
                        {
                            cuts.push(c);
                        }
                    }
                    keys += 1;
                    expect_key = false;
                    continue;
                }
                after_block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                if depth == 1 {
                    expect_key = true;
                }
            }
            Event::Alias(_) | Event::Nothing => return None,
        }
    }
    if docs != 1 || cuts.len() < 2 || sops != encrypted {
        return None;
    }
    cuts.push(src.len());
    Some(cuts.windows(2).map(|w| w[0]..w[1]).collect())
}

/// Where to cut before the top-level key at `at`: back over blank lines and
/// column-0 comments, to just after the content line before them; `None`
/// when an indented comment is among them.
fn cut_before(src: &[u8], at: usize) -> Option<usize> {
    let mut b = at;
    while b > 0 {
        let prev = line_start(src, b - 1);
        let line = &src[prev..b - 1];
        let body = line.iter().position(|c| *c != b' ');
        match body {
            None => b = prev,
            Some(0) if line[0] == b'#' => b = prev,
            Some(i) if line[i] == b'#' => return None,
            Some(_) => return Some(b),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> Option<Vec<&str>> {
        pieces(text, 1, false).map(|p| p.into_iter().map(|r| &text[r]).collect())
    }

    #[test]
    fn cuts_between_top_level_entries_with_their_leading_comments() {
        let t = "a:\n  b: 1\n\n# about c\nc: [] # x\nd:\n  - 1\n";
        assert_eq!(
            cut(t).unwrap(),
            ["a:\n  b: 1\n", "\n# about c\nc: [] # x\n", "d:\n  - 1\n"]
        );
    }

    #[test]
    fn no_cut_across_an_indented_comment_or_after_a_block_scalar() {
        assert_eq!(
            cut("a:\n  b: 1\n  # end of a\nc: 2\nd: 3\n").unwrap(),
            ["a:\n  b: 1\n  # end of a\nc: 2\n", "d: 3\n"]
        );
        assert_eq!(
            cut("a: |\n  x\n\nc: 2\nd: 3\n").unwrap(),
            ["a: |\n  x\n\nc: 2\n", "d: 3\n"]
        );
    }

    #[test]
    fn files_that_are_not_cut() {
        for t in [
            "a: 1\n",               // one piece
            "a: 1\nb: 2",           // no final line break
            "---\na: 1\nb: 2\n",    // explicit document
            "a: 1\n---\nb: 2\n",    // two documents
            "- a\n- b\n",           // a sequence
            "a: 1\nsops: 2\n",      // already has a sops key
            "a: &x 1\nb: *x\n",     // outside the fast subset
            "a: {b: 1}\nc: 2\n",    // likewise
            "  a: 1\n  b: 2\n",     // keys not at column 0
            "a: 1\nb: 2\n'a': 3\n", // a key twice
        ] {
            assert!(cut(t).is_none(), "{t:?}");
        }
    }

    #[test]
    fn an_encrypted_file_keeps_its_sops_entry_in_the_last_piece() {
        let t = "a: 1\nb: 2\nsops:\n    mac: x\n# end\n";
        let p: Vec<&str> = pieces(t, 1, true)
            .unwrap()
            .into_iter()
            .map(|r| &t[r])
            .collect();
        assert_eq!(p, ["a: 1\n", "b: 2\nsops:\n    mac: x\n# end\n"]);
        assert!(pieces("a: 1\nb: 2\n", 1, true).is_none());
        assert!(pieces("a: 1\nsops: {}\nb: 2\n", 1, true).is_none());
    }

    #[test]
    fn pieces_are_about_the_target_size() {
        let t: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        let p = pieces(&t, 100, false).unwrap();
        assert!(p.len() > 5 && p.len() < 20, "{}", p.len());
        assert_eq!(p.first().unwrap().start, 0);
        assert_eq!(p.last().unwrap().end, t.len());
        assert!(p.windows(2).all(|w| w[0].end == w[1].start));
    }
}
