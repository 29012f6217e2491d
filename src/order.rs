//! One stable sort for the whole crate, by a key of three `u64`s.
//!
//! Rust's `sort_by_key` is compiled anew for every element type and key, and each copy costs
//! the page's wasm several kilobytes; a dozen sorts of small lists (a Ready's messages, due key
//! leases, a compaction's revisions, the checker's operations) cost more than a page feature.
//! Here every caller sorts the same thing — keys with positions — with one instantiation of
//! the standard sort, then moves its elements into that order. Ties keep their order, as with
//! `sort_by_key`.

/// A sort key: compared field by field.
pub type Key = (u64, u64, u64);

/// Lists this short are sorted in place by insertion (a Ready's few messages, on the hot path:
/// no allocation, and a few instructions for each) — natively. The page's wasm keeps the one
/// keyed path below: each copy of the insertion loop would cost it bytes of its size budget
/// (≈3 KB gzipped for all callers). Both sorts are stable by the same key, so the order, and
/// every trace hash, is the same on both targets.
const SHORT: usize = 24;

/// Sorts `v` by `key`, stably.
pub fn sort_by_key<T>(v: &mut Vec<T>, key: impl Fn(&T) -> Key) {
    if cfg!(not(target_arch = "wasm32")) && v.len() <= SHORT {
        for i in 1..v.len() {
            let k = key(&v[i]);
            let mut j = i;
            while j > 0 && key(&v[j - 1]) > k {
                j -= 1;
            }
            v[j..=i].rotate_right(1);
        }
        return;
    }
    if v.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        return;
    }
    let mut keyed: Vec<(Key, usize)> = v.iter().map(&key).zip(0..).collect();
    keyed.sort_unstable();
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(keyed.into_iter().map(|(_, i)| slots[i].take().unwrap_or_else(|| unreachable!("each index once"))));
}

/// An `i64` as a `u64` in the same order (for keys of signed times).
pub fn signed(x: i64) -> u64 {
    (x as u64) ^ (1 << 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_sorts_stably_like_the_standard_sort() {
        let mut v: Vec<(i64, char)> =
            vec![(3, 'a'), (-1, 'b'), (3, 'c'), (0, 'd'), (-1, 'e'), (i64::MIN, 'f'), (i64::MAX, 'g')];
        let mut expected = v.clone();
        expected.sort_by_key(|(k, _)| *k);
        sort_by_key(&mut v, |(k, _)| (signed(*k), 0, 0));
        assert_eq!(v, expected);
        let mut one = vec![5];
        sort_by_key(&mut one, |x| (*x, 0, 0));
        assert_eq!(one, vec![5]);
        // Long enough for the keyed sort, with ties.
        let mut long: Vec<(u64, usize)> = (0..100).map(|i| ((i * 37 % 10) as u64, i)).collect();
        let mut expected = long.clone();
        expected.sort_by_key(|(k, _)| *k);
        sort_by_key(&mut long, |(k, _)| (*k, 0, 0));
        assert_eq!(long, expected);
        let mut strings: Vec<String> = ["b", "a", "c"].map(String::from).to_vec();
        sort_by_key(&mut strings, |s| (u64::from(s.as_bytes()[0]), 0, 0));
        assert_eq!(strings, ["a", "b", "c"]);
    }
}
