//! Strict parsers for the non-colour values taken from the portal's computed style, and their
//! serializers. A value either parses completely into one of these types or is dropped; what
//! reaches the page's CSS is always re-written from the parsed value, never the input text.

use b24pay_protocol::money::digits;

/// A non-negative decimal number without sign or exponent: `12`, `12.5`, `.5`.
pub(crate) fn parse_decimal(text: &str) -> Option<f64> {
    if text.is_empty() || text.len() > 16 {
        return None;
    }
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) if !f.is_empty() => (i, f),
        Some(_) => return None,
        None => (text, ""),
    };
    let mut value = 0.0f64;
    for b in int_part.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10.0 + (b - b'0') as f64;
    }
    let mut scale = 1.0f64;
    for b in frac_part.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        scale /= 10.0;
        value += (b - b'0') as f64 * scale;
    }
    Some(value)
}

/// A font size in CSS pixels, kept in hundredths so it serializes without float formatting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Px(u32);

impl Px {
    /// Font sizes the widget will use; a store's body text outside this range is clamped,
    /// because the widget must stay readable (and inputs usable) whatever the page does.
    pub const MIN: Px = Px(1200);
    pub const MAX: Px = Px(2400);

    /// `<number>px`, between 1px and 200px. Other units, signs and keywords are refused.
    pub fn parse(text: &str) -> Option<Px> {
        let number = text.trim().strip_suffix("px")?;
        let value = parse_decimal(number)?;
        if !(1.0..=200.0).contains(&value) {
            return None;
        }
        Some(Px((value * 100.0 + 0.5) as u32))
    }

    pub fn clamp_readable(self) -> Px {
        Px(self.0.clamp(Px::MIN.0, Px::MAX.0))
    }

    pub fn to_css(self) -> String {
        let (whole, hundredths) = (self.0 / 100, self.0 % 100);
        let mut css = digits(whole.into());
        if hundredths > 0 {
            // Two fraction digits, the trailing zero dropped: 12.5px, 12.05px, 12.25px.
            let tenths = b'0' + (hundredths / 10) as u8;
            let last = b'0' + (hundredths % 10) as u8;
            css.push('.');
            css.push(char::from(tenths));
            if last != b'0' {
                css.push(char::from(last));
            }
        }
        css.push_str("px");
        css
    }
}

/// One entry of a `font-family` list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Family {
    /// Was quoted: always written back double-quoted.
    Quoted(String),
    /// A sequence of identifiers (`Helvetica Neue`, `sans-serif`, `-apple-system`): written
    /// back as is, so generic families keep working.
    Idents(String),
}

/// A validated `font-family` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FontFamily(Vec<Family>);

const MAX_FONT_FAMILY_LEN: usize = 300;
const MAX_FAMILIES: usize = 16;

impl FontFamily {
    /// Comma-separated family names, each a quoted string or identifiers separated by
    /// spaces. Names may contain letters and digits of any script, spaces (quoted), `-`, `_`
    /// and `.` (quoted); nothing else — no quotes inside names, escapes, brackets, `;`, `}`, `<`.
    pub fn parse(text: &str) -> Option<FontFamily> {
        if text.len() > MAX_FONT_FAMILY_LEN {
            return None;
        }
        let mut families = Vec::new();
        for item in text.split(',') {
            let item = item.trim();
            let family = if let Some(quoted) = unquote(item) {
                let name = quoted.trim();
                let ok = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| is_name_char(c) || matches!(c, ' ' | '-' | '.'));
                if !ok {
                    return None;
                }
                Family::Quoted(name.split_whitespace().collect::<Vec<_>>().join(" "))
            } else {
                let words: Vec<&str> = item.split_whitespace().collect();
                if words.is_empty() || !words.iter().all(|w| is_ident(w)) {
                    return None;
                }
                if words.len() == 1 && is_css_wide_keyword(words[0]) {
                    return None;
                }
                Family::Idents(words.join(" "))
            };
            families.push(family);
        }
        if families.len() > MAX_FAMILIES {
            return None;
        }
        Some(FontFamily(families))
    }

    pub fn to_css(&self) -> String {
        let mut out = String::new();
        for (i, family) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match family {
                Family::Quoted(name) => {
                    out.push('"');
                    out.push_str(name);
                    out.push('"');
                }
                Family::Idents(words) => out.push_str(words),
            }
        }
        out
    }
}

fn unquote(item: &str) -> Option<&str> {
    for quote in ['"', '\''] {
        if let Some(inner) = item.strip_prefix(quote) {
            return inner.strip_suffix(quote);
        }
    }
    None
}

/// CSS's ident code points without `-` and digits: ASCII letters, `_`, and every non-ASCII
/// code point but the C1 controls. (What CSS itself allows, and cheaper than Unicode's
/// letter tables, which would cost every customer their kilobytes.) None of them can end a
/// quoted name or a declaration.
fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c >= '\u{a0}'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// A CSS identifier without escapes: starts with a name-start character, or `-` followed by
/// one or by `-`; continues with name characters and `-`.
fn is_ident(word: &str) -> bool {
    let mut chars = word.chars();
    let first_ok = match chars.next() {
        Some('-') => matches!(chars.next(), Some(c) if is_name_start(c) || c == '-'),
        Some(c) => is_name_start(c),
        None => false,
    };
    first_ok && word.chars().all(|c| is_name_char(c) || c == '-')
}

fn is_css_wide_keyword(word: &str) -> bool {
    [
        "inherit",
        "initial",
        "unset",
        "revert",
        "revert-layer",
        "default",
    ]
    .iter()
    .any(|k| word.eq_ignore_ascii_case(k))
}

/// A `color-scheme` value: `normal`, or up to three of `light`, `dark`, `only`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColorScheme(String);

impl ColorScheme {
    pub fn parse(text: &str) -> Option<ColorScheme> {
        let words: Vec<String> = text
            .split_ascii_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let valid = match words.as_slice() {
            [one] if one == "normal" => true,
            [] => false,
            list => {
                list.len() <= 3
                    && list
                        .iter()
                        .all(|w| matches!(w.as_str(), "light" | "dark" | "only"))
                    && list.iter().any(|w| w != "only")
            }
        };
        valid.then(|| ColorScheme(words.join(" ")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
