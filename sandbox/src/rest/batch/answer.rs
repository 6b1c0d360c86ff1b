//! A batch's answer: `result`, `result_error`, `result_total`, `result_next` and `result_time`,
//! each keyed like `cmd` and in its order, encoded as PHP encodes arrays (keys `0…n-1` in
//! order make a JSON list; an empty one is `[]`).

use serde_json::{json, Map, Value};

use crate::rest::error::RestError;

#[derive(Debug, Default)]
pub(super) struct Answer {
    result: Vec<(String, Value)>,
    errors: Vec<(String, Value)>,
    times: Vec<(String, Value)>,
}

impl Answer {
    pub(super) fn succeeded(&mut self, key: &str, value: Value, time: Value) {
        self.result.push((key.to_string(), value));
        self.times.push((key.to_string(), time));
    }

    /// A command that failed; `time` when it ran at all.
    pub(super) fn failed(&mut self, key: &str, error: &RestError, time: Option<Value>) {
        self.errors.push((
            key.to_string(),
            json!({"error": error.code.as_str(), "error_description": error.description}),
        ));
        if let Some(time) = time {
            self.times.push((key.to_string(), time));
        }
    }

    /// The result of an earlier command that succeeded, for references.
    pub(super) fn result_of(&self, key: &str) -> Option<Value> {
        self.result
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    pub(super) fn into_value(self) -> Value {
        json!({
            "result": php_array(self.result),
            "result_error": php_array(self.errors),
            // No implemented method pages its results (`total`/`next`).
            "result_total": php_array(Vec::new()),
            "result_next": php_array(Vec::new()),
            "result_time": php_array(self.times),
        })
    }
}

fn php_array(entries: Vec<(String, Value)>) -> Value {
    let is_list = entries
        .iter()
        .enumerate()
        .all(|(i, (k, _))| *k == i.to_string());
    if is_list {
        Value::Array(entries.into_iter().map(|(_, v)| v).collect())
    } else {
        Value::Object(entries.into_iter().collect::<Map<String, Value>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::error::ErrorCode;

    #[test]
    fn keys_zero_to_n_make_lists_others_objects() {
        let mut answer = Answer::default();
        answer.succeeded("0", json!(1), json!({}));
        answer.failed("1", &RestError::new(ErrorCode::CheckFailure, "no"), None);
        answer.succeeded("2", json!(true), json!({}));
        let value = answer.into_value();
        assert_eq!(value["result"], json!({"0": 1, "2": true}));
        assert_eq!(
            value["result_error"],
            json!({"1": {"error": "ERROR_CHECK_FAILURE", "error_description": "no"}})
        );
        assert_eq!(value["result_total"], json!([]));
        assert_eq!(value["result_time"], json!({"0": {}, "2": {}}));

        let mut answer = Answer::default();
        answer.succeeded("0", json!("a"), json!({}));
        answer.succeeded("1", json!("b"), json!({}));
        let value = answer.into_value();
        assert_eq!(value["result"], json!(["a", "b"]));
        assert_eq!(value["result_error"], json!([]));
    }
}
