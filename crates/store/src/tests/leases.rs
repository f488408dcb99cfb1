//! The refresh lease and its generation fence (`lifecycle.rs`): one holder at a time, a lease
//! that expires and can be taken over, and writes of a holder that lost its lease or generation
//! refused without touching the stored credential.

use patchbay_domain::connection::ConnectionStatus;
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::scope::ScopeSet;
use time::Duration;

use super::{connection, now, stores, team};
use crate::{NewConnection, RefreshFailure, RefreshWrite, Store};

const LEASE: Duration = Duration::seconds(60);

/// An inserted connection with one sealed access token `[1]`, at generation 0.
async fn leased_connection(store: &Store, name: &str) -> (TeamId, ConnectionId) {
    let t = team(store, name).await;
    let c = connection(&t, name);
    let secrets = vec![("access_token".to_owned(), vec![1])];
    store.insert_connection(NewConnection { connection: &c, secrets: &secrets }).await.unwrap();
    (t, c.id)
}

fn write<'a>(secrets: &'a [(String, Vec<u8>)], scopes: &'a ScopeSet, at: time::OffsetDateTime) -> RefreshWrite<'a> {
    RefreshWrite {
        secrets,
        expires_at: Some(at + Duration::hours(1)),
        granted_scopes: scopes,
        fingerprint: "new-fingerprint",
        next_action_at: Some(at + Duration::minutes(30)),
        now: at,
    }
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires_then_another_owner_takes_it_over() {
    for (store, _dir) in stores().await {
        let (t, id) = leased_connection(&store, "lease").await;
        let until = now() + LEASE;
        assert!(store.take_refresh_lease(&id, 0, "node-a", now(), until).await.unwrap(), "a free lease is taken");
        let lc = store.lifecycle(&t, &id).await.unwrap().unwrap();
        assert_eq!((lc.lease_owner.as_deref(), lc.lease_until), (Some("node-a"), Some(until)));
        assert_eq!(lc.refresh_state.as_deref(), Some("in_flight"), "recorded before any request leaves");

        // Held: nobody else gets it, not even the holder again, and not on a wrong generation.
        let later = now() + Duration::seconds(30);
        assert!(!store.take_refresh_lease(&id, 0, "node-b", later, later + LEASE).await.unwrap());
        assert!(!store.take_refresh_lease(&id, 0, "node-a", later, later + LEASE).await.unwrap());
        assert!(store.holds_lease(&id, 0, "node-a", later).await.unwrap());
        assert!(store.holds_lease(&id, 0, "node-a", until).await.unwrap(), "held up to and including its end");
        assert!(!store.holds_lease(&id, 0, "node-b", later).await.unwrap());
        assert!(!store.holds_lease(&id, 1, "node-a", later).await.unwrap(), "only on the generation it was taken on");

        // Expired: the holder no longer holds it, and another owner takes it over. The first
        // holder's outcome is unknown, so the state says so.
        let expired = until + Duration::milliseconds(1);
        assert!(!store.holds_lease(&id, 0, "node-a", expired).await.unwrap());
        assert!(
            !store.take_refresh_lease(&id, 1, "node-b", expired, expired + LEASE).await.unwrap(),
            "wrong generation"
        );
        assert!(store.take_refresh_lease(&id, 0, "node-b", expired, expired + LEASE).await.unwrap(), "takeover");
        let lc = store.lifecycle(&t, &id).await.unwrap().unwrap();
        assert_eq!(lc.lease_owner.as_deref(), Some("node-b"));
        assert_eq!(lc.refresh_state.as_deref(), Some("unknown"), "a taken-over refresh may have reached the provider");
        assert!(!store.holds_lease(&id, 0, "node-a", expired).await.unwrap());

        // Releasing: the old holder's release is a no-op; the holder's keeps `unknown`.
        store.release_lease(&id, 0, "node-a").await.unwrap();
        assert_eq!(store.lifecycle(&t, &id).await.unwrap().unwrap().lease_owner.as_deref(), Some("node-b"));
        store.release_lease(&id, 0, "node-b").await.unwrap();
        let lc = store.lifecycle(&t, &id).await.unwrap().unwrap();
        assert_eq!((lc.lease_owner, lc.lease_until), (None, None));
        assert_eq!(lc.refresh_state.as_deref(), Some("unknown"), "only `in_flight` is cleared by a release");
        assert_eq!(lc.generation, 0, "a release is not a credential change");
    }
}

#[tokio::test]
async fn a_released_in_flight_lease_leaves_no_trace() {
    for (store, _dir) in stores().await {
        let (t, id) = leased_connection(&store, "release").await;
        assert!(store.take_refresh_lease(&id, 0, "node-a", now(), now() + LEASE).await.unwrap());
        store.release_lease(&id, 0, "node-a").await.unwrap();
        let lc = store.lifecycle(&t, &id).await.unwrap().unwrap();
        assert_eq!((lc.lease_owner, lc.refresh_state), (None, None));
        assert!(store.take_refresh_lease(&id, 0, "node-b", now(), now() + LEASE).await.unwrap(), "free again");
    }
}

#[tokio::test]
async fn concurrent_lease_takes_have_exactly_one_winner() {
    for (store, _dir) in stores().await {
        let (_, id) = leased_connection(&store, "race").await;
        let takes = (0..8).map(|n| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                store.take_refresh_lease(&id, 0, &format!("node-{n}"), now(), now() + LEASE).await.unwrap()
            })
        });
        let won = count_winners(takes).await;
        assert_eq!(won, 1, "exactly one of eight concurrent takers holds the lease");
    }
}

async fn count_winners(tasks: impl Iterator<Item = tokio::task::JoinHandle<bool>>) -> usize {
    let mut won = 0;
    for task in tasks.collect::<Vec<_>>() {
        won += usize::from(task.await.unwrap());
    }
    won
}

#[tokio::test]
async fn a_holder_that_lost_its_lease_cannot_write_and_the_new_holder_can() {
    for (store, _dir) in stores().await {
        let (t, id) = leased_connection(&store, "fence").await;
        assert!(store.take_refresh_lease(&id, 0, "node-a", now(), now() + LEASE).await.unwrap());
        let late = now() + LEASE + Duration::seconds(1);
        assert!(store.take_refresh_lease(&id, 0, "node-b", late, late + LEASE).await.unwrap());

        let scopes = ScopeSet::parse("read", " ");
        let stale = vec![("access_token".to_owned(), vec![2])];
        assert!(!store.finish_refresh(&id, 0, "node-a", &write(&stale, &scopes, late)).await.unwrap(), "fenced");
        let failure = RefreshFailure {
            status: ConnectionStatus::NeedsReauth,
            reason: "stale",
            refresh_state: None,
            next_action_at: None,
            now: late,
        };
        assert!(!store.fail_refresh(&id, 0, "node-a", &failure).await.unwrap(), "a stale failure is fenced too");
        assert_eq!(store.connection_secrets(&t, &id).await.unwrap(), vec![("access_token".to_owned(), vec![1])]);
        assert_eq!(store.get_connection(&t, &id).await.unwrap().unwrap().status, ConnectionStatus::Active);

        let fresh = vec![("access_token".to_owned(), vec![3]), ("refresh_token".to_owned(), vec![4])];
        assert!(store.finish_refresh(&id, 0, "node-b", &write(&fresh, &scopes, late)).await.unwrap());
        let mut secrets = store.connection_secrets(&t, &id).await.unwrap();
        secrets.sort();
        assert_eq!(secrets, fresh);
        let lc = store.lifecycle(&t, &id).await.unwrap().unwrap();
        assert_eq!(lc.generation, 1, "a written refresh bumps the generation");
        assert_eq!((lc.lease_owner, lc.refresh_state, lc.failure_count), (None, None, 0));
        assert_eq!(lc.last_refreshed_at, Some(late));
        let c = store.get_connection(&t, &id).await.unwrap().unwrap();
        assert_eq!(c.credential_fingerprint.as_deref(), Some("new-fingerprint"));
        assert_eq!(c.expires_at, Some(late + Duration::hours(1)));
    }
}

#[tokio::test]
async fn a_finish_with_a_stale_generation_is_refused() {
    for (store, _dir) in stores().await {
        let (t, id) = leased_connection(&store, "generation").await;
        assert!(store.take_refresh_lease(&id, 0, "node-a", now(), now() + LEASE).await.unwrap());
        // A new consent lands while the refresh is out: the grant changed under the holder.
        store.reset_lifecycle(&id, now(), None).await.unwrap();
        let lc = store.lifecycle(&t, &id).await.unwrap().unwrap();
        assert_eq!((lc.generation, lc.lease_owner.as_deref()), (1, None));

        let scopes = ScopeSet::parse("read", " ");
        let stale = vec![("access_token".to_owned(), vec![9])];
        assert!(!store.finish_refresh(&id, 0, "node-a", &write(&stale, &scopes, now())).await.unwrap());
        let failure = RefreshFailure {
            status: ConnectionStatus::Degraded,
            reason: "late failure",
            refresh_state: Some("unknown"),
            next_action_at: None,
            now: now(),
        };
        assert!(!store.fail_refresh(&id, 0, "node-a", &failure).await.unwrap());
        assert!(!store.holds_lease(&id, 0, "node-a", now()).await.unwrap());
        assert_eq!(store.connection_secrets(&t, &id).await.unwrap(), vec![("access_token".to_owned(), vec![1])]);
        let lc = store.lifecycle(&t, &id).await.unwrap().unwrap();
        assert_eq!((lc.generation, lc.failure_count, lc.refresh_state), (1, 0, None), "nothing of the stale holder");

        // On the current generation the lease works as before.
        assert!(store.take_refresh_lease(&id, 1, "node-a", now(), now() + LEASE).await.unwrap());
        let fresh = vec![("access_token".to_owned(), vec![5])];
        assert!(store.finish_refresh(&id, 1, "node-a", &write(&fresh, &scopes, now())).await.unwrap());
        assert_eq!(store.lifecycle(&t, &id).await.unwrap().unwrap().generation, 2);
    }
}

#[tokio::test]
async fn a_recorded_failure_releases_the_lease_and_counts() {
    for (store, _dir) in stores().await {
        let (t, id) = leased_connection(&store, "failure").await;
        let retry = now() + Duration::seconds(2);
        for attempt in 1..=2 {
            assert!(store.take_refresh_lease(&id, 0, "node-a", now(), now() + LEASE).await.unwrap());
            let failure = RefreshFailure {
                status: ConnectionStatus::Degraded,
                reason: "503",
                refresh_state: None,
                next_action_at: Some(retry),
                now: now(),
            };
            assert!(store.fail_refresh(&id, 0, "node-a", &failure).await.unwrap());
            let lc = store.lifecycle(&t, &id).await.unwrap().unwrap();
            assert_eq!((lc.lease_owner, lc.failure_count, lc.next_action_at), (None, attempt, Some(retry)));
            assert_eq!(lc.generation, 0, "a failure keeps the credential and its generation");
        }
        let c = store.get_connection(&t, &id).await.unwrap().unwrap();
        assert_eq!((c.status, c.status_reason.as_deref()), (ConnectionStatus::Degraded, Some("503")));
    }
}
