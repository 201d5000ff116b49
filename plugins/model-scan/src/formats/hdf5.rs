//! A bounded HDF5 reader for one thing: the root group's attributes (Keras
//! stores `model_config` there; `keras.models.load_model` reads exactly
//! `f.attrs["model_config"]`). Superblock v0-v3, object headers v1 and v2
//! with continuation chunks, attribute messages v1-v3, fixed-length string
//! and variable-length string values (global heap), and dense attribute
//! storage (fractal heap + v2 B-tree, [`dense`]). Every address and
//! length is checked against the file and bounded; nothing panics. What it
//! does not read (huge heap objects, deep trees, shared datatypes) is an
//! `Err` or `dense`, and the caller falls back to a byte search.

use crate::source::Blob;

/// Most bytes of one object header chunk read.
const MAX_CHUNK: u64 = 4 << 20;
/// Most object header chunks followed (continuations).
const MAX_CHUNKS: usize = 64;
/// Most messages read from one object header.
const MAX_MESSAGES: usize = 4096;
/// Most bytes of a global heap collection read.
const MAX_HEAP: u64 = 64 << 20;

#[path = "hdf5_dense.rs"]
mod dense;

/// One root attribute: its name and, when it is a string, its bytes.
#[derive(Debug, Clone)]
pub struct Attr {
    /// Attribute name.
    pub name: String,
    /// String value (first element), `None` for other types.
    pub text: Option<Vec<u8>>,
}

/// What could be read of the root group.
#[derive(Debug, Default)]
pub struct Root {
    /// Attributes stored in the object header (compact storage).
    pub attrs: Vec<Attr>,
    /// Whether attributes are also in dense storage this reader could not
    /// follow (huge objects, deeper trees, filtered heaps).
    pub dense: bool,
}

type Res<T> = Result<T, String>;

struct File<'a> {
    blob: &'a Blob,
    base: u64,
    off: usize,
    len: usize,
    max_text: u64,
}

fn uint(b: &[u8], at: usize, n: usize) -> Res<u64> {
    let s = b
        .get(at..at.checked_add(n).ok_or("overflow")?)
        .ok_or("field past the end of its structure")?;
    Ok(s.iter().rev().fold(0u64, |v, &x| (v << 8) | x as u64))
}

impl File<'_> {
    fn read(&self, addr: u64, n: u64) -> Res<Vec<u8>> {
        let at = self.base.checked_add(addr).ok_or("address overflow")?;
        if at.checked_add(n).is_none_or(|end| end > self.blob.len()) {
            return Err(format!("{n} bytes at address {addr} lie outside the file"));
        }
        self.blob.read_at(at, n as usize).map_err(|e| e.to_string())
    }

    fn undefined(&self, addr: u64) -> bool {
        addr == u64::MAX >> (64 - 8 * self.off as u32)
    }
}

/// Read the root group's attributes. `max_text` bounds a string value.
pub fn root_attributes(blob: &Blob, max_text: u64) -> Res<Root> {
    let sb = blob.read_at(0, 128).map_err(|e| e.to_string())?;
    if !sb.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Err("no HDF5 signature".into());
    }
    let version = *sb.get(8).ok_or("truncated superblock")?;
    let (off, len, addrs_at) = match version {
        0 | 1 => (
            *sb.get(13).ok_or("truncated")? as usize,
            *sb.get(14).ok_or("truncated")? as usize,
            if version == 0 { 24 } else { 28 },
        ),
        2 | 3 => (
            *sb.get(9).ok_or("truncated")? as usize,
            *sb.get(10).ok_or("truncated")? as usize,
            12,
        ),
        v => return Err(format!("superblock version {v} is not supported")),
    };
    if ![2, 4, 8].contains(&off) || ![2, 4, 8].contains(&len) {
        return Err(format!("offset size {off} / length size {len} is invalid"));
    }
    let base = uint(&sb, addrs_at, off)?;
    let root = if version < 2 {
        // base, free space, end of file, driver info; then the root
        // symbol table entry: link name offset, object header address
        uint(&sb, addrs_at + 5 * off, off)?
    } else {
        // base, extension, end of file, root object header
        uint(&sb, addrs_at + 3 * off, off)?
    };
    let f = File {
        blob,
        base,
        off,
        len,
        max_text,
    };
    let mut out = Root::default();
    for (kind, data) in messages(&f, root)? {
        match kind {
            0x000C => out.attrs.push(attribute(&f, &data)?),
            0x0015 => {
                // attribute info: flags, [max creation index], fractal heap address
                let flags = *data.get(1).ok_or("truncated attribute info")?;
                let at = 2 + if flags & 1 != 0 { 2 } else { 0 };
                if !f.undefined(uint(&data, at, f.off)?) {
                    match dense::attributes(&f, &data) {
                        Ok(attrs) => out.attrs.extend(attrs),
                        Err(_) => out.dense = true,
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Every message of the object header at `addr`: `(type, data)`.
fn messages(f: &File, addr: u64) -> Res<Vec<(u16, Vec<u8>)>> {
    let head = f.read(addr, 16.min(f.blob.len().saturating_sub(addr)))?;
    let mut out = Vec::new();
    let mut chunks: Vec<(u64, u64, Chunk)> = Vec::new();
    let v2 = head.starts_with(b"OHDR");
    if v2 {
        let flags = *head.get(5).ok_or("truncated object header")?;
        let mut at = 6 + if flags & 0x20 != 0 { 16 } else { 0 };
        at += if flags & 0x10 != 0 { 4 } else { 0 };
        let width = 1usize << (flags & 3);
        let hdr = f.read(addr, (at + width) as u64)?;
        let size = uint(&hdr, at, width)?;
        let start = addr + (at + width) as u64;
        chunks.push((start, size, Chunk::V2First));
        read_chunks(f, &mut chunks, &mut out, flags & 0x04 != 0)?;
    } else {
        if head.first() != Some(&1) {
            return Err("object header version is not 1 or 2".into());
        }
        let size = uint(&head, 8, 4)?;
        chunks.push((addr + 16, size, Chunk::V1));
        read_chunks(f, &mut chunks, &mut out, false)?;
    }
    Ok(out)
}

/// Where a chunk of header messages sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// A v1 header's messages (or a v1 continuation).
    V1,
    /// The messages after an `OHDR` prefix (its checksum follows the chunk).
    V2First,
    /// An `OCHK` continuation: signature, messages, checksum.
    V2Cont,
}

fn read_chunks(
    f: &File,
    chunks: &mut Vec<(u64, u64, Chunk)>,
    out: &mut Vec<(u16, Vec<u8>)>,
    creation_order: bool,
) -> Res<()> {
    let mut i = 0;
    while i < chunks.len() {
        if i >= MAX_CHUNKS {
            return Err("too many object header continuation chunks".into());
        }
        let (start, size, kind) = chunks[i];
        let v2 = kind != Chunk::V1;
        i += 1;
        if size > MAX_CHUNK {
            return Err(format!("object header chunk of {size} bytes"));
        }
        let buf = f.read(start, size)?;
        let (mut p, end) = match kind {
            Chunk::V2Cont if buf.starts_with(b"OCHK") => (4, buf.len().saturating_sub(4)),
            Chunk::V2Cont => return Err("continuation chunk without OCHK".into()),
            _ => (0, buf.len()),
        };
        let header = if v2 {
            4 + usize::from(creation_order) * 2
        } else {
            8
        };
        while p + header <= end {
            if out.len() >= MAX_MESSAGES {
                return Err("too many object header messages".into());
            }
            let (kind, msize) = if v2 {
                (buf[p] as u16, uint(&buf, p + 1, 2)? as usize)
            } else {
                (uint(&buf, p, 2)? as u16, uint(&buf, p + 2, 2)? as usize)
            };
            let data_at = p + header;
            let data = buf
                .get(data_at..data_at + msize)
                .ok_or("object header message runs past its chunk")?
                .to_vec();
            if kind == 0x0010 {
                let at = uint(&data, 0, f.off)?;
                let n = uint(&data, f.off, f.len)?;
                if chunks.iter().any(|c| c.0 == at || c.0 + 4 == at) {
                    return Err("object header continuation loop".into());
                }
                chunks.push((at, n, if v2 { Chunk::V2Cont } else { Chunk::V1 }));
            } else {
                out.push((kind, data));
            }
            p = data_at + msize;
        }
    }
    Ok(())
}

/// Decode an attribute message.
fn attribute(f: &File, d: &[u8]) -> Res<Attr> {
    let version = *d.first().ok_or("empty attribute message")?;
    let flags = *d.get(1).ok_or("truncated attribute")?;
    let name_len = uint(d, 2, 2)? as usize;
    let type_len = uint(d, 4, 2)? as usize;
    let space_len = uint(d, 6, 2)? as usize;
    let pad = |n: usize| if version == 1 { n.div_ceil(8) * 8 } else { n };
    let name_at = match version {
        1 | 2 => 8,
        3 => 9,
        v => return Err(format!("attribute message version {v}")),
    };
    let type_at = name_at + pad(name_len);
    let space_at = type_at + pad(type_len);
    let data_at = space_at + pad(space_len);
    let raw_name = d.get(name_at..name_at + name_len).ok_or("truncated name")?;
    let name = String::from_utf8_lossy(raw_name)
        .trim_end_matches('\0')
        .to_string();
    if flags & 0x03 != 0 {
        // shared datatype or dataspace: not followed
        return Ok(Attr { name, text: None });
    }
    let dtype = d
        .get(type_at..type_at + type_len)
        .ok_or("truncated datatype")?;
    let class = dtype.first().ok_or("empty datatype")? & 0x0f;
    let size = uint(dtype, 4, 4)?;
    let data = d.get(data_at..).unwrap_or(&[]);
    let text = match class {
        // fixed-length string: the first element's bytes, NUL-padded
        3 => {
            let n = (size as usize).min(data.len());
            let s = &data[..n];
            let end = s.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            Some(s[..end].to_vec())
        }
        // variable-length string: (length, global heap collection, index)
        9 if dtype.get(1).is_some_and(|b| b & 0x0f == 1) => {
            let n = uint(data, 0, 4)?;
            let heap = uint(data, 4, f.off)?;
            let index = uint(data, 4 + f.off, 4)?;
            Some(heap_object(f, heap, index, n)?)
        }
        _ => None,
    };
    Ok(Attr { name, text })
}

/// Object `index` of the global heap collection at `addr`.
fn heap_object(f: &File, addr: u64, index: u64, want: u64) -> Res<Vec<u8>> {
    if want > f.max_text {
        return Err(format!(
            "attribute string of {want} bytes is over the bound"
        ));
    }
    let head = f.read(addr, 8 + f.len as u64)?;
    if !head.starts_with(b"GCOL") {
        return Err("global heap collection signature missing".into());
    }
    let size = uint(&head, 8, f.len)?.min(MAX_HEAP);
    let avail = f.blob.len().saturating_sub(f.base + addr);
    let buf = f.read(addr, size.min(avail))?;
    let mut p = 8 + f.len;
    while p + 8 + f.len <= buf.len() {
        let id = uint(&buf, p, 2)?;
        let n = uint(&buf, p + 8, f.len)? as usize;
        let data_at = p + 8 + f.len;
        if id == 0 {
            break; // free space: the end of the objects
        }
        if id == index {
            let end = data_at + n.min(want as usize);
            return Ok(buf
                .get(data_at..end)
                .ok_or("heap object truncated")?
                .to_vec());
        }
        p = data_at.checked_add(n.div_ceil(8) * 8).ok_or("overflow")?;
    }
    Err(format!("global heap object {index} not found"))
}

#[cfg(test)]
#[path = "hdf5_tests.rs"]
mod tests;
