//! The building blocks of authentication: password hashing, OAuth token material, client
//! addresses and login throttling. Who may do what is `service::rights`.

pub mod address;
pub mod password;
pub mod secret;
pub mod throttle;
