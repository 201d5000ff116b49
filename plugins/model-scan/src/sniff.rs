//! Content sniffing: which format a byte stream is, from its magic bytes.
//! The file name never decides; it is only a hint in messages.

/// A format recognised from content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Zip (PyTorch, .npz, .keras, ...).
    Zip,
    /// POSIX/GNU tar (legacy PyTorch).
    Tar,
    /// 7-Zip.
    SevenZ,
    /// gzip.
    Gzip,
    /// bzip2.
    Bzip2,
    /// xz.
    Xz,
    /// Zstandard.
    Zstd,
    /// Raw LZMA ("alone" format, joblib's `.lzma`).
    Lzma,
    /// zlib (joblib's default compression).
    Zlib,
    /// numpy `.npy`.
    Npy,
    /// HDF5 (Keras `.h5`).
    Hdf5,
    /// GGUF.
    Gguf,
    /// SafeTensors (length-prefixed JSON header).
    SafeTensors,
    /// Pickle with a PROTO header.
    Pickle,
    /// Perhaps a protocol 0/1 pickle (starts with a pickle opcode).
    MaybePickle,
    /// Perhaps ONNX (protobuf starting with `ir_version`).
    MaybeOnnx,
    /// JSON text.
    Json,
    /// Nothing recognised.
    Unknown,
}

/// Opcodes a protocol 0/1 pickle can start with.
const PICKLE0_START: &[u8] = b"(.0123FIJKLMNPQRSTUVXGabcdeghijlopqrstu})]";

/// Sniff from the first bytes (at least 512 when available) and the total length.
pub fn sniff(head: &[u8], len: u64) -> Kind {
    let starts = |m: &[u8]| head.starts_with(m);
    if head.is_empty() {
        return Kind::Unknown;
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return Kind::Zip;
    }
    if starts(b"\x93NUMPY") {
        return Kind::Npy;
    }
    if starts(b"\x89HDF\r\n\x1a\n") {
        return Kind::Hdf5;
    }
    if starts(b"GGUF") {
        return Kind::Gguf;
    }
    if starts(&[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) {
        return Kind::SevenZ;
    }
    if starts(&[0x1f, 0x8b]) {
        return Kind::Gzip;
    }
    if head.len() >= 4 && starts(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
        return Kind::Bzip2;
    }
    if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Kind::Xz;
    }
    if starts(&crate::formats::zstd::MAGIC) {
        return Kind::Zstd;
    }
    if head.len() >= 263 && &head[257..262] == b"ustar" {
        return Kind::Tar;
    }
    if crate::pickle::starts_with_proto(head) {
        return Kind::Pickle;
    }
    if head.len() >= 13 && head[0] == 0x5d && head[1] == 0 && head[2] == 0 {
        return Kind::Lzma;
    }
    if head.len() >= 10 {
        let n = u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8]));
        if n >= 2 && n <= len.saturating_sub(8) && head[8] == b'{' {
            return Kind::SafeTensors;
        }
        // A header length past the end is still SafeTensors (and invalid),
        // unless the "length" is text: indented JSON is not SafeTensors.
        let text = head[..8]
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
        if head[8] == b'{' && (head[9] == b'"' || head[9] == b'}') && n > 0 && !text {
            return Kind::SafeTensors;
        }
    }
    if head.len() >= 2
        && head[0] == 0x78
        && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0
    {
        return Kind::Zlib;
    }
    let text = head.iter().position(|b| !b" \t\r\n".contains(b));
    if let Some(i) = text
        && (head[i] == b'{' || head[i] == b'[')
        && i < 64
        && std::str::from_utf8(&head[..head.len().min(256)]).is_ok_and(|s| !s.contains('\0'))
    {
        return Kind::Json;
    }
    if PICKLE0_START.contains(&head[0]) {
        return Kind::MaybePickle;
    }
    if head[0] == 0x08 {
        return Kind::MaybeOnnx;
    }
    Kind::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(sniff(b"PK\x03\x04rest", 100), Kind::Zip);
        assert_eq!(sniff(b"\x80\x02}q\x00.", 6), Kind::Pickle);
        assert_eq!(sniff(b"cos\nsystem\n", 11), Kind::MaybePickle);
        assert_eq!(sniff(b"\x93NUMPY\x01\x00", 8), Kind::Npy);
        assert_eq!(sniff(b"GGUF\x03\x00\x00\x00", 8), Kind::Gguf);
        assert_eq!(sniff(&[0x78, 0x9c, 1, 2], 4), Kind::Zlib);
        assert_eq!(sniff(b"  {\"a\": 1}", 10), Kind::Json);
        let mut st = 4u64.to_le_bytes().to_vec();
        st.extend(b"{}  ");
        assert_eq!(sniff(&st, 12), Kind::SafeTensors);
        assert_eq!(sniff(b"\x7fELF", 4), Kind::Unknown);
        assert_eq!(sniff(b"        {\"a\": 1}", 16), Kind::Json);
        let mut huge = (1u64 << 60).to_le_bytes().to_vec();
        huge.extend(b"{\"a\":1}");
        assert_eq!(sniff(&huge, 15), Kind::SafeTensors);
    }
}
