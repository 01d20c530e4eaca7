use bank_proto::bank::account::v1 as pb;
use prost_types::FieldMask;

use crate::helpers::{bearer, spawn_bank};

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

#[tokio::test]
async fn the_profile_starts_empty_takes_name_and_phone_and_shows_the_auth_email() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let mut client = bank.accounts.clone();
    let empty = client
        .get_profile(bearer(pb::GetProfileRequest {}, &jane.token))
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(
        empty,
        pb::HolderProfile {
            user_id: jane.user_id.clone(),
            full_name: String::new(),
            phone: String::new(),
            email: jane.email.clone(),
            update_time: None,
        }
    );

    let both = client
        .update_profile(bearer(
            pb::UpdateProfileRequest {
                profile: Some(pb::HolderProfile {
                    full_name: "Jane O'Neil-Doe".to_owned(),
                    phone: "+4915112345678".to_owned(),
                    ..Default::default()
                }),
                update_mask: None,
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(both.full_name, "Jane O'Neil-Doe");
    assert_eq!(both.phone, "+4915112345678");
    assert_eq!(both.email, jane.email);
    assert!(both.update_time.is_some());

    // Only the masked field changes; an empty value clears it.
    let phone_cleared = client
        .update_profile(bearer(
            pb::UpdateProfileRequest {
                profile: Some(pb::HolderProfile {
                    full_name: "Ignored Name".to_owned(),
                    phone: String::new(),
                    ..Default::default()
                }),
                update_mask: mask(&["phone"]),
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(phone_cleared.full_name, "Jane O'Neil-Doe");
    assert_eq!(phone_cleared.phone, "");
    let read = client
        .get_profile(bearer(pb::GetProfileRequest {}, &jane.token))
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(read, phone_cleared);
}

#[tokio::test]
async fn email_is_not_changeable_here_and_bad_values_change_nothing() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let mut client = bank.accounts.clone();
    let email = client
        .update_profile(bearer(
            pb::UpdateProfileRequest {
                profile: Some(pb::HolderProfile {
                    email: "evil@example.com".to_owned(),
                    ..Default::default()
                }),
                update_mask: mask(&["email"]),
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&email), ["update_mask"]);
    let bad = client
        .update_profile(bearer(
            pb::UpdateProfileRequest {
                profile: Some(pb::HolderProfile {
                    full_name: "R2-D2".to_owned(),
                    phone: "0151 123".to_owned(),
                    ..Default::default()
                }),
                update_mask: None,
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&bad), ["profile.full_name", "profile.phone"]);
    let missing = client
        .update_profile(bearer(
            pb::UpdateProfileRequest {
                profile: None,
                update_mask: None,
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&missing), ["profile"]);
    assert_eq!(bank.count("SELECT count(*) AS n FROM account.profiles").await, 0);
    let profile = client
        .get_profile(bearer(pb::GetProfileRequest {}, &jane.token))
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(profile.email, jane.email);
}
