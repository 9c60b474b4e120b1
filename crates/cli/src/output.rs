//! Table and JSON output.

use agentstatus_presence::{AgentPresence, Vendor};
use serde_json::json;

use crate::Output;

fn row(p: &AgentPresence) -> [String; 4] {
    let mut status = p.detail.vendor_status.clone();
    if let Some(c) = &p.detail.custom_status_id {
        status.push_str(&format!(" (custom {c})"));
    }
    if !p.detail.channels.is_empty() {
        let channels: Vec<String> = p
            .detail
            .channels
            .iter()
            .map(|c| format!("{}={}", c.name.as_deref().unwrap_or(&c.id), c.status))
            .collect();
        status.push_str(&format!(" [{}]", channels.join(", ")));
    }
    [
        p.agent_id.clone(),
        p.name.clone().unwrap_or_else(|| "-".into()),
        p.availability.to_string(),
        status,
    ]
}

/// Render agents as an aligned table, or JSON (one object when `single`, else an array).
pub fn render(vendor: Vendor, list: &[AgentPresence], output: Output, single: bool) -> String {
    match output {
        Output::Json => {
            let items: Vec<_> = list
                .iter()
                .map(|p| json!({"vendor": vendor, "agent": p}))
                .collect();
            let value = if single {
                items[0].clone()
            } else {
                json!(items)
            };
            format!(
                "{}\n",
                serde_json::to_string_pretty(&value).expect("serialisable")
            )
        }
        Output::Table => {
            let header = ["AGENT", "NAME", "AVAILABILITY", "VENDOR STATUS"].map(String::from);
            let rows: Vec<[String; 4]> = std::iter::once(header)
                .chain(list.iter().map(row))
                .collect();
            let widths: Vec<usize> = (0..4)
                .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
                .collect();
            let mut out = String::new();
            for r in &rows {
                let cells: Vec<String> = (0..4)
                    .map(|i| format!("{:<w$}", r[i], w = widths[i]))
                    .collect();
                out.push_str(cells.join("  ").trim_end());
                out.push('\n');
            }
            out
        }
    }
}
