//! How patient requests are: timeouts, retries and the deadline of one
//! request with its retries. Every constructor of a source takes one, so
//! the same settings apply to URLs, caller-built stores and signed URLs.
//! May use: nothing else in the crate.

use std::time::Duration;

/// Timeouts and retries of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transport {
    /// Time allowed for one attempt, from connecting to the last body byte.
    pub timeout: Duration,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one request with all its retries: `timeout` is per
    /// attempt, so without this a server that accepts and never answers
    /// holds a read for (retries + 1) x timeout.
    pub deadline: Duration,
    /// Retries of a failed request (transport errors, 5xx, 429), with
    /// exponential backoff. object_store's own default (10 retries over up
    /// to 3 minutes) is far too patient for a tile server.
    pub max_retries: usize,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
            max_retries: 3,
        }
    }
}
