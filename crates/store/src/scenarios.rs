//! Scenarios and their steps. A scenario and its steps are written in one transaction; a
//! connection's usages are read through the step index.

use patchbay_domain::ids::{ConnectionId, ScenarioId, TeamId};
use patchbay_domain::scenario::{ModuleRef, Scenario, Step};
use time::OffsetDateTime;

use crate::error::conflict_or;
use crate::time_col::{from_ms, to_ms};
use crate::{Store, StoreError, with_pool};

/// One step that uses a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// Scenario id.
    pub scenario_id: ScenarioId,
    /// Scenario name.
    pub scenario_name: String,
    /// Step position (0-based).
    pub position: usize,
    /// Module.
    pub module: ModuleRef,
    /// The connection.
    pub connection_id: ConnectionId,
}

fn corrupt(e: impl ToString) -> StoreError {
    StoreError::Corrupt(format!("scenario: {}", e.to_string()))
}

fn step_of(module: &str, connection: Option<&str>) -> Result<Step, StoreError> {
    Ok(Step {
        module: ModuleRef::parse(module).map_err(corrupt)?,
        connection: connection.map(ConnectionId::parse).transpose().map_err(corrupt)?,
    })
}

const NAME_TAKEN: &str = "a scenario with this name in the team";

/// Inserts the steps of a scenario inside an open transaction (one arm per engine).
macro_rules! insert_steps {
    ($tx:expr, $scenario:expr, $steps:expr) => {
        for (position, step) in $steps.iter().enumerate() {
            sqlx::query(
                "INSERT INTO scenario_steps (scenario_id, position, module, connection_id) VALUES ($1, $2, $3, $4)",
            )
            .bind($scenario.as_str())
            .bind(position as i64)
            .bind(step.module.to_string())
            .bind(step.connection.as_ref().map(|c| c.as_str().to_owned()))
            .execute(&mut *$tx)
            .await?;
        }
    };
}

impl Store {
    /// Inserts a scenario with its steps.
    pub async fn insert_scenario(&self, s: &Scenario) -> Result<(), StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO scenarios (id, team_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(s.id.as_str())
                .bind(s.team_id.as_str())
                .bind(&s.name)
                .bind(to_ms(s.created_at))
                .bind(to_ms(s.updated_at))
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, NAME_TAKEN))?;
            insert_steps!(tx, s.id, s.steps);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Replaces a scenario's name and steps. `Ok(false)`: no such scenario in the team.
    pub async fn update_scenario(&self, s: &Scenario) -> Result<bool, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE scenarios SET name = $1, updated_at = $2 WHERE team_id = $3 AND id = $4")
                .bind(&s.name)
                .bind(to_ms(s.updated_at))
                .bind(s.team_id.as_str())
                .bind(s.id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, NAME_TAKEN))?
                .rows_affected();
            if n != 1 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM scenario_steps WHERE scenario_id = $1").bind(s.id.as_str()).execute(&mut *tx).await?;
            insert_steps!(tx, s.id, s.steps);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The team's scenarios with their steps, by name.
    pub async fn list_scenarios(&self, team: &TeamId) -> Result<Vec<Scenario>, StoreError> {
        let heads: Vec<(String, String, i64, i64)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, name, created_at, updated_at FROM scenarios WHERE team_id = $1 ORDER BY name")
            .bind(team.as_str()).fetch_all(p).await)?;
        let steps: Vec<(String, String, Option<String>)> = with_pool!(self, p => sqlx::query_as(
            "SELECT st.scenario_id, st.module, st.connection_id FROM scenario_steps st JOIN scenarios s ON s.id = st.scenario_id \
             WHERE s.team_id = $1 ORDER BY st.scenario_id, st.position")
            .bind(team.as_str()).fetch_all(p).await)?;
        heads
            .into_iter()
            .map(|(id, name, created, updated)| {
                let own = steps
                    .iter()
                    .filter(|(sid, _, _)| *sid == id)
                    .map(|(_, m, c)| step_of(m, c.as_deref()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Scenario {
                    id: ScenarioId::parse(&id).map_err(corrupt)?,
                    team_id: team.clone(),
                    name,
                    steps: own,
                    created_at: from_ms(created)?,
                    updated_at: from_ms(updated)?,
                })
            })
            .collect()
    }

    /// One scenario of the team.
    pub async fn get_scenario(&self, team: &TeamId, id: &ScenarioId) -> Result<Option<Scenario>, StoreError> {
        let head: Option<(String, i64, i64)> = with_pool!(self, p => sqlx::query_as(
            "SELECT name, created_at, updated_at FROM scenarios WHERE team_id = $1 AND id = $2")
            .bind(team.as_str()).bind(id.as_str()).fetch_optional(p).await)?;
        let Some((name, created, updated)) = head else { return Ok(None) };
        let steps: Vec<(String, Option<String>)> = with_pool!(self, p => sqlx::query_as(
            "SELECT module, connection_id FROM scenario_steps WHERE scenario_id = $1 ORDER BY position")
            .bind(id.as_str()).fetch_all(p).await)?;
        Ok(Some(Scenario {
            id: id.clone(),
            team_id: team.clone(),
            name,
            steps: steps.iter().map(|(m, c)| step_of(m, c.as_deref())).collect::<Result<_, _>>()?,
            created_at: from_ms(created)?,
            updated_at: from_ms(updated)?,
        }))
    }

    /// Deletes a scenario (its steps go with it). `Ok(false)`: no such scenario in the team.
    pub async fn delete_scenario(&self, team: &TeamId, id: &ScenarioId) -> Result<bool, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("DELETE FROM scenarios WHERE team_id = $1 AND id = $2")
                .bind(team.as_str()).bind(id.as_str()).execute(&mut *tx).await?.rows_affected();
            sqlx::query("DELETE FROM scenario_steps WHERE scenario_id = $1 AND NOT EXISTS (SELECT 1 FROM scenarios WHERE id = $1)")
                .bind(id.as_str()).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    /// Every step of the team that is bound to a connection (for connection views).
    pub async fn team_usages(&self, team: &TeamId) -> Result<Vec<Usage>, StoreError> {
        let rows: Vec<(String, String, i64, String, String)> = with_pool!(self, p => sqlx::query_as(
            "SELECT s.id, s.name, st.position, st.module, st.connection_id FROM scenario_steps st \
             JOIN scenarios s ON s.id = st.scenario_id WHERE s.team_id = $1 AND st.connection_id IS NOT NULL \
             ORDER BY s.name, st.position")
            .bind(team.as_str()).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(id, name, position, module, connection)| {
                Ok(Usage {
                    scenario_id: ScenarioId::parse(&id).map_err(corrupt)?,
                    scenario_name: name,
                    position: usize::try_from(position).map_err(corrupt)?,
                    module: ModuleRef::parse(&module).map_err(corrupt)?,
                    connection_id: ConnectionId::parse(&connection).map_err(corrupt)?,
                })
            })
            .collect()
    }

    /// The steps that use one connection (through the step index, not a scan of the team).
    pub async fn connection_usages(&self, team: &TeamId, connection: &ConnectionId) -> Result<Vec<Usage>, StoreError> {
        let rows: Vec<(String, String, i64, String)> = with_pool!(self, p => sqlx::query_as(
            "SELECT s.id, s.name, st.position, st.module FROM scenario_steps st \
             JOIN scenarios s ON s.id = st.scenario_id WHERE st.connection_id = $1 AND s.team_id = $2 \
             ORDER BY s.name, st.position")
            .bind(connection.as_str()).bind(team.as_str()).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(id, name, position, module)| {
                Ok(Usage {
                    scenario_id: ScenarioId::parse(&id).map_err(corrupt)?,
                    scenario_name: name,
                    position: usize::try_from(position).map_err(corrupt)?,
                    module: ModuleRef::parse(&module).map_err(corrupt)?,
                    connection_id: connection.clone(),
                })
            })
            .collect()
    }

    /// Moves every step from one connection to another (or unbinds them with `None`) in one
    /// statement; returns how many steps moved.
    pub async fn rebind_steps(
        &self,
        team: &TeamId,
        from: &ConnectionId,
        to: Option<&ConnectionId>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE scenario_steps SET connection_id = $1 WHERE connection_id = $2 \
                 AND scenario_id IN (SELECT id FROM scenarios WHERE team_id = $3)")
                .bind(to.map(|c| c.as_str().to_owned()))
                .bind(from.as_str())
                .bind(team.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(
                "UPDATE scenarios SET updated_at = $1 WHERE team_id = $2 AND id IN \
                 (SELECT scenario_id FROM scenario_steps WHERE connection_id = $3)")
                .bind(to_ms(now))
                .bind(team.as_str())
                .bind(to.map_or(from.as_str(), |c| c.as_str()))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(n)
        })
    }
}
