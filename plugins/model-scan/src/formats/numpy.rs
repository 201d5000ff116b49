//! numpy `.npy`: a magic, a version, a Python-literal header dict, then the
//! array. An object-dtype array (`'O'` anywhere in `descr`) is stored as a
//! pickle after the header, which `np.load(allow_pickle=True)` runs; that
//! pickle is scanned. `.npz` files are zips of `.npy` members and go
//! through the zip reader, whatever their member names.

use mlgate_plugin_sdk::Severity;

use crate::rules;
use crate::scan::Scanner;
use crate::source::Blob;

/// numpy refuses headers above this by default (`max_header_size`).
const MAX_HEADER: u64 = 1 << 20;

/// Parse the header: `(data offset, header text)` or why it is invalid.
pub fn header(blob: &Blob) -> Result<(u64, String), String> {
    let head = blob.read_at(0, 12).map_err(|e| e.to_string())?;
    if head.len() < 10 {
        return Err("truncated header".into());
    }
    let (len, start) = match head[6] {
        1 => (u16::from_le_bytes([head[8], head[9]]) as u64, 10u64),
        2 | 3 if head.len() >= 12 => (
            u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as u64,
            12u64,
        ),
        v => return Err(format!("unknown format version {v}")),
    };
    if len > MAX_HEADER || start + len > blob.len() {
        return Err(format!("header length {len} is out of bounds"));
    }
    let text = blob
        .read_at(start, len as usize)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&text).into_owned();
    if !text.trim_start().starts_with('{') || !text.contains("descr") {
        return Err("header is not a dict with `descr`".into());
    }
    Ok((start + len, text))
}

/// Whether a header's `descr` holds Python objects.
pub fn has_objects(header: &str) -> bool {
    let descr = header.split_once("descr").map_or("", |(_, rest)| {
        rest.split("fortran_order").next().unwrap_or(rest)
    });
    descr.contains("'O") || descr.contains("\"O") || descr.contains("|O")
}

/// Scan a `.npy` blob.
pub fn scan(scanner: &mut Scanner, blob: &Blob, chain: &mut [String]) -> bool {
    match header(blob) {
        Ok((data, text)) => {
            if has_objects(&text) {
                let payload = blob.slice(data, blob.len() - data);
                scanner.scan_pickle(&payload, chain, true);
            }
        }
        Err(why) => scanner.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            Some(0),
            format!("numpy .npy header is invalid: {why}"),
            vec![("format".into(), "npy".into())],
            "npy",
        ),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_dtype_detection() {
        assert!(has_objects(
            "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
        ));
        assert!(has_objects(
            "{'descr': [('a', '<f8'), ('b', 'O')], 'fortran_order': False}"
        ));
        assert!(!has_objects(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
        ));
    }

    #[test]
    fn header_bounds() {
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend(60000u16.to_le_bytes());
        v.extend(b"{'descr'");
        assert!(header(&Blob::mem(v)).is_err());
    }
}
