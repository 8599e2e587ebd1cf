//! Strings built without `core::fmt`: `format!` would put Rust's formatting machinery (and an
//! argument table at every call site) in the wasm. Messages are concatenations of static parts
//! and values; numbers are written by [`int`].

/// `n` in decimal.
///
/// ```
/// assert_eq!(wiresync::core::text::int(0), "0");
/// assert_eq!(wiresync::core::text::int(18_446_744_073_709_551_615), "18446744073709551615");
/// ```
pub fn int(n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[at..].iter().map(|&d| d as char).collect()
}

/// `n` as four lowercase hex digits (`\u` escapes).
pub fn hex4(n: u32) -> String {
    (0..4).rev().map(|i| hex_digit(n >> (i * 4))).collect()
}

/// The lowercase hex digit of `n`'s lowest four bits.
pub fn hex_digit(n: u32) -> char {
    char::from(b"0123456789abcdef"[(n & 0xf) as usize])
}

/// The candidate nearest to `word`, for "did you mean" hints: the one with the fewest edits
/// (insertions, deletions, substitutions of bytes; ASCII case ignored), if that is at most a
/// third of the longer name's length (2 for short ones), or if the candidate begins with the
/// word. The first of equals wins.
///
/// ```
/// use wiresync::core::text::nearest;
/// let known = ["dedupeKey", "lane", "ttlMs"];
/// assert_eq!(nearest("ttl", &known), Some("ttlMs"));
/// assert_eq!(nearest("Lane", &known), Some("lane"));
/// assert_eq!(nearest("priority", &known), None);
/// ```
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(usize, &'a str)> = None;
    for &c in candidates {
        let d = edits(word.as_bytes(), c.as_bytes());
        let limit = (word.len().max(c.len()) / 3).max(2);
        // A known name that begins with the word (`refetch` of `refetchType`) is near too.
        let prefix = word.len() >= 3
            && c.len() > word.len()
            && c.as_bytes()[..word.len()].eq_ignore_ascii_case(word.as_bytes());
        if (d <= limit || prefix) && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance over ASCII-lowercased bytes (one row of the table). Option names are
/// ASCII; Unicode case tables would cost the wasm kilobytes.
fn edits(a: &[u8], b: &[u8]) -> usize {
    let mut row = vec![0; b.len() + 1];
    for (j, r) in row.iter_mut().enumerate() {
        *r = j;
    }
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(!ca.eq_ignore_ascii_case(cb)))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_format_writes_them() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u32::MAX as u64, u64::MAX] {
            assert_eq!(int(n), n.to_string());
        }
        for n in [0, 1, 0x1f, 0xabc, 0xffff] {
            assert_eq!(hex4(n), format!("{n:04x}"));
        }
    }

    #[test]
    fn nearest_names_the_likely_typo() {
        let connect = [
            "url",
            "ackTimeoutMs",
            "connectTimeoutMs",
            "reconnect",
            "outbox",
            "cache",
        ];
        assert_eq!(nearest("ackTimeout", &connect), Some("ackTimeoutMs"));
        assert_eq!(nearest("reconect", &connect), Some("reconnect"));
        assert_eq!(nearest("URL", &connect), Some("url"));
        assert_eq!(nearest("outBox", &connect), Some("outbox"));
        assert_eq!(
            nearest("timeoutMs", &connect),
            Some("ackTimeoutMs"),
            "3 edits of 12"
        );
        assert_eq!(nearest("transports", &connect), None);
        assert_eq!(
            nearest("refetch", &["refetchType", "exact"]),
            Some("refetchType")
        );
        assert_eq!(
            nearest("re", &["refetchType"]),
            None,
            "too short to be a prefix hint"
        );
        assert_eq!(nearest("", &connect), None);
        assert_eq!(nearest("x", &[]), None);
        assert_eq!(edits(b"kitten", b"sitting"), 3);
        assert_eq!(edits(b"", b"abc"), 3);
        assert_eq!(edits(b"abc", b""), 3);
    }
}
