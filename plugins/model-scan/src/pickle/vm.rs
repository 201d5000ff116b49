//! The pickle virtual machine: executes every opcode of protocols 0-5 the
//! way CPython's `_pickle` unpickler does (stack, MARK metastack, memo,
//! frames), except that it never imports or calls anything. Each callable a
//! pickle can reach is recorded as a [`GlobalRef`] with the opcode's byte
//! offset; the policy module classifies them. Structural errors stop the
//! run with a [`ReadError`], after everything seen before them was recorded.

use super::joblib::{self, ArrayData};
use super::memo::Memo;
use super::read::{self, ReadError, ReadResult, err};
use super::value::{Heap, Obj, Value};
use super::{Anomaly, AnomalyKind, GlobalRef, Limits, Report};
use crate::source::BlobReader;

/// Run one pickle from the reader's position until STOP, an error or a
/// limit. Everything found is added to `rep`.
pub fn run(r: &mut BlobReader, limits: &Limits, rep: &mut Report, depth: u32) {
    let mut vm = Vm {
        r,
        limits,
        rep,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Memo::default(),
        heap: Heap::new(limits.max_heap),
        frame_end: None,
        depth,
    };
    match vm.run() {
        Ok(()) => {}
        Err(e) => {
            if vm.rep.error.is_none() {
                vm.rep.error = Some(e);
            }
        }
    }
    vm.rep.heap_truncated |= vm.heap.truncated;
    vm.rep.end = vm.r.pos();
}

pub(super) struct Vm<'a> {
    pub(super) r: &'a mut BlobReader,
    pub(super) limits: &'a Limits,
    pub(super) rep: &'a mut Report,
    pub(super) stack: Vec<Value>,
    pub(super) marks: Vec<usize>,
    pub(super) memo: Memo,
    pub(super) heap: Heap,
    pub(super) frame_end: Option<u64>,
    pub(super) depth: u32,
}

pub(super) enum Flow {
    Next,
    Done,
}

impl Vm<'_> {
    fn run(&mut self) -> ReadResult<()> {
        loop {
            let at = self.r.pos();
            if self.rep.opcodes >= self.limits.max_opcodes {
                return self.limit(at, format!("more than {} opcodes", self.limits.max_opcodes));
            }
            if self.stack.len() > self.limits.max_stack {
                return self.limit(at, format!("stack deeper than {}", self.limits.max_stack));
            }
            let op = read::byte(self.r)?;
            self.rep.opcodes += 1;
            let flow = self.step(op, at).map_err(|mut e| {
                e.offset = at;
                e
            })?;
            self.check_frame(at);
            if let Flow::Done = flow {
                self.rep.stopped = true;
                return Ok(());
            }
        }
    }

    pub(super) fn limit(&mut self, at: u64, detail: String) -> ReadResult<()> {
        self.rep.limited = true;
        self.anomaly(at, AnomalyKind::Limit, detail);
        Ok(())
    }

    pub(super) fn anomaly(&mut self, offset: u64, kind: AnomalyKind, detail: String) {
        if self.rep.anomalies.len() < 1000 {
            self.rep.anomalies.push(Anomaly {
                offset,
                kind,
                detail,
            });
        }
    }

    fn check_frame(&mut self, at: u64) {
        if let Some(end) = self.frame_end {
            let pos = self.r.pos();
            if pos > end {
                self.anomaly(
                    at,
                    AnomalyKind::Frame,
                    format!("opcode at {at} runs past the end of its frame at {end}"),
                );
                self.frame_end = None;
            } else if pos == end {
                self.frame_end = None;
            }
        }
    }

    pub(super) fn base(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    pub(super) fn pop(&mut self) -> ReadResult<Value> {
        if self.stack.len() <= self.base() {
            return err(self.r, "unpickling stack underflow");
        }
        Ok(self.stack.pop().unwrap_or(Value::None))
    }

    pub(super) fn top(&self) -> ReadResult<Value> {
        if self.stack.len() <= self.base() {
            return err(self.r, "unpickling stack underflow");
        }
        Ok(self.stack.last().cloned().unwrap_or(Value::None))
    }

    pub(super) fn pop_mark(&mut self) -> ReadResult<Vec<Value>> {
        match self.marks.pop() {
            Some(base) => Ok(self.stack.split_off(base.min(self.stack.len()))),
            None => err(self.r, "MARK not found"),
        }
    }

    pub(super) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    pub(super) fn text(&self, s: String) -> Value {
        if s.len() <= self.limits.max_str {
            Value::Str(s.into())
        } else {
            Value::LongStr
        }
    }

    pub(super) fn bytes_text(&self, raw: Option<Vec<u8>>, utf8: bool) -> Value {
        match raw {
            None => Value::LongStr,
            Some(b) if utf8 => self.text(String::from_utf8_lossy(&b).into_owned()),
            Some(b) => self.text(b.iter().map(|&c| c as char).collect()),
        }
    }

    pub(super) fn global(
        &mut self,
        at: u64,
        module: String,
        name: String,
        opcode: &'static str,
    ) -> Value {
        let key = (module, name);
        if let Some(i) = self.rep.index.get(&key) {
            return Value::Global(*i);
        }
        if self.rep.globals.len() >= 10_000 {
            self.rep.limited = true;
            return Value::Opaque;
        }
        self.rep.globals.push(GlobalRef {
            offset: at,
            module: key.0.clone(),
            name: key.1.clone(),
            opcode,
            invoked: false,
        });
        let i = self.rep.globals.len() - 1;
        self.rep.index.insert(key, i);
        Value::Global(i)
    }

    pub(super) fn call(&mut self, callable: &Value, args: Value) -> Value {
        let mut class = None;
        if let Value::Global(i) = callable {
            self.rep.globals[*i].invoked = true;
            class = Some(*i);
            let g = &self.rep.globals[*i];
            let reconstructor = matches!(g.module.as_str(), "copyreg" | "copy_reg")
                && matches!(
                    g.name.as_str(),
                    "_reconstructor" | "__newobj__" | "__newobj_ex__"
                );
            if reconstructor
                && let Some(Value::Global(c)) = self.heap.items(&args).and_then(|a| a.first())
            {
                class = Some(*c);
            }
        }
        self.heap.alloc(Obj::Instance {
            class,
            args,
            state: None,
        })
    }

    pub(super) fn line_text(&mut self) -> ReadResult<String> {
        let (raw, _) = read::line(self.r, self.limits.max_str)?;
        match String::from_utf8(raw) {
            Ok(s) => Ok(s),
            Err(_) => err(self.r, "line is not UTF-8"),
        }
    }

    pub(super) fn memo_key(&mut self, raw: &[u8]) -> ReadResult<u64> {
        match std::str::from_utf8(raw)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            Some(k) => Ok(k),
            None => err(self.r, "bad memo key"),
        }
    }

    pub(super) fn memo_get(&mut self, key: u64) -> ReadResult<()> {
        match self.memo.get(key) {
            Some(v) => {
                let v = v.clone();
                self.push(v);
                Ok(())
            }
            None => err(self.r, format!("memo value {key} not found")),
        }
    }

    pub(super) fn memo_put(&mut self, at: u64, key: u64) -> ReadResult<Flow> {
        let v = self.top()?;
        if self.memo.len() >= self.limits.max_memo && !self.memo.contains_key(key) {
            self.limit(
                at,
                format!("more than {} memo entries", self.limits.max_memo),
            )?;
            return Ok(Flow::Done);
        }
        self.memo.insert(key, v);
        Ok(Flow::Next)
    }

    pub(super) fn int_line(&mut self, long: bool) -> ReadResult<Value> {
        let (raw, _) = read::line(self.r, 4096)?;
        let text = String::from_utf8_lossy(&raw);
        let mut t = text.trim();
        if long {
            t = t.strip_suffix('L').unwrap_or(t);
        }
        if !long && t == "00" {
            return Ok(Value::Bool);
        }
        if !long && t == "01" {
            return Ok(Value::Bool);
        }
        if let Ok(i) = t.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Value::Number)
        } else {
            err(self.r, "invalid integer literal")
        }
    }

    pub(super) fn stack_global(
        &mut self,
        at: u64,
        module: Value,
        name: Value,
    ) -> ReadResult<Value> {
        match (&module, &name) {
            (Value::Str(m), Value::Str(n)) => {
                Ok(self.global(at, m.to_string(), n.to_string(), "STACK_GLOBAL"))
            }
            _ if could_be_str(&self.heap, &module) && could_be_str(&self.heap, &name) => {
                let detail = format!(
                    "STACK_GLOBAL operands are not literal strings (module: {}, name: {})",
                    describe(&module),
                    describe(&name)
                );
                self.anomaly(at, AnomalyKind::NonLiteralGlobal, detail);
                Ok(Value::Opaque)
            }
            _ => err(self.r, "STACK_GLOBAL requires str operands"),
        }
    }

    pub(super) fn build(&mut self) -> ReadResult<Flow> {
        let state = self.pop()?;
        let inst = self.top()?;
        let mut class = None;
        if let Some(Obj::Instance {
            state: s, class: c, ..
        }) = self.heap.get_mut(&inst, 1)
        {
            *s = Some(state.clone());
            class = *c;
        }
        let Some(class) = class else {
            return Ok(Flow::Next);
        };
        let g = &self.rep.globals[class];
        if !joblib::is_array_wrapper(&g.module, &g.name) {
            return Ok(Flow::Next);
        }
        self.frame_end = None;
        match joblib::array_data(&self.heap, &self.rep.globals, &state) {
            ArrayData::Raw { bytes, aligned } => {
                if aligned {
                    let pad = read::byte(self.r)?;
                    read::payload(self.r, pad as u64, 0)?;
                }
                read::payload(self.r, bytes, 0)?;
            }
            ArrayData::Objects => {
                if self.depth >= self.limits.max_nested {
                    return err(self.r, "joblib object arrays nested too deeply");
                }
                run(self.r, self.limits, self.rep, self.depth + 1);
                if let Some(e) = self.rep.error.clone() {
                    return Err(e);
                }
                self.rep.stopped = false;
            }
            ArrayData::Unknown(why) => return err(self.r, format!("joblib array: {why}")),
        }
        Ok(Flow::Next)
    }
}

/// Whether a value could be a str when the real loader runs.
fn could_be_str(heap: &Heap, v: &Value) -> bool {
    match v {
        Value::Str(_) | Value::LongStr | Value::Opaque => true,
        Value::Ref(_) => matches!(heap.get(v), Some(Obj::Instance { .. })),
        _ => false,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("'{s}'"),
        Value::LongStr => "an over-long string".into(),
        Value::Opaque => "a value computed at load time".into(),
        Value::Ref(_) => "the result of a call".into(),
        other => format!("{other:?}"),
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError {
            offset: 0,
            message: e.to_string(),
        }
    }
}
