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

use std::collections::HashMap;
use std::path::Path;

use crate::config::ConfigError;

/// The people map, indexed both ways.
#[derive(Debug, Clone, Default)]
pub struct People {
    desks: Vec<String>,
    /// person -> agent id per desk (in `desks` order)
    persons: Vec<(String, Vec<Option<String>>)>,
    by_agent: HashMap<(usize, String), usize>,
}

impl People {
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
        }
        Ok(people)
    }

    /// A map from rows of `(person, [agent id per desk])`, the desks in `desks` order.
    pub fn from_rows(desks: &[&str], rows: Vec<(String, Vec<Option<String>>)>) -> Self {
        let mut people = People {
            desks: desks.iter().map(|d| d.to_string()).collect(),
            ..People::default()
        };
        for (person, ids) in rows {
            let index = people.persons.len();
            for (desk, id) in ids.iter().enumerate() {
                if let Some(id) = id {
                    people.by_agent.insert((desk, id.clone()), index);
                }
            }
            people.persons.push((person, ids));
        }
        people
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<People, String> {
        People::parse(Path::new("people.csv"), text, &["chat", "mail"]).map_err(|e| e.0)
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
}
