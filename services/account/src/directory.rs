//! Who a member is, as the Auth service knows them: the email shown in the
//! holder profile (owned by Auth, read-only here), over Auth's internal API.

use std::time::Duration;

use bank_mtls::MeshChannel;
use bank_proto::bank::auth::v1 as pb;
use bank_proto::bank::auth::v1::auth_internal_service_client::AuthInternalServiceClient;
use tonic::{Code, Request};
use uuid::Uuid;

/// Deadline of one call to Auth.
pub const DIRECTORY_CALL_TIMEOUT_MS: u64 = 3_000;

/// Auth's internal API.
#[derive(Clone, Debug)]
pub struct Directory {
    client: AuthInternalServiceClient<MeshChannel>,
}

impl Directory {
    /// A client over `channel` (mTLS, identity `account`).
    pub fn new(channel: MeshChannel) -> Self {
        Self {
            client: AuthInternalServiceClient::new(channel),
        }
    }

    /// The email of `user`; empty when Auth does not know the user (a
    /// deleted user keeps their accounts readable).
    pub async fn email_of(&self, user: Uuid) -> Result<String, tonic::Status> {
        let mut request = Request::new(pb::GetUserRequest {
            user_id: user.to_string(),
        });
        request.set_timeout(Duration::from_millis(DIRECTORY_CALL_TIMEOUT_MS));
        match self.client.clone().get_user(request).await {
            Ok(response) => Ok(response.into_inner().user.map(|u| u.email).unwrap_or_default()),
            Err(status) if status.code() == Code::NotFound => Ok(String::new()),
            Err(status) => Err(bank_server::unavailable(
                "reading the email from auth",
                status.message(),
            )),
        }
    }
}
