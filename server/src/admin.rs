//! Administration, run by the operator through the CLI (never over HTTP): shops, enrolment
//! codes, revocation, replacing a lost till, and a new epoch after a restore. Each is one call on the data layer;
//! these are `Db` methods so that the CLI and the tests call them on the handle they hold.

use uuid::Uuid;

use crate::db::devices::{self, DeviceInfo};
use crate::db::{Db, now_ms, shops};
use crate::error::{Error, Result};
use crate::secret::{new_code, sha256_hex};

impl Db {
    /// Creates a shop with an empty log and a fresh epoch; returns its id.
    pub async fn create_shop(&self, name: &str) -> Result<Uuid> {
        let id = shops::create(&mut *self.conn().await?, name, now_ms()).await?;
        tracing::info!(shop = %id, "shop created");
        Ok(id)
    }

    /// A one-time code that enrols one device into the shop until `ttl` from now. Only its
    /// hash is stored: the operator hands the printed code to the person at the till.
    pub async fn enrol_code(&self, shop: Uuid, ttl: chrono::Duration) -> Result<String> {
        let mut conn = self.conn().await?;
        shops::get(&mut conn, shop).await?;
        let code = new_code();
        let expires_at = now_ms().saturating_add(ttl.num_milliseconds());
        devices::insert_code(&mut conn, &sha256_hex(&code), shop, None, expires_at).await?;
        tracing::info!(shop = %shop, "enrolment code issued");
        Ok(code)
    }

    /// Re-enrolling a lost or reinstalled till: revokes the device's token at once and returns
    /// a one-time code, valid until `ttl` from now, that enrols only this device id (with a new
    /// token, keeping its sequence). One transaction: the code exists only if the revocation
    /// happened.
    pub async fn replace_device(&self, shop: Uuid, device: Uuid, ttl: chrono::Duration) -> Result<String> {
        let mut tx = self.begin_write().await?;
        shops::get(&mut tx, shop).await?;
        if devices::standing(&mut tx, shop, device).await?.is_none() {
            return Err(Error::not_found("device", device));
        }
        let now = now_ms();
        devices::revoke(&mut tx, device, now).await?;
        let code = new_code();
        devices::insert_code(
            &mut tx,
            &sha256_hex(&code),
            shop,
            Some(device),
            now.saturating_add(ttl.num_milliseconds()),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(%shop, %device, "device replaced: old token revoked, enrolment code issued");
        Ok(code)
    }

    /// Revokes a device: its token stops working at once. Its events stay in the log.
    pub async fn revoke(&self, device: Uuid) -> Result<()> {
        let mut conn = self.conn().await?;
        // Revoking twice is not an error; revoking a device that never existed is.
        if !devices::revoke(&mut conn, device, now_ms()).await? && !devices::exists(&mut conn, device).await? {
            return Err(Error::not_found("device", device));
        }
        tracing::info!(device = %device, "device revoked");
        Ok(())
    }

    /// Gives the shop a new epoch, so every device resyncs fully: to be run after restoring
    /// a backup, whose log may lack events the devices believe were stored.
    pub async fn new_epoch(&self, shop: Uuid) -> Result<Uuid> {
        let epoch = Uuid::new_v4();
        if !shops::set_epoch(&mut *self.conn().await?, shop, epoch).await? {
            return Err(Error::not_found("shop", shop));
        }
        tracing::info!(shop = %shop, "new epoch");
        Ok(epoch)
    }

    /// The shop's devices, revoked ones included, oldest first.
    pub async fn devices(&self, shop: Uuid) -> Result<Vec<DeviceInfo>> {
        let mut conn = self.conn().await?;
        shops::get(&mut conn, shop).await?;
        devices::list(&mut conn, shop).await
    }
}
