//! Reformatting a digits field (card number, expiry, CVC) while the customer edits it, without
//! making the caret jump.
//!
//! The browser applies the keystroke or paste first; we then read the raw value and caret,
//! keep only the digits, format them again, and put the caret after the same number of
//! digits as before. That rule is what makes editing in the middle of "4242 4242 4242 4242"
//! feel natural, whatever separators the formatting adds or removes.

use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlInputElement, InputEvent};

/// How one field turns digits into text.
pub struct Format<'a> {
    /// Adjusts the digits before they are cut and shown (e.g. "3" → "03" for a month),
    /// moving the count of digits before the caret along. Not called while deleting.
    pub normalize: fn(&mut String, &mut usize),
    /// The most digits the field takes, given the digits so far.
    pub max: &'a dyn Fn(&str) -> usize,
    /// The text shown for the digits; `deleting` is true after a backspace or delete, so a
    /// trailing separator is not put straight back.
    pub show: fn(&str, bool) -> String,
}

/// For fields that take digits as they are.
pub fn keep(_: &mut String, _: &mut usize) {}

/// One edit's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edited {
    pub digits: String,
    pub text: String,
    /// Caret position in UTF-16 units (the DOM's selection unit); the text is ASCII.
    pub caret: u32,
}

/// Applies `format` to the field's raw value after an edit.
///
/// `caret` is the browser's `selectionStart` after its edit (UTF-16 units); `previous` the
/// digits before the edit; `deleting_back` whether the edit was a backspace.
pub fn reformat(
    raw: &str,
    caret: u32,
    deleting_back: bool,
    deleting: bool,
    previous: &str,
    format: &Format,
) -> Edited {
    let mut digits = String::with_capacity(raw.len());
    let mut before = 0usize;
    let mut offset = 0u32;
    for c in raw.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            if offset < caret {
                before += 1;
            }
        }
        offset += c.len_utf16() as u32;
    }
    // A backspace that removed only a separator ("4242 |4242") would change nothing visible:
    // remove the digit before it instead, as the customer meant. At the end of the text
    // ("12 / |") removing the separator alone is already a visible change.
    if deleting_back && digits == previous && before > 0 && before < digits.len() {
        // Not `String::remove`, which slices at a byte offset and so links a panic path
        // that formats strings; the digits are ASCII, so chars and bytes count alike.
        digits = (digits.chars().enumerate())
            .filter_map(|(i, c)| (i != before - 1).then_some(c))
            .collect();
        before -= 1;
    }
    if !deleting {
        (format.normalize)(&mut digits, &mut before);
    }
    let max = (format.max)(&digits);
    digits.truncate(max);
    before = before.min(digits.len());
    let text = (format.show)(&digits, deleting);
    let caret = if before >= digits.len() {
        text.len()
    } else {
        position_after_digits(&text, before)
    };
    Edited {
        digits,
        text,
        caret: caret as u32,
    }
}

/// Byte (= UTF-16, the text is ASCII) position just after the `n`th digit of `text`.
fn position_after_digits(text: &str, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let mut seen = 0;
    for (i, b) in text.bytes().enumerate() {
        if b.is_ascii_digit() {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    text.len()
}

/// Handles an `input` event on a digits field: reformats its value in place and returns the
/// digits now in it.
pub fn apply(event: &Event, previous: &str, format: &Format) -> String {
    let Some(input) = event
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
    else {
        return previous.to_owned();
    };
    let kind = event
        .dyn_ref::<InputEvent>()
        .map(InputEvent::input_type)
        .unwrap_or_default();
    let raw = input.value();
    let caret = input
        .selection_start()
        .ok()
        .flatten()
        .unwrap_or(raw.encode_utf16().count() as u32);
    let edited = reformat(
        &raw,
        caret,
        kind == "deleteContentBackward",
        kind.starts_with("delete"),
        previous,
        format,
    );
    if edited.text != raw {
        input.set_value(&edited.text);
    }
    // Only move the caret of the focused field: setting a selection can steal focus on
    // some mobile browsers when the field is not focused (autofill fills several at once).
    let focused = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .is_some_and(|el| &el == input.unchecked_ref::<web_sys::Element>());
    if focused {
        let _ = input.set_selection_range(edited.caret, edited.caret);
    }
    edited.digits
}
