//! The read-back check. Every output sopx writes, encrypted or plain, is
//! parsed again and compared with what it was meant to hold before a single
//! byte leaves the process: a file that does not read back is never written.

use crate::stores::{PathElem, display_path};
use crate::tree::{Entry, Item, Node, Tree};
use crate::value::Plain;

/// How comments are compared.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Comments {
    /// Each in the same container at the same position: the additional data
    /// of an encrypted comment depends on where it is attached.
    Placed,
    /// The same texts, wherever they attach and in whatever order the walk
    /// meets them (plaintext output, whose comment placement a reader may
    /// see differently).
    InOrder,
    /// Not compared (formats that cannot hold comments).
    Ignored,
}

/// A tree and the value each leaf is meant to hold.
pub struct View<'a> {
    pub tree: &'a Tree,
    leaves: Vec<&'a Plain>,
}

impl<'a> View<'a> {
    /// The tree with its own leaves.
    pub fn of(tree: &'a Tree) -> View<'a> {
        View {
            tree,
            leaves: tree.leaves.iter().collect(),
        }
    }

    /// The tree with some leaves replaced (decrypted values, tokens).
    pub fn with(tree: &'a Tree, over: impl IntoIterator<Item = &'a (usize, Plain)>) -> View<'a> {
        let mut v = View::of(tree);
        for (i, p) in over {
            v.leaves[*i] = p;
        }
        v
    }
}

/// Where two trees differ and how; its text names a path, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The path, in `--extract` notation (empty at the top).
    pub path: String,
    /// What differs there.
    pub what: Difference,
}

/// What differs between two trees at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// Not as many documents.
    Documents { got: usize, want: usize },
    /// Not as many comments (comments compared in order).
    CommentCount { got: usize, want: usize },
    /// A comment's text.
    CommentText,
    /// A value (of the same kind).
    Value,
    /// A value of another kind (`int` became `str`).
    Kind {
        from: &'static str,
        to: &'static str,
    },
    /// Not as many entries or comments in a mapping (comments in place).
    EntryCount,
    /// A comment stands where an entry was, or the reverse.
    CommentMoved,
    /// Not as many keys.
    KeyCount { got: usize, want: usize },
    /// A key's text.
    Key,
    /// A mapping, list, value or null became another of these.
    Shape {
        from: &'static str,
        to: &'static str,
    },
    /// Not as many items or comments in a list (comments in place).
    ItemCount,
    /// Not as many items.
    Items { got: usize, want: usize },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use Difference::*;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        match &self.what {
            Documents { got, want } => write!(f, "{got} documents instead of {want}"),
            CommentCount { got, want } => write!(f, "{got} comments instead of {want}"),
            CommentText => f.write_str("a comment's text differs"),
            Value => f.write_str("the value differs"),
            Kind { from, to } => write!(f, "a {from} became a {to}"),
            EntryCount => f.write_str("entries or comments differ in number"),
            CommentMoved => f.write_str("a comment moved"),
            KeyCount { got, want } => write!(f, "{got} keys instead of {want}"),
            Key => f.write_str("a key differs"),
            Shape { from, to } => write!(f, "a {from} became a {to}"),
            ItemCount => f.write_str("items or comments differ in number"),
            Items { got, want } => write!(f, "{got} items instead of {want}"),
        }
    }
}

/// A difference outside any path (documents, comments in order).
fn top(what: Difference) -> Mismatch {
    Mismatch {
        path: String::new(),
        what,
    }
}

/// Compares two views: documents, keys, key order, list items, and the kind
/// and bytes of every leaf. Returns, on success, the pairs of leaf numbers
/// (a, b) that correspond; on failure, where the first difference is, with
/// no value text in it.
pub fn compare(a: &View, b: &View, comments: Comments) -> Result<Vec<(usize, usize)>, Mismatch> {
    let mut cx = Cx {
        a,
        b,
        comments,
        pairs: Vec::with_capacity(a.leaves.len()),
        a_comments: Vec::new(),
        b_comments: Vec::new(),
        path: Vec::new(),
    };
    // A document of comments only may read back as no document at all
    // (`# x` alone is an empty stream); its comments still count.
    let has_pairs = |d: &Vec<Entry>| d.iter().any(|e| matches!(e, Entry::Pair(..)));
    let (na, nb) = (a.tree.docs.len(), b.tree.docs.len());
    let n = na.min(nb);
    let extra_ok = comments != Comments::Placed
        && a.tree.docs[n..].iter().all(|d| !has_pairs(d))
        && b.tree.docs[n..].iter().all(|d| !has_pairs(d));
    if na != nb && !extra_ok {
        return Err(top(Difference::Documents { got: nb, want: na }));
    }
    for (da, db) in a.tree.docs.iter().zip(&b.tree.docs) {
        cx.map(da, db)?;
    }
    for d in &a.tree.docs[n..] {
        cx.map(d, &[])?;
    }
    for d in &b.tree.docs[n..] {
        cx.map(&[], d)?;
    }
    if comments == Comments::InOrder {
        // A comment's text, without the markers and blanks around it, which
        // formats spell differently (INI `;` and `#`, dotenv `# `).
        fn text(p: &Plain) -> &[u8] {
            let t = p.text.as_slice();
            let s = t
                .iter()
                .position(|c| !matches!(c, b';' | b'#' | b' ' | b'\t'))
                .unwrap_or(t.len());
            let e = t
                .iter()
                .rposition(|c| !c.is_ascii_whitespace())
                .map_or(s, |e| e + 1);
            &t[s..e.max(s)]
        }
        // Every comment must be there with its text; where a reader
        // attaches it (so the order of the walk) is layout.
        fn texts<'v>(v: &View<'v>, ids: &[usize]) -> Vec<&'v [u8]> {
            let mut t: Vec<&[u8]> = ids.iter().map(|i| text(v.leaves[*i])).collect();
            t.sort_unstable();
            t
        }
        let (ta, tb) = (texts(a, &cx.a_comments), texts(b, &cx.b_comments));
        if ta.len() != tb.len() {
            return Err(top(Difference::CommentCount {
                got: tb.len(),
                want: ta.len(),
            }));
        }
        if ta != tb {
            return Err(top(Difference::CommentText));
        }
    }
    Ok(cx.pairs)
}

struct Cx<'v, 'a> {
    a: &'v View<'a>,
    b: &'v View<'a>,
    comments: Comments,
    pairs: Vec<(usize, usize)>,
    a_comments: Vec<usize>,
    b_comments: Vec<usize>,
    path: Vec<PathElem>,
}

impl Cx<'_, '_> {
    fn err(&self, what: Difference) -> Mismatch {
        Mismatch {
            path: display_path(&self.path),
            what,
        }
    }

    fn leaf(&mut self, x: usize, y: usize) -> Result<(), Mismatch> {
        let (p, q) = (self.a.leaves[x], self.b.leaves[y]);
        if !same_value(p, q) {
            return Err(self.err(if p.kind == q.kind {
                Difference::Value
            } else {
                Difference::Kind {
                    from: p.kind.tag(),
                    to: q.kind.tag(),
                }
            }));
        }
        self.pairs.push((x, y));
        Ok(())
    }

    fn map(&mut self, a: &[Entry], b: &[Entry]) -> Result<(), Mismatch> {
        if self.comments == Comments::Placed {
            if a.len() != b.len() {
                return Err(self.err(Difference::EntryCount));
            }
            for (x, y) in a.iter().zip(b) {
                match (x, y) {
                    (Entry::Comment(i), Entry::Comment(j)) => self.leaf(*i, *j)?,
                    (Entry::Pair(k, v), Entry::Pair(l, w)) => self.pair(k, v, l, w)?,
                    _ => return Err(self.err(Difference::CommentMoved)),
                }
            }
            return Ok(());
        }
        let mut pa = Vec::with_capacity(a.len());
        for e in a {
            match e {
                Entry::Comment(i) => self.a_comments.push(*i),
                Entry::Pair(k, v) => pa.push((k, v)),
            }
        }
        let mut pb = Vec::with_capacity(b.len());
        for e in b {
            match e {
                Entry::Comment(i) => self.b_comments.push(*i),
                Entry::Pair(k, v) => pb.push((k, v)),
            }
        }
        if pa.len() != pb.len() {
            return Err(self.err(Difference::KeyCount {
                got: pb.len(),
                want: pa.len(),
            }));
        }
        for ((k, v), (l, w)) in pa.into_iter().zip(pb) {
            self.pair(k, v, l, w)?;
        }
        Ok(())
    }

    fn pair(&mut self, k: &str, v: &Node, l: &str, w: &Node) -> Result<(), Mismatch> {
        if k != l {
            return Err(self.err(Difference::Key));
        }
        self.path.push(PathElem::Key(k.to_string()));
        self.node(v, w)?;
        self.path.pop();
        Ok(())
    }

    fn node(&mut self, a: &Node, b: &Node) -> Result<(), Mismatch> {
        match (a, b) {
            (Node::Null, Node::Null) => Ok(()),
            (Node::Leaf(x), Node::Leaf(y)) => self.leaf(*x, *y),
            (Node::Map(x), Node::Map(y)) => self.map(x, y),
            (Node::List(x), Node::List(y)) => self.list(x, y),
            _ => Err(self.err(Difference::Shape {
                from: shape(a),
                to: shape(b),
            })),
        }
    }

    fn list(&mut self, a: &[Item], b: &[Item]) -> Result<(), Mismatch> {
        // sops writes a comment that stands in a list as an item holding
        // an encrypted comment: decrypted, that item is a comment.
        fn split<'i>(
            items: &'i [Item],
            view: &View,
            comments: &mut Vec<usize>,
            keep: bool,
        ) -> Vec<&'i Node> {
            let mut vals = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    Item::Comment(i) | Item::Value(Node::Leaf(i))
                        if view.leaves[*i].kind == crate::value::Kind::Comment =>
                    {
                        if keep {
                            comments.push(*i)
                        }
                    }
                    Item::Comment(_) => {}
                    Item::Value(v) => vals.push(v),
                }
            }
            vals
        }
        if self.comments == Comments::Placed {
            if a.len() != b.len() {
                return Err(self.err(Difference::ItemCount));
            }
            for (n, (x, y)) in a.iter().zip(b).enumerate() {
                self.path.push(PathElem::Index(n));
                match (x, y) {
                    (Item::Comment(i), Item::Comment(j)) => self.leaf(*i, *j)?,
                    (Item::Value(v), Item::Value(w)) => self.node(v, w)?,
                    _ => return Err(self.err(Difference::CommentMoved)),
                }
                self.path.pop();
            }
            return Ok(());
        }
        let keep = self.comments == Comments::InOrder;
        let va = split(a, self.a, &mut self.a_comments, keep);
        let vb = split(b, self.b, &mut self.b_comments, keep);
        if va.len() != vb.len() {
            return Err(self.err(Difference::Items {
                got: vb.len(),
                want: va.len(),
            }));
        }
        for (n, (v, w)) in va.into_iter().zip(vb).enumerate() {
            self.path.push(PathElem::Index(n));
            self.node(v, w)?;
            self.path.pop();
        }
        Ok(())
    }
}

/// The same value for sops: the same text, or, for numbers, booleans and
/// times, the same value in another spelling (`1.0` and `1`, `True` and
/// `true`), which sops's decoders and MAC do not tell apart.
fn same_value(p: &Plain, q: &Plain) -> bool {
    use crate::value::{Kind, parse_go_bool};
    if p.kind == q.kind && p.text == q.text {
        return true;
    }
    match (p.kind, q.kind) {
        (Kind::Int | Kind::Float, Kind::Int | Kind::Float) | (Kind::Time, Kind::Time) => {
            p.mac_bytes() == q.mac_bytes()
        }
        (Kind::Bool, Kind::Bool) => {
            let (a, b) = (parse_go_bool(p.as_str()), parse_go_bool(q.as_str()));
            a.is_some() && a == b
        }
        _ => false,
    }
}

fn shape(n: &Node) -> &'static str {
    match n {
        Node::Null => "null",
        Node::Leaf(_) => "value",
        Node::Map(_) => "mapping",
        Node::List(_) => "list",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stores::{Format, parse};

    fn check(a: &str, b: &str, c: Comments) -> Result<Vec<(usize, usize)>, String> {
        let x = parse(Format::Yaml, a.as_bytes()).unwrap();
        let y = parse(Format::Yaml, b.as_bytes()).unwrap();
        compare(&View::of(x.tree()), &View::of(y.tree()), c).map_err(|e| e.to_string())
    }

    #[test]
    fn same_data_in_another_layout_compares_equal() {
        assert!(
            check(
                "a: 1\nb: [x, y]\n",
                "a: 1\nb:\n  - x\n  - y\n",
                Comments::InOrder
            )
            .is_ok()
        );
        assert!(check("a: |\n  x\n", "a: \"x\\n\"\n", Comments::Placed).is_ok());
    }

    #[test]
    fn differences_are_found_without_quoting_values() {
        let e = check("a: {b: secret}\n", "a: {b: other}\n", Comments::Placed).unwrap_err();
        assert_eq!(e, "[\"a\"][\"b\"]: the value differs");
        assert!(check("a: '1'\n", "a: 1\n", Comments::Placed).is_err());
        assert!(check("a: 1\nb: 2\n", "a: 1\n", Comments::Placed).is_err());
        assert!(check("a: [1, 2]\n", "a: [1]\n", Comments::Placed).is_err());
        assert!(check("a: 1\n# c\nb: 2\n", "a: 1\nb: 2\n", Comments::InOrder).is_err());
        assert!(check("a: 1\n# c\nb: 2\n", "a: 1\nb: 2\n", Comments::Ignored).is_ok());
        assert!(check("a: 1\n# c\nb: 2\n", "a: 1\n# d\nb: 2\n", Comments::InOrder).is_err());
    }
}
