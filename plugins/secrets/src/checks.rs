//! False-positive cuts shared by the rules: Shannon entropy, placeholder
//! detection, GitHub's CRC32/base62 token checksum, JWT structure and PEM
//! body checks. Each returns `Ok(note)` when the candidate passes (the note
//! says which check vouched for it) or `Err(reason)` when it is dropped.

use base64::Engine;

/// Shannon entropy of `s` in bits per byte.
pub fn entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// Words that mark documentation examples and templates, not credentials.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxxxx",
    "*****",
    "dummy",
    "placeholder",
    "your_",
    "your-",
    "yourtoken",
    "changeme",
    "change_me",
    "redacted",
    "sample",
    "insert",
    "replace",
    "<",
    ">",
    "${",
    "{{",
];

/// Whether `s` looks like a placeholder: a template word, a run of one
/// character, or an ascending run such as `123456`/`abcdef`.
pub fn is_placeholder(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    let bytes = lower.as_bytes();
    let mut same = 1;
    let mut ascending = 1;
    for w in bytes.windows(2) {
        same = if w[1] == w[0] { same + 1 } else { 1 };
        ascending = if w[1] == w[0].wrapping_add(1) {
            ascending + 1
        } else {
            1
        };
        if same >= 6 || ascending >= 6 {
            return true;
        }
    }
    false
}

/// The four character classes present in `s`: lower, upper, digit, other.
pub fn classes(s: &str) -> (bool, bool, bool, bool) {
    let mut c = (false, false, false, false);
    for b in s.bytes() {
        match b {
            b'a'..=b'z' => c.0 = true,
            b'A'..=b'Z' => c.1 = true,
            b'0'..=b'9' => c.2 = true,
            _ => c.3 = true,
        }
    }
    c
}

/// Number of character classes present in `s`.
pub fn class_count(s: &str) -> usize {
    let c = classes(s);
    [c.0, c.1, c.2, c.3].iter().filter(|&&x| x).count()
}

/// Require at least `min` bits/byte of entropy and no placeholder.
pub fn random_enough(s: &str, min: f64) -> Result<String, String> {
    if is_placeholder(s) {
        return Err("placeholder".into());
    }
    let e = entropy(s);
    if e < min {
        return Err(format!("entropy {e:.2} < {min}"));
    }
    Ok(format!("entropy {e:.2}"))
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base62 (digits, upper, lower), left-padded with `0` to `width`.
pub fn base62(mut n: u32, width: usize) -> String {
    let mut out = Vec::new();
    while n > 0 {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// GitHub classic token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 36 chars):
/// the last 6 characters are base62(CRC32(the 30 random characters)).
/// See GitHub's "Behind GitHub's new authentication token formats" (2021).
pub fn github_checksum(token: &str) -> Result<String, String> {
    let body = token.get(4..).ok_or("too short")?;
    if body.len() != 36 {
        return Err("length".into());
    }
    let (random, check) = body.split_at(30);
    if base62(crc32(random.as_bytes()), 6) == check {
        Ok("crc32 checksum valid".into())
    } else {
        Err("crc32 checksum mismatch".into())
    }
}

/// Decode base64url without padding (JWT segments).
fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

/// Public example tokens from documentation (jwt.io's sample signature).
const KNOWN_EXAMPLES: &[&str] = &["SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"];

/// A JWT: header and payload are base64url JSON objects, the header names an
/// `alg`, and the token is not a documentation example.
pub fn jwt(token: &str) -> Result<String, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("not three segments".into());
    }
    if KNOWN_EXAMPLES.iter().any(|k| parts[2] == *k) {
        return Err("documentation example".into());
    }
    let header: serde_json::Value =
        serde_json::from_slice(&b64url(parts[0]).ok_or("header not base64url")?)
            .map_err(|_| "header not JSON")?;
    if header.get("alg").and_then(|a| a.as_str()).is_none() {
        return Err("header has no alg".into());
    }
    let payload: serde_json::Value =
        serde_json::from_slice(&b64url(parts[1]).ok_or("payload not base64url")?)
            .map_err(|_| "payload not JSON")?;
    if !payload.is_object() {
        return Err("payload not an object".into());
    }
    random_enough(parts[2], 3.0)?;
    Ok("header and payload decode".into())
}

/// The base64 body after a PEM `BEGIN ... PRIVATE KEY` header: skips
/// whitespace, quotes, literal `\n` escapes and string concatenation, and
/// returns the first run of at least 64 base64 characters.
pub fn pem_body(after: &str) -> Result<String, String> {
    let window: String = after.chars().take(600).collect();
    let cleaned = window.replace("\\n", "\n").replace("\\r", "\n");
    let mut body = String::new();
    for line in cleaned.lines() {
        let line = line
            .trim()
            .trim_matches(|c| matches!(c, '"' | '\'' | ',' | '+'));
        let line = line.trim();
        if line.is_empty() || line.contains(':') {
            // Blank lines and `Proc-Type: 4,ENCRYPTED` style headers.
            if !body.is_empty() {
                break;
            }
            continue;
        }
        if line.starts_with("-----") {
            break;
        }
        let b64: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            .collect();
        let whole = b64.len() == line.len();
        body.push_str(&b64);
        if !whole || body.len() >= 256 {
            break;
        }
    }
    if body.len() < 64 {
        return Err("no key body".into());
    }
    random_enough(&body, 4.0).map(|_| body)
}

/// Azure storage account key: base64 that decodes to 64 bytes.
pub fn azure_storage_key(key: &str) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| "not base64")?;
    if bytes.len() != 64 {
        return Err("not 64 bytes".into());
    }
    random_enough(key, 4.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_zlib_vector() {
        // zlib.crc32(b"123456789") == 0xCBF43926
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn base62_pads_and_orders_digits_upper_lower() {
        assert_eq!(base62(0, 6), "000000");
        assert_eq!(base62(61, 2), "0z");
        assert_eq!(base62(62, 2), "10");
    }

    #[test]
    fn github_checksum_accepts_built_token_and_rejects_one_char_change() {
        let random = "Zq3RkT8vLm2Nw9Xc4Yb7Hs1Pd6Fg0J";
        let token = format!("ghp_{random}{}", base62(crc32(random.as_bytes()), 6));
        assert!(github_checksum(&token).is_ok());
        let mut broken = token.clone();
        broken.replace_range(5..6, "r");
        assert!(github_checksum(&broken).is_err());
    }

    #[test]
    fn placeholders_and_entropy() {
        assert!(is_placeholder("AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder("hf_aaaaaaaaaaaaaaaa"));
        assert!(is_placeholder("abc123456789"));
        assert!(!is_placeholder("Zq3RkT8vLm2Nw9Xc"));
        assert!(entropy("aaaa") < 0.1);
        assert!(entropy("Zq3RkT8vLm2Nw9Xc4Yb7") > 4.0);
    }

    #[test]
    fn jwt_needs_json_header_with_alg() {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let good = format!(
            "{}.{}.{}",
            enc(r#"{"alg":"HS256","typ":"JWT"}"#),
            enc(r#"{"sub":"42"}"#),
            "q8Zr3LmN2xW9vB4tK7yH1sD6fG0jPcA5"
        );
        assert!(jwt(&good).is_ok());
        let no_alg = format!(
            "{}.{}.{}",
            enc(r#"{"typ":"JWT"}"#),
            enc("{}"),
            "q8Zr3LmN2xW9vB4t"
        );
        assert!(jwt(&no_alg).is_err());
    }

    #[test]
    fn pem_body_needs_random_base64() {
        let body =
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7q3Zr8LmN2xW9vB4tK7yH1sD6fG0jPcA5";
        assert!(pem_body(&format!("\n{body}\n")).is_ok());
        assert!(pem_body(&format!("\\n{body}\\n\"")).is_ok());
        assert!(pem_body("\n...\n-----END PRIVATE KEY-----").is_err());
        assert!(pem_body(&format!("\n{}\n", "A".repeat(80))).is_err());
    }
}
