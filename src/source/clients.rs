//! Stores and HTTP clients shared by every reader of the process.
//!
//! Building an object_store client builds a reqwest client, which reads the
//! system's certificate store (milliseconds of CPU) and starts with an empty
//! connection pool. Opening many files of one host or bucket would pay that
//! on every open and never reuse a connection. So a store is built once per
//! (kind, scheme and authority, transport settings, cloud environment
//! variables) and shared; a changed variable or setting builds a new one.
//! Bounded: past [`MAX_SHARED`] entries the map starts over (readers keep
//! the stores they hold). May use: `source`, `error`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use object_store::ObjectStore;

use super::Transport;
use crate::error::Result;

/// Most stores kept for sharing.
const MAX_SHARED: usize = 64;

/// Prefixes of the environment variables that configure cloud stores.
const ENV_PREFIXES: [&str; 5] = ["AWS_", "GOOGLE_", "AZURE_", "AZURITE_", "ASYNC_COG_"];

static STORES: LazyLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = LazyLock::new(Mutex::default);

/// The store for `target` (scheme and authority, e.g. `s3://bucket`) of
/// `kind`, built by `build` unless one built with the same transport and
/// environment is already shared.
pub(crate) fn shared_store(
    kind: &str,
    target: &str,
    transport: &Transport,
    build: impl FnOnce() -> Result<Arc<dyn ObjectStore>>,
) -> Result<Arc<dyn ObjectStore>> {
    let key = format!("{kind}|{target}|{transport:?}|{}", cloud_env());
    if let Some(store) = lock().get(&key) {
        return Ok(store.clone());
    }
    let store = build()?;
    let mut stores = lock();
    if stores.len() >= MAX_SHARED {
        stores.clear();
    }
    Ok(stores.entry(key).or_insert(store).clone())
}

/// The reqwest client for URLs sent as given (presigned, SAS), one per
/// timeout setting.
#[cfg(feature = "http")]
pub(crate) fn shared_client(transport: &Transport) -> reqwest::Result<reqwest::Client> {
    static CLIENTS: LazyLock<Mutex<HashMap<String, reqwest::Client>>> = LazyLock::new(Mutex::default);
    let key = format!("{:?}|{:?}", transport.timeout, transport.connect_timeout);
    let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = clients.get(&key) {
        return Ok(c.clone());
    }
    let client = reqwest::Client::builder()
        .timeout(transport.timeout)
        .connect_timeout(transport.connect_timeout)
        .build()?;
    if clients.len() >= MAX_SHARED {
        clients.clear();
    }
    clients.insert(key, client.clone());
    Ok(client)
}

/// The cloud variables set, sorted, as one string.
fn cloud_env() -> String {
    let mut vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .filter(|(k, _)| ENV_PREFIXES.iter().any(|p| k.starts_with(p)))
        .collect();
    vars.sort();
    vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<String, Arc<dyn ObjectStore>>> {
    STORES.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Opens of one host with one transport share a store (and its client
    /// and connections); another transport or host gets its own.
    #[test]
    fn one_store_per_host_and_settings() {
        let built = std::sync::atomic::AtomicUsize::new(0);
        let get = |target: &str, t: &Transport| {
            shared_store("test", target, t, || {
                built.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(Arc::new(object_store::memory::InMemory::new()) as Arc<dyn ObjectStore>)
            })
            .unwrap()
        };
        let t = Transport::default();
        let a = get("http://127.0.0.1:1", &t);
        let b = get("http://127.0.0.1:1", &t);
        assert!(Arc::ptr_eq(&a, &b));
        let slow = Transport {
            timeout: Duration::from_secs(99),
            ..t
        };
        assert!(!Arc::ptr_eq(&a, &get("http://127.0.0.1:1", &slow)));
        assert!(!Arc::ptr_eq(&a, &get("http://127.0.0.1:2", &t)));
        assert_eq!(built.load(std::sync::atomic::Ordering::Relaxed), 3);
    }
}
