//! Admin decisions. Reject and request-info are one transaction. Approval
//! moves money, so it runs in steps that survive a crash anywhere:
//!
//! 1. One transaction records the approval as in flight on the application
//!    (a new disbursement attempt, with the admin and reason) and this
//!    request as waiting for it. The status stays SUBMITTED.
//! 2. The ledger pays the principal out of LOAN_FUNDING, idempotent on the
//!    attempt's request id (the application id for the first attempt).
//! 3. One transaction creates the loan and its schedule, sets APPROVED,
//!    writes the history and the events, clears the flight and answers
//!    every waiting request; a decline instead clears the flight and
//!    answers them with the decline (nothing moved; the next approval
//!    starts a new attempt with a new request id).
//!
//! Whoever finds an approval in flight (a retry, a concurrent approval, a
//! reject or withdraw racing it, or the background healer) finishes it by
//! repeating steps 2 and 3 with the recorded attempt: the ledger replays
//! the same transfer, so the principal is paid exactly once.

use bank_authn::require_admin;
use bank_proto::bank::finance::v1 as pb;
use bank_server::FieldViolations;
use tonic::{Request, Status};
use uuid::Uuid;

use super::applications::change_error;
use super::{AppState, SETTLE_ROUNDS_MAX, aborted, parse_uuid, parsed, store_error};
use crate::domain::{Action, DECISION_REASON_MAX_CHARS, RequestId, bounded_text};
use crate::errors;
use crate::idempotency::{Fingerprint, HashField as _, Rpc};
use crate::peers::{self, Disbursement};
use crate::rows::{ApplicationRow, from_timestamp, now};
use crate::store::{ApprovalStart, Change, Changed, IdempotencyKey, Outcome};

/// How an approval in flight ended.
#[derive(Debug)]
pub(crate) enum ApprovalEnd {
    /// Paid out; the application is APPROVED.
    Approved,
    /// The ledger declined; the application stays SUBMITTED.
    Declined(Status),
    /// Nothing was in flight (any more).
    Settled,
}

impl AppState {
    pub(super) async fn decide(
        &self,
        request: Request<pb::DecideApplicationRequest>,
    ) -> Result<pb::DecideApplicationResponse, Status> {
        let admin = require_admin(&request)?.user_id;
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&req.request_id));
        let id = parse_uuid(&mut violations, "application_id", &req.application_id);
        let decision = match pb::Decision::try_from(req.decision) {
            Ok(pb::Decision::Unspecified) | Err(_) => {
                violations.add("decision", "must be APPROVE, REJECT or REQUEST_INFO");
                None
            }
            Ok(decision) => Some(decision),
        };
        let reason_required = decision.is_some_and(|d| d != pb::Decision::Approve);
        let reason = violations.check(
            "reason",
            bounded_text(&req.reason, usize::from(reason_required), DECISION_REASON_MAX_CHARS),
        );
        violations.into_result()?;
        let (request_id, id, decision, reason) = (
            parsed(request_id, "decide")?,
            parsed(id, "decide")?,
            parsed(decision, "decide")?,
            parsed(reason, "decide")?,
        );
        let fingerprint = Fingerprint::new()
            .field("application_id", id.to_string())
            .field("decision", (decision as i32).to_string())
            .field("reason", &reason);
        let key = IdempotencyKey {
            caller: admin,
            rpc: Rpc::DecideApplication,
            request_id: request_id.as_str(),
        };
        for _ in 0..SETTLE_ROUNDS_MAX {
            if let Some(record) = self
                .store
                .record(key)
                .await
                .map_err(|e| store_error("reading request record", e))?
            {
                if let Some(field) = fingerprint.first_mismatch(&record.fingerprint) {
                    return Err(errors::key_reused(&field));
                }
                if record.is_completed() {
                    return record.replay();
                }
                // This request's approval is still in flight: finish it.
                self.finish_approval(id, rid.as_deref()).await?;
                continue;
            }
            let view = self
                .store
                .application(id)
                .await
                .map_err(|e| store_error("reading application", e))?
                .ok_or_else(errors::application_not_found)?;
            if view.row.applicant_user_id == admin {
                return Err(errors::with_reason(
                    tonic::Code::PermissionDenied,
                    "SELF_DECISION",
                    "an admin cannot decide their own application",
                    &[],
                ));
            }
            if view.row.approval_pending {
                let end = self.finish_approval(id, rid.as_deref()).await?;
                if let Some(answer) = self.joined(key, &fingerprint, id, decision, end).await? {
                    return answer;
                }
                continue;
            }
            if decision == pb::Decision::Approve {
                match self.store.start_approval(key, &fingerprint, id, admin, &reason).await {
                    Ok(ApprovalStart::Started { application, attempt }) => {
                        tracing::info!(admin_id = %admin, application_id = %id, attempt, "approval started");
                        self.disburse(&application, attempt, rid.as_deref()).await?;
                    }
                    Ok(ApprovalStart::Existing) => {}
                    Ok(ApprovalStart::Pending) => {
                        let end = self.finish_approval(id, rid.as_deref()).await?;
                        if let Some(answer) = self.joined(key, &fingerprint, id, decision, end).await? {
                            return answer;
                        }
                    }
                    Ok(ApprovalStart::AlreadyApproved(record)) => return record.replay(),
                    Err(error) => return Err(change_error("approving application", error)),
                }
                continue;
            }
            let action = if decision == pb::Decision::Reject {
                Action::Reject
            } else {
                Action::RequestInfo
            };
            let change = Change {
                application_id: id,
                actor: admin,
                action,
                note: &reason,
                decision: Some((key, &fingerprint, decision)),
            };
            match self.store.change(change).await {
                Ok(Changed::Done(view)) => {
                    tracing::info!(admin_id = %admin, application_id = %id, ?decision, "application decided");
                    return Ok(pb::DecideApplicationResponse {
                        application: Some(view.to_proto()),
                        loan: None,
                    });
                }
                Ok(Changed::Existing) => {}
                Err(crate::store::ChangeError::Pending) => {
                    self.finish_approval(id, rid.as_deref()).await?;
                }
                Err(error) => return Err(change_error("deciding application", error)),
            }
        }
        Err(aborted())
    }

    /// An APPROVE that found another approval in flight and finished it
    /// gets that approval's decline as its own answer (recorded under its
    /// key) rather than starting a new attempt at once; anything else goes
    /// round again.
    async fn joined(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: &Fingerprint,
        id: Uuid,
        decision: pb::Decision,
        end: ApprovalEnd,
    ) -> Result<Option<Result<pb::DecideApplicationResponse, Status>>, Status> {
        let ApprovalEnd::Declined(status) = end else {
            return Ok(None);
        };
        if decision != pb::Decision::Approve {
            return Ok(None);
        }
        match self
            .store
            .record_outcome(key, fingerprint, id, &Outcome::error(&status))
            .await
            .map_err(|e| store_error("recording decline", e))?
        {
            None => Ok(Some(Err(status))),
            // A concurrent call with this key recorded first: its answer.
            Some(_) => Ok(None),
        }
    }

    /// Finishes the approval in flight on application `id`, if any.
    pub(crate) async fn finish_approval(&self, id: Uuid, rid: Option<&str>) -> Result<ApprovalEnd, Status> {
        let Some(view) = self
            .store
            .application(id)
            .await
            .map_err(|e| store_error("reading application", e))?
        else {
            return Ok(ApprovalEnd::Settled);
        };
        if !view.row.approval_pending {
            return Ok(ApprovalEnd::Settled);
        }
        self.disburse(&view.row, view.row.approval_attempt, rid).await
    }

    /// Steps 2 and 3 of approval `attempt` of `application`.
    async fn disburse(
        &self,
        application: &ApplicationRow,
        attempt: i32,
        rid: Option<&str>,
    ) -> Result<ApprovalEnd, Status> {
        let request_id = application.disbursement_request_id(attempt);
        let disbursement = Disbursement {
            request_id: &request_id,
            application_id: application.id,
            account_id: application.disbursement_account_id,
            amount_minor: application.amount_minor,
            currency: &application.currency,
        };
        match self.ledger.disburse(&disbursement, rid).await {
            Ok(transfer) => {
                let transfer_id = Uuid::parse_str(&transfer.transfer_id)
                    .map_err(|e| bank_server::internal("reading the disbursement", e))?;
                let at = transfer
                    .create_time
                    .as_ref()
                    .and_then(from_timestamp)
                    .unwrap_or_else(now);
                if self
                    .store
                    .complete_approval(application.id, attempt, transfer_id, at)
                    .await
                    .map_err(|e| store_error("recording approval", e))?
                {
                    tracing::info!(
                        application_id = %application.id,
                        transfer_id = %transfer_id,
                        attempt,
                        "loan disbursed; application approved"
                    );
                }
                Ok(ApprovalEnd::Approved)
            }
            Err(status) => {
                if let Some(decline) = peers::definitive("disbursing the loan", &status) {
                    if self
                        .store
                        .fail_approval(application.id, attempt, &decline)
                        .await
                        .map_err(|e| store_error("recording declined approval", e))?
                    {
                        tracing::info!(
                            application_id = %application.id,
                            attempt,
                            reason = %status.message(),
                            "disbursement declined; application stays submitted"
                        );
                    }
                    return Ok(ApprovalEnd::Declined(decline));
                }
                Err(peers::relay("disbursing the loan", status))
            }
        }
    }
}
