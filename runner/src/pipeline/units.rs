//! Sizes (`512MiB`, `1GiB`, `256MB`, `65536`) and durations (`120s`, `2m`,
//! `500ms`, `1h`, `1m30s`) as written in `limits:`, with the bounds mlgate
//! accepts. Errors are plain strings; the caller adds the location.

use std::time::Duration;

/// Smallest memory limit: below this even a trivial component cannot start.
pub const MIN_MEMORY: u64 = 16 << 20;
/// Largest memory limit (wasm32 linear memory tops out at 4 GiB per memory,
/// but a component may have several).
pub const MAX_MEMORY: u64 = 16 << 30;
/// Shortest timeout.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);
/// Longest timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

const SIZE_UNITS: [(&str, u64); 9] = [
    ("B", 1),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

const DURATION_UNITS: [(&str, u64); 4] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

/// Parses a byte size: a whole number and an optional unit (`B`, `KB`, `MB`,
/// `GB`, `TB`, `KiB`, `MiB`, `GiB`, `TiB`; a bare number is bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let (number, unit) = t.split_at(digits);
    let unit = unit.trim_start();
    if number.is_empty() {
        return Err(format!(
            "invalid size `{text}`: expected a whole number with an optional unit, like `512MiB`"
        ));
    }
    let factor = if unit.is_empty() {
        1
    } else {
        SIZE_UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let units: Vec<&str> = SIZE_UNITS.iter().map(|(u, _)| *u).collect();
                format!(
                    "invalid size `{text}`: unknown unit `{unit}` (expected one of {})",
                    units.join(", ")
                )
            })?
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| format!("invalid size `{text}`: too large"))
}

/// Parses a duration: one or more `<number><unit>` parts, units `ms`, `s`,
/// `m`, `h` (`1m30s`). A bare number is refused: its unit would be a guess.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "invalid duration `{text}`: expected a number with a unit (`ms`, `s`, `m`, `h`), like `120s`"
        )
    };
    if t.is_empty() {
        return Err(bad());
    }
    let mut rest = t;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let (number, tail) = rest.split_at(digits);
        let letters = tail.chars().take_while(char::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(letters);
        let factor = DURATION_UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, f)| *f)
            .ok_or_else(bad)?;
        let part = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(factor))
            .ok_or_else(|| format!("invalid duration `{text}`: too large"))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| format!("invalid duration `{text}`: too large"))?;
        rest = tail;
    }
    Ok(Duration::from_millis(total))
}

/// A memory limit within [`MIN_MEMORY`]..=[`MAX_MEMORY`].
pub fn parse_memory_limit(text: &str) -> Result<u64, String> {
    let bytes = parse_size(text)?;
    if !(MIN_MEMORY..=MAX_MEMORY).contains(&bytes) {
        return Err(format!(
            "memory limit `{text}` is out of range: it must be between 16MiB and 16GiB"
        ));
    }
    Ok(bytes)
}

/// A timeout within [`MIN_TIMEOUT`]..=[`MAX_TIMEOUT`].
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&d) {
        return Err(format!(
            "timeout `{text}` is out of range: it must be between 1ms and 24h"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("256MB"), Ok(256_000_000));
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64 KiB"), Ok(65536));
        assert_eq!(parse_size("7B"), Ok(7));
        assert!(parse_size("").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(
            parse_size("1.5GiB")
                .unwrap_err()
                .contains("unknown unit `.5GiB`")
        );
        assert!(
            parse_size("12 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("-1").is_err());
        assert!(
            parse_size("99999999999999TiB")
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse_size("512mib").is_err(), "units are case-sensitive");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("120s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("120").is_err(), "a bare number has no unit");
        assert!(parse_duration("2 minutes").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("1.5s").is_err());
        assert!(
            parse_duration("99999999999999999999h")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn bounds() {
        assert_eq!(parse_memory_limit("16MiB"), Ok(16 << 20));
        assert_eq!(parse_memory_limit("16GiB"), Ok(16 << 30));
        assert!(
            parse_memory_limit("15MiB")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(parse_memory_limit("17GiB").is_err());
        assert_eq!(parse_timeout("1ms"), Ok(Duration::from_millis(1)));
        assert_eq!(parse_timeout("24h"), Ok(Duration::from_secs(86400)));
        assert!(parse_timeout("0s").unwrap_err().contains("out of range"));
        assert!(parse_timeout("25h").is_err());
    }
}
