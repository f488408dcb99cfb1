//! Consent flows (`oauth.rs`): `take_flow` consumes a flow exactly once, whatever the number of
//! concurrent callbacks with the same state, and expired flows are purged without touching live
//! ones.

use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::scope::ScopeSet;
use time::{Duration, OffsetDateTime};

use super::{now, stores, team};
use crate::FlowRow;

fn flow(team: &TeamId, tag: &str, expires_at: OffsetDateTime) -> FlowRow {
    FlowRow {
        // Unique per run so a shared PostgreSQL database can be reused between runs.
        state_hash: format!("{tag}-{}", ConnectionId::generate()),
        team_id: team.clone(),
        connection_id: ConnectionId::generate(),
        provider: "democloud".into(),
        kind: "create".into(),
        requested_scopes: ScopeSet::parse("items:read items:write", " "),
        redirect_uri: "https://patchbay.example/oauth/callback".into(),
        pkce_verifier: Some(vec![7; 32]),
        binding: Some("binding-digest".into()),
        allow_account_change: true,
        actor: "token:ci".into(),
        return_to: Some("/connections".into()),
        created_at: now(),
        expires_at,
    }
}

#[tokio::test]
async fn a_flow_is_taken_once_and_round_trips() {
    for (store, _dir) in stores().await {
        let t = team(&store, "flow").await;
        let f = flow(&t, "once", now() + Duration::minutes(10));
        store.insert_flow(&f).await.unwrap();
        assert_eq!(store.take_flow(&f.state_hash).await.unwrap(), Some(f.clone()), "every column round-trips");
        assert_eq!(store.take_flow(&f.state_hash).await.unwrap(), None, "consumed: a replayed state finds nothing");
        assert_eq!(store.take_flow("no-such-state").await.unwrap(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_takes_of_one_flow_have_exactly_one_winner() {
    for (store, _dir) in stores().await {
        let t = team(&store, "flow-race").await;
        for round in 0..5 {
            let f = flow(&t, &format!("race{round}"), now() + Duration::minutes(10));
            store.insert_flow(&f).await.unwrap();
            let takes: Vec<_> = (0..2)
                .map(|_| {
                    let (store, state) = (store.clone(), f.state_hash.clone());
                    tokio::spawn(async move { store.take_flow(&state).await.unwrap() })
                })
                .collect();
            let mut won = Vec::new();
            for take in takes {
                won.extend(take.await.unwrap());
            }
            assert_eq!(won, vec![f], "round {round}: exactly one of two concurrent callbacks gets the flow");
        }
    }
}

#[tokio::test]
async fn expired_flows_are_purged_and_live_ones_stay() {
    for (store, _dir) in stores().await {
        let t = team(&store, "flow-expiry").await;
        let expired = flow(&t, "expired", now() - Duration::seconds(1));
        let at_the_edge = flow(&t, "edge", now());
        let live = flow(&t, "live", now() + Duration::minutes(10));
        for f in [&expired, &at_the_edge, &live] {
            store.insert_flow(f).await.unwrap();
        }
        // Other runs on a shared PostgreSQL database may leave expired flows: at least ours.
        assert!(store.purge_expired_flows(now()).await.unwrap() >= 1);
        assert_eq!(store.take_flow(&expired.state_hash).await.unwrap(), None, "an expired flow is gone");
        assert_eq!(store.take_flow(&at_the_edge.state_hash).await.unwrap(), Some(at_the_edge), "expires after `now`");
        assert_eq!(store.take_flow(&live.state_hash).await.unwrap(), Some(live));
    }
}
