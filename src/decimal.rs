//! Decimal text for floating-point figures, written with integer arithmetic.
//!
//! Every figure Lease Lab shows with a fraction (seconds, clock rates, percentages, SVG
//! coordinates) goes through [`fixed`] or [`trimmed`] instead of `{:.N}` or `{}` on an `f64`.
//! The reason is the page's size: core's float formatter (Grisu with a Dragon fallback and its
//! big-number arithmetic) is about 9.5 KB of WebAssembly, and a single `{}` of an `f64`
//! anywhere in the page pulls all of it in. A figure here needs at most six places, and
//! rounding the exact binary value scaled by 10^places, ties to even, prints exactly what
//! `{:.N}` prints (tested against it), so traces that contain such text keep their hashes.

use std::fmt;

/// `x` with exactly `places` digits after the point (at most 6), like `{:.places}`.
pub fn fixed(x: f64, places: u8) -> Fixed {
    Fixed { x, places: places.min(6), plus: false, trim: false }
}

/// Like [`fixed`], with a `+` before positive values and zero, like `{:+.places}`.
pub fn signed(x: f64, places: u8) -> Fixed {
    fixed(x, places).with_sign()
}

/// `x` rounded to `places` digits after the point, without trailing zeros (nor the point if
/// nothing follows it): 1.25 stays "1.25", 0.800 is "0.8", 1.000 is "1". For a value with
/// at most `places` decimals this is what `{}` prints.
pub fn trimmed(x: f64, places: u8) -> Fixed {
    Fixed { x, places: places.min(6), plus: false, trim: true }
}

/// A float shown with a fixed number of places; see [`fixed`].
#[derive(Clone, Copy, Debug)]
pub struct Fixed {
    x: f64,
    places: u8,
    plus: bool,
    trim: bool,
}

impl Fixed {
    /// The same figure with a `+` before positive values and zero.
    pub fn with_sign(self) -> Fixed {
        Fixed { plus: true, ..self }
    }
}

/// `x · 10^places` rounded to an integer exactly as core's `{:.places}` rounds: on the exact
/// binary value of `x`, ties to even. `None` beyond 2^93, where no figure of ours ever goes.
fn scaled(x: f64, places: u8) -> Option<u128> {
    let bits = x.abs().to_bits();
    let (exponent, fraction) = (((bits >> 52) & 0x7ff) as i32, bits & ((1 << 52) - 1));
    // x = mantissa · 2^power, exactly.
    let (mantissa, power) = if exponent == 0 { (fraction, -1074) } else { (fraction | 1 << 52, exponent - 1075) };
    let n = u128::from(mantissa) * 10u128.pow(u32::from(places)); // < 2^73
    if power >= 0 {
        return (power <= 40).then(|| n << power);
    }
    let shift = power.unsigned_abs();
    if shift >= 128 {
        return Some(0); // far below one half
    }
    let (quotient, rest, half) = (n >> shift, n & ((1 << shift) - 1), 1u128 << (shift - 1));
    Some(if rest > half || (rest == half && quotient & 1 == 1) { quotient + 1 } else { quotient })
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Fixed { x, places, plus, trim } = *self;
        if x.is_nan() {
            return f.write_str("NaN");
        }
        // As core does, a negative value that rounds to zero keeps its sign ("-0.0").
        let sign = if x.is_sign_negative() {
            "-"
        } else if plus {
            "+"
        } else {
            ""
        };
        if x.is_infinite() {
            return write!(f, "{sign}inf");
        }
        let Some(scaled) = scaled(x, places) else {
            return write!(f, "{sign}1e28+"); // never shown: no figure of ours is this large
        };
        let scale = 10u128.pow(u32::from(places));
        let (whole, mut frac, mut width) = (scaled / scale, scaled % scale, usize::from(places));
        while trim && width > 0 && frac % 10 == 0 {
            (frac, width) = (frac / 10, width - 1);
        }
        if width == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{frac:0width$}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same text as core's `{:.N}`, ties (0.125, 2.5) and near-ties (1.35, 2.675) included.
    #[test]
    fn matches_core_formatting() {
        let mut values = vec![0.0, 1.0, 0.3, 2.675, 2.675_1, 12.34, 999.96, 1234.5678, 0.049, 0.051, 7.0e9, 1.0e-7];
        values.extend([16.666_666, 0.125, 0.375, 1.25, 1.35, 1.45, 2.5, 0.5, 1.5, 5e-324, 1e22, 123_456_789.000_5]);
        // Every thousandth up to 3, as microseconds shown in milliseconds are.
        values.extend((0..3000).map(|n| f64::from(n) / 1000.0));
        // And a spread of arbitrary magnitudes from a fixed xorshift sequence.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        values.extend((0..5000).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((state % 24) as i32 - 8)
        }));
        for &v in &values {
            for places in 0..=4u8 {
                for v in [v, -v] {
                    let ours = fixed(v, places).to_string();
                    let core = format!("{v:.prec$}", prec = usize::from(places));
                    assert_eq!(ours, core, "{v} to {places} places");
                    let ours = signed(v, places).to_string();
                    let core = format!("{v:+.prec$}", prec = usize::from(places));
                    assert_eq!(ours, core, "{v} to {places} places with a sign");
                }
            }
        }
    }

    /// `trimmed` prints what `{}` does for values with few decimals.
    #[test]
    fn trimmed_matches_shortest_formatting() {
        for v in [0.0, 1.0, 0.8, 1.25, 10.0, 0.125, 2.5, 100.0, 0.001, 1234.567] {
            assert_eq!(trimmed(v, 3).to_string(), v.to_string(), "{v}");
            assert_eq!(trimmed(-v, 3).to_string(), (-v).to_string(), "{v}");
        }
        // Microseconds shown in milliseconds (and milliseconds in seconds) print as `{}` does,
        // up to a day in microseconds and beyond.
        let mut n = 1u64;
        while n < 1 << 50 {
            for m in [n, n + 1, n * 7 + 3] {
                let v = m as f64 / 1000.0;
                assert_eq!(trimmed(v, 3).to_string(), v.to_string(), "{m} thousandths");
                assert_eq!(trimmed(-v, 3).to_string(), (-v).to_string(), "-{m} thousandths");
            }
            n = n * 3 + 1;
        }
        assert_eq!(trimmed(0.123_456, 3).to_string(), "0.123");
        assert_eq!(trimmed(0.999_9, 3).to_string(), "1");
    }

    #[test]
    fn ties_round_to_even_and_odd_values_are_written() {
        assert_eq!(fixed(0.5, 0).to_string(), "0");
        assert_eq!(fixed(2.5, 0).to_string(), "2");
        assert_eq!(fixed(-3.5, 0).to_string(), "-4");
        assert_eq!(fixed(2.0, 1).with_sign().to_string(), "+2.0");
        assert_eq!(trimmed(2.0, 3).with_sign().to_string(), "+2");
        assert_eq!(fixed(f64::NAN, 1).to_string(), "NaN");
        assert_eq!(fixed(f64::INFINITY, 1).to_string(), "inf");
        assert_eq!(fixed(f64::NEG_INFINITY, 1).to_string(), "-inf");
        assert_eq!(fixed(1.0e20, 1).to_string(), "100000000000000000000.0");
        assert_eq!(fixed(1.0e30, 1).to_string(), "1e28+");
        assert_eq!(fixed(1.0, 9).to_string(), "1.000000", "at most six places");
    }
}
