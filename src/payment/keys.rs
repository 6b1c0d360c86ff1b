//! Idempotency keys: one per distinct request body, retired once its attempt has a final
//! answer (see the module's docs).

/// The idempotency key of the request body in flight or last sent without a final answer.
pub struct Keys<T> {
    current: Option<(T, String)>,
}

impl<T: PartialEq> Keys<T> {
    pub fn new() -> Self {
        Keys { current: None }
    }

    /// The key for `body`: the pending one when the body is the same, else a fresh one.
    pub fn key_for(&mut self, body: T, fresh: impl FnOnce() -> String) -> String {
        match &self.current {
            Some((pending, key)) if *pending == body => key.clone(),
            _ => {
                let key = fresh();
                self.current = Some((body, key.clone()));
                key
            }
        }
    }

    /// The attempt has a final answer: the next request gets a new key.
    pub fn retire(&mut self) {
        self.current = None;
    }
}

impl<T: PartialEq> Default for Keys<T> {
    fn default() -> Self {
        Keys::new()
    }
}
