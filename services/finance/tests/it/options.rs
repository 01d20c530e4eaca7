//! The financing options catalogue.

use bank_proto::bank::finance::v1 as pb;
use tonic::Code;

use crate::helpers::*;

fn list_request(include_inactive: bool) -> pb::ListFinancingOptionsRequest {
    pb::ListFinancingOptionsRequest {
        include_inactive,
        ..pb::ListFinancingOptionsRequest::default()
    }
}

#[tokio::test]
async fn admins_create_and_update_options_members_see_active_ones() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let member = bank.member().await;
    let created = bank.option(&admin).await;
    assert!(created.active, "created options are active");
    assert_eq!(created.annual_rate_bps, 1_200);
    let other = bank.option(&admin).await;

    let read = bank
        .finance
        .clone()
        .get_financing_option(bearer(
            pb::GetFinancingOptionRequest {
                option_id: created.option_id.clone(),
            },
            &member.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .financing_option
        .unwrap();
    assert_eq!(read, created);

    // Deactivate one with a partial mask; the rest is kept.
    let updated = bank
        .finance
        .clone()
        .update_financing_option(bearer(
            pb::UpdateFinancingOptionRequest {
                financing_option: Some(pb::FinancingOption {
                    option_id: other.option_id.clone(),
                    active: false,
                    annual_rate_bps: 9_999,
                    ..pb::FinancingOption::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["active".to_owned()],
                }),
            },
            &admin.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .financing_option
        .unwrap();
    assert!(!updated.active);
    assert_eq!(updated.annual_rate_bps, 1_200, "fields outside the mask are kept");

    let listed = |bank: &TestBank, who: &Member, include_inactive: bool| {
        let mut client = bank.finance.clone();
        let token = who.token.clone();
        async move {
            client
                .list_financing_options(bearer(list_request(include_inactive), &token))
                .await
                .unwrap()
                .into_inner()
                .financing_options
                .into_iter()
                .map(|o| o.option_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(&bank, &member, true).await, vec![created.option_id.clone()]);
    assert_eq!(listed(&bank, &admin, false).await.len(), 1);
    assert_eq!(listed(&bank, &admin, true).await.len(), 2);
    let hidden = bank
        .finance
        .clone()
        .get_financing_option(bearer(
            pb::GetFinancingOptionRequest {
                option_id: other.option_id.clone(),
            },
            &member.token,
        ))
        .await;
    assert_status(hidden, Code::NotFound, "FINANCING_OPTION_NOT_FOUND");

    // Changing the rate and ranges (full update with every field).
    let mut full = created.clone();
    full.annual_rate_bps = 700;
    full.max_term_months = 84;
    let changed = bank
        .finance
        .clone()
        .update_financing_option(bearer(
            pb::UpdateFinancingOptionRequest {
                financing_option: Some(full),
                update_mask: None,
            },
            &admin.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .financing_option
        .unwrap();
    assert_eq!((changed.annual_rate_bps, changed.max_term_months), (700, 84));
    assert_ne!(changed.update_time, created.update_time);
}

#[tokio::test]
async fn option_ranges_and_masks_are_validated_and_nothing_is_written() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let before = bank.dump().await;
    let mut bad = option_template();
    bad.min_term_months = 24;
    bad.max_term_months = 12;
    bad.annual_rate_bps = 10_001;
    bad.max_amount = Some(money(5_000, USD));
    bad.min_amount = Some(money(10_000, "EUR"));
    bad.name = String::new();
    bad.product_type = 0;
    let status = bank
        .try_create_option(&admin, &new_request_id(), bad)
        .await
        .unwrap_err();
    let fields = violations(&status);
    for field in [
        "financing_option.name",
        "financing_option.product_type",
        "financing_option.min_amount",
        "financing_option.annual_rate_bps",
        "financing_option.max_term_months",
    ] {
        assert!(fields.contains(&field.to_owned()), "{field} in {fields:?}");
    }
    let mut inverted = option_template();
    inverted.min_amount = Some(money(50_000, USD));
    inverted.max_amount = Some(money(10_000, USD));
    let status = bank
        .try_create_option(&admin, &new_request_id(), inverted)
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["financing_option.max_amount"]);
    assert_eq!(bank.dump().await, before, "nothing written");

    let option = bank.option(&admin).await;
    let update = |paths: Vec<&str>, option: pb::FinancingOption| pb::UpdateFinancingOptionRequest {
        financing_option: Some(option),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.into_iter().map(str::to_owned).collect(),
        }),
    };
    for path in ["currency", "product_type", "no_such_field"] {
        let status = bank
            .finance
            .clone()
            .update_financing_option(bearer(update(vec![path], option.clone()), &admin.token))
            .await
            .unwrap_err();
        assert_eq!(violations(&status), ["update_mask"], "{path}");
    }
    let mut inverted = option.clone();
    inverted.min_term_months = 61;
    let status = bank
        .finance
        .clone()
        .update_financing_option(bearer(update(vec!["min_term_months"], inverted), &admin.token))
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["financing_option.max_term_months"]);
    let missing = pb::FinancingOption {
        option_id: uuid::Uuid::new_v4().to_string(),
        ..option.clone()
    };
    let status = bank
        .finance
        .clone()
        .update_financing_option(bearer(update(vec!["name"], missing), &admin.token))
        .await;
    assert_status(status, Code::NotFound, "FINANCING_OPTION_NOT_FOUND");
}

#[tokio::test]
async fn create_is_idempotent_by_request_id() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let request_id = new_request_id();
    let template = option_template();
    let first = bank
        .try_create_option(&admin, &request_id, template.clone())
        .await
        .unwrap();
    let again = bank
        .try_create_option(&admin, &request_id, template.clone())
        .await
        .unwrap();
    assert_eq!(first, again, "the original result");
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM finance.financing_options").await,
        1
    );
    let mut different = template;
    different.annual_rate_bps = 1;
    let status = bank.try_create_option(&admin, &request_id, different).await;
    let status = assert_status(status, Code::AlreadyExists, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(metadata(&status, "field").as_deref(), Some("annual_rate_bps"));
}

#[tokio::test]
async fn options_page_by_product_type_then_name() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let member = bank.member().await;
    for (kind, name) in [
        (pb::ProductType::Auto, "b auto"),
        (pb::ProductType::Personal, "z personal"),
        (pb::ProductType::Personal, "a personal"),
        (pb::ProductType::Mortgage, "m mortgage"),
        (pb::ProductType::Auto, "a auto"),
    ] {
        let mut option = option_template();
        option.product_type = kind as i32;
        option.name = name.to_owned();
        bank.try_create_option(&admin, &new_request_id(), option).await.unwrap();
    }
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = bank
            .finance
            .clone()
            .list_financing_options(bearer(
                pb::ListFinancingOptionsRequest {
                    page_size: 2,
                    page_token: token.clone(),
                    ..pb::ListFinancingOptionsRequest::default()
                },
                &member.token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.financing_options.len() <= 2);
        names.extend(page.financing_options.into_iter().map(|o| o.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(names, ["a personal", "z personal", "a auto", "b auto", "m mortgage"]);
    let autos = bank
        .finance
        .clone()
        .list_financing_options(bearer(
            pb::ListFinancingOptionsRequest {
                product_type: pb::ProductType::Auto as i32,
                currency: USD.to_owned(),
                ..pb::ListFinancingOptionsRequest::default()
            },
            &member.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .financing_options;
    assert_eq!(autos.len(), 2);
    let status = bank
        .finance
        .clone()
        .list_financing_options(bearer(
            pb::ListFinancingOptionsRequest {
                page_size: 101,
                page_token: "garbage".to_owned(),
                ..pb::ListFinancingOptionsRequest::default()
            },
            &member.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["page_size", "page_token"]);
}
