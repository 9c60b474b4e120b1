//! Rosters for `agentstatus apply`: CSV (`agent,availability`, an optional header) or JSON
//! lines (`{"agent": "...", "availability": "..."}`), every mistake reported with `file:line`.

use agentstatus::Availability;

/// The largest roster read (a million agents is about 30 MB).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// One line of a roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub agent: String,
    pub availability: Availability,
    pub line: usize,
}

fn availability(s: &str, at: &str) -> Result<Availability, String> {
    s.trim().parse().map_err(|e| format!("{at}: {e}"))
}

/// Parse `text` (named `name` in errors): JSON lines if the first non-blank line starts with
/// `{`, else CSV. An agent listed twice is an error naming both lines.
pub fn parse(text: &str, name: &str) -> Result<Vec<Entry>, String> {
    if text.len() > MAX_BYTES {
        return Err(format!("{name}: larger than {MAX_BYTES} bytes"));
    }
    let json = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_start().starts_with('{'));
    let entries = if json {
        json_lines(text, name)?
    } else {
        csv(text, name)?
    };
    let mut seen = std::collections::HashMap::new();
    for e in &entries {
        if let Some(first) = seen.insert(e.agent.as_str(), e.line) {
            return Err(format!(
                "{name}:{}: agent {:?} is already on line {first}: one line per agent",
                e.line, e.agent
            ));
        }
    }
    Ok(entries)
}

fn json_lines(text: &str, name: &str) -> Result<Vec<Entry>, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        agent: String,
        availability: String,
    }
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let at = format!("{name}:{line}");
        let l: Line = serde_json::from_str(raw).map_err(|e| {
            format!(
                "{at}:{}: {e} (expected {{\"agent\": \"...\", \"availability\": \"...\"}})",
                e.column()
            )
        })?;
        if l.agent.trim().is_empty() {
            return Err(format!("{at}: empty agent"));
        }
        out.push(Entry {
            agent: l.agent,
            availability: availability(&l.availability, &at)?,
            line,
        });
    }
    Ok(out)
}

fn csv(text: &str, name: &str) -> Result<Vec<Entry>, String> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            format!("{name}:{line}: {e}")
        })?;
        let line = record.position().map_or(n as u64 + 1, |p| p.line()) as usize;
        let at = format!("{name}:{line}");
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != 2 {
            return Err(format!(
                "{at}: expected two fields, `agent,availability`, found {}",
                record.len()
            ));
        }
        let (agent, wanted) = (&record[0], &record[1]);
        if out.is_empty()
            && agent.eq_ignore_ascii_case("agent")
            && wanted.eq_ignore_ascii_case("availability")
        {
            continue; // the header
        }
        if agent.is_empty() {
            return Err(format!("{at}: empty agent"));
        }
        out.push(Entry {
            agent: agent.to_string(),
            availability: availability(wanted, &at)?,
            line,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_header_comments_and_quotes() {
        let r = parse(
            "agent,availability\n# shift B\na1, available\n\"a,2\",AWAY\n\n",
            "r.csv",
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].agent, "a,2");
        assert_eq!(r[1].availability, Availability::Away);
        assert_eq!(r[1].line, 4);
    }

    #[test]
    fn json_lines() {
        let r = parse(
            "{\"agent\": \"a1\", \"availability\": \"busy\"}\n\n{\"agent\": \"a2\", \"availability\": \"offline\"}\n",
            "-",
        )
        .unwrap();
        assert_eq!(r[1].line, 3);
        assert_eq!(r[1].availability, Availability::Offline);
    }

    #[test]
    fn mistakes_name_the_line() {
        for (text, says) in [
            (
                "a1,available\na2,sleeping\n",
                "r:2: unknown availability \"sleeping\"",
            ),
            ("a1,available,extra\n", "r:1: expected two fields"),
            (
                "a1,available\na1,away\n",
                "r:2: agent \"a1\" is already on line 1",
            ),
            ("{\"agent\": \"a1\"}\n", "r:1:"),
            (
                "{\"agent\": \"a1\", \"availability\": \"busy\", \"x\": 1}\n",
                "unknown field",
            ),
            (",available\n", "r:1: empty agent"),
        ] {
            let e = parse(text, "r").unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }
}
