//! The test acquirer's card numbers (DESIGN.md's table), digits only.

pub const APPROVED: &str = "4242424242424242";
pub const APPROVED_MASTERCARD: &str = "5555555555554444";
pub const DECLINED: &str = "4000000000000002";
pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
pub const EXPIRED_CARD: &str = "4000000000000069";
pub const INCORRECT_CVC: &str = "4000000000000127";
pub const PROCESSING_ERROR: &str = "4000000000000119";
pub const CHALLENGE: &str = "4000002760003184";
/// The code that approves [`CHALLENGE`].
pub const CHALLENGE_CODE: &str = "123";
