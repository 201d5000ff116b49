//! Dense attribute storage (HDF5 1.8+, h5py `libver="latest"` with more
//! than 8 attributes): the attribute messages live in a fractal heap and a
//! v2 B-tree indexes them by name. This reads the B-tree's records (a root
//! leaf, or an internal root over leaves), resolves each managed heap ID
//! through the heap's doubling table (a root direct block, or a root
//! indirect block over direct blocks) and decodes the attribute message
//! with the compact-storage decoder. Huge objects (an attribute over the
//! heap's managed-object size: a Keras 2 fixed-length `model_config` over
//! 4 KiB) are found through the huge-object B-tree. Tiny heap objects,
//! filtered heaps and deeper trees are an `Err` (the caller falls back to
//! a byte search). Every count, shift and address is checked.

use super::{Attr, File, Res, attribute, uint};

/// Most B-tree records read.
const MAX_RECORDS: u64 = 65_536;
/// Most rows of a doubling table followed.
const MAX_ROWS: u64 = 48;

/// A little-endian field cursor.
struct Cur<'a> {
    b: &'a [u8],
    p: usize,
}

impl Cur<'_> {
    fn n(&mut self, k: usize) -> Res<u64> {
        let v = uint(self.b, self.p, k)?;
        self.p += k;
        Ok(v)
    }
    fn sig(&mut self, s: &[u8]) -> Res<()> {
        if !self.b[self.p.min(self.b.len())..].starts_with(s) {
            return Err(format!("{} signature missing", String::from_utf8_lossy(s)));
        }
        self.p += s.len();
        Ok(())
    }
}

/// `H5VM_limit_enc_size`: bytes to encode values up to `x`.
fn enc_size(x: u64) -> usize {
    (63 - x.max(1).leading_zeros() as usize) / 8 + 1
}

fn log2(x: u64) -> u32 {
    63 - x.max(1).leading_zeros()
}

/// The parts of a fractal heap header needed to find managed objects.
struct Heap {
    id_len: usize,
    width: u64,
    start: u64,
    max_direct: u64,
    off_bytes: usize,
    len_bytes: usize,
    root: u64,
    rows: u64,
    /// The v2 B-tree of huge objects (type 1 records), if any.
    huge: Option<u64>,
}

fn read_heap(f: &File, addr: u64) -> Res<Heap> {
    let b = f.read(
        addr,
        (f.blob.len().saturating_sub(f.base.saturating_add(addr))).min(256),
    )?;
    let (o, l) = (f.off, f.len);
    let mut c = Cur { b: &b, p: 0 };
    c.sig(b"FRHP")?;
    c.n(1)?;
    let id_len = c.n(2)? as usize;
    if c.n(2)? != 0 {
        return Err("filtered fractal heap".into());
    }
    c.n(1)?;
    let max_man = c.n(4)?;
    c.n(l)?;
    let huge = Some(c.n(o)?).filter(|&a| !f.undefined(a));
    for k in [l, o, l, l, l, l, l, l, l, l] {
        c.n(k)?;
    }
    let width = c.n(2)?;
    let start = c.n(l)?;
    let max_direct = c.n(l)?;
    let max_bits = c.n(2)?;
    c.n(2)?;
    let root = c.n(o)?;
    let rows = c.n(2)?;
    if width == 0 || !start.is_power_of_two() || !max_direct.is_power_of_two() || max_direct < start
    {
        return Err("invalid fractal heap doubling table".into());
    }
    if rows > MAX_ROWS || max_bits > 64 || id_len > 64 {
        return Err("fractal heap too large".into());
    }
    Ok(Heap {
        id_len,
        width,
        start,
        max_direct,
        off_bytes: (max_bits as usize).div_ceil(8),
        len_bytes: (log2(max_direct) as usize)
            .div_ceil(8)
            .min(enc_size(max_man)),
        root,
        rows,
        huge,
    })
}

impl Heap {
    /// The bytes of the object a heap ID names (managed or huge).
    fn object(&self, f: &File, id: &[u8]) -> Res<Vec<u8>> {
        let kind = id.first().ok_or("empty heap ID")? >> 4 & 3;
        if kind == 1 {
            return self.huge_object(f, id);
        }
        if kind != 0 {
            return Err("tiny fractal heap object".into());
        }
        let offset = uint(id, 1, self.off_bytes)?;
        let len = uint(id, 1 + self.off_bytes, self.len_bytes)?;
        if len > f.max_text.saturating_add(4096) {
            return Err(format!("heap object of {len} bytes is over the bound"));
        }
        let (block, block_off) = self.block_of(f, offset)?;
        if f.read(block, 4)? != b"FHDB" {
            return Err("FHDB signature missing".into());
        }
        f.read(
            block.checked_add(offset - block_off).ok_or("overflow")?,
            len,
        )
    }

    /// A huge object: its address and length are in the heap ID when they
    /// fit, else in the huge-object B-tree under the ID's key.
    fn huge_object(&self, f: &File, id: &[u8]) -> Res<Vec<u8>> {
        let (o, l) = (f.off, f.len);
        let (addr, len) = if self.id_len > o + l {
            (uint(id, 1, o)?, uint(id, 1 + o, l)?)
        } else {
            let key = uint(id, 1, (self.id_len - 1).min(l))?;
            let tree = self
                .huge
                .ok_or("huge object without a huge-object B-tree")?;
            let rec = records(f, tree, 1)?
                .into_iter()
                .find(|r| uint(r, o + l, l).is_ok_and(|k| k == key))
                .ok_or("huge object not in its B-tree")?;
            (uint(&rec, 0, o)?, uint(&rec, o, l)?)
        };
        if len > f.max_text.saturating_add(4096) {
            return Err(format!("heap object of {len} bytes is over the bound"));
        }
        f.read(addr, len)
    }

    /// The direct block holding heap offset `o`: `(address, its heap offset)`.
    fn block_of(&self, f: &File, o: u64) -> Res<(u64, u64)> {
        if self.rows == 0 {
            return (o < self.start)
                .then_some((self.root, 0))
                .ok_or_else(|| "heap offset outside the root block".into());
        }
        let direct_rows = u64::from(log2(self.max_direct) - log2(self.start)) + 2;
        let mut row_start = 0u64;
        for r in 0..self.rows {
            let size = if r < 2 {
                self.start
            } else {
                self.start.checked_shl(r as u32 - 1).ok_or("overflow")?
            };
            let span = size.checked_mul(self.width).ok_or("overflow")?;
            if o < row_start.saturating_add(span) {
                if r >= direct_rows {
                    return Err("nested indirect fractal heap blocks".into());
                }
                let col = (o - row_start) / size;
                let head = 4 + 1 + f.off + self.off_bytes;
                let at = head as u64 + (r * self.width + col) * f.off as u64;
                let b = f.read(self.root, at + f.off as u64)?;
                if !b.starts_with(b"FHIB") {
                    return Err("FHIB signature missing".into());
                }
                let addr = uint(&b, at as usize, f.off)?;
                return Ok((addr, row_start + col * size));
            }
            row_start = row_start.saturating_add(span);
        }
        Err("heap offset past the doubling table".into())
    }
}

/// The records of a v2 B-tree of type `ty` (8: attribute names, whose
/// records start with a heap ID; 1: huge objects).
fn records(f: &File, addr: u64, ty: u64) -> Res<Vec<Vec<u8>>> {
    let b = f.read(addr, (16 + f.off + f.len) as u64)?;
    let mut c = Cur { b: &b, p: 0 };
    c.sig(b"BTHD")?;
    c.n(1)?;
    if c.n(1)? != ty {
        return Err(format!("not a type {ty} B-tree"));
    }
    let node = c.n(4)?;
    let rec = c.n(2)? as usize;
    let depth = c.n(2)?;
    c.n(2)?;
    let root = c.n(f.off)?;
    let root_n = c.n(2)?;
    if rec == 0 || node > 1 << 20 {
        return Err("invalid B-tree record size".into());
    }
    let mut ids = Vec::new();
    match depth {
        0 => leaf(f, root, root_n, rec, &mut ids)?,
        1 => {
            let max_leaf = (node.saturating_sub(10)) / rec as u64;
            let nrec_bytes = enc_size(max_leaf);
            let n = root_n as usize;
            let size = 6 + root_n * rec as u64 + (root_n + 1) * (f.off + nrec_bytes) as u64;
            let b = f.read(root, size)?;
            if !b.starts_with(b"BTIN") {
                return Err("BTIN signature missing".into());
            }
            let mut c = Cur { b: &b, p: 6 };
            for _ in 0..n {
                ids.push(b[c.p..c.p + rec].to_vec());
                c.p += rec;
            }
            for _ in 0..=n {
                let child = c.n(f.off)?;
                let count = c.n(nrec_bytes)?;
                leaf(f, child, count, rec, &mut ids)?;
            }
        }
        d => return Err(format!("attribute B-tree of depth {d}")),
    }
    Ok(ids)
}

fn leaf(f: &File, addr: u64, n: u64, rec: usize, ids: &mut Vec<Vec<u8>>) -> Res<()> {
    if n.saturating_add(ids.len() as u64) > MAX_RECORDS {
        return Err("too many attribute records".into());
    }
    let b = f.read(addr, 6 + n * rec as u64)?;
    if !b.starts_with(b"BTLF") {
        return Err("BTLF signature missing".into());
    }
    ids.extend(b[6..].chunks_exact(rec).map(<[u8]>::to_vec));
    Ok(())
}

/// The attributes an attribute info message's dense storage holds.
pub(super) fn attributes(f: &File, info: &[u8]) -> Res<Vec<Attr>> {
    let flags = *info.get(1).ok_or("truncated attribute info")?;
    let at = 2 + if flags & 1 != 0 { 2 } else { 0 };
    let heap = read_heap(f, uint(info, at, f.off)?)?;
    let names = records(f, uint(info, at + f.off, f.off)?, 8)?;
    names
        .iter()
        .map(|r| {
            attribute(
                f,
                &heap.object(f, r.get(..heap.id_len).ok_or("short record")?)?,
            )
        })
        .collect()
}
