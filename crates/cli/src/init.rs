//! `agentstatus init`: a commented config file for one vendor (or all), from the registry's
//! settings — the same data `config.rs` checks a file against — with each secret's variable.

use agentstatus::registry::{Entry, SettingKind};

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// One vendor's section: `base_url`, each setting with its help, secrets as comments naming
/// their variable.
fn section(entry: &Entry) -> String {
    let mut s = format!(
        "[{}]    # {}\nbase_url = {}    # the API's base URL (https://)\n",
        entry.name,
        entry.title,
        quoted(&format!("https://{}.example.com", entry.name))
    );
    for setting in entry.settings {
        let help = setting.help;
        let key = setting.key;
        match setting.kind {
            SettingKind::Text { default: None } => s.push_str(&format!(
                "{key} = {}    # {help} (required)\n",
                quoted("CHANGE-ME")
            )),
            SettingKind::Text {
                default: Some(default),
            } => s.push_str(&format!("# {key} = {}    # {help}\n", quoted(default))),
            SettingKind::Number => {
                s.push_str(&format!("{key} = 1    # {help} (required, a number)\n"))
            }
            SettingKind::Choice { values, default } => s.push_str(&format!(
                "# {key} = {}    # {help}: one of {}\n",
                quoted(default),
                values.join(", ")
            )),
            SettingKind::Secret { env } => s.push_str(&format!(
                "# {key}: {help}, read from ${env} (never from this file); another variable: {key}_env = \"MY_VAR\"\n"
            )),
        }
    }
    s.push_str("# allow_insecure_http = false    # plain http:// to a host that is not loopback\n");
    s
}

/// The file: `vendor = ...` and the sections of `entries` (the first is chosen).
pub fn text(entries: &[&Entry]) -> String {
    let mut text = String::from(
        "# agentstatus config: `agentstatus --config FILE ...`, or $AGENTSTATUS_CONFIG, or ./agentstatus.toml\n\
         # Secrets are read from the environment only: export the variables named below.\n",
    );
    if let Some(first) = entries.first() {
        let names: Vec<&str> = entries.iter().map(|e| e.name).collect();
        text.push_str(&format!("vendor = {}", quoted(first.name)));
        if entries.len() > 1 {
            text.push_str(&format!(
                "    # one of {}; or --vendor NAME",
                names.join(", ")
            ));
        }
        text.push('\n');
    }
    for e in entries {
        text.push('\n');
        text.push_str(&section(e));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_and_secret_variable_is_in_the_file() {
        let registry = agentstatus::registry();
        let all: Vec<&Entry> = registry.iter().collect();
        let text = text(&all);
        toml::from_str::<toml::Table>(&text).unwrap();
        for e in &registry {
            assert!(text.contains(&format!("[{}]", e.name)), "{text}");
            for s in e.settings {
                assert!(text.contains(s.key), "{}: {text}", s.key);
                if let SettingKind::Secret { env } = s.kind {
                    assert!(text.contains(&format!("${env}")), "{env}: {text}");
                }
            }
        }
    }
}
