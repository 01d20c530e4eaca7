//! Who may call what: admin RPCs refuse members (PERMISSION_DENIED) and
//! callers without a token (UNAUTHENTICATED); a member reads only their
//! own spending, whatever they send.

use bank_proto::bank::analytics::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn admin_rpcs_refuse_members_and_anonymous_callers() {
    let a = spawn().await;
    let member = a.member().await;
    let anonymous = User {
        user_id: Uuid::nil().to_string(),
        email: String::new(),
        token: "not-a-token".to_owned(),
    };
    for (who, code) in [(&member, Code::PermissionDenied), (&anonymous, Code::Unauthenticated)] {
        let summary = a
            .try_summary(who, Some(date(day(2025, 1, 1))), Some(date(day(2025, 1, 2))), 0)
            .await;
        assert_eq!(summary.unwrap_err().code(), code);
        let list = a.list_flags(who, pb::ListFlaggedTransfersRequest::default()).await;
        assert_eq!(list.unwrap_err().code(), code);
        let review = a
            .review(who, &Uuid::new_v4().to_string(), pb::ReviewOutcome::FalsePositive, "x")
            .await;
        assert_eq!(review.unwrap_err().code(), code);
        let watch = a.watch(who, &[], 0).await;
        assert_eq!(watch.unwrap_err().code(), code);
    }
    // Refused before looking at the input: a member learns nothing from it.
    let invalid = a.try_summary(&member, None, None, -1).await;
    assert_eq!(invalid.unwrap_err().code(), Code::PermissionDenied);

    // Spending needs a token, and a member's own token is enough.
    let anonymous_spending = a.spending(&anonymous, None, None).await;
    assert_eq!(anonymous_spending.unwrap_err().code(), Code::Unauthenticated);
    let own = a.spending(&member, None, None).await.unwrap();
    assert!(own.months.is_empty());
    // No token at all.
    let bare = a
        .client
        .clone()
        .get_my_spending(pb::GetMySpendingRequest::default())
        .await;
    assert_eq!(bare.unwrap_err().code(), Code::Unauthenticated);
}
