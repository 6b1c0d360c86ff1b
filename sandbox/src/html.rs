//! Small helpers for the server-rendered pages.

use serde_json::Value;

/// Text for an HTML element or a double-quoted attribute.
pub(crate) fn esc(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// JSON that is safe inside an inline `<script>`: no `</script>`, `<!--` or line separators
/// can end the script early.
pub(crate) fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Groups thousands for display: `1234567.50` → `1,234,567.50`.
pub(crate) fn display_amount(decimal: &str) -> String {
    let (int, frac) = match decimal.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (decimal, None),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(frac) => format!("{grouped}.{frac}"),
        None => grouped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn script_json_cannot_close_the_script() {
        let out = script_json(&json!({"a": "</script><!--"}));
        assert!(!out.contains("</"));
        assert!(!out.contains("<!--"));
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap(),
            json!({"a": "</script><!--"})
        );
    }

    #[test]
    fn amounts_are_grouped() {
        assert_eq!(display_amount("1234567.50"), "1,234,567.50");
        assert_eq!(display_amount("990.00"), "990.00");
        assert_eq!(display_amount("4500"), "4,500");
    }
}
