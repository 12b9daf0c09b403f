//! Who may do what: password hashing, OAuth token material, login throttling and role rules.

pub mod password;
pub mod rights;
pub mod secret;
pub mod throttle;
