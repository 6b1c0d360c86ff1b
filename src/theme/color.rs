//! sRGB colours: a strict parser for the colour syntaxes a computed style can contain, the
//! WCAG 2 contrast maths, and a serializer that only ever writes `#rrggbb` / `#rrggbbaa`.
//!
//! Decimal numbers are parsed by hand and powers come from `Math.pow`: Rust's float parsing
//! and `powf` would add kilobytes to the wasm for three short strings per page load.

use super::css_values::parse_decimal;

/// An sRGB colour with 8-bit channels and alpha.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

pub const BLACK: Rgba = Rgba::rgb(0, 0, 0);
pub const WHITE: Rgba = Rgba::rgb(255, 255, 255);

impl Rgba {
    pub const fn rgb(r: u8, g: u8, b: u8) -> Rgba {
        Rgba { r, g, b, a: 255 }
    }

    pub fn is_transparent(self) -> bool {
        self.a == 0
    }

    /// Parses `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb()`/`rgba()` in the legacy comma
    /// syntax and the modern space syntax (`rgb(0 0 0 / 50%)`), and the keywords
    /// `transparent`, `black`, `white`. Everything else, including every other function and
    /// any stray character, is refused.
    pub fn parse(text: &str) -> Option<Rgba> {
        let text = text.trim();
        if text.len() > 64 {
            return None;
        }
        match text.to_ascii_lowercase().as_str() {
            "transparent" => {
                return Some(Rgba {
                    r: 0,
                    g: 0,
                    b: 0,
                    a: 0,
                })
            }
            "black" => return Some(BLACK),
            "white" => return Some(WHITE),
            _ => {}
        }
        if let Some(hex) = text.strip_prefix('#') {
            return parse_hex(hex);
        }
        let lower = text.to_ascii_lowercase();
        let inner = lower
            .strip_prefix("rgba(")
            .or_else(|| lower.strip_prefix("rgb("))?
            .strip_suffix(')')?;
        parse_rgb_arguments(inner)
    }

    /// `#rrggbb`, or `#rrggbbaa` when not opaque.
    pub fn to_css(self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(9);
        out.push('#');
        let channels = [self.r, self.g, self.b, self.a];
        let count = if self.a == 255 { 3 } else { 4 };
        for c in &channels[..count] {
            out.push(DIGITS[(c >> 4) as usize] as char);
            out.push(DIGITS[(c & 15) as usize] as char);
        }
        out
    }

    /// This colour painted over an opaque `background`.
    pub fn over(self, background: Rgba) -> Rgba {
        let a = self.a as u32;
        let blend =
            |top: u8, bottom: u8| ((top as u32 * a + bottom as u32 * (255 - a) + 127) / 255) as u8;
        Rgba::rgb(
            blend(self.r, background.r),
            blend(self.g, background.g),
            blend(self.b, background.b),
        )
    }

    /// The opaque colour `t` of the way from `self` to `other` (0 = self, 1 = other).
    pub fn mix(self, other: Rgba, t: f64) -> Rgba {
        let t = t.clamp(0.0, 1.0);
        let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t + 0.5) as u8;
        Rgba::rgb(
            lerp(self.r, other.r),
            lerp(self.g, other.g),
            lerp(self.b, other.b),
        )
    }

    /// WCAG 2 relative luminance (alpha ignored).
    pub fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = c as f64 / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                js_sys::Math::pow((c + 0.055) / 1.055, 2.4)
            }
        };
        0.2126 * channel(self.r) + 0.7152 * channel(self.g) + 0.0722 * channel(self.b)
    }

    /// Whether text on this background reads better in white than in black. The crossover
    /// of the two contrast ratios is at luminance ≈ 0.179.
    pub fn is_dark(self) -> bool {
        self.luminance() < 0.179
    }
}

/// WCAG 2 contrast ratio of two opaque colours, 1.0 ..= 21.0.
pub fn contrast(a: Rgba, b: Rgba) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The colour closest to `color` (mixed towards black on light backgrounds, white on dark
/// ones) that has at least `ratio` contrast against the opaque `background`.
pub fn ensure_contrast(color: Rgba, background: Rgba, ratio: f64) -> Rgba {
    let color = color.over(background);
    if contrast(color, background) >= ratio {
        return color;
    }
    let target = if background.is_dark() { WHITE } else { BLACK };
    // Binary search on the rounded colour itself, so rounding can never push it below.
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..16 {
        let mid = (lo + hi) / 2.0;
        if contrast(color.mix(target, mid), background) >= ratio {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    color.mix(target, hi)
}

fn parse_hex(hex: &str) -> Option<Rgba> {
    let nibble = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = hex.as_bytes();
    let mut values = [0u8, 0, 0, 255];
    match bytes.len() {
        3 | 4 => {
            for (i, b) in bytes.iter().enumerate() {
                let n = nibble(*b)?;
                values[i] = n * 17;
            }
        }
        6 | 8 => {
            for (i, pair) in bytes.chunks(2).enumerate() {
                values[i] = nibble(pair[0])? * 16 + nibble(pair[1])?;
            }
        }
        _ => return None,
    }
    let [r, g, b, a] = values;
    Some(Rgba { r, g, b, a })
}

/// `r, g, b[, a]` or `r g b[ / a]`.
fn parse_rgb_arguments(inner: &str) -> Option<Rgba> {
    let (channels, alpha): (Vec<&str>, Option<&str>) = if inner.contains(',') {
        let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
        match parts.len() {
            3 => (parts, None),
            4 => (parts[..3].to_vec(), Some(parts[3])),
            _ => return None,
        }
    } else {
        let (colour, alpha) = match inner.split_once('/') {
            Some((c, a)) => (c, Some(a.trim())),
            None => (inner, None),
        };
        let parts: Vec<&str> = colour.split_ascii_whitespace().collect();
        if parts.len() != 3 {
            return None;
        }
        (parts, alpha)
    };
    let mut rgb = [0u8; 3];
    for (slot, text) in rgb.iter_mut().zip(&channels) {
        *slot = parse_channel(text)?;
    }
    let a = match alpha {
        Some(text) => parse_alpha(text)?,
        None => 255,
    };
    Some(Rgba {
        r: rgb[0],
        g: rgb[1],
        b: rgb[2],
        a,
    })
}

fn parse_channel(text: &str) -> Option<u8> {
    let value = match text.strip_suffix('%') {
        Some(pct) => parse_decimal(pct)? * 255.0 / 100.0,
        None => parse_decimal(text)?,
    };
    Some((value.min(255.0) + 0.5) as u8)
}

fn parse_alpha(text: &str) -> Option<u8> {
    let value = match text.strip_suffix('%') {
        Some(pct) => parse_decimal(pct)? / 100.0,
        None => parse_decimal(text)?,
    };
    Some((value.min(1.0) * 255.0 + 0.5) as u8)
}
