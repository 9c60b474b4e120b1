use agentstatus_twilio_taskrouter::{Client, ClientInfo};

fn main() {
    let client = Client::new("https://twilio-taskrouter.example.com", Default::default());
    println!("Twilio TaskRouter client for {}", client.baseurl());
}
