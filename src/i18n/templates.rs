//! `{name}` placeholders in texts.

/// Replaces each `{name}` in `template` with the value paired with `name` in `args`.
/// Unknown placeholders stay as they are, so a mistake is visible rather than silent.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    // `split_once` rather than indexing: no byte offsets, so no panic path in the wasm.
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        out.push('{');
        let Some((name, tail)) = after.split_once('}') else {
            rest = after;
            break;
        };
        match args.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => {
                out.pop();
                out.push_str(value);
            }
            None => {
                out.push_str(name);
                out.push('}');
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders of a template, in order (for the catalogue's consistency test).
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some((_, after)) = rest.split_once('{') {
        let Some((name, tail)) = after.split_once('}') else {
            break;
        };
        names.push(name);
        rest = tail;
    }
    names
}
