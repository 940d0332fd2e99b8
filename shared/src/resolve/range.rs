//! Parsing `Range` headers into what a backend reads, capped so that one response stays
//! bounded (`RESOLVER_PROXY_MAX_RANGE_SIZE`). HTTP-correct where Label Studio is not: suffix
//! ranges (`bytes=-N`) read the last N bytes, and ends are inclusive.

use crate::backends::ByteRange;

/// The range to read for a `Range` header value. `None`: read the whole object (no header, or
/// one we cannot parse, which RFC 9110 says to ignore). `size` is needed for suffix ranges.
pub fn requested_range(header: Option<&str>, size: u64, max_len: Option<u64>) -> Option<ByteRange> {
    let spec = header?.trim().strip_prefix("bytes=")?;
    // Multiple ranges are answered with the first one only.
    let first = spec.split(',').next()?.trim();
    let (start, end) = first.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        let suffix: u64 = end.parse().ok()?;
        if suffix == 0 {
            // `bytes=-0` asks for no bytes: unsatisfiable (RFC 9110 §14.1.1), so ask for a
            // range past the end, which the backend refuses and the response turns into 416.
            return Some(ByteRange {
                start: size,
                end: None,
            });
        }
        let len = suffix.min(size);
        ByteRange {
            start: size - len,
            end: Some(size.saturating_sub(1)),
        }
    } else {
        let start: u64 = start.parse().ok()?;
        let end = if end.is_empty() {
            None
        } else {
            Some(end.parse::<u64>().ok()?)
        };
        if end.is_some_and(|e| e < start) {
            return None;
        }
        ByteRange { start, end }
    };
    Some(cap(range, max_len))
}

/// Shortens a range to at most `max_len` bytes.
fn cap(range: ByteRange, max_len: Option<u64>) -> ByteRange {
    let Some(max_len) = max_len.filter(|m| *m > 0) else {
        return range;
    };
    let limit = range.start.saturating_add(max_len - 1);
    ByteRange {
        start: range.start,
        end: Some(range.end.map_or(limit, |e| e.min(limit))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: Option<u64>) -> Option<ByteRange> {
        Some(ByteRange { start, end })
    }

    #[test]
    fn parses_http_ranges() {
        assert_eq!(requested_range(None, 10, None), None);
        assert_eq!(requested_range(Some("bytes=1-2"), 10, None), r(1, Some(2)));
        assert_eq!(requested_range(Some("bytes=3-"), 10, None), r(3, None));
        assert_eq!(requested_range(Some("bytes=-4"), 10, None), r(6, Some(9)));
        assert_eq!(requested_range(Some("bytes=-40"), 10, None), r(0, Some(9)));
        assert_eq!(requested_range(Some("bytes=0-0"), 10, None), r(0, Some(0)));
        // Past the end, so the backend answers InvalidRange and the client 416.
        assert_eq!(requested_range(Some("bytes=-0"), 10, None), r(10, None));
        assert_eq!(requested_range(Some("bytes=2-1"), 10, None), None);
        assert_eq!(requested_range(Some("items=0-1"), 10, None), None);
        assert_eq!(requested_range(Some("bytes=x-1"), 10, None), None);
        assert_eq!(
            requested_range(Some("bytes=1-2, 5-6"), 10, None),
            r(1, Some(2))
        );
    }

    #[test]
    fn caps_to_the_maximum_size() {
        assert_eq!(
            requested_range(Some("bytes=0-"), 100, Some(8)),
            r(0, Some(7))
        );
        assert_eq!(
            requested_range(Some("bytes=10-"), 100, Some(8)),
            r(10, Some(17))
        );
        assert_eq!(
            requested_range(Some("bytes=10-12"), 100, Some(8)),
            r(10, Some(12))
        );
        assert_eq!(
            requested_range(Some("bytes=10-50"), 100, Some(8)),
            r(10, Some(17))
        );
        assert_eq!(
            requested_range(Some("bytes=-50"), 100, Some(8)),
            r(50, Some(57))
        );
    }
}
