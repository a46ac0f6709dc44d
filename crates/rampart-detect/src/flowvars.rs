//! Per-flow rule state: flowbits and flowint.
//!
//! Names are interned when rules are compiled, so at run time a flowbit is a
//! bit index and a flowint a slot index: checking and setting them costs a
//! few instructions and no hashing. The state lives in the flow (not in the
//! engine), so a rule reload keeps it only if the names keep their indices;
//! [`Interner`] hands out indices in first-seen order for that reason.

use std::collections::HashMap;

/// Hands out dense indices for names.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    /// The index of `name`, allocating one the first time.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }

    /// The index of `name`, if any rule uses it.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// How many names were interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no name was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of an index.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }
}

/// A flowbit operation of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowbitOp {
    /// Set the bits (on match).
    Set(Vec<u32>),
    /// Clear the bits (on match).
    Unset(Vec<u32>),
    /// Flip the bits (on match).
    Toggle(Vec<u32>),
    /// Condition: all of the bits are set (`a&b`), or any (`a|b`).
    IsSet {
        /// The bits.
        bits: Vec<u32>,
        /// `|` groups: any one suffices.
        any: bool,
    },
    /// Condition: none of the bits is set (all unset), or any is unset.
    IsNotSet {
        /// The bits.
        bits: Vec<u32>,
        /// `|` groups: any one unset suffices.
        any: bool,
    },
}

impl FlowbitOp {
    /// True for conditions (checked before a match), false for actions.
    pub fn is_condition(&self) -> bool {
        matches!(self, FlowbitOp::IsSet { .. } | FlowbitOp::IsNotSet { .. })
    }
}

/// A flowint operation of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowintOp {
    /// Assign a value (action).
    Set(u32, i64),
    /// Add (action; creates the variable at 0 if unset).
    Add(u32, i64),
    /// Subtract (action).
    Sub(u32, i64),
    /// Condition: the variable exists.
    IsSet(u32),
    /// Condition: the variable does not exist.
    IsNotSet(u32),
    /// Condition: compare with a value.
    Cmp(u32, FlowintCmp, i64),
}

/// Comparisons of flowint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowintCmp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl FlowintOp {
    /// True for conditions.
    pub fn is_condition(&self) -> bool {
        matches!(
            self,
            FlowintOp::IsSet(_) | FlowintOp::IsNotSet(_) | FlowintOp::Cmp(..)
        )
    }
}

/// Flowbits and flowints of one flow.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowVars {
    bits: Vec<u64>,
    ints: Vec<Option<i64>>,
}

impl FlowVars {
    /// Whether bit `id` is set.
    pub fn is_set(&self, id: u32) -> bool {
        let (w, b) = (id as usize / 64, id % 64);
        self.bits.get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    fn write(&mut self, id: u32, on: bool) {
        let (w, b) = (id as usize / 64, id % 64);
        if self.bits.len() <= w {
            if !on {
                return;
            }
            self.bits.resize(w + 1, 0);
        }
        if let Some(x) = self.bits.get_mut(w) {
            if on {
                *x |= 1 << b;
            } else {
                *x &= !(1 << b);
            }
        }
    }

    /// Evaluates a flowbit condition (actions evaluate to true).
    pub fn check_bits(&self, op: &FlowbitOp) -> bool {
        match op {
            FlowbitOp::IsSet { bits, any: true } => bits.iter().any(|b| self.is_set(*b)),
            FlowbitOp::IsSet { bits, any: false } => bits.iter().all(|b| self.is_set(*b)),
            FlowbitOp::IsNotSet { bits, any: true } => bits.iter().any(|b| !self.is_set(*b)),
            FlowbitOp::IsNotSet { bits, any: false } => bits.iter().all(|b| !self.is_set(*b)),
            _ => true,
        }
    }

    /// Applies a flowbit action (conditions do nothing).
    pub fn apply_bits(&mut self, op: &FlowbitOp) {
        match op {
            FlowbitOp::Set(bits) => bits.iter().for_each(|b| self.write(*b, true)),
            FlowbitOp::Unset(bits) => bits.iter().for_each(|b| self.write(*b, false)),
            FlowbitOp::Toggle(bits) => {
                for b in bits {
                    let on = !self.is_set(*b);
                    self.write(*b, on);
                }
            }
            _ => {}
        }
    }

    /// The value of flowint `id`.
    pub fn int(&self, id: u32) -> Option<i64> {
        self.ints.get(id as usize).copied().flatten()
    }

    fn int_mut(&mut self, id: u32) -> Option<&mut Option<i64>> {
        let i = id as usize;
        if self.ints.len() <= i {
            self.ints.resize(i + 1, None);
        }
        self.ints.get_mut(i)
    }

    /// Evaluates a flowint condition (actions evaluate to true).
    pub fn check_int(&self, op: &FlowintOp) -> bool {
        match *op {
            FlowintOp::IsSet(id) => self.int(id).is_some(),
            FlowintOp::IsNotSet(id) => self.int(id).is_none(),
            FlowintOp::Cmp(id, cmp, v) => match self.int(id) {
                Some(x) => match cmp {
                    FlowintCmp::Eq => x == v,
                    FlowintCmp::Ne => x != v,
                    FlowintCmp::Lt => x < v,
                    FlowintCmp::Le => x <= v,
                    FlowintCmp::Gt => x > v,
                    FlowintCmp::Ge => x >= v,
                },
                None => false,
            },
            _ => true,
        }
    }

    /// Applies a flowint action (conditions do nothing).
    pub fn apply_int(&mut self, op: &FlowintOp) {
        match *op {
            FlowintOp::Set(id, v) => {
                if let Some(slot) = self.int_mut(id) {
                    *slot = Some(v);
                }
            }
            FlowintOp::Add(id, v) => {
                if let Some(slot) = self.int_mut(id) {
                    *slot = Some(slot.unwrap_or(0).saturating_add(v));
                }
            }
            FlowintOp::Sub(id, v) => {
                if let Some(slot) = self.int_mut(id) {
                    *slot = Some(slot.unwrap_or(0).saturating_sub(v));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flowbits_set_check_toggle() {
        let mut i = Interner::default();
        let a = i.intern("a");
        let b = i.intern("b");
        assert_eq!(i.intern("a"), a);
        let mut v = FlowVars::default();
        assert!(v.check_bits(&FlowbitOp::IsNotSet {
            bits: vec![a],
            any: false
        }));
        v.apply_bits(&FlowbitOp::Set(vec![a]));
        assert!(v.check_bits(&FlowbitOp::IsSet {
            bits: vec![a],
            any: false
        }));
        assert!(!v.check_bits(&FlowbitOp::IsSet {
            bits: vec![a, b],
            any: false
        }));
        assert!(v.check_bits(&FlowbitOp::IsSet {
            bits: vec![a, b],
            any: true
        }));
        v.apply_bits(&FlowbitOp::Toggle(vec![a, b]));
        assert!(!v.is_set(a) && v.is_set(b));
        v.apply_bits(&FlowbitOp::Unset(vec![b, 200]));
        assert!(!v.is_set(b) && !v.is_set(200));
    }

    #[test]
    fn flowints() {
        let mut v = FlowVars::default();
        assert!(v.check_int(&FlowintOp::IsNotSet(3)));
        v.apply_int(&FlowintOp::Add(3, 2));
        v.apply_int(&FlowintOp::Add(3, 2));
        assert!(v.check_int(&FlowintOp::Cmp(3, FlowintCmp::Eq, 4)));
        v.apply_int(&FlowintOp::Set(3, 10));
        assert!(v.check_int(&FlowintOp::Cmp(3, FlowintCmp::Ge, 10)));
        assert!(!v.check_int(&FlowintOp::Cmp(4, FlowintCmp::Eq, 0)));
    }
}
