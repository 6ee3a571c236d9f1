//! Resource limits on hostile input, shared by every parser and tree walk.
//!
//! * **Nesting depth.** Parsers refuse containers nested deeper than
//!   [`MAX_DEPTH`]; the trees they build are then no deeper, so every
//!   recursive walk over them (encryption, readback, conversion, dropping)
//!   stays well inside the stack. sops (yaml.v3) stops at 10,000; sopx's
//!   walks are recursive and a debug build overflows an 8 MB stack at
//!   about 3,000 levels, so the limit is lower. No real file comes close.
//! * **YAML aliases.** Expanding aliases is bounded the way yaml.v3 (so
//!   sops) bounds it: see [`AliasBudget`].

/// The deepest nesting of mappings and lists any input may have.
pub const MAX_DEPTH: usize = 1000;

/// The message of a depth refusal.
pub fn too_deep() -> String {
    format!("nesting is too deep (more than {MAX_DEPTH} levels of mappings and lists)")
}

/// yaml.v3's rule against alias bombs ("document contains excessive
/// aliasing"): every node built counts, and so does every node built inside
/// an alias's expansion; once more than 100 nodes came from aliases and more
/// than 1,000 were built, the share from aliases may not pass 99% for
/// documents up to 400,000 nodes, falling to 10% at 4,000,000.
#[derive(Debug, Default)]
pub struct AliasBudget {
    built: u64,
    aliased: u64,
}

impl AliasBudget {
    /// Counts one node; `in_alias` when it is built inside an alias's
    /// expansion. False when the budget is exceeded.
    pub fn count(&mut self, in_alias: bool) -> bool {
        self.built += 1;
        if in_alias {
            self.aliased += 1;
        }
        !(self.aliased > 100
            && self.built > 1000
            && self.aliased as f64 / self.built as f64 > allowed_alias_ratio(self.built))
    }
}

fn allowed_alias_ratio(built: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    if built <= LOW {
        0.99
    } else if built >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((built - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

/// The message of an alias refusal.
pub const EXCESSIVE_ALIASING: &str = "excessive aliasing: the aliases in this document expand to far more nodes than it holds (an alias bomb); sops refuses it too";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_budget_follows_yaml_v3() {
        let mut b = AliasBudget::default();
        // A small document may come almost entirely from aliases...
        for _ in 0..10 {
            assert!(b.count(false));
        }
        for _ in 0..990 {
            assert!(b.count(true));
        }
        // ...but not more than 99% of it.
        let mut ok = true;
        for _ in 0..10_000 {
            ok &= b.count(true);
        }
        assert!(!ok);
    }
}
