//! Who is who: the people map, a CSV file with one row per person and a column per desk.
//!
//! ```csv
//! person,chat,tickets,email
//! ada,rbAXPnMktTFbNpwtJ,1,ada
//! grace,x7Hq2,2,
//! ```
//!
//! The first column is the person's id (any text, unique); every other column is named after
//! a desk of `sync.toml` and holds the person's agent id there, or nothing. An agent listed
//! twice on one desk, a column that is not a desk, a desk without a column: errors with
//! `file:line`. An agent a desk lists and the map does not is reported, never guessed. Cells
//! are trimmed; a line starting with `#` is a comment.
//!
//! # Matching by e-mail
//!
//! The alternative to the map (`match = "email"` in sync.toml, [`People::by_email`]): an
//! agent is the person whose e-mail address its desk's list answer gives (trimmed, compared
//! without case), learnt as the desks are read. Never guessed:
//!
//! - an agent whose desk gives no address is unmatched (reported once);
//! - an address two agents of one desk share is ambiguous there: neither is matched on that
//!   desk (reported once, with both agents), the other desks' agents of that address keep
//!   their match to each other;
//! - a vendor whose list answer carries no address cannot be matched this way: the config is
//!   refused at load ([`email_source`] says which can).

use std::collections::HashMap;
use std::path::Path;

use crate::config::ConfigError;

/// Where a vendor's list answer carries an agent's e-mail address (what matching by e-mail
/// reads), or `None` for a vendor that cannot be matched by e-mail.
///
/// | vendor | the address |
/// |---|---|
/// | rocketchat | `users[].emails[]`: the first verified address, else the first |
/// | chatwoot | `email` of each agent |
/// | libredesk | `email` of each agent |
/// | mattermost | `email` of each user (a token that may see addresses: an administrator's, or `ShowEmailAddress`) |
/// | engage-digital | none: `GET /status` lists agent ids and statuses only |
/// | twilio-taskrouter | none: a worker has a name and free-form attributes, no address |
pub fn email_source(vendor: &str) -> Option<&'static str> {
    match vendor {
        "rocketchat" => Some("users[].emails[] (the first verified address, else the first)"),
        "chatwoot" => Some("the agent's email"),
        "libredesk" => Some("the agent's email"),
        "mattermost" => Some(
            "the user's email (the token must be allowed to see addresses: an administrator's, or ShowEmailAddress on)",
        ),
        _ => None,
    }
}

/// A person and a desk (their numbers), where the map gives an agent ([`People::shared_agent`]).
pub type PersonDesk = (usize, usize);

/// What [`People::learn`] made of an agent's e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learnt {
    /// The agent is this person (as before, or newly).
    Person(usize),
    /// The desk gave no address for the agent.
    NoEmail,
    /// Another agent of the same desk has the same address: neither is matched there. The
    /// address, and the agents of the desk that have it (in the order they were seen).
    Ambiguous {
        /// The address (as compared: trimmed, lower case).
        email: String,
        /// The desk's agents that have it.
        agents: Vec<String>,
        /// Whether this call found the ambiguity (it is reported then, once).
        new: bool,
    },
}

/// The people map, indexed both ways.
#[derive(Debug, Clone, Default)]
pub struct People {
    desks: Vec<String>,
    /// person -> agent id per desk (in `desks` order)
    persons: Vec<(String, Vec<Option<String>>)>,
    by_agent: HashMap<(usize, String), usize>,
    /// Matching by e-mail: people are learnt from the desks' answers.
    by_email: bool,
    /// (desk, address) shared by several agents of the desk, and those agents.
    ambiguous: HashMap<(usize, String), Vec<String>>,
    /// address -> person
    emails: HashMap<String, usize>,
    /// person -> where the map gives them (`file:line`, or `people row N`), for errors
    places: Vec<String>,
}

impl People {
    /// No one yet: each agent is matched by the e-mail address its desk gives
    /// ([`People::learn`]); the desks in config order.
    pub fn by_email(desks: &[&str]) -> Self {
        People {
            desks: desks.iter().map(|d| d.to_string()).collect(),
            by_email: true,
            ..People::default()
        }
    }

    /// Whether people are matched by e-mail (else by the map).
    pub fn matches_by_email(&self) -> bool {
        self.by_email
    }

    /// Matching by e-mail: `agent` of desk number `desk` gave `email`. An agent whose address
    /// changed is moved to the person of its new address.
    pub fn learn(&mut self, desk: usize, agent: &str, email: Option<&str>) -> Learnt {
        let Some(email) = email
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
        else {
            if let Some(p) = self.by_agent.remove(&(desk, agent.to_string())) {
                self.persons[p].1[desk] = None;
            }
            return Learnt::NoEmail;
        };
        let key = (desk, email.clone());
        if let Some(agents) = self.ambiguous.get_mut(&key) {
            let new = !agents.iter().any(|a| a == agent);
            if new {
                agents.push(agent.to_string());
            }
            return Learnt::Ambiguous {
                email,
                agents: agents.clone(),
                new,
            };
        }
        let person = match self.emails.get(&email) {
            Some(&p) => p,
            None => {
                self.persons
                    .push((email.clone(), vec![None; self.desks.len()]));
                self.emails.insert(email.clone(), self.persons.len() - 1);
                self.persons.len() - 1
            }
        };
        let id = (desk, agent.to_string());
        match self.by_agent.get(&id) {
            Some(&p) if p == person => return Learnt::Person(person),
            Some(&p) => {
                // the agent's address changed: it leaves its old person
                self.persons[p].1[desk] = None;
                self.by_agent.remove(&id);
            }
            None => {}
        }
        match self.persons[person].1[desk].clone() {
            Some(other) if other != agent => {
                // two agents of one desk with one address: neither is that person there
                self.persons[person].1[desk] = None;
                self.by_agent.remove(&(desk, other.clone()));
                let agents = vec![other, agent.to_string()];
                self.ambiguous.insert(key, agents.clone());
                Learnt::Ambiguous {
                    email,
                    agents,
                    new: true,
                }
            }
            _ => {
                self.persons[person].1[desk] = Some(agent.to_string());
                self.by_agent.insert(id, person);
                Learnt::Person(person)
            }
        }
    }

    /// Read `path`, whose columns must be exactly `desks` (any order).
    pub fn load(path: &Path, desks: &[&str]) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!(
                "{}: cannot read the people map: {e}",
                path.display()
            ))
        })?;
        Self::parse(path, &text, desks)
    }

    /// Read the map from `text` (`path` names it in errors).
    pub fn parse(path: &Path, text: &str, desks: &[&str]) -> Result<Self, ConfigError> {
        let err = |line: u64, msg: String| ConfigError(format!("{}:{line}: {msg}", path.display()));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| err(1, format!("cannot read the header row: {e}")))?
            .clone();
        let header_line = headers.position().map_or(1, |p| p.line());
        if headers.len() < 2 {
            return Err(err(
                header_line,
                format!(
                    "the header row names the person column, then one column per desk ({})",
                    desks.join(", ")
                ),
            ));
        }
        // column (after the first) -> desk index
        let mut columns = Vec::new();
        for h in headers.iter().skip(1) {
            let Some(i) = desks.iter().position(|d| *d == h) else {
                return Err(err(
                    header_line,
                    format!(
                        "column {h:?} is not a desk of the sync config (desks: {})",
                        desks.join(", ")
                    ),
                ));
            };
            if columns.contains(&i) {
                return Err(err(header_line, format!("column {h:?} appears twice")));
            }
            columns.push(i);
        }
        if let Some(missing) = (0..desks.len()).find(|i| !columns.contains(i)) {
            return Err(err(
                header_line,
                format!(
                    "no column for desk {:?}: add it (empty cells for people not on it)",
                    desks[missing]
                ),
            ));
        }
        let mut people = People {
            desks: desks.iter().map(|d| d.to_string()).collect(),
            ..People::default()
        };
        let mut person_line: HashMap<String, u64> = HashMap::new();
        let mut agent_line: HashMap<(usize, String), u64> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                err(line, format!("{e}"))
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let Some(person) = record.get(0).filter(|p| !p.is_empty()) else {
                return Err(err(line, "the person column is empty".into()));
            };
            if let Some(first) = person_line.get(person) {
                return Err(err(
                    line,
                    format!("person {person:?} again (first on line {first})"),
                ));
            }
            if record.len() != headers.len() {
                return Err(err(
                    line,
                    format!("{} fields, the header has {}", record.len(), headers.len()),
                ));
            }
            let index = people.persons.len();
            let mut ids = vec![None; desks.len()];
            for (column, &desk) in columns.iter().enumerate() {
                let id = record.get(column + 1).unwrap_or_default();
                if id.is_empty() {
                    continue;
                }
                let key = (desk, id.to_string());
                if let Some(first) = agent_line.get(&key) {
                    return Err(err(
                        line,
                        format!(
                            "agent {id:?} of desk {:?} is already someone else's (line {first}): one agent is one person",
                            desks[desk]
                        ),
                    ));
                }
                agent_line.insert(key.clone(), line);
                people.by_agent.insert(key, index);
                ids[desk] = Some(id.to_string());
            }
            person_line.insert(person.to_string(), line);
            people.persons.push((person.to_string(), ids));
            people.places.push(format!("{}:{line}", path.display()));
        }
        Ok(people)
    }

    /// A map from rows of `(person, [agent id per desk])`, the desks in `desks` order. Checked
    /// as the CSV loader checks a file (the row's index stands for its line): a row with an empty
    /// person id, a person id twice, a row with more agent ids than there are desks, or an agent
    /// of one desk in two rows is refused, naming the row. A row shorter than `desks` has no
    /// agent on the desks it leaves out.
    pub fn from_rows(
        desks: &[&str],
        rows: Vec<(String, Vec<Option<String>>)>,
    ) -> Result<Self, ConfigError> {
        let err = |row: usize, msg: String| ConfigError(format!("people row {row}: {msg}"));
        let mut people = People {
            desks: desks.iter().map(|d| d.to_string()).collect(),
            ..People::default()
        };
        let mut person_row: HashMap<String, usize> = HashMap::new();
        for (row, (person, mut ids)) in rows.into_iter().enumerate() {
            if person.trim().is_empty() {
                return Err(err(row, "the person id is empty".into()));
            }
            if let Some(first) = person_row.get(&person) {
                return Err(err(
                    row,
                    format!("person {person:?} again (first in row {first})"),
                ));
            }
            if ids.len() > desks.len() {
                return Err(err(
                    row,
                    format!("{} agent ids, but {} desks", ids.len(), desks.len()),
                ));
            }
            ids.resize(desks.len(), None);
            let index = people.persons.len();
            for (desk, id) in ids.iter().enumerate() {
                let Some(id) = id else { continue };
                if let Some(&other) = people.by_agent.get(&(desk, id.clone())) {
                    return Err(err(
                        row,
                        format!(
                            "agent {id:?} of desk {:?} is already {:?}'s: one agent is one person",
                            desks[desk], people.persons[other].0
                        ),
                    ));
                }
                people.by_agent.insert((desk, id.clone()), index);
            }
            person_row.insert(person.clone(), row);
            people.persons.push((person, ids));
            people.places.push(format!("people row {row}"));
        }
        Ok(people)
    }

    /// How many people.
    pub fn len(&self) -> usize {
        self.persons.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.persons.is_empty()
    }

    /// The person who is `agent` on desk number `desk`.
    pub fn person_of(&self, desk: usize, agent: &str) -> Option<usize> {
        self.by_agent.get(&(desk, agent.to_string())).copied()
    }

    /// The person's id.
    pub fn name(&self, person: usize) -> &str {
        &self.persons[person].0
    }

    /// The person's agent id on desk number `desk`.
    pub fn agent(&self, person: usize, desk: usize) -> Option<&str> {
        self.persons[person].1.get(desk)?.as_deref()
    }

    /// The desks, in config order.
    pub fn desks(&self) -> &[String] {
        &self.desks
    }

    /// Where the map gives the person (`people.csv:3`, `people row 2`), for errors; `None` for
    /// a person matched by e-mail.
    pub fn place(&self, person: usize) -> Option<&str> {
        self.places.get(person).map(String::as_str)
    }

    /// The first agent id that the map gives on two of `desks` (desk numbers: desks that see
    /// the same agents, [`crate::config`]'s accounts), in map order: (the agent, the first
    /// (person, desk) that has it, the second).
    pub fn shared_agent(&self, desks: &[usize]) -> Option<(String, PersonDesk, PersonDesk)> {
        let mut first: HashMap<&str, (usize, usize)> = HashMap::new();
        for (person, (_, ids)) in self.persons.iter().enumerate() {
            for &desk in desks {
                let Some(id) = ids.get(desk).and_then(|id| id.as_deref()) else {
                    continue;
                };
                match first.get(id) {
                    Some(&(p, d)) if d != desk => {
                        return Some((id.to_string(), (p, d), (person, desk)));
                    }
                    Some(_) => {}
                    None => {
                        first.insert(id, (person, desk));
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<People, String> {
        People::parse(Path::new("people.csv"), text, &["chat", "mail"]).map_err(|e| e.0)
    }

    #[test]
    fn rows_are_checked_as_the_file_is() {
        let row = |p: &str, ids: &[Option<&str>]| {
            (
                p.to_string(),
                ids.iter().map(|i| i.map(str::to_string)).collect(),
            )
        };
        let desks = ["chat", "mail"];
        let p = People::from_rows(
            &desks,
            vec![row("ada", &[Some("c1")]), row("grace", &[None, Some("m2")])],
        )
        .unwrap();
        assert_eq!(p.person_of(0, "c1"), Some(0));
        assert_eq!(p.person_of(1, "m2"), Some(1));
        assert_eq!(p.agent(0, 1), None);
        for (rows, why) in [
            (
                vec![row("ada", &[Some("c1")]), row("grace", &[Some("c1")])],
                "people row 1: agent \"c1\" of desk \"chat\" is already \"ada\"'s",
            ),
            (
                vec![row("ada", &[]), row("ada", &[])],
                "people row 1: person \"ada\" again (first in row 0)",
            ),
            (vec![row(" ", &[])], "people row 0: the person id is empty"),
            (
                vec![row("ada", &[None, None, Some("x")])],
                "people row 0: 3 agent ids, but 2 desks",
            ),
        ] {
            let e = People::from_rows(&desks, rows).unwrap_err();
            assert!(e.0.starts_with(why), "{}", e.0);
        }
        // the same agent id on two desks is two agents
        People::from_rows(&desks, vec![row("ada", &[Some("x"), Some("x")])]).unwrap();
    }

    #[test]
    fn columns_in_any_order_and_empty_cells() {
        let p = parse("person,mail,chat\n# a comment\nada, a@x ,c1\ngrace,,c2\n").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.person_of(0, "c2"), Some(1));
        assert_eq!(p.person_of(1, "a@x"), Some(0));
        assert_eq!(p.agent(1, 1), None);
        assert_eq!(p.agent(0, 0), Some("c1"));
        assert_eq!(p.person_of(0, "c3"), None);
    }

    #[test]
    fn mistakes_name_their_line() {
        let cases = [
            (
                "person,chat,fax\n",
                "people.csv:1: column \"fax\" is not a desk",
            ),
            ("person,chat\n", "people.csv:1: no column for desk \"mail\""),
            (
                "person,chat,mail\nada,c1,m1\ngrace,c1,m2\n",
                "people.csv:3: agent \"c1\" of desk \"chat\" is already someone else's (line 2)",
            ),
            (
                "person,chat,mail\nada,c1,m1\nada,c2,m2\n",
                "people.csv:3: person \"ada\" again (first on line 2)",
            ),
            (
                "person,chat,mail\n,c1,m1\n",
                "people.csv:2: the person column is empty",
            ),
            ("person,chat,mail\nada,c1\n", "people.csv:2: "),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(want), "{e}\n  does not start with\n{want}");
        }
    }

    #[test]
    fn by_email_matches_across_desks_and_never_guesses() {
        let mut p = People::by_email(&["chat", "mail"]);
        assert!(p.matches_by_email());
        let Learnt::Person(ada) = p.learn(0, "c1", Some(" Ada@Example.com ")) else {
            panic!()
        };
        assert_eq!(
            p.learn(1, "m1", Some("ada@example.com")),
            Learnt::Person(ada)
        );
        assert_eq!(p.name(ada), "ada@example.com");
        assert_eq!(p.agent(ada, 1), Some("m1"));
        assert_eq!(p.person_of(0, "c1"), Some(ada));
        // again: the same
        assert_eq!(
            p.learn(0, "c1", Some("ada@example.com")),
            Learnt::Person(ada)
        );
        // no address: unmatched
        assert_eq!(p.learn(1, "m9", None), Learnt::NoEmail);
        assert_eq!(p.learn(1, "m8", Some("  ")), Learnt::NoEmail);
        assert_eq!(p.person_of(1, "m9"), None);
        // a second agent of chat with Ada's address: neither is Ada on chat, mail keeps her
        let Learnt::Ambiguous { email, agents, new } = p.learn(0, "c2", Some("ADA@example.com"))
        else {
            panic!()
        };
        assert_eq!((email.as_str(), new), ("ada@example.com", true));
        assert_eq!(agents, ["c1", "c2"]);
        assert_eq!(p.person_of(0, "c1"), None);
        assert_eq!(p.person_of(0, "c2"), None);
        assert_eq!(p.agent(ada, 0), None);
        assert_eq!(p.person_of(1, "m1"), Some(ada));
        // reported once: the same agents again are not new
        assert!(matches!(
            p.learn(0, "c1", Some("ada@example.com")),
            Learnt::Ambiguous { new: false, .. }
        ));
        // an address that changed moves the agent
        let Learnt::Person(grace) = p.learn(1, "m2", Some("grace@example.com")) else {
            panic!()
        };
        let Learnt::Person(hopper) = p.learn(1, "m2", Some("hopper@example.com")) else {
            panic!()
        };
        assert_ne!(grace, hopper);
        assert_eq!(p.agent(grace, 1), None);
        assert_eq!(p.person_of(1, "m2"), Some(hopper));
        // an address that went away unmatches
        assert_eq!(p.learn(1, "m2", None), Learnt::NoEmail);
        assert_eq!(p.person_of(1, "m2"), None);
    }

    #[test]
    fn which_vendors_can_be_matched_by_email() {
        for v in ["rocketchat", "chatwoot", "libredesk", "mattermost"] {
            assert!(email_source(v).is_some(), "{v}");
        }
        for v in ["engage-digital", "twilio-taskrouter", "anything"] {
            assert!(email_source(v).is_none(), "{v}");
        }
    }
}
