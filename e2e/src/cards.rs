//! The test acquirer's card numbers: one table, in `b24pay_protocol::test_cards`.

pub use b24pay_protocol::test_cards::*;
