//! PeerTube's `{"total", "data"}` list envelope.

use serde::Serialize;

/// PeerTube's list envelope.
#[derive(Debug, Serialize)]
pub struct ListResponse<T: Serialize> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    pub data: Vec<T>,
}

impl<T: Serialize> ListResponse<T> {
    pub fn new(total: usize, data: Vec<T>) -> Self {
        ListResponse {
            total: Some(total),
            data,
        }
    }
}
