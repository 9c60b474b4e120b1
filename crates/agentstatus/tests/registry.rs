//! The registry is complete and every entry works: each vendor under `specs/` is registered
//! (compiled in or not: a vendor whose adapter is unfinished is not a default feature), each
//! compiled-in vendor's demo starts its fake and passes a get/set/list round trip.

use std::path::Path;

use agentstatus::{Availability, ListFilter, registry::SettingKind};

#[test]
fn every_vendor_folder_is_registered_and_every_entry_has_a_folder() {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let mut folders: Vec<String> = std::fs::read_dir(&specs)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("sources.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut names: Vec<&str> = agentstatus::VENDORS.to_vec();
    names.sort();
    assert_eq!(names, folders, "VENDORS vs specs/*");
    for entry in agentstatus::registry() {
        assert!(agentstatus::VENDORS.contains(&entry.name), "{}", entry.name);
    }
}

/// With the default features, every vendor whose adapter is done is compiled in, in the order
/// registered (a scaffolded vendor joins `default` when its adapter is).
#[test]
#[cfg(all(
    feature = "rocketchat",
    feature = "libredesk",
    feature = "engage-digital",
    feature = "chatwoot",
    feature = "mattermost",
    feature = "twilio-taskrouter",
    feature = "zulip",
    feature = "msgraph"
))]
fn the_finished_vendors_are_compiled_in_in_the_order_registered() {
    let names: Vec<&str> = agentstatus::registry().iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "rocketchat",
            "libredesk",
            "engage-digital",
            "chatwoot",
            "mattermost",
            "twilio-taskrouter",
            "zulip",
            "msgraph"
        ]
    );
}

#[test]
fn settings_are_well_formed() {
    for entry in agentstatus::registry() {
        let mut keys = vec!["base_url", "allow_insecure_http"];
        for s in entry.settings {
            assert!(
                !keys.contains(&s.key),
                "{}: duplicate key {}",
                entry.name,
                s.key
            );
            keys.push(s.key);
            assert!(!s.help.is_empty(), "{}: {} has no help", entry.name, s.key);
            if let SettingKind::Secret { env } = s.kind {
                assert!(
                    env.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                    "{}: {env}",
                    entry.name
                );
            }
        }
    }
}

#[tokio::test]
async fn every_registered_vendor_has_a_working_demo() {
    for entry in agentstatus::registry() {
        let demo = entry
            .demo
            .unwrap_or_else(|| panic!("{}: no demo", entry.name))()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", entry.name));
        let p = &demo.presence;
        assert_eq!(p.vendor().as_str(), entry.name);
        let before = (demo.changes)();
        let list = p.list(&ListFilter::all()).await.unwrap();
        assert!(list.len() >= 2, "{}: {list:?}", entry.name);
        p.set(&demo.agent, Availability::Available).await.unwrap();
        let after = p.get(&demo.agent).await.unwrap();
        assert_eq!(
            after.availability,
            Availability::Available,
            "{}",
            entry.name
        );
        assert!((demo.changes)() <= before + 1, "{}", entry.name);
    }
}

/// Every compiled-in vendor meets the presence contract through the registry alone, as
/// `agentstatus fake` and the command use it: its fake started with the default cast by its
/// seeder (`agentstatus::seeder`), its adapter built by its entry's `connect` from the settings
/// and secrets the fake accepts.
#[tokio::test]
async fn every_entry_meets_the_contract_against_its_seeded_fake() {
    let registry = agentstatus::registry();
    assert!(!registry.is_empty());
    for entry in registry {
        let seeder = agentstatus::seeder(entry.name)
            .unwrap_or_else(|| panic!("{}: no seeder with `fakes`", entry.name));
        agentstatus_fakes::seed::contract(entry, seeder).await;
    }
}
