//! Submitting, listing and reading applications, choosing an option, the
//! dashboard and the admins' work queue.

use bank_proto::bank::finance::v1 as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn members_submit_and_read_their_applications() {
    let bank = spawn_bank().await;
    let member = bank.member().await;
    let account = bank.open(&member, USD).await;
    let request = submit_request(&account.account_id, 500_000, 24);
    let application = bank.try_submit(&member, request.clone()).await.unwrap();
    assert_eq!(status_of(&application), pb::ApplicationStatus::Submitted);
    assert_eq!(application.applicant_user_id, member.user_id);
    assert_eq!(application.history.len(), 1);
    assert_eq!(application.history[0].from_status, 0);
    assert!(application.selection.is_none() && application.loan_id.is_empty());

    // Same request id: the original answer, no second application.
    let again = bank.try_submit(&member, request.clone()).await.unwrap();
    assert_eq!(again, application);
    let mut changed = request.clone();
    changed.term_months = 12;
    let status = assert_status(
        bank.try_submit(&member, changed).await,
        Code::AlreadyExists,
        "IDEMPOTENCY_KEY_REUSED",
    );
    assert_eq!(metadata(&status, "field").as_deref(), Some("term_months"));

    let read = bank
        .get_application(&member, &application.application_id)
        .await
        .unwrap();
    assert_eq!(read, application);
    let second = bank.submit(&member, &account.account_id, 20_000, 6).await;
    let mine = bank
        .finance
        .clone()
        .list_my_applications(bearer(pb::ListMyApplicationsRequest::default(), &member.token))
        .await
        .unwrap()
        .into_inner()
        .applications;
    let ids: Vec<_> = mine.iter().map(|a| a.application_id.clone()).collect();
    assert_eq!(
        ids,
        [second.application_id.clone(), application.application_id.clone()],
        "newest first"
    );
    let other = bank.member().await;
    let theirs = bank
        .finance
        .clone()
        .list_my_applications(bearer(pb::ListMyApplicationsRequest::default(), &other.token))
        .await
        .unwrap()
        .into_inner()
        .applications;
    assert!(theirs.is_empty());
}

#[tokio::test]
async fn the_disbursement_account_must_be_an_open_own_account_in_the_currency() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let member = bank.member().await;
    let other = bank.member().await;
    let mine = bank.open(&member, USD).await;
    let theirs = bank.open(&other, USD).await;
    let euros = bank.open(&member, "EUR").await;
    let before = bank.dump().await;
    assert_status(
        bank.try_submit(&member, submit_request(&theirs.account_id, 50_000, 12))
            .await,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
    );
    assert_status(
        bank.try_submit(&member, submit_request(&uuid::Uuid::new_v4().to_string(), 50_000, 12))
            .await,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
    );
    assert_status(
        bank.try_submit(&member, submit_request(&euros.account_id, 50_000, 12))
            .await,
        Code::FailedPrecondition,
        "CURRENCY_MISMATCH",
    );
    bank.freeze(&admin, &mine.account_id).await;
    assert_status(
        bank.try_submit(&member, submit_request(&mine.account_id, 50_000, 12))
            .await,
        Code::FailedPrecondition,
        "ACCOUNT_NOT_OPEN",
    );
    // An admin applies for themselves only: another member's account is
    // not theirs.
    assert_status(
        bank.try_submit(&admin, submit_request(&theirs.account_id, 50_000, 12))
            .await,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
    );
    assert_eq!(bank.dump().await, before, "nothing written");
}

#[tokio::test]
async fn a_member_has_at_most_five_open_applications() {
    let bank = spawn_bank().await;
    let member = bank.member().await;
    let account = bank.open(&member, USD).await;
    let mut ids = Vec::new();
    for _ in 0..finance_service::OPEN_APPLICATIONS_MAX {
        ids.push(
            bank.submit(&member, &account.account_id, 50_000, 12)
                .await
                .application_id,
        );
    }
    assert_status(
        bank.try_submit(&member, submit_request(&account.account_id, 50_000, 12))
            .await,
        Code::ResourceExhausted,
        "TOO_MANY_OPEN_APPLICATIONS",
    );
    // A final application frees a place.
    bank.withdraw_application(&member, &ids[0]).await.unwrap();
    bank.submit(&member, &account.account_id, 50_000, 12).await;
}

#[tokio::test]
async fn selecting_an_option_checks_it_against_the_application() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let member = bank.member().await;
    let account = bank.open(&member, USD).await;
    let application = bank.submit(&member, &account.account_id, 500_000, 24).await;
    let id = application.application_id.as_str();
    let make = |edit: &dyn Fn(&mut pb::FinancingOption)| {
        let mut option = option_template();
        edit(&mut option);
        option
    };
    let mut refused = Vec::new();
    for (reason, option) in [
        (
            "PRODUCT_TYPE_MISMATCH",
            make(&|o| o.product_type = pb::ProductType::Auto as i32),
        ),
        (
            "CURRENCY_MISMATCH",
            make(&|o| {
                o.currency = "EUR".to_owned();
                o.min_amount = Some(money(10_000, "EUR"));
                o.max_amount = Some(money(10_000_000, "EUR"));
            }),
        ),
        (
            "AMOUNT_OUT_OF_RANGE",
            make(&|o| o.max_amount = Some(money(499_999, USD))),
        ),
        (
            "AMOUNT_OUT_OF_RANGE",
            make(&|o| o.min_amount = Some(money(500_001, USD))),
        ),
        ("TERM_OUT_OF_RANGE", make(&|o| o.max_term_months = 23)),
        ("TERM_OUT_OF_RANGE", make(&|o| o.min_term_months = 25)),
    ] {
        let option = bank.try_create_option(&admin, &new_request_id(), option).await.unwrap();
        let status = bank.select(&member, id, &option.option_id).await;
        assert_status(status, Code::FailedPrecondition, reason);
        refused.push(option.option_id);
    }
    let inactive = bank.option(&admin).await;
    bank.finance
        .clone()
        .update_financing_option(bearer(
            pb::UpdateFinancingOptionRequest {
                financing_option: Some(pb::FinancingOption {
                    option_id: inactive.option_id.clone(),
                    active: false,
                    ..pb::FinancingOption::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["active".to_owned()],
                }),
            },
            &admin.token,
        ))
        .await
        .unwrap();
    assert_status(
        bank.select(&member, id, &inactive.option_id).await,
        Code::FailedPrecondition,
        "OPTION_INACTIVE",
    );
    assert_status(
        bank.select(&member, id, &uuid::Uuid::new_v4().to_string()).await,
        Code::NotFound,
        "FINANCING_OPTION_NOT_FOUND",
    );
    assert!(
        bank.get_application(&member, id).await.unwrap().selection.is_none(),
        "nothing was selected"
    );

    // Fitting: the selection freezes the option's terms and projects the schedule.
    let option = bank.option(&admin).await;
    let selected = bank.select(&member, id, &option.option_id).await.unwrap();
    let selection = selected.application.unwrap().selection.unwrap();
    assert_eq!(
        (selection.option_id.as_str(), selection.annual_rate_bps),
        (option.option_id.as_str(), 1_200)
    );
    let schedule = selected.projected_schedule;
    assert_eq!(schedule.len(), 24);
    let expected = finance_service::schedule(500_000, 1_200, 24).unwrap();
    assert_eq!(minor(schedule[0].payment.as_ref()), expected.level_payment);
    let total: i64 = schedule.iter().map(|i| minor(i.payment.as_ref())).sum();
    assert_eq!(total, 500_000 + expected.total_interest);
    assert!(schedule.iter().all(|i| minor(i.paid.as_ref()) == 0));

    // A later rate change does not touch the selection.
    let mut cheaper = option.clone();
    cheaper.annual_rate_bps = 100;
    bank.finance
        .clone()
        .update_financing_option(bearer(
            pb::UpdateFinancingOptionRequest {
                financing_option: Some(cheaper),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["annual_rate_bps".to_owned()],
                }),
            },
            &admin.token,
        ))
        .await
        .unwrap();
    let read = bank.get_application(&member, id).await.unwrap();
    assert_eq!(read.selection.unwrap().annual_rate_bps, 1_200);
}

#[tokio::test]
async fn terms_without_a_representable_schedule_are_refused() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let member = bank.member().await;
    let account = bank.open(&member, USD).await;
    // 1.00 over 480 months at 0 %: every payment would be zero.
    let mut option = option_template();
    option.annual_rate_bps = 0;
    option.min_amount = Some(money(1, USD));
    option.max_term_months = 480;
    let option = bank.try_create_option(&admin, &new_request_id(), option).await.unwrap();
    let application = bank.submit(&member, &account.account_id, 100, 480).await;
    let status = assert_status(
        bank.select(&member, &application.application_id, &option.option_id)
            .await,
        Code::InvalidArgument,
        "SCHEDULE_NOT_REPRESENTABLE",
    );
    assert_eq!(violations(&status), ["option_id"]);
}

#[tokio::test]
async fn selecting_is_refused_on_final_applications() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, 100_000, 12).await;
    bank.withdraw_application(&ready.member, &ready.application_id)
        .await
        .unwrap();
    assert_status(
        bank.select(&ready.member, &ready.application_id, &ready.option_id)
            .await,
        Code::FailedPrecondition,
        "APPLICATION_FINAL",
    );
}

#[tokio::test]
async fn the_dashboard_sums_by_status_and_currency() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let (ready, loan) = bank.loan(&admin, 300_000, 12).await;
    let member = &ready.member;
    let pending = bank.submit(member, &ready.account_id, 50_000, 6).await;
    let rejected = bank.submit(member, &ready.account_id, 70_000, 6).await;
    bank.decide(&admin, &rejected.application_id, pb::Decision::Reject, "income too low")
        .await
        .unwrap();
    let dashboard = bank
        .finance
        .clone()
        .get_dashboard(bearer(pb::GetDashboardRequest {}, &member.token))
        .await
        .unwrap()
        .into_inner();
    let count = |status: pb::ApplicationStatus| {
        dashboard
            .applications_by_status
            .iter()
            .find(|c| c.status == status as i32)
            .unwrap()
            .count
    };
    assert_eq!(
        dashboard.applications_by_status.len(),
        5,
        "every status, zeros included"
    );
    assert_eq!(count(pb::ApplicationStatus::Submitted), 1);
    assert_eq!(count(pb::ApplicationStatus::Approved), 1);
    assert_eq!(count(pb::ApplicationStatus::Rejected), 1);
    assert_eq!(count(pb::ApplicationStatus::Withdrawn), 0);
    assert_eq!(dashboard.total_requested, [money(420_000, USD)]);
    assert_eq!(dashboard.total_approved, [money(300_000, USD)]);
    assert_eq!(dashboard.outstanding_principal, [money(300_000, USD)]);
    assert_eq!(dashboard.active_loan_count, 1);
    assert_eq!(dashboard.next_due_date, loan.next_due_date);
    assert!(pending.loan_id.is_empty());

    let stranger = bank.member().await;
    let empty = bank
        .finance
        .clone()
        .get_dashboard(bearer(pb::GetDashboardRequest {}, &stranger.token))
        .await
        .unwrap()
        .into_inner();
    assert!(empty.total_requested.is_empty() && empty.next_due_date.is_none());
    assert!(empty.applications_by_status.iter().all(|c| c.count == 0));
}

#[tokio::test]
async fn admins_page_through_every_application_oldest_first_with_filters() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let a = bank.member().await;
    let b = bank.member().await;
    let account_a = bank.open(&a, USD).await;
    let account_b = bank.open(&b, USD).await;
    let mut all = Vec::new();
    for i in 0..3 {
        all.push(
            bank.submit(&a, &account_a.account_id, 50_000 + i, 12)
                .await
                .application_id,
        );
        all.push(
            bank.submit(&b, &account_b.account_id, 60_000 + i, 12)
                .await
                .application_id,
        );
    }
    bank.decide(&admin, &all[0], pb::Decision::RequestInfo, "payslips please")
        .await
        .unwrap();
    let list = |request: pb::ListAllApplicationsRequest| {
        let mut client = bank.finance.clone();
        let token = admin.token.clone();
        async move { client.list_all_applications(bearer(request, &token)).await }
    };
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(pb::ListAllApplicationsRequest {
            page_size: 4,
            page_token: token.clone(),
            ..pb::ListAllApplicationsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
        seen.extend(page.applications.into_iter().map(|a| a.application_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, all, "oldest submitted first, every one once");
    let only_b = list(pb::ListAllApplicationsRequest {
        applicant_user_id: b.user_id.clone(),
        ..pb::ListAllApplicationsRequest::default()
    })
    .await
    .unwrap()
    .into_inner()
    .applications;
    assert_eq!(only_b.len(), 3);
    assert!(only_b.iter().all(|x| x.applicant_user_id == b.user_id));
    let waiting = list(pb::ListAllApplicationsRequest {
        statuses: vec![pb::ApplicationStatus::MoreInfoRequested as i32],
        ..pb::ListAllApplicationsRequest::default()
    })
    .await
    .unwrap()
    .into_inner()
    .applications;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].application_id, all[0]);
    let auto = list(pb::ListAllApplicationsRequest {
        product_type: pb::ProductType::Auto as i32,
        ..pb::ListAllApplicationsRequest::default()
    })
    .await
    .unwrap()
    .into_inner()
    .applications;
    assert!(auto.is_empty());
    let later = prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() + 3600,
        nanos: 0,
    };
    let none = list(pb::ListAllApplicationsRequest {
        submitted_start_time: Some(later),
        ..pb::ListAllApplicationsRequest::default()
    })
    .await
    .unwrap()
    .into_inner()
    .applications;
    assert!(none.is_empty());
    let inverted = list(pb::ListAllApplicationsRequest {
        submitted_start_time: Some(later),
        submitted_end_time: Some(prost_types::Timestamp { seconds: 0, nanos: 0 }),
        page_size: 501,
        ..pb::ListAllApplicationsRequest::default()
    })
    .await
    .unwrap_err();
    assert_eq!(violations(&inverted), ["submitted_end_time", "page_size"]);
}
