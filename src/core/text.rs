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
}
