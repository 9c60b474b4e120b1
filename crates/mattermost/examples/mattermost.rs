use agentstatus_mattermost::{Client, ClientInfo};

fn main() {
    let client = Client::new("https://mattermost.example.com", Default::default());
    println!("Mattermost client for {}", client.baseurl());
}
