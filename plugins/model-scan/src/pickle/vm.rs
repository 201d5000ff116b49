//! The pickle virtual machine: executes every opcode of protocols 0-5 the
//! way CPython's `_pickle` unpickler does (stack, MARK metastack, memo,
//! frames), except that it never imports or calls anything. Each callable a
//! pickle can reach is recorded as a [`GlobalRef`] with the opcode's byte
//! offset; the policy module classifies them. Structural errors stop the
//! run with a [`ReadError`], after everything seen before them was recorded.

use std::collections::HashMap;

use super::joblib::{self, ArrayData};
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
        memo: HashMap::new(),
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

struct Vm<'a> {
    r: &'a mut BlobReader,
    limits: &'a Limits,
    rep: &'a mut Report,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    heap: Heap,
    frame_end: Option<u64>,
    depth: u32,
}

enum Flow {
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

    fn limit(&mut self, at: u64, detail: String) -> ReadResult<()> {
        self.rep.limited = true;
        self.anomaly(at, AnomalyKind::Limit, detail);
        Ok(())
    }

    fn anomaly(&mut self, offset: u64, kind: AnomalyKind, detail: String) {
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

    fn base(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> ReadResult<Value> {
        if self.stack.len() <= self.base() {
            return err(self.r, "unpickling stack underflow");
        }
        Ok(self.stack.pop().unwrap_or(Value::None))
    }

    fn top(&self) -> ReadResult<Value> {
        if self.stack.len() <= self.base() {
            return err(self.r, "unpickling stack underflow");
        }
        Ok(self.stack.last().cloned().unwrap_or(Value::None))
    }

    fn pop_mark(&mut self) -> ReadResult<Vec<Value>> {
        match self.marks.pop() {
            Some(base) => Ok(self.stack.split_off(base.min(self.stack.len()))),
            None => err(self.r, "MARK not found"),
        }
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn text(&self, s: String) -> Value {
        if s.len() <= self.limits.max_str {
            Value::Str(s.into())
        } else {
            Value::LongStr
        }
    }

    fn bytes_text(&self, raw: Option<Vec<u8>>, utf8: bool) -> Value {
        match raw {
            None => Value::LongStr,
            Some(b) if utf8 => self.text(String::from_utf8_lossy(&b).into_owned()),
            Some(b) => self.text(b.iter().map(|&c| c as char).collect()),
        }
    }

    fn global(&mut self, at: u64, module: String, name: String, opcode: &'static str) -> Value {
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

    fn call(&mut self, callable: &Value, args: Value) -> Value {
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

    fn line_text(&mut self) -> ReadResult<String> {
        let (raw, _) = read::line(self.r, self.limits.max_str)?;
        match String::from_utf8(raw) {
            Ok(s) => Ok(s),
            Err(_) => err(self.r, "line is not UTF-8"),
        }
    }

    fn memo_key(&mut self, raw: &[u8]) -> ReadResult<u64> {
        match std::str::from_utf8(raw)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            Some(k) => Ok(k),
            None => err(self.r, "bad memo key"),
        }
    }

    fn memo_get(&mut self, key: u64) -> ReadResult<()> {
        match self.memo.get(&key) {
            Some(v) => {
                let v = v.clone();
                self.push(v);
                Ok(())
            }
            None => err(self.r, format!("memo value {key} not found")),
        }
    }

    fn memo_put(&mut self, at: u64, key: u64) -> ReadResult<Flow> {
        let v = self.top()?;
        if self.memo.len() >= self.limits.max_memo && !self.memo.contains_key(&key) {
            self.limit(
                at,
                format!("more than {} memo entries", self.limits.max_memo),
            )?;
            return Ok(Flow::Done);
        }
        self.memo.insert(key, v);
        Ok(Flow::Next)
    }

    fn int_line(&mut self, long: bool) -> ReadResult<Value> {
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

    fn step(&mut self, op: u8, at: u64) -> ReadResult<Flow> {
        let keep = self.limits.max_str;
        match op {
            b'(' => self.marks.push(self.stack.len()),
            b'.' => {
                self.pop()?;
                return Ok(Flow::Done);
            }
            b'0' => {
                if self.stack.len() > self.base() {
                    self.stack.pop();
                } else {
                    self.pop_mark()?;
                }
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let v = self.top()?;
                self.push(v);
            }
            b'F' => {
                let (raw, _) = read::line(self.r, 4096)?;
                if String::from_utf8_lossy(&raw).trim().parse::<f64>().is_err() {
                    return err(self.r, "invalid float literal");
                }
                self.push(Value::Number);
            }
            b'I' => {
                let v = self.int_line(false)?;
                self.push(v);
            }
            b'L' => {
                let v = self.int_line(true)?;
                self.push(v);
            }
            b'N' => self.push(Value::None),
            b'P' => {
                read::line(self.r, keep)?;
                self.push(Value::Opaque);
            }
            b'Q' => {
                self.pop()?;
                self.push(Value::Opaque);
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = self.call(&callable, args);
                self.push(v);
            }
            b'S' => {
                let (raw, complete) = read::line(self.r, keep)?;
                let v = match (complete, read::unrepr(&raw)) {
                    (false, _) => Value::LongStr,
                    (true, Some(s)) => self.text(s),
                    (true, None) => return err(self.r, "STRING argument is not a quoted string"),
                };
                self.push(v);
            }
            b'V' => {
                let (raw, complete) = read::line(self.r, keep)?;
                let v = if complete {
                    self.text(read::raw_unicode_escape(&raw))
                } else {
                    Value::LongStr
                };
                self.push(v);
            }
            b'a' => {
                let v = self.pop()?;
                let list = self.top()?;
                if let Some(Obj::List(items)) = self.heap.get_mut(&list, 1) {
                    items.push(v);
                }
            }
            b'e' => {
                let items = self.pop_mark()?;
                let list = self.top()?;
                if let Some(Obj::List(v)) = self.heap.get_mut(&list, items.len()) {
                    v.extend(items);
                }
            }
            b'b' => return self.build(),
            b'c' | b'i' => {
                let module = self.line_text()?;
                let name = self.line_text()?;
                let opcode = if op == b'c' { "GLOBAL" } else { "INST" };
                let g = self.global(at, module, name, opcode);
                if op == b'c' {
                    self.push(g);
                } else {
                    let args = self.pop_mark()?;
                    let args = self.heap.alloc(Obj::Tuple(args));
                    let v = self.call(&g, args);
                    self.push(v);
                }
            }
            b'd' | b'u' => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return err(self.r, "odd number of items for a dict");
                }
                let mut pairs = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                if op == b'd' {
                    let v = self.heap.alloc(Obj::Dict(pairs));
                    self.push(v);
                } else {
                    let dict = self.top()?;
                    if let Some(Obj::Dict(d)) = self.heap.get_mut(&dict, pairs.len()) {
                        d.extend(pairs);
                    }
                }
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                let dict = self.top()?;
                if let Some(Obj::Dict(d)) = self.heap.get_mut(&dict, 1) {
                    d.push((k, v));
                }
            }
            b'}' => {
                let v = self.heap.alloc(Obj::Dict(Vec::new()));
                self.push(v);
            }
            b']' => {
                let v = self.heap.alloc(Obj::List(Vec::new()));
                self.push(v);
            }
            b')' => {
                let v = self.heap.alloc(Obj::Tuple(Vec::new()));
                self.push(v);
            }
            0x8f => {
                let v = self.heap.alloc(Obj::Set(Vec::new()));
                self.push(v);
            }
            b'l' | b't' | 0x91 => {
                let items = self.pop_mark()?;
                let obj = match op {
                    b'l' => Obj::List(items),
                    b't' => Obj::Tuple(items),
                    _ => Obj::Set(items),
                };
                let v = self.heap.alloc(obj);
                self.push(v);
            }
            0x90 => {
                let items = self.pop_mark()?;
                let set = self.top()?;
                if let Some(Obj::Set(s)) = self.heap.get_mut(&set, items.len()) {
                    s.extend(items);
                }
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop()?);
                }
                items.reverse();
                let v = self.heap.alloc(Obj::Tuple(items));
                self.push(v);
            }
            b'g' => {
                let (raw, _) = read::line(self.r, 64)?;
                let key = self.memo_key(&raw)?;
                self.memo_get(key)?;
            }
            b'h' => {
                let key = read::uint(self.r, 1)?;
                self.memo_get(key)?;
            }
            b'j' => {
                let key = read::uint(self.r, 4)?;
                self.memo_get(key)?;
            }
            b'p' => {
                let (raw, _) = read::line(self.r, 64)?;
                let key = self.memo_key(&raw)?;
                return self.memo_put(at, key);
            }
            b'q' => {
                let key = read::uint(self.r, 1)?;
                return self.memo_put(at, key);
            }
            b'r' => {
                let key = read::uint(self.r, 4)?;
                return self.memo_put(at, key);
            }
            0x94 => {
                let key = self.memo.len() as u64;
                return self.memo_put(at, key);
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return err(self.r, "OBJ without a class");
                }
                let cls = items.remove(0);
                let args = self.heap.alloc(Obj::Tuple(items));
                let v = self.call(&cls, args);
                self.push(v);
            }
            0x81 | 0x92 => {
                if op == 0x92 {
                    self.pop()?;
                }
                let args = self.pop()?;
                let cls = self.pop()?;
                let v = self.call(&cls, args);
                self.push(v);
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                let v = self.stack_global(at, module, name)?;
                self.push(v);
            }
            0x82..=0x84 => {
                let width = [1, 2, 4][(op - 0x82) as usize];
                let code = read::uint(self.r, width)?;
                self.anomaly(at, AnomalyKind::ExtCode, format!("extension code {code}"));
                self.push(Value::Opaque);
            }
            b'J' => {
                let v = read::uint(self.r, 4)? as u32 as i32;
                self.push(Value::Int(v as i64));
            }
            b'K' => {
                let v = read::uint(self.r, 1)?;
                self.push(Value::Int(v as i64));
            }
            b'M' => {
                let v = read::uint(self.r, 2)?;
                self.push(Value::Int(v as i64));
            }
            0x8a => {
                let n = read::uint(self.r, 1)?;
                let raw = read::payload(self.r, n, 8)?;
                let v = match raw {
                    Some(b) if !b.is_empty() => {
                        let mut buf = if b[b.len() - 1] & 0x80 != 0 {
                            [0xffu8; 8]
                        } else {
                            [0u8; 8]
                        };
                        buf[..b.len()].copy_from_slice(&b);
                        Value::Int(i64::from_le_bytes(buf))
                    }
                    Some(_) => Value::Int(0),
                    None => Value::Number,
                };
                self.push(v);
            }
            0x8b => {
                let n = read::uint(self.r, 4)? as u32 as i32;
                if n < 0 {
                    return err(self.r, "negative LONG4 length");
                }
                read::payload(self.r, n as u64, 0)?;
                self.push(Value::Number);
            }
            b'G' => {
                read::uint(self.r, 8)?;
                self.push(Value::Number);
            }
            b'T' | b'U' => {
                let n = if op == b'T' {
                    let n = read::uint(self.r, 4)? as u32 as i32;
                    if n < 0 {
                        return err(self.r, "negative BINSTRING length");
                    }
                    n as u64
                } else {
                    read::uint(self.r, 1)?
                };
                let raw = read::payload(self.r, n, keep)?;
                let v = self.bytes_text(raw, false);
                self.push(v);
            }
            b'X' | 0x8c | 0x8d => {
                let width = match op {
                    b'X' => 4,
                    0x8c => 1,
                    _ => 8,
                };
                let n = read::uint(self.r, width)?;
                let raw = read::payload(self.r, n, keep)?;
                let v = self.bytes_text(raw, true);
                self.push(v);
            }
            b'B' | b'C' | 0x8e | 0x96 => {
                let width = match op {
                    b'B' => 4,
                    b'C' => 1,
                    _ => 8,
                };
                let n = read::uint(self.r, width)?;
                read::payload(self.r, n, 0)?;
                self.push(Value::Bytes);
            }
            0x88 | 0x89 => self.push(Value::Bool),
            0x80 => {
                let proto = read::uint(self.r, 1)? as u8;
                if proto > 5 {
                    return err(self.r, format!("unsupported pickle protocol {proto}"));
                }
                self.rep.protocol = self.rep.protocol.max(proto);
            }
            0x95 => {
                let len = read::uint(self.r, 8)?;
                if let Some(end) = self.frame_end
                    && end != at
                {
                    self.anomaly(
                        at,
                        AnomalyKind::Frame,
                        format!("new frame at {at} before the end of the current frame at {end}"),
                    );
                }
                if len > self.r.remaining() {
                    self.anomaly(
                        at,
                        AnomalyKind::Frame,
                        format!(
                            "frame declares {len} bytes but only {} remain",
                            self.r.remaining()
                        ),
                    );
                }
                self.frame_end = Some(self.r.pos().saturating_add(len));
            }
            0x97 => self.push(Value::Opaque),
            0x98 => {
                self.top()?;
            }
            other => return err(self.r, format!("invalid opcode 0x{other:02x} at {at}")),
        }
        Ok(Flow::Next)
    }

    fn stack_global(&mut self, at: u64, module: Value, name: Value) -> ReadResult<Value> {
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

    fn build(&mut self) -> ReadResult<Flow> {
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
