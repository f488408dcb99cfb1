//! The in-process cache of the runtime hot path (token endpoint, proxy): API token digest →
//! principal, and (team, connection) → the connection, its lifecycle columns and its sealed
//! secret fields.
//!
//! Every entry is tagged with the team's *change generation* it was read at (a counter the
//! database bumps, by trigger, in the same transaction as every write to tokens, connections and
//! secret fields). A request reads the current generation once; an entry is used only when its
//! tag equals it, so a write committed on any node invalidates every node's entries at once. No
//! decrypted secret is ever stored here: the secret fields stay AES-GCM ciphertexts, opened per
//! call with the team's data key (which the key service caches, as before).
//!
//! The maps are bounded: past `capacity` entries a map is emptied and refills on demand.
//! `capacity` 0 disables the cache (every call reads the database; the benchmark's cold case).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use patchbay_domain::connection::Connection;
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::principal::Principal;
use patchbay_store::{Lifecycle, TokenRow};

/// The caller of a runtime endpoint: the principal, and the team's change generation read
/// when it was authenticated (the cached reads of the same request are checked against it).
#[derive(Debug, Clone)]
pub struct RuntimeCaller {
    /// Who calls.
    pub principal: Principal,
    /// The team's change generation, read before anything else of the request.
    pub(crate) generation: i64,
}

/// What the hot path needs of a connection, as read at one generation (no clear secret).
#[derive(Debug)]
pub(crate) struct ConnectionEntry {
    /// The connection row.
    pub(crate) connection: Connection,
    /// Its lifecycle columns (read for OAuth connections only).
    pub(crate) lifecycle: Option<Lifecycle>,
    /// The sealed secret fields, `(field, ciphertext)`.
    pub(crate) sealed: Vec<(String, Vec<u8>)>,
}

struct Tagged<T> {
    generation: i64,
    value: T,
}

type ConnectionMap = HashMap<(TeamId, ConnectionId), Tagged<Arc<ConnectionEntry>>>;

/// The two bounded maps.
pub(crate) struct RuntimeCache {
    capacity: usize,
    principals: RwLock<HashMap<Vec<u8>, Tagged<TokenRow>>>,
    connections: RwLock<ConnectionMap>,
}

fn bounded_insert<K: std::hash::Hash + Eq, V>(map: &RwLock<HashMap<K, V>>, capacity: usize, key: K, value: V) {
    if capacity == 0 {
        return;
    }
    let mut map = map.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if map.len() >= capacity && !map.contains_key(&key) {
        map.clear();
    }
    map.insert(key, value);
}

impl RuntimeCache {
    /// A cache of at most `capacity` principals and `capacity` connections (0: disabled).
    pub(crate) fn new(capacity: usize) -> RuntimeCache {
        RuntimeCache { capacity, principals: RwLock::default(), connections: RwLock::default() }
    }

    /// The cached token row of a digest and the generation it was read at.
    pub(crate) fn principal(&self, digest: &[u8]) -> Option<(TokenRow, i64)> {
        let map = self.principals.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(digest).map(|t| (t.value.clone(), t.generation))
    }

    /// Remembers a token row read at `generation`.
    pub(crate) fn put_principal(&self, digest: Vec<u8>, row: TokenRow, generation: i64) {
        bounded_insert(&self.principals, self.capacity, digest, Tagged { generation, value: row });
    }

    /// The cached entry of a connection, if it was read at exactly `generation`.
    pub(crate) fn connection(&self, team: &TeamId, id: &ConnectionId, generation: i64) -> Option<Arc<ConnectionEntry>> {
        let map = self.connections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&(team.clone(), id.clone())).filter(|t| t.generation == generation).map(|t| Arc::clone(&t.value))
    }

    /// Remembers a connection entry read at `generation`.
    pub(crate) fn put_connection(&self, generation: i64, entry: Arc<ConnectionEntry>) {
        let key = (entry.connection.team_id.clone(), entry.connection.id.clone());
        bounded_insert(&self.connections, self.capacity, key, Tagged { generation, value: entry });
    }
}

#[cfg(test)]
mod tests {
    use patchbay_domain::ids::TokenId;
    use patchbay_domain::principal::Role;

    use super::*;

    fn row(team: &TeamId) -> TokenRow {
        TokenRow {
            id: TokenId::generate(),
            team_id: team.clone(),
            name: "ci".into(),
            role: Role::Runtime,
            binding: None,
            expires_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn a_full_map_is_emptied_instead_of_growing() {
        let cache = RuntimeCache::new(2);
        let team = TeamId::generate();
        for i in 0..5u8 {
            cache.put_principal(vec![i], row(&team), 1);
            assert!(cache.principals.read().unwrap().len() <= 2);
        }
        assert!(cache.principal(&[4]).is_some(), "the newest entry is kept");
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        let cache = RuntimeCache::new(0);
        let team = TeamId::generate();
        cache.put_principal(vec![1], row(&team), 1);
        assert!(cache.principal(&[1]).is_none());
    }
}
