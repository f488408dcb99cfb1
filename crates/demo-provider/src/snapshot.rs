//! The grants Demo Cloud has issued, as JSON that survives a restart: token families, live and
//! superseded refresh tokens, access tokens (expiry as Unix time, since an `Instant` does not
//! outlive the process) and the items of each account. Consent pages, codes, knobs and the
//! ledger are not kept: they only matter within one run.
//!
//! `patchbay demo` writes it to its data directory, so connections made in an earlier run keep
//! verifying and refreshing (see `DemoProvider::export_state`).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::state::{AccessToken, Family, Inner, Item, RefreshStatus, RefreshToken};

#[derive(Serialize, Deserialize)]
struct FamilySnap {
    id: u64,
    account: String,
    client_id: String,
    scopes: Vec<String>,
    revoked: bool,
}

#[derive(Serialize, Deserialize)]
struct RefreshSnap {
    token: String,
    family: u64,
    /// `live`, `superseded` or `revoked`.
    status: String,
    seq: u64,
}

#[derive(Serialize, Deserialize)]
struct AccessSnap {
    token: String,
    client_id: String,
    account: String,
    scopes: Vec<String>,
    /// Unix seconds.
    expires_at: u64,
    revoked: bool,
    family: Option<u64>,
}

/// The persistent part of the server's state.
#[derive(Serialize, Deserialize)]
pub(crate) struct Snapshot {
    families: Vec<FamilySnap>,
    refresh: Vec<RefreshSnap>,
    access: Vec<AccessSnap>,
    items: HashMap<String, Vec<Item>>,
    next_item: u64,
    next_family: u64,
    next_seq: u64,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn status_name(s: RefreshStatus) -> &'static str {
    match s {
        RefreshStatus::Live => "live",
        RefreshStatus::Superseded => "superseded",
        RefreshStatus::Revoked => "revoked",
    }
}

impl Inner {
    /// The grants as a snapshot.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let now = self.now();
        let unix = unix_now();
        let mut families: Vec<FamilySnap> = self
            .families
            .iter()
            .map(|(id, f)| FamilySnap {
                id: *id,
                account: f.account.clone(),
                client_id: f.client_id.clone(),
                scopes: f.scopes.clone(),
                revoked: f.revoked,
            })
            .collect();
        families.sort_by_key(|f| f.id);
        let mut refresh: Vec<RefreshSnap> = self
            .refresh
            .iter()
            .map(|(token, r)| RefreshSnap {
                token: token.clone(),
                family: r.family,
                status: status_name(r.status).to_owned(),
                seq: r.seq,
            })
            .collect();
        refresh.sort_by_key(|r| r.seq);
        let mut access: Vec<AccessSnap> = self
            .access
            .iter()
            .map(|(token, a)| AccessSnap {
                token: token.clone(),
                client_id: a.client_id.clone(),
                account: a.account.clone(),
                scopes: a.scopes.clone(),
                expires_at: unix + a.expires_at.saturating_duration_since(now).as_secs(),
                revoked: a.revoked,
                family: a.family,
            })
            .collect();
        access.sort_by(|a, b| (a.expires_at, &a.token).cmp(&(b.expires_at, &b.token)));
        Snapshot {
            families,
            refresh,
            access,
            items: self.items.clone(),
            next_item: self.next_item,
            next_family: self.next_family,
            next_seq: self.next_seq,
        }
    }

    /// Replaces the grants with a snapshot's.
    pub(crate) fn restore(&mut self, s: Snapshot) {
        let now = self.now();
        let unix = unix_now();
        self.families = s
            .families
            .into_iter()
            .map(|f| {
                let family = Family {
                    account: f.account,
                    client_id: f.client_id,
                    scopes: f.scopes,
                    revoked: f.revoked,
                    access_tokens: Vec::new(),
                    refresh_tokens: Vec::new(),
                };
                (f.id, family)
            })
            .collect();
        self.refresh.clear();
        for r in s.refresh {
            let status = match r.status.as_str() {
                "live" => RefreshStatus::Live,
                "superseded" => RefreshStatus::Superseded,
                _ => RefreshStatus::Revoked,
            };
            if let Some(f) = self.families.get_mut(&r.family) {
                f.refresh_tokens.push(r.token.clone());
                self.refresh.insert(r.token, RefreshToken { family: r.family, status, seq: r.seq });
            }
        }
        self.access.clear();
        for a in s.access {
            let left = Duration::from_secs(a.expires_at.saturating_sub(unix));
            // An expired token stays expired: `now` itself is already past for `bearer`.
            let expires_at: Instant = if left.is_zero() { now } else { now + left };
            if let Some(f) = a.family.and_then(|f| self.families.get_mut(&f)) {
                f.access_tokens.push(a.token.clone());
            }
            let token = AccessToken {
                client_id: a.client_id,
                account: a.account,
                scopes: a.scopes,
                expires_at,
                revoked: a.revoked,
                family: a.family,
            };
            self.access.insert(a.token, token);
        }
        self.items = s.items;
        self.next_item = s.next_item;
        self.next_family = s.next_family;
        self.next_seq = s.next_seq;
    }
}
