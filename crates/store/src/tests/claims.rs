//! The claim queues: due connections (scheduler), pending revocations and webhook deliveries.
//! A claim pushes the row's due time ahead with a conditional update, so of concurrent claimers
//! exactly one gets each row, and the row comes back once the claim lapses.

use patchbay_domain::ids::TeamId;
use time::{Duration, OffsetDateTime};

use super::{connection, now, stores, team};
use crate::{NewConnection, PendingRevocation, Store, WebhookRow};

const CLAIM: Duration = Duration::minutes(2);

/// Runs `claim` eight times concurrently and returns every item claimed.
async fn claim_concurrently<T, F, Fut>(claim: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<T>> + Send + 'static,
{
    let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(claim())).collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

/// The items of this test's own rows: other runs on a shared PostgreSQL database may have left
/// due rows of their own.
fn ours<T, K: PartialEq>(items: Vec<T>, key: impl Fn(&T) -> K, mine: &[K]) -> Vec<T> {
    items.into_iter().filter(|i| mine.contains(&key(i))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_connection_is_claimed_by_one_scheduler_until_the_claim_lapses() {
    for (store, _dir) in stores().await {
        let t = team(&store, "due").await;
        let c = connection(&t, "due");
        store.insert_connection(NewConnection { connection: &c, secrets: &[] }).await.unwrap();
        let later = connection(&t, "not yet");
        store.insert_connection(NewConnection { connection: &later, secrets: &[] }).await.unwrap();
        store.set_next_action(&c.id, Some(now())).await.unwrap();
        store.set_next_action(&later.id, Some(now() + Duration::hours(1))).await.unwrap();
        let mine = [c.id.clone(), later.id.clone()];

        let s = store.clone();
        let claimed = claim_concurrently(move || {
            let s = s.clone();
            async move { s.claim_due_connections(now(), CLAIM, 500).await.unwrap() }
        })
        .await;
        let claimed = ours(claimed, |(_, id)| id.clone(), &mine);
        assert_eq!(claimed, vec![(t.clone(), c.id.clone())], "exactly one claimer, and only the due connection");
        let lc = store.lifecycle(&t, &c.id).await.unwrap().unwrap();
        assert_eq!(lc.next_action_at, Some(now() + CLAIM), "pushed ahead by the claim");

        let during = ours(
            store.claim_due_connections(now() + Duration::minutes(1), CLAIM, 500).await.unwrap(),
            |(_, id)| id.clone(),
            &mine,
        );
        assert!(during.is_empty(), "claimed rows are not handed out again: {during:?}");
        let lapsed =
            ours(store.claim_due_connections(now() + CLAIM, CLAIM, 500).await.unwrap(), |(_, id)| id.clone(), &mine);
        assert_eq!(lapsed, vec![(t.clone(), c.id.clone())], "a claim that was never written back lapses");
    }
}

fn revocation(team: &TeamId, tag: &str) -> PendingRevocation {
    PendingRevocation {
        id: 0,
        team_id: team.clone(),
        connection_id: format!("con_{tag}{}", &team.as_str()[5..]),
        provider: "democloud".into(),
        settings: "{}".into(),
        hint: "refresh_token".into(),
        token: vec![1, 2, 3],
        client_secret: None,
        attempts: 1,
        give_up_at: now() + Duration::hours(24),
        grant_id: None,
    }
}

async fn claim_revocations(store: &Store, at: OffsetDateTime, mine: &[String]) -> Vec<PendingRevocation> {
    ours(store.claim_due_revocations(at, CLAIM, 500, None).await.unwrap(), |r| r.connection_id.clone(), mine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_revocation_is_claimed_by_one_worker_and_rescheduled_or_forgotten() {
    for (store, _dir) in stores().await {
        let t = team(&store, "revoke").await;
        let due = revocation(&t, "due");
        let later = revocation(&t, "later");
        store.insert_pending_revocation(&due, now(), "503").await.unwrap();
        store.insert_pending_revocation(&later, now() + Duration::hours(1), "503").await.unwrap();
        let mine = [due.connection_id.clone(), later.connection_id.clone()];

        let (s, m) = (store.clone(), mine.clone());
        let claimed = claim_concurrently(move || {
            let (s, m) = (s.clone(), m.clone());
            async move { claim_revocations(&s, now(), &m).await }
        })
        .await;
        assert_eq!(claimed.len(), 1, "exactly one worker claims the due revocation");
        let got = &claimed[0];
        assert_eq!(
            (got.connection_id.as_str(), got.hint.as_str(), got.attempts),
            (due.connection_id.as_str(), "refresh_token", 1)
        );
        assert_eq!((got.token.clone(), got.give_up_at), (due.token.clone(), due.give_up_at));
        assert!(claim_revocations(&store, now() + Duration::minutes(1), &mine).await.is_empty(), "held by the claim");
        assert_eq!(claim_revocations(&store, now() + CLAIM, &mine).await.len(), 1, "the claim lapses");

        store.reschedule_revocation(got.id, 2, now() + Duration::hours(2), "again").await.unwrap();
        assert!(claim_revocations(&store, now() + Duration::minutes(30), &mine).await.is_empty(), "rescheduled");
        let again = claim_revocations(&store, now() + Duration::hours(3), &mine).await;
        assert_eq!(
            again.iter().map(|r| r.attempts).collect::<Vec<_>>(),
            [1, 2],
            "`later` (due first), then the rescheduled one"
        );
        assert_eq!(store.pending_revocation_count(&due.connection_id).await.unwrap(), 1);
        store.delete_revocation(got.id).await.unwrap();
        assert_eq!(store.pending_revocation_count(&due.connection_id).await.unwrap(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_delivery_is_claimed_by_one_worker_until_it_is_done() {
    for (store, _dir) in stores().await {
        let t = team(&store, "deliver").await;
        let hook = WebhookRow {
            id: format!("whk_{}", &t.as_str()[5..]),
            team_id: t.clone(),
            url: "https://hooks.example/x".into(),
            secret: vec![1, 2, 3],
            event_types: vec!["connection.created".into()],
            created_at: now(),
        };
        store.insert_webhook(&hook).await.unwrap();
        let data = serde_json::json!({"k": "v"});
        let wanted = store.insert_event(&t, None, "connection.created", now(), &data).await.unwrap();
        let unwanted = store.insert_event(&t, None, "connection.refreshed", now(), &data).await.unwrap();
        assert_eq!(store.queue_deliveries(&t, wanted, "connection.created", now()).await.unwrap(), 1);
        assert_eq!(
            store.queue_deliveries(&t, unwanted, "connection.refreshed", now()).await.unwrap(),
            0,
            "not subscribed"
        );
        let mine = [hook.id.clone()];

        let (s, m) = (store.clone(), mine.clone());
        let claimed = claim_concurrently(move || {
            let (s, m) = (s.clone(), m.clone());
            async move { ours(s.claim_due_deliveries(now(), CLAIM, 500).await.unwrap(), |d| d.webhook.id.clone(), &m) }
        })
        .await;
        assert_eq!(claimed.len(), 1, "exactly one worker claims the delivery");
        let d = &claimed[0];
        assert_eq!((d.event_id, d.event_type.as_str(), d.attempts), (wanted, "connection.created", 0));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&d.event_data).unwrap(), data);
        assert_eq!(d.webhook.event_types, hook.event_types);
        let claim = |at| {
            let store = store.clone();
            let mine = mine.clone();
            async move { ours(store.claim_due_deliveries(at, CLAIM, 500).await.unwrap(), |d| d.webhook.id.clone(), &mine) }
        };
        assert!(claim(now() + Duration::minutes(1)).await.is_empty(), "held by the claim");
        assert_eq!(claim(now() + CLAIM).await.len(), 1, "the claim lapses");

        store.update_delivery(d.id, "delivered", 1, now(), None).await.unwrap();
        assert!(claim(now() + Duration::days(1)).await.is_empty(), "a delivered delivery is never claimed again");
    }
}
