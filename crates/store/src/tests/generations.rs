//! The team change generation (migration 0008) and group-committed audit batches: every write the
//! runtime cache depends on bumps the generation in its own transaction, the scheduler's
//! bookkeeping does not, and a batch of audit records is written whole or not at all.

use super::{connection, now, stores, team};
use crate::*;
use patchbay_domain::ids::TokenId;
use patchbay_domain::principal::Role;

async fn generation(store: &Store, team: &patchbay_domain::ids::TeamId) -> i64 {
    store.team_generation(team).await.unwrap().expect("the team exists")
}

#[tokio::test]
async fn writes_to_tokens_connections_and_secrets_bump_their_team_only() {
    for (store, _dir) in stores().await {
        let a = team(&store, "gen-a").await;
        let b = team(&store, "gen-b").await;
        let g = generation(&store, &a).await;
        let other = generation(&store, &b).await;

        let row = TokenRow {
            id: TokenId::generate(),
            team_id: a.clone(),
            name: "ci".into(),
            role: Role::Runtime,
            binding: None,
            expires_at: None,
            last_used_at: None,
        };
        let digest = row.id.as_str().as_bytes().to_vec();
        store.create_token(&row, &digest, now()).await.unwrap();
        let (found, seen) = store.find_token_with_generation(&digest).await.unwrap().unwrap();
        assert_eq!(found, row);
        assert!(seen > g, "creating a token bumps its team");
        assert_eq!(seen, generation(&store, &a).await, "the token is read with the current generation");

        let c = connection(&a, "gen");
        let secrets = vec![("api_key".to_owned(), vec![1, 2, 3])];
        store.insert_connection(NewConnection { connection: &c, secrets: &secrets }).await.unwrap();
        let after_insert = generation(&store, &a).await;
        assert!(after_insert > seen);

        // The scheduler's bookkeeping columns do not invalidate anything.
        store.set_next_action(&c.id, Some(now())).await.unwrap();
        store.set_warned_days(&c.id, 7).await.unwrap();
        assert_eq!(generation(&store, &a).await, after_insert, "next_action_at and warned_days do not bump");

        let mut step = after_insert;
        let bumped = |before: i64, after: i64, what: &str| assert!(after > before, "{what} must bump the generation");
        assert!(store.rename_connection(&a, &c.id, "gen 2", now()).await.unwrap());
        let g2 = generation(&store, &a).await;
        bumped(step, g2, "a rename");
        step = g2;
        store
            .set_status(&a, &c.id, patchbay_domain::connection::ConnectionStatus::NeedsReauth, Some("x"), now())
            .await
            .unwrap();
        let g3 = generation(&store, &a).await;
        bumped(step, g3, "a status change");
        step = g3;
        assert!(store.delete_token(&a, &row.id).await.unwrap());
        let g4 = generation(&store, &a).await;
        bumped(step, g4, "revoking a token");
        step = g4;
        assert!(store.delete_connection(&a, &c.id).await.unwrap());
        let g5 = generation(&store, &a).await;
        bumped(step, g5, "deleting a connection");
        assert!(store.connection_secrets(&a, &c.id).await.unwrap().is_empty());

        assert_eq!(generation(&store, &b).await, other, "another team's generation is untouched");
        assert_eq!(store.team_generation(&patchbay_domain::ids::TeamId::generate()).await.unwrap(), None);
    }
}

fn record(team: &patchbay_domain::ids::TeamId, i: usize) -> AuditRecord {
    AuditRecord {
        team_id: team.clone(),
        at: now(),
        actor: "token:ci".into(),
        action: "secret.read".into(),
        connection_id: Some(format!("con_{i}")),
        outcome: "ok".into(),
        detail: Some("token".into()),
    }
}

#[tokio::test]
async fn an_audit_batch_is_written_whole() {
    for (store, _dir) in stores().await {
        let t = team(&store, "batch").await;
        // More than one statement's worth of rows.
        let records: Vec<AuditRecord> = (0..1200).map(|i| record(&t, i)).collect();
        store.append_audit_batch(&records).await.unwrap();
        let q = AuditQuery { limit: 500, ..AuditQuery::default() };
        let mut seen = store.list_audit(&t, &q).await.unwrap();
        while let Some(last) = seen.last().map(|e| e.id) {
            let more = store.list_audit(&t, &AuditQuery { before_id: Some(last), ..q.clone() }).await.unwrap();
            if more.is_empty() {
                break;
            }
            seen.extend(more);
        }
        assert_eq!(seen.len(), 1200);

        // A batch whose last row the database refuses writes none of its rows.
        poison_audit(&store).await;
        let u = team(&store, "batch-fail").await;
        let mut bad: Vec<AuditRecord> = (0..10).map(|i| record(&u, i)).collect();
        bad[9].detail = Some("poison".into());
        assert!(store.append_audit_batch(&bad).await.is_err(), "the refused row fails the batch");
        assert!(store.list_audit(&u, &q).await.unwrap().is_empty(), "no row of a failed batch is kept");
        store.append_audit_batch(&bad[..9]).await.unwrap();
        assert_eq!(store.list_audit(&u, &q).await.unwrap().len(), 9);
    }
}

/// Makes the database refuse audit rows whose detail is `poison` (a real constraint failure).
async fn poison_audit(store: &Store) {
    match &store.pool {
        Pool::Sqlite(p) => {
            sqlx::query(
                "CREATE TRIGGER IF NOT EXISTS audit_poison BEFORE INSERT ON audit_log WHEN NEW.detail = 'poison' \
                 BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
            )
            .execute(p)
            .await
            .unwrap();
        }
        Pool::Postgres(p) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(
                "CREATE OR REPLACE FUNCTION audit_poison() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.detail = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$; \
                 DROP TRIGGER IF EXISTS audit_poison ON audit_log; \
                 CREATE TRIGGER audit_poison BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_poison();",
            ))
            .execute(p)
            .await
            .unwrap();
        }
    }
}
