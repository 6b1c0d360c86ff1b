//! Small helpers for the server-rendered pages: escaping, and filling the templates in
//! `sandbox/templates/` (plain HTML, CSS and JS with `{{name}}` placeholders).

use serde_json::Value;

/// Fills `{{name}}` placeholders with the given values, inserted as they are (escape them
/// first). Every placeholder must have a value and every value a placeholder; the page tests
/// run in debug builds, where a mismatch panics.
pub(crate) fn render(template: &str, values: &[(&str, &str)]) -> String {
    let extra: usize = values.iter().map(|(_, v)| v.len()).sum();
    let mut out = String::with_capacity(template.len() + extra);
    let mut used = vec![false; values.len()];
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").expect("a template placeholder is closed");
        let key = &after[..close];
        match values.iter().position(|(k, _)| *k == key) {
            Some(index) => {
                used[index] = true;
                out.push_str(values[index].1);
            }
            None => debug_assert!(false, "template placeholder {key:?} has no value"),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    debug_assert!(
        used.iter().all(|u| *u),
        "values without a placeholder: {:?}",
        values
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|((k, _), _)| k)
            .collect::<Vec<_>>()
    );
    out
}

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
    fn templates_are_filled() {
        assert_eq!(
            render("<b>{{a}}</b>{x}{{b}}{{a}}", &[("a", "1"), ("b", "<i>")]),
            "<b>1</b>{x}<i>1"
        );
    }

    #[test]
    #[should_panic(expected = "no value")]
    fn a_missing_value_is_caught() {
        render("{{a}}", &[]);
    }

    #[test]
    fn amounts_are_grouped() {
        assert_eq!(display_amount("1234567.50"), "1,234,567.50");
        assert_eq!(display_amount("990.00"), "990.00");
        assert_eq!(display_amount("4500"), "4,500");
    }
}
