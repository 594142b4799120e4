//! Output helpers that reproduce upstream's formatting byte for byte: its
//! tab-aligned tables (Go `text/tabwriter` with padding 3) and its trees.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use crate::error::CliError;

/// A table printed like Go's `tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)` with
/// every cell tab-terminated: each cell is padded with spaces to the widest
/// cell of its column plus 3 (so lines end with spaces, as upstream's do).
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a header row.
    pub fn new(header: &[&str]) -> Self {
        Table {
            rows: vec![header.iter().map(|s| s.to_string()).collect()],
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count() + 3);
            }
        }
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                let pad = widths[i] - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
            writeln!(out, "{line}")?;
        }
        Ok(())
    }
}

/// A node of an upstream-style tree (`├── `, `└── `, `│   `).
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// The text of the node.
    pub value: String,
    /// Children, in order.
    pub children: Vec<Node>,
}

impl Node {
    /// A leaf.
    pub fn new(value: impl Into<String>) -> Self {
        Node {
            value: value.into(),
            children: Vec::new(),
        }
    }

    /// Adds a child and returns it.
    pub fn add(&mut self, value: impl Into<String>) -> &mut Node {
        self.children.push(Node::new(value));
        self.children.last_mut().expect("just pushed")
    }

    /// Adds a `key: value` child and returns it.
    pub fn add_pair(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Node {
        self.add(format!("{key}: {value}"))
    }

    /// Writes the tree rooted here.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_with(out, "", "")
    }

    fn write_with(&self, out: &mut dyn Write, marker: &str, prefix: &str) -> io::Result<()> {
        writeln!(out, "{marker}{}", self.value)?;
        let last = self.children.len().saturating_sub(1);
        for (i, child) in self.children.iter().enumerate() {
            let (item, sub) = if i == last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            child.write_with(out, &format!("{prefix}{item}"), &format!("{prefix}{sub}"))?;
        }
        Ok(())
    }
}

/// Parses repeated `{key}={value}` flag values (the value may contain `=`).
pub fn parse_key_values(
    flag: &'static str,
    values: &[String],
) -> Result<BTreeMap<String, String>, CliError> {
    let mut map = BTreeMap::new();
    for raw in values {
        let Some((k, v)) = raw.split_once('=') else {
            return Err(CliError::KeyValueSyntax {
                flag,
                value: raw.clone(),
            });
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(CliError::KeyValueSyntax {
                flag,
                value: raw.clone(),
            });
        }
        if map.insert(k.to_string(), v.to_string()).is_some() {
            return Err(CliError::KeyValueDuplicate {
                flag,
                key: k.to_string(),
            });
        }
    }
    Ok(map)
}

/// Asks `prompt [y/N]` on stderr and reads an answer from stdin; `yes`
/// skips the question. End of input or anything but y/yes means no.
pub fn confirm(prompt: &str, yes: bool) -> Result<bool, CliError> {
    if yes {
        return Ok(true);
    }
    let mut err = io::stderr();
    write!(err, "{prompt} [y/N] ").map_err(CliError::Terminal)?;
    err.flush().map_err(CliError::Terminal)?;
    let mut answer = String::new();
    let n = io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(CliError::Terminal)?;
    if n == 0 {
        // No input (not a terminal): end the prompt line, answer no.
        let _ = writeln!(err);
    }
    let answer = answer.trim().to_ascii_lowercase();
    Ok(answer == "y" || answer == "yes")
}

/// Formats a time as upstream's text output does: Go's `time.ANSIC`
/// (`Mon Jan  2 15:04:05 2006`, the day padded with a space).
pub fn format_tree_time(t: time::OffsetDateTime) -> String {
    const FMT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(FMT)
        .unwrap_or_else(|_| t.to_string())
}

/// Formats a time as RFC 3339 in UTC in whole seconds
/// (`2006-01-02T15:04:05Z`), as Go's `time.RFC3339` layout prints it.
pub fn format_rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_go_tabwriter() {
        let mut t = Table::new(&["NAME", "KEY PATH", "ID"]);
        t.row(vec!["* a".into(), "/k".into(), "".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME   KEY PATH   ID   \n* a    /k              \n"
        );
    }

    #[test]
    fn tree_matches_upstream() {
        let mut root = Node::new("reg/repo@sha256:1");
        let sig = root.add("application/vnd.cncf.notary.signature");
        sig.add("sha256:a").add("x");
        sig.add("sha256:b");
        let mut out = Vec::new();
        root.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "reg/repo@sha256:1\n└── application/vnd.cncf.notary.signature\n    ├── sha256:a\n    │   └── x\n    └── sha256:b\n"
        );
    }

    #[test]
    fn key_values() {
        let m = parse_key_values("user-metadata", &["a=b=c".into(), "d=".into()]).unwrap();
        assert_eq!(m["a"], "b=c");
        assert_eq!(m["d"], "");
        assert!(parse_key_values("x", &["nokey".into()]).is_err());
        assert!(parse_key_values("x", &["=v".into()]).is_err());
        assert!(parse_key_values("x", &["a=1".into(), "a=2".into()]).is_err());
    }

    #[test]
    fn times() {
        let t = time::macros::datetime!(2023-06-23 22:04:01 UTC);
        assert_eq!(format_tree_time(t), "Fri Jun 23 22:04:01 2023");
        assert_eq!(format_rfc3339(t), "2023-06-23T22:04:01Z");
    }
}
