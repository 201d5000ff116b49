//! joblib's `NumpyArrayWrapper`: joblib writes each numpy array's raw bytes
//! straight into the pickle stream right after the wrapper's BUILD opcode
//! (and, for object arrays, a whole nested pickle). `joblib.load` reads them
//! from the file at that point, so the VM must skip exactly those bytes, or
//! run the nested pickle, to stay in step with the real loader.

use super::GlobalRef;
use super::value::{Heap, Obj, Value};

/// What follows a wrapper's BUILD in the stream.
#[derive(Debug, PartialEq)]
pub enum ArrayData {
    /// Raw array bytes, preceded by a padding-length byte and padding when
    /// the wrapper has `numpy_array_alignment_bytes`.
    Raw {
        /// Array size in bytes.
        bytes: u64,
        /// Whether an alignment padding header precedes the bytes.
        aligned: bool,
    },
    /// An object array: a nested pickle follows.
    Objects,
    /// The wrapper's state cannot be understood.
    Unknown(String),
}

/// Whether `module.name` is joblib's array wrapper class.
pub fn is_array_wrapper(module: &str, name: &str) -> bool {
    name == "NumpyArrayWrapper"
        && matches!(
            module,
            "joblib.numpy_pickle" | "sklearn.externals.joblib.numpy_pickle"
        )
}

/// Work out what follows a wrapper from its BUILD state dict.
pub fn array_data(heap: &Heap, globals: &[GlobalRef], state: &Value) -> ArrayData {
    let Some(shape) = heap.dict_get(state, "shape") else {
        return ArrayData::Unknown("state has no shape".into());
    };
    let Some(dims) = heap.items(shape) else {
        return ArrayData::Unknown("shape is not a tuple".into());
    };
    let mut count: u64 = 1;
    for d in dims {
        match d {
            Value::Int(n) if *n >= 0 => match count.checked_mul(*n as u64) {
                Some(c) => count = c,
                None => return ArrayData::Unknown("shape overflows".into()),
            },
            _ => return ArrayData::Unknown("shape has a non-integer".into()),
        }
    }
    let Some(dtype) = heap.dict_get(state, "dtype") else {
        return ArrayData::Unknown("state has no dtype".into());
    };
    let (itemsize, objects) = match dtype_size(heap, globals, dtype) {
        Ok(x) => x,
        Err(why) => return ArrayData::Unknown(why),
    };
    if objects {
        return ArrayData::Objects;
    }
    let aligned = !matches!(
        heap.dict_get(state, "numpy_array_alignment_bytes"),
        None | Some(Value::None)
    );
    match count.checked_mul(itemsize) {
        Some(bytes) => ArrayData::Raw { bytes, aligned },
        None => ArrayData::Unknown("array size overflows".into()),
    }
}

/// Item size and "holds Python objects" of a pickled `numpy.dtype`.
fn dtype_size(heap: &Heap, globals: &[GlobalRef], dtype: &Value) -> Result<(u64, bool), String> {
    let Some(Obj::Instance { class, args, state }) = heap.get(dtype) else {
        return Err("dtype is not a numpy.dtype instance".into());
    };
    let is_dtype = class
        .and_then(|c| globals.get(c))
        .is_some_and(|g| g.name == "dtype" && g.module.starts_with("numpy"));
    if !is_dtype {
        return Err("dtype is not a numpy.dtype instance".into());
    }
    let Some(Value::Str(code)) = heap.items(args).and_then(|a| a.first()) else {
        return Err("dtype code is not a string".into());
    };
    // BUILD state: (version, byteorder, subdescr, names, fields, elsize, alignment, flags)
    let st = state.as_ref().and_then(|s| heap.items(s)).unwrap_or(&[]);
    let flags = match st.get(7) {
        Some(Value::Int(f)) => *f,
        _ => 0,
    };
    let elsize = match st.get(5) {
        Some(Value::Int(n)) if *n > 0 => Some(*n as u64),
        _ => None,
    };
    let kind = code.chars().next().unwrap_or('?');
    if kind == 'O' || flags & 1 != 0 {
        return Ok((8, true));
    }
    let digits: String = code.chars().skip(1).collect();
    let n: u64 = if digits.is_empty() {
        0
    } else {
        digits
            .parse()
            .map_err(|_| format!("unknown dtype code {code}"))?
    };
    let size = match kind {
        'b' | 'i' | 'u' | 'f' | 'c' | 'm' | 'M' | 'S' | 'a' | 'V' => n,
        'U' => n.saturating_mul(4),
        '?' if code.as_ref() == "?" => 1,
        _ => return Err(format!("unknown dtype code {code}")),
    };
    Ok((elsize.unwrap_or(size), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(module: &str, name: &str) -> GlobalRef {
        GlobalRef {
            offset: 0,
            module: module.into(),
            name: name.into(),
            opcode: "STACK_GLOBAL",
            invoked: true,
        }
    }

    #[test]
    fn float_array_size_from_state() {
        let globals = vec![global("numpy", "dtype")];
        let mut heap = Heap::new(1000);
        let args = heap.alloc(Obj::Tuple(vec![Value::Str("f8".into())]));
        let dtype = heap.alloc(Obj::Instance {
            class: Some(0),
            args,
            state: None,
        });
        let shape = heap.alloc(Obj::Tuple(vec![Value::Int(3), Value::Int(4)]));
        let state = heap.alloc(Obj::Dict(vec![
            (Value::Str("shape".into()), shape),
            (Value::Str("dtype".into()), dtype),
            (
                Value::Str("numpy_array_alignment_bytes".into()),
                Value::Int(16),
            ),
        ]));
        assert_eq!(
            array_data(&heap, &globals, &state),
            ArrayData::Raw {
                bytes: 96,
                aligned: true
            }
        );
    }

    #[test]
    fn wrapper_names() {
        assert!(is_array_wrapper("joblib.numpy_pickle", "NumpyArrayWrapper"));
        assert!(!is_array_wrapper("os", "NumpyArrayWrapper"));
    }
}
