//! The sops tree, independent of file format, and the walk that encrypts or
//! decrypts its leaves and computes the MAC exactly as sops does.
//!
//! Stores parse a file into a [`Tree`] whose leaves point (by index) into a
//! table of leaf values ([`Plain`](crate::value::Plain)); the walk returns, per leaf, the new text to put in its
//! place. Stores then splice those texts into the original bytes, which is
//! what keeps output lossless.

use std::sync::Arc;

use sha2::{Digest, Sha512};

use crate::cipher::{self, DataKey, Stash};
use crate::error::{Error, Result};
use crate::metadata::Rules;
use crate::value::{Kind, Plain};

/// One node of a document.
#[derive(Debug, Clone)]
pub enum Node {
    Map(Vec<Entry>),
    List(Vec<Item>),
    Leaf(usize),
    /// `null` / empty values: sops does not walk them.
    Null,
}

#[derive(Debug, Clone)]
pub enum Entry {
    Comment(usize),
    Pair(String, Node),
}

#[derive(Debug, Clone)]
pub enum Item {
    Comment(usize),
    Value(Node),
}

/// A parsed document set (YAML files may hold several documents).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// One top-level mapping per document.
    pub docs: Vec<Vec<Entry>>,
    /// Leaf values, indexed by the numbers in [`Node::Leaf`] and comments.
    pub leaves: Vec<Plain>,
}

/// Additional data for a value at `path`: keys joined and terminated by `:`.
pub fn additional_data(path: &[String]) -> String {
    let mut s = String::new();
    write_additional_data(path, &mut s);
    s
}

/// [`additional_data`] into `out`, which is cleared first.
fn write_additional_data(path: &[String], out: &mut String) {
    out.clear();
    for p in path {
        out.push_str(p);
        out.push(':');
    }
    if path.is_empty() {
        out.push(':');
    }
}

/// A path in sops's `--extract` notation, for error messages.
pub fn display_path(path: &[String]) -> String {
    if path.is_empty() {
        return "the top level".into();
    }
    path.iter().map(|p| format!("[{p:?}]")).collect()
}

/// sops's prefix for MACs over encrypted values only: sha256("sops").
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// The decision sops takes for each leaf.
struct Ctx<'a> {
    rules: &'a Rules,
    path: Vec<String>,
    comments: Vec<Vec<String>>,
}

impl Ctx<'_> {
    fn should_encrypt(&self, is_comment: bool) -> bool {
        self.rules
            .should_encrypt(&self.path, &self.comments, is_comment)
    }
}

/// Called for each leaf with its path and whether the rules encrypt it.
type Visitor<'a> = dyn FnMut(usize, &[String], bool) + 'a;

/// Walks every leaf in sops's order. Comments are pushed on the comment
/// stack as their current text.
fn walk(tree: &Tree, rules: &Rules, f: &mut Visitor) {
    let mut ctx = Ctx {
        rules,
        path: Vec::new(),
        comments: Vec::new(),
    };
    for doc in &tree.docs {
        walk_map(tree, doc, &mut ctx, f);
    }
}

/// A comment joins the current level's comment stack before its own
/// decision, so a matching comment can select itself (sops does the same).
fn visit_comment(tree: &Tree, id: usize, ctx: &mut Ctx, f: &mut Visitor) {
    let text = String::from_utf8_lossy(&tree.leaves[id].text).into_owned();
    ctx.comments
        .last_mut()
        .expect("inside a container")
        .push(text);
    let enc = ctx.should_encrypt(true);
    f(id, &ctx.path, enc);
}

fn walk_map(tree: &Tree, entries: &[Entry], ctx: &mut Ctx, f: &mut Visitor) {
    ctx.comments.push(Vec::new());
    for e in entries {
        match e {
            Entry::Comment(id) => visit_comment(tree, *id, ctx, f),
            Entry::Pair(k, v) => {
                ctx.path.push(k.clone());
                walk_node(tree, v, ctx, f);
                ctx.path.pop();
                ctx.comments.last_mut().unwrap().clear();
            }
        }
    }
    ctx.comments.pop();
}

fn walk_node(tree: &Tree, node: &Node, ctx: &mut Ctx, f: &mut Visitor) {
    match node {
        Node::Null => {}
        Node::Leaf(id) => {
            let enc = ctx.should_encrypt(false);
            f(*id, &ctx.path, enc)
        }
        Node::Map(m) => walk_map(tree, m, ctx, f),
        Node::List(items) => {
            ctx.comments.push(Vec::new());
            for it in items {
                match it {
                    Item::Comment(id) => visit_comment(tree, *id, ctx, f),
                    Item::Value(v) => {
                        walk_node(tree, v, ctx, f);
                        ctx.comments.last_mut().unwrap().clear();
                    }
                }
            }
            ctx.comments.pop();
        }
    }
}

/// One leaf as the walk saw it.
struct Visit {
    id: usize,
    enc: bool,
    /// Additional data: the path, joined and terminated by `:`. Leaves of
    /// one list share it.
    ad: Arc<str>,
}

impl Visit {
    /// The path, for messages and for trying other levels of a comment.
    /// (A key holding `:` shows split; only messages see that.)
    fn path(&self) -> Vec<String> {
        let p = self.ad.strip_suffix(':').unwrap_or(&self.ad);
        if p.is_empty() {
            Vec::new()
        } else {
            p.split(':').map(String::from).collect()
        }
    }
}

fn visits(tree: &Tree, rules: &Rules) -> Vec<Visit> {
    let mut out = Vec::with_capacity(tree.leaves.len());
    let mut last: Arc<str> = Arc::from(additional_data(&[]));
    // Consecutive leaves mostly share their path's additional data: build
    // it in one buffer and allocate only when it changes.
    let mut ad = String::new();
    walk(tree, rules, &mut |id, path, enc| {
        write_additional_data(path, &mut ad);
        if *last != *ad {
            last = Arc::from(ad.as_str());
        }
        out.push(Visit {
            id,
            enc,
            ad: last.clone(),
        })
    });
    out
}

/// Something `sopx check` finds in an encrypted file's values.
pub struct Finding {
    pub leaf: usize,
    pub path: Vec<String>,
    pub problem: String,
}

/// The leaves of an encrypted tree that its own rules say must be
/// encrypted but that are in clear, and tokens that are malformed. No key
/// is needed; no value's text is quoted.
pub fn lint(tree: &Tree, rules: &Rules) -> Vec<Finding> {
    let mut out = Vec::new();
    for v in visits(tree, rules) {
        let leaf = &tree.leaves[v.id];
        let token = cipher::is_encrypted(leaf.as_str());
        let problem = if token {
            cipher::check_token(leaf.as_str())
                .err()
                .map(|e| format!("malformed ENC[...] token: {e}"))
        } else if v.enc && !leaf.text.is_empty() && leaf.kind != Kind::Comment {
            Some(
                "value in clear, but the file's rules say it must be encrypted (edited into the encrypted file by hand?): decrypt the file and encrypt it again"
                    .to_string(),
            )
        } else {
            None
        };
        if let Some(problem) = problem {
            out.push(Finding {
                leaf: v.id,
                path: v.path(),
                problem,
            });
        }
    }
    out
}

/// Maps `f` over `items` on all cores when there is enough work to share.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    par_map_beside(items, f, || ()).0
}

/// [`par_map`], with `beside` run on the calling thread meanwhile.
fn par_map_beside<T: Sync, R: Send, B>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    beside: impl FnOnce() -> B,
) -> (Vec<R>, B) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || items.len() < 4096 {
        return (items.iter().map(&f).collect(), beside());
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        let b = beside();
        let out = handles
            .into_iter()
            .flat_map(|h| h.join().expect("cipher worker panicked"))
            .collect();
        (out, b)
    })
}

fn new_mac(rules: &Rules) -> Sha512 {
    let mut h = Sha512::new();
    if rules.mac_only_encrypted {
        h.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    h
}

fn mac_hex(h: Sha512) -> String {
    hex::encode_upper(h.finalize())
}

/// What encryption produced: the new text of each leaf that changed, and the MAC.
pub struct Encrypted {
    pub tokens: Vec<(usize, String)>,
    pub mac: String,
}

/// Encrypts every leaf the rules select. Leaves must hold plaintext.
pub fn encrypt(tree: &Tree, rules: &Rules, key: &DataKey, stash: &Stash) -> Result<Encrypted> {
    let mut h = new_mac(rules);
    let tokens = encrypt_feeding(tree, rules, key, stash, &mut |b| h.update(b), true)?;
    Ok(Encrypted {
        tokens,
        mac: mac_hex(h),
    })
}

/// A MAC computed over several trees in turn, as if they were one (the
/// pieces of a file encrypted in pieces).
pub(crate) struct RunningMac(Sha512);

impl RunningMac {
    pub(crate) fn new(rules: &Rules) -> RunningMac {
        RunningMac(new_mac(rules))
    }

    pub(crate) fn update(&mut self, mac_input: &[u8]) {
        self.0.update(mac_input);
    }

    /// The MAC, as [`Encrypted::mac`] gives it.
    pub(crate) fn finish(self) -> String {
        mac_hex(self.0)
    }
}

/// The bytes a MAC reads: plaintext, zeroed on drop.
pub(crate) type MacInput = zeroize::Zeroizing<Vec<u8>>;

/// Appends to a buffer of plaintext; a buffer outgrown is wiped, not just
/// freed.
pub(crate) fn append_wiping(out: &mut zeroize::Zeroizing<Vec<u8>>, bytes: &[u8]) {
    if out.capacity() - out.len() < bytes.len() {
        let mut bigger = zeroize::Zeroizing::new(Vec::with_capacity(
            (out.len() + bytes.len()).max(out.capacity() * 2),
        ));
        bigger.extend_from_slice(out);
        *out = bigger;
    }
    out.extend_from_slice(bytes);
}

/// [`encrypt`] on the calling thread with fresh IVs, giving the bytes the
/// MAC reads instead of the MAC: for a [`RunningMac`].
pub(crate) fn encrypt_for_running_mac(
    tree: &Tree,
    rules: &Rules,
    key: &DataKey,
) -> Result<(Vec<(usize, String)>, MacInput)> {
    let mut input = MacInput::default();
    let tokens = encrypt_feeding(
        tree,
        rules,
        key,
        &Stash::default(),
        &mut |b| append_wiping(&mut input, b),
        false,
    )?;
    Ok((tokens, input))
}

/// Encrypts the selected leaves (on all cores if `parallel`) and feeds the
/// MAC's input, in order, to `mac`.
fn encrypt_feeding(
    tree: &Tree,
    rules: &Rules,
    key: &DataKey,
    stash: &Stash,
    mac: &mut dyn FnMut(&[u8]),
    parallel: bool,
) -> Result<Vec<(usize, String)>> {
    let visits = visits(tree, rules);
    let mut jobs = Vec::new();
    for v in &visits {
        let leaf = &tree.leaves[v.id];
        if v.enc && !leaf.text.is_empty() {
            if leaf.kind == Kind::Str && cipher::is_encrypted(leaf.as_str()) {
                return Err(Error::EncryptValue {
                    path: display_path(&v.path()),
                    msg: "value is already encrypted; decrypt the file first".into(),
                });
            }
            let iv = stash.iv_for(leaf, &v.ad);
            jobs.push((v.id, v.ad.clone(), iv));
        }
    }
    // The MAC, one serial hash over every value, is computed while the
    // values are encrypted.
    let mut feed = || {
        for v in &visits {
            let leaf = &tree.leaves[v.id];
            if leaf.kind != Kind::Comment && (!rules.mac_only_encrypted || v.enc) {
                mac(&leaf.mac_bytes());
            }
        }
    };
    let one = |(id, ad, iv): &(usize, Arc<str>, [u8; 32])| {
        (*id, cipher::encrypt_with_iv(&tree.leaves[*id], key, ad, iv))
    };
    if parallel {
        Ok(par_map_beside(&jobs, one, feed).0)
    } else {
        feed();
        Ok(jobs.iter().map(one).collect())
    }
}

/// What decryption produced: plaintext per decrypted leaf, and the MAC over
/// the decrypted tree.
pub struct Decrypted {
    pub plains: Vec<(usize, Plain)>,
    pub mac: String,
    /// Comments holding a token that did not decrypt (changed by hand or
    /// by an attacker, or moved): left as they are. Leaf ids.
    pub undecrypted_comments: Vec<usize>,
}

/// Decrypts every leaf the rules select, recording IVs in `stash` so that
/// unchanged values can keep their ciphertext when re-encrypted.
pub fn decrypt(tree: &Tree, rules: &Rules, key: &DataKey, stash: &mut Stash) -> Result<Decrypted> {
    let mut h = new_mac(rules);
    let (plains, undecrypted_comments) =
        decrypt_feeding(tree, rules, key, stash, &mut |b| h.update(b), true)?;
    Ok(Decrypted {
        plains,
        mac: mac_hex(h),
        undecrypted_comments,
    })
}

/// [`decrypt`] on the calling thread, giving the bytes the MAC reads
/// instead of the MAC (for a [`RunningMac`]); the `mac` field is empty.
pub(crate) fn decrypt_for_running_mac(
    tree: &Tree,
    rules: &Rules,
    key: &DataKey,
) -> Result<(Decrypted, MacInput)> {
    let mut input = MacInput::default();
    let (plains, undecrypted_comments) = decrypt_feeding(
        tree,
        rules,
        key,
        &mut Stash::default(),
        &mut |b| append_wiping(&mut input, b),
        false,
    )?;
    let d = Decrypted {
        plains,
        mac: String::new(),
        undecrypted_comments,
    };
    Ok((d, input))
}

/// Decrypted leaves and the comments that do not decrypt.
type Opened = (Vec<(usize, Plain)>, Vec<usize>);

fn decrypt_feeding(
    tree: &Tree,
    rules: &Rules,
    key: &DataKey,
    stash: &mut Stash,
    mac: &mut dyn FnMut(&[u8]),
    parallel: bool,
) -> Result<Opened> {
    let visits = visits(tree, rules);
    // Only leaves that hold a token are decrypted; the rest are checked below.
    let one = |v: &Visit| {
        let leaf = &tree.leaves[v.id];
        (v.enc && cipher::is_encrypted(leaf.as_str()))
            .then(|| cipher::decrypt(leaf.as_str(), key, &v.ad))
    };
    let results = if parallel {
        par_map(&visits, one)
    } else {
        visits.iter().map(one).collect()
    };
    let mut plains = Vec::new();
    let mut undecrypted_comments = Vec::new();
    let mut all_paths: Option<Vec<String>> = None;
    for (v, res) in visits.iter().zip(results) {
        let leaf = &tree.leaves[v.id];
        if leaf.kind == Kind::Comment {
            let Some(res) = res else { continue };
            // sops and sopx may attach a comment to different levels; the
            // additional data tells which one, so try them all.
            let got = res.map(|r| (r, v.ad.to_string())).or_else(|e| {
                let paths = all_paths.get_or_insert_with(|| container_paths(tree));
                let path = v.path();
                (0..path.len())
                    .rev()
                    .map(|n| additional_data(&path[..n]))
                    .chain(paths.iter().cloned())
                    .find_map(|ad| {
                        cipher::decrypt(leaf.as_str(), key, &ad)
                            .ok()
                            .map(|r| (r, ad))
                    })
                    .ok_or(e)
            });
            match got {
                Ok(((p, iv), ad)) => {
                    stash.remember(&p, &ad, iv.as_slice());
                    plains.push((v.id, Plain::new(Kind::Comment, p.text.clone())));
                }
                Err(_) => undecrypted_comments.push(v.id),
            }
            continue;
        }
        // sops writes comments inside lists as `- ENC[…,type:comment]`
        // items; like sops, leave them out of the MAC.
        let in_mac = |p: &Plain| (!rules.mac_only_encrypted || v.enc) && p.kind != Kind::Comment;
        if v.enc && !leaf.text.is_empty() {
            if leaf.kind != Kind::Str || !cipher::is_encrypted(leaf.as_str()) {
                return Err(Error::DecryptValue {
                    path: display_path(&v.path()),
                    msg: "value should be encrypted but is plaintext (was it added by hand? re-encrypt the file, or use --ignore-mac after checking it)".into(),
                });
            }
            let (p, iv) =
                res.expect("encrypted leaves were decrypted")
                    .map_err(|e| Error::DecryptValue {
                        path: display_path(&v.path()),
                        msg: e.to_string(),
                    })?;
            stash.remember(&p, &v.ad, iv.as_slice());
            if in_mac(&p) {
                mac(&p.mac_bytes());
            }
            plains.push((v.id, p));
        } else if in_mac(leaf) {
            mac(&leaf.mac_bytes());
        }
    }
    Ok((plains, undecrypted_comments))
}

/// Additional-data strings of every container in the tree.
fn container_paths(tree: &Tree) -> Vec<String> {
    fn go(node: &Node, path: &mut Vec<String>, out: &mut Vec<String>) {
        match node {
            Node::Map(m) => map(m, path, out),
            Node::List(items) => {
                for it in items {
                    if let Item::Value(v) = it {
                        go(v, path, out);
                    }
                }
            }
            _ => {}
        }
    }
    fn map(m: &[Entry], path: &mut Vec<String>, out: &mut Vec<String>) {
        let ad = additional_data(path);
        if !out.contains(&ad) {
            out.push(ad);
        }
        for e in m {
            if let Entry::Pair(k, v) = e {
                path.push(k.clone());
                go(v, path, out);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    for d in &tree.docs {
        map(d, &mut Vec::new(), &mut out);
    }
    out
}

/// Encrypts the MAC for storage; `lastmodified` is its additional data.
pub fn encrypt_mac(mac: &str, key: &DataKey, lastmodified: &str) -> String {
    Stash::default().encrypt(&Plain::new(Kind::Str, mac), key, lastmodified)
}

/// Decrypts the stored MAC and compares it, in constant time, with `computed`.
pub fn verify_mac(stored: &str, computed: &str, key: &DataKey, lastmodified: &str) -> Result<()> {
    use subtle::ConstantTimeEq;
    if stored.is_empty() {
        return Err(Error::MacNotFound);
    }
    let (p, _) = cipher::decrypt(stored, key, lastmodified).map_err(Error::DecryptMac)?;
    if bool::from(p.text.as_slice().ct_eq(computed.as_bytes())) {
        Ok(())
    } else {
        Err(Error::MacMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plaintext_buffer_grows_without_reallocating_in_place() {
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(4));
        append_wiping(&mut out, b"abc");
        append_wiping(&mut out, b"defgh");
        append_wiping(&mut out, b"");
        assert_eq!(&out[..], b"abcdefgh");
        assert!(out.capacity() >= 8);
    }
}
