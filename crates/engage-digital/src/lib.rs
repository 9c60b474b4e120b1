mod generated {
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}
pub use agentstatus_runtime::Inner;
pub use generated::*;
impl progenitor_client::ClientHooks<Inner> for Client {
    async fn pre<E>(&self, request: &mut reqwest::Request, _info: &progenitor_client::OperationInfo) -> Result<(), progenitor_client::Error<E>> {
        agentstatus_runtime::pre_request(request);
        Ok(())
    }
}
