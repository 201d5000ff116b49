//! 7-Zip archives: the signature header, the (possibly LZMA-encoded) header
//! with its streams info (pack info, folders, substreams) and file names.
//! Folders coded with a single copy, LZMA, LZMA2, deflate or bzip2 coder
//! are decompressed within the scanner's bounds and split into their
//! files, each scanned by content. Other coder chains (BCJ filters, AES)
//! are `archive-unsupported`.

use std::io::Read;

use mlgate_plugin_sdk::Severity;

use super::compress;
use super::lzma::{self, Lzma};
use crate::rules;
use crate::scan::Scanner;
use crate::source::Blob;

/// Largest header read.
const MAX_HEADER: u64 = 16 << 20;
/// Most folders, files or streams accepted from a header.
const MAX_ITEMS: u64 = 100_000;

struct Cur<'a> {
    b: &'a [u8],
    p: usize,
}

type R<T> = Result<T, String>;

impl Cur<'_> {
    fn byte(&mut self) -> R<u8> {
        let v = *self.b.get(self.p).ok_or("header truncated")?;
        self.p += 1;
        Ok(v)
    }
    fn bytes(&mut self, n: u64) -> R<&[u8]> {
        let end = self
            .p
            .checked_add(n as usize)
            .filter(|&e| e <= self.b.len() && n < 1 << 32);
        let end = end.ok_or("header truncated")?;
        let s = &self.b[self.p..end];
        self.p = end;
        Ok(s)
    }
    fn num(&mut self) -> R<u64> {
        let first = self.byte()?;
        let mut mask = 0x80u8;
        let mut value = 0u64;
        for i in 0..8 {
            if first & mask == 0 {
                let high = (first & mask.wrapping_sub(1)) as u64;
                return Ok(value | (high << (8 * i)));
            }
            value |= (self.byte()? as u64) << (8 * i);
            mask >>= 1;
        }
        Ok(value)
    }
    fn count(&mut self) -> R<u64> {
        let n = self.num()?;
        if n > MAX_ITEMS {
            return Err(format!("{n} items exceed the bound"));
        }
        Ok(n)
    }
    fn bits(&mut self, n: u64) -> R<Vec<bool>> {
        let mut out = Vec::new();
        let mut cur = 0u8;
        for i in 0..n {
            if i % 8 == 0 {
                cur = self.byte()?;
            }
            out.push(cur & (0x80 >> (i % 8)) != 0);
        }
        Ok(out)
    }
    fn digests(&mut self, n: u64) -> R<()> {
        let all = self.byte()?;
        let defined = if all != 0 {
            vec![true; n as usize]
        } else {
            self.bits(n)?
        };
        self.bytes(4 * defined.iter().filter(|d| **d).count() as u64)?;
        Ok(())
    }
}

#[derive(Debug, Default, Clone)]
struct Folder {
    /// (coder id, props)
    coders: Vec<(Vec<u8>, Vec<u8>)>,
    unpack: u64,
}

#[derive(Debug, Default)]
struct Streams {
    pack_pos: u64,
    pack_sizes: Vec<u64>,
    folders: Vec<Folder>,
    /// Per folder, sizes of its files.
    sub: Vec<Vec<u64>>,
}

fn streams_info(c: &mut Cur) -> R<Streams> {
    let mut s = Streams::default();
    loop {
        match c.byte()? {
            0 => break,
            6 => {
                s.pack_pos = c.num()?;
                let n = c.count()?;
                loop {
                    match c.byte()? {
                        0 => break,
                        9 => s.pack_sizes = (0..n).map(|_| c.num()).collect::<R<_>>()?,
                        10 => c.digests(n)?,
                        t => return Err(format!("unexpected property {t} in pack info")),
                    }
                }
            }
            7 => {
                if c.byte()? != 11 {
                    return Err("folder list expected".into());
                }
                let n = c.count()?;
                if c.byte()? != 0 {
                    return Err("external folders are not supported".into());
                }
                let mut outs = Vec::new();
                for _ in 0..n {
                    let (f, total_out) = folder(c)?;
                    s.folders.push(f);
                    outs.push(total_out);
                }
                if c.byte()? != 12 {
                    return Err("unpack sizes expected".into());
                }
                for (f, total) in s.folders.iter_mut().zip(&outs) {
                    for i in 0..*total {
                        let size = c.num()?;
                        if i + 1 == *total {
                            f.unpack = size;
                        }
                    }
                }
                loop {
                    match c.byte()? {
                        0 => break,
                        10 => c.digests(n)?,
                        t => return Err(format!("unexpected property {t} in unpack info")),
                    }
                }
            }
            8 => {
                let mut nums = vec![1u64; s.folders.len()];
                let mut t = c.byte()?;
                if t == 13 {
                    for n in nums.iter_mut() {
                        *n = c.count()?;
                    }
                    t = c.byte()?;
                }
                s.sub = Vec::new();
                for (f, &n) in s.folders.iter().zip(&nums) {
                    let mut sizes = Vec::new();
                    if n > 0 {
                        let mut sum = 0u64;
                        for _ in 1..n {
                            let v = if t == 9 { c.num()? } else { 0 };
                            sum = sum.saturating_add(v);
                            sizes.push(v);
                        }
                        sizes.push(f.unpack.saturating_sub(sum));
                    }
                    s.sub.push(sizes);
                }
                if t == 9 {
                    t = c.byte()?;
                }
                while t != 0 {
                    if t == 10 {
                        let n: u64 = s.sub.iter().map(|v| v.len() as u64).sum();
                        c.digests(n)?;
                    } else {
                        return Err(format!("unexpected property {t} in substreams"));
                    }
                    t = c.byte()?;
                }
            }
            t => return Err(format!("unexpected property {t} in streams info")),
        }
    }
    if s.sub.is_empty() {
        s.sub = s.folders.iter().map(|f| vec![f.unpack]).collect();
    }
    Ok(s)
}

fn folder(c: &mut Cur) -> R<(Folder, u64)> {
    let n = c.count()?;
    let mut f = Folder::default();
    let (mut total_in, mut total_out) = (0u64, 0u64);
    for _ in 0..n {
        let flag = c.byte()?;
        let id = c.bytes((flag & 0x0f) as u64)?.to_vec();
        let (i, o) = if flag & 0x10 != 0 {
            (c.count()?, c.count()?)
        } else {
            (1, 1)
        };
        total_in += i;
        total_out += o;
        let props = if flag & 0x20 != 0 {
            let n = c.num()?;
            c.bytes(n)?.to_vec()
        } else {
            Vec::new()
        };
        f.coders.push((id, props));
    }
    for _ in 1..total_out {
        c.num()?;
        c.num()?;
    }
    let packed = total_in.saturating_sub(total_out.saturating_sub(1));
    if packed > 1 {
        for _ in 0..packed {
            c.num()?;
        }
    }
    Ok((f, total_out))
}

/// File names and which files have data, from FilesInfo.
fn files_info(c: &mut Cur) -> R<Vec<(String, bool)>> {
    let n = c.count()?;
    let mut names = vec![String::new(); n as usize];
    let mut has_stream = vec![true; n as usize];
    loop {
        let t = c.num()?;
        if t == 0 {
            break;
        }
        let size = c.num()?;
        let data = c.bytes(size)?.to_vec();
        let mut d = Cur { b: &data, p: 0 };
        match t {
            14 => has_stream = d.bits(n)?,
            17 if data.first() == Some(&0) => {
                let units: Vec<u16> = data[1..]
                    .chunks_exact(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]]))
                    .collect();
                for (slot, name) in names.iter_mut().zip(units.split(|&u| u == 0)) {
                    *slot = String::from_utf16_lossy(name);
                }
            }
            _ => {}
        }
    }
    Ok(names.into_iter().zip(has_stream).collect())
}

/// The x86 BCJ filter (7-Zip/xz `x86_code`, decoder direction) over a
/// whole buffer: relative E8/E9 call and jump targets back to the bytes the
/// archiver saw.
pub fn bcj_x86_decode(buf: &mut [u8]) {
    const ALLOWED: [bool; 8] = [true, true, true, false, true, false, false, false];
    const BIT: [u32; 8] = [0, 1, 2, 2, 3, 3, 3, 3];
    let ms = |b: u8| b == 0 || b == 0xff;
    if buf.len() < 5 {
        return;
    }
    let (mut prev_mask, mut prev_pos) = (0u32, 0u32.wrapping_sub(5));
    let mut pos = 0usize;
    while pos <= buf.len() - 5 {
        let b = buf[pos];
        if b != 0xe8 && b != 0xe9 {
            pos += 1;
            continue;
        }
        let offset = (pos as u32).wrapping_sub(prev_pos);
        prev_pos = pos as u32;
        if offset > 5 {
            prev_mask = 0;
        } else {
            for _ in 0..offset {
                prev_mask &= 0x77;
                prev_mask <<= 1;
            }
        }
        let b4 = buf[pos + 4];
        if ms(b4) && ALLOWED[((prev_mask >> 1) & 7) as usize] && (prev_mask >> 1) < 0x10 {
            let mut src = u32::from_le_bytes([buf[pos + 1], buf[pos + 2], buf[pos + 3], b4]);
            let mut dest;
            loop {
                dest = src.wrapping_sub(pos as u32 + 5);
                if prev_mask == 0 {
                    break;
                }
                let i = BIT[(prev_mask >> 1) as usize & 7];
                if !ms((dest >> (24 - i * 8)) as u8) {
                    break;
                }
                src = dest ^ ((1u32 << (32 - i * 8)).wrapping_sub(1));
            }
            buf[pos + 4] = !(((dest >> 24) & 1).wrapping_sub(1)) as u8;
            buf[pos + 3] = (dest >> 16) as u8;
            buf[pos + 2] = (dest >> 8) as u8;
            buf[pos + 1] = dest as u8;
            pos += 5;
            prev_mask = 0;
        } else {
            pos += 1;
            prev_mask |= 1;
            if ms(b4) {
                prev_mask |= 0x10;
            }
        }
    }
}

/// Decode one folder within the scanner's bounds: one coder, or the x86
/// BCJ filter over one coder.
fn decode(
    scanner: &mut Scanner,
    blob: &Blob,
    start: u64,
    size: u64,
    f: &Folder,
    chain: &[String],
) -> R<Vec<u8>> {
    const BCJ_X86: &[u8] = &[3, 3, 1, 3];
    // The filter sits before or after the codec in the coder list depending
    // on the writer (7-Zip, py7zr); with two coders the chain is the same.
    if let [a, b] = &f.coders[..]
        && (a.0 == BCJ_X86) != (b.0 == BCJ_X86)
    {
        let codec = if a.0 == BCJ_X86 { b } else { a };
        let inner = Folder {
            coders: vec![codec.clone()],
            unpack: f.unpack,
        };
        let mut out = decode(scanner, blob, start, size, &inner, chain)?;
        bcj_x86_decode(&mut out);
        return Ok(out);
    }
    let [(id, props)] = &f.coders[..] else {
        return Err(format!(
            "coder chains of {} coders are not supported",
            f.coders.len()
        ));
    };
    let packed = blob.slice(start, size).open().map_err(|e| e.to_string())?;
    let what = "7z folder";
    let out = match id.as_slice() {
        [0] => compress::inflate(scanner, packed, chain, what, Some(f.unpack)),
        [4, 1, 8] => compress::inflate(
            scanner,
            flate2::read::DeflateDecoder::new(packed),
            chain,
            what,
            Some(f.unpack),
        ),
        [4, 2, 2] => compress::inflate(
            scanner,
            bzip2::read::BzDecoder::new(packed),
            chain,
            what,
            Some(f.unpack),
        ),
        [3, 1, 1] if props.len() == 5 => {
            let mut head = props.clone();
            head.extend(f.unpack.to_le_bytes());
            let input = std::io::BufReader::new(std::io::Cursor::new(head).chain(packed));
            lzma::decode(scanner, Lzma::Alone, input, chain, what, Some(f.unpack))
        }
        [0x21] if props.len() == 1 => {
            let dict = match props[0] {
                40 => u32::MAX,
                p @ 0..=39 => (2 | u32::from(p & 1)) << (p / 2 + 11),
                p => return Err(format!("invalid LZMA2 dictionary property {p}")),
            };
            let input = std::io::BufReader::new(packed);
            lzma::decode(
                scanner,
                Lzma::Lzma2(dict),
                input,
                chain,
                what,
                Some(f.unpack),
            )
        }
        other => {
            return Err(format!(
                "coder {other:02x?} is not supported (encrypted or filtered)"
            ));
        }
    };
    out.ok_or_else(|| "folder does not decode".to_string())
}

/// Scan a 7z archive.
pub fn scan(scanner: &mut Scanner, blob: &Blob, chain: &mut Vec<String>, depth: u32) -> bool {
    if let Err(why) = scan_inner(scanner, blob, chain, depth) {
        scanner.hit(
            rules::UNSUPPORTED,
            Severity::High,
            chain,
            None,
            format!("7z archive cannot be fully inspected: {why}"),
            vec![("format".into(), "7z".into())],
            "7z",
        );
    }
    true
}

fn scan_inner(scanner: &mut Scanner, blob: &Blob, chain: &mut Vec<String>, depth: u32) -> R<()> {
    let sig = blob.read_at(0, 32).map_err(|e| e.to_string())?;
    if sig.len() < 32 {
        return Err("truncated signature header".into());
    }
    let off = u64::from_le_bytes(sig[12..20].try_into().unwrap_or([0; 8]));
    let size = u64::from_le_bytes(sig[20..28].try_into().unwrap_or([0; 8]));
    if size > MAX_HEADER || off.saturating_add(size).saturating_add(32) > blob.len() {
        return Err(format!("header ({size} bytes at {off}) is out of bounds"));
    }
    let mut header = blob
        .read_at(32 + off, size as usize)
        .map_err(|e| e.to_string())?;
    for _ in 0..4 {
        if header.first() != Some(&0x17) {
            break;
        }
        let mut c = Cur { b: &header, p: 1 };
        let s = streams_info(&mut c)?;
        let f = s.folders.first().ok_or("encoded header without a folder")?;
        let psize = *s
            .pack_sizes
            .first()
            .ok_or("encoded header without a pack size")?;
        header = decode(scanner, blob, 32 + s.pack_pos, psize, f, chain)?;
    }
    let mut c = Cur { b: &header, p: 0 };
    if c.byte()? != 1 {
        return Err("no header".into());
    }
    let mut streams = Streams::default();
    let mut files = Vec::new();
    loop {
        match c.byte()? {
            0 => break,
            2 => loop {
                if c.num()? == 0 {
                    break;
                }
                let n = c.num()?;
                c.bytes(n)?;
            },
            3 => {
                streams_info(&mut c)?;
            }
            4 => streams = streams_info(&mut c)?,
            5 => files = files_info(&mut c)?,
            t => return Err(format!("unexpected property {t} in header")),
        }
    }
    let mut names = files
        .iter()
        .filter(|(_, data)| *data)
        .map(|(n, _)| n.clone());
    let mut pack = 32 + streams.pack_pos;
    for (i, f) in streams.folders.iter().enumerate() {
        let psize = *streams
            .pack_sizes
            .get(i)
            .ok_or("folder without a pack stream")?;
        let data = decode(scanner, blob, pack, psize, f, chain)?;
        pack = pack.saturating_add(psize);
        let n = data.len() as u64;
        scanner.held += n;
        let data = Blob::mem(data);
        let mut at = 0u64;
        for (j, &len) in streams
            .sub
            .get(i)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let name = names.next().unwrap_or_else(|| format!("#{i}.{j}"));
            scanner.stats.members += 1;
            chain.push(name);
            scanner.scan_blob(&data.slice(at, len), chain, depth + 1);
            chain.pop();
            at = at.saturating_add(len);
        }
        scanner.held -= n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcj_x86_restores_call_targets() {
        // The encoder turned `call +0x10` at 0 into the absolute 0x15, and
        // `jmp -1` at 5 into 0x09; bytes without E8/E9 stay.
        let mut buf = vec![0xe8, 0x15, 0, 0, 0, 0xe9, 0x09, 0, 0, 0, 0x90, 0x90];
        bcj_x86_decode(&mut buf);
        assert_eq!(&buf[..5], &[0xe8, 0x10, 0, 0, 0]);
        assert_eq!(&buf[5..10], &[0xe9, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(&buf[10..], &[0x90, 0x90]);
    }

    #[test]
    fn seven_zip_numbers() {
        let mut c = Cur {
            b: &[0x05, 0x81, 0x02, 0xc0, 0x01, 0x02],
            p: 0,
        };
        assert_eq!(c.num().unwrap(), 5);
        assert_eq!(c.num().unwrap(), 0x102);
        assert_eq!(c.num().unwrap(), 0x0201);
    }
}
