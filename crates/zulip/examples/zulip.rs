use agentstatus_zulip::{Client, ClientInfo};

fn main() {
    let client = Client::new("https://zulip.example.com", Default::default());
    println!("Zulip client for {}", client.baseurl());
}
