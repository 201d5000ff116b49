//! Values on the pickle VM's stack and in its memo.
//!
//! Scalars are kept inline; containers and instances live in a [`Heap`]
//! addressed by index, so memo copies share one object the way Python's
//! unpickler shares one object (an APPEND after a PUT is visible through the
//! memo). The heap has an element budget: past it, containers stop
//! recording elements and the VM reports the scan as truncated rather than
//! growing without bound.

use std::rc::Rc;

/// A value the VM tracks.
#[derive(Debug, Clone)]
pub enum Value {
    /// `None`.
    None,
    /// A bool (value not kept).
    Bool,
    /// An int that fits in i64.
    Int(i64),
    /// An int, float or other scalar whose exact value is not kept.
    Number,
    /// A text string (at most the VM's string bound).
    Str(Rc<str>),
    /// A string too long to keep; its content is unknown.
    LongStr,
    /// A bytes object (content not kept).
    Bytes,
    /// A global resolved by GLOBAL/STACK_GLOBAL/INST (index into the VM's
    /// global list).
    Global(usize),
    /// A container or instance on the heap.
    Ref(usize),
    /// Something whose value only exists at load time: a call result, a
    /// persistent id, an out-of-band buffer.
    Opaque,
}

/// A heap object.
#[derive(Debug)]
pub enum Obj {
    /// A list.
    List(Vec<Value>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A dict as key/value pairs in insertion order.
    Dict(Vec<(Value, Value)>),
    /// A set or frozenset.
    Set(Vec<Value>),
    /// The result of calling a callable: REDUCE, NEWOBJ, OBJ, INST.
    Instance {
        /// The callable, when it was a resolved global.
        class: Option<usize>,
        /// The call's arguments.
        args: Value,
        /// State given by BUILD.
        state: Option<Value>,
    },
}

/// The object store with an element budget.
#[derive(Debug)]
pub struct Heap {
    objs: Vec<Obj>,
    elements: usize,
    limit: usize,
    /// Whether the budget ran out (some elements were not recorded).
    pub truncated: bool,
}

impl Heap {
    /// A heap that records at most `limit` objects plus elements.
    pub fn new(limit: usize) -> Heap {
        Heap {
            objs: Vec::new(),
            elements: 0,
            limit,
            truncated: false,
        }
    }

    /// Store an object; [`Value::Opaque`] when the budget is spent.
    pub fn alloc(&mut self, obj: Obj) -> Value {
        let size = 1 + match &obj {
            Obj::List(v) | Obj::Tuple(v) | Obj::Set(v) => v.len(),
            Obj::Dict(v) => v.len(),
            Obj::Instance { .. } => 1,
        };
        if self.elements + size > self.limit {
            self.truncated = true;
            return Value::Opaque;
        }
        self.elements += size;
        self.objs.push(obj);
        Value::Ref(self.objs.len() - 1)
    }

    /// The object behind a value, if it is a heap reference.
    pub fn get(&self, value: &Value) -> Option<&Obj> {
        match value {
            Value::Ref(i) => self.objs.get(*i),
            _ => None,
        }
    }

    /// Mutable access, charging `extra` elements to the budget first. `None`
    /// when the value is not on the heap or the budget is spent.
    pub fn get_mut(&mut self, value: &Value, extra: usize) -> Option<&mut Obj> {
        let Value::Ref(i) = value else {
            return None;
        };
        if self.elements + extra > self.limit {
            self.truncated = true;
            return None;
        }
        self.elements += extra;
        self.objs.get_mut(*i)
    }

    /// Items of a tuple or list value.
    pub fn items(&self, value: &Value) -> Option<&[Value]> {
        match self.get(value)? {
            Obj::Tuple(v) | Obj::List(v) => Some(v),
            _ => None,
        }
    }

    /// Look a string key up in a dict value.
    pub fn dict_get<'a>(&'a self, dict: &Value, key: &str) -> Option<&'a Value> {
        match self.get(dict)? {
            Obj::Dict(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| matches!(k, Value::Str(s) if &**s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_budget_degrades_to_opaque() {
        let mut heap = Heap::new(3);
        let a = heap.alloc(Obj::List(vec![Value::None]));
        assert!(matches!(a, Value::Ref(0)));
        assert!(heap.get_mut(&a, 1).is_some());
        assert!(matches!(heap.alloc(Obj::Tuple(vec![])), Value::Opaque));
        assert!(heap.truncated);
    }

    #[test]
    fn dict_lookup_takes_last_key() {
        let mut heap = Heap::new(100);
        let d = heap.alloc(Obj::Dict(vec![
            (Value::Str("k".into()), Value::Int(1)),
            (Value::Str("k".into()), Value::Int(2)),
        ]));
        assert!(matches!(heap.dict_get(&d, "k"), Some(Value::Int(2))));
    }
}
