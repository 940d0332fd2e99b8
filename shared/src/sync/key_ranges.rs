//! Where to split the rest of a listing's key range so that more parts list it at once.
//!
//! Nothing tells how far a bucket's keys go, so the end of an open range is guessed from the
//! last key listed: the same shape with every digit a `9` and every letter a `z`/`Z`
//! (`data/k0999.jpg` → `data/z9999.zzz`). Split points are spread evenly between the last key
//! and that end, read as numbers in base 95 (printable ASCII, the characters keys mostly use).
//! A wrong guess costs little: a part past the last key ends after one empty page, and the
//! part that does hold the keys splits again on its next page while listers are free. A guess
//! never loses a key: the last part's range stays open.

/// Printable ASCII, from the space.
const FIRST: u32 = 0x20;
const BASE: u128 = 95;
/// Characters read past the common prefix: 95^12 < 2^80, well inside `u128`.
const WIDTH: usize = 12;

/// Up to `pieces - 1` keys, increasing, each after `after` and before `until` (when the range
/// is bounded), cutting `(after, until]` into about even ranges. Keys are under `prefix`.
pub fn split_points(prefix: &str, after: &str, until: Option<&str>, pieces: usize) -> Vec<String> {
    let guessed_end;
    let end = match until {
        Some(until) => until,
        None => {
            guessed_end = shape_end(prefix, after);
            &guessed_end
        }
    };
    if pieces < 2 || end <= after {
        return Vec::new();
    }
    let shared = common_prefix(after, end);
    let low = value(&after[shared..]);
    let high = value(&end[shared..]);
    let span = high.saturating_sub(low);
    let mut points: Vec<String> = Vec::new();
    for i in 1..pieces as u128 {
        let point = format!(
            "{}{}",
            &after[..shared],
            text(low + span * i / pieces as u128)
        );
        let in_range = point.as_str() > after && until.is_none_or(|u| point.as_str() < u);
        let increasing = points.last().is_none_or(|last| point > *last);
        if in_range && increasing {
            points.push(point);
        }
    }
    points
}

/// `key` with every character after `prefix` at the top of its class.
fn shape_end(prefix: &str, key: &str) -> String {
    let rest = key.strip_prefix(prefix).unwrap_or(key);
    let top = rest.chars().map(|c| match c {
        '0'..='9' => '9',
        'a'..='z' => 'z',
        'A'..='Z' => 'Z',
        other => other,
    });
    let start = key.len() - rest.len();
    key[..start].chars().chain(top).collect()
}

/// Bytes `a` and `b` share at the start, ending on a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    a.chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum()
}

/// The first [`WIDTH`] characters as base-95 digits, padded with the lowest.
fn value(rest: &str) -> u128 {
    let digits = rest.chars().map(digit).chain(std::iter::repeat(0));
    digits.take(WIDTH).fold(0, |v, d| v * BASE + d)
}

/// A character's digit; characters outside printable ASCII clamp to its ends.
fn digit(c: char) -> u128 {
    u128::from((c as u32).clamp(FIRST, FIRST + 94) - FIRST)
}

/// The digits of `value` as characters, lowest digits (spaces) trimmed from the end.
fn text(mut value: u128) -> String {
    let mut chars = [' '; WIDTH];
    for slot in chars.iter_mut().rev() {
        *slot = char::from_u32(FIRST + (value % BASE) as u32).unwrap_or(' ');
        value /= BASE;
    }
    chars.iter().collect::<String>().trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_increasing_and_inside_the_range() {
        let points = split_points("data/", "data/k0000999.jpg", Some("data/k0999999.jpg"), 8);
        assert_eq!(points.len(), 7, "{points:?}");
        assert!(points.windows(2).all(|w| w[0] < w[1]), "{points:?}");
        assert!(points.iter().all(|p| p.as_str() > "data/k0000999.jpg"));
        assert!(points.iter().all(|p| p.as_str() < "data/k0999999.jpg"));
        // Evenly spread: the middle point sits near the middle of the digits.
        assert!(points[3].starts_with("data/k04"), "{points:?}");
    }

    #[test]
    fn an_open_range_ends_at_the_shape_of_the_last_key() {
        assert_eq!(shape_end("data/", "data/p00Az/x.jpg"), "data/z99Zz/z.zzz");
        let points = split_points("data/", "data/k0000999.jpg", None, 4);
        assert_eq!(points.len(), 3, "{points:?}");
        assert!(points.iter().all(|p| p.as_str() < "data/z9999999.zzz"));
    }

    #[test]
    fn no_point_when_the_range_is_too_narrow_or_empty() {
        assert!(split_points("", "a", Some("a"), 8).is_empty());
        assert!(split_points("", "b", Some("a"), 8).is_empty());
        assert!(
            split_points("", "a", Some("a "), 8).is_empty(),
            "nothing between"
        );
        assert!(split_points("", "a", Some("b"), 1).is_empty(), "one piece");
    }

    #[test]
    fn keys_beyond_ascii_still_give_points_inside_the_range() {
        let after = "data/é0";
        let points = split_points("data/", after, Some("data/ü"), 8);
        assert!(
            points
                .iter()
                .all(|p| p.as_str() > after && p.as_str() < "data/ü")
        );
    }
}
