use bank_proto::bank::auth::v1 as pb;
use tonic::Code;

use crate::helpers::{ADMIN_EMAIL, bearer, reason, spawn_auth, violations};

#[tokio::test]
async fn the_bootstrap_admin_can_list_users_and_members_cannot() {
    let auth = spawn_auth().await;
    let admin = auth.admin_tokens().await;
    let me = auth.me(&admin.access_token).await.unwrap();
    assert_eq!(me.email, ADMIN_EMAIL);
    assert_eq!(me.roles, vec![pb::Role::Member as i32, pb::Role::Admin as i32]);

    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(auth.member().await.0);
    }
    let mut client = auth.client.clone();
    // Page through everyone, two at a time, newest first.
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_users(bearer(
                pb::ListUsersRequest {
                    page_size: 2,
                    page_token: page_token.clone(),
                    ..Default::default()
                },
                &admin.access_token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.users.len() <= 2);
        seen.extend(page.users.into_iter().map(|u| u.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen.len(), 6, "five members and the admin");
    let newest_first: Vec<String> = created.iter().rev().map(|u| u.id.clone()).collect();
    assert_eq!(seen[..5], newest_first[..]);

    // Filter by role.
    let admins = client
        .list_users(bearer(
            pb::ListUsersRequest {
                role: pb::Role::Admin as i32,
                ..Default::default()
            },
            &admin.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(admins.users.len(), 1);

    // A member is refused; bad paging input is INVALID_ARGUMENT.
    let (_, member) = auth.member().await;
    let denied = client
        .list_users(bearer(pb::ListUsersRequest::default(), &member.access_token))
        .await
        .expect_err("member");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad = client
        .list_users(bearer(
            pb::ListUsersRequest {
                page_size: 1_000,
                page_token: "garbage".to_owned(),
                ..Default::default()
            },
            &admin.access_token,
        ))
        .await
        .expect_err("bad paging");
    assert_eq!(violations(&bad), ["page_size", "page_token"]);
}

#[tokio::test]
async fn roles_are_granted_and_revoked_but_never_the_last_admin() {
    let auth = spawn_auth().await;
    let root = auth.admin_tokens().await;
    let root_id = auth.me(&root.access_token).await.unwrap().id;
    let (user, member_tokens) = auth.member().await;
    let mut client = auth.client.clone();

    let granted = client
        .grant_role(bearer(
            pb::GrantRoleRequest {
                user_id: user.id.clone(),
                role: pb::Role::Admin as i32,
            },
            &root.access_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(granted.roles.contains(&(pb::Role::Admin as i32)));

    // Revoking the admin role ends the user's sessions (their tokens carry it).
    client
        .revoke_role(bearer(
            pb::RevokeRoleRequest {
                user_id: user.id.clone(),
                role: pb::Role::Admin as i32,
            },
            &root.access_token,
        ))
        .await
        .unwrap();
    auth.me(&member_tokens.access_token)
        .await
        .expect_err("sessions ended on role change");

    let last = client
        .revoke_role(bearer(
            pb::RevokeRoleRequest {
                user_id: root_id,
                role: pb::Role::Admin as i32,
            },
            &root.access_token,
        ))
        .await
        .expect_err("last admin");
    assert_eq!(last.code(), Code::FailedPrecondition);
    assert_eq!(reason(&last), "LAST_ADMIN");

    let member_role = client
        .revoke_role(bearer(
            pb::RevokeRoleRequest {
                user_id: user.id.clone(),
                role: pb::Role::Member as i32,
            },
            &root.access_token,
        ))
        .await
        .expect_err("member role");
    assert_eq!(violations(&member_role), ["role"]);

    let unknown = client
        .grant_role(bearer(
            pb::GrantRoleRequest {
                user_id: uuid::Uuid::new_v4().to_string(),
                role: pb::Role::Admin as i32,
            },
            &root.access_token,
        ))
        .await
        .expect_err("unknown user");
    assert_eq!(unknown.code(), Code::NotFound);
}
