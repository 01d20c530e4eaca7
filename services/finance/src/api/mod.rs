//! The gRPC handlers of `bank.finance.v1.FinanceService`: parse the wire
//! input into domain values, check who may do what, act, and answer. Every
//! failure becomes a status a client can act on; handlers log ids only.

mod applications;
mod decide;
mod loans;
mod options;
mod paging;

use std::sync::Arc;

use bank_authn::{Caller, Role};
use bank_proto::bank::finance::v1 as pb;
use bank_proto::bank::finance::v1::finance_service_server::FinanceService;
use bank_server::{FieldViolations, internal, unavailable};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::peers::{Accounts, Ledger};
use crate::store::{Store, StoreError};

pub use paging::{
    LIST_ALL_APPLICATIONS_PAGE_SIZE_MAX, LIST_LOANS_PAGE_SIZE_MAX, LIST_MY_APPLICATIONS_PAGE_SIZE_MAX,
    LIST_OPTIONS_PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT,
};

/// How often a request finishes another request's in-flight approval or
/// repayment before giving up with ABORTED. Every round completes someone's
/// work, so the rounds a request needs are bounded by the requests racing
/// it on the same application or loan (repayments of one loan are applied
/// one at a time); the limit only ends a pathological storm.
const SETTLE_ROUNDS_MAX: usize = 16;

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The Transfer service's internal API.
    pub ledger: Ledger,
    /// The Account service's internal API.
    pub accounts: Accounts,
}

/// The public service.
#[derive(Clone, Debug)]
pub struct FinanceApi {
    state: Arc<AppState>,
}

impl FinanceApi {
    /// Handlers over `state`.
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

fn store_error(context: &str, error: StoreError) -> Status {
    match error {
        StoreError::Unavailable(e) => unavailable(context, e),
        other => internal(context, other),
    }
}

fn parse_uuid(violations: &mut FieldViolations, field: &str, value: &str) -> Option<Uuid> {
    if value.is_empty() {
        violations.add(field, "is required");
        return None;
    }
    violations.check(field, Uuid::parse_str(value).map_err(|_| "must be a UUID"))
}

/// Turns "every value is `Some` after validation" into values, or an
/// internal error if validation let a `None` through.
fn parsed<T>(value: Option<T>, context: &str) -> Result<T, Status> {
    value.ok_or_else(|| internal(context, "validated value missing"))
}

fn is_admin(caller: &Caller) -> bool {
    caller.has_role(Role::Admin)
}

fn aborted() -> Status {
    Status::aborted("the resource kept changing under concurrent requests; retry with the same request_id")
}

#[tonic::async_trait]
impl FinanceService for FinanceApi {
    async fn create_financing_option(
        &self,
        request: Request<pb::CreateFinancingOptionRequest>,
    ) -> Result<Response<pb::CreateFinancingOptionResponse>, Status> {
        self.state.create_option(request).await.map(Response::new)
    }

    async fn update_financing_option(
        &self,
        request: Request<pb::UpdateFinancingOptionRequest>,
    ) -> Result<Response<pb::UpdateFinancingOptionResponse>, Status> {
        self.state.update_option(request).await.map(Response::new)
    }

    async fn list_financing_options(
        &self,
        request: Request<pb::ListFinancingOptionsRequest>,
    ) -> Result<Response<pb::ListFinancingOptionsResponse>, Status> {
        self.state.list_options(request).await.map(Response::new)
    }

    async fn get_financing_option(
        &self,
        request: Request<pb::GetFinancingOptionRequest>,
    ) -> Result<Response<pb::GetFinancingOptionResponse>, Status> {
        self.state.get_option(request).await.map(Response::new)
    }

    async fn submit_application(
        &self,
        request: Request<pb::SubmitApplicationRequest>,
    ) -> Result<Response<pb::SubmitApplicationResponse>, Status> {
        self.state.submit(request).await.map(Response::new)
    }

    async fn list_my_applications(
        &self,
        request: Request<pb::ListMyApplicationsRequest>,
    ) -> Result<Response<pb::ListMyApplicationsResponse>, Status> {
        self.state.list_my_applications(request).await.map(Response::new)
    }

    async fn get_application(
        &self,
        request: Request<pb::GetApplicationRequest>,
    ) -> Result<Response<pb::GetApplicationResponse>, Status> {
        self.state.get_application(request).await.map(Response::new)
    }

    async fn select_financing_option(
        &self,
        request: Request<pb::SelectFinancingOptionRequest>,
    ) -> Result<Response<pb::SelectFinancingOptionResponse>, Status> {
        self.state.select_option(request).await.map(Response::new)
    }

    async fn resubmit_application(
        &self,
        request: Request<pb::ResubmitApplicationRequest>,
    ) -> Result<Response<pb::ResubmitApplicationResponse>, Status> {
        self.state.resubmit(request).await.map(Response::new)
    }

    async fn withdraw_application(
        &self,
        request: Request<pb::WithdrawApplicationRequest>,
    ) -> Result<Response<pb::WithdrawApplicationResponse>, Status> {
        self.state.withdraw(request).await.map(Response::new)
    }

    async fn get_dashboard(
        &self,
        request: Request<pb::GetDashboardRequest>,
    ) -> Result<Response<pb::GetDashboardResponse>, Status> {
        self.state.dashboard(request).await.map(Response::new)
    }

    async fn list_all_applications(
        &self,
        request: Request<pb::ListAllApplicationsRequest>,
    ) -> Result<Response<pb::ListAllApplicationsResponse>, Status> {
        self.state.list_all_applications(request).await.map(Response::new)
    }

    async fn decide_application(
        &self,
        request: Request<pb::DecideApplicationRequest>,
    ) -> Result<Response<pb::DecideApplicationResponse>, Status> {
        self.state.decide(request).await.map(Response::new)
    }

    async fn list_loans(
        &self,
        request: Request<pb::ListLoansRequest>,
    ) -> Result<Response<pb::ListLoansResponse>, Status> {
        self.state.list_loans(request).await.map(Response::new)
    }

    async fn get_loan(&self, request: Request<pb::GetLoanRequest>) -> Result<Response<pb::GetLoanResponse>, Status> {
        self.state.get_loan(request).await.map(Response::new)
    }

    async fn get_repayment_schedule(
        &self,
        request: Request<pb::GetRepaymentScheduleRequest>,
    ) -> Result<Response<pb::GetRepaymentScheduleResponse>, Status> {
        self.state.repayment_schedule(request).await.map(Response::new)
    }

    async fn repay_loan(
        &self,
        request: Request<pb::RepayLoanRequest>,
    ) -> Result<Response<pb::RepayLoanResponse>, Status> {
        self.state.repay(request).await.map(Response::new)
    }
}
