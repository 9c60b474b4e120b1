use agentstatus_msgraph::{Client, ClientInfo};

fn main() {
    let client = Client::new("https://msgraph.example.com", Default::default());
    println!("Microsoft Graph client for {}", client.baseurl());
}
