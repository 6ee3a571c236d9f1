//! Three-way merge of decrypted files, for `sopx merge` (a git merge
//! driver). The merge runs on the plaintexts, line by line as diff3 does, so
//! that the layout and comments of the ours side survive; the caller seals
//! the result with the ours side's data key.

use serde_json::Value;

fn lines(b: &[u8]) -> Vec<&[u8]> {
    b.split_inclusive(|c| *c == b'\n').collect()
}

/// For each line of `base`, the line of `other` it is kept as, if any.
fn matches(base: &[&[u8]], other: &[&[u8]]) -> Vec<Option<usize>> {
    let mut m = vec![None; base.len()];
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, base, other) {
        if let similar::DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for k in 0..len {
                m[old_index + k] = Some(new_index + k);
            }
        }
    }
    m
}

/// The result of a merge: the merged bytes and how many hunks conflicted.
pub struct Merged {
    pub text: Vec<u8>,
    pub conflicts: usize,
}

/// Merges `ours` and `theirs`, both changed from `base`. A hunk both sides
/// changed differently keeps the ours lines, followed by what `conflict`
/// makes of the theirs lines (e.g. comments that keep them at hand).
pub fn merge3(
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    conflict: impl Fn(&[&[u8]]) -> Vec<u8>,
) -> Merged {
    let (b, o, t) = (lines(base), lines(ours), lines(theirs));
    let (mo, mt) = (matches(&b, &o), matches(&b, &t));
    let (mut i, mut jo, mut jt) = (0, 0, 0);
    let mut out = Vec::with_capacity(ours.len().max(theirs.len()));
    let mut conflicts = 0;
    loop {
        // Lines both sides kept.
        while i < b.len() && mo[i] == Some(jo) && mt[i] == Some(jt) {
            out.extend_from_slice(b[i]);
            i += 1;
            jo += 1;
            jt += 1;
        }
        if i >= b.len() && jo >= o.len() && jt >= t.len() {
            break;
        }
        // The next base line both sides kept ends this hunk.
        let (k, ko, kt) = (i..b.len())
            .find_map(|k| Some((k, mo[k]?, mt[k]?)))
            .unwrap_or((b.len(), o.len(), t.len()));
        let (cb, co, ct) = (&b[i..k], &o[jo..ko], &t[jt..kt]);
        if co == cb {
            ct.iter().for_each(|l| out.extend_from_slice(l));
        } else if ct == cb || co == ct {
            co.iter().for_each(|l| out.extend_from_slice(l));
        } else {
            conflicts += 1;
            co.iter().for_each(|l| out.extend_from_slice(l));
            if !out.is_empty() && out.last() != Some(&b'\n') {
                out.push(b'\n');
            }
            out.extend(conflict(ct));
        }
        (i, jo, jt) = (k, ko, kt);
    }
    Merged {
        text: out,
        conflicts,
    }
}

/// The paths (in `--extract` form) whose value both sides changed, each in
/// its own way.
pub fn conflicting_paths(base: &Value, ours: &Value, theirs: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(base, ours, theirs, &mut String::new(), &mut out);
    out
}

fn walk(b: &Value, o: &Value, t: &Value, path: &mut String, out: &mut Vec<String>) {
    if o == t || o == b || t == b {
        return;
    }
    let len = path.len();
    match (b, o, t) {
        (Value::Object(bm), Value::Object(om), Value::Object(tm)) => {
            let null = Value::Null;
            let mut keys: Vec<&String> = om.keys().chain(tm.keys()).collect();
            keys.dedup();
            let mut seen = std::collections::HashSet::new();
            for k in keys {
                if !seen.insert(k) {
                    continue;
                }
                path.push_str(&format!("[{k:?}]"));
                let get = |m: &serde_json::Map<String, Value>| m.get(k).unwrap_or(&null).clone();
                walk(&get(bm), &get(om), &get(tm), path, out);
                path.truncate(len);
            }
        }
        (Value::Array(ba), Value::Array(oa), Value::Array(ta))
            if ba.len() == oa.len() && oa.len() == ta.len() =>
        {
            for n in 0..ba.len() {
                path.push_str(&format!("[{n}]"));
                walk(&ba[n], &oa[n], &ta[n], path, out);
                path.truncate(len);
            }
        }
        _ => out.push(if path.is_empty() {
            "the top level".into()
        } else {
            path.clone()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(b: &str, o: &str, t: &str) -> (String, usize) {
        let r = merge3(b.as_bytes(), o.as_bytes(), t.as_bytes(), |ls| {
            ls.iter()
                .flat_map(|l| [b"# theirs: ".as_slice(), l].concat())
                .collect()
        });
        (String::from_utf8(r.text).unwrap(), r.conflicts)
    }

    #[test]
    fn separate_changes_merge_cleanly() {
        let b = "a: 1\nb: 2\nc: 3\nd: 4\n";
        assert_eq!(
            m(b, "a: 9\nb: 2\nc: 3\nd: 4\n", "a: 1\nb: 2\nc: 3\nd: 8\n"),
            ("a: 9\nb: 2\nc: 3\nd: 8\n".into(), 0)
        );
        assert_eq!(
            m(b, "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n", b),
            ("a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n".into(), 0)
        );
        assert_eq!(
            m(b, "a: 7\nb: 2\nc: 3\nd: 4\n", "a: 7\nb: 2\nc: 3\nd: 4\n").1,
            0
        );
    }

    #[test]
    fn the_same_value_changed_twice_conflicts_and_keeps_ours() {
        let (text, n) = m("a: 1\nb: 2\n", "a: 5\nb: 2\n", "a: 6\nb: 2\n");
        assert_eq!(n, 1);
        assert_eq!(text, "a: 5\n# theirs: a: 6\nb: 2\n");
    }

    #[test]
    fn conflicting_paths_are_named() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        let p = conflicting_paths(
            &v(r#"{"a": {"x": 1, "y": 1}, "b": 1}"#),
            &v(r#"{"a": {"x": 2, "y": 1}, "b": 3}"#),
            &v(r#"{"a": {"x": 3, "y": 2}, "b": 3}"#),
        );
        assert_eq!(p, vec![r#"["a"]["x"]"#.to_string()]);
    }
}
