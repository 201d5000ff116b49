//! The opcode table: what each of the protocol 0-5 opcodes does to the
//! VM's stack, marks, memo and frame state (CPython `_pickle.c` semantics;
//! see `pickletools` for the opcode list). Split from [`super::vm`], which
//! owns the run loop and the helpers used here.

use super::AnomalyKind;
use super::read::{self, ReadResult, err};
use super::value::{Obj, Value};
use super::vm::{Flow, Vm};

impl Vm<'_> {
    /// Execute one opcode `op` that started at offset `at`.
    pub(super) fn step(&mut self, op: u8, at: u64) -> ReadResult<Flow> {
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
}
