//! AWS SDK clients on the moto emulator.

use crate::emulators;

/// SDK configuration for moto: its endpoint, `us-east-1`, any credentials.
pub async fn moto_sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&emulators::moto().endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .load()
        .await
}
