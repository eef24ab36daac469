//! Idempotent "ensure" of a configuration object: find it by natural key, create it if absent,
//! PATCH the managed fields that differ, else do nothing. Objects the installation wizard
//! created (DNS and NTP servers) are found by address and adopted, never duplicated.

use std::time::Duration;

use crate::client::Client;
use crate::error::PexipError;
use crate::objects::{FieldChange, Managed, diff};
use crate::retry::Sleeper;

/// What an ensure did.
#[derive(Debug, Clone, PartialEq)]
pub enum Ensured<O> {
    /// The object was absent and has been created.
    Created(O),
    /// The object existed; these fields were changed.
    Updated {
        /// The object after the change.
        object: O,
        /// What changed.
        changes: Vec<FieldChange>,
    },
    /// The object existed as desired; nothing was sent.
    Unchanged(O),
}

impl<O> Ensured<O> {
    /// The object, however it got there.
    pub fn object(&self) -> &O {
        match self {
            Ensured::Created(o) | Ensured::Unchanged(o) | Ensured::Updated { object: o, .. } => o,
        }
    }

    /// Takes the object.
    pub fn into_object(self) -> O {
        match self {
            Ensured::Created(o) | Ensured::Unchanged(o) | Ensured::Updated { object: o, .. } => o,
        }
    }

    /// Whether anything was written.
    pub fn changed(&self) -> bool {
        !matches!(self, Ensured::Unchanged(_))
    }
}

/// The existing object matching `desired`'s natural key (the oldest, if several match).
pub async fn find<M: Managed>(
    client: &Client,
    desired: &M,
) -> Result<Option<M::Observed>, PexipError> {
    let filter = desired.lookup();
    let filters: Vec<(&str, &str)> = filter.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let candidates = client.list::<M::Observed>(&filters).await?;
    Ok(candidates.into_iter().find(|o| desired.matches(o)))
}

/// Reads back an object just written; an object not yet visible is polled briefly.
pub(crate) async fn read_back<M: Managed>(
    client: &Client,
    desired: &M,
    uri: Option<&crate::uri::ResourceUri>,
) -> Result<M::Observed, PexipError> {
    let sleeper: &dyn Sleeper = client.sleeper().as_ref();
    for attempt in 0..5u32 {
        let found = match uri {
            Some(u) => match client.get::<M::Observed>(u).await {
                Ok(o) => Some(o),
                Err(PexipError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            },
            None => find(client, desired).await?,
        };
        if let Some(o) = found {
            return Ok(o);
        }
        sleeper.sleep(Duration::from_millis(200 << attempt)).await;
    }
    Err(PexipError::Decode {
        path: uri.map_or_else(|| desired.natural_key(), |u| u.to_string()),
        message: format!(
            "`{}` was written but cannot be read back",
            desired.natural_key()
        ),
    })
}

/// Makes the object exist as desired (see the module doc).
///
/// Fields listed by [`Managed::immutable_fields`] are not patched: if they differ the call fails
/// with [`PexipError::NeedsReplacement`].
pub async fn ensure<M: Managed>(
    client: &Client,
    desired: &M,
) -> Result<Ensured<M::Observed>, PexipError> {
    match find(client, desired).await? {
        None => {
            let body = desired.create_body()?;
            let (location, _) = client
                .post(<M::Observed as crate::client::Resource>::KIND, &body)
                .await?;
            let object = read_back(client, desired, location.as_ref()).await?;
            Ok(Ensured::Created(object))
        }
        Some(observed) => {
            let changes = diff(desired, &observed);
            if changes.is_empty() {
                return Ok(Ensured::Unchanged(observed));
            }
            let fixed: Vec<String> = changes
                .iter()
                .filter(|c| M::immutable_fields().contains(&c.field))
                .map(|c| c.field.to_owned())
                .collect();
            if !fixed.is_empty() {
                return Err(PexipError::NeedsReplacement {
                    node: desired.natural_key(),
                    fields: fixed,
                });
            }
            let uri = M::uri(&observed).clone();
            client.update(&uri, &desired.patch_body(&changes)).await?;
            let object = read_back(client, desired, Some(&uri)).await?;
            Ok(Ensured::Updated { object, changes })
        }
    }
}

/// Deletes the object matching `desired`'s natural key, if any; returns whether one was deleted.
pub async fn ensure_absent<M: Managed>(client: &Client, desired: &M) -> Result<bool, PexipError> {
    match find(client, desired).await? {
        None => Ok(false),
        Some(observed) => match client.delete(M::uri(&observed)).await {
            Ok(()) | Err(PexipError::NotFound { .. }) => Ok(true),
            Err(e) => Err(e),
        },
    }
}
