//! The caller's account holder profile: name and phone kept here, email
//! read from the auth service (which owns it).

use bank_authn::caller;
use bank_proto::bank::account::v1 as pb;
use bank_server::FieldViolations;
use tonic::{Request, Status};

use super::{AppState, profile_to_proto, store_error};
use crate::domain::{FullName, Phone};

/// Fields UpdateProfile may change.
const UPDATABLE_FIELDS: [&str; 2] = ["full_name", "phone"];

impl AppState {
    pub(super) async fn get_profile(
        &self,
        request: Request<pb::GetProfileRequest>,
    ) -> Result<pb::GetProfileResponse, Status> {
        let user = caller(&request)?.user_id;
        let row = self
            .store
            .profile(user)
            .await
            .map_err(|e| store_error("reading profile", e))?;
        let email = self.directory.email_of(user).await?;
        Ok(pb::GetProfileResponse {
            profile: Some(profile_to_proto(user, row.as_ref(), email)),
        })
    }

    pub(super) async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<pb::UpdateProfileResponse, Status> {
        let user = caller(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let paths: Vec<String> = match &req.update_mask {
            Some(mask) if !mask.paths.is_empty() => mask.paths.clone(),
            _ => UPDATABLE_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        };
        for path in &paths {
            if !UPDATABLE_FIELDS.contains(&path.as_str()) {
                let why = if path == "email" || path == "profile.email" {
                    "email is owned by the auth service and cannot be changed here".to_owned()
                } else {
                    format!(
                        "may name only {}; {path:?} is not updatable",
                        UPDATABLE_FIELDS.join(" and ")
                    )
                };
                violations.add("update_mask", why);
            }
        }
        let wants = |field: &str| paths.iter().any(|p| p == field);
        let (mut full_name, mut phone) = (None, None);
        match &req.profile {
            None => violations.add("profile", "is required"),
            Some(profile) => {
                if wants("full_name") {
                    full_name = violations.check("profile.full_name", FullName::parse(&profile.full_name));
                }
                if wants("phone") {
                    phone = violations.check("profile.phone", Phone::parse(&profile.phone));
                }
            }
        }
        violations.into_result()?;
        let row = self
            .store
            .update_profile(
                user,
                full_name.as_ref().map(FullName::as_str),
                phone.as_ref().map(Phone::as_str),
            )
            .await
            .map_err(|e| store_error("updating profile", e))?;
        tracing::info!(user_id = %user, fields = ?paths, "profile updated");
        let email = self.directory.email_of(user).await?;
        Ok(pb::UpdateProfileResponse {
            profile: Some(profile_to_proto(user, Some(&row), email)),
        })
    }
}
